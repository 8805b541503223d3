#!/bin/bash
# Benchmark of vhotplug-helper: wall time per udev event, and its peak RSS.
#
# Meant for a build WITHOUT sanitizers (plain `./configure && make`): ASan and
# UBSan multiply both time and memory. It runs on a sanitizer build too, and then
# says so on stderr.
#
#   bench/helper.sh [--statd-down | --reader-txn] [N]
#                           N events (default 1000), alternately add and remove of
#                           the USB mouse of tests/data/usb-mouse.umockdev. A
#                           connection is held open as statd holds one, unless
#                           --statd-down (the worst case: every helper opens the
#                           database first and rereads the WAL). --reader-txn:
#                           the connection holds a read transaction open (a
#                           sqlite3 shell mid-query, statd down): the WAL cannot
#                           restart, and the helper must not wait for it.
#
# Prints:  helper median_ms=0.812 p99_ms=1.402 peak_rss_kb=3120 events=1000
#          baseline_true median_ms=0.400 p99_ms=0.700 events=200
#          parallel32 events_per_s=310.2 events=500 spooled=0 lost=0
#          parallel32_true events_per_s=420.0 events=500
# The second line is the floor: /bin/true started the same way in the same session
# (at most 200 times), to tell the helper's own cost from this machine's fork+exec.
#
# How:
# - One umockdev-run session wraps the whole loop: starting umockdev per event
#   would measure umockdev, not the helper. Every event still starts the helper
#   afresh, as udev does, and that start (fork, exec, dynamic linking) is in the
#   time. umockdev's preload library is in the helper too, so absolute numbers are
#   somewhat above a real udev run; compare them with each other.
# - Fresh database in a temporary directory; one add before the loop creates it
#   (a one-time cost) and is not counted. The run directory has no statd socket,
#   so the wake-up datagram fails at once, as when statd is not running.
# - Wall time from bash's $EPOCHREALTIME around each helper run; median, and p99
#   by the nearest-rank method.
# - Peak RSS (max over the runs) from GNU time's %M (Debian package "time") in a
#   separate pass of at most 50 events, so that time's own start is not in the
#   wall times; without /usr/bin/time, python3's getrusage(RUSAGE_CHILDREN).
#
# - The parallel line: PAR_EVENTS (500) adds of the mouse through PAR_WORKERS (32)
#   helpers at a time (xargs -P), on a fresh database; events per second over the
#   whole batch; how many went to the spool (no statd imports them here) and how
#   many were lost (must be 0).
#   Then the same PAR_EVENTS runs of /bin/true, its floor.
#
# Environment: HELPER (default: the helper of the build tree), top_srcdir,
# top_builddir (default: this script's tree).
set -euo pipefail
export LC_ALL=C	# $EPOCHREALTIME with a decimal point

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
top_srcdir=${top_srcdir:-$here}
top_builddir=${top_builddir:-$here}
HELPER=${HELPER:-$top_builddir/helper/vhotplug-helper}
DATA=$top_srcdir/tests/data
DEVPATH_MOUSE=/devices/pci0000:00/0000:00:14.0/usb1/1-3
RSS_EVENTS=50
BASELINE_EVENTS=200
PAR_WORKERS=${PAR_WORKERS:-32}
PAR_EVENTS=${PAR_EVENTS:-500}

# The udev environment of event I (add when even, remove when odd); sets EV.
event_env() {
	local action=add
	(($1 % 2 == 0)) || action=remove
	EV=("ACTION=$action" "DEVPATH=$DEVPATH_MOUSE" SUBSYSTEM=usb DEVTYPE=usb_device
		"SEQNUM=$((1000 + $1))" BUSNUM=001 DEVNUM=004 PRODUCT=46d/c077/7200 TYPE=0/0/0
		DEVNAME=/dev/bus/usb/001/004 MAJOR=189 MINOR=3 ID_BUS=usb)
}

# stats NAME RSS MICROSECONDS...: the result line.
stats() {
	local name=$1 rss=$2
	shift 2
	printf '%s\n' "$@" | sort -n | awk -v name="$name" -v rss="$rss" '
		{ t[NR] = $1 }
		END {
			n = NR
			median = n % 2 ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
			k = int(0.99 * n); if (k < 0.99 * n) k++; if (k < 1) k = 1
			printf "%s median_ms=%.3f p99_ms=%.3f", name, median / 1000, t[k] / 1000
			if (rss != "-") printf " peak_rss_kb=%d", rss
			printf " events=%d\n", n
		}'
}

