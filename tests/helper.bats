#!/usr/bin/env bats
# vhotplug-helper as udev runs it: a clean environment with the event's variables,
# sysfs from tests/data/*.umockdev (add) or an empty one (remove: the device is gone),
# then checks on what it wrote to the database, through the views users look at.
#
# The usb-hostile-*.umockdev recordings are usb-mouse.umockdev with the hwdb model
# name (ID_MODEL_FROM_DATABASE) dropped, so the device's own `product` string is
# used, and that string (and the quotes one's `serial`) stored as an `H:` line:
# umockdev's hex-encoded binary attribute, which carries any byte, newlines included.

load common

XHCI=/devices/pci0000:00/0000:00:14.0
MOUSE=$XHCI/usb1/1-3
MOUSE_RULE='usbPassthrough[0].allow[0] (Mice (HID interface with the mouse protocol))'
MOUSE_LABEL='usb 046d:c077 Logitech, Inc. Mouse at 1-3'

setup_file() {
	python_resolve
}

setup() {
	DB=$BATS_TEST_TMPDIR/vhotplug.db
	RUNDIR=$BATS_TEST_TMPDIR/run
	CONFIG=$DATA/explain.json
	ELAPSED=$BATS_TEST_TMPDIR/elapsed_ms
	mkdir -p "$RUNDIR"
	# umockdev preloads itself: ASan must not insist on being first (make check sets this).
	export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}
}

teardown() {
	if [ -n "${LOCKER_PID:-}" ]; then
		touch "$BATS_TEST_TMPDIR/release"
		wait "$LOCKER_PID" || true
	fi
	if [ -n "${QUEUE_PID:-}" ]; then
		kill "$QUEUE_PID" 2>/dev/null || true
	fi
}

# The udev environment of an event for the device of recording NAME (add or remove):
# sets EV. On add udev passes all of the device's properties; these are the ones a
# remove still has once sysfs is gone.
event_env() {
	case $1 in
	usb-mouse | usb-hostile-*)
		EV=("DEVPATH=$MOUSE" SUBSYSTEM=usb DEVTYPE=usb_device DEVNAME=/dev/bus/usb/001/004
			BUSNUM=001 DEVNUM=004 PRODUCT=46d/c077/7200 TYPE=0/0/0 MAJOR=189 MINOR=3
			ID_BUS=usb ID_USB_INTERFACES=:030102: ID_VENDOR_FROM_DATABASE="Logitech, Inc."
			ID_MODEL_FROM_DATABASE=Mouse) ;;
	usb-ssd)
		EV=("DEVPATH=$XHCI/usb2/2-2" SUBSYSTEM=usb DEVTYPE=usb_device DEVNAME=/dev/bus/usb/002/003
			BUSNUM=002 DEVNUM=003 PRODUCT=4e8/4001/1000 TYPE=0/0/0 ID_BUS=usb) ;;
	usb-hub)
		EV=("DEVPATH=$XHCI/usb1/1-1" SUBSYSTEM=usb DEVTYPE=usb_device DEVNAME=/dev/bus/usb/001/002
			BUSNUM=001 DEVNUM=002 PRODUCT=5e3/608/6060 TYPE=9/0/1 ID_BUS=usb) ;;
	usb-webcam)
		EV=("DEVPATH=$XHCI/usb1/1-6" SUBSYSTEM=usb DEVTYPE=usb_device DEVNAME=/dev/bus/usb/001/007
			BUSNUM=001 DEVNUM=007 PRODUCT=4f2/b604/27 TYPE=239/2/1 ID_BUS=usb) ;;
	pci-wifi)
		EV=(DEVPATH=/devices/pci0000:00/0000:00:14.3 SUBSYSTEM=pci DRIVER=iwlwifi
			PCI_CLASS=28000 PCI_ID=8086:A0F0 PCI_SLOT_NAME=0000:00:14.3) ;;
	evdev-trackpoint)
		EV=(DEVPATH=/devices/platform/i8042/serio1/serio2/input/input5/event5 SUBSYSTEM=input
			DEVNAME=/dev/input/event5 MAJOR=13 MINOR=69 ID_INPUT=1 ID_INPUT_MOUSE=1
			ID_PATH_TAG=platform-i8042-serio-2) ;;
	evdev-usb-mouse)
		EV=("DEVPATH=$XHCI/usb1/1-3/1-3:1.0/0003:046D:C077.0001/input/input12/event12"
			SUBSYSTEM=input DEVNAME=/dev/input/event12 MAJOR=13 MINOR=76 ID_BUS=usb
			ID_INPUT=1 ID_INPUT_MOUSE=1) ;;
	*) fail "no event environment for $1" ;;
	esac
}

