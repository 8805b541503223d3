#!/usr/bin/env bats
# Operations people ask for (lib/ops, vhotplugctl attach, detach, select,
# suspend, resume): a chosen VM remembered across replug, statd and QEMU
# restarts; the kill switch by tag; moving a device; suspend and resume.
# Real QEMUs; statd and vhotplugctl run under umockdev with the devices
# "plugged in" (qemu.bash), the helper's events say when each was plugged.

bats_require_minimum_version 1.5.0

load common
load qemu

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	VM1=$DIR/vm1.sock
	VM2=$DIR/vm2.sock
	# A second camera, never seen before the tag was switched off.
	DEV_RECORDING[cam2]=usb-audio-video
	DEV_PATH[cam2]=/devices/pci0000:00/0000:00:14.0/usb1/1-7
	DEV_QDEV[cam2]=vhp-usb-046d-0825-8F39E2D0
	merge_recordings "$DIR/plugged.umockdev" usb-mouse usb-audio usb-webcam usb-audio-video
	# The mouse is the user's to place; the cameras are tagged; audio stays through a suspend.
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [
	    { "allowedVms": [ "vm1", "vm2" ], "allow": [ { "vendorId": "046d", "productId": "c077" } ] },
	    { "targetVm": "vm1", "tag": "cam",
	      "allow": [ { "vendorId": "04f2" }, { "vendorId": "046d", "productId": "0825" } ] },
	    { "targetVm": "vm2", "skipOnSuspend": true, "allow": [ { "vendorId": "0d8c" } ] }
	  ],
	  "vms": [
	    { "name": "vm1", "type": "qemu", "socket": "$VM1", "usbAttachBy": "vidpid" },
	    { "name": "vm2", "type": "qemu", "socket": "$VM2", "usbAttachBy": "vidpid" }
	  ]
	}
	EOF
}

teardown() {
	qemu_teardown
}

# ctl ARGS...: vhotplugctl as a user runs it, seeing the plugged devices.
ctl() {
	"${STATD_PREFIX[@]}" "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" "$@"
}

qemu_crash() {
	local pid
	pid=$(cat "$DIR/qemu-$1.pid")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	rm -f "$DIR/qemu-$1.pid"
}

json_ok() {
	"$PYTHON" -c 'import json,sys; json.load(sys.stdin)'
}

# json_get EXPR: EXPR of the JSON document on stdin (d), printed.
json_get() {
	"$PYTHON" -c "import json,sys; d = json.load(sys.stdin); print($1)"
}

not_in_vm() {
	if in_vm "$1" "$2"; then return 1; fi
}

@test "select attaches an allowedVms device, and says who asked in history" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug mouse
	wait_until intent_is mouse state held

	run ctl select 1-3 vm2
	assert_success
	assert_output --regexp '^select usb 046d:c077 .* at 1-3 to vm2: done'
	in_vm "$VM2" "${DEV_QDEV[mouse]}"
	run not_in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_success
	assert_equal "$(sql "SELECT state FROM intents WHERE action = 'select'")" done
	assert_equal "$(sql "SELECT requested_by FROM intents WHERE action = 'attach'")" "ctl uid=$(id -u)"
	assert_equal "$(event_detail mouse requested)" "attach to vm2, asked by ctl uid=$(id -u)"
	assert_equal "$(sql "SELECT vm FROM choices")" vm2
}

@test "the chosen VM is remembered: replug, statd restart, QEMU restart" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug mouse
	run ctl select 1-3 vm2
	assert_success

	unplug mouse
	wait_until has_event mouse detached
	plug mouse
	wait_until has_event mouse attached 2
	assert_equal "$(attached_to mouse)" vm2
	# Nobody asked this time: the plug went by the choice.
	assert_equal "$(intent mouse "action || ' ' || vm || ' ' || coalesce(requested_by, '-')")" 'attach vm2 -'
	assert_equal "$(event_detail mouse queued)" \
		'usbPassthrough[0].allow[0] (); the VM a user chose'

	statd_stop
	statd_start
	wait_until sql_ge 2 "SELECT count(*) FROM history WHERE event = 'reconciled'"
	in_vm "$VM2" "${DEV_QDEV[mouse]}"

	qemu_crash vm2
	qemu_start vm2
	wait_until in_vm "$VM2" "${DEV_QDEV[mouse]}"
	run not_in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_success
}

@test "attach DEVICE VM moves it: out of the other VM first" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug mouse
	run ctl select 1-3 vm1
	assert_success
	run ctl attach 046d:c077 vm2
	assert_success
	assert_output --regexp '^attach .* at 1-3 from vm1 to vm2: done'
	in_vm "$VM2" "${DEV_QDEV[mouse]}"
	run not_in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_success
	run sql "SELECT event || ' ' || vm FROM device_history WHERE event IN ('attached', 'detached')"
	assert_output $'attached vm1\ndetached vm1\nattached vm2'
}

