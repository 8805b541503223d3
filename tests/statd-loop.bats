#!/usr/bin/env bats
# vhotplug-statd's event loop under faults: scripted QMP peers (tests/qmp-peer.py)
# for what QEMU will not do on demand, real QEMUs for the VMs that behave.

load common
load qemu

setup_file() {
	python_resolve
}

setup() {
	qemu_setup_two_vms
}

teardown() {
	qemu_teardown
}

# statd's user+system CPU time so far, in clock ticks.
statd_cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$STATD_PID/stat"
}

@test "a QMP reply right at its deadline: statd survives the same-batch timeout" {
	# The reply and the timer land in one epoll batch now and then: the timer
	# handler closes the connection, and its stale event must not be dispatched.
	make_config "$CONFIG" vidpid vidpid 200
	peer_start "$VM1" deadline 200
	statd_start
	plug mouse
	local i
	for ((i = 0; i < 20; i++)); do
		poke
		sleep 0.2
		alive "$STATD_PID" || fail "statd died"
	done
	# The deadline was reached, so the case under test came up.
	statd_log_has 'QMP timeout'
	alive "$STATD_PID"
	# And statd is not wedged: once vm1 answers in time, the mouse goes in.
	kill "$(cat "$DIR/peer-vm1.sock.pid")"
	rm -f "$VM1" "$DIR/peer-vm1.sock.pid"
	qemu_start vm1
	WAIT_S=30 wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
}

# attach_ms NAME: milliseconds from NAME's last attach intent to its 'attached' row.
attach_ms() {
	sql "SELECT CAST(round((julianday(h.time) - julianday(i.created)) * 86400000) AS INTEGER)
	     FROM intents i JOIN devices d ON d.id = i.device_id
	     JOIN history h ON h.device_id = d.id AND h.event = 'attached' AND h.id > (
	         SELECT max(id) FROM history WHERE device_id = d.id AND event = 'queued')
	     WHERE d.sysname = '$(sysname_of "$1")' AND i.action = 'attach'
	     ORDER BY i.id DESC LIMIT 1"
}

@test "a peer flooding events is cut off and backed off; another VM is served at once" {
	make_config "$CONFIG" vidpid vidpid 60000
	peer_start "$VM1" flood
	qemu_start vm2
	statd_start
	plug mouse	# to the flooding vm1
	wait_until statd_log_has 'QMP peer floods events'

	# Were vm2 served behind vm1, an attach would wait out vm1's 60 s QMP
	# timeout, far past wait_until's bound: vm1 is cut off for its flood, not
	# by the timeout. The times are printed, not held to a bound.
	local before after i ms
	before=$(statd_cpu_ticks)
	for i in 1 2 3; do
		plug audio	# to the real QEMU vm2
		wait_until has_event audio attached "$i"
		ms=$(attach_ms audio)
		echo "# attach to the healthy VM took $ms ms" >&3
		unplug audio
		wait_until has_event audio detached "$i"
	done
	sleep 1
	after=$(statd_cpu_ticks)
	echo "# statd CPU during that: $((after - before)) ticks of $(getconf CLK_TCK)/s" >&3
	run intent mouse state
	assert_output pending
	statd_log_has 'next attempt in'
	alive "$STATD_PID"
}

@test "a VM whose QMP stops answering and comes back: attached on the backoff timer" {
	make_config "$CONFIG" vidpid vidpid 300
	# Silent to every connection in the 1.5 s after the first, then a working
	# QMP; the socket stays the same and nobody pokes statd. The plug comes
	# before statd starts, so the attach is its first connection: a plug after
	# it could come when the reconcile at start had used up the silence.
	peer_start "$VM1" wake-after 1500
	plug mouse
	statd_start
	wait_until has_event mouse waiting
	WAIT_S=15 wait_until has_event mouse attached

	run event_detail mouse waiting
	assert_output --partial 'QMP timeout'
	[ "$(events mouse waiting)" -eq 1 ]
	statd_log_has 'next attempt in'
	[ "$(attached_to mouse)" = vm1 ]
}

