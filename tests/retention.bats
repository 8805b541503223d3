#!/usr/bin/env bats
# Retention in vhotplug-statd: at start it removes finished intents and
# history older than general.historyDays, and devices nothing refers to any
# more. No VM is needed: the VMs' sockets do not exist.

load common
load qemu

setup() {
	qemu_setup
	sqlite3 "$DB" <"$SCHEMA"
}

teardown() {
	qemu_teardown
}

# config_with GENERAL_JSON: one VM that is not running.
config_with() {
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [ { "targetVm": "vm1", "allow": [ { "vendorId": "046d" } ] } ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$DIR/vm1.sock" } ],
	  "general": $1
	}
	EOF
}

# ago DAYS: an SQL time expression DAYS days back.
ago() {
	echo "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-$1 days')"
}

@test "at start, statd removes what is older than historyDays and keeps the rest" {
	config_with '{ "historyDays": 30 }'
	sql "INSERT INTO devices (id, kind, ident, devpath, sysname, label, present, last_seen) VALUES
		(1, 'usb', 'usb:0:0@1-1', '/devices/usb1/1-1', '1-1', 'old mouse', 0, $(ago 40)),
		(2, 'usb', 'usb:0:0@1-2', '/devices/usb1/1-2', '1-2', 'keyboard', 1, $(ago 40));
	     INSERT INTO intents (device_id, action, vm, state, created, finished) VALUES
		(1, 'attach', 'vm1', 'done', $(ago 41), $(ago 40)),
		(2, 'attach', 'vm1', 'failed', $(ago 20), $(ago 20));
	     INSERT INTO history (time, device_id, device, event) VALUES
		($(ago 41), 1, 'old mouse', 'plugged'), ($(ago 40), 1, 'old mouse', 'unplugged'),
		($(ago 20), 2, 'keyboard', 'plugged')"
	statd_start
	wait_until statd_log_has 'removed 1 finished intents, 2 history rows and 1 unplugged devices older than 30 days'

	run sql "SELECT group_concat(label) FROM devices"
	assert_output keyboard
	run sql "SELECT action || ' ' || state FROM intents"
	assert_output 'attach failed'
	run sql "SELECT device || ' ' || event FROM history"
	assert_output 'keyboard plugged'
}

@test "without historyDays, 90 days are kept; an open intent is never removed" {
	config_with '{}'
	sql "INSERT INTO devices (id, kind, ident, devpath, sysname, label, present) VALUES
		(1, 'usb', 'usb:0:0@1-1', '/devices/usb1/1-1', '1-1', 'mouse', 1);
	     INSERT INTO intents (device_id, action, vm, state, created) VALUES
		(1, 'select', NULL, 'held', $(ago 200));
	     INSERT INTO history (time, device_id, device, event) VALUES
		($(ago 100), 1, 'mouse', 'plugged'), ($(ago 60), 1, 'mouse', 'queued')"
	statd_start
	wait_until statd_log_has 'removed 0 finished intents, 1 history rows and 0 unplugged devices older than 90 days'

	run sql "SELECT event FROM history WHERE event IN ('plugged', 'queued')"
	assert_output queued
	run sql "SELECT count(*) FROM intents WHERE state = 'held'"
	assert_output 1
}

@test "a historyDays below 1 is refused by --check-config" {
	config_with '{ "historyDays": 0 }'
	run "$STATD" --check-config -c "$CONFIG"
	assert_failure
	assert_output --partial 'general.historyDays'
}

# Retention removed the newest intent (finished a day ago): its id must not
# come back, or statd, which reads only ids above the last it saw, never sees
# the next one.
@test "after the newest finished intent is removed, the next intent is still seen" {
	config_with '{ "historyDays": 1 }'
	qemu_start vm1
	statd_start
	run "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" reconcile --timeout 5 vm1
	assert_success
	sql "UPDATE intents SET created = $(ago 2), finished = $(ago 2);
	     DELETE FROM intents WHERE state IN ('done', 'failed', 'cancelled')
		AND finished < $(ago 1)"
	run sql "SELECT count(*) FROM intents"
	assert_output 0

	run "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" reconcile --timeout 5 vm1
	assert_success
}
