#!/usr/bin/env bats
# The device_add arguments of statd/qemu/qemu-args.c against a real QEMU: a paused
# q35 with an xHCI controller, three pcie-root-ports rp1..rp3 and a
# virtio-rng-pci on rp2. There is no host PCI device or evdev node to pass
# here, so each test checks that QEMU took the arguments and failed only on
# the missing host side, with its own words.

load common
load qemu

HOOK=$top_builddir/tests/vhotplug-hook

setup() {
	qemu_setup
	SOCK=$DIR/vm.sock
	qemu-system-x86_64 -M q35 -nodefaults -display none -S -device qemu-xhci,id=xhci \
		-device pcie-root-port,id=rp1,chassis=1 -device pcie-root-port,id=rp2,chassis=2 \
		-device pcie-root-port,id=rp3,chassis=3 -device virtio-rng-pci,id=rng0,bus=rp2 \
		-qmp "unix:$SOCK,server=on,wait=off" </dev/null >"$DIR/qemu.log" 2>&1 3>&- &
	echo $! >"$DIR/qemu.pid"
	wait_until test -S "$SOCK"
}

teardown() {
	qemu_teardown
}

@test "qemu-args: vfio-pci for a host function that does not exist: QEMU's own error" {
	args=$("$HOOK" qemu-vfio 0000:7f:00.0 vhp-pci-7f rp1)
	run qmp "$SOCK" device_add "$args"
	assert_failure
	assert_output --partial "vfio /sys/bus/pci/devices/0000:7f:00.0: no such host device"
	run peripherals "$SOCK"
	refute_line vhp-pci-7f
}

@test "qemu-args: evdev for a node that does not exist: QEMU's own error" {
	args=$("$HOOK" qemu-evdev /dev/input/event250 vhp-evdev-250 rp3)
	run qmp "$SOCK" device_add "$args"
	assert_failure
	assert_output --partial "Could not open '/dev/input/event250'"
}

@test "qemu-args: an occupied port is refused by QEMU, recognised, and the next one is free" {
	# Take rp1 as a passed device would.
	qmp "$SOCK" device_add '{"driver":"virtio-rng-pci","id":"taken","bus":"rp1","addr":"0"}'
	args=$("$HOOK" qemu-vfio 0000:7f:00.0 vhp-pci-7f rp1)
	run qmp "$SOCK" device_add "$args"
	assert_failure
	assert_output --partial "in use by virtio-rng-pci,id=taken"
	"$HOOK" qemu-occupied "$(echo "$output" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["desc"])')"
	# A paused guest shows nothing behind any port: our own records (rp1) rule it out.
	run bash -c "'$PYTHON' -S '$QMP_QUERY' '$SOCK' query-pci | '$HOOK' qemu-free-ports rp1"
	assert_success
	assert_output "rp2
rp3"
}

@test "qemu-args: a paused guest lists every root port as free" {
	run bash -c "'$PYTHON' -S '$QMP_QUERY' '$SOCK' query-pci | '$HOOK' qemu-free-ports"
	assert_success
	assert_output "rp1
rp2
rp3"
}

@test "qemu-args: a device already in the guest is found by vendor and device" {
	qmp "$SOCK" query-pci >"$DIR/pci.json"
	"$HOOK" qemu-has 1b36 000d <"$DIR/pci.json"	# qemu-xhci
	run "$HOOK" qemu-has 8086 100e <"$DIR/pci.json"
	assert_failure
}

@test "qemu-args: a mouse node or a bad address never becomes arguments" {
	run "$HOOK" qemu-evdev /dev/input/mouse0 vhp-evdev-m rp1
	assert_failure
	run "$HOOK" qemu-vfio '0000:7f:00.0,romfile=/etc/shadow' vhp-pci rp1
	assert_failure
}
