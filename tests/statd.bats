#!/usr/bin/env bats
# vhotplug-statd end to end: real QEMUs (paused, diskless), statd, and the helper
# run by hand under umockdev the way udev runs it. Each test checks what QEMU
# itself reports over QMP (tests/qmp-query.py) and what the database views say.
#
# Outcomes are awaited with bounded polling (wait_until), never with fixed sleeps.
# QEMU has no such host devices: "vidpid" and "port" make usb-host wait for the
# device, "busaddr" makes QEMU refuse it ("failed to find host usb device").

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

# ---- attach and detach -------------------------------------------------------

@test "attach by vid/pid: QEMU has the usb-host, the views say attached" {
	qemu_start vm1
	statd_start
	plug mouse
	wait_until has_event mouse attached

	run peripherals "$VM1"
	assert_line vhp-usb-046d-c077.1-3
	run qmp "$VM1" qom-get '{"path":"/machine/peripheral/vhp-usb-046d-c077.1-3","property":"vendorid"}'
	assert_output 1133	# 0x046d
	run qmp "$VM1" qom-get '{"path":"/machine/peripheral/vhp-usb-046d-c077.1-3","property":"productid"}'
	assert_output 49271	# 0xc077

	[ "$(event_detail mouse attached)" = vhp-usb-046d-c077.1-3 ]
	[ "$(attached_to mouse)" = vm1 ]
	[ "$(intent mouse state,attempts)" = "done|1" ]
	run sql "SELECT count(*) FROM pending_intents"
	assert_output 0
}

@test "attach by bus/addr: QEMU's 'failed to find' is retried, then attach_failed" {
	make_config "$CONFIG" busaddr
	qemu_start vm1
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed

	run event_detail mouse attach_failed
	assert_output --partial 'failed to find host usb device 1:4'
	run intent mouse state
	assert_output failed
	[ "$(intent mouse attempts)" -gt 1 ]
	run intent mouse result
	assert_output --partial 'failed to find host usb device 1:4'
	statd_log_has 'retrying in'
	run peripherals "$VM1"
	refute_line vhp-usb-046d-c077.1-3
	[ -z "$(attached_to mouse)" ]
}

@test "a repeated add attaches once: the second intent is 'already attached'" {
	qemu_start vm1
	statd_start
	plug mouse
	plug mouse
	wait_until has_event mouse attached 2

	[ "$(usb_hosts "$VM1")" -eq 1 ]
	run sql "SELECT detail FROM device_history WHERE event = 'attached' ORDER BY rowid"
	assert_output "vhp-usb-046d-c077.1-3
already attached"
	run sql "SELECT state, result FROM intents WHERE action = 'attach' ORDER BY id"
	assert_output "done|vhp-usb-046d-c077.1-3
done|already attached"
	run sql "SELECT count(*) FROM current_attachments"
	assert_output 1
}

@test "detach: unplugging removes the usb-host from QEMU and the attachment" {
	qemu_start vm1
	statd_start
	plug mouse
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3

	unplug mouse
	wait_until has_event mouse detached

	run peripherals "$VM1"
	refute_line vhp-usb-046d-c077.1-3
	run sql "SELECT count(*) FROM current_attachments"
	assert_output 0
	run sql "SELECT event FROM device_history WHERE device LIKE '% at 1-3'"
	assert_output "plugged
queued
attached
unplugged
detached"
	[ "$(intent mouse action,state)" = "detach|done" ]
}

# ---- VMs that are not there, or not all there ------------------------------------

@test "VM not running: the intent waits, and is attached once QEMU starts" {
	statd_start
	plug mouse
	wait_until has_event mouse waiting

	run event_detail mouse waiting
	assert_output --partial 'VM vm1 is not running ('
	run sql "SELECT device, action, vm, state FROM pending_intents"
	assert_output --partial '|attach|vm1|pending'
	poke
	poke

	# No poke after this: statd watches the socket's directory.
	qemu_start vm1
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
	statd_log_has 'QMP socket of vm1 appeared'
	[ "$(events mouse waiting)" -eq 1 ]
	[ "$(attached_to mouse)" = vm1 ]
	run sql "SELECT count(*) FROM pending_intents"
	assert_output 0
}

@test "VM socket that appears before it listens: statd tries again, quietly" {
	statd_start
	plug mouse
	wait_until has_event mouse waiting

	# The socket file exists 0.3 s before connections are accepted (refused
	# meanwhile), as between QEMU's bind() and listen(), only longer.
	"$PYTHON" -S "$QMP_PEER" "$VM1" late </dev/null >"$DIR/peer.log" 2>&1 3>&- &
	echo $! >"$DIR/peer-late.pid"
	wait_until has_event mouse attached

	statd_log_has 'QMP socket of vm1 appeared'
	# Only the first note: the refused connections left none.
	[ "$(events mouse waiting)" -eq 1 ]
	[ "$(attached_to mouse)" = vm1 ]
}

