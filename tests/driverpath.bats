#!/usr/bin/env bats
# driverPath rules: the module that would drive each interface is looked up with
# libkmod in a module directory this file builds, as a distribution's is built:
# objects with a .modinfo section installed under lib/modules/VERSION/kernel/ and
# indexed by the real depmod. The devices are umockdev recordings whose only
# interface has the vendor-specific class (:ffff00:), as many USB network adapters.

bats_require_minimum_version 1.5.0

load common

DEV=/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1
KVER=9.9.9-vhotplug-test

# module NAME DIR ALIAS: NAME.ko, with ALIAS, under kernel/DIR of the module directory.
module() {
	local src=$BATS_FILE_TMPDIR/$1.c dir=$MODROOT/lib/modules/$KVER/kernel/$2
	printf '__attribute__((section(".modinfo"), used, aligned(1)))\n' >"$src"
	printf 'static const char info[] = "alias=%s\\0name=%s\\0license=GPL";\n' "$3" "$1" >>"$src"
	mkdir -p "$dir"
	"${CC:-cc}" -c -o "$dir/$1.ko" "$src"
}

setup_file() {
	DEPMOD=$(PATH=$PATH:/usr/sbin:/sbin command -v depmod) || skip "no depmod"
	MODROOT=$BATS_FILE_TMPDIR/root
	module fake_usbnet drivers/net/usb 'usb:v0BDAp8153d*dc*dsc*dp*icFFiscFFip00in*'
	module fake_usbserial drivers/usb/serial 'usb:v1A86p7523d*dc*dsc*dp*ic*isc*ip*in*'
	touch "$MODROOT/lib/modules/$KVER/modules.order" "$MODROOT/lib/modules/$KVER/modules.builtin"
	"$DEPMOD" -b "$MODROOT" "$KVER"
	export MODROOT MODDIR=$MODROOT/lib/modules/$KVER
}

setup() {
	CONFIG=$DATA/driverpath.json
	# Were modprobe or modinfo run, they would leave a mark here.
	FAKEBIN=$BATS_TEST_TMPDIR/bin
	mkdir -p "$FAKEBIN"
	for tool in modprobe modinfo; do
		printf '#!/bin/sh\ntouch "%s/ran-%s"\nexit 1\n' "$BATS_TEST_TMPDIR" "$tool" >"$FAKEBIN/$tool"
		chmod +x "$FAKEBIN/$tool"
	done
}

explain() {
	run with_devices "$1" -- env PATH="$FAKEBIN:$PATH" \
		"$CTL" explain -c "$CONFIG" --module-dir "$MODDIR" --json "$DEV"
}

@test "the module directory was indexed: depmod found both aliases" {
	run grep -c '^alias usb:' "$MODDIR/modules.alias"
	assert_output 2
}

@test "driverPath: vendor-specific adapter whose module is under drivers/net/usb goes to the network VM" {
	explain usb-net-vendor
	assert_success
	assert_output --partial '"targetVm":"net-vm"'
	assert_output --partial '"rule":"usbPassthrough[0].allow[0]"'
	assert_output --partial '"tag":"net"'
	assert_output --partial '0bda:8153'
}

@test "driverPath: no program is run for the look-up" {
	explain usb-net-vendor
	assert_success
	assert_output --partial '"targetVm":"net-vm"'
	[ ! -e "$BATS_TEST_TMPDIR/ran-modprobe" ]
	[ ! -e "$BATS_TEST_TMPDIR/ran-modinfo" ]
}

@test "driverPath: a device whose module lives elsewhere stays on the host" {
	explain usb-vendor-serial
	assert_success
	assert_output --partial '"targetVm":null'
	assert_output --partial 'driverPath does not match'
	assert_output --partial 'serial'
	assert_output --partial 'fake_usbserial.ko'
}

@test "driverPath: a device with no module stays on the host" {
	explain usb-vendor-nomodule
	assert_success
	assert_output --partial '"targetVm":null'
	assert_output --partial "driverPath: no kernel module for the device's interfaces"
}

@test "driverPath: a device with an interface of a real class is not looked up, as upstream" {
	explain usb-ethernet
	assert_success
	assert_output --partial '"targetVm":null'
	assert_output --partial 'driverPath: not looked at, an interface has class 02'
}

@test "driverPath: VHOTPLUG_MODULE_DIR points the helper's look-up; the intent carries the tag" {
	local db=$BATS_TEST_TMPDIR/vhotplug.db
	mkdir -p "$BATS_TEST_TMPDIR/run"
	run with_devices usb-net-vendor -- env PATH="$FAKEBIN:$PATH" ACTION=add SEQNUM=7 DEVPATH=/devices/pci0000:00/0000:00:14.0/usb2/2-1 SUBSYSTEM=usb \
		DEVTYPE=usb_device VHOTPLUG_CONFIG="$CONFIG" VHOTPLUG_DB="$db" \
		VHOTPLUG_RUNDIR="$BATS_TEST_TMPDIR/run" VHOTPLUG_SCHEMA="$SCHEMA" \
		VHOTPLUG_MODULE_DIR="$MODDIR" "$HELPER"
	assert_success
	run sqlite3 "$db" "SELECT action, vm, tag FROM intents"
	assert_output 'attach|net-vm|net'
	[ ! -e "$BATS_TEST_TMPDIR/ran-modprobe" ]
}
