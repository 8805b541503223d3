#!/usr/bin/env bats
# statd end to end for what issue 10 adds besides USB into QEMU: the host-side
# checks before an attach (statd/prep.c), evdev and PCI into a real QEMU, and
# the faults QEMU will not produce on demand against tests/qmp-peer.py.
# statd runs under umockdev when it must see the device's sysfs.

load common
load qemu

DISK_PATH=/devices/pci0000:00/0000:00:14.0/usb2/2-2
HUB_PATH=/devices/pci0000:00/0000:00:14.0/usb1/1-1

setup_file() {
	PYTHON=$(python3 -c 'import sys; print(sys.executable)')
	export PYTHON
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
	refute_line vhp-usb-2-2
	[ -z "$(attached_to disk)" ]
}

@test "safety: the same USB disk, mounted nowhere, is attached" {
	usb_config
	qemu_start vm1
	STATD_PREFIX=(umockdev-run --device "$DATA/usb-disk.umockdev" --)
	statd_start
	plug disk
	wait_until has_event disk attached
	in_vm "$VM1" vhp-usb-2-2
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
	refute_line vhp-usb-2-2
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
	refute_line vhp-usb-1-1
	[ "$(events hub attached)" -eq 0 ]
}

@test "safety: explain says the mounted disk is refused for safety" {
	echo '30 22 8:33 / /boot rw,relatime shared:5 - vfat /dev/sdc1 rw' >>"$PROC/self/mountinfo"
	usb_config
	run with_devices usb-disk -- "$CTL" explain -c "$CONFIG" "/sys$DISK_PATH"
	assert_output --partial "never passed to a VM: it backs the filesystem mounted at /boot"
}
