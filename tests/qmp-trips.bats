#!/usr/bin/env bats
# What statd asks QEMU for an attach or a detach, and over how many
# connections: as few round trips as the crash safety allows. Real QEMUs,
# which log every QMP command they are handed (trace event
# handle_qmp_command), so the tests read what QEMU itself got.

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

qemu_start_logged() {
	QEMU_EXTRA=(-trace handle_qmp_command -D "$DIR/$1.qmp.log")
	qemu_start "$1"
	QEMU_EXTRA=()
}

# commands VM: the "execute" of every command QEMU got, one a line, in order.
commands() {
	grep -o '"execute": "[^"]*"' "$DIR/$1.qmp.log" | cut -d'"' -f4
}

# count VM COMMAND: how many COMMANDs QEMU got.
count() {
	local n
	n=$(commands "$1" | grep -cx -- "$2") || true
	echo "$n"
}

@test "a fresh USB attach: QEMU gets device_add, and no qom-list before it" {
	qemu_start_logged vm1
	statd_start
	# The reconcile at start lists the VM's devices (qom-list): that is its job.
	wait_until statd_log_has 'reconciled vm1'
	local lists
	lists=$(count vm1 qom-list)

	plug mouse
	wait_until has_event mouse attached

	assert_equal "$(event_detail mouse attached)" "${DEV_QDEV[mouse]}"
	assert_equal "$(count vm1 device_add)" 1
	assert_equal "$(count vm1 qom-list)" "$lists"
}

@test "a device QEMU already has under its id, unknown to the database: 'Duplicate device ID' means already attached" {
	qemu_start vm1
	statd_start
	wait_until statd_log_has 'reconciled vm1'
	# What a record lost leaves: QEMU has the device, the database knows nothing of it.
	qmp "$VM1" device_add "{\"driver\":\"usb-host\",\"vendorid\":1133,\"productid\":49271,\"id\":\"${DEV_QDEV[mouse]}\"}"

	plug mouse
	wait_until has_event mouse attached

	assert_equal "$(event_detail mouse attached)" 'already attached'
	assert_equal "$(intent mouse state,result)" 'done|already attached'
	assert_equal "$(sql "SELECT vm, qdev_id, state FROM attachments")" "vm1|${DEV_QDEV[mouse]}|attached"
	assert_equal "$(usb_hosts "$VM1")" 1
}

@test "an attach QEMU says 'not yet' to is retried over the one QMP connection" {
	make_config "$CONFIG" busaddr	# QEMU refuses: "failed to find host usb device"
	qemu_start vm1
	statd_start
	wait_until statd_log_has 'reconciled vm1'
	local before
	before=$(grep -c 'vm1.sock: connecting' "$STATD_LOG")

	plug mouse
	wait_until has_event mouse attach_failed

	[ "$(intent mouse attempts)" -gt 2 ]
	# The connection of the reconcile, or one more: not one per attempt.
	[ "$(grep -c 'vm1.sock: connecting' "$STATD_LOG")" -le $((before + 1)) ]
}

@test "statd lets go of QEMU's socket after its work: another client is served" {
	qemu_start vm1
	statd_start
	plug mouse
	wait_until has_event mouse attached
	# QEMU serves one QMP client at a time; this one waits until statd hangs up.
	wait_until in_vm "$VM1" "${DEV_QDEV[mouse]}"
}

@test "a repeated add of an attached device: QEMU gets one device_add, the second intent is 'already attached'" {
	qemu_start_logged vm1
	statd_start
	plug mouse
	wait_until has_event mouse attached
	plug mouse
	wait_until has_event mouse attached 2

	assert_equal "$(event_detail mouse attached)" 'already attached'
	assert_equal "$(count vm1 device_add)" 1
	assert_equal "$(usb_hosts "$VM1")" 1
}
