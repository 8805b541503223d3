#!/usr/bin/env bats
# tests/fake-crosvm, the crosvm stand-in the crosvm backend is tested with:
# it must say exactly what crosvm says, and only to a listening SEQPACKET socket.

load common

FAKE=$top_srcdir/tests/fake-crosvm
LISTEN=$top_srcdir/tests/seqpacket-listen.py

setup() {
	export FAKE_CROSVM_STATE=$BATS_TEST_TMPDIR/state
	SOCK=$BATS_TEST_TMPDIR/vm.sock
	python3 "$LISTEN" "$SOCK" "$BATS_TEST_TMPDIR/packets" &
	LISTENER=$!
	for _ in $(seq 500); do [ -e "$SOCK.ready" ] && break; sleep 0.01; done
	[ -e "$SOCK.ready" ]
	# A device node starts with its device descriptor: 046d:c52b here.
	DEV=$BATS_TEST_TMPDIR/003
	printf '\x12\x01\x00\x02\x00\x00\x00\x08\x6d\x04\x2b\xc5' >"$DEV"
}

teardown() {
	kill "$LISTENER" 2>/dev/null || true
	wait "$LISTENER" 2>/dev/null || true
}

@test "fake-crosvm: attach prints ok and the port, list shows it, detach frees it" {
	run "$FAKE" usb attach 00:00:00:00 "$DEV" "$SOCK"
	assert_success
	assert_output "ok 1"
	run "$FAKE" usb list "$SOCK"
	assert_output "devices 1 046d c52b"
	run "$FAKE" usb detach 1 "$SOCK"
	assert_output "ok 1"
	run "$FAKE" usb list "$SOCK"
	assert_output "devices"
	run "$FAKE" usb detach 1 "$SOCK"
	assert_success
	assert_output "no_such_port"
}

@test "fake-crosvm: each request reaches the socket as one packet" {
	"$FAKE" usb attach 00:00:00:00 "$DEV" "$SOCK"
	"$FAKE" usb list "$SOCK"
	# The listener logs as it reads: wait for both lines (up to 10 s).
	for _ in $(seq 1000); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/packets")" -ge 2 ] && break
		sleep 0.01
	done
	run cat "$BATS_TEST_TMPDIR/packets"
	assert_output "usb attach 00:00:00:00 $DEV
usb list"
}

@test "fake-crosvm: a path that is not a listening SEQPACKET socket fails as crosvm does" {
	: >"$BATS_TEST_TMPDIR/plain"
	run "$FAKE" usb list "$BATS_TEST_TMPDIR/plain"
	assert_failure 1
	assert_line "error socket failed"
	python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); time.sleep(30)' \
		"$BATS_TEST_TMPDIR/stream.sock" &
	local stream=$!
	for _ in $(seq 500); do [ -S "$BATS_TEST_TMPDIR/stream.sock" ] && break; sleep 0.01; done
	run "$FAKE" usb list "$BATS_TEST_TMPDIR/stream.sock"
	kill $stream
	assert_failure 1
	assert_line "error socket failed"
}

@test "fake-crosvm: scripted words are printed exactly, one per run, then real behaviour" {
	mkdir -p "$FAKE_CROSVM_STATE"
	printf '%s\n' no_available_port no_such_device no_such_port failed_to_open_device \
		failed_to_init_host_device >"$FAKE_CROSVM_STATE/script"
	local out=()
	for _ in 1 2 3 4 5 6; do
		out+=("$("$FAKE" usb attach 00:00:00:00 "$DEV" "$SOCK")")
	done
	[ "${out[*]}" = "no_available_port no_such_device no_such_port failed_to_open_device failed_to_init_host_device ok 1" ]
}

@test "fake-crosvm: a scripted failure exits non-zero with its stderr" {
	mkdir -p "$FAKE_CROSVM_STATE"
	echo 'exit 3 out of memory' >"$FAKE_CROSVM_STATE/script"
	run "$FAKE" usb list "$SOCK"
	assert_failure 3
	assert_output "out of memory"
}

@test "fake-crosvm: a missing device node fails before the socket, as crosvm does" {
	run "$FAKE" usb attach 00:00:00:00 "$BATS_TEST_TMPDIR/gone" "$SOCK"
	assert_failure 1
	assert_output "error failed to open device $BATS_TEST_TMPDIR/gone: No such file or directory (os error 2)"
}

@test "fake-crosvm: hang keeps running until killed" {
	mkdir -p "$FAKE_CROSVM_STATE"
	echo hang >"$FAKE_CROSVM_STATE/script"
	run timeout 2 "$FAKE" usb attach 00:00:00:00 "$DEV" "$SOCK"
	assert_failure 124
}
