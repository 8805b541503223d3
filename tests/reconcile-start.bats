#!/usr/bin/env bats
# Reconciles at statd's start: the VMs reconciled together share one look at
# what is plugged in, and one VM's reconcile never holds up another VM's
# attaches. statd runs under umockdev (qemu.bash), real QEMUs and a scripted
# QMP peer.

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

looks() {
	grep -c 'looked at what is plugged in' "$STATD_LOG" || true
}

both_back() {
	in_vm "$VM1" "${DEV_QDEV[mouse]}" && in_vm "$VM2" "${DEV_QDEV[audio]}"
}

reconciles_done() {
	[ "$(sql "SELECT count(*) FROM intents WHERE action = 'reconcile' AND state = 'done'")" -ge "$1" ]
}

@test "two VMs reconciled at statd's start share one look at what is plugged in" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug mouse
	plug audio
	wait_until both_back
	statd_stop
	# Both restarted while statd was down: each reconcile puts its device back.
	qemu_stop vm1
	qemu_stop vm2
	qemu_start vm1
	qemu_start vm2
	: >"$STATD_LOG"

	statd_start
	wait_until both_back
	wait_until reconciles_done 2
	[ "$(looks)" -eq 1 ]
}

@test "an attach to one VM completes while another VM's reconcile waits for its VM" {
	make_config "$CONFIG" vidpid vidpid 60000
	qemu_start vm1
	# vm2 greets and never answers: its reconcile stays in flight.
	peer_start "$VM2" silent
	statd_start
	plug mouse
	wait_until in_vm "$VM1" "${DEV_QDEV[mouse]}"
	wait_until reconciles_done 1
	run sql "SELECT state FROM intents WHERE action = 'reconcile' AND vm = 'vm2'"
	[ "$status" -eq 0 ]
	[ "$output" = pending ]
}
