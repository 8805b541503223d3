#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The one benchmark entry point: builds a plain (no sanitizer) copy of the
# tree, runs every bench/*.sh against it, and writes bench/results.json (one
# entry per figure: name, value, unit and, where there is one, the floor it is
# measured against) plus a table on stdout. See bench/README.md.
#
# Usage: bench/run.sh [--rev REV] [--quick] [--no-build] [--out FILE]
#   --rev REV   build commit REV (git archive) instead of the working tree's
#               files; the bench scripts are still this tree's. Before/after:
#               `bench/run.sh --rev BASE --out before.json`, then `bench/run.sh`.
#   --quick     tiny event counts (a smoke run: the JSON, not the numbers)
#   --no-build  use the copy built last time as it is
#   --out FILE  results file (default: bench/results.json)
# Environment: BENCH_BUILD (default bench/build), JOBS (make -j, default 2),
# and the counts below (HELPER_EVENTS=1000 ...), each passed to its script.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rev= quick=0 build=1 out=$here/bench/results.json build_s=
while [ $# -gt 0 ]; do
	case $1 in
	--rev) rev=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--no-build) build=0; shift ;;
	--out) out=$2; shift 2 ;;
	*) echo "usage: $0 [--rev REV] [--quick] [--no-build] [--out FILE]" >&2; exit 2 ;;
	esac
done

# Event counts. With these defaults the benches took 389 s on 2 CPUs at a
# load average of 17 to 43 (a fresh build adds one to two minutes); --quick
# makes every script as short as it can be.
if [ "$quick" = 1 ]; then
	: "${HELPER_EVENTS:=20}" "${PAR_EVENTS:=40}" "${E2E_EVENTS:=5}" "${E2E_BACKLOG:=50}"
	: "${STARTUP_DEVICES:=20}" "${STARTUP_ROUNDS:=1}" "${IDLE_SECONDS:=1}"
	: "${POKES_DEFERRED:=50}" "${POKES:=200}" "${REATTACH_DEVICES:=4}" "${REATTACH_ROUNDS:=2}"
	: "${VFIO_ROUNDS:=2}" "${VFIO_WAIT_MS:=50}" "${RSS_DEVICES:=50}" "${BOOT_BURST_ARGS:=3 30}"
	export EXTRA=${EXTRA:-20}	# boot-burst.sh: devices beyond the replayed ones
fi
: "${HELPER_EVENTS:=500}" "${PAR_EVENTS:=500}" "${PAR_WORKERS:=32}"
: "${E2E_EVENTS:=200}" "${E2E_BACKLOG:=1000}"
: "${STARTUP_DEVICES:=20}" "${STARTUP_ROUNDS:=5}" "${IDLE_SECONDS:=5}"
: "${POKES_DEFERRED:=2000}" "${POKES:=10000}" "${REATTACH_DEVICES:=24}" "${REATTACH_ROUNDS:=10}"
: "${VFIO_ROUNDS:=10}" "${VFIO_WAIT_MS:=300}"
export PAR_EVENTS PAR_WORKERS

# The arguments of each script; a script not listed here runs without any.
script_args() {
	case $1 in
	helper) echo "$HELPER_EVENTS" ;;
	e2e) echo "$E2E_EVENTS $E2E_BACKLOG" ;;
	startup) echo "$STARTUP_DEVICES $STARTUP_ROUNDS" ;;
	idle) echo "$IDLE_SECONDS" ;;
	statd-pokes) echo "$POKES_DEFERRED $POKES" ;;
	reattach) echo "$REATTACH_DEVICES $REATTACH_ROUNDS" ;;
	vfio-wait) echo "$VFIO_ROUNDS $VFIO_WAIT_MS" ;;
	rss) ;;	# its device count is N in the environment (RSS_DEVICES)
	boot-burst) echo "${BOOT_BURST_ARGS:-}" ;;	# VMS EVENTS
	esac
}

