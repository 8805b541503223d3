#!/usr/bin/env bats
# What the helper could not finish, finished by statd against a real QEMU:
# events spooled while the database was locked, imported in order; plugs
# recorded undecided while the config was invalid, decided with the last good
# config statd holds.

load common
load qemu

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	make_config "$CONFIG"
	VM1=$DIR/vm1.sock
	LOCKER_PID=
	# statd reads spooled devices again from sysfs: both devices, their controller once.
	{
		sed '/^P: \/devices\/pci0000:00\/0000:00:14.0\/usb1$/,$d' "$DATA/usb-webcam.umockdev"
		cat "$DATA/usb-mouse.umockdev"
	} >"$DIR/both.umockdev"
	STATD_PREFIX=(umockdev-run --device "$DIR/both.umockdev" --)
}

teardown() {
	if [ -n "$LOCKER_PID" ]; then
		touch "$DIR/release"
		wait "$LOCKER_PID" || true
	fi
	qemu_teardown
}

# hold_lock: another process holds the database's write lock until release_lock.
hold_lock() {
	sql 'PRAGMA journal_mode = WAL' >/dev/null	# created as the helper and statd would
	"$PYTHON" - "$DB" "$DIR" >/dev/null 2>&1 3>&- <<-'EOF' &
		import os, sqlite3, sys, time
		db, tmp = sys.argv[1], sys.argv[2]
		c = sqlite3.connect(db, isolation_level=None, timeout=5)
		c.execute("BEGIN IMMEDIATE")
		open(os.path.join(tmp, "locked"), "w").close()
		end = time.monotonic() + 30
		while not os.path.exists(os.path.join(tmp, "release")) and time.monotonic() < end:
		    time.sleep(0.01)
		c.execute("ROLLBACK")
	EOF
	LOCKER_PID=$!
	wait_until test -e "$DIR/locked"
}

release_lock() {
	touch "$DIR/release"
	wait "$LOCKER_PID"
	LOCKER_PID=
	rm -f "$DIR/release" "$DIR/locked"
}

# SIGHUP to statd itself, not to the umockdev-run around it.
statd_hup() {
	local pid
	pid=$(pgrep -P "$STATD_PID" -x vhotplug-statd) || pid=$STATD_PID
	kill -HUP "$pid"
}

spool_count() {
	find "$RUN/spool" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l
}

# spooled_by ACTION NAME: plug or unplug NAME; the helper must have spooled it.
spooled_by() {
	"$1" "$2" >"$DIR/helper.out" 2>&1
	grep -q 'spooled for statd' "$DIR/helper.out" || fail "not spooled: $(cat "$DIR/helper.out")"
}

@test "events spooled while statd was down are imported in order when it starts" {
	qemu_start vm1
	hold_lock
	spooled_by plug mouse
	spooled_by plug webcam
	spooled_by unplug webcam
	release_lock
	assert_equal "$(spool_count)" 3

	statd_start
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
	# The webcam's remove came after its add: it is not in the VM.
	wait_until has_event webcam unplugged
	run peripherals "$VM1"
	refute_line vhp-usb-04f2-b604-0001
	assert_equal "$(spool_count)" 0
	assert_equal "$(sql "SELECT group_concat(event, ' ') FROM (SELECT event FROM device_history
		WHERE device LIKE '% at 1-6' AND event IN ('plugged', 'unplugged'))")" 'plugged unplugged'
	[ "$(events mouse plugged)" -eq 1 ]
	statd_log_has 'imported from the spool (event 3)'
}

@test "a plug the helper spooled on an older schema is imported once statd has migrated" {
	sqlite3 "$DB" <"$DATA/schema-v5.sql"
	qemu_start vm1
	spooled_by plug mouse
	assert_equal "$(sql 'PRAGMA user_version')" 5

	statd_start
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
	assert_equal "$(sql 'PRAGMA user_version')" 8
	assert_equal "$(spool_count)" 0
}

@test "an event spooled while statd runs is imported once the lock goes, without another event" {
	qemu_start vm1
	statd_start
	hold_lock
	spooled_by plug mouse
	# statd was poked, met the lock, and retries on its own timer.
	wait_until statd_log_has 'backlog retried'
	release_lock
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
	assert_equal "$(spool_count)" 0
	[ "$(events mouse plugged)" -eq 1 ]
}

