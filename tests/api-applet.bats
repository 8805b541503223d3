#!/usr/bin/env bats
# ghaf's USB applet, replayed against a real statd, real QEMUs and umockdev
# devices: one connection listens to notifications while another lists,
# attaches and detaches, as the applet in the GUI VM does. Every expected
# text is the original's (vhotplug/apiserver.py's replies and notify_*,
# device.py's RuntimeError texts, usb.py's friendly_name()), not our output.

bats_require_minimum_version 1.5.0

load common
load qemu

API_CLIENT=$top_srcdir/tests/api-client

# usb.py friendly_name(): "VID:PID (VENDOR PRODUCT)", udev's database names.
MOUSE_NAME='046d:c077 (Logitech, Inc. Mouse)'
MOUSE_NODE=/dev/bus/usb/001/004
WEBCAM_NODE=/dev/bus/usb/001/007

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	VM1=$DIR/vm1.sock
	VM2=$DIR/vm2.sock
	SOCK=$DIR/api.sock
	NOTES=$DIR/notes
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [
	    { "allowedVms": [ "vm1", "vm2" ], "allow": [ { "vendorId": "046d", "productId": "c077" } ] },
	    { "targetVm": "vm1", "tag": "cam", "allow": [ { "vendorId": "04f2" } ] }
	  ],
	  "vms": [
	    { "name": "vm1", "type": "qemu", "socket": "$VM1", "usbAttachBy": "vidpid" },
	    { "name": "vm2", "type": "qemu", "socket": "$VM2", "usbAttachBy": "vidpid" }
	  ],
	  "general": { "api": { "transports": ["unix"], "unixSocket": "$SOCK" } }
	}
	EOF
	qemu_start vm1
	qemu_start vm2
	statd_start
	listen
}

teardown() {
	qemu_teardown
}

# api LINE...: one connection, its replies (one per line sent).
api() {
	"$PYTHON" -S "$API_CLIENT" -u "$SOCK" --timeout 30 "$@"
}

# listen: the applet's notification connection, in the background, all it
# receives in $NOTES; returns once enable_notifications was answered.
listen() {
	"$PYTHON" -S "$API_CLIENT" -u "$SOCK" --replies 1000 --timeout 300 \
		'{"action": "enable_notifications"}' >"$NOTES" 2>&1 3>&- &
	echo $! >"$DIR/listener.pid"
	wait_until grep -qx '{"result": "ok"}' "$NOTES"
}

# events: the events received so far, "EVENT[ VM]" one a line.
events_seen() {
	"$PYTHON" -S -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "event" in d:
        print(d["event"] + (" " + d["vm"] if d.get("vm") else ""))' "$NOTES"
}

# events_are TEXT: exactly these events so far (for wait_until).
events_are() {
	[ "$(events_seen)" = "$1" ]
}

# note N: the Nth notification line (1-based), as received.
note() {
	grep '"event"' "$NOTES" | sed -n "${1}p"
}

# mouse_vm: the "vm" of the mouse in a usb_list reply, "None" when null.
mouse_vm() {
	api '{"action": "usb_list"}' | "$PYTHON" -S -c '
import json, sys
d = json.load(sys.stdin)
print([x["vm"] for x in d["usb_devices"] if x["device_node"] == sys.argv[1]][0])' "$MOUSE_NODE"
}

@test "applet: an allowedVms device plugged gives usb_connected then usb_select_vm, and is not attached" {
	run api '{"action": "usb_list"}'
	assert_success
	assert_output --regexp '^\{"result": "ok", "usb_devices": \['

	plug mouse
	wait_until events_are $'usb_connected\nusb_select_vm'
	# notify_usb_connected / notify_usb_select_vm: the device's to_dict() in full.
	assert_equal "$(note 1 | cut -c1-81)" "{\"event\": \"usb_connected\", \"usb_device\": {\"device_node\": \"$MOUSE_NODE\", "
	run --separate-stderr "$PYTHON" -S -c '
import json, sys
d = json.loads(sys.argv[1])
print(list(d), list(d["usb_device"]), d["allowed_vms"])' "$(note 2)"
	assert_output "['event', 'usb_device', 'allowed_vms'] ['device_node', 'vid', 'pid', 'vendor_name', 'product_name', 'interfaces', 'device_class', 'device_subclass', 'device_protocol', 'busnum', 'devnum', 'portnum', 'serial', 'sys_name'] ['vm1', 'vm2']"
	run not_in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_success
	run not_in_vm "$VM2" "${DEV_QDEV[mouse]}"
	assert_success
}

not_in_vm() {
	if in_vm "$1" "$2"; then return 1; fi
}

@test "applet: usb_attach by device_node answers ok once the device is in the VM, and usb_attached follows" {
	plug mouse
	wait_until events_are $'usb_connected\nusb_select_vm'
	run api "{\"action\": \"usb_attach\", \"device_node\": \"$MOUSE_NODE\", \"vm\": \"vm1\"}"
	assert_success
	assert_output '{"result": "ok"}'
	in_vm "$VM1" "${DEV_QDEV[mouse]}"
	wait_until events_are $'usb_connected\nusb_select_vm\nusb_attached vm1'
	assert_equal "$(mouse_vm)" vm1
}