# in_udev_env RECORDING VAR=VALUE... [-- ARG...]: run the helper under umockdev with
# RECORDING's devices ("empty": none, an empty sysfs) and only the given environment,
# plus PATH, the paths of this test, and what umockdev and the sanitizers need. The
# helper's wall time in ms (umockdev's start not included) goes to $ELAPSED.
# RECORDING "-" runs it without umockdev, to save its start, for events where the
# helper does not read sysfs: removes (the device is gone) and events it skips.
in_udev_env() {
	local umockdev=(umockdev-run) vars=()

	case $1 in
	-) umockdev=() ;;
	empty) ;;
	*) umockdev+=(--device "$DATA/$1.umockdev") ;;
	esac
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	# shellcheck disable=SC2016
	${umockdev[@]+"${umockdev[@]}" --} sh -c '
		elapsed=$1
		shift
		t0=$(date +%s%N)
		env -i PATH="$PATH" LD_PRELOAD="$LD_PRELOAD" UMOCKDEV_DIR="$UMOCKDEV_DIR" \
			ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" "$@"
		rc=$?
		echo $((($(date +%s%N) - t0) / 1000000)) >"$elapsed"
		exit $rc' sh "$ELAPSED" \
		VHOTPLUG_CONFIG="$CONFIG" VHOTPLUG_DB="$DB" VHOTPLUG_RUNDIR="$RUNDIR" \
		"${vars[@]}" "$HELPER" "$@"
}

# uevent ACTION RECORDING [VAR=VALUE...]: the helper for ACTION on RECORDING's device.
# Adds see the recording's sysfs; other actions run without umockdev (a removed
# device is gone from sysfs, and the helper reads no sysfs for them).
uevent() {
	local action=$1 recording=$2 sysfs=$2

	shift 2
	event_env "$recording"
	[ "$action" = add ] || sysfs=-
	SEQ=$((${SEQ:-1000} + 1))
	run in_udev_env "$sysfs" ACTION="$action" SEQNUM="$SEQ" "${EV[@]}" "$@"
}

# A udev-run program must not fail, whatever happened.
assert_exit0() {
	assert_success
}

q() {
	sqlite3 "$DB" "$@"
}

# Rows in the tables the helper writes; a database never created counts 0.
rows_written() {
	if [ -e "$DB" ]; then
		q 'SELECT (SELECT count(*) FROM devices) + (SELECT count(*) FROM history) +
			(SELECT count(*) FROM intents)'
	else
		echo 0
	fi
}

# history_is EVENT|VM|DETAIL...: device_history's columns after time and device, in order.
history_is() {
	local expected
	expected=$(printf '%s\n' "$@")
	assert_equal "$(q 'SELECT event, vm, detail FROM device_history')" "$expected"
}

# ---- add ---------------------------------------------------------------------

@test "add: USB mouse is queued for attachment to vm1" {
	uevent add usb-mouse
	assert_exit0
	assert_equal "$(q 'SELECT device, action, vm, state, attempts, rule FROM pending_intents')" \
		"$MOUSE_LABEL|attach|vm1|pending|0|$MOUSE_RULE"
	assert_equal "$(q 'SELECT device FROM device_history')" "$MOUSE_LABEL"$'\n'"$MOUSE_LABEL"
	history_is 'plugged||' "queued|vm1|$MOUSE_RULE"
	# statd attaches by bus and device number as they were at this event.
	assert_equal "$(q 'SELECT action, busnum, devnum FROM intents')" 'attach|1|4'
	assert_equal "$(q 'SELECT kind, devpath, sysname, vendor_id, product_id, vendor_name,
		product_name, busnum, devnum, devnode, present FROM devices')" \
		"usb|$MOUSE|1-3|$((0x046d))|$((0xc077))|Logitech, Inc.|Mouse|1|4|/dev/bus/usb/001/004|1"
}

@test "add: USB SSD matches no rule and is ignored" {
	uevent add usb-ssd
	assert_exit0
	history_is 'plugged||' 'ignored||no rule set takes it'
	assert_equal "$(q 'SELECT action, vm, state, rule FROM intents')" \
		'ignore||done|no rule set takes it'
	assert_equal "$(q 'SELECT count(*) FROM pending_intents')" 0
	assert_equal "$(q 'SELECT label FROM devices')" \
		'usb 04e8:4001 Samsung Electronics Co., Ltd PSSD T7 serial S5TCNS0R301234F at 2-2'
}

@test "add: USB hub is ignored although a rule set takes hubs" {
	uevent add usb-hub
	assert_exit0
	history_is 'plugged||' 'ignored||USB hubs are never passed through'
	assert_equal "$(q 'SELECT action, state FROM intents')" 'ignore|done'
	assert_equal "$(q 'SELECT count(*) FROM pending_intents')" 0
}