@test "two VMs with different rules: each device lands in its own QEMU" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug mouse
	plug audio
	wait_until has_event mouse attached
	wait_until has_event audio attached

	run peripherals "$VM1"
	assert_line vhp-usb-046d-c077.1-3
	refute_line vhp-usb-0d8c-0014.1-2
	run peripherals "$VM2"
	assert_line vhp-usb-0d8c-0014.1-2
	refute_line vhp-usb-046d-c077.1-3
	[ "$(attached_to mouse)" = vm1 ]
	[ "$(attached_to audio)" = vm2 ]
}

@test "intents queued while statd was down are drained when it starts" {
	qemu_start vm1
	statd_start
	statd_stop
	[ "$STATD_STATUS" -eq 0 ]

	plug mouse
	plug webcam
	run sql "SELECT device, state FROM pending_intents"
	assert_line --partial 'at 1-3|pending'
	assert_line --partial 'at 1-6|pending'

	statd_start
	wait_until has_event mouse attached
	wait_until has_event webcam attached
	run peripherals "$VM1"
	assert_line vhp-usb-046d-c077.1-3
	assert_line vhp-usb-04f2-b604-0001
	run sql "SELECT count(*) FROM pending_intents"
	assert_output 0
}

@test "--attach-connected: a device plugged in before statd started is attached" {
	qemu_start vm1
	STATD_PREFIX=(umockdev-run --device "$DATA/usb-mouse.umockdev" --)
	statd_start -a
	wait_until has_event mouse attached
	run peripherals "$VM1"
	assert_line vhp-usb-046d-c077.1-3
	[ "$(events mouse present)" -eq 1 ]
	# The recording's xHCI controller and root hub are there too: no rule takes
	# them, so they leave no trace.
	run sql "SELECT count(*) FROM devices"
	assert_output 1
}

@test "--attach-connected: a device whose intake fails is rolled back alone; the others go in" {
	qemu_start vm1
	sqlite3 "$DB" <"$SCHEMA"
	# The webcam (1-6) cannot be queued: its devices row and history must not stay either.
	sql "CREATE TRIGGER test_refuse BEFORE INSERT ON intents
	     WHEN (SELECT sysname FROM devices WHERE id = new.device_id) = '1-6'
	     BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
	statd_start -a
	wait_until has_event mouse attached
	run sql "SELECT count(*) FROM devices WHERE sysname = '1-6'"
	assert_output 0
	[ "$(events webcam present)" -eq 0 ]
	[ "$(events mouse present)" -eq 1 ]
	statd_log_has '1-6: already connected, but not recorded'
}

# ---- configuration reloads --------------------------------------------------------
# The helper reads its own copy of the config: these are about what statd uses.

@test "SIGHUP with an invalid config keeps the old one" {
	HELPER_CONFIG=$DIR/helper.json
	cp "$CONFIG" "$HELPER_CONFIG"
	qemu_start vm1
	statd_start

	echo '{ "vms": [ oops' >"$CONFIG"
	kill -HUP "$STATD_PID"
	wait_until statd_log_has 'invalid, keeping the configuration in use'
	alive "$STATD_PID"

	plug mouse
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
	alive "$STATD_PID"
}

@test "SIGHUP with a changed valid config takes effect" {
	HELPER_CONFIG=$DIR/helper.json
	cp "$CONFIG" "$HELPER_CONFIG"
	mkdir "$DIR/a" "$DIR/b"
	VM1_SOCK=$DIR/a/vm1.sock make_config "$CONFIG"
	qemu_start vm1a "$DIR/a/vm1.sock"
	qemu_start vm1b "$DIR/b/vm1.sock"
	statd_start
	plug mouse
	wait_until has_event mouse attached
	in_vm "$DIR/a/vm1.sock" vhp-usb-046d-c077.1-3

	# vm1 moves to another socket (another QEMU).
	VM1_SOCK=$DIR/b/vm1.sock make_config "$CONFIG"
	kill -HUP "$STATD_PID"
	wait_until statd_log_has 'reloaded'
	plug webcam
	wait_until has_event webcam attached

	run peripherals "$DIR/b/vm1.sock"
	assert_line vhp-usb-04f2-b604-0001
	run peripherals "$DIR/a/vm1.sock"
	refute_line vhp-usb-04f2-b604-0001
	alive "$STATD_PID"
}

# ---- one device, or one VM, does not hold up the others ----------------------------

