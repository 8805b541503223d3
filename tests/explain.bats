#!/usr/bin/env bats
# `vhotplugctl explain` against the hand-written recordings in tests/data/*.umockdev
# and the rules in tests/data/explain.json (or a test's own, written by own_config).
#
# Every recording carries its own parents (host controller, root hub, bridges), as
# umockdev-record writes them, so two recordings that share a parent cannot be
# loaded together: each test loads exactly one.
#
# The JSON is json-c's plain form ("key":value, no spaces). Slashes in strings may
# be escaped (\/), so the checks below only look at slash-free pieces.

load common

XHCI=/sys/devices/pci0000:00/0000:00:14.0
BUS11=/sys/devices/pci0000:00/0000:00:1c.0/0000:3b:00.0/usb11
I8042=/sys/devices/platform/i8042

setup() {
	CONFIG=$DATA/explain.json
}

# explain RECORDING SYSPATH...: JSON explanation of SYSPATHs with RECORDING loaded.
explain() {
	local recording=$1
	shift
	run with_devices "$recording" -- "$CTL" explain -c "$CONFIG" --json "$@"
}

# assert_verdict KIND TARGETVM ALLOWEDVMS RULESET RULE
# The last four are JSON literals: '"vm1"', 'null', '["vm1","vm2"]'...
assert_verdict() {
	assert_success
	assert_output --partial "\"kind\":\"$1\""
	assert_output --partial "\"targetVm\":$2"
	assert_output --partial "\"allowedVms\":$3"
	assert_output --partial "\"ruleset\":$4"
	assert_output --partial "\"rule\":$5"
}

# The JSON objects of the last run, one per element of json_lines.
collect_json() {
	json_lines=()
	local line
	for line in "${lines[@]}"; do
		if [[ $line == "{"* ]]; then
			json_lines+=("$line")
		fi
	done
}

# json_line_has N TEXT: the Nth JSON object (from 0) contains TEXT.
json_line_has() {
	[[ ${json_lines[$1]} == *"$2"* ]] ||
		fail "JSON line $1 lacks $2: ${json_lines[$1]}"
}

# ---- USB ---------------------------------------------------------------------

@test "usb: HID mouse goes to vm1 by its mouse interface" {
	explain usb-mouse "$XHCI/usb1/1-3"
	assert_verdict usb '"vm1"' null '"usbPassthrough[0]"' '"usbPassthrough[0].allow[0]"'
	assert_output --partial '046d:c077'
}

@test "usb: ethernet adapter goes to vm1 by product name" {
	explain usb-ethernet "$XHCI/usb2/2-1"
	assert_verdict usb '"vm1"' null '"usbPassthrough[0]"' '"usbPassthrough[0].allow[1]"'
	assert_output --partial '045e:07c6'
}

@test "usb: Unifying receiver has a mouse interface but is denied by vid:pid" {
	explain usb-denied "$XHCI/usb1/1-4"
	assert_verdict usb null null null null
	assert_output --partial '046d:c52b'
	assert_output --partial 'usbPassthrough[0].deny[0]'
}

@test "usb: serial bridge only matches a disabled rule" {
	explain usb-serial "$XHCI/usb1/1-5"
	assert_verdict usb null null null null
	assert_output --partial '067b:23a3'
	assert_output --partial 'usbPassthrough[0].allow[2]'
}

@test "usb: audio adapter goes to vm1 by its audio interface" {
	explain usb-audio "$XHCI/usb1/1-2"
	assert_verdict usb '"vm1"' null '"usbPassthrough[0]"' '"usbPassthrough[0].allow[3]"'
	assert_output --partial '0d8c:0014'
}

@test "usb: webcam with a microphone is denied in vm1 and falls through to allowedVms" {
	explain usb-audio-video "$XHCI/usb1/1-7"
	assert_verdict usb null '["vm1","vm2"]' '"usbPassthrough[2]"' '"usbPassthrough[2].allow[0]"'
	assert_output --partial '046d:0825'
	assert_output --partial 'usbPassthrough[0].deny[1]'
}