@test "add: webcam awaits the user's choice between vm1 and vm2" {
	local rule='usbPassthrough[2].allow[0] (Video class interfaces)'

	uevent add usb-webcam
	assert_exit0
	history_is 'plugged||' "awaiting_selection||$rule; allowed VMs: [\"vm1\",\"vm2\"]"
	assert_equal "$(q 'SELECT action, vm, allowed_vms, state, rule FROM intents')" \
		"select||[\"vm1\",\"vm2\"]|held|$rule"
	assert_equal "$(q 'SELECT action, vm, state FROM pending_intents')" \
		'select|["vm1","vm2"]|held'
}

@test "add: PCI Wi-Fi card is queued for vm1" {
	local label='pci 0000:00:14.3 8086:a0f0 Wi-Fi 6 AX201 (iwlwifi)'

	uevent add pci-wifi
	assert_exit0
	assert_equal "$(q 'SELECT device, action, vm, state, rule FROM pending_intents')" \
		"$label|attach|vm1|pending|pciPassthrough[0].allow[0] (Wi-Fi card in its slot)"
	history_is 'plugged||' 'queued|vm1|pciPassthrough[0].allow[0] (Wi-Fi card in its slot)'
	assert_equal "$(q 'SELECT kind, sysname, busnum, devnum FROM devices')" 'pci|0000:00:14.3||'
}

@test "add: TrackPoint event node is queued for vm1" {
	local label='evdev /dev/input/event5 "TPPS/2 Elan TrackPoint"'

	uevent add evdev-trackpoint
	assert_exit0
	assert_equal "$(q 'SELECT device, action, vm, state, rule FROM pending_intents')" \
		"$label|attach|vm1|pending|evdevPassthrough[0].allow[0] (ThinkPad pointing stick)"
	history_is 'plugged||' 'queued|vm1|evdevPassthrough[0].allow[0] (ThinkPad pointing stick)'
	assert_equal "$(q 'SELECT kind, devnode FROM devices')" 'evdev|/dev/input/event5'
}

@test "add: the event node of a USB mouse writes nothing (the USB device is the one passed)" {
	uevent add evdev-usb-mouse
	assert_exit0
	assert_equal "$(rows_written)" 0
}

@test "add: a device not in sysfs is ignored, never taken from the event environment" {
	event_env usb-mouse
	run in_udev_env empty ACTION=add SEQNUM=7 "${EV[@]}"
	assert_exit0
	assert_output --partial "add $MOUSE: not in sysfs (gone already?): ignored"
	assert_equal "$(rows_written)" 0
	assert_equal "$(spooled)" ''
}

@test "add twice: one devices row, two plugged rows" {
	uevent add usb-mouse
	assert_exit0
	uevent add usb-mouse
	assert_exit0
	assert_equal "$(q 'SELECT count(*) FROM devices')" 1
	assert_equal "$(q "SELECT count(*) FROM history WHERE event = 'plugged'")" 2
	assert_equal "$(q 'SELECT DISTINCT device_id FROM history')" \
		"$(q 'SELECT id FROM devices')"
}

@test "add: the database is created in WAL mode with schema version 8" {
	uevent add usb-mouse
	assert_exit0
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	assert_equal "$(q 'PRAGMA user_version')" 8
	assert_equal "$(q "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master
		WHERE type IN ('table', 'view') ORDER BY name)")" \
		'attachments choices current_attachments device_history devices history host_drivers intents pending_intents spool_imported sqlite_sequence suspended usb_auth_saved user_marks'
}

@test "add: a database a newer vhotplug made is not touched; the helper says so and spools the event" {
	uevent add usb-mouse
	assert_exit0
	# What an older helper meets after an upgrade and a downgrade: one version on.
	q 'PRAGMA user_version = 9'
	uevent add usb-webcam
	assert_exit0
	assert_output --partial 'schema version 9 is newer than this vhotplug knows (8): run the vhotplug that created it, or a newer one'
	assert_equal "$(q 'PRAGMA user_version')" 9
	assert_equal "$(q 'SELECT count(*) FROM devices')" 1
	# Not lost: a statd that knows version 9 imports it.
	run spooled
	assert_equal "${#lines[@]}" 1
}

@test "add: a database of an older schema is not migrated while udev waits; the event is spooled" {
	sqlite3 "$DB" <"$DATA/schema-v5.sql"
	uevent add usb-mouse
	assert_exit0
	assert_output --partial 'schema version 5 is older than 8: left for vhotplug-statd to migrate'
	assert_output --partial 'spooled for statd'
	assert_equal "$(q 'PRAGMA user_version')" 5
	assert_equal "$(q 'SELECT count(*) FROM devices')" 0
	run spooled
	assert_equal "${#lines[@]}" 1
}