# ---- the plain build, in a copy: the tree itself may be configured in-tree
# with sanitizers, which a VPATH configure refuses and the benches must not use.
BENCH_BUILD=${BENCH_BUILD:-$here/bench/build}
if [ -n "$rev" ]; then
	sha=$(git -C "$here" rev-parse --verify "$rev^{commit}")
	src=$BENCH_BUILD/rev-${sha:0:12}
	from="commit $sha"
else
	sha=$(git -C "$here" rev-parse --verify HEAD 2>/dev/null || echo unknown)
	src=$BENCH_BUILD/tree
	from="working tree at $sha"
	git -C "$here" diff --quiet HEAD -- 2>/dev/null || from="$from (with uncommitted changes)"
fi
mkdir -p "$BENCH_BUILD"
if [ "$build" = 1 ]; then
	if [ -n "$rev" ]; then
		if [ "$(cat "$src/.bench-rev" 2>/dev/null)" != "$sha" ]; then
			rm -rf "$src"
			mkdir -p "$src"
			git -C "$here" archive "$sha" | tar -x -C "$src"
			echo "$sha" >"$src/.bench-rev"
		fi
	else
		# Tracked and new files as they are now, with their times, so that
		# make rebuilds only what changed since the last run; never the
		# tree's build products (ignored, so not listed).
		mkdir -p "$src"
		(cd "$here" && git ls-files -z --cached --others --exclude-standard |
			tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -x -C "$src"
	fi
	echo "building $from in $src ..." >&2
	t_build=$EPOCHREALTIME
	(
		cd "$src"
		[ -x configure ] || autoreconf -fi
		[ -f Makefile ] || ./configure
		make -j"${JOBS:-2}"
	) >"$BENCH_BUILD/build.log" 2>&1 || { tail -n 30 "$BENCH_BUILD/build.log" >&2; echo "$0: build failed: $BENCH_BUILD/build.log" >&2; exit 1; }
	build_s=$(((${EPOCHREALTIME/./} - ${t_build/./}) / 1000000))
fi
for prog in helper/vhotplug-helper statd/vhotplug-statd; do
	[ -x "$src/$prog" ] || { echo "$0: $src/$prog: not built" >&2; exit 1; }
	if grep -q -a -E "__(asan|ubsan)_" "$src/$prog"; then
		echo "$0: $src/$prog has sanitizers: not a plain build" >&2
		exit 1
	fi
done

# ---- the scripts
logs=$BENCH_BUILD/logs
rm -rf "$logs"
mkdir -p "$logs"
export BUILDDIR=$src top_builddir=$src HELPER=$src/helper/vhotplug-helper
load_before=$(cat /proc/loadavg)
t_all=$EPOCHREALTIME
failed=0
for script in "$here"/bench/*.sh; do
	name=$(basename "$script" .sh)
	[ "$name" = run ] && continue
	read -r -a args <<<"$(script_args "$name")"
	echo "running bench/$name.sh ${args[*]} ..." >&2
	t0=$EPOCHREALTIME
	rc=0
	N=${RSS_DEVICES:-1000} bash "$script" "${args[@]}" >"$logs/$name.out" 2>"$logs/$name.err" </dev/null || rc=$?
	t1=$EPOCHREALTIME
	echo "$rc $(((${t1/./} - ${t0/./}) / 1000))" >"$logs/$name.status"
	if [ "$rc" != 0 ]; then
		failed=1
		echo "bench/$name.sh failed ($rc); its stderr ($logs/$name.err) ends:" >&2
		tail -n 5 "$logs/$name.err" | sed 's/^/  /' >&2
	fi
done
t_end=$EPOCHREALTIME
load_after=$(cat /proc/loadavg)

export LOGS=$logs OUT=$out FROM=$from SHA=$sha QUICK=$quick
export LOAD_BEFORE=$load_before LOAD_AFTER=$load_after
export TOTAL_S=$(((${t_end/./} - ${t_all/./}) / 1000000)) BUILD_S=${build_s:-0}
export UPTIME_TEXT=$(uptime)
python3 "$here/bench/results.py"
exit "$failed"