@test "usb: video-only webcam is offered to vm1 and vm2" {
	explain usb-webcam "$XHCI/usb1/1-6"
	assert_verdict usb null '["vm1","vm2"]' '"usbPassthrough[2]"' '"usbPassthrough[2].allow[0]"'
	assert_output --partial '04f2:b604'
}

@test "usb: mass storage SSD matches nothing" {
	explain usb-ssd "$XHCI/usb2/2-2"
	assert_verdict usb null null null null
	assert_output --partial '04e8:4001'
}

@test "usb: a hub never matches, not even a rule for hubs" {
	explain usb-hub "$XHCI/usb1/1-1"
	assert_verdict usb null null null null
	assert_output --partial '05e3:0608'
}

@test "usb: Bluetooth dongle goes to vm2 by device class 224" {
	explain usb-bluetooth "$XHCI/usb1/1-10"
	assert_verdict usb '"vm2"' null '"usbPassthrough[1]"' '"usbPassthrough[1].allow[0]"'
	assert_output --partial '0bda:4852'
}

@test "usb: device behind root port 22 of bus 11 goes to vm2" {
	explain usb-port-a "$BUS11/11-22/11-22.33/11-22.33.44"
	assert_verdict usb '"vm2"' null '"usbPassthrough[1]"' '"usbPassthrough[1].allow[1]"'
	assert_output --partial '11-22.33.44'
}

@test "usb: port 22 further down the chain is not root port 22" {
	explain usb-port-b "$BUS11/11-33/11-33.22/11-33.22.44"
	assert_verdict usb null null null null
	assert_output --partial '11-33.22.44'
}

@test "usb: several syspaths give one line each, in order; the hub on root port 22 stays out" {
	explain usb-port-a "$BUS11/11-22/11-22.33/11-22.33.44" "$BUS11/11-22"
	assert_success
	collect_json
	assert_equal "${#json_lines[@]}" 2
	json_line_has 0 '"targetVm":"vm2"'
	json_line_has 0 '"rule":"usbPassthrough[1].allow[1]"'
	json_line_has 1 '1a40:0101'
	json_line_has 1 '"targetVm":null'
	json_line_has 1 '"ruleset":null'
}

# ---- PCI ---------------------------------------------------------------------

@test "pci: Wi-Fi card goes to vm1 by address" {
	explain pci-wifi /sys/devices/pci0000:00/0000:00:14.3
	assert_verdict pci '"vm1"' null '"pciPassthrough[0]"' '"pciPassthrough[0].allow[0]"'
	assert_output --partial '0000:00:14.3'
}

@test "pci: GPU goes to vm2 by vendor and device id" {
	explain pci-gpu /sys/devices/pci0000:00/0000:00:02.0
	assert_verdict pci '"vm2"' null '"pciPassthrough[1]"' '"pciPassthrough[1].allow[0]"'
	assert_output --partial '0000:00:02.0'
}

@test "pci: NVMe controller goes to vm1 by class and subclass" {
	explain pci-nvme /sys/devices/pci0000:00/0000:00:06.0/0000:01:00.0
	assert_verdict pci '"vm1"' null '"pciPassthrough[0]"' '"pciPassthrough[0].allow[1]"'
	assert_output --partial '0000:01:00.0'
}

# ---- evdev -------------------------------------------------------------------

@test "evdev: TrackPoint goes to vm1 by name" {
	explain evdev-trackpoint "$I8042/serio1/serio2/input/input5/event5"
	assert_verdict evdev '"vm1"' null '"evdevPassthrough[0]"' '"evdevPassthrough[0].allow[0]"'
	assert_output --partial 'event5'
}