# parallel DIR: PAR_EVENTS adds through PAR_WORKERS helpers at a time (xargs -P), as
# udev runs them at boot, on a fresh database; no
# statd, so what the database cannot take within the helper's budget stays in
# the spool (counted). Prints events per second over the whole batch.
parallel() {
	local dir=$1/par i t0 t1 spooled lost
	mkdir -p "$dir/run"
	export VHOTPLUG_DB=$dir/vhotplug.db VHOTPLUG_RUNDIR=$dir/run
	event_env 0
	(export "${EV[@]}" && exec "$HELPER")	# creates the database; not counted
	t0=$EPOCHREALTIME
	for ((i = 1; i <= PAR_EVENTS; i++)); do
		echo "SEQNUM=$((10000 + i))"
	done | xargs -P"$PAR_WORKERS" -I{} env "${EV[@]}" {} "$HELPER" 2>>"$dir/log"
	t1=$EPOCHREALTIME
	spooled=$(find "$dir/run/spool" -type f ! -name '.*' 2>/dev/null | wc -l) || true
	lost=$(grep -c 'NOT recorded' "$dir/log" || true)
	awk -v us=$((${t1/./} - ${t0/./})) -v n="$PAR_EVENTS" -v p="$PAR_WORKERS" -v s="$spooled" \
		-v l="$lost" 'BEGIN { printf "parallel%d events_per_s=%.1f events=%d spooled=%d lost=%d\n", p, n / (us / 1e6), n, s, l }'
}

# parallel_true: the parallel line's floor, /bin/true started the same way.
parallel_true() {
	local i t0 t1
	event_env 0
	t0=$EPOCHREALTIME
	for ((i = 1; i <= PAR_EVENTS; i++)); do
		echo "SEQNUM=$((10000 + i))"
	done | xargs -P"$PAR_WORKERS" -I{} env "${EV[@]}" {} /bin/true
	t1=$EPOCHREALTIME
	awk -v us=$((${t1/./} - ${t0/./})) -v n="$PAR_EVENTS" -v p="$PAR_WORKERS" \
		'BEGIN { printf "parallel%d_true events_per_s=%.1f events=%d\n", p, n / (us / 1e6), n }'
}

# Inside umockdev-run: the measurements.
inner() {
	local n=$1 dir=$2 i t0 t1 times=() rss=0 r
	export VHOTPLUG_CONFIG=$DATA/explain.json VHOTPLUG_DB=$dir/vhotplug.db
	export VHOTPLUG_RUNDIR=$dir/run

	event_env 0
	# A subshell that execs the helper: one fork and one exec, as for a plain
	# command (env(1) would add an exec of its own).
	(export "${EV[@]}" && exec "$HELPER")	# creates the database; not counted
	if [ "$STATD_DOWN" != 1 ]; then
		# Stand in for statd, which keeps the database open: then no helper
		# is the first opener, which rebuilds the WAL index from the WAL.
		mkfifo "$dir/hold"
		python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[3] == "1": c.execute("BEGIN")
c.execute("SELECT count(*) FROM devices").fetchall()
open(sys.argv[2]).read()' "$VHOTPLUG_DB" "$dir/hold" "$READER_TXN" &
		exec 9>"$dir/hold"	# the reader holds on until this closes
	fi
	for ((i = 1; i <= n; i++)); do
		event_env "$i"
		t0=$EPOCHREALTIME
		(export "${EV[@]}" && exec "$HELPER")
		t1=$EPOCHREALTIME
		times+=($((${t1/./} - ${t0/./})))
	done

	for ((i = 1; i <= RSS_EVENTS && i <= n; i++)); do
		event_env "$i"
		if [ -x /usr/bin/time ]; then
			env "${EV[@]}" /usr/bin/time -f %M -o "$dir/rss" "$HELPER"
			r=$(tail -n1 "$dir/rss")
		else
			r=$(env "${EV[@]}" python3 -c '
import resource, subprocess, sys
subprocess.run([sys.argv[1]], check=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$HELPER")
		fi
		((r > rss)) && rss=$r
	done

	stats helper "$rss" "${times[@]}"

	# The floor: starting a trivial program the same way, in the same session.
	times=()
	for ((i = 1; i <= n && i <= BASELINE_EVENTS; i++)); do
		t0=$EPOCHREALTIME
		(exec /bin/true)
		t1=$EPOCHREALTIME
		times+=($((${t1/./} - ${t0/./})))
	done
	stats baseline_true - "${times[@]}"
	parallel "$dir"
	parallel_true
	if [ -e "$dir/vhotplug.db-wal" ]; then
		echo "(WAL after the run: $(($(stat -c %s "$dir/vhotplug.db-wal") / 1024)) KiB)" >&2
	fi
}

if [ "${1:-}" = --inner ]; then
	shift
	inner "$@"
	exit
fi

STATD_DOWN=0
READER_TXN=0
case ${1:-} in
--statd-down) STATD_DOWN=1; shift ;;
--reader-txn) READER_TXN=1; shift ;;
esac
export STATD_DOWN READER_TXN
n=${1:-1000}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [--statd-down | --reader-txn] [EVENTS]" >&2; exit 2; }
[ -x "$HELPER" ] || { echo "$0: no helper at $HELPER: build first" >&2; exit 1; }
command -v umockdev-run >/dev/null || { echo "$0: needs umockdev-run (package umockdev)" >&2; exit 1; }
if grep -q -a -E "__(asan|ubsan)_" "$HELPER"; then
	echo "$0: $HELPER is built with sanitizers: times and RSS are not representative" >&2
	# umockdev preloads itself, so ASan must not insist on being first.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0:detect_leaks=0}
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/vhotplug-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/run"
umockdev-run --device "$DATA/usb-mouse.umockdev" -- bash "${BASH_SOURCE[0]}" --inner "$n" "$dir"