# ---- inotify watches ---------------------------------------------------------

@test "socket directory removed and created again: attached when the socket reappears" {
	mkdir "$DIR/vm1"
	VM1_SOCK=$DIR/vm1/qmp.sock make_config "$CONFIG"
	qemu_start vm1 "$DIR/vm1/qmp.sock"
	statd_start
	plug mouse
	wait_until has_event mouse attached

	# The VM stops and its runtime directory goes, as systemd's RuntimeDirectory= does.
	qemu_stop vm1
	rm -rf "$DIR/vm1"
	plug webcam
	wait_until has_event webcam waiting
	mkdir "$DIR/vm1"
	qemu_start vm1 "$DIR/vm1/qmp.sock"
	wait_until has_event webcam attached
	in_vm "$DIR/vm1/qmp.sock" vhp-usb-04f2-b604-0001
	statd_log_has 'QMP socket of vm1 appeared'
}

@test "socket directory missing when statd starts: watched from its parent" {
	VM1_SOCK=$DIR/run-vms/vm1/qmp.sock make_config "$CONFIG"
	statd_start
	plug mouse
	wait_until has_event mouse waiting

	# Two levels created, then the socket: no poke after the plug.
	mkdir -p "$DIR/run-vms/vm1"
	qemu_start vm1 "$DIR/run-vms/vm1/qmp.sock"
	wait_until has_event mouse attached
	in_vm "$DIR/run-vms/vm1/qmp.sock" vhp-usb-046d-c077.1-3
	# Seen by the watch, not only by the backoff timer.
	wait_until statd_log_has 'QMP socket of vm1 appeared'
}

# ---- the daemon ------------------------------------------------------------------

@test "a second statd on the same run directory is refused; the first keeps working" {
	qemu_start vm1
	statd_start
	run "$STATD" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
	[ "$status" -eq 1 ]
	assert_output --partial "another vhotplug-statd is running for $RUN"
	[ "$(cat "$RUN/statd.lock")" = "$STATD_PID" ]

	# The first still has its wake socket, and is woken through it.
	[ -S "$RUN/statd.sock" ]
	plug mouse
	wait_until has_event mouse attached
	alive "$STATD_PID"
}

# Another run directory, the same database: it would take over the claims of
# the first in flight. timeout bounds the old behaviour, a second statd that runs.
@test "a second statd on the same database with another run directory is refused" {
	qemu_start vm1
	statd_start
	run timeout 20 "$STATD" -c "$CONFIG" --db "$DB" --run-dir "$DIR/run2"
	[ "$status" -eq 1 ]
	assert_output --partial "another vhotplug-statd is running for $DB (it holds $DB.lock)"
	[ "$(cat "$DB.lock")" = "$STATD_PID" ]
	plug mouse
	wait_until has_event mouse attached
}

@test "SIGTERM with a silent VM: statd exits well before the VM's timeout; the intent is redone at the next start" {
	STATD_PREFIX=()	# statd's own exit is timed, not umockdev-run's
	make_config "$CONFIG" vidpid vidpid 60000
	peer_start "$VM1" silent
	statd_start
	plug mouse
	wait_until statd_log_has '"execute":"qmp_capabilities"'

	# It waits 0.5 s for the command in flight, not the VM's 60 s timeout:
	# statd_stop waits up to 10 s for the exit, then SIGKILLs (status 137).
	statd_stop TERM
	[ "$STATD_STATUS" -eq 0 ]
	statd_log_has 'exiting with a command in flight'
	run intent mouse state
	assert_output pending

	kill "$(cat "$DIR/peer-vm1.sock.pid")"
	rm -f "$VM1" "$DIR/peer-vm1.sock.pid"
	qemu_start vm1
	statd_start
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
}

