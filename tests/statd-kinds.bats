#!/usr/bin/env bats
# statd end to end for what issue 10 adds besides USB into QEMU: the host-side
# checks before an attach (statd/prep/prep.c), evdev and PCI into a real QEMU, and
# the faults QEMU will not produce on demand against tests/qmp-peer.py.
# statd runs under umockdev when it must see the device's sysfs.

load common
load qemu
load kinds

DISK_PATH=/devices/pci0000:00/0000:00:14.0/usb2/2-2
HUB_PATH=/devices/pci0000:00/0000:00:14.0/usb1/1-1

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	VM1=$DIR/vm1.sock
	DEV_RECORDING+=([disk]=usb-disk [hub]=usb-hub)
	DEV_PATH+=([disk]=$DISK_PATH [hub]=$HUB_PATH)
	# The host's own root is on NVMe; tests add the USB disk's mounts.
	PROC=$DIR/proc
	mkdir -p "$PROC/self"
	echo '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw' >"$PROC/self/mountinfo"
	printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' >"$PROC/swaps"
	export VHOTPLUG_PROC_ROOT=$PROC
}

teardown() {
	qemu_teardown
}

# A rule set that takes the Samsung disk and the Genesys hub into vm1.
usb_config() {
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [
	    { "targetVm": "vm1", "allow": [ { "vendorId": "04e8" }, { "vendorId": "05e3" } ] }
	  ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$VM1", "usbAttachBy": "vidpid" } ]
	}
	EOF
}

# ---- never a hub or the boot disk ---------------------------------------------

@test "safety: a USB disk mounted at /boot is never attached, history says why" {
	echo '30 22 8:33 / /boot rw,relatime shared:5 - vfat /dev/sdc1 rw' >>"$PROC/self/mountinfo"
	usb_config
	qemu_start vm1
	STATD_PREFIX=(umockdev-run --device "$DATA/usb-disk.umockdev" --)
	statd_start
	plug disk
	wait_until has_event disk ignored

	run event_detail disk ignored
	assert_output "never passed to a VM: it backs the filesystem mounted at /boot"
	run intent disk state,result
	assert_output "done|never passed to a VM: it backs the filesystem mounted at /boot"
	[ "$(events disk attached)" -eq 0 ]
	[ "$(events disk attach_failed)" -eq 0 ]
	run peripherals "$VM1"
	refute_line vhp-usb-04e8-4001-S5TCNS0R301234F
	[ -z "$(attached_to disk)" ]
}

@test "safety: the same USB disk, mounted nowhere, is attached" {
	usb_config
	qemu_start vm1
	STATD_PREFIX=(umockdev-run --device "$DATA/usb-disk.umockdev" --)
	statd_start
	plug disk
	wait_until has_event disk attached
	in_vm "$VM1" vhp-usb-04e8-4001-S5TCNS0R301234F
	[ "$(events disk ignored)" -eq 0 ]
}

@test "safety: a USB disk holding active swap is never attached" {
	printf '/dev/sdc2\t\t\t\tpartition\t8388604\t\t0\t\t-2\n' >>"$PROC/swaps"
	usb_config
	qemu_start vm1
	STATD_PREFIX=(umockdev-run --device "$DATA/usb-disk.umockdev" --)
	statd_start
	plug disk
	wait_until has_event disk ignored
	run event_detail disk ignored
	assert_output --partial "swap"
	run peripherals "$VM1"
	refute_line vhp-usb-04e8-4001-S5TCNS0R301234F
}

@test "safety: a USB hub the rules allow is never attached" {
	usb_config
	qemu_start vm1
	STATD_PREFIX=(umockdev-run --device "$DATA/usb-hub.umockdev" --)
	statd_start
	plug hub
	wait_until has_event hub ignored
	run event_detail hub ignored
	assert_output --partial "hub"
	run peripherals "$VM1"
	refute_line vhp-usb-05e3-0608.1-1
	[ "$(events hub attached)" -eq 0 ]
}

