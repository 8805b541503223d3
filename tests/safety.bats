#!/usr/bin/env bats
# "Never pass a hub or the boot disk" (lib/rules/safety.c), whatever the rules say.
# tests/data/usb-disk.umockdev is a USB SSD (2-2) with a disk sdc (8:32) and
# two partitions sdc1 (8:33) and sdc2 (8:34); mountinfo and swaps are written
# per test under a fake proc root.

load common

HOOK=$top_builddir/tests/vhotplug-hook
DISK=/sys/devices/pci0000:00/0000:00:14.0/usb2/2-2

setup() {
	PROC=$BATS_TEST_TMPDIR/proc
	mkdir -p "$PROC/self"
	# The host's own root on NVMe: never the USB disk's numbers.
	echo '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw' >"$PROC/self/mountinfo"
	echo '25 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw' >>"$PROC/self/mountinfo"
	printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' >"$PROC/swaps"
	export VHOTPLUG_PROC_ROOT=$PROC
}

mount_line() {
	echo "30 22 $1 / $2 rw,relatime shared:5 - ${3:-ext4} /dev/whatever rw" >>"$PROC/self/mountinfo"
}

check() {
	local recording=$1
	shift
	run with_devices "$recording" -- "$HOOK" safety "$@"
}

@test "safety: a USB disk whose partition is mounted at /boot is refused" {
	mount_line 8:33 /boot vfat
	check usb-disk "$DISK"
	assert_success
	assert_output "refused: backs the filesystem mounted at /boot"
}

@test "safety: the same USB disk, not mounted, may be passed" {
	check usb-disk "$DISK"
	assert_success
	assert_output "ok"
}

@test "safety: a USB disk that holds the root filesystem is refused" {
	mount_line 8:34 /
	check usb-disk "$DISK"
	assert_output "refused: backs the filesystem mounted at /"
}

@test "safety: a whole-disk filesystem counts too" {
	mount_line 8:32 /srv/backup
	check usb-disk "$DISK"
	assert_output "refused: backs the filesystem mounted at /srv/backup"
}

@test "safety: the mount point is shown unescaped" {
	mount_line 8:34 '/media/my\040stick'
	check usb-disk "$DISK"
	assert_output "refused: backs the filesystem mounted at /media/my stick"
}

@test "safety: a USB disk with active swap on a partition is refused" {
	printf '/dev/sdc2                               partition\t8388604\t\t0\t\t-2\n' >>"$PROC/swaps"
	check usb-disk "$DISK"
	assert_output "refused: backs the swap area /dev/sdc2"
}

@test "safety: a filesystem on a device stacked on the USB disk (dm-crypt) is refused" {
	mount_line 254:0 /
	run umockdev-run --device "$DATA/usb-disk.umockdev" -- bash -c '
		sys=$UMOCKDEV_DIR/sys
		part=$(readlink -f "$sys/class/block/sdc2")
		mkdir -p "$sys/devices/virtual/block/dm-0" "$part/holders"
		echo 254:0 >"$sys/devices/virtual/block/dm-0/dev"
		ln -s ../../devices/virtual/block/dm-0 "$sys/class/block/dm-0"
		ln -s ../../../../../../../../../../../../virtual/block/dm-0 "$part/holders/dm-0"
		"$0" safety "$1"' "$HOOK" "$DISK"
	assert_success
	assert_output "refused: backs the filesystem mounted at /"
}

@test "safety: a USB hub is refused" {
	check usb-hub /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1
	assert_output "refused: is a USB hub"
}

@test "safety: a device with a hub interface is refused" {
	run umockdev-run --device "$DATA/usb-mouse.umockdev" -- bash -c '
		dev=$UMOCKDEV_DIR/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3
		echo 09 >"$dev/1-3:1.0/bInterfaceClass"
		"$0" safety "$1"' "$HOOK" /sys/devices/pci0000:00/0000:00:14.0/usb1/1-3
	assert_output "refused: is a USB hub: its interface 1-3:1.0"
}

@test "safety: a USB mouse may be passed" {
	mount_line 8:33 /boot vfat
	check usb-mouse /sys/devices/pci0000:00/0000:00:14.0/usb1/1-3
	assert_output "ok"
}

@test "safety: a syspath that climbs out of /sys/devices is not judged" {
	check usb-disk "$DISK/../../usb1"
	assert_failure
	assert_output --partial "Invalid argument"
}

@test "safety: an unreadable mountinfo is an error, not a pass" {
	mount_line 8:33 /boot vfat
	rm "$PROC/self/mountinfo"
	check usb-disk "$DISK"
	assert_failure
	assert_output --partial "No such file or directory"
}

# ---- vhotplugctl explain -----------------------------------------------------

write_storage_config() {
	cat >"$BATS_TEST_TMPDIR/vhotplug.json" <<'JSON'
{
  "vms": [{ "name": "office", "type": "qemu", "socket": "/run/office.sock" }],
  "usbPassthrough": [{
    "description": "USB storage goes to the office VM",
    "targetVm": "office",
    "allow": [{ "interfaceClass": 8, "description": "any mass storage" }]
  }]
}
JSON
}

@test "explain: a USB disk mounted at /boot stays on the host, and says why" {
	write_storage_config
	mount_line 8:33 /boot vfat
	run with_devices usb-disk -- "$CTL" explain -c "$BATS_TEST_TMPDIR/vhotplug.json" "$DISK"
	assert_success
	assert_output --partial "=> refused: never passed to a VM: it backs the filesystem mounted at /boot; it stays on the host"
}

@test "explain: the same disk unmounted goes to the rule's VM" {
	write_storage_config
	run with_devices usb-disk -- "$CTL" explain -c "$BATS_TEST_TMPDIR/vhotplug.json" "$DISK"
	assert_success
	refute_output --partial "never passed"
	assert_output --partial "attach to office"
}

@test "safety: a syspath ending in .. is not judged either" {
	check usb-disk "$DISK/.."
	assert_failure
	assert_output --partial "Invalid argument"
}
