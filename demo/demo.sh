#!/bin/bash
# The whole pipeline on a machine with no USB hardware: a real QEMU, statd,
# and a USB mouse faked by umockdev, "plugged" by running the helper the way
# udev would. Run from the top of a built tree: ./demo/demo.sh
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

echo "== starting QEMU (paused, no disks) with a QMP socket"
qemu-system-x86_64 -M q35 -nodefaults -display none -S -device qemu-xhci,id=xhci \
	-qmp "unix:$tmp/desktop.qmp,server=on,wait=off" 2>"$tmp/qemu.log" &
pids+=($!)
wait_for test -S "$tmp/desktop.qmp"

echo "== a crosvm VM's control socket (a listening SEQPACKET socket)"
python3 "$top/tests/seqpacket-listen.py" "$tmp/net.sock" &
pids+=($!)
wait_for test -e "$tmp/net.sock.ready"

echo "== starting vhotplug-statd"
"$build/statd/vhotplug-statd" "${opts[@]}" 2>"$tmp/statd.log" &
pids+=($!)
wait_for test -S "$tmp/run/statd.sock"

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
umockdev-run --device "$top/tests/data/usb-ethernet.umockdev" -- \
	env ACTION=add DEVPATH=/devices/pci0000:00/0000:00:14.0/usb2/2-1 SUBSYSTEM=usb \
	DEVTYPE=usb_device SEQNUM=3 "$build/helper/vhotplug-helper" "${opts[@]}"
wait_for has_event attached 2
show "attachments (for crosvm, the port it gave)" \
	"select d.label as device, a.vm, a.qdev_id from attachments a join devices d on d.id = a.device_id"
echo
echo "== what crosvm ran"
cat "$tmp/crosvm/log"
