#!/usr/bin/env bats
# lib/api's device lists and notifications on what a real statd, real QEMUs
# and the helper record (tests/api-peek reads them as statd/api would; the
# sockets are tested apart). Each expected line is what the original's
# apiserver.py sends for the same devices: its notify_* shapes, its
# USBInfo.to_dict() keys in their order (vhotplug/usb.py).

bats_require_minimum_version 1.5.0

load common
load qemu

PEEK=$top_builddir/tests/api-peek

# The webcam and the mouse as the original's USBInfo.to_dict() gives them.
WEBCAM='{"device_node":"/dev/bus/usb/001/007","vid":"04f2","pid":"b604","vendor_name":"Chicony Electronics Co., Ltd","product_name":"Integrated Camera (1280x720@30)","interfaces":":0e0100:0e0200:","device_class":239,"device_subclass":2,"device_protocol":1,"busnum":1,"devnum":7,"portnum":6,"serial":"0001","sys_name":"1-6"}'
MOUSE='{"device_node":"/dev/bus/usb/001/004","vid":"046d","pid":"c077","vendor_name":"Logitech, Inc.","product_name":"Mouse","interfaces":":030102:","device_class":0,"device_subclass":0,"device_protocol":0,"busnum":1,"devnum":4,"portnum":3,"serial":null,"sys_name":"1-3"}'

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	VM1=$DIR/vm1.sock
	VM2=$DIR/vm2.sock
	# The mouse is the user's to place; the webcam goes to vm1.
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [
	    { "allowedVms": [ "vm1", "vm2" ], "allow": [ { "vendorId": "046d", "productId": "c077" } ] },
	    { "targetVm": "vm1", "tag": "cam", "allow": [ { "vendorId": "04f2" } ] }
	  ],
	  "vms": [
	    { "name": "vm1", "type": "qemu", "socket": "$VM1", "usbAttachBy": "vidpid" },
	    { "name": "vm2", "type": "qemu", "socket": "$VM2", "usbAttachBy": "vidpid" }
	  ]
	}
	EOF
}

teardown() {
	echo "---- notes"
	cat "$DIR/notes" 2>/dev/null
	qemu_teardown
}

ctl() {
	"${STATD_PREFIX[@]}" "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" "$@"
}

peek() {
	"${STATD_PREFIX[@]}" "$PEEK" "$CONFIG" "$DB" "$@"
}

# notes_until N: from now on, the notes into $DIR/notes until N are sent (60 s at most).
notes_until() {
	local after
	after=$(peek start)
	peek notes "$after" "$1" 60 >"$DIR/notes" 2>"$DIR/peek.log" 3>&- &
	NOTES_PID=$!
	echo "$NOTES_PID" >"$DIR/peek.pid"
}

# notes_done: wait for the watcher; it fails unless the watcher saw its N notes.
notes_done() {
	local status=0
	wait "$NOTES_PID" || status=$?
	rm -f "$DIR/peek.pid"
	return "$status"
}

@test "plug, then unplug: usb_connected, usb_attached, then usb_detached before usb_disconnected" {
	qemu_start vm1
	statd_start
	notes_until 4
	plug webcam
	wait_until in_vm "$VM1" "${DEV_QDEV[webcam]}"
	unplug webcam
	notes_done
	run cat "$DIR/notes"
	assert_output - <<-EOF
	{"event":"usb_connected","usb_device":$WEBCAM}
	{"event":"usb_attached","usb_device":$WEBCAM,"vm":"vm1"}
	{"event":"usb_detached","usb_device":{"device_node":"/dev/bus/usb/001/007"},"vm":"vm1"}
	{"event":"usb_disconnected","usb_device":{"device_node":"/dev/bus/usb/001/007"}}
	EOF
}

@test "an allowedVms device: usb_select_vm and no attach; a choice, then a move" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	notes_until 5
	plug mouse
	wait_until intent_is mouse state held
	run ctl select 1-3 vm1
	assert_success
	run ctl attach 046d:c077 vm2
	assert_success
	notes_done
	run cat "$DIR/notes"
	assert_output - <<-EOF
	{"event":"usb_connected","usb_device":$MOUSE}
	{"event":"usb_select_vm","usb_device":$MOUSE,"allowed_vms":["vm1","vm2"]}
	{"event":"usb_attached","usb_device":$MOUSE,"vm":"vm1"}
	{"event":"usb_detached","usb_device":{"device_node":"/dev/bus/usb/001/004"},"vm":"vm1"}
	{"event":"usb_attached","usb_device":$MOUSE,"vm":"vm2"}
	EOF
}

@test "usb_list: the VM a device is in; after a user's detach, vm null and only disconnected: true finds it" {
	qemu_start vm1
	statd_start
	plug webcam
	wait_until in_vm "$VM1" "${DEV_QDEV[webcam]}"
	run peek list usb '{"action":"usb_list"}'
	assert_success
	assert_output "{\"result\":\"ok\",\"usb_devices\":[${MOUSE%\}},\"allowed_vms\":[\"vm1\",\"vm2\"],\"vm\":null},${WEBCAM%\}},\"allowed_vms\":[\"vm1\"],\"vm\":\"vm1\"}]}"
	run ctl detach 1-6
	assert_success
	run peek list usb '{"action":"usb_list","disconnected":true}'
	assert_output "{\"result\":\"ok\",\"usb_devices\":[${WEBCAM%\}},\"allowed_vms\":[\"vm1\"],\"vm\":null}]}"
	run peek list usb '{"action":"usb_list","disconnected":false,"tag":"cam"}'
	assert_output '{"result":"ok","usb_devices":[]}'
}