@test "a device in 'failed to find' retries does not delay another device" {
	make_config "$CONFIG" busaddr vidpid
	qemu_start vm1
	qemu_start vm2
	statd_start

	plug mouse	# to vm1 by bus/addr: retried for about 3 s
	wait_until retried mouse
	plug audio	# to vm2 by vid/pid
	wait_until has_event audio attached

	# The audio adapter was in its VM before the mouse's retries ran out (if they
	# have by now: a loaded machine can take the whole 3 s budget to get here).
	run sql "SELECT group_concat(event, ' ') FROM (SELECT event FROM history
		WHERE event IN ('attached', 'attach_failed') ORDER BY id)"
	assert_output --regexp '^attached( attach_failed)?$'
	[ "$(events mouse attached)" -eq 0 ]
	in_vm "$VM2" vhp-usb-0d8c-0014.1-2
	[ "$(attached_to audio)" = vm2 ]
}

@test "a QMP peer that never answers: the intent waits, another VM is served" {
	make_config "$CONFIG" vidpid vidpid 300
	peer_start "$VM1" silent
	qemu_start vm2
	# Both intents are there when statd starts: it deals with them together.
	plug mouse
	plug audio
	statd_start
	wait_until has_event mouse waiting
	wait_until has_event audio attached

	run event_detail mouse waiting
	assert_output --partial 'QMP to vm1 failed'
	assert_output --partial 'timeout'
	run sql "SELECT device, vm, state FROM pending_intents"
	assert_output --partial 'at 1-3|vm1|pending'
	# The audio adapter did not wait for vm1's timeout.
	run sql "SELECT event FROM device_history WHERE event IN ('attached', 'waiting') ORDER BY rowid"
	assert_output "attached
waiting"
	in_vm "$VM2" vhp-usb-0d8c-0014.1-2
	alive "$STATD_PID"
}

@test "a QMP peer that talks garbage: the intent waits, another VM is served" {
	make_config "$CONFIG" vidpid vidpid 300
	peer_start "$VM1" garbage
	qemu_start vm2
	statd_start
	plug mouse
	wait_until has_event mouse waiting
	plug audio
	wait_until has_event audio attached

	run event_detail mouse waiting
	assert_output --partial 'QMP to vm1 failed: QMP protocol error'
	run sql "SELECT device, vm, state FROM pending_intents"
	assert_output --partial 'at 1-3|vm1|pending'
	in_vm "$VM2" vhp-usb-0d8c-0014.1-2
	alive "$STATD_PID"
}

@test "an event before QMP's greeting is not a protocol error" {
	# QEMU 7.2 does this when a device_del's late DEVICE_DELETED is still queued
	# as statd reconnects (seen once in a few hundred quick unplug/replugs).
	peer_start "$VM1" early-event
	statd_start
	plug mouse
	wait_until has_event mouse attached

	[ "$(events mouse waiting)" -eq 0 ]
	[ "$(attached_to mouse)" = vm1 ]
	statd_log_has 'QMP event DEVICE_DELETED'
}

# ---- the daemon itself ---------------------------------------------------------------

@test "SIGTERM: statd exits 0 and removes its wake socket" {
	qemu_start vm1
	statd_start
	[ -S "$RUN/statd.sock" ]
	plug mouse
	wait_until has_event mouse attached

	statd_stop TERM
	[ "$STATD_STATUS" -eq 0 ]
	[ ! -e "$RUN/statd.sock" ]
	statd_log_has 'Terminated: finishing the current step, then exiting'
}

timer_disarmed() {
	grep -q 'it_value: (0, 0)' "$TIMERFD"
}

@test "idle statd arms no timer and does not wake up" {
	qemu_start vm1
	statd_start
	plug mouse
	wait_until has_event mouse attached

	# Its timerfd is disarmed: "it_value: (0, 0)", once it has let go of
	# QEMU's socket (kept a moment for the next job).
	local fd info=
	for fd in /proc/"$STATD_PID"/fd/*; do
		if [ "$(readlink "$fd")" = "anon_inode:[timerfd]" ]; then
			TIMERFD=/proc/$STATD_PID/fdinfo/${fd##*/}
			info=$(cat "$TIMERFD")
		fi
	done
	[ -n "$info" ] || skip "no timerfd visible in /proc"
	wait_until timer_disarmed

	# And it sleeps in epoll_wait (x86-64 syscall 232) with no timeout: with the
	# timer disarmed, only an event wakes it. bench/idle.sh counts its wakeups.
	wait_until epoll_waits_forever
}

# statd blocked in epoll_wait(..., timeout -1), from /proc/PID/syscall (an
# int: -1 shows as 0xffffffff).
epoll_waits_forever() {
	local nr epfd events max timeout rest
	read -r nr epfd events max timeout rest <"/proc/$STATD_PID/syscall" || return 1
	[ "$nr" = 232 ] && [ $((timeout & 0xffffffff)) -eq $((0xffffffff)) ]
}