@test "add: options -c, --db and --run-dir win over the environment" {
	local db=$BATS_TEST_TMPDIR/other.db

	event_env usb-mouse
	CONFIG=/nonexistent/vhotplug.json
	run in_udev_env usb-mouse ACTION=add "${EV[@]}" -- \
		-c "$DATA/explain.json" --db "$db" --run-dir "$RUNDIR"
	assert_exit0
	[ ! -e "$DB" ] || fail "the database of VHOTPLUG_DB was written"
	DB=$db
	history_is 'plugged||' "queued|vm1|$MOUSE_RULE"
}

@test "add: statd is woken by a datagram on RUNDIR/statd.sock" {
	"$PYTHON" - "$RUNDIR/statd.sock" "$BATS_TEST_TMPDIR/datagram" 3>&- <<-'EOF' &
		import os, socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		s.bind(sys.argv[1] + ".tmp")
		os.rename(sys.argv[1] + ".tmp", sys.argv[1])
		s.settimeout(20)
		try:
		    data = s.recv(256)
		except socket.timeout:
		    data = b"(nothing)"
		open(sys.argv[2], "wb").write(data)
	EOF
	local listener=$! i
	for ((i = 0; i < 200; i++)); do
		[ -S "$RUNDIR/statd.sock" ] && break
		sleep 0.05
	done
	uevent add usb-mouse
	assert_exit0
	wait "$listener"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/datagram")" intent
}

# ---- config errors -----------------------------------------------------------

@test "add: a broken config records the plug undecided, with the config's first error line" {
	local error="$CONFIGS/bad-syntax.json:3:37: JSON syntax error: object value separator ',' expected"

	CONFIG=$CONFIGS/bad-syntax.json
	uevent add usb-mouse
	assert_exit0
	assert_output --partial 'bad-syntax.json:3:37: JSON syntax error'
	history_is 'plugged||' "undecided||$error"
	# statd decides it with the last good config it holds (statd.bats).
	assert_equal "$(q 'SELECT action, vm, state, rule, busnum, devnum FROM intents')" \
		"decide||held|$error|1|4"
	assert_equal "$(q 'SELECT action, state FROM pending_intents')" 'decide|held'

	# A missing file is an error like any other.
	CONFIG=$BATS_TEST_TMPDIR/missing.json
	uevent add usb-mouse
	assert_exit0
	assert_equal "$(q "SELECT count(*) FROM intents WHERE action = 'decide' AND rule LIKE '%missing.json: No such file%'")" 1
}

@test "add: a hub is ignored even while the config is broken" {
	CONFIG=$CONFIGS/bad-syntax.json
	uevent add usb-hub
	assert_exit0
	history_is 'plugged||' 'ignored||USB hubs are never passed through'
}

@test "add: a FIFO as config is refused at once, and the plug recorded undecided" {
	CONFIG=$BATS_TEST_TMPDIR/fifo.json
	mkfifo "$CONFIG"
	# Without O_NONBLOCK, open() would wait for a writer for ever: timeout ends that.
	printf '#!/bin/sh\nexec timeout 20 "%s" "$@"\n' "$HELPER" >"$BATS_TEST_TMPDIR/helper"
	chmod +x "$BATS_TEST_TMPDIR/helper"
	HELPER=$BATS_TEST_TMPDIR/helper
	uevent add usb-mouse
	assert_exit0
	assert_output --partial "$CONFIG: not a regular file"
	assert_equal "$(q 'SELECT action, state FROM intents')" 'decide|held'
	history_is 'plugged||' "undecided||$CONFIG: not a regular file (a FIFO, device or directory?)"
}

# ---- remove ------------------------------------------------------------------

@test "remove: queues a detach and an unplugged row; the device is marked absent" {
	uevent add usb-mouse
	assert_exit0
	uevent remove usb-mouse
	assert_exit0
	history_is 'plugged||' "queued|vm1|$MOUSE_RULE" 'unplugged||'
	assert_equal "$(q 'SELECT DISTINCT device FROM device_history')" "$MOUSE_LABEL"
	assert_equal "$(q 'SELECT action, vm, state FROM pending_intents')" \
		$'attach|vm1|pending\ndetach||pending'
	assert_equal "$(q 'SELECT count(*), present FROM devices')" '1|0'
}

@test "remove: PCI and evdev devices are detached too" {
	uevent add pci-wifi
	assert_exit0
	uevent remove pci-wifi
	assert_exit0
	uevent add evdev-trackpoint
	assert_exit0
	uevent remove evdev-trackpoint
	assert_exit0
	assert_equal "$(q "SELECT kind FROM intents i JOIN devices d ON d.id = i.device_id
		WHERE action = 'detach' ORDER BY i.id")" $'pci\nevdev'
	assert_equal "$(q "SELECT count(*) FROM history WHERE event = 'unplugged'")" 2
}

