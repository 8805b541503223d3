#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# statd's memory (VmRSS from /proc/PID/status): idle (one VM, not running,
# nothing to do, one second after "ready:"), and after DEVICES USB devices
# (umockdev) plugged in before a start with -a, once statd has recorded an
# intent for each (their VM is not running, so they wait). The floor: VmRSS of
# `sleep` started the same way, the least a process linked with libc takes.
# All three run under umockdev-run (its preload library is in each figure).
#
# Build WITHOUT sanitizers for numbers worth quoting (`./configure && make`).
#
# Usage: bench/rss.sh [DEVICES]      (default: 1000)
#   BUILDDIR=DIR  where the built statd/ is (default: this tree)
#
# Prints:
#   statd_rss idle_kb=... after1000_kb=... floor_kb=... devices=1000
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
STATD=$BUILDDIR/statd/vhotplug-statd
N=${1:-1000}
[ -x "$STATD" ] || { echo "$STATD: not built (BUILDDIR=$BUILDDIR)" >&2; exit 1; }
command -v umockdev-run >/dev/null || { echo "umockdev-run: not installed" >&2; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vhp-rss.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# wait_until SECONDS COMMAND...: poll, bounded.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || { echo "rss: timed out: $*" >&2; tail -n 20 "$tmp/statd.log" >&2; exit 1; }
		sleep 0.05
	done
}
started() { [ -s "$tmp/pid" ]; }
ready() { grep -q 'ready:' "$tmp/statd.log"; }
intents() { [ "$(sqlite3 "$tmp/vhotplug.db" 'SELECT count(*) FROM intents' 2>/dev/null || echo 0)" -ge "$N" ]; }

cat >"$tmp/config.json" <<EOF
{ "usbPassthrough": [ { "targetVm": "vm1", "allow": [ { "vendorId": "aaaa" } ] } ],
  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$tmp/vm1.sock", "usbAttachBy": "vidpid" } ] }
EOF
# N devices 1-1 ... 1-N of vendor aaaa on the xHCI of the mouse's recording.
usb=/devices/pci0000:00/0000:00:14.0/usb1
for ((i = 1; i <= N; i++)); do
	printf 'P: %s/1-%d\nE: BUSNUM=001\nE: DEVNAME=/dev/bus/usb/001/%03d\nE: DEVNUM=%03d\nE: DEVTYPE=usb_device\nE: ID_USB_INTERFACES=:030102:\nE: PRODUCT=aaaa/%x/100\nE: SUBSYSTEM=usb\nA: busnum=1\\n\nA: devnum=%d\\n\nA: idProduct=%04x\\n\nA: idVendor=aaaa\\n\n\n' \
		"$usb" "$i" $((i % 1000)) $((i % 1000)) "$i" $((i % 1000)) "$i"
done >"$tmp/devs.umockdev"
sed -n "\\|^P: $usb\$|,\$p" "$SRCDIR/tests/data/usb-mouse.umockdev" >>"$tmp/devs.umockdev"

# run_statd RECORDING ARGS...: statd under umockdev-run; its pid in $tmp/pid.
run_statd() {
	local rec=$1
	shift
	rm -f "$tmp/pid"
	umockdev-run --device "$rec" -- bash -c 'echo $$ >"$0"; exec "$@"' "$tmp/pid" \
		"$STATD" -c "$tmp/config.json" --db "$tmp/vhotplug.db" --run-dir "$tmp/run" "$@" \
		>"$tmp/statd.log" 2>&1 </dev/null &
	pids+=($!)
	wait_until 120 started
}
stop_statd() {
	kill "$(cat "$tmp/pid")"
	wait "${pids[-1]}" || true
}

# Idle and the floor under umockdev too (its preload is in every figure), with
# the one-device recording, which it loads in no time.
mouse=$SRCDIR/tests/data/usb-mouse.umockdev
run_statd "$mouse"
wait_until 30 ready
sleep 1
idle=$(rss "$(cat "$tmp/pid")")
stop_statd

run_statd "$tmp/devs.umockdev" -a
wait_until 120 intents
sleep 1
after=$(rss "$(cat "$tmp/pid")")
stop_statd

rm -f "$tmp/pid"
umockdev-run --device "$mouse" -- bash -c 'echo $$ >"$0"; exec sleep 30' "$tmp/pid" </dev/null &
pids+=($!)
wait_until 120 started
sleep 0.2
floor=$(rss "$(cat "$tmp/pid")")
echo "statd_rss idle_kb=$idle after${N}_kb=$after floor_kb=$floor devices=$N"
