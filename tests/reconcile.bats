#!/usr/bin/env bats
# Reconcile: a VM that restarts, or loses a device by hand, gets back what the
# rules and the database say it should have; what someone else added stays.
# statd runs under umockdev with the devices "plugged in" (qemu.bash), so that
# its udev enumeration (what is present now) sees them; real QEMUs, as in
# statd.bats.

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

# kill -9 a QEMU: its socket file stays behind, as after a crash.
qemu_crash() {
	local pid
	pid=$(cat "$DIR/qemu-$1.pid")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	rm -f "$DIR/qemu-$1.pid"
}

history_events() {
	sql "SELECT event FROM history WHERE vm = '$1' AND event IN ($2) ORDER BY id"
}

both_in_vm1() {
	in_vm "$VM1" "${DEV_QDEV[mouse]}" && in_vm "$VM1" "${DEV_QDEV[webcam]}"
}

attached_rows() {
	sql "SELECT count(*) FROM attachments WHERE vm = '$1' AND state = 'attached'"
}

attached_rows_are() {
	[ "$(attached_rows "$1")" -eq "$2" ]
}

@test "QEMU killed and started again on its socket: its devices are back without a command" {
	qemu_start vm1
	statd_start
	plug mouse
	plug webcam
	wait_until both_in_vm1
	wait_until attached_rows_are vm1 2

	qemu_crash vm1
	qemu_start vm1
	wait_until both_in_vm1
	wait_until attached_rows_are vm1 2
	# statd's start reconciled; then each was marked when the VM went, and put
	# back by the reconcile its socket's return started.
	run history_events vm1 "'vm_stopped', 'reconciled'"
	assert_output "reconciled
vm_stopped
vm_stopped
reconciled"
	run sql "SELECT detail FROM history WHERE event = 'reconciled' ORDER BY id DESC LIMIT 1"
	assert_output --partial '2 to attach'
	[ "$(events mouse attached)" -eq 2 ]
	[ "$(events webcam attached)" -eq 2 ]
}

@test "a device removed by hand comes back with vhotplugctl reconcile; one added by hand stays" {
	QEMU_EXTRA=(-qmp "unix:$DIR/vm1-hand.sock,server=on,wait=off")
	qemu_start vm1
	statd_start
	plug mouse
	plug webcam
	wait_until both_in_vm1
	wait_until attached_rows_are vm1 2

	# Someone else, on a second QMP socket.
	qmp "$DIR/vm1-hand.sock" device_del "{\"id\":\"${DEV_QDEV[mouse]}\"}"
	qmp "$DIR/vm1-hand.sock" device_add '{"driver":"usb-host","vendorid":4660,"productid":22136,"id":"by-hand"}'
	wait_until bash -c "! grep -qx -- '${DEV_QDEV[mouse]}' <(\"$PYTHON\" -S \"$QMP_QUERY\" \"$VM1\" peripherals)"

	run "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" reconcile vm1
	assert_success
	assert_line --partial 'vm1: reconcile done: 1 to attach, 0 to detach, 1 kept, 1 forgotten'
	# The xHCI controller and the one added by hand.
	assert_line --partial '2 not ours left alone'
	assert_line --regexp '^  attach .* at 1-3: done'
	in_vm "$VM1" "${DEV_QDEV[mouse]}"
	in_vm "$VM1" by-hand
	in_vm "$VM1" "${DEV_QDEV[webcam]}"
	[ "$(events mouse forgotten)" -eq 1 ]
}

@test "vhotplugctl reconcile detaches what statd put there and the rules no longer want" {
	qemu_start vm1
	statd_start
	plug mouse
	plug webcam
	wait_until both_in_vm1
	# Only the webcam's vendor is left in vm1's rule set.
	sed -i 's/{ "vendorId": "046d", "productId": "c077" }, //' "$CONFIG"
	kill -HUP "$STATD_PID"
	wait_until statd_log_has 'reloaded'

	run "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" reconcile vm1
	assert_success
	assert_line --partial '0 to attach, 1 to detach, 1 kept'
	refute in_vm "$VM1" "${DEV_QDEV[mouse]}"
	in_vm "$VM1" "${DEV_QDEV[webcam]}"
	[ -z "$(attached_to mouse)" ]
}

@test "statd start reconciles: a VM restarted while statd was down gets its devices back" {
	qemu_start vm1
	statd_start
	plug mouse
	wait_until in_vm "$VM1" "${DEV_QDEV[mouse]}"
	statd_stop
	qemu_crash vm1
	qemu_start vm1

	statd_start
	wait_until in_vm "$VM1" "${DEV_QDEV[mouse]}"
	wait_until attached_rows_are vm1 1
	[ "$(events mouse forgotten)" -eq 1 ]
}

@test "a VM that stops cleanly: its socket goes, its attachments are kept as vm_stopped" {
	qemu_start vm1
	statd_start
	plug mouse
	wait_until attached_rows_are vm1 1
	qmp "$VM1" quit || true
	wait_until attached_to_is mouse vm1
	wait_until sql_is vm_stopped "SELECT state FROM attachments"
	[ "$(events mouse vm_stopped)" -eq 1 ]
	# Unplugged while its VM is down: the row goes without asking the VM.
	unplug mouse
	wait_until has_event mouse detached
	assert_equal "$(event_detail mouse detached)" "its VM had stopped"
	assert_equal "$(sql "SELECT count(*) FROM attachments")" 0
}

@test "vhotplugctl reconcile: an unknown VM is an error; statd down times out with 75, the intent stays" {
	run "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" reconcile vm9
	assert_failure 1
	assert_output --partial 'no VM named "vm9"'
	run "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" reconcile --timeout 0 vm1
	assert_failure 75
	assert_output --partial 'stays queued'
	assert_equal "$(sql "SELECT action || ' ' || vm || ' ' || state FROM intents")" 'reconcile vm1 pending'
}

@test "a reconcile's detach leaves the device's attach to another VM alone" {
	qemu_start vm1
	statd_start
	plug mouse
	wait_until attached_to_is mouse vm1
	# The mouse goes to vm2 now; vm2 is not running: its attach waits.
	sed -i 's/{ "vendorId": "046d", "productId": "c077" }, //;
		s/"allow": \[ { "vendorId": "0d8c" } \]/"allow": [ { "vendorId": "0d8c" }, { "vendorId": "046d" } ]/' "$CONFIG"
	kill -HUP "$STATD_PID"
	wait_until statd_log_has 'reloaded'
	plug mouse
	wait_until sql_is 'attach vm2 pending' "SELECT action || ' ' || vm || ' ' || state FROM intents ORDER BY id DESC LIMIT 1"

	run "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" reconcile vm1
	assert_success
	assert_line --partial '0 to attach, 1 to detach'
	refute in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_equal "$(sql "SELECT count(*) FROM intents WHERE action = 'attach' AND vm = 'vm2' AND state = 'pending'")" 1
	qemu_start vm2
	wait_until attached_to_is mouse vm2
	in_vm "$VM2" "${DEV_QDEV[mouse]}"
}