@test "remove: a device never seen writes nothing" {
	uevent add usb-ssd
	assert_exit0
	local before
	before=$(rows_written)
	uevent remove usb-mouse
	assert_exit0
	assert_equal "$(rows_written)" "$before"
	uevent remove usb-webcam
	assert_exit0
	assert_equal "$(rows_written)" "$before"
}

@test "remove, then add again: the device is present again with its old row" {
	uevent add usb-mouse
	uevent remove usb-mouse
	uevent add usb-mouse
	assert_exit0
	assert_equal "$(q 'SELECT count(*), present FROM devices')" '1|1'
	assert_equal "$(q "SELECT group_concat(event, ' ') FROM device_history")" \
		'plugged queued unplugged plugged queued'
}

# ---- not for us --------------------------------------------------------------

@test "exits 0 and says so when ACTION or DEVPATH is missing" {
	run in_udev_env - SUBSYSTEM=usb
	assert_exit0
	assert_output --partial 'ACTION and DEVPATH are not set'
	run in_udev_env - ACTION=add
	assert_exit0
	assert_output --partial 'ACTION and DEVPATH are not set'
	run in_udev_env - DEVPATH="$MOUSE"
	assert_exit0
	assert_output --partial 'ACTION and DEVPATH are not set'
	assert_equal "$(rows_written)" 0
}

@test "events that are not for the helper write nothing: change, bind, a USB interface" {
	uevent change usb-mouse
	assert_exit0
	uevent bind usb-mouse
	assert_exit0
	run in_udev_env usb-mouse ACTION=add DEVPATH="$MOUSE/1-3:1.0" SUBSYSTEM=usb \
		DEVTYPE=usb_interface
	assert_exit0
	assert_equal "$(rows_written)" 0
}

# ---- DEVPATH -----------------------------------------------------------------

@test "DEVPATH with '..' is refused: nothing recorded, nothing spooled, nothing read" {
	local path
	for path in /devices/../../../tmp/x /devices/pci0000:00/.. /devices//usb1 /sys/devices/x \
		/devices/usb1/ devices/usb1 "/devices/$(printf 'a%.0s' {1..1100})"; do
		run in_udev_env usb-mouse ACTION=add DEVPATH="$path" SUBSYSTEM=usb DEVTYPE=usb_device
		assert_exit0
		assert_output --partial 'not a device path the kernel makes: ignored'
		run in_udev_env - ACTION=remove DEVPATH="$path" SUBSYSTEM=usb DEVTYPE=usb_device
		assert_exit0
		assert_output --partial 'not a device path the kernel makes: ignored'
	done
	assert_equal "$(rows_written)" 0
	assert_equal "$(spooled)" ''
}

@test "DEVPATH with a newline is refused, and logged on one line with the newline escaped" {
	run in_udev_env - ACTION=remove DEVPATH=$'/devices/x\n<0>forged line\033[31m' SUBSYSTEM=usb
	assert_exit0
	assert_equal "${#lines[@]}" 1
	assert_output --partial 'remove "/devices/x\n<0>forged line\x1b[31m": not a device path the kernel makes: ignored'
	refute_line --regexp '^<0>'
	assert_equal "$(rows_written)" 0
}

# ---- device strings ----------------------------------------------------------

# The history lines as the sqlite3 shell prints them: one per row, whatever the device says.
assert_one_line_per_event() {
	local n
	n=$(q 'SELECT count(*) FROM history')
	assert_equal "$(q 'SELECT * FROM device_history' | wc -l)" "$n"
}

@test "strings: quotes, SQL and a newline are stored as they are and escaped in the label" {
	local product=$'Mouse "Pro" O\'Reilly\'); DROP TABLE devices; --\nsecond line\tafter a tab'
	local serial="'; DELETE FROM intents; --"

	uevent add usb-hostile-quotes
	assert_exit0
	assert_equal "$(q 'SELECT hex(product_name), hex(serial) FROM devices')" \
		"$(printf '%s' "$product" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)|$(printf '%s' "$serial" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
	assert_one_line_per_event
	assert_equal "$(q 'SELECT DISTINCT device FROM device_history')" \
		"usb 046d:c077 Logitech, Inc. Mouse \"Pro\" O'Reilly'); DROP TABLE devices; --\\nsecond line\\tafter a tab serial $serial at 1-3"
	assert_equal "$(q 'SELECT action, vm FROM pending_intents')" 'attach|vm1'
	assert_equal "$(q "SELECT count(*) FROM sqlite_master WHERE name = 'devices'")" 1
}

