#!/usr/bin/env bats
# The database and the VMs never disagree for long: each fault that once left
# a device in a QEMU with no record of it (or a record with no device), and
# what statd does about it now. Real QEMUs; scripted peers only for a slow VM.

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
	if mountpoint -q "$DIR/full" 2>/dev/null; then umount "$DIR/full"; fi
}

# ours_in VM_SOCKET: the qdev ids statd gave that the VM has, sorted.
ours_in() {
	peripherals "$1" | grep '^vhp-' | LC_ALL=C sort || true
}

# other_at_1_3 NAME VID PID: a recording of another device in the mouse's port 1-3.
other_at_1_3() {
	sed "s/idVendor=046d/idVendor=$2/; s/idProduct=c077/idProduct=$3/;
	     s#PRODUCT=46d/c077/#PRODUCT=${2#0}/$3/#; s/ID_VENDOR_ID=046d/ID_VENDOR_ID=$2/;
	     s/ID_MODEL_ID=c077/ID_MODEL_ID=$3/" "$DATA/usb-mouse.umockdev" >"$DIR/$1.umockdev"
}

# plug_recording FILE: the add event of the device at 1-3 in FILE.
plug_recording() {
	SEQ=$((SEQ + 1))
	umockdev-run --device "$1" -- env ACTION=add DEVPATH="${DEV_PATH[mouse]}" SUBSYSTEM=usb \
		DEVTYPE=usb_device SEQNUM=$SEQ "$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
}

@test "statd killed between QEMU's device_add and its reply, the device unplugged meanwhile: QEMU lets go" {
	qemu_start vm1
	plug mouse
	# What a statd leaves that died right after QEMU ran its device_add: the
	# intent claimed, the attachment written before the VM was asked.
	sql "UPDATE intents SET state = 'claimed', claimed_by = 'dead:1', vmm_key = '${DEV_QDEV[mouse]}';
	     INSERT INTO attachments (device_id, vm, qdev_id, intent_id, state)
		SELECT device_id, 'vm1', '${DEV_QDEV[mouse]}', id, 'attaching' FROM intents"
	qmp "$VM1" device_add "{\"driver\":\"usb-host\",\"vendorid\":1133,\"productid\":49271,\"id\":\"${DEV_QDEV[mouse]}\"}"
	unplug mouse

	statd_start
	wait_until has_event mouse detached
	refute in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_equal "$(sql "SELECT count(*) FROM attachments")" 0
	assert_equal "$(sql "SELECT count(*) FROM intents WHERE state IN ('pending', 'claimed')")" 0
	statd_log_has 'a statd that stopped had begun'
}

@test "an outcome statd cannot record: nothing is lost, it is recorded once the database lets it" {
	qemu_start vm1
	statd_start
	# The database refuses the outcome after QEMU has the device, as a busy
	# or full one does.
	sql "CREATE TRIGGER refuse BEFORE UPDATE OF state ON attachments WHEN new.state = 'attached'
	     BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
	plug mouse
	wait_until in_vm "$VM1" "${DEV_QDEV[mouse]}"
	wait_until statd_log_has 'could not record attached'
	# The row written before QEMU was asked says where the device is.
	assert_equal "$(sql "SELECT vm, state FROM attachments")" 'vm1|attaching'
	assert_equal "$(intent mouse state)" claimed

	sql "DROP TRIGGER refuse"
	# Redone on statd's own timer, without another event, and not added twice.
	wait_until attached_to_is mouse vm1
	wait_until intent_is mouse state done
	assert_equal "$(sql "SELECT state FROM attachments")" attached
	assert_equal "$(event_detail mouse attached)" 'already attached'
	assert_equal "$(usb_hosts "$VM1")" 1
}

@test "the database locked when statd would ask QEMU: QEMU is not asked until statd can record it" {
	statd_start
	plug mouse	# vm1 is not running: the intent waits
	wait_until has_event mouse waiting
	"$PYTHON" - "$DB" "$DIR" >/dev/null 2>&1 3>&- <<-'EOF' &
		import os, sqlite3, sys, time
		con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
		con.execute("BEGIN IMMEDIATE")
		open(os.path.join(sys.argv[2], "locked"), "w").close()
		while not os.path.exists(os.path.join(sys.argv[2], "release")):
		    time.sleep(0.02)
		con.execute("COMMIT")
	EOF
	local locker=$!
	wait_until test -e "$DIR/locked"
	# vm1 starts: statd reaches QEMU, but cannot claim the intent.
	qemu_start vm1
	wait_until statd_log_has 'could not claim its intent, the VM is not asked'
	refute in_vm "$VM1" "${DEV_QDEV[mouse]}"
	touch "$DIR/release"
	wait "$locker"
	# Read again on statd's own timer, without another event.
	wait_until attached_to_is mouse vm1
	in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_equal "$(usb_hosts "$VM1")" 1
	# The reconcile the socket's appearance asked for while locked is not lost either.
	statd_log_has 'could not queue a reconcile of vm1, trying again shortly'
	wait_until sql_is done "SELECT state FROM intents WHERE action = 'reconcile'"
}