@test "safety: explain says the mounted disk is refused for safety" {
	echo '30 22 8:33 / /boot rw,relatime shared:5 - vfat /dev/sdc1 rw' >>"$PROC/self/mountinfo"
	usb_config
	run with_devices usb-disk -- "$CTL" explain -c "$CONFIG" "/sys$DISK_PATH"
	assert_output --partial "never passed to a VM: it backs the filesystem mounted at /boot"
}

# ---- evdev --------------------------------------------------------------------

TP_PATH=/devices/platform/i8042/serio1/serio2/input/input5/event5
KBD_PATH=/devices/platform/i8042/serio0/input/input3/event3

# The trackpoint and the keyboard into vm1; DEVICE_DELETED is waited for DEL_MS.
evdev_config() {
	cat >"$CONFIG" <<-EOF
	{
	  "evdevPassthrough": [
	    { "targetVm": "vm1", "allow": [ { "name": "TPPS/2" }, { "name": "AT Translated" } ] }
	  ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$VM1" } ],
	  "general": { "deviceDeletedTimeoutMs": ${DEL_MS:-5000} }
	}
	EOF
}

# evdev_event ACTION RECORDING DEVPATH: the helper's event for an input node.
evdev_event() {
	local action=$1 rec=$2 path=$3
	SEQ=$((SEQ + 1))
	if [ "$action" = add ]; then
		umockdev-run --device "$rec" -- env ACTION=add DEVPATH="$path" SUBSYSTEM=input \
			SEQNUM=$SEQ "$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
	else
		env ACTION=remove DEVPATH="$path" SUBSYSTEM=input SEQNUM=$SEQ \
			"$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
	fi
}

@test "evdev: device_add virtio-input-host-pci on a free port; QEMU's error for a missing node is recorded" {
	# The trackpoint as event250: no host has that node.
	sed 's/event5/event250/g; s/MINOR=69/MINOR=250/; s/13:69/13:250/' \
		"$DATA/evdev-trackpoint.umockdev" >"$DIR/tp250.umockdev"
	evdev_config
	qemu_ports_start vm1
	statd_start
	evdev_event add "$DIR/tp250.umockdev" "${TP_PATH//event5/event250}"
	wait_until ev_has event250 attach_failed

	run ev_detail event250 attach_failed
	assert_output --partial "Could not open '/dev/input/event250'"
	# json-c writes "/" as "\/".
	statd_log_has '{"driver":"virtio-input-host-pci","evdev":"\/dev\/input\/event250","id":"vhp-evdev-event250-c9c25601","bus":"rp1","addr":"0"}'
	# Refused for good: one attempt, no retry.
	run sql "SELECT state, attempts FROM intents WHERE action = 'attach'"
	assert_output "failed|1"
	run peripherals "$VM1"
	refute_line vhp-evdev-event250-c9c25601
}

@test "evdev: an occupied port is passed over, our own port is not offered twice" {
	evdev_config
	peer_start "$VM1" ports
	statd_start
	evdev_event add "$DATA/evdev-trackpoint.umockdev" "$TP_PATH"
	wait_until ev_has event5 attached
	evdev_event add "$DATA/evdev-keyboard.umockdev" "$KBD_PATH"
	wait_until ev_has event3 attached

	# rp1 is taken by something QEMU does not show: the trackpoint goes to rp2,
	# the keyboard past rp1 again and past the trackpoint's rp2, to rp3.
	run grep -o 'device_add {[^}]*}' "$STATD_LOG"
	assert_line --index 0 --partial '"bus":"rp1"'
	assert_line --index 1 --partial '"bus":"rp2"'
	assert_line --index 2 --partial '"bus":"rp1"'
	assert_line --index 3 --partial '"bus":"rp3"'
	[ "${#lines[@]}" -eq 4 ]
	run sql "SELECT count(*) FROM attachments"
	assert_output 2
}

@test "evdev: a restarted statd knows the ports its devices hold from the attachments" {
	evdev_config
	peer_start "$VM1" ports
	# The trackpoint stays plugged: the reconcile at the restart keeps it.
	STATD_PREFIX=(umockdev-run --device "$DATA/evdev-trackpoint.umockdev" --)
	statd_start
	evdev_event add "$DATA/evdev-trackpoint.umockdev" "$TP_PATH"
	wait_until ev_has event5 attached
	assert_equal "$(sql "SELECT bus FROM attachments")" rp2
	statd_stop
	statd_start
	wait_until sql_is 2 "SELECT count(*) FROM intents WHERE action = 'reconcile' AND state = 'done'"
	assert_equal "$(sql "SELECT state FROM attachments")" attached
	evdev_event add "$DATA/evdev-keyboard.umockdev" "$KBD_PATH"
	wait_until ev_has event3 attached

	# The keyboard is offered rp1 (taken by a device QEMU does not show), then
	# rp3, never the trackpoint's rp2: this peer would accept it there, QEMU
	# would refuse it.
	run grep -o 'device_add {[^}]*vhp-evdev-event3[^}]*}' "$STATD_LOG"
	assert_line --index 0 --partial '"bus":"rp1"'
	assert_line --index 1 --partial '"bus":"rp3"'
	[ "${#lines[@]}" -eq 2 ]
}

@test "evdev: a detach is done at DEVICE_DELETED for its id" {
	evdev_config
	peer_start "$VM1" ports
	statd_start
	evdev_event add "$DATA/evdev-trackpoint.umockdev" "$TP_PATH"
	wait_until ev_has event5 attached
	evdev_event remove - "$TP_PATH"
	wait_until ev_has event5 detached
	statd_log_has 'DEVICE_DELETED'
	run sql "SELECT count(*) FROM attachments"
	assert_output 0
}

@test "evdev: no DEVICE_DELETED within the bound: detach_timeout, the attachment is kept" {
	DEL_MS=300 evdev_config
	peer_start "$VM1" ports 1
	statd_start
	evdev_event add "$DATA/evdev-trackpoint.umockdev" "$TP_PATH"
	wait_until ev_has event5 attached
	evdev_event remove - "$TP_PATH"
	wait_until ev_has event5 detach_timeout

	run ev_detail event5 detach_timeout
	assert_output "no DEVICE_DELETED for vhp-evdev-event5-7e97e429 within 300 ms"
	[ "$(ev_events event5 detached)" -eq 0 ]
	run sql "SELECT vm, qdev_id, state FROM attachments"
	assert_output "vm1|vhp-evdev-event5-7e97e429|detach_timeout"
	# statd goes on serving the VM.
	evdev_event add "$DATA/evdev-keyboard.umockdev" "$KBD_PATH"
	wait_until ev_has event3 attached
}

# ---- PCI (the testbed and its helpers: tests/kinds.bash) -----------------------

pci_config() {
	cat >"$CONFIG" <<-EOF
	{
	  "pciPassthrough": [
	    { "targetVm": "vm1", "allow": [ { "address": "$NIC", "description": "the NIC" } ] },
	    { "allowedVms": [ "vm1" ], "allow": [ { "vendorId": "1274" } ] }
	  ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$VM1" } ]
	}
	EOF
}

# The NIC plugged for a real QEMU; statd has given the group to vfio-pci (the
# last member too) and waits for /dev/vfio/15.
pci_add_until_bound() {
	pci_config
	qemu_ports_start vm1
	pci_statd_start
	pci_event add "$NIC"
	wait_until overridden "$SERIAL"
}

@test "pci: the whole group goes to vfio-pci, then device_add; QEMU's error for a missing host is attach_failed, drivers given back" {
	pci_config
	qemu_ports_start vm1
	pci_statd_start
	pci_event add "$NIC"
	bind_group
	wait_until ev_has "$NIC" attach_failed

	run ev_detail "$NIC" attach_failed
	assert_output --partial "no such host device"
	statd_log_has '{"driver":"vfio-pci","host":"0000:06:00.0","id":"vhp-pci-0000-06-00.0","bus":"rp1","addr":"0"}'
	run peripherals "$VM1"
	refute_line vhp-pci-0000-06-00.0
	wait_until drivers_restored
	# The driverless serial controller goes back to the PCI core's probe.
	run tb bus/pci/drivers/vfio-pci/unbind
	assert_output "$SERIAL"
	[ "$(tb "bus/pci/devices/$NIC/driver_override")" != vfio-pci ]
}

@test "pci: attached past an occupied port; on detach, DEVICE_DELETED, then each function gets its driver back" {
	pci_config
	peer_start "$VM1" ports
	pci_statd_start
	pci_event add "$NIC"
	bind_group
	wait_until ev_has "$NIC" attached
	statd_log_has '"id":"vhp-pci-0000-06-00.0","bus":"rp2"'
	assert_equal "$(sql "SELECT qdev_id, bus, state FROM attachments")" 'vhp-pci-0000-06-00.0|rp2|attached'
	run sql "SELECT count(*) FROM host_drivers"
	assert_output 3

	pci_event remove "$NIC"
	wait_until ev_has "$NIC" detached
	wait_until drivers_restored
}

@test "pci: /dev/vfio/GROUP never appears: attach_failed after the bound, drivers given back" {
	pci_add_until_bound
	for a in "$NIC" "$SOUND" "$SERIAL"; do kernel_gives_vfio "$a"; done
	wait_until ev_has "$NIC" attach_failed
	run ev_detail "$NIC" attach_failed
	assert_output --partial "/dev/vfio/15 did not appear within 5000 ms"
	refute statd_log_has '"driver":"vfio-pci"'
	wait_until drivers_restored
}

@test "pci: an emulated device with the NIC's vendor:device in the guest is not taken for the NIC" {
	pci_config
	# QEMU's e1000e is 8086:10d3, like a real 82574L: the NIC is made one.
	QEMU_EXTRA=(-device e1000e,id=emulated,bus=pcie.0)
	qemu_ports_start vm1
	PCI_TB_EXTRA="printf 0x10d3 >\"\$UMOCKDEV_DIR/sys/bus/pci/devices/$NIC/device\""
	pci_statd_start
	pci_event add "$NIC"
	bind_group
	wait_until ev_has "$NIC" attach_failed
	statd_log_has '"execute":"qom-get","arguments":{"path":"\/machine\/peripheral\/emulated","property":"host"}'
	statd_log_has '{"driver":"vfio-pci","host":"0000:06:00.0","id":"vhp-pci-0000-06-00.0","bus":"rp1","addr":"0"}'
	run ev_detail "$NIC" attach_failed
	assert_output --partial "no such host device"
	[ "$(ev_events "$NIC" attached)" -eq 0 ]
}

# How many times statd gave the NIC to vfio-pci: once per look while it waits.
nic_looks() {
	grep -c "giving $NIC (group 15" "$STATD_LOG"
}

nic_looks_are() {
	[ "$(nic_looks)" -eq "$1" ]
}

@test "pci: statd looks again when /dev/vfio/GROUP appears, not on a timer" {
	pci_add_until_bound
	# The look that failed, and one more once /dev/vfio is watched; a timer
	# would add more before the end of the test.
	wait_until nic_looks_are 2
	for a in "$NIC" "$SOUND" "$SERIAL"; do kernel_gives_vfio "$a"; done
	# /dev/vfio does not exist yet: its parent is watched until it does.
	mkdir -p "$TB/dev/vfio"
	: >"$TB/dev/vfio/15"
	wait_until ev_has "$NIC" attach_failed
	run ev_detail "$NIC" attach_failed
	assert_output --partial "no such host device"
	assert_equal "$(nic_looks)" 2
	wait_until drivers_restored
}

@test "pci: unplugged while statd waits for /dev/vfio/GROUP: the attach is cancelled, the drivers given back" {
	pci_add_until_bound
	for a in "$NIC" "$SOUND" "$SERIAL"; do kernel_gives_vfio "$a"; done
	pci_event remove "$NIC"
	wait_until ev_has "$NIC" attach_cancelled
	wait_until drivers_restored
	refute statd_log_has '"driver":"vfio-pci"'
}

# The peer that stands for vm1 stops, as a VM does: its socket goes.
peer_stop_vm1() {
	kill "$(cat "$DIR/peer-vm1.sock.pid")"
	rm -f "$VM1" "$VM1.listening" "$DIR/peer-vm1.sock.pid"
	wait_until sql_is vm_stopped "SELECT state FROM attachments"
}

@test "pci: its VM leaves the config while statd waits for /dev/vfio/GROUP: attach_failed, the drivers given back" {
	pci_add_until_bound
	for a in "$NIC" "$SOUND" "$SERIAL"; do kernel_gives_vfio "$a"; done
	cat >"$CONFIG" <<-EOF
	{ "pciPassthrough": [ { "targetVm": "vm2", "allow": [ { "address": "$NIC" } ] } ],
	  "vms": [ { "name": "vm2", "type": "qemu", "socket": "$DIR/vm2.sock" } ] }
	EOF
	kill -HUP "$STATD_PID"
	wait_until ev_has "$NIC" attach_failed
	run ev_detail "$NIC" attach_failed
	assert_output "VM vm1 was removed from the config"
	wait_until drivers_restored
}

@test "pci: unplugged while its VM is stopped: the row goes, the functions get their drivers back" {
	pci_config
	peer_start "$VM1" ports
	pci_statd_start
	pci_event add "$NIC"
	bind_group
	wait_until ev_has "$NIC" attached
	peer_stop_vm1
	pci_event remove "$NIC"
	wait_until ev_has "$NIC" detached
	run ev_detail "$NIC" detached
	assert_output "its VM had stopped"
	run sql "SELECT count(*) FROM attachments"
	assert_output 0
	wait_until drivers_restored
}

@test "pci: a reconcile forgets a row no rule wants any more: the functions get their drivers back" {
	pci_config
	peer_start "$VM1" ports
	pci_statd_start
	pci_event add "$NIC"
	bind_group
	wait_until ev_has "$NIC" attached
	peer_stop_vm1
	# The rules no longer send the NIC anywhere.
	cat >"$CONFIG" <<-EOF
	{ "pciPassthrough": [ { "targetVm": "vm1", "allow": [ { "address": "0000:99:00.0" } ] } ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$VM1" } ] }
	EOF
	kill -HUP "$STATD_PID"
	wait_until statd_log_has 'reloaded'
	# vm1 starts again: its reconcile finds the NIC's row not in it.
	peer_start "$VM1" ports
	wait_until ev_has "$NIC" forgotten
	wait_until drivers_restored
	run sql "SELECT count(*) FROM intents WHERE action = 'attach' AND state = 'pending'"
	assert_output 0
}

@test "pci: a rule set with only allowedVms is refused, as the original does" {
	pci_config
	qemu_ports_start vm1
	pci_statd_start
	pci_event add "$SOUND"
	wait_until ev_has "$SOUND" ignored
	run ev_detail "$SOUND" ignored
	assert_output "PCI rule sets need a targetVm: allowedVms alone is refused"
	run sql "SELECT count(*) FROM host_drivers"
	assert_output 0
}

# skip_config ALLOW-RULES: one rule set with pciIommuSkipIfShared.
skip_config() {
	cat >"$CONFIG" <<-EOF
	{
	  "pciPassthrough": [ { "targetVm": "vm1", "pciIommuSkipIfShared": true, "allow": [ $1 ] } ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$VM1" } ]
	}
	EOF
}

@test "pci: pciIommuSkipIfShared refuses a function whose group has others the rule set does not take" {
	skip_config '{ "address": "'$NIC'" }'
	pci_event add "$NIC"
	run ev_detail "$NIC" ignored
	assert_output "its IOMMU group is shared with $SOUND, $SERIAL, which this rule set does not take (pciIommuSkipIfShared)"
	run sql "SELECT count(*) FROM intents WHERE action = 'attach'"
	assert_output 0
}

@test "pci: pciIommuSkipIfShared lets a function go when the rule set takes its whole group" {
	skip_config '{ "vendorId": "8086" }, { "vendorId": "1274" }, { "vendorId": "9710" }'
	pci_event add "$NIC"
	run sql "SELECT action, vm, state FROM intents"
	assert_output "attach|vm1|pending"
	[ "$(ev_events "$NIC" ignored)" -eq 0 ]
}
