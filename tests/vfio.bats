#!/usr/bin/env bats
# Host-side PCI preparation (lib/host/vfio.c) in a umockdev testbed: the recording
# tests/data/pci-group.umockdev puts a NIC, a sound card and a driverless serial
# controller behind a PCIe-to-PCI bridge, all four in IOMMU group 15.
# tests/pci-testbed.sh adds what the kernel would have (group links, driver
# directories, drivers_probe), every writable file empty, and each test reads
# back what vhotplug wrote there. The testbed goes away when umockdev-run ends,
# so each test runs its steps and its `show` inside one testbed.

load common

HOOK=$top_builddir/tests/vhotplug-hook
DEVS=devices/pci0000:00/0000:00:1c.4/0000:05:00.0
NIC=0000:06:00.0
SOUND=0000:06:01.0
SERIAL=0000:06:02.0
BRIDGE=0000:05:00.0

# in_testbed SCRIPT: run bash SCRIPT in the PCI testbed, with $HOOK and the
# helpers of pci-testbed.sh.
in_testbed() {
	run umockdev-run --device "$DATA/pci-group.umockdev" -- \
		env HOOK="$HOOK" DEVS="$DEVS" bash -c ". '$top_srcdir/tests/pci-testbed.sh'; $1"
}

@test "vfio: the plan lists every member of the group with its driver and flags bridges" {
	in_testbed '$HOOK vfio-plan 0000:06:01.0'
	assert_success
	assert_output "group 15
0000:05:00.0 - bridge
0000:06:00.0 e1000 function
0000:06:01.0 snd_ens1371 function
0000:06:02.0 - function"
}

@test "vfio: planning writes nothing" {
	in_testbed '$HOOK vfio-plan 0000:06:00.0 >/dev/null &&
		show $DEVS/0000:06:00.0/driver_override bus/pci/drivers/e1000/unbind bus/pci/drivers_probe'
	assert_success
	assert_output "$DEVS/0000:06:00.0/driver_override=(null)
bus/pci/drivers/e1000/unbind=
bus/pci/drivers_probe="
}

@test "vfio: binding a function overrides its driver, unbinds it and asks for a probe" {
	in_testbed '$HOOK vfio-bind 0000:06:00.0 &&
		show $DEVS/0000:06:00.0/driver_override bus/pci/drivers/e1000/unbind bus/pci/drivers_probe'
	assert_success
	assert_output "$DEVS/0000:06:00.0/driver_override=vfio-pci
bus/pci/drivers/e1000/unbind=$NIC
bus/pci/drivers_probe=$NIC"
}

@test "vfio: binding every non-bridge member leaves each other driver's unbind with its own address" {
	in_testbed 'for a in 0000:06:00.0 0000:06:01.0 0000:06:02.0; do $HOOK vfio-bind $a || exit; done
		show $DEVS/0000:06:01.0/driver_override $DEVS/0000:06:02.0/driver_override \
			bus/pci/drivers/snd_ens1371/unbind bus/pci/drivers_probe'
	assert_success
	# drivers_probe is rewritten by each bind: the last one stays.
	assert_output "$DEVS/0000:06:01.0/driver_override=vfio-pci
$DEVS/0000:06:02.0/driver_override=vfio-pci
bus/pci/drivers/snd_ens1371/unbind=$SOUND
bus/pci/drivers_probe=$SERIAL"
}

@test "vfio: a function without a driver is overridden and probed, nothing unbound" {
	in_testbed '$HOOK vfio-bind 0000:06:02.0 &&
		show $DEVS/0000:06:02.0/driver_override bus/pci/drivers/e1000/unbind bus/pci/drivers/snd_ens1371/unbind bus/pci/drivers_probe'
	assert_success
	assert_output "$DEVS/0000:06:02.0/driver_override=vfio-pci
bus/pci/drivers/e1000/unbind=
bus/pci/drivers/snd_ens1371/unbind=
bus/pci/drivers_probe=$SERIAL"
}

@test "vfio: a bridge is refused and not written" {
	in_testbed '$HOOK vfio-bind 0000:05:00.0; echo rc=$?; show $DEVS/driver_override bus/pci/drivers_probe'
	assert_output --partial "Operation not permitted"
	assert_output --partial "rc=1"
	assert_output --partial "$DEVS/driver_override=(null)"
	assert_output --partial "bus/pci/drivers_probe="
}