@test "strings: a 4 KiB name is stored whole and cut to 96 characters in the label" {
	uevent add usb-hostile-long
	assert_exit0
	# 2048 times U+00E9, two bytes each.
	assert_equal "$(q "SELECT length(CAST(product_name AS BLOB)), length(product_name),
		product_name = replace(hex(zeroblob(2048)), '00', 'é') FROM devices")" '4096|2048|1'
	assert_one_line_per_event
	local cut
	cut=$(printf 'é%.0s' {1..96})
	assert_equal "$(q 'SELECT DISTINCT device FROM device_history')" \
		"usb 046d:c077 Logitech, Inc. $cut... at 1-3"
}

@test "strings: invalid UTF-8 and control bytes are stored raw and escaped as \\xNN in the label" {
	uevent add usb-hostile-utf8
	assert_exit0
	assert_equal "$(q 'SELECT hex(product_name) FROM devices')" \
		62616420FFFE2C206F7665726C6F6E6720C0AF2C2063757420E2822C2063746C20011B5B33316D7F2C206F6B20C3BC
	assert_one_line_per_event
	assert_equal "$(q 'SELECT DISTINCT device FROM device_history')" \
		'usb 046d:c077 Logitech, Inc. bad \xff\xfe, overlong \xc0\xaf, cut \xe2\x82, ctl \x01\x1b[31m\x7f, ok ü at 1-3'
	assert_equal "$(q 'SELECT DISTINCT device FROM pending_intents')" \
		"$(q 'SELECT label FROM devices')"
}

@test "strings: surrogates, 3-byte overlongs and code points past U+10FFFF are escaped too" {
	uevent add usb-hostile-utf8-subtle
	assert_exit0
	assert_equal "$(q 'SELECT DISTINCT device FROM device_history')" \
		'usb 046d:c077 Logitech, Inc. surrogate \xed\xa0\x80, overlong3 \xe0\x80\xaf, big \xf4\x90\x80\x80, f5 \xf5\x80\x80\x80 at 1-3'
}

@test "strings: bidi overrides, line separators, zero widths and the BOM are escaped in the label" {
	uevent add usb-hostile-format
	assert_exit0
	assert_one_line_per_event
	assert_equal "$(q 'SELECT DISTINCT device FROM device_history')" \
		'usb 046d:c077 Logitech, Inc. rlo \xe2\x80\xaegpj.exe, ls \xe2\x80\xa8x, ps \xe2\x80\xa9y, zwsp \xe2\x80\x8bz, bom \xef\xbb\xbfw at 1-3'
}

# ---- the database is busy or unusable ----------------------------------------

# hold_write_lock: another process takes the write lock of $DB (BEGIN IMMEDIATE, with an
# uncommitted row) and keeps it until $BATS_TEST_TMPDIR/release exists (at most 30 s).
hold_write_lock() {
	"$PYTHON" - "$DB" "$BATS_TEST_TMPDIR" >/dev/null 2>&1 3>&- <<-'EOF' &
		import os, sqlite3, sys, time
		db, tmp = sys.argv[1], sys.argv[2]
		c = sqlite3.connect(db, isolation_level=None, timeout=5)
		c.execute("BEGIN IMMEDIATE")
		c.execute("INSERT INTO history (device, event) VALUES ('locker', 'uncommitted')")
		open(os.path.join(tmp, "locked"), "w").close()
		end = time.monotonic() + 30
		while not os.path.exists(os.path.join(tmp, "release")) and time.monotonic() < end:
		    time.sleep(0.01)
		c.execute("ROLLBACK")
	EOF
	LOCKER_PID=$!
	local i
	for ((i = 0; i < 400; i++)); do
		[ -e "$BATS_TEST_TMPDIR/locked" ] && return 0
		kill -0 "$LOCKER_PID" 2>/dev/null || break
		sleep 0.025
	done
	fail "the locking process did not get the lock"
}

# spooled: the files waiting in the spool, in name order (the order statd imports them).
spooled() {
	[ -d "$RUNDIR/spool" ] || return 0
	find "$RUNDIR/spool" -maxdepth 1 -type f ! -name '.*' -printf '%f\n' | sort
}

# spooled_field KEY: KEY's value in each spooled file, in order.
spooled_field() {
	local f
	for f in $(spooled); do
		sed -n "s/^$1=//p" "$RUNDIR/spool/$f"
	done
}

release_write_lock() {
	touch "$BATS_TEST_TMPDIR/release"
	wait "$LOCKER_PID"
	LOCKER_PID=
}

