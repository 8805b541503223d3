#!/usr/bin/env bats
# vhotplug-statd's event loop under faults: scripted QMP peers (tests/qmp-peer.py)
# for what QEMU will not do on demand, real QEMUs for the VMs that behave.

load common
load qemu

setup_file() {
	PYTHON=$(python3 -c 'import sys; print(sys.executable)')
	export PYTHON
}

setup() {
	qemu_setup
	VM1=$DIR/vm1.sock
	VM2=$DIR/vm2.sock
	make_config "$CONFIG"
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
	statd_log_has 'QMP timeout' || has_event mouse attached
	alive "$STATD_PID"
}