@test "applet: usb_attach to another VM gives usb_detached then usb_attached, and is remembered" {
	plug mouse
	run api "{\"action\": \"usb_attach\", \"device_node\": \"$MOUSE_NODE\", \"vm\": \"vm1\"}"
	assert_output '{"result": "ok"}'
	run api "{\"action\": \"usb_attach\", \"device_node\": \"$MOUSE_NODE\", \"vm\": \"vm2\"}"
	assert_success
	assert_output '{"result": "ok"}'
	in_vm "$VM2" "${DEV_QDEV[mouse]}"
	run not_in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_success
	wait_until events_are $'usb_connected\nusb_select_vm\nusb_attached vm1\nusb_detached vm1\nusb_attached vm2'
	# notify_usb_detached sends only the device node.
	assert_equal "$(note 4)" "{\"event\": \"usb_detached\", \"usb_device\": {\"device_node\": \"$MOUSE_NODE\"}, \"vm\": \"vm1\"}"
	assert_equal "$(sql "SELECT vm FROM choices")" vm2
}

@test "applet: a VM outside allowedVms is refused in the original's words" {
	plug mouse
	run api "{\"action\": \"usb_attach\", \"device_node\": \"$MOUSE_NODE\", \"vm\": \"vm3\"}"
	assert_output '{"result": "failed", "error": "Selected VM vm3 is not allowed"}'
}

@test "applet: another VM than a targetVm is refused in the original's words" {
	plug webcam
	run api "{\"action\": \"usb_attach\", \"device_node\": \"$WEBCAM_NODE\", \"vm\": \"vm2\"}"
	assert_output '{"result": "failed", "error": "Selected VM vm2 but target VM is set to vm1"}'
}

@test "applet: a device node not in the system is refused in the original's words" {
	run api '{"action": "usb_attach", "device_node": "/dev/bus/usb/009/099", "vm": "vm1"}'
	assert_output '{"result": "failed", "error": "USB device /dev/bus/usb/009/099 not found in the system"}'
}

@test "applet: usb_detach keeps the device out: vm null, listed as disconnected, a second detach refused, and so after a statd restart" {
	plug mouse
	run api "{\"action\": \"usb_attach\", \"device_node\": \"$MOUSE_NODE\", \"vm\": \"vm1\"}"
	assert_output '{"result": "ok"}'
	run api "{\"action\": \"usb_detach\", \"device_node\": \"$MOUSE_NODE\"}"
	assert_success
	assert_output '{"result": "ok"}'
	run not_in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_success
	assert_equal "$(mouse_vm)" None
	run api '{"action": "usb_list", "disconnected": true}'
	assert_output --partial "\"device_node\": \"$MOUSE_NODE\""
	# device.py get_usb_device_list(): false leaves the disconnected out.
	run api '{"action": "usb_list", "disconnected": false}'
	assert_success
	refute_output --partial "\"device_node\": \"$MOUSE_NODE\""
	run api "{\"action\": \"usb_detach\", \"device_node\": \"$MOUSE_NODE\"}"
	assert_output "{\"result\": \"failed\", \"error\": \"Device $MOUSE_NAME is not attached to any VM\"}"

	statd_stop
	statd_start
	wait_until sql_ge 2 "SELECT count(*) FROM history WHERE event = 'reconciled'"
	run not_in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_success
	assert_equal "$(mouse_vm)" None
}

@test "applet: unplugging an attached device gives usb_detached then usb_disconnected" {
	plug webcam
	wait_until events_are $'usb_connected\nusb_attached vm1'
	unplug webcam
	wait_until events_are $'usb_connected\nusb_attached vm1\nusb_detached vm1\nusb_disconnected'
	assert_equal "$(note 4)" "{\"event\": \"usb_disconnected\", \"usb_device\": {\"device_node\": \"$WEBCAM_NODE\"}}"
}

@test "a subscriber that never reads 10,000 notifications is dropped at the output bound, within a memory bound; another client's attach is answered meanwhile" {
	plug mouse
	statd_stop
	small_quarantine
	statd_start
	# A client that asks for notifications and never reads one.
	"$PYTHON" -S -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b"{\"action\": \"enable_notifications\"}\n")
time.sleep(300)' "$SOCK" 3>&- &
	echo $! >"$DIR/deaf.pid"
	wait_until statd_log_has "enable_notifications from api unix uid=$(id -u) pid=$(cat "$DIR/deaf.pid")"
	local before after
	before=$(rss_kb)
	# 10,000 plugs of the mouse in history, each a usb_connected with the whole device object.
	sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
	     INSERT INTO history (device_id, device, event)
	     SELECT d.id, d.label, 'plugged' FROM n, devices d WHERE d.sysname = '1-3'"
	poke
	run api "{\"action\": \"usb_attach\", \"device_node\": \"$MOUSE_NODE\", \"vm\": \"vm1\"}"
	assert_output '{"result": "ok"}'
	in_vm "$VM1" "${DEV_QDEV[mouse]}"
	wait_until statd_log_has 'does not read what it is sent (over 1024 KiB waiting): dropped'
	after=$(rss_kb)
	[ $((after - before)) -lt 8192 ] || fail "statd grew from $before to $after kB"
}