@test "vfio: a function vfio-pci already has is only overridden" {
	in_testbed 'pci_testbed_driver 0000:06:00.0 vfio-pci && $HOOK vfio-bind 0000:06:00.0 &&
		show $DEVS/0000:06:00.0/driver_override bus/pci/drivers/vfio-pci/unbind bus/pci/drivers_probe'
	assert_success
	assert_output "$DEVS/0000:06:00.0/driver_override=vfio-pci
bus/pci/drivers/vfio-pci/unbind=
bus/pci/drivers_probe="
}

@test "vfio: restore clears the override, unbinds from vfio-pci and binds the recorded driver" {
	in_testbed '$HOOK vfio-bind 0000:06:00.0 && pci_testbed_driver 0000:06:00.0 vfio-pci &&
		: >$UMOCKDEV_DIR/sys/bus/pci/drivers_probe &&
		$HOOK vfio-restore 0000:06:00.0 e1000 &&
		show $DEVS/0000:06:00.0/driver_override bus/pci/drivers/vfio-pci/unbind bus/pci/drivers/e1000/bind bus/pci/drivers_probe'
	assert_success
	assert_output "$DEVS/0000:06:00.0/driver_override=
bus/pci/drivers/vfio-pci/unbind=$NIC
bus/pci/drivers/e1000/bind=$NIC
bus/pci/drivers_probe="
}

@test "vfio: restore without a recorded driver asks for a probe" {
	in_testbed 'pci_testbed_driver 0000:06:02.0 vfio-pci && $HOOK vfio-restore 0000:06:02.0 &&
		show bus/pci/drivers/vfio-pci/unbind bus/pci/drivers_probe'
	assert_success
	assert_output "bus/pci/drivers/vfio-pci/unbind=$SERIAL
bus/pci/drivers_probe=$SERIAL"
}

@test "vfio: restore to a driver that is gone asks for a probe" {
	in_testbed 'pci_testbed_driver 0000:06:01.0 vfio-pci && rm -r $UMOCKDEV_DIR/sys/bus/pci/drivers/snd_ens1371 &&
		$HOOK vfio-restore 0000:06:01.0 snd_ens1371 && show bus/pci/drivers/vfio-pci/unbind bus/pci/drivers_probe'
	assert_success
	assert_output "bus/pci/drivers/vfio-pci/unbind=$SOUND
bus/pci/drivers_probe=$SOUND"
}

@test "vfio: restore refuses a driver name that is a path" {
	in_testbed '$HOOK vfio-restore 0000:06:00.0 ../../../devices'
	assert_failure
	assert_output --partial "Invalid argument"
}

@test "vfio: an address that is not dddd:bb:dd.f is refused before any sysfs access" {
	in_testbed '$HOOK vfio-bind ../../../devices/x; $HOOK vfio-plan 0000:06:00.0/..; $HOOK vfio-bind 0000:6:00.0'
	assert_output "vfio_bind_member: Invalid argument
vfio_group_plan: Invalid argument
vfio_bind_member: Invalid argument"
}

@test "vfio: a device without an IOMMU group cannot be planned" {
	in_testbed 'rm $UMOCKDEV_DIR/sys/$DEVS/0000:06:00.0/iommu_group && $HOOK vfio-plan 0000:06:00.0'
	assert_failure
	assert_output --partial "No such device"
}

@test "vfio: the group node is looked for under the testbed's /dev" {
	in_testbed '$HOOK vfio-ready 15; echo rc=$?; mkdir -p $UMOCKDEV_DIR/dev/vfio && : >$UMOCKDEV_DIR/dev/vfio/15 && $HOOK vfio-ready 15'
	assert_success
	assert_line --index 0 --regexp '/dev/vfio/15$'
	assert_line --index 1 "rc=2"
}

@test "vfio: restore leaves a function another driver has taken meanwhile" {
	in_testbed 'pci_testbed_driver 0000:06:00.0 vfio-pci && $HOOK vfio-bind 0000:06:00.0 &&
		pci_testbed_driver 0000:06:00.0 igb && : >$UMOCKDEV_DIR/sys/bus/pci/drivers_probe &&
		$HOOK vfio-restore 0000:06:00.0 e1000 &&
		show $DEVS/0000:06:00.0/driver_override bus/pci/drivers/e1000/bind bus/pci/drivers_probe'
	assert_success
	assert_output "$DEVS/0000:06:00.0/driver_override=
bus/pci/drivers/e1000/bind=
bus/pci/drivers_probe="
}