@test "evdev: AT keyboard goes to vm2 by property" {
	explain evdev-keyboard "$I8042/serio0/input/input3/event3"
	assert_verdict evdev '"vm2"' null '"evdevPassthrough[1]"' '"evdevPassthrough[1].allow[0]"'
	assert_output --partial 'event3'
}

@test "evdev: USB mouse is never matched by evdev rules" {
	explain evdev-usb-mouse "$XHCI/usb1/1-3/1-3:1.0/0003:046D:C077.0001/input/input12/event12"
	assert_verdict evdev null null null null
	assert_output --partial 'event12'
}

@test "evdev: the same USB mouse is passed through as a USB device instead" {
	explain evdev-usb-mouse "$XHCI/usb1/1-3/1-3:1.0/0003:046D:C077.0001/input/input12/event12" "$XHCI/usb1/1-3"
	assert_success
	collect_json
	assert_equal "${#json_lines[@]}" 2
	json_line_has 0 '"kind":"evdev"'
	json_line_has 0 '"targetVm":null'
	json_line_has 1 '"kind":"usb"'
	json_line_has 1 '"targetVm":"vm1"'
	json_line_has 1 '"rule":"usbPassthrough[0].allow[0]"'
}

# ---- refused whatever the rules say -------------------------------------------

# own_config JSON: write the config of one test and use it.
own_config() {
	CONFIG=$BATS_TEST_TMPDIR/vhotplug.json
	echo "$1" >"$CONFIG"
}

# A fake proc root whose mountinfo holds LINE (the host's own root is on NVMe).
fake_mounts() {
	local proc=$BATS_TEST_TMPDIR/proc
	mkdir -p "$proc/self"
	printf '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n%s\n' "$1" >"$proc/self/mountinfo"
	printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' >"$proc/swaps"
	export VHOTPLUG_PROC_ROOT=$proc
}

STORAGE='{ "usbPassthrough": [ { "targetVm": "vm1", "allow": [ { "interfaceClass": 8, "description": "storage" } ] } ],
  "vms": [ { "name": "vm1", "type": "qemu", "socket": "/run/vm1.sock" } ] }'

@test "safety: a hub is refused, and the verdict says so" {
	explain usb-hub "$XHCI/usb1/1-1"
	assert_verdict usb null null null null
	assert_output --partial '"refused":"USB hubs are never passed through"'
	run with_devices usb-hub -- "$CTL" explain -c "$CONFIG" "$XHCI/usb1/1-1"
	assert_output --partial "=> refused: USB hubs are never passed through; it stays on the host"
}

@test "safety: a disk that backs /boot is refused although a rule takes it; the rule is still named" {
	fake_mounts '30 22 8:33 / /boot rw,relatime shared:5 - vfat /dev/sdc1 rw'
	own_config "$STORAGE"
	explain usb-disk "$XHCI/usb2/2-2"
	assert_verdict usb null null '"usbPassthrough[0]"' '"usbPassthrough[0].allow[0]"'
	assert_output --partial '"refused":"never passed to a VM: it backs the filesystem mounted at /boot"'
	run with_devices usb-disk -- "$CTL" explain -c "$CONFIG" "$XHCI/usb2/2-2"
	assert_output --partial "=> refused: never passed to a VM: it backs the filesystem mounted at /boot; it stays on the host"
	refute_output --partial "attach to vm1"
}

@test "safety: a disk holding active swap is refused" {
	fake_mounts ''
	printf '/dev/sdc2\t\t\t\tpartition\t8388604\t\t0\t\t-2\n' >>"$VHOTPLUG_PROC_ROOT/swaps"
	own_config "$STORAGE"
	explain usb-disk "$XHCI/usb2/2-2"
	assert_output --partial '"refused":"never passed to a VM: it backs the swap area /dev/sdc2"'
	assert_output --partial '"targetVm":null'
}

