#!/usr/bin/env bats
# Configs as real deployments generate them (null and "" fields, keys this project
# does not act on yet, rule-set oddities upstream tolerates) load, warn once, and
# decide as upstream does; explain shows device strings escaped.

bats_require_minimum_version 1.5.0

load common

XHCI=/sys/devices/pci0000:00/0000:00:14.0

warnings_of() {
	run --separate-stderr "$STATD" --check-config -c "$1"
	assert_success
	assert_output "$1: ok"
}

@test "a generated laptop config loads, each key not acted on warned about once" {
	local f=$CONFIGS/valid-generated-laptop.json
	warnings_of "$f"
	for path in pciPassthrough[1].crosvmUseRootBus \
		general.statePath general.persistency \
		general.modprobe general.modinfo; do
		[ "$(grep -cF "$f: $path: ignored" <<<"$stderr")" -eq 1 ] ||
			fail "no single warning for $path in: $stderr"
	done
	# vhotplugctl suspend acts on it.
	[[ $stderr != *skipOnSuspend* ]] || fail "skipOnSuspend is acted on: $stderr"
	refute_line --partial driverPath
	[[ $stderr != *general.api* ]] || fail "general.api is acted on: $stderr"
	refute_line --partial pciIommuSkipIfShared
	[[ $stderr != *pciIommuAddAll* ]] || fail "pciIommuAddAll is acted on: $stderr"
	# vmm_args acts on them.
	for key in autoOvmf qemuUseRootBus acpiPassthrough ovmfCode ovmfVars; do
		[[ $stderr != *$key* ]] || fail "$key is acted on: $stderr"
	done
	[[ $stderr != *usbAuthorization* ]] || fail "usbAuthorization is acted on: $stderr"
}

@test "a rule with every field null or empty warns, naming its path" {
	local f=$CONFIGS/warn-all-absent.json
	warnings_of "$f"
	for path in 'usbPassthrough[0].allow[0]' 'usbPassthrough[0].allow[1]' 'pciPassthrough[0].allow[0]'; do
		[[ $stderr == *"$f: $path: matches nothing: no field to match is set (absent, null or \"\")"* ]] ||
			fail "no warning for $path in: $stderr"
	done
}

@test "a rule set with neither targetVm nor allowedVms warns and is skipped" {
	local f=$CONFIGS/warn-no-target.json
	warnings_of "$f"
	[[ $stderr == *"$f: usbPassthrough[0]: has neither \"targetVm\" nor \"allowedVms\": skipped, as the original vhotplug does"* ]]
}

@test "a rule set with both targetVm and allowedVms warns and uses targetVm" {
	local f=$CONFIGS/warn-both-targets.json
	warnings_of "$f"
	[[ $stderr == *"$f: usbPassthrough[0]: has both \"targetVm\" and \"allowedVms\": \"targetVm\" is used, as the original vhotplug does"* ]]
}

@test "an empty removable list and an older-form evdev section without targetVm warn" {
	local f=$CONFIGS/warn-odd-shapes.json
	warnings_of "$f"
	[[ $stderr == *"$f: usbPassthrough[0].allow[0].removable: empty: the rule matches no device, as in the original vhotplug"* ]]
	[[ $stderr == *"$f: evdevPassthrough: has no \"targetVm\": skipped, as the original vhotplug does"* ]]
}

@test "0x ids load" {
	local f=$BATS_TEST_TMPDIR/hex.json
	cat >"$f" <<-'JSON'
	{ "pciPassthrough": [ { "targetVm": "gpu", "allow": [ { "vendorId": "0x8086", "deviceId": "0X46A6" } ] } ],
	  "vms": [ { "name": "gpu", "type": "qemu", "socket": "/run/gpu.qmp" } ] }
	JSON
	warnings_of "$f"
	assert_equal "$stderr" ""
}

@test "a config with errors shows the errors only, not the warnings" {
	local f=$BATS_TEST_TMPDIR/both.json
	cat >"$f" <<-'JSON'
	{ "usbPassthrough": [ { "targetVm": "vm1", "allow": [ { "vendorId": null } ] } ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "" } ], "general": { "ovmfCode": "/x" } }
	JSON
	run -1 --separate-stderr "$STATD" --check-config -c "$f"
	assert_equal "$stderr" "$f: vms[0].socket: empty"
}

@test "explain: the all-absent rule matches nothing, the next rule set takes the mouse by 0x ids" {
	run with_devices usb-mouse -- "$CTL" explain -c "$DATA/compat.json" --json "$XHCI/usb1/1-3"
	assert_success
	assert_output --partial '"reasons":["usbPassthrough[0] (Rules a generator left blank):","  usbPassthrough[0].allow[0] (blank): no field to match: matches nothing","  usbPassthrough[0].allow[1] (empty name): no field to match: matches nothing","  => no allow rule matches"'
	assert_output --partial '"targetVm":"vm2"'
	assert_output --partial '"allowedVms":null'
	assert_output --partial '"rule":"usbPassthrough[1].allow[1]"'
	assert_output --partial '"tag":"pointers","skipOnSuspend":true'
}

@test "explain: the text output names the tag" {
	run with_devices usb-mouse -- "$CTL" explain -c "$DATA/compat.json" "$XHCI/usb1/1-3"
	assert_success
	assert_output --partial '[tag pointers] attach to vm2'
}

@test "explain: a hostile product name is escaped in the text output" {
	run with_devices usb-hostile-utf8 -- "$CTL" explain -c "$DATA/compat.json" "$XHCI/usb1/1-3"
	assert_success
	assert_output --partial 'productName "bad \xff\xfe, overlong \xc0\xaf, cut \xe2\x82, ctl \x01\x1b[31m\x7f, ok ü" does not match'
	[[ $output != *$'\e'* ]] || fail "raw ESC in the output"
	LC_ALL=C.UTF-8 iconv -f UTF-8 -t UTF-8 <<<"$output" >/dev/null
}

@test "explain: a hostile product name is escaped in --json, which stays valid UTF-8 JSON" {
	run --separate-stderr with_devices usb-hostile-utf8 -- "$CTL" explain -c "$DATA/compat.json" \
		--json "$XHCI/usb1/1-3"
	assert_success
	[[ $output != *$'\e'* ]] || fail "raw ESC in the output"
	python3 -c '
import json, sys
data = sys.stdin.buffer.read()
obj = json.loads(data.decode("utf-8", errors="strict"))
assert any("does not match" in r for r in obj["reasons"]), obj["reasons"]
assert any("\\x1b[31m" in r for r in obj["reasons"]), obj["reasons"]
' <<<"$output"
}

@test "the helper loads a config with warnings without logging them for every event" {
	local f=$CONFIGS/valid-generated-laptop.json
	mkdir -p "$BATS_TEST_TMPDIR/run"
	run --separate-stderr env ACTION=remove SEQNUM=9 DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-3 \
		SUBSYSTEM=usb DEVTYPE=usb_device VHOTPLUG_CONFIG="$f" VHOTPLUG_DB="$BATS_TEST_TMPDIR/db" \
		VHOTPLUG_RUNDIR="$BATS_TEST_TMPDIR/run" "$HELPER"
	assert_success
	[[ $stderr != *"ignored"* && $stderr != *"matches nothing"* ]] || fail "warned: $stderr"
}
