#!/usr/bin/env bats
# usbAuthorization: statd and the helper in umockdev testbeds whose sysfs
# files they write (tests/usbauth-testbed.sh adds usbcore's parameter), a
# real QEMU for the attaches. $TB is statd's testbed; the helper runs in its
# own, and plug_tb leaves what it wrote in $DIR/NAME.authorized.

load common
load qemu

USB1=devices/pci0000:00/0000:00:14.0/usb1
USBCORE=module/usbcore/parameters/authorized_default

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	VM1=$DIR/vm1.sock
	# umockdev preloads itself: ASan must not insist on being first (make check sets this).
	export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}
	DEV_RECORDING[keyboard]=usb-keyboard
	DEV_PATH[keyboard]=/devices/pci0000:00/0000:00:14.0/usb1/1-4
	DEV_RECORDING[hub]=usb-hub
	DEV_PATH[hub]=/devices/pci0000:00/0000:00:14.0/usb1/1-1
	merge_recordings "$DIR/plugged.umockdev" usb-mouse usb-audio usb-keyboard usb-hub
	# Devices plugged after authorized_default went to 0: unauthorized.
	export USBAUTH_UNAUTHORIZED="1-3 1-4 1-1"
	TB_EXTRA=:
	STRACE=()
	STATD_PREFIX_RUN=()
}

teardown() {
	qemu_teardown
}

# auth_config [AUTH-JSON [BY]]: the mouse to vm1, the audio adapter to vm2 (not
# running), and usbAuthorization AUTH-JSON (default: on, the keyboard for the host).
auth_config() {
	local auth=${1:-}
	[ -n "$auth" ] ||
		auth='{ "enable": true, "hostAllow": [ { "interfaceClass": 3, "interfaceProtocol": 1, "description": "keyboard" } ] }'
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [
	    { "targetVm": "vm1", "allow": [ { "vendorId": "046d", "productId": "c077" } ] },
	    { "targetVm": "vm2", "allow": [ { "vendorId": "0d8c" } ] }
	  ],
	  "usbAuthorization": $auth,
	  "vms": [
	    { "name": "vm1", "type": "qemu", "socket": "$DIR/vm1.sock", "usbAttachBy": "${2:-vidpid}" },
	    { "name": "vm2", "type": "qemu", "socket": "$DIR/vm2.sock" }
	  ]
	}
	EOF
}

