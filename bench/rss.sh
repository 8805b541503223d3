#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# statd's resident memory (VmRSS), idle and after 1,000 devices, against the
# floor: a trivial program linking the same libraries that opens the same
# database, makes one udev context and parses one JSON document, then sleeps.
# Most of statd's RSS is shared library pages (libc, libsqlite3) that every
# process using them maps; the floor says how much of it statd cannot shed.
#
# Build WITHOUT sanitizers first (`./configure && make`).
#
# Usage: bench/rss.sh                 BUILDDIR=DIR: where statd/ is built
#
# idle:      statd started on a new database, one QEMU VM, nothing to do.
# after1000: statd restarted under umockdev with 1,000 USB devices that the
#            database records as plugged in (rows written directly) for a
#            second VM that is not running: the running VM's reconcile looks
#            at all of them, and their 1,000 attach intents wait in the
#            stopped VM's queue. Measured once RSS has not moved for 1 s.
#
# Prints: statd_rss idle_kb=N after1000_kb=N floor_kb=N
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
STATD=$BUILDDIR/statd/vhotplug-statd
N=${N:-1000}
[ -x "$STATD" ] || { echo "$STATD: not built (BUILDDIR=$BUILDDIR)" >&2; exit 1; }
for tool in qemu-system-x86_64 umockdev-run sqlite3 cc pkg-config; do
	command -v "$tool" >/dev/null || { echo "$tool: not installed" >&2; exit 1; }
done
if ldd "$STATD" | grep -q libasan; then
	echo "warning: sanitizer build: RSS means nothing" >&2
fi

TMP=$(mktemp -d /tmp/vhp-rss.XXXXXX)
PIDS=()
cleanup() {
	local p
	# wait returns the killed one's 143, which set -e would make the script's.
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}

wait_for() {	# wait_for CMD...: up to 60 s
	local i
	for ((i = 0; i < 3000; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	echo "timed out: $*" >&2
	exit 1
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# Wait until PID's RSS has not changed for a second (idle), then print it.
settled_rss() {
	local pid=$1 last=-1 now i
	for ((i = 0; i < 30; i++)); do
		sleep 1
		now=$(rss_kb "$pid")
		[ "$now" = "$last" ] && break
		last=$now
	done
	echo "$now"
}

BASE=/devices/pci0000:00/0000:00:14.0/usb1
{
	for ((i = 1; i <= N; i++)); do
		pid=$(printf %04x "$i")
		printf 'P: %s/1-%d\nE: BUSNUM=001\nE: DEVNAME=/dev/bus/usb/001/%03d\nE: DEVNUM=%03d\n' \
			"$BASE" "$i" "$i" "$i"
		printf 'E: DEVTYPE=usb_device\nE: DRIVER=usb\nE: ID_BUS=usb\nE: ID_USB_INTERFACES=:030102:\n'
		printf 'E: PRODUCT=aaaa/%s/100\nE: SUBSYSTEM=usb\nE: TYPE=0/0/0\nA: bDeviceClass=00\\n\n' "$pid"
		printf 'A: busnum=1\\n\nA: devnum=%d\\n\nA: idProduct=%s\\n\nA: idVendor=aaaa\\n\n' "$i" "$pid"
		printf 'A: product=Device %d\\n\nA: removable=removable\\n\n\n' "$i"
	done
	sed -n "\|^P: $BASE\$|,\$p" "$SRCDIR/tests/data/usb-mouse.umockdev"
} >"$TMP/devices.umockdev"
cat >"$TMP/config.json" <<-EOF
{
  "usbPassthrough": [
    { "targetVm": "vm1", "allow": [ { "vendorId": "bbbb" } ] },
    { "targetVm": "vm2", "allow": [ { "vendorId": "aaaa" } ] }
  ],
  "vms": [
    { "name": "vm1", "type": "qemu", "socket": "$TMP/vm1.sock", "usbAttachBy": "vidpid" },
    { "name": "vm2", "type": "qemu", "socket": "$TMP/vm2.sock", "usbAttachBy": "vidpid" }
  ]
}
EOF
qemu-system-x86_64 -M q35 -nodefaults -display none -S -device qemu-xhci,id=xhci \
	-qmp "unix:$TMP/vm1.sock,server=on,wait=off" </dev/null >/dev/null 2>&1 &
PIDS+=($!)
wait_for test -S "$TMP/vm1.sock"

statd() {	# statd [PREFIX...]: start statd, its pid in STATD_PID
	"$@" "$STATD" -c "$TMP/config.json" --db "$TMP/db" --run-dir "$TMP/run" \
		</dev/null >>"$TMP/statd.log" 2>&1 &
	PIDS+=($!)
	STATD_PID=$!
	if [ $# -gt 0 ]; then
		wait_for eval 'STATD_PID=$(pgrep -P "${PIDS[-1]}" -x vhotplug-statd)'
	fi
	wait_for grep -q "reconciled vm1" "$TMP/statd.log"
}

statd
IDLE=$(settled_rss "$STATD_PID")
kill "$STATD_PID"
wait "$STATD_PID" || true
: >"$TMP/statd.log"

sqlite3 "$TMP/db" <<-EOF
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO devices (kind, ident, devpath, sysname, label, vendor_id, product_id, busnum, devnum)
SELECT 'usb', printf('usb:aaaa:%04x@1-%d', i, i), printf('$BASE/1-%d', i), printf('1-%d', i),
       printf('usb aaaa:%04x Device %d at 1-%d', i, i, i), 43690, i, 1, i FROM n;
INSERT INTO intents (device_id, action, vm, rule, busnum, devnum)
SELECT id, 'attach', 'vm2', 'bench', busnum, devnum FROM devices;
COMMIT;
EOF
statd umockdev-run --device "$TMP/devices.umockdev" --
AFTER=$(settled_rss "$STATD_PID")

# The floor: the same libraries, used once each, idle.
cat >"$TMP/floor.c" <<-'EOF'
#include <json-c/json.h>
#include <libudev.h>
#include <sqlite3.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sqlite3 *db;
	struct udev *u = udev_new();

	(void)argc;
	json_object_put(json_tokener_parse("{\"vms\": []}"));
	if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
	    sqlite3_exec(db, "SELECT count(*) FROM intents", NULL, NULL, NULL) != SQLITE_OK)
		return 1;
	udev_unref(u);
	pause();
	return 0;
}
EOF
cc -O2 -o "$TMP/floor" "$TMP/floor.c" $(pkg-config --cflags --libs libudev sqlite3 json-c) -lm
"$TMP/floor" "$TMP/db" &
PIDS+=($!)
FLOOR=$(settled_rss $!)
[ -z "${RSS_DEBUG:-}" ] || { cat /proc/$STATD_PID/smaps_rollup; awk '/^[0-9a-f]+-/{name=$6} /^Rss:/{if($2>0) r[name]+=$2} END{for(n in r) print r[n], n}' /proc/$STATD_PID/smaps | sort -rn | head; } >&2
echo "statd_rss idle_kb=$IDLE after1000_kb=$AFTER floor_kb=$FLOOR"