@test "a spool file that is not an event is set aside, and the next one imported" {
	qemu_start vm1
	mkdir -p "$RUN/spool"
	chmod 700 "$RUN" "$RUN/spool"
	printf 'garbage\n' >"$RUN/spool/00000000000000000001-0-0"
	hold_lock
	spooled_by plug mouse
	release_lock
	statd_start
	wait_until has_event mouse attached
	statd_log_has 'cannot be imported'
	[ -e "$RUN/spool/.bad-00000000000000000001-0-0" ]
	assert_equal "$(spool_count)" 0
}

# ---- a broken config ------------------------------------------------------------

@test "plug while the config is invalid: statd decides with its last good config, history says why" {
	qemu_start vm1
	statd_start
	# An edit in progress: statd keeps what it has.
	echo '{ "vms": [ oops' >"$CONFIG"
	statd_hup
	wait_until statd_log_has 'invalid, keeping the configuration in use'

	plug mouse
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
	assert_equal "$(sql "SELECT group_concat(event, ' ') FROM history WHERE device_id IS NOT NULL")" \
		'plugged undecided decided queued attached'
	run event_detail mouse undecided
	assert_output --partial 'config.json:1:'
	run event_detail mouse decided
	assert_output --regexp "^waited for a valid config \\(.*config.json:1:.*\\); decided with .*config.json$"
	[ "$(sql "SELECT state FROM intents WHERE action = 'decide'")" = done ]

	# Fixed, and reloaded: nothing is decided twice.
	make_config "$CONFIG"
	statd_hup
	wait_until statd_log_has 'reloaded'
	poke
	[ "$(events mouse decided)" -eq 1 ]
	[ "$(usb_hosts "$VM1")" -eq 1 ]
}

# statd decides only 'decide' intents above the last id it looked at: an id
# that came back once the newest intents were removed would never be decided.
@test "an undecided plug after the newest intents were removed is still decided" {
	HELPER_CONFIG=$DIR/helper.json
	echo '{ "vms": [ oops' >"$HELPER_CONFIG"
	qemu_start vm1
	statd_start
	plug mouse
	wait_until has_event mouse attached
	sql "DELETE FROM intents WHERE state IN ('done', 'failed', 'cancelled')"
	assert_equal "$(sql 'SELECT count(*) FROM intents')" 0

	plug webcam
	wait_until has_event webcam attached
	[ "$(events webcam decided)" -eq 1 ]
}

@test "plug while the config is invalid and statd down: attached once fixed and statd starts" {
	qemu_start vm1
	cp "$CONFIG" "$DIR/good.json"
	echo '{ "vms": [ oops' >"$CONFIG"
	plug mouse
	[ "$(sql "SELECT action, state FROM intents")" = 'decide|held' ]

	cp "$DIR/good.json" "$CONFIG"
	statd_start
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
}

@test "an undecided plug of a device gone since is cancelled, not attached" {
	qemu_start vm1
	cp "$CONFIG" "$DIR/good.json"
	echo '{ "vms": [ oops' >"$CONFIG"
	plug mouse
	unplug mouse
	cp "$DIR/good.json" "$CONFIG"
	statd_start
	wait_until has_event mouse cancelled
	run event_detail mouse cancelled
	assert_output 'device gone before a valid config decided on it'
	[ "$(usb_hosts "$VM1")" -eq 0 ]
}

@test "a spool of 70 events is imported in 3 transactions of at most 32, in order" {
	qemu_start vm1
	mkdir -p "$RUN/spool"
	chmod 700 "$RUN" "$RUN/spool"
	# The mouse's add first and its remove last, 68 removes of a device never seen between.
	local i action devpath
	for ((i = 1; i <= 70; i++)); do
		action=remove devpath=/devices/pci0000:00/0000:00:14.0/usb1/1-9
		((i == 1)) && action=add
		((i == 1 || i == 70)) && devpath=/devices/pci0000:00/0000:00:14.0/usb1/1-3
		printf 'ACTION=%s\nDEVPATH=%s\nSEQNUM=%d\n' "$action" "$devpath" "$i" \
			>"$RUN/spool/$(printf '%020d-%020d-%010d' "$i" 0 1)"
	done
	chmod 600 "$RUN/spool/"*

	statd_start
	wait_until has_event mouse unplugged
	wait_until test "$(spool_count)" -eq 0
	run grep -o '[0-9]* events imported in one transaction' "$STATD_LOG"
	assert_equal "${#lines[@]}" 3
	assert_equal "$(awk '{ n += $1 } END { print n }' <<<"$output")" 70
	assert_equal "$(sql "SELECT group_concat(event, ' ') FROM (SELECT event FROM device_history
		WHERE device LIKE '% at 1-3' AND event IN ('plugged', 'unplugged'))")" 'plugged unplugged'
}
