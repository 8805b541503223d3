#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Wakeups of an idle statd: statd runs with one VM whose socket is not there
# and nothing to do; its context switches (voluntary + involuntary, from
# /proc/PID/status) are counted over SECONDS. An idle statd should not wake
# up at all; tests/statd.bats checks the cause instead (a disarmed timer and
# epoll_wait without a timeout), as a count over time is a timing measurement.
#
# Usage: bench/idle.sh [SECONDS]      (default: 5)
#   BUILDDIR=DIR  where the built statd/ is (default: this tree)
#
# Prints:
#   idle seconds=5 wakeups=... cpu_ticks=...
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
SECS=${1:-5}
STATD=$BUILDDIR/statd/vhotplug-statd
[ -x "$STATD" ] || { echo "$STATD: not built (BUILDDIR=$BUILDDIR)" >&2; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}

tmp=$(mktemp -d /tmp/vhp-idle.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/config.json" <<EOF
{ "usbPassthrough": [ { "targetVm": "vm1", "allow": [ { "vendorId": "046d" } ] } ],
  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$tmp/vm1.sock" } ] }
EOF
"$STATD" -c "$tmp/config.json" --db "$tmp/vhotplug.db" --run-dir "$tmp/run" >"$tmp/statd.log" 2>&1 &
pid=$!
for ((i = 0; i < 500; i++)); do
	grep -q 'ready:' "$tmp/statd.log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/statd.log" >&2; exit 1; }
	sleep 0.02
done
grep -q 'ready:' "$tmp/statd.log" || { echo "statd did not get ready" >&2; exit 1; }
sleep 0.5	# let the start settle

switches() { awk '/_ctxt_switches/ { n += $2 } END { print n }' "/proc/$pid/status"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
s0=$(switches) t0=$(ticks)
sleep "$SECS"
s1=$(switches) t1=$(ticks)
echo "idle seconds=$SECS wakeups=$((s1 - s0)) cpu_ticks=$((t1 - t0))"