@test "locked database: the event is spooled after the 100 ms budget, in order, 0600" {
	uevent add usb-webcam
	assert_exit0
	hold_write_lock
	uevent add usb-mouse
	assert_exit0
	assert_output --partial "add $MOUSE: spooled for statd (database locked for more than 100 ms)"
	refute_output --partial 'NOT recorded'
	# The helper did not wait for the lock to go: the locker still holds it
	# (it lets go when released, or after 30 s). bench/helper.sh times the helper.
	run q 'BEGIN IMMEDIATE; ROLLBACK;'
	assert_output --partial 'database is locked'
	# A removal meets the same lock.
	uevent remove usb-webcam
	assert_exit0
	assert_output --partial 'spooled for statd'
	release_write_lock

	# The database has nothing of them; the spool has both, in event order.
	assert_equal "$(q 'SELECT event FROM history')" $'plugged\nawaiting_selection'
	# While events wait in the spool, later ones join them: a remove must not
	# overtake the add before it.
	uevent add usb-mouse
	assert_exit0
	assert_output --partial 'spooled for statd (database: earlier events wait in the spool)'
	assert_equal "$(q 'SELECT event FROM history')" $'plugged\nawaiting_selection'
	run spooled
	assert_equal "${#lines[@]}" 3
	assert_equal "$(spooled_field ACTION)" $'add\nremove\nadd'
	assert_equal "$(spooled_field DEVPATH)" "$MOUSE"$'\n'"$XHCI/usb1/1-6"$'\n'"$MOUSE"
	assert_equal "$(spooled_field SEQNUM)" $'1002\n1003\n1004'
	assert_equal "$(stat -c %a "$RUNDIR/spool" "$RUNDIR/spool/"* | sort -u)" $'600\n700'
}

@test "database in a directory that does not exist: the event is spooled" {
	DB=$BATS_TEST_TMPDIR/no/such/dir/vhotplug.db
	uevent add usb-mouse
	assert_exit0
	assert_output --partial "$DB: open: unable to open database file"
	assert_output --partial "add $MOUSE: spooled for statd (database: No such file or directory)"
	[ ! -e "$BATS_TEST_TMPDIR/no" ]
	assert_equal "$(spooled_field ACTION)" add
}

@test "neither database nor spool writable: NOT recorded, and said so" {
	# Root ignores permission bits, so a file stands for the unwritable directories.
	touch "$BATS_TEST_TMPDIR/file"
	DB=$BATS_TEST_TMPDIR/file/vhotplug.db
	RUNDIR=$BATS_TEST_TMPDIR/file/run
	uevent remove usb-mouse
	assert_exit0
	assert_output --partial "$DB: open: unable to open database file"
	assert_output --partial "remove $MOUSE: NOT recorded: database: Not a directory, spool in $RUNDIR: Not a directory"
}

@test "full disk: the helper exits 0 and says so, and what was committed stays intact" {
	[ "$(id -u)" = 0 ] || skip "needs root for a small tmpfs"
	unshare -m true 2>/dev/null || skip "unshare -m does not work here"
	FULL=$BATS_TEST_TMPDIR/full
	mkdir -p "$FULL"
	# A private mount namespace: the small tmpfs is gone with it, the host untouched.
	# Each add of the 4 KiB-named device grows the WAL until the tmpfs is full.
	run unshare -m --propagation private bash -c '
		full=$1 data=$2 helper=$3 config=$4 rundir=$5 mouse=$6
		mount -t tmpfs -o size=256k tmpfs "$full" || exit 99
		# The spool on a tmpfs of its own, for a few events: it fills after the database.
		mkdir "$full/run" && mount -t tmpfs -o size=32k,mode=0700 tmpfs "$full/run" || exit 99
		for i in $(seq 400); do
			out=$(umockdev-run --device "$data/usb-hostile-long.umockdev" -- \
				env ACTION=add DEVPATH="$mouse" SUBSYSTEM=usb DEVTYPE=usb_device SEQNUM=$i \
				"$helper" -c "$config" --db "$full/vhotplug.db" --run-dir "$full/run" 2>&1) ||
				{ echo "helper exited $?"; exit 1; }
			case $out in *"spooled for statd (database: No space"*) echo "spooled at $i: $out" ;; esac
			case $out in *"NOT recorded"*) echo "event $i: $out"; break ;; esac
		done
		echo "integrity: $(sqlite3 "$full/vhotplug.db" "PRAGMA integrity_check")"
		echo "plugged: $(sqlite3 "$full/vhotplug.db" "SELECT count(*) FROM history WHERE event = '\''plugged'\''")"
		echo "queued: $(sqlite3 "$full/vhotplug.db" "SELECT count(*) FROM intents WHERE action = '\''attach'\''")"
		echo "spool: $(ls "$full/run/spool" | wc -l)"
	' bash "$FULL" "$DATA" "$HELPER" "$CONFIG" "$RUNDIR" "$MOUSE"
	[ "$status" -ne 99 ] || skip "cannot mount a tmpfs here"
	assert_success
	assert_output --partial "database or disk is full"
	# The first event the database could not take went to the spool, and so did
	# the ones after it, until the spool could take no more either.
	assert_output --regexp "spooled at [0-9]+"
	assert_output --regexp "event [0-9]+: .*add $MOUSE: NOT recorded: database: not tried, spool in $FULL/run: No space left on device"
	assert_line "integrity: ok"
	# Every event before the last was recorded whole, in the database or the spool.
	n=$(sed -n 's/^event \([0-9]*\):.*/\1/p' <<<"$output")
	plugged=$(sed -n 's/^plugged: //p' <<<"$output")
	assert_line "queued: $plugged"
	assert_line "spool: $((n - 1 - plugged))"
}