@test "safety: when mounts cannot be read, explain says statd refuses it too" {
	fake_mounts ''
	rm "$VHOTPLUG_PROC_ROOT/self/mountinfo"
	own_config "$STORAGE"
	explain usb-disk "$XHCI/usb2/2-2"
	assert_output --partial '"refused":"cannot tell whether it is safe to pass: No such file or directory"'
}

@test "safety: the same disk, mounted nowhere, goes to vm1 and is not refused" {
	fake_mounts ''
	own_config "$STORAGE"
	explain usb-disk "$XHCI/usb2/2-2"
	assert_verdict usb '"vm1"' null '"usbPassthrough[0]"' '"usbPassthrough[0].allow[0]"'
	assert_output --partial '"refused":null'
}

# ---- PCI IOMMU groups (tests/data/pci-group.umockdev, IOMMU group 15) ---------

GROUP=/sys/devices/pci0000:00/0000:00:1c.4/0000:05:00.0

# explain_group ARGS...: explain in the PCI testbed, group links included.
explain_group() {
	run umockdev-run --device "$DATA/pci-group.umockdev" -- bash -c \
		". '$top_srcdir/tests/pci-testbed.sh'; exec \"\$@\"" bash "$CTL" explain -c "$CONFIG" "$@"
}

# pci_config FLAG ALLOW: one rule set for vm1 with FLAG set.
pci_config() {
	own_config '{ "pciPassthrough": [ { "targetVm": "vm1", "'"$1"'": true, "allow": [ '"$2"' ] } ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "/run/vm1.sock" } ] }'
}

@test "pci: pciIommuAddAll names the rest of the group, bridge aside, that goes with the function" {
	pci_config pciIommuAddAll '{ "address": "0000:06:00.0" }'
	explain_group --json "$GROUP/0000:06:00.0"
	assert_verdict pci '"vm1"' null '"pciPassthrough[0]"' '"pciPassthrough[0].allow[0]"'
	assert_output --partial '"refused":null,"alsoAttached":["0000:06:01.0","0000:06:02.0"]'
	explain_group "$GROUP/0000:06:00.0"
	assert_output --partial "attach to vm1, with the rest of its IOMMU group (pciIommuAddAll): 0000:06:01.0, 0000:06:02.0"
}

@test "pci: pciIommuAddAll leaves out functions the rule set takes by themselves" {
	pci_config pciIommuAddAll '{ "address": "0000:06:00.0" }, { "vendorId": "1274" }'
	explain_group --json "$GROUP/0000:06:00.0"
	assert_output --partial '"alsoAttached":["0000:06:02.0"]'
}

@test "pci: without pciIommuAddAll nothing else goes" {
	own_config '{ "pciPassthrough": [ { "targetVm": "vm1", "allow": [ { "address": "0000:06:00.0" } ] } ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "/run/vm1.sock" } ] }'
	explain_group --json "$GROUP/0000:06:00.0"
	assert_output --partial '"refused":null,"alsoAttached":null'
}

@test "pci: pciIommuSkipIfShared refuses a function whose group the rule set does not take whole" {
	pci_config pciIommuSkipIfShared '{ "address": "0000:06:00.0" }'
	explain_group "$GROUP/0000:06:00.0"
	assert_output --partial "=> refused: its IOMMU group is shared with 0000:06:01.0, 0000:06:02.0, which this rule set does not take (pciIommuSkipIfShared); it stays on the host"
}

# ---- CLI behaviour -----------------------------------------------------------

@test "explain: a syspath that does not exist fails and is named" {
	run with_devices usb-mouse -- "$CTL" explain -c "$CONFIG" --json "$XHCI/usb1/1-9"
	assert_failure 1
	assert_output --partial '1-9'
}

@test "explain: the human output names the deciding rule's description" {
	run with_devices usb-mouse -- "$CTL" explain -c "$CONFIG" "$XHCI/usb1/1-3"
	assert_success
	assert_output --partial 'Mice (HID interface with the mouse protocol)'
	assert_output --partial 'vm1'
	refute_output --partial '"targetVm"'
}