@test "SIGHUP that removes a VM: its intents, queued and in flight, fail with that reason" {
	HELPER_CONFIG=$DIR/helper.json
	make_config "$CONFIG" vidpid vidpid 1000
	cp "$CONFIG" "$HELPER_CONFIG"
	peer_start "$VM1" silent
	statd_start
	plug mouse	# in flight: vm1 never answers
	wait_until statd_log_has '"execute":"qmp_capabilities"'
	plug webcam	# queued behind it

	# vm1 goes; only vm2 is left.
	cat >"$CONFIG" <<-EOF
	{ "usbPassthrough": [ { "targetVm": "vm2", "allow": [ { "vendorId": "0d8c" } ] } ],
	  "vms": [ { "name": "vm2", "type": "qemu", "socket": "$VM2", "usbAttachBy": "vidpid" } ] }
	EOF
	kill -HUP "$STATD_PID"
	wait_until has_event webcam attach_failed
	wait_until has_event mouse attach_failed
	run event_detail webcam attach_failed
	assert_output 'VM vm1 was removed from the config'
	run event_detail mouse attach_failed
	assert_output 'VM vm1 was removed from the config'
	# The one in flight (statd's start reconcile of vm1) ends at its QMP deadline.
	wait_until sql_is 0 "SELECT count(*) FROM pending_intents"
	alive "$STATD_PID"
}

@test "an intent for a VM not in statd's config fails, and says which VM" {
	HELPER_CONFIG=$DIR/helper.json
	make_config "$HELPER_CONFIG" vidpid vidpid
	# statd knows vm2 only: the helper's rule sends the mouse to vm1.
	cat >"$CONFIG" <<-EOF
	{ "usbPassthrough": [ { "targetVm": "vm2", "allow": [ { "vendorId": "0d8c" } ] } ],
	  "vms": [ { "name": "vm2", "type": "qemu", "socket": "$VM2", "usbAttachBy": "vidpid" } ] }
	EOF
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output 'no VM named "vm1" in the config'
	run sql "SELECT state FROM intents WHERE action = 'attach'"
	assert_output failed
	alive "$STATD_PID"
}

@test "a database statd cannot write: refused at start, with a STATUS= for systemd" {
	# statd will run as nobody: everything it needs must be reachable for nobody.
	RO=$(mktemp -d)
	chmod 0755 "$RO"
	DB=$RO/vhotplug.db
	cp "$CONFIG" "$RO/config.json"
	chmod 0644 "$RO/config.json"
	mkdir -m 0777 "$RO/run"
	statd_start	# creates the database, owned by root
	statd_stop
	# A listener standing in for systemd's notify socket.
	"$PYTHON" -S -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(10)
open(sys.argv[2], "wb").write(s.recv(4096))' "$RO/notify.sock" "$RO/notify.txt" &
	echo $! >"$DIR/notify.pid"
	wait_until test -e "$RO/notify.sock.ready"
	chmod 0666 "$RO/notify.sock"

	# As root, permission bits do not stop statd: run it as nobody.
	run env NOTIFY_SOCKET="$RO/notify.sock" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$STATD" -c "$RO/config.json" --db "$DB" --run-dir "$RO/run"
	[ "$status" -eq 1 ]
	assert_output --partial 'refusing to run'
	refute_output --partial 'ready:'
	wait_until test -s "$RO/notify.txt"
	run cat "$RO/notify.txt"
	assert_output --partial 'STATUS='
	assert_output --partial 'refusing to run'
	rm -rf "$RO"
}

@test "QMP error text: a VMM's desc is logged and recorded escaped, forging no log line" {
	peer_start "$VM1" hostile
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output 'no\n<0>forged line \x1b]0;pwned\x07 \xe2\x80\xaeevil'
	run grep -c 'forged line' "$STATD_LOG"
	assert_success
	run grep -E '^(<[0-9]>)?<0>forged|'$'\x1b' "$STATD_LOG"
	assert_failure
}
