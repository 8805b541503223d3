#!/bin/bash
# The whole pipeline on a machine with no USB or spare PCI hardware: a real
# QEMU, statd, a USB mouse, a USB Ethernet adapter (for a crosvm VM) and a PCI
# NIC faked by umockdev, "plugged" by running the helper the way udev would.
# Run from the top of a built tree: ./demo/demo.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$top}
tmp=$(mktemp -d /tmp/vhotplug-demo.XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# Wait up to 10 s for a command to succeed.
wait_for() {
	for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "demo: timed out waiting for: $*" >&2
	return 1
}
# Wait for N (1) history events EVENT: has_event EVENT [N].
has_event() { [ "$(sqlite3 "$db" "select count(*) from history where event = '$1'")" -ge "${2:-1}" ]; }
# has_event_since EVENT ID: an EVENT row after history row ID (a wait for this
# step's own row, not an older one).
has_event_since() { [ "$(sqlite3 "$db" "select count(*) from history where event = '$1' and id > $2")" -ge 1 ]; }
# Harmless on a normal build; lets a sanitizer build run under umockdev's preload.
export ASAN_OPTIONS=verify_asan_link_order=0

# crosvm is not packaged: tests/fake-crosvm prints what it would print, and
# the device node it opens comes from the umockdev recording.
export FAKE_CROSVM_STATE=$tmp/crosvm VHOTPLUG_DEV_ROOT=$tmp/dev
mkdir -p "$tmp/dev/bus/usb/002"
python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes.fromhex(sys.argv[2]))' \
	"$tmp/dev/bus/usb/002/002" 12010003000000095e04c607003101020302

# vidpid: QEMU takes the device by vendor/product id and waits for it to show
# up on the host, so the demo works without the mouse really being there.
cat >"$tmp/vhotplug.json" <<JSON
{
  "usbPassthrough": [
    {
      "description": "Pointing devices for the desktop VM",
      "targetVm": "desktop",
      "allow": [
        { "interfaceClass": 3, "interfaceProtocol": 2, "description": "HID mouse" }
      ]
    },
    {
      "description": "USB Ethernet for the network VM",
      "targetVm": "net",
      "allow": [ { "vendorId": "045e", "productId": "07c6" } ]
    }
  ],
  "pciPassthrough": [
    {
      "description": "A NIC for the desktop VM",
      "targetVm": "desktop",
      "allow": [ { "address": "0000:06:00.0", "description": "e1000 NIC" } ]
    }
  ],
  "vms": [
    { "name": "desktop", "type": "qemu", "socket": "$tmp/desktop.qmp", "usbAttachBy": "vidpid" },
    { "name": "net", "type": "crosvm", "socket": "$tmp/net.sock" }
  ],
  "general": { "crosvm": "$top/tests/fake-crosvm" }
}
JSON
db=$tmp/vhotplug.db
opts=(-c "$tmp/vhotplug.json" --db "$db" --run-dir "$tmp/run")
mouse=/devices/pci0000:00/0000:00:14.0/usb1/1-3
query() { python3 "$top/tests/qmp-query.py" "$tmp/desktop.qmp" "$@"; }
show() { echo; echo "== $1"; sqlite3 -header -column "$db" "$2"; }

start_qemu() {
	qemu-system-x86_64 -M q35 -nodefaults -display none -S -device qemu-xhci,id=xhci \
		-device pcie-root-port,id=rp1,chassis=1 -device pcie-root-port,id=rp2,chassis=2 \
		-device pcie-root-port,id=rp3,chassis=3 -qmp "unix:$tmp/desktop.qmp,server=on,wait=off" \
		2>>"$tmp/qemu.log" &
	qemu_pid=$!
	pids+=($qemu_pid)
	wait_for test -S "$tmp/desktop.qmp"
}
echo "== starting QEMU (paused, no disks, PCIe root ports for hot-plug) with a QMP socket"
start_qemu

echo "== a crosvm VM's control socket (a listening SEQPACKET socket)"
python3 "$top/tests/seqpacket-listen.py" "$tmp/net.sock" &
pids+=($!)
wait_for test -e "$tmp/net.sock.ready"

# statd sees the sysfs of a umockdev testbed: the mouse plugged below, and a
# NIC (e1000), a sound card and a driverless serial controller behind a
# PCIe-to-PCI bridge, all four in IOMMU group 15. tests/pci-testbed.sh adds
# what the kernel would have there (group links, the drivers' bind/unbind
# files, drivers_probe).
{ cat "$top/tests/data/pci-group.umockdev"; echo; cat "$top/tests/data/usb-mouse.umockdev"; } >"$tmp/statd.umockdev"
pci_devs=/devices/pci0000:00/0000:00:1c.4/0000:05:00.0
in_pci_testbed() {
	umockdev-run --device "$top/tests/data/pci-group.umockdev" -- bash -c \
		". '$top/tests/pci-testbed.sh'; exec \"\$@\"" bash "$@"
}
echo "== starting vhotplug-statd"
# exec: the pid to stop at the end is umockdev-run's, which passes the signal on.
(exec umockdev-run --device "$tmp/statd.umockdev" -- bash -c \
	". '$top/tests/pci-testbed.sh'; echo \"\$UMOCKDEV_DIR\" >'$tmp/testbed'; exec \"\$@\"" \
	bash "$build/statd/vhotplug-statd" "${opts[@]}" 2>"$tmp/statd.log") &