# statd in its testbed ($TB), optionally under strace (STRACE: its options).
auth_statd_start() {
	local run=(exec ${STATD_PREFIX_RUN[@]+"${STATD_PREFIX_RUN[@]}"})
	[ ${#STRACE[@]} -eq 0 ] || run=(exec strace "${STRACE[@]}")
	STATD_PREFIX=(umockdev-run --device "$DIR/plugged.umockdev" -- bash -c \
		". '$top_srcdir/tests/usbauth-testbed.sh'; $TB_EXTRA; echo \"\$UMOCKDEV_DIR\" >'$DIR/testbed'; ${run[*]} \"\$@\"" bash)
	statd_start
	TB=$(cat "$DIR/testbed")
}

# Under strace, statd is strace's child.
statd_child() {
	local pid parent=$STATD_WRAPPER
	[ ${#STRACE[@]} -eq 0 ] || parent=$(pgrep -P "$STATD_WRAPPER" -x strace) || return 1
	pid=$(pgrep -P "$parent" -x vhotplug-statd) || return 1
	STATD_PID=$pid
}

# tb FILE: FILE under statd's testbed sysfs.
tb() {
	cat "$TB/sys/$1"
}

tb_is() {
	[ "$(tb "$1")" = "$2" ]
}

# plug_tb NAME [PREFIX...]: the helper's add event in a testbed of NAME's
# recording, the device unauthorized (TB_EXTRA run first), PREFIX before the
# helper; what its authorized holds after is left in $DIR/NAME.authorized.
plug_tb() {
	local name=$1 dir
	shift
	dir=${DEV_PATH[$name]}
	SEQ=$((SEQ + 1))
	umockdev-run --device "$DATA/${DEV_RECORDING[$name]}.umockdev" -- bash -c \
		". '$top_srcdir/tests/usbauth-testbed.sh'; $TB_EXTRA; \"\$@\"; cat \"\$UMOCKDEV_DIR/sys$dir/authorized\" >'$DIR/$name.authorized'" \
		bash "$@" env ACTION=add DEVPATH="$dir" SUBSYSTEM=usb DEVTYPE=usb_device SEQNUM=$SEQ \
		"$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
}

# history_of NAME: "event|detail" of NAME's rows, oldest first.
history_of() {
	sql "SELECT event || '|' || coalesce(detail, '') FROM device_history
	     WHERE device LIKE '% at $(sysname_of "$1")'"
}

ctl() {
	"${STATD_PREFIX[@]}" "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" "$@"
}

# ---- statd: start and reload ----------------------------------------------------

@test "usbauth: at start usbcore and every root hub get authorized_default 0, the old values saved" {
	auth_config
	auth_statd_start
	[ "$(tb $USBCORE)" = 0 ]
	[ "$(tb $USB1/authorized_default)" = 0 ]
	run sql "SELECT path, value FROM usb_auth_saved ORDER BY path"
	assert_output "bus/usb/devices/usb1/authorized_default|1
module/usbcore/parameters/authorized_default|1"
	run sql "SELECT device || '|' || detail FROM device_history WHERE event = 'deauthorized'"
	assert_line "usbcore|usbAuthorization on: module/usbcore/parameters/authorized_default 0 (it was 1)"
	assert_line "usb1|usbAuthorization on: bus/usb/devices/usb1/authorized_default 0 (it was 1)"
}

@test "usbauth: off, statd writes no authorization file" {
	auth_config '{ "enable": false, "deauthorizeUnmatched": true }'
	auth_statd_start
	[ "$(tb $USBCORE)" = 1 ]
	[ "$(tb $USB1/authorized_default)" = 1 ]
	[ "$(tb $USB1/1-1/authorized)" = 0 ]
	run sql "SELECT count(*) FROM history WHERE event IN ('authorized', 'deauthorized', 'authorization_failed')"
	assert_output 0
}

@test "usbauth: at start statd authorizes a hub" {
	auth_config
	auth_statd_start
	[ "$(tb $USB1/1-1/authorized)" = 1 ]
	run sql "SELECT detail FROM device_history WHERE event = 'authorized'"
	assert_output "usbAuthorization on: a hub, so that the devices behind it enumerate: 1-1/authorized 1"
}

@test "usbauth: turning it off and reloading gives back the saved authorized_default values" {
	auth_config
	auth_statd_start
	[ "$(tb $USBCORE)" = 0 ]
	auth_config '{ "enable": false }'
	kill -HUP "$STATD_PID"
	wait_until tb_is $USBCORE 1
	wait_until tb_is $USB1/authorized_default 1
	wait_until sql_is 0 "SELECT count(*) FROM usb_auth_saved"
	run sql "SELECT device || '|' || detail FROM device_history WHERE event = 'authorized'
	         AND detail LIKE 'usbAuthorization off:%'"
	assert_line "usbcore|usbAuthorization off: module/usbcore/parameters/authorized_default back to 1"
	assert_line "usb1|usbAuthorization off: bus/usb/devices/usb1/authorized_default back to 1"
}

@test "usbauth: a saved value is kept across restarts: statd's own 0 never replaces it" {
	auth_config
	auth_statd_start
	statd_stop
	auth_statd_start
	run sql "SELECT value FROM usb_auth_saved WHERE path = '$USBCORE'"
	assert_output 1
}

@test "usbauth: deauthorizeUnmatched deauthorizes an unclaimed device at start and leaves an attached one alone" {
	auth_config
	qemu_start vm1
	auth_statd_start
	plug mouse
	wait_until has_event mouse attached
	statd_stop
	# A new testbed: every device authorized, as before the feature was on.
	export USBAUTH_UNAUTHORIZED=
	auth_config '{ "enable": true, "deauthorizeUnmatched": true }'
	auth_statd_start
	[ "$(tb $USB1/1-4/authorized)" = 0 ]
	[ "$(tb $USB1/1-3/authorized)" = 1 ]
	[ "$(tb $USB1/1-1/authorized)" = 1 ]	# a hub
	in_vm "$VM1" vhp-usb-046d-c077.1-3
	run sql "SELECT detail FROM device_history WHERE event = 'deauthorized' AND device LIKE '% at 1-4'"
	assert_output "deauthorizeUnmatched: no VM has it and no hostAllow rule takes it: 1-4/authorized 0"
}

@test "usbauth: deauthorizeUnmatched leaves a hostAllow device authorized" {
	export USBAUTH_UNAUTHORIZED=
	auth_config '{ "enable": true, "deauthorizeUnmatched": true, "hostAllow": [ { "vendorId": "046d", "productId": "c31c" } ] }'
	auth_statd_start
	[ "$(tb $USB1/1-4/authorized)" = 1 ]
	[ "$(tb $USB1/1-3/authorized)" = 0 ]	# the mouse: for a VM, not in one
}

# ---- the helper: hubs and hostAllow --------------------------------------------

@test "usbauth: the helper authorizes a hub on its add" {
	auth_config
	plug_tb hub
	[ "$(cat "$DIR/hub.authorized")" = 1 ]
	run history_of hub
	assert_line "authorized|a hub: the devices behind it enumerate; 1-1/authorized 1"
}

@test "usbauth: the helper authorizes a device a hostAllow rule takes (a keyboard)" {
	auth_config
	plug_tb keyboard
	[ "$(cat "$DIR/keyboard.authorized")" = 1 ]
	run history_of keyboard
	assert_line "ignored|no rule set takes it"
	assert_line "authorized|for the host: usbAuthorization.hostAllow[0] (keyboard); 1-4/authorized 1"
}

@test "usbauth: the helper leaves a device no rule takes unauthorized" {
	auth_config '{ "enable": true, "hostAllow": [ { "vendorId": "1234" } ] }'
	plug_tb keyboard
	[ "$(cat "$DIR/keyboard.authorized")" = 0 ]
	run history_of keyboard
	assert_output "plugged|
ignored|no rule set takes it"
}

@test "usbauth: the helper leaves a device for a VM to statd" {
	auth_config
	plug_tb mouse
	[ "$(cat "$DIR/mouse.authorized")" = 0 ]
	run history_of mouse
	assert_output "plugged|
queued|usbPassthrough[0].allow[0] ()"
}

@test "usbauth: an unwritable authorized gives an authorization_failed row; the event is recorded all the same" {
	auth_config
	TB_EXTRA="chmod 0444 \"\$UMOCKDEV_DIR/sys${DEV_PATH[keyboard]}/authorized\""
	# Root writes whatever the mode says; without CAP_DAC_OVERRIDE it does not.
	plug_tb keyboard setpriv --bounding-set=-dac_override,-dac_read_search
	[ "$(cat "$DIR/keyboard.authorized")" = 0 ]
	run history_of keyboard
	assert_line "plugged|"
	assert_line "ignored|no rule set takes it"
	assert_line "authorization_failed|for the host: usbAuthorization.hostAllow[0] (keyboard); cannot write 1-4/authorized: Permission denied"
	run sql "SELECT action, state FROM intents"
	assert_output "ignore|done"
}

@test "usbauth: the helper refuses a symlinked authorized: an authorization_failed row, the link's target untouched" {
	auth_config
	TB_EXTRA="echo 0 >\"\$UMOCKDEV_DIR/bait\"; ln -sf \"\$UMOCKDEV_DIR/bait\" \"\$UMOCKDEV_DIR/sys${DEV_PATH[keyboard]}/authorized\""
	plug_tb keyboard
	# What the link leads to: still 0.
	[ "$(cat "$DIR/keyboard.authorized")" = 0 ]
	run history_of keyboard
	assert_line "authorization_failed|for the host: usbAuthorization.hostAllow[0] (keyboard); cannot write 1-4/authorized: a symbolic link, not the kernel's attribute: refused"
	run sql "SELECT action, state FROM intents"
	assert_output "ignore|done"
}

# ---- statd: a device for a VM ----------------------------------------------------

@test "usbauth: a device for a VM is authorized before its device_add and deauthorized after its detach" {
	auth_config
	qemu_start vm1
	auth_statd_start
	[ "$(tb $USB1/1-3/authorized)" = 0 ]
	plug mouse
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
	[ "$(tb $USB1/1-3/authorized)" = 1 ]
	[ "$(tb $USB1/1-3/1-3:1.0/authorized)" = 1 ]
	[ "$(tb $USB1/interface_authorized_default)" = 1 ]
	run history_of mouse
	assert_line "authorized|for vm1, just before its device_add: usb1/interface_authorized_default 0, 1-3/authorized 1, 1 interface of 1-3 authorized, usb1/interface_authorized_default 1"
	# Authorized, then attached.
	[ "$(sql "SELECT group_concat(event, ' ') FROM (SELECT event FROM device_history
	         WHERE device LIKE '% at 1-3' AND event IN ('authorized', 'attached'))")" = "authorized attached" ]

	run ctl detach 1-3
	assert_success
	wait_until tb_is $USB1/1-3/authorized 0
	run history_of mouse
	assert_line "deauthorized|it left vm1: 1-3/authorized 0"
}

@test "usbauth: interface_authorized_default is 0 before the device's authorized is 1" {
	auth_config
	qemu_start vm1
	# -y: each openat names its directory fd's path. LeakSanitizer cannot run under ptrace.
	STRACE=(-f -qq -y -e trace=openat -e signal=none -o "$DIR/strace.log")
	export ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0
	auth_statd_start
	plug mouse
	wait_until has_event mouse attached
	# The mouse's files, opened for writing, in order.
	run grep -oE '/(usb1|1-3|1-3:1\.0)>, "(interface_authorized_default|authorized)", O_WRONLY' "$DIR/strace.log"
	assert_output '/usb1>, "interface_authorized_default", O_WRONLY
/1-3>, "authorized", O_WRONLY
/1-3:1.0>, "authorized", O_WRONLY
/usb1>, "interface_authorized_default", O_WRONLY'
}

@test "usbauth: an attach QEMU refuses ends with the device unauthorized" {
	auth_config '' busaddr
	qemu_start vm1
	auth_statd_start
	plug mouse
	WAIT_S=60 wait_until has_event mouse attach_failed
	wait_until tb_is $USB1/1-3/authorized 0
	has_event mouse authorized
	run history_of mouse
	assert_line "deauthorized|its attach did not end in vm1: 1-3/authorized 0"
}

@test "usbauth: a symlinked authorized is refused: attach_failed says so, the link's target is untouched" {
	auth_config
	qemu_start vm1
	TB_EXTRA="echo 0 >\"\$UMOCKDEV_DIR/bait\"; ln -sf \"\$UMOCKDEV_DIR/bait\" \"\$UMOCKDEV_DIR/sys${DEV_PATH[mouse]}/authorized\""
	auth_statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	[ "$(cat "$TB/bait")" = 0 ]
	run event_detail mouse attach_failed
	assert_output "cannot authorize it: 1-3/authorized: a symbolic link, not the kernel's attribute: refused"
	run event_detail mouse authorization_failed
	assert_output "cannot authorize it: 1-3/authorized: a symbolic link, not the kernel's attribute: refused; written: usb1/interface_authorized_default 0, usb1/interface_authorized_default 1"
	[ "$(tb $USB1/interface_authorized_default)" = 1 ]
	run in_vm "$VM1" vhp-usb-046d-c077.1-3
	assert_failure
	# Nothing else lost: statd goes on (the next plug is handled).
	[ "$(intent mouse state)" = failed ]
	alive "$STATD_PID"
}

@test "usbauth: statd meets an unwritable authorized: attach_failed says so, the bus default is back, statd goes on" {
	auth_config
	qemu_start vm1
	TB_EXTRA="chmod 0444 \"\$UMOCKDEV_DIR/sys${DEV_PATH[mouse]}/authorized\""
	# Root writes whatever the mode says; without CAP_DAC_OVERRIDE it does not.
	STATD_PREFIX_RUN=(setpriv --bounding-set=-dac_override,-dac_read_search)
	auth_statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	[ "$(tb $USB1/1-3/authorized)" = 0 ]
	[ "$(tb $USB1/interface_authorized_default)" = 1 ]
	run event_detail mouse attach_failed
	assert_output "cannot authorize it: 1-3/authorized: Permission denied"
	run event_detail mouse authorization_failed
	assert_output "cannot authorize it: 1-3/authorized: Permission denied; written: usb1/interface_authorized_default 0, usb1/interface_authorized_default 1"
	run in_vm "$VM1" vhp-usb-046d-c077.1-3
	assert_failure
	[ "$(intent mouse state)" = failed ]
	alive "$STATD_PID"
}

# ---- hostAllow rules that name interfaces ---------------------------------------------

# iface_config HOST-ALLOW-RULE [KEYS]: no rule set takes the audio adapter (1-2:
# three audio interfaces and a HID one, class 3); usbAuthorization on, with that
# rule (and KEYS).
iface_config() {
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [ { "targetVm": "vm1", "allow": [ { "vendorId": "046d", "productId": "c077" } ] } ],
	  "usbAuthorization": { "enable": true, ${2:+$2, }"hostAllow": [ $1 ] },
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$DIR/vm1.sock" } ]
	}
	EOF
}

@test "usbauth: a hostAllow rule naming interfaceClass 3 gives the host only the HID interface of a composite device" {
	export USBAUTH_UNAUTHORIZED=1-2
	iface_config '{ "interfaceClass": 3, "description": "hid" }'
	auth_statd_start
	plug_tb audio
	wait_until intent_is audio state done
	[ "$(tb $USB1/1-2/authorized)" = 1 ]
	[ "$(tb $USB1/1-2/1-2:1.3/authorized)" = 1 ]
	[ "$(tb $USB1/1-2/1-2:1.0/authorized)" = 0 ]
	[ "$(tb $USB1/1-2/1-2:1.1/authorized)" = 0 ]
	[ "$(tb $USB1/1-2/1-2:1.2/authorized)" = 0 ]
	[ "$(tb bus/usb/drivers_probe)" = 1-2:1.3 ]
	[ "$(tb $USB1/interface_authorized_default)" = 1 ]
	run event_detail audio authorized
	assert_output "for the host: usbAuthorization.hostAllow[0] (hid), only the interfaces it names: usb1/interface_authorized_default 0, 1-2/authorized 1, 1-2:1.3/authorized 1, 1-2:1.3 to drivers_probe, usb1/interface_authorized_default 1; left unauthorized: 1-2:1.0, 1-2:1.1, 1-2:1.2"
}

@test "usbauth: the helper leaves a hostAllow rule that names some interfaces to statd, as a pending intent" {
	export USBAUTH_UNAUTHORIZED=1-2
	iface_config '{ "interfaceClass": 3, "description": "hid" }'
	plug_tb audio
	[ "$(cat "$DIR/audio.authorized")" = 0 ]
	run sql "SELECT action || '|' || state || '|' || rule FROM intents ORDER BY id"
	assert_output "ignore|done|no rule set takes it
ignore|pending|for the host: usbAuthorization.hostAllow[0] (hid), only the interfaces it names: statd authorizes them"
}

@test "usbauth: the host's interfaces are written in order: bus default 0, device, the named interface and its probe, bus default back" {
	export USBAUTH_UNAUTHORIZED=1-2
	iface_config '{ "interfaceClass": 3, "description": "hid" }'
	# -y: each openat names its directory fd's path. LeakSanitizer cannot run under ptrace.
	STRACE=(-f -qq -y -e trace=openat -e signal=none -o "$DIR/strace.log")
	export ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0
	auth_statd_start
	plug_tb audio
	wait_until intent_is audio state done
	run grep -oE '/(usb1|1-2|1-2:1\.[0-3]|usb)>, "(interface_authorized_default|authorized|drivers_probe)", O_WRONLY' "$DIR/strace.log"
	assert_output '/usb1>, "interface_authorized_default", O_WRONLY
/1-2>, "authorized", O_WRONLY
/1-2:1.3>, "authorized", O_WRONLY
/usb>, "drivers_probe", O_WRONLY
/usb1>, "interface_authorized_default", O_WRONLY'
}

@test "usbauth: a symlinked interface authorized is refused: authorization_failed says so, the bus default is back" {
	export USBAUTH_UNAUTHORIZED=1-2
	iface_config '{ "interfaceClass": 3, "description": "hid" }'
	TB_EXTRA="echo 0 >\"\$UMOCKDEV_DIR/bait\"; ln -sf \"\$UMOCKDEV_DIR/bait\" \"\$UMOCKDEV_DIR/sys${DEV_PATH[audio]}/1-2:1.3/authorized\""
	auth_statd_start
	TB_EXTRA=:
	plug_tb audio
	wait_until intent_is audio state failed
	[ "$(cat "$TB/bait")" = 0 ]
	[ "$(tb $USB1/interface_authorized_default)" = 1 ]
	[ "$(tb bus/usb/drivers_probe)" = "" ]
	run event_detail audio authorization_failed
	assert_output "for the host: usbAuthorization.hostAllow[0] (hid), only the interfaces it names: cannot authorize the interfaces of 1-2: a symbolic link, not the kernel's attribute: refused; written: usb1/interface_authorized_default 0, 1-2/authorized 1, usb1/interface_authorized_default 1; left unauthorized: 1-2:1.0, 1-2:1.1, 1-2:1.2"
	alive "$STATD_PID"
}

@test "usbauth: without its bus's interface_authorized_default a device is not authorized for some of its interfaces" {
	export USBAUTH_UNAUTHORIZED=1-2
	iface_config '{ "interfaceClass": 3, "description": "hid" }'
	TB_EXTRA="rm \"\$UMOCKDEV_DIR/sys/$USB1/interface_authorized_default\""
	auth_statd_start
	TB_EXTRA=:
	plug_tb audio
	wait_until intent_is audio state failed
	[ "$(tb $USB1/1-2/authorized)" = 0 ]
	run event_detail audio authorization_failed
	assert_output "for the host: usbAuthorization.hostAllow[0] (hid), only the interfaces it names: cannot read the interface_authorized_default of its root hub: No such file or directory"
}

@test "usbauth: a pending interface authorization that statd's start carried out already writes nothing more" {
	export USBAUTH_UNAUTHORIZED=1-2
	iface_config '{ "interfaceClass": 3, "description": "hid" }' '"deauthorizeUnmatched": true'
	plug_tb audio
	auth_statd_start
	wait_until intent_is audio state done
	[ "$(intent audio result)" = "authorized already: nothing written" ]
	[ "$(events audio authorized)" = 1 ]
}

@test "usbauth: a hostAllow rule without interface fields authorizes the whole composite device in the helper" {
	export USBAUTH_UNAUTHORIZED=1-2
	iface_config '{ "vendorId": "0d8c", "description": "audio" }'
	plug_tb audio
	[ "$(cat "$DIR/audio.authorized")" = 1 ]
	run history_of audio
	assert_line "authorized|for the host: usbAuthorization.hostAllow[0] (audio); 1-2/authorized 1"
	run sql "SELECT count(*) FROM intents WHERE state = 'pending'"
	assert_output 0
}

@test "usbauth: deauthorizeUnmatched takes from a device authorized before the interfaces its hostAllow rule does not name" {
	export USBAUTH_UNAUTHORIZED=
	iface_config '{ "interfaceClass": 3, "description": "hid" }' '"deauthorizeUnmatched": true'
	auth_statd_start
	[ "$(tb $USB1/1-2/authorized)" = 1 ]
	[ "$(tb $USB1/1-2/1-2:1.3/authorized)" = 1 ]
	[ "$(tb $USB1/1-2/1-2:1.0/authorized)" = 0 ]
	[ "$(tb $USB1/1-2/1-2:1.1/authorized)" = 0 ]
	[ "$(tb $USB1/1-2/1-2:1.2/authorized)" = 0 ]
	run event_detail audio deauthorized
	assert_output "deauthorizeUnmatched: the interfaces usbAuthorization.hostAllow[0] (hid) does not name: 1-2:1.0/authorized 0, 1-2:1.1/authorized 0, 1-2:1.2/authorized 0"
}

@test "usbauth: deauthorizeUnmatched gives an unauthorized device only the interfaces its hostAllow rule names" {
	export USBAUTH_UNAUTHORIZED=1-2
	iface_config '{ "interfaceClass": 3, "description": "hid" }' '"deauthorizeUnmatched": true'
	auth_statd_start
	[ "$(tb $USB1/1-2/authorized)" = 1 ]
	[ "$(tb $USB1/1-2/1-2:1.3/authorized)" = 1 ]
	[ "$(tb $USB1/1-2/1-2:1.0/authorized)" = 0 ]
	run event_detail audio authorized
	assert_output "usbAuthorization on: for the host: usbAuthorization.hostAllow[0] (hid), only the interfaces it names: usb1/interface_authorized_default 0, 1-2/authorized 1, 1-2:1.3/authorized 1, 1-2:1.3 to drivers_probe, usb1/interface_authorized_default 1; left unauthorized: 1-2:1.0, 1-2:1.1, 1-2:1.2"
}

# ---- vhotplugctl ------------------------------------------------------------------

# in_tb CMD...: CMD in a testbed of the plugged devices (USBAUTH_UNAUTHORIZED unauthorized).
in_tb() {
	umockdev-run --device "$DIR/plugged.umockdev" -- bash -c \
		". '$top_srcdir/tests/usbauth-testbed.sh'; exec \"\$@\"" bash "$@"
}

@test "usbauth: vhotplugctl list says a connected device is unauthorized" {
	auth_config '{ "enable": true }'
	plug_tb keyboard
	plug_tb mouse
	run in_tb "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" list
	assert_success
	assert_line "    identity usb:046d:c31c@1-4, connected, unauthorized"
	in_tb "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" list --json >"$DIR/list.json"
	run "$PYTHON" -c 'import json, sys
print(" ".join("%s=%s" % (d["sysname"], d["authorized"]) for d in json.load(sys.stdin)["devices"]))' <"$DIR/list.json"
	assert_output "1-4=False 1-3=False"
	# Authorized: nothing said.
	export USBAUTH_UNAUTHORIZED=
	run in_tb "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" list
	assert_line "    identity usb:046d:c31c@1-4, connected"
}

@test "usbauth: vhotplugctl explain says who authorizes a device, and that one no rule takes stays unauthorized" {
	auth_config
	run in_tb "$CTL" explain -c "$CONFIG" /sys/bus/usb/devices/1-4 /sys/bus/usb/devices/1-3 /sys/bus/usb/devices/1-2
	assert_success
	assert_line "usbAuthorization: authorized for the host by usbAuthorization.hostAllow[0] (keyboard)"
	assert_line "usbAuthorization: unauthorized on the host: authorized only just before it goes to its VM"
	auth_config '{ "enable": true }'
	run in_tb "$CTL" explain -c "$CONFIG" /sys/bus/usb/devices/1-4
	assert_line "usbAuthorization: unauthorized: no VM takes it and no usbAuthorization.hostAllow rule does"
}

@test "usbauth: vhotplugctl explain says a hostAllow rule that names some interfaces authorizes only those" {
	iface_config '{ "interfaceClass": 3, "description": "hid" }'
	run in_tb "$CTL" explain -c "$CONFIG" /sys/bus/usb/devices/1-2
	assert_success
	assert_line "usbAuthorization: for the host by usbAuthorization.hostAllow[0] (hid): only the interfaces it names are authorized, by statd; the others stay unauthorized"
}
