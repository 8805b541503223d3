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
# Wait for a history event of the demo's device.
has_event() { [ -n "$(sqlite3 "$db" "select 1 from history where event = '$1'")" ]; }
# Harmless on a normal build; lets a sanitizer build run under umockdev's preload.
export ASAN_OPTIONS=verify_asan_link_order=0

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
    }
  ],
  "vms": [
    { "name": "desktop", "type": "qemu", "socket": "$tmp/desktop.qmp", "usbAttachBy": "vidpid" }
  ]
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