pids+=($!)
wait_for test -S "$tmp/run/statd.sock"
tb=$(cat "$tmp/testbed")

echo "== plugging a USB mouse (umockdev), helper run as udev would run it"
umockdev-run --device "$top/tests/data/usb-mouse.umockdev" -- \
	env ACTION=add DEVPATH=$mouse SUBSYSTEM=usb DEVTYPE=usb_device SEQNUM=1 \
	"$build/helper/vhotplug-helper" "${opts[@]}"
wait_for has_event attached
show "current_attachments" "select * from current_attachments"
echo
echo "== QEMU's own view: qom-list /machine/peripheral"
query peripherals

echo
echo "== QEMU killed (SIGKILL) and started again on its socket: statd puts the mouse back"
before=$(sqlite3 "$db" "select max(id) from history")
kill -KILL "$qemu_pid"
wait "$qemu_pid" 2>/dev/null || true
start_qemu
wait_for has_event attached 2
show "history since the kill" "select time, device, event, vm, detail from history
	where id > $before order by id"
echo
echo "== QEMU's own view after the restart"
query peripherals

echo
echo "== unplugging it"
env ACTION=remove DEVPATH=$mouse SUBSYSTEM=usb DEVTYPE=usb_device SEQNUM=2 \
	"$build/helper/vhotplug-helper" "${opts[@]}"
wait_for has_event detached
show "device_history" "select * from device_history"
echo
echo "== QEMU's view after the unplug"
query peripherals

echo
echo "== plugging a USB Ethernet adapter (umockdev) for the crosvm VM"
before=$(sqlite3 "$db" "select max(id) from history")
umockdev-run --device "$top/tests/data/usb-ethernet.umockdev" -- \
	env ACTION=add DEVPATH=/devices/pci0000:00/0000:00:14.0/usb2/2-1 SUBSYSTEM=usb \
	DEVTYPE=usb_device SEQNUM=3 "$build/helper/vhotplug-helper" "${opts[@]}"
wait_for has_event_since attached "$before"
show "attachments (for crosvm, the port it gave)" \
	"select d.label as device, a.vm, a.qdev_id from attachments a join devices d on d.id = a.device_id"
echo
echo "== what crosvm ran"
cat "$tmp/crosvm/log"

echo
echo "== plugging a PCI NIC (umockdev, 0000:06:00.0, IOMMU group 15) for the desktop VM"
in_pci_testbed env ACTION=add DEVPATH=$pci_devs/0000:06:00.0 SUBSYSTEM=pci SEQNUM=4 \
	"$build/helper/vhotplug-helper" "${opts[@]}"
overridden() {
	for a in 0000:06:00.0 0000:06:01.0 0000:06:02.0; do
		[ "$(cat "$tb/sys/bus/pci/devices/$a/driver_override")" = vfio-pci ] || return 1
	done
}
wait_for overridden
show "host_drivers (statd wrote them down before its first sysfs write)" \
	"select address, driver, vm from host_drivers"
echo
echo "== the testbed's sysfs: what statd wrote to give the group to vfio-pci"
for f in devices/0000:06:00.0/driver_override devices/0000:06:01.0/driver_override \
	devices/0000:06:02.0/driver_override devices/0000:05:00.0/driver_override \
	drivers/e1000/unbind drivers/snd_ens1371/unbind; do
	echo "/sys/bus/pci/$f: $(cat "$tb/sys/bus/pci/$f")"
done
echo
echo "== playing the kernel's part: vfio-pci takes the three functions, /dev/vfio/15 appears"
for a in 0000:06:00.0 0000:06:01.0 0000:06:02.0; do
	ln -sfn "$tb/sys/bus/pci/drivers/vfio-pci" "$tb/sys/bus/pci/devices/$a/driver"
done
mkdir -p "$VHOTPLUG_DEV_ROOT/vfio"
: >"$VHOTPLUG_DEV_ROOT/vfio/15"
# QEMU looks for the host device in the real /sys, where it is not.
drivers_back() { [ "$(sqlite3 "$db" "select count(*) from host_drivers")" -eq 0 ]; }
wait_for has_event attach_failed
wait_for drivers_back
show "device_history of the NIC" \
	"select time, device, event, vm, detail from device_history where device like 'pci %'"
echo
echo "== each function given back to the driver it had (the serial controller had none: a probe)"
for f in drivers/e1000/bind drivers/snd_ens1371/bind drivers_probe; do
	echo "/sys/bus/pci/$f: $(cat "$tb/sys/bus/pci/$f")"
done