@test "detach --tag cam: out across replug, statd and QEMU restarts, a new camera too; attach --tag brings both back" {
	qemu_start vm1
	statd_start
	plug webcam
	wait_until in_vm "$VM1" "${DEV_QDEV[webcam]}"

	run ctl detach --tag cam
	assert_success
	assert_output --regexp '^detach usb 04f2:b604 .* from vm1: done'
	run not_in_vm "$VM1" "${DEV_QDEV[webcam]}"
	assert_success

	unplug webcam
	plug webcam
	assert_equal "$(intent webcam action)" ignore
	assert_equal "$(event_detail webcam kept_out)" 'its tag cam was detached by a user'
	statd_stop
	statd_start
	qemu_crash vm1
	qemu_start vm1
	wait_until sql_ge 2 "SELECT count(*) FROM history WHERE event = 'reconciled'"
	plug cam2
	assert_equal "$(intent cam2 action)" ignore
	run not_in_vm "$VM1" "${DEV_QDEV[webcam]}"
	assert_success
	run not_in_vm "$VM1" "${DEV_QDEV[cam2]}"
	assert_success

	run ctl attach --tag cam
	assert_success
	assert_line --regexp '^attach usb 04f2:b604 .* to vm1: done'
	assert_line --regexp '^attach usb 046d:0825 .* to vm1: done'
	in_vm "$VM1" "${DEV_QDEV[webcam]}"
	in_vm "$VM1" "${DEV_QDEV[cam2]}"
	assert_equal "$(sql "SELECT count(*) FROM user_marks")" 0
}

@test "detach DEVICE keeps it out at its next plug; attach DEVICE lets it in again" {
	qemu_start vm1
	statd_start
	plug webcam
	wait_until in_vm "$VM1" "${DEV_QDEV[webcam]}"
	run ctl detach 1-6
	assert_success
	run not_in_vm "$VM1" "${DEV_QDEV[webcam]}"
	assert_success
	unplug webcam
	plug webcam
	assert_equal "$(event_detail webcam kept_out)" 'detached by a user'
	run ctl attach 1-6
	assert_success
	in_vm "$VM1" "${DEV_QDEV[webcam]}"
}

@test "suspend and resume: a skipOnSuspend rule set stays; the others leave and come back" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug webcam
	plug audio
	wait_until in_vm "$VM1" "${DEV_QDEV[webcam]}"
	wait_until in_vm "$VM2" "${DEV_QDEV[audio]}"

	run ctl suspend
	assert_success
	assert_output --regexp '^suspend usb 04f2:b604 .* from vm1: done$'
	run not_in_vm "$VM1" "${DEV_QDEV[webcam]}"
	assert_success
	in_vm "$VM2" "${DEV_QDEV[audio]}"

	run ctl resume --json
	assert_success
	assert_equal "$(echo "$output" | json_get "[(x['label'][:13], x['vm'], x['state']) for x in d['devices']]")" \
		"[('usb 04f2:b604', 'vm1', 'done')]"
	in_vm "$VM1" "${DEV_QDEV[webcam]}"
	assert_equal "$(sql "SELECT count(*) FROM suspended")" 0
}

@test "resume names a device it could not put back, and fails" {
	qemu_start vm1
	statd_start
	plug webcam
	wait_until in_vm "$VM1" "${DEV_QDEV[webcam]}"
	run ctl suspend
	assert_success
	unplug webcam
	run ctl resume
	assert_failure 1
	assert_output --partial 'resume usb:04f2:b604:0001 to vm1: refused: not plugged in any more'
}

@test "an unknown device or VM: one line on stderr, exit 1, nothing queued" {
	plug mouse
	local before
	before=$(sql "SELECT count(*) FROM intents")
	run --separate-stderr ctl attach 9-9 vm1
	assert_failure 1
	assert_equal "$stderr" 'vhotplugctl: no device named "9-9" (see vhotplugctl list)'
	run --separate-stderr ctl select 1-3 vm9
	assert_failure 1
	assert_equal "$stderr" 'vhotplugctl: no VM named "vm9"'
	assert_equal "$(sql "SELECT count(*) FROM intents")" "$before"
}

@test "an ambiguous name lists the candidates and changes nothing" {
	with_devices usb-port-a -- env ACTION=add SUBSYSTEM=usb DEVTYPE=usb_device \
		DEVPATH=/devices/pci0000:00/0000:00:1c.0/0000:3b:00.0/usb11/11-22/11-22.33/11-22.33.44 \
		"$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
	with_devices usb-port-b -- env ACTION=add SUBSYSTEM=usb DEVTYPE=usb_device \
		DEVPATH=/devices/pci0000:00/0000:00:1c.0/0000:3b:00.0/usb11/11-33/11-33.22/11-33.22.44 \
		"$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
	local before
	before=$(sql "SELECT count(*) FROM intents; SELECT count(*) FROM history; SELECT count(*) FROM user_marks")
	run --separate-stderr ctl detach 0781:5567
	assert_failure 1
	[[ ${stderr_lines[0]} == 'vhotplugctl: "0781:5567" names 2 devices: nothing done; name one of them by its number' ]]
	[[ $stderr == *'#1 usb 0781:5567'* ]]
	[[ $stderr == *'#2 usb 0781:5567'* ]]
	run --separate-stderr ctl detach --json 0781:5567
	assert_failure 1
	assert_equal "$(echo "$output" | json_get "[c['id'] for c in d['candidates']]")" '[1, 2]'
	assert_equal "$(sql "SELECT count(*) FROM intents; SELECT count(*) FROM history; SELECT count(*) FROM user_marks")" "$before"
}

