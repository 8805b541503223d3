#!/usr/bin/env bats
# statd killed anywhere loses and doubles nothing: 300 add events for 100 USB
# devices (each plugged three times, as udev replays do) go to two real QEMUs
# while statd is killed with SIGKILL at random moments and started again, at
# least ten times. At the end every intent is final once, each QEMU has
# exactly the devices the rules send it, the database says the same, and
# QEMU's own log of QMP commands shows no device added twice.
#
# The devices and the helpers' workers are those of burst.bats (burst.bash).

load common
load qemu
load burst

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	burst_setup
}

teardown() {
	burst_teardown
	qemu_teardown
}

# QEMU logs every QMP command it is handed (trace event handle_qmp_command).
qemu_start_logged() {
	QEMU_EXTRA+=(-trace handle_qmp_command -D "$DIR/$1.qmp.log")
	qemu_start "$1"
	QEMU_EXTRA=("${QEMU_EXTRA[@]:0:${#QEMU_EXTRA[@]}-4}")
}

# device_adds VM: how many times each id was given to device_add, "COUNT ID" lines.
device_adds() {
	grep -o '"execute": "device_add".*' "$DIR/$1.qmp.log" | grep -o '"id": "[^"]*"' | sort | uniq -c
}

@test "statd killed at random moments, 12 times: every intent final once, no device added twice" {
	local n=100 k seed=${CRASH_SEED:-$(($(date +%s%N) % 1000000))}
	# The kill moments follow from the seed: CRASH_SEED=N replays them.
	echo "# random seed $seed (CRASH_SEED=$seed replays it)" >&3
	RANDOM=$seed
	burst_recording $n
	write_worker
	qemu_start_logged vm1
	qemu_start_logged vm2
	statd_start_burst

	# 300 add events, 16 workers at once, while statd is killed and started again.
	# shellcheck disable=SC2016
	in_sysfs bash -c 'seq "$1" | xargs -P16 -I{} "$DIR/worker" {} add add add' bash $n &
	local workers=$!
	for ((k = 0; k < 12; k++)); do
		# A random moment: that is the point of this test, not a wait for something.
		sleep "0.$((RANDOM % 6 + 1))"
		statd_stop KILL
		statd_start
	done
	wait "$workers"
	assert_equal "$(wc -l <"$DIR/times")" 300
	no_failures
	WAIT_S=180 wait_until settled

	# Every add event is an attach intent, each done once.
	assert_equal "$(sql "SELECT count(*) FROM intents WHERE action = 'attach' AND parent IS NULL")" 300
	assert_equal "$(sql "SELECT state, count(*) FROM intents WHERE action = 'attach' GROUP BY state")" \
		"done|$(sql "SELECT count(*) FROM intents WHERE action = 'attach'")"
	# What QEMU has = what the database says = what the rules demand.
	WAIT_S=60 wait_until sql_is $n "SELECT count(*) FROM attachments WHERE state = 'attached'"
	all_in_qemu $n
	assert_equal "$(sql "SELECT qdev_id FROM attachments WHERE vm = 'vm1' ORDER BY qdev_id")" \
		"$(peripherals "$DIR/vm1.sock" | grep '^vhp-' | LC_ALL=C sort)"
	assert_equal "$(sql "SELECT qdev_id FROM attachments WHERE vm = 'vm2' ORDER BY qdev_id")" \
		"$(peripherals "$DIR/vm2.sock" | grep '^vhp-' | LC_ALL=C sort)"
	# QEMU's own log: each device was given to device_add once, however often statd died.
	run device_adds vm1
	refute_output --regexp '^ *[2-9][0-9]* '
	assert_equal "${#lines[@]}" $((n / 2))
	run device_adds vm2
	refute_output --regexp '^ *[2-9][0-9]* '
	assert_equal "${#lines[@]}" $((n / 2))
	# And it really was killed in the middle of things.
	[ "$(grep -c 'ready:' "$STATD_LOG")" -ge 13 ]
}
