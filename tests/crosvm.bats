#!/usr/bin/env bats
# statd's crosvm backend: tests/fake-crosvm as general.crosvm, speaking to a
# real listening SEQPACKET socket (tests/seqpacket-listen.py) as the VM's
# control socket; a real QEMU where another VM must be served meanwhile.

load common
load qemu

FAKE=$top_srcdir/tests/fake-crosvm
LISTEN=$top_srcdir/tests/seqpacket-listen.py

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	CVM1=$DIR/cvm1.sock
	export FAKE_CROSVM_STATE=$DIR/crosvm
	# The device nodes crosvm opens (it reads the descriptor): /dev stands in here.
	export VHOTPLUG_DEV_ROOT=$DIR/dev
	for name in mouse audio webcam; do
		make_devnode "$name"
	done
	crosvm_config "$CONFIG"
}

teardown() {
	qemu_teardown
	echo "---- fake-crosvm log"
	cat "$FAKE_CROSVM_STATE/log" 2>/dev/null
	true
}

# make_devnode NAME: the recording's usbfs node, holding its device descriptor.
make_devnode() {
	local line node
	line=$(grep -m1 '^N: bus/usb/' "$DATA/${DEV_RECORDING[$1]}.umockdev")
	node=${line#N: }
	mkdir -p "$VHOTPLUG_DEV_ROOT/$(dirname "${node%%=*}")"
	"$PYTHON" -S -c 'import sys; open(sys.argv[1], "wb").write(bytes.fromhex(sys.argv[2][:36]))' \
		"$VHOTPLUG_DEV_ROOT/${node%%=*}" "${node#*=}"
}

# crosvm_config FILE [QMP_TIMEOUT_MS]: mouse and webcam to crosvm VM cvm1,
# audio to QEMU VM vm2; PCI (NVMe) and evdev (keyboards) to cvm1 too.
crosvm_config() {
	cat >"$1" <<-EOF
	{
	  "usbPassthrough": [
	    { "targetVm": "cvm1", "allow": [ { "vendorId": "046d", "productId": "c077" }, { "vendorId": "04f2" } ] },
	    { "targetVm": "vm2", "allow": [ { "vendorId": "0d8c" } ] }
	  ],
	  "pciPassthrough": [ { "targetVm": "cvm1", "allow": [ { "deviceClass": 1, "deviceSubclass": 8 } ] } ],
	  "evdevPassthrough": [ { "targetVm": "cvm1", "allow": [ { "property": "ID_INPUT_KEYBOARD", "value": "1" } ] } ],
	  "vms": [
	    { "name": "cvm1", "type": "crosvm", "socket": "$CVM1" },
	    { "name": "vm2", "type": "qemu", "socket": "$DIR/vm2.sock", "usbAttachBy": "vidpid" }
	  ],
	  "general": { "crosvm": "$FAKE", "qmpTimeoutMs": ${2:-5000} }
	}
	EOF
}

# listen_start SOCKET: crosvm's control socket, listening.
listen_start() {
	"$PYTHON" -S "$LISTEN" "$1" "$DIR/packets" </dev/null >/dev/null 2>&1 3>&- &
	echo $! >"$DIR/listen-$(basename "$1").pid"
	wait_until test -e "$1.ready"
}

# script LINE...: what fake-crosvm's next attaches do, one line each (the
# lists of statd's reconciles are answered from the ports file meanwhile).
script() {
	mkdir -p "$FAKE_CROSVM_STATE"
	printf 'attach: %s\n' "$@" >"$FAKE_CROSVM_STATE/script"
}

# ran ARGS: fake-crosvm was run with exactly these arguments (after the binary).
ran() {
	grep -qxF -- "$*" "$FAKE_CROSVM_STATE/log" 2>/dev/null
}

runs() {
	grep -c -- "$1" "$FAKE_CROSVM_STATE/log" 2>/dev/null || true
}

attachment_key() {
	sql "SELECT a.qdev_id FROM attachments a JOIN devices d ON d.id = a.device_id
	     WHERE d.sysname = '$(sysname_of "$1")'"
}

node_of() {
	local line
	line=$(grep -m1 '^N: bus/usb/' "$DATA/${DEV_RECORDING[$1]}.umockdev")
	line=${line#N: }
	echo "$VHOTPLUG_DEV_ROOT/${line%%=*}"
}

# ---- attach -------------------------------------------------------------------

@test "crosvm attach: usb attach with the device node, the port crosvm gave is recorded" {
	listen_start "$CVM1"
	statd_start
	plug mouse
	wait_until has_event mouse attached

	ran usb attach 00:00:00:00 "$(node_of mouse)" "$CVM1"
	run attachment_key mouse
	assert_output 1
	run event_detail mouse attached
	assert_output 'port 1'
	run attached_to mouse
	assert_output cvm1
}

@test "crosvm attach: no_available_port twice, then ok: retried on the timer, nothing detached" {
	listen_start "$CVM1"
	script no_available_port no_available_port "ok 3"
	statd_start
	plug mouse
	wait_until has_event mouse attached

	[ "$(runs 'usb attach')" -eq 3 ]
	[ "$(runs 'usb detach')" -eq 0 ]
	run intent mouse attempts
	assert_output 3
	run attachment_key mouse
	assert_output 3
	[ "$(events mouse attach_failed)" -eq 0 ]
}

@test "crosvm attach: each failure word is recorded as attach_failed with crosvm's word" {
	listen_start "$CVM1"
	statd_start
	local n=0 word
	for word in no_such_device no_such_port failed_to_open_device failed_to_init_host_device; do
		script "$word"
		plug mouse
		n=$((n + 1))
		wait_until has_event mouse attach_failed $n
		run event_detail mouse attach_failed
		assert_output "$word"
	done
	[ "$(runs 'usb attach')" -eq 4 ]
	run attached_to mouse
	assert_output ''
}

@test "crosvm attach: a non-zero exit is attach_failed with crosvm's stderr" {
	listen_start "$CVM1"
	script "exit 2 the control socket said no"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output 'exit status 2: the control socket said no'
}

@test "crosvm attach: output crosvm never prints is attach_failed with the text" {
	listen_start "$CVM1"
	script "print ok sixteen"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output 'ok sixteen'
}

@test "crosvm attach: a crosvm that hangs is killed at the deadline; a QEMU VM is served meanwhile" {
	crosvm_config "$CONFIG" 4000
	listen_start "$CVM1"
	qemu_start vm2
	script hang
	statd_start
	plug mouse
	wait_until test -e "$FAKE_CROSVM_STATE/log"
	plug audio
	wait_until has_event audio attached
	# Served while cvm1's crosvm still hangs: not killed yet.
	refute statd_log_has 'killing it'

	WAIT_S=20 wait_until statd_log_has 'killing it'
	local pid
	pid=$(grep -o 'crosvm (pid [0-9]*)' "$STATD_LOG" | grep -o '[0-9]*' | head -n 1)
	wait_until dead "$pid"
	# Unreachable, so the attach waits and is tried again: the next run answers.
	WAIT_S=20 wait_until has_event mouse attached
	run event_detail mouse waiting
	assert_output --partial 'within 4000 ms (killed)'
	run attachment_key mouse
	assert_output 1
}

@test "crosvm attach: SIGTERM while crosvm hangs: statd exits, the child is killed, the intent stays claimed" {
	listen_start "$CVM1"
	script hang
	statd_start
	plug mouse
	wait_until statd_log_has 'crosvm usb attach (pid'
	local pid
	pid=$(grep -o 'crosvm usb attach (pid [0-9]*)' "$STATD_LOG" | grep -o '[0-9]*' | head -n 1)
	alive "$pid"
	statd_stop
	[ "$STATD_STATUS" -eq 0 ]
	wait_until dead "$pid"
	# crosvm was asked: the next statd redoes it from the claim.
	run intent mouse state
	assert_output claimed
}

# ---- detach -------------------------------------------------------------------

@test "crosvm detach: by the recorded port; the other device stays" {
	listen_start "$CVM1"
	statd_start
	plug mouse
	wait_until has_event mouse attached
	plug webcam
	wait_until has_event webcam attached
	run attachment_key webcam
	assert_output 2

	local lists
	lists=$(runs 'usb list')	# statd's start reconciled cvm1
	unplug mouse
	wait_until has_event mouse detached
	ran usb detach 1 "$CVM1"
	[ "$(runs 'usb list')" -eq "$lists" ]
	run cat "$FAKE_CROSVM_STATE/ports"
	assert_output --regexp '^2 04f2 '
	run attached_to webcam
	assert_output cvm1
}

@test "crosvm detach: after a statd restart, by the port kept in the database" {
	listen_start "$CVM1"
	statd_start
	plug webcam
	plug mouse
	wait_until has_event mouse attached
	statd_stop
	statd_start
	wait_until statd_log_has 'reconciled cvm1: 0 to attach, 0 to detach, 2 kept'
	local lists
	lists=$(runs 'usb list')
	unplug mouse
	wait_until has_event mouse detached
	ran usb detach 2 "$CVM1"
	[ "$(runs 'usb list')" -eq "$lists" ]
}

@test "crosvm: statd died before it recorded the port: the reconcile finds it by vid:pid, not attached twice" {
	listen_start "$CVM1"
	statd_start
	plug webcam
	plug mouse
	wait_until has_event mouse attached
	statd_stop
	# As if statd had died before it recorded the port crosvm gave.
	sql "UPDATE attachments SET qdev_id = 'vhp-usb-046d-c077.1-3', state = 'attaching'
	     WHERE qdev_id = '2'"
	statd_start
	# The reconcile at start finds it by vid:pid among the ports no row has.
	wait_until statd_log_has 'reconciled cvm1: 0 to attach, 0 to detach, 1 kept, 1 forgotten, 1 adopted'
	ran usb list "$CVM1"
	assert_equal "$(attachment_key mouse)" 2
	unplug mouse
	wait_until has_event mouse detached
	ran usb detach 2 "$CVM1"
	[ "$(runs 'usb attach')" -eq 2 ]
	run cat "$FAKE_CROSVM_STATE/ports"
	assert_output --regexp '^1 04f2 '
}

@test "crosvm: statd killed between crosvm's ok and its record: the redo lists first, not attached twice" {
	listen_start "$CVM1"
	statd_start
	plug mouse
	wait_until has_event mouse attached
	statd_stop
	# What a statd leaves that was killed after crosvm's ok: the intent
	# claimed, the row written before crosvm ran, the port not recorded.
	sql "UPDATE intents SET state = 'claimed', claimed_by = 'dead:1' WHERE action = 'attach';
	     UPDATE attachments SET qdev_id = 'vhp-usb-046d-c077.1-3', state = 'attaching'"
	statd_start
	wait_until sql_is done "SELECT state FROM intents WHERE action = 'attach'"
	[ "$(runs 'usb attach')" -eq 1 ]
	run attachment_key mouse
	assert_output 1
	run event_detail mouse attached
	assert_output "already attached (port 1)"
	run cat "$FAKE_CROSVM_STATE/ports"
	assert_output --regexp '^1 046d c077 '
	assert_equal "$(wc -l <"$FAKE_CROSVM_STATE/ports")" 1
}

@test "crosvm: an attach whose crosvm was killed at the deadline after it attached is not attached twice" {
	crosvm_config "$CONFIG" 3000
	listen_start "$CVM1"
	# crosvm attaches (port 1), then hangs until killed: statd never hears its ok.
	script attach-then-hang
	statd_start
	plug mouse
	WAIT_S=20 wait_until statd_log_has 'killing it'
	WAIT_S=20 wait_until has_event mouse attached
	[ "$(runs 'usb attach')" -eq 1 ]
	run attachment_key mouse
	assert_output 1
	assert_equal "$(wc -l <"$FAKE_CROSVM_STATE/ports")" 1
}

@test "crosvm detach: a port crosvm already freed (device gone) is a detach, not a failure" {
	listen_start "$CVM1"
	statd_start
	plug mouse
	wait_until has_event mouse attached
	rm "$FAKE_CROSVM_STATE/ports"
	unplug mouse
	wait_until has_event mouse detached
	run event_detail mouse detached
	assert_output --partial no_such_port
}

# ---- what crosvm cannot take ---------------------------------------------------------

@test "crosvm: a PCI device is attach_failed, not supported by crosvm backend" {
	listen_start "$CVM1"
	statd_start
	with_devices pci-nvme -- env ACTION=add DEVPATH=/devices/pci0000:00/0000:00:06.0/0000:01:00.0 \
		SUBSYSTEM=pci SEQNUM=1 "$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
	wait_until sql_ge 1 "SELECT count(*) FROM device_history WHERE event = 'attach_failed'"
	run sql "SELECT detail FROM device_history WHERE event = 'attach_failed'"
	assert_output 'pci devices not supported by crosvm backend'
	[ "$(sql "SELECT count(*) FROM device_history WHERE event = 'waiting'")" -eq 0 ]
	[ "$(runs 'usb attach')" -eq 0 ]
}

@test "crosvm: an evdev device is attach_failed, not supported by crosvm backend" {
	listen_start "$CVM1"
	statd_start
	with_devices evdev-keyboard -- env ACTION=add DEVPATH=/devices/platform/i8042/serio0/input/input3/event3 \
		SUBSYSTEM=input SEQNUM=1 "$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
	wait_until sql_ge 1 "SELECT count(*) FROM device_history WHERE event = 'attach_failed'"
	run sql "SELECT detail FROM device_history WHERE event = 'attach_failed'"
	assert_output 'evdev devices not supported by crosvm backend'
	[ "$(runs 'usb attach')" -eq 0 ]
}

# ---- the socket -----------------------------------------------------------------

@test "crosvm: a VM socket that is a symlink to another VM's socket is refused before crosvm runs" {
	listen_start "$DIR/other.sock"
	ln -s "$DIR/other.sock" "$CVM1"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output "refused to talk to cvm1: socket $CVM1 is a symlink"
	[ ! -e "$FAKE_CROSVM_STATE/log" ]
}

@test "crosvm: a VM socket whose directory is a symlink to another VM's is refused before crosvm runs" {
	mkdir "$DIR/cvm2"
	listen_start "$DIR/cvm2/control.sock"
	ln -s "$DIR/cvm2" "$DIR/cvm1"
	CVM1=$DIR/cvm1/control.sock crosvm_config "$CONFIG"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output "refused to talk to cvm1: $DIR/cvm1 in the socket's path is a symlink"
	run test -e "$FAKE_CROSVM_STATE/log"
	assert_failure
}

@test "crosvm: a socket owned by another user than the VM's user is refused; the VM user's own works" {
	[ "$(id -u)" -eq 0 ] || skip "needs root (chown)"
	sed -i 's|"name": "cvm1", "type": "crosvm"|&, "user": "4243"|' "$CONFIG"
	listen_start "$CVM1"
	chown 4242 "$CVM1"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output "refused to talk to cvm1: socket is owned by uid 4242, not by root or the VM's user"
	[ ! -e "$FAKE_CROSVM_STATE/log" ]

	chown 4243 "$CVM1"
	plug mouse
	wait_until has_event mouse attached
	ran usb attach 00:00:00:00 "$(node_of mouse)" "$CVM1"
}

@test "crosvm: no socket yet: the attach waits, and is done once the VM listens" {
	statd_start
	plug mouse
	wait_until has_event mouse waiting
	[ ! -e "$FAKE_CROSVM_STATE/log" ]
	listen_start "$CVM1"
	WAIT_S=40 wait_until has_event mouse attached
}