@test "a VM not running: said so, exit 75, the attach stays queued" {
	qemu_start vm1
	statd_start
	plug mouse
	run --separate-stderr ctl select --timeout 1 --json 1-3 vm2
	assert_failure 75
	assert_equal "$stderr" 'vhotplugctl: vm2 is not running: the select of usb 046d:c077 Logitech, Inc. Mouse at 1-3 waits for it'
	echo "$output" | json_ok
	assert_equal "$(echo "$output" | json_get "d['devices'][0]['state'], d['devices'][0]['vmRunning']")" "waiting False"
	assert_equal "$(intent mouse "action || ' ' || vm || ' ' || state")" 'attach vm2 pending'
	qemu_start vm2
	wait_until attached_to_is mouse vm2
}

@test "--json of attach and detach is one document" {
	qemu_start vm1
	statd_start
	plug webcam
	wait_until in_vm "$VM1" "${DEV_QDEV[webcam]}"
	run ctl detach --json 1-6
	assert_success
	echo "$output" | json_ok
	assert_equal "$(echo "$output" | json_get "d['operation'], d['ok'], d['devices'][0]['vm'], d['devices'][0]['state']")" \
		"detach True vm1 done"
	run ctl attach --json 04f2:b604
	assert_success
	assert_equal "$(echo "$output" | json_get "d['devices'][0]['ident'], d['devices'][0]['state'], d['devices'][0]['result']")" \
		"usb:04f2:b604:0001 done ${DEV_QDEV[webcam]}"
}

@test "a choice the config no longer allows is ignored, with one warning in history" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug mouse
	run ctl select 1-3 vm2
	assert_success
	sed -i 's/"allowedVms": \[ "vm1", "vm2" \]/"allowedVms": [ "vm1" ]/' "$CONFIG"
	kill -HUP "$STATD_PID"
	wait_until statd_log_has 'reloaded'
	unplug mouse
	wait_until has_event mouse detached
	plug mouse
	assert_equal "$(intent mouse "action || ' ' || state")" 'select held'
	assert_equal "$(event_detail mouse choice_ignored)" \
		'the chosen VM vm2 is not allowed by usbPassthrough[0] any more: the rules decide'
	unplug mouse
	plug mouse
	assert_equal "$(events mouse choice_ignored)" 1
	run ctl select 1-3 vm2
	assert_failure 1
	assert_output --partial 'may go to vm1 only (usbPassthrough[0]), not to vm2'
}

@test "a move's attach waits until the detach from the other VM is over" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug mouse
	run ctl select 1-3 vm1
	assert_success
	# vm1 stops answering: the detach cannot finish.
	kill -STOP "$(cat "$DIR/qemu-vm1.pid")"
	run ctl attach --no-wait 1-3 vm2
	assert_success
	WAIT_S=30 wait_until has_event mouse waiting
	# vm2's queue is in order: the audio, plugged after the move, is in vm2 only
	# once everything older for vm2 was done or held back.
	plug audio
	wait_until in_vm "$VM2" "${DEV_QDEV[audio]}"
	run not_in_vm "$VM2" "${DEV_QDEV[mouse]}"
	assert_success
	assert_equal "$(intent mouse "action || ' ' || vm || ' ' || state")" 'attach vm2 pending'
	kill -CONT "$(cat "$DIR/qemu-vm1.pid")"
	WAIT_S=30 wait_until attached_to_is mouse vm2
	in_vm "$VM2" "${DEV_QDEV[mouse]}"
	run not_in_vm "$VM1" "${DEV_QDEV[mouse]}"
	assert_success
}

@test "list shows a remembered choice and a tag's kill switch among the marks" {
	qemu_start vm1
	qemu_start vm2
	statd_start
	plug mouse
	wait_until intent_is mouse state held
	run ctl select 1-3 vm2
	assert_success
	plug webcam
	wait_until in_vm "$VM1" "${DEV_QDEV[webcam]}"
	run ctl detach --tag cam
	assert_success

	run --separate-stderr ctl list --json
	assert_success
	marks() {
		json_get "[','.join(x['marks']) for x in d['devices'] if x['identity'].startswith('$1')][0]" <<<"$output"
	}
	assert_equal "$(marks usb:046d:c077)" 'chosen vm2'
	assert_equal "$(marks usb:04f2:b604)" 'detached-by-tag cam'
	run ctl list
	assert_success
	assert_line '    mark chosen vm2'
	assert_line '    mark detached-by-tag cam'
}