# ---- the writers' queue ($DB.lock) ------------------------------------------------

# hold_queue: another writer holds the writers' queue of $DB (byte 0 of $DB.lock; a POSIX
# lock meets the helper's OFD lock) until killed, at most 30 s.
hold_queue() {
	"$PYTHON" - "$DB.lock" "$BATS_TEST_TMPDIR/queued" >/dev/null 2>&1 3>&- <<-'EOF' &
		import fcntl, os, sys, time
		fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
		fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0, os.SEEK_SET)
		open(sys.argv[2], "w").close()
		time.sleep(30)
	EOF
	QUEUE_PID=$!
	local i
	for ((i = 0; i < 400; i++)); do
		[ -e "$BATS_TEST_TMPDIR/queued" ] && return 0
		kill -0 "$QUEUE_PID" 2>/dev/null || break
		sleep 0.025
	done
	fail "the other writer did not get the queue"
}

@test "writers' queue held past the 100 ms budget: the event is spooled, not lost" {
	uevent add usb-webcam
	assert_exit0
	hold_queue
	uevent add usb-mouse
	kill "$QUEUE_PID"
	wait "$QUEUE_PID" || true
	QUEUE_PID=
	assert_exit0
	assert_output --partial "$DB: the writers' queue ($DB.lock) did not move for 100 ms"
	assert_output --partial "add $MOUSE: spooled for statd (database locked for more than 100 ms)"
	assert_equal "$(q "SELECT count(*) FROM history WHERE device LIKE '% at 1-3'")" 0
	assert_equal "$(spooled_field ACTION)" add
	assert_equal "$(spooled_field DEVPATH)" "$MOUSE"
}

@test "a lock file that is a symbolic link: said, not followed, and the event is committed" {
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$DB.lock"
	uevent add usb-mouse
	assert_exit0
	assert_output --partial "$DB.lock: a symbolic link, not the lock file"
	[ ! -e "$BATS_TEST_TMPDIR/elsewhere" ]
	assert_equal "$(q 'SELECT event FROM history')" $'plugged\nqueued'
	run spooled
	assert_output ''
}

@test "a lock file others may open: said, and the event is committed" {
	touch "$DB.lock"
	chmod 644 "$DB.lock"
	uevent add usb-mouse
	assert_exit0
	assert_output --partial "$DB.lock: not a regular file of this user closed to others"
	assert_equal "$(q 'SELECT event FROM history')" $'plugged\nqueued'
	run spooled
	assert_output ''
}

@test "a lock file of another user: said, and the event is committed" {
	[ "$(id -u)" = 0 ] || skip "needs root to give the file away"
	touch "$DB.lock"
	chmod 600 "$DB.lock"
	chown nobody "$DB.lock"
	uevent add usb-mouse
	assert_exit0
	assert_output --partial "$DB.lock: not a regular file of this user closed to others"
	assert_equal "$(q 'SELECT event FROM history')" $'plugged\nqueued'
}

@test "add and remove: the helper's commit costs no fsync (udev replays every device after a power cut)" {
	uevent add usb-mouse	# makes the database; not traced
	assert_exit0
	local real=$HELPER trace=$BATS_TEST_TMPDIR/trace
	HELPER=$BATS_TEST_TMPDIR/traced-helper
	# LeakSanitizer cannot run under ptrace; the other tests check for leaks.
	printf '#!/bin/sh\nASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" exec strace -f -qq -A -o "%s" -e trace=execve,fsync,fdatasync "%s" "$@"\n' \
		"$trace" "$real" >"$HELPER"
	chmod +x "$HELPER"
	uevent add usb-mouse
	assert_exit0
	uevent remove usb-mouse
	assert_exit0
	assert_equal "$(q "SELECT group_concat(event, ' ') FROM history")" \
		'plugged queued plugged queued unplugged'
	# strace saw both runs, and neither synced anything.
	assert_equal "$(grep -c 'execve(' "$trace")" 2
	run grep -E 'f(data)?sync\(' "$trace"
	assert_failure 1
}