@test "another device in the same port, its remove lost: the first leaves its VM, the second gets its own id" {
	other_at_1_3 other 04f2 b605
	qemu_start vm1
	statd_start
	plug mouse
	wait_until in_vm "$VM1" "${DEV_QDEV[mouse]}"

	# No remove for the mouse: the next add at 1-3 is another device.
	plug_recording "$DIR/other.umockdev"
	wait_until in_vm "$VM1" vhp-usb-04f2-b605.1-3
	wait_until has_event mouse detached
	refute in_vm "$VM1" "${DEV_QDEV[mouse]}"
	run event_detail mouse unplugged
	assert_output --regexp '^its removal was not seen; usb 04f2:b605 .* is plugged at 1-3 now$'
	assert_equal "$(sql "SELECT qdev_id FROM attachments")" vhp-usb-04f2-b605.1-3
	assert_equal "$(usb_hosts "$VM1")" 1
}

@test "same port: A's late detach from a slow VM leaves B's attachment in another VM alone" {
	other_at_1_3 other 0d8c 0015
	# vm1 answers each command 1.5 s late; vm2 is a real QEMU.
	peer_start "$VM1" deadline 1500
	qemu_start vm2
	statd_start
	plug mouse
	# A's device_add is on its way to vm1: unplugged while it is.
	wait_until statd_log_has 'device_add {"vendorid":1133'
	unplug mouse
	plug_recording "$DIR/other.umockdev"
	wait_until in_vm "$VM2" vhp-usb-0d8c-0015.1-3
	# A got into vm1 after all, and out again.
	WAIT_S=20 wait_until has_event mouse detached
	assert_equal "$(sql "SELECT vm || ' ' || qdev_id FROM attachments")" 'vm2 vhp-usb-0d8c-0015.1-3'

	unplug mouse	# B's remove: B is what is at 1-3 now
	wait_until bash -c "! grep -qx vhp-usb-0d8c-0015.1-3 <(\"$PYTHON\" -S \"$QMP_QUERY\" \"$VM2\" peripherals)"
	assert_equal "$(sql "SELECT count(*) FROM attachments")" 0
}

@test "disk full: QEMU is asked nothing the database cannot record; all is attached once there is room" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a small tmpfs"
	mkdir "$DIR/full"
	mount -t tmpfs -o size=1m tmpfs "$DIR/full" || skip "cannot mount a tmpfs here"
	DB=$DIR/full/vhotplug.db
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug mouse
	wait_until attached_to_is mouse vm1
	statd_stop
	plug webcam
	plug audio
	# The rest of the disk goes, as to helpers' events in a burst.
	dd if=/dev/zero of="$DIR/full/filler" bs=4k 2>/dev/null || true

	statd_start
	wait_until statd_log_has 'could not claim its intent, the VM is not asked'
	# QEMU has what the database says, no more.
	assert_equal "$(ours_in "$VM1")" "$(sql "SELECT qdev_id FROM attachments WHERE vm = 'vm1' ORDER BY qdev_id")"
	assert_equal "$(ours_in "$VM2")" ''
	assert_equal "$(sql "SELECT count(*) FROM attachments")" 1

	rm "$DIR/full/filler"
	WAIT_S=20 wait_until attached_to_is webcam vm1
	WAIT_S=20 wait_until attached_to_is audio vm2
	assert_equal "$(ours_in "$VM1")" "$(sql "SELECT qdev_id FROM attachments WHERE vm = 'vm1' ORDER BY qdev_id")"
	assert_equal "$(ours_in "$VM2")" "${DEV_QDEV[audio]}"
	assert_equal "$(usb_hosts "$VM1")" 2
}

# flip_byte FILE OFFSET: one bit of FILE changed in place, as a bad sector would.
flip_byte() {
	"$PYTHON" -S -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x10])); f.close()' "$1" "$2"
}

@test "a damaged WAL frame: the commits SQLite drops after it are found by their copies, said, and recorded" {
	plug mouse
	# statd is down: the helpers' commits stay in the WAL (nothing else opens the database).
	local before frame=$((24 + 4096))
	before=$(stat -c %s "$DB-wal")
	[ $(((before - 32) % frame)) -eq 0 ]
	plug webcam
	plug audio
	# The first frame of the webcam's commit: SQLite's recovery ends the log there.
	flip_byte "$DB-wal" $((before + 24 + 100))

	statd_start
	wait_until has_event webcam plugged
	wait_until has_event audio plugged
	statd_log_has "add ${DEV_PATH[webcam]} (event 2) was committed by the helper, but the database has lost it"
	statd_log_has "add ${DEV_PATH[audio]} (event 3) was committed by the helper, but the database has lost it"
	[ "$(events mouse plugged)" -eq 1 ]
	[ "$(events webcam plugged)" -eq 1 ]
	# Every copy is gone once the database has its event.
	run find "$RUN/committed" -type f
	assert_output ''
}

@test "a corrupt database page: the helper and statd say so loudly; the events wait in the spool" {
	plug mouse
	local root
	root=$(sql "PRAGMA wal_checkpoint(TRUNCATE); SELECT rootpage FROM sqlite_master WHERE name = 'history'" | tail -n 1)
	# Its b-tree page type: no page is of type 0x10.
	flip_byte "$DB" $(((root - 1) * 4096))

	run plug webcam
	assert_success
	assert_output --partial "the database $DB is corrupt: events go to the spool until it is repaired"
	assert_output --partial 'spooled for statd'
	statd_start
	wait_until statd_log_has "the database is corrupt: events wait in $RUN/spool, kept, until it is repaired"
	run find "$RUN/spool" -type f
	assert_output --partial "$RUN/spool/0000"
}
