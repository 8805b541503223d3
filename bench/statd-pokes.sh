#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# statd's cost of a deferred backlog under a storm of pokes.
#
# Build WITHOUT sanitizers for numbers worth quoting (`./configure && make`).
#
# Usage: bench/statd-pokes.sh [DEFERRED [POKES]]      (defaults: 2000, 10000)
#   BUILDDIR=DIR  where the built statd/ is (default: this tree)
#
# DEFERRED attach intents for a VM that is not running are written into the
# database; statd starts, defers them all (one 'waiting' note each), then
# gets POKES wake datagrams as fast as they can be sent, as a burst of udev
# events would send them. Each poke reads only intents newer than the last
# one seen, and the dead VM is tried at most once per 100 ms, so the pokes
# should cost statd little. Prints statd's CPU time (user+system) for the
# start and for the pokes:
#   pokes deferred=2000 start_cpu_s=0.210 pokes=10000 pokes_cpu_s=0.150 per_poke_us=15.0
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
STATD=$BUILDDIR/statd/vhotplug-statd
DEFERRED=${1:-2000}
POKES=${2:-10000}

[ -x "$STATD" ] || { echo "$STATD: not built (BUILDDIR=$BUILDDIR)" >&2; exit 1; }
if ldd "$STATD" | grep -q libasan; then
	echo "warning: sanitizer build: expect much slower numbers" >&2
fi
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
DIR=$(mktemp -d)
STATD_PID=
cleanup() {
	[ -n "$STATD_PID" ] && kill "$STATD_PID" 2>/dev/null && wait "$STATD_PID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

cat >"$DIR/config.json" <<EOF
{
  "usbPassthrough": [ { "targetVm": "vm1", "allow": [ { "vendorId": "1234" } ] } ],
  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$DIR/vms/vm1.sock", "usbAttachBy": "vidpid" } ]
}
EOF
ARGS=(-c "$DIR/config.json" --db "$DIR/vhotplug.db" --run-dir "$DIR/run")

# statd creates the schema; then the backlog goes in while it is down.
"$STATD" "${ARGS[@]}" 2>"$DIR/statd.log" &
STATD_PID=$!
until grep -q 'ready:' "$DIR/statd.log"; do sleep 0.05; done
kill "$STATD_PID"; wait "$STATD_PID" || true
"$PYTHON" - "$DIR/vhotplug.db" "$DEFERRED" <<'EOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
with con:
    for i in range(1, int(sys.argv[2]) + 1):
        cur = con.execute(
            "INSERT INTO devices (kind, ident, devpath, sysname, label, vendor_id, product_id, busnum, devnum)"
            " VALUES ('usb', ?, ?, ?, ?, 4660, ?, 9, ?)",
            ("usb:1234:%04x@9-%d" % (i, i), "/devices/bench/usb9/9-%d" % i, "9-%d" % i, "usb 1234:%04x bench at 9-%d" % (i, i), i, i % 127 + 1))
        con.execute("INSERT INTO intents (device_id, action, vm, rule, busnum, devnum)"
                    " VALUES (?, 'attach', 'vm1', 'bench', 9, ?)", (cur.lastrowid, i % 127 + 1))
EOF

cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$STATD_PID/stat"
}

"$STATD" "${ARGS[@]}" 2>"$DIR/statd.log" &
STATD_PID=$!
until [ "$(sqlite3 "$DIR/vhotplug.db" "SELECT count(*) FROM history WHERE event = 'waiting'")" -ge "$DEFERRED" ]; do
	sleep 0.1
done
start=$(cpu_s)
"$PYTHON" - "$DIR/run/statd.sock" "$POKES" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2])):
    s.sendto(b"poke", sys.argv[1])
EOF
sleep 1	# let statd finish with the last ones
end=$(cpu_s)
"$PYTHON" -c 'import sys
d, start, pokes, end = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
print("pokes deferred=%d start_cpu_s=%.3f pokes=%d pokes_cpu_s=%.3f per_poke_us=%.1f"
      % (d, start, pokes, end - start, (end - start) / pokes * 1e6))' "$DEFERRED" "$start" "$POKES" "$end"
