#!/bin/bash
# What one vhotplug-helper run costs in page faults and CPU time, for an add,
# a remove and /bin/true started the same way (inside one umockdev-run
# session as bench/helper.sh, a connection held open as statd holds one).
#
# On a shared or virtual machine the wall times of bench/helper.sh follow the
# load; the fault counts do not, and the CPU times much less. On the
# development VM the helper's CPU time follows its page faults (40-60 us
# each there), so they say which change helped. Build without
# --enable-sanitizers first.
#
#   bench/helper-faults.sh [N]      N runs of each (default 30)
#
# Prints, medians over the runs (minor + major faults, user + system CPU ms):
#   faults add=207 remove=187 true=60
#   cpu_ms add=14.09 remove=12.36 true=3.92
#
# Environment: HELPER, top_srcdir, top_builddir as for bench/helper.sh.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
top_srcdir=${top_srcdir:-$here}
top_builddir=${top_builddir:-$here}
HELPER=${HELPER:-$top_builddir/helper/vhotplug-helper}
DATA=$top_srcdir/tests/data
DEVPATH_MOUSE=/devices/pci0000:00/0000:00:14.0/usb1/1-3

# Inside umockdev-run: the runs, from one python3 that starts each program with
# posix_spawn() (no copy of a large parent before the exec) and reads its
# rusage from wait4(): faults and CPU time of that program alone.
inner() {
	local n=$1 dir=$2
	export VHOTPLUG_CONFIG=$DATA/explain.json VHOTPLUG_DB=$dir/vhotplug.db
	export VHOTPLUG_RUNDIR=$dir/run
	python3 - "$n" "$HELPER" "$DEVPATH_MOUSE" <<'PY'
import os, sqlite3, statistics, sys

n, helper, devpath = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def run(program, action, seqnum):
    env = dict(os.environ, ACTION=action, DEVPATH=devpath, SUBSYSTEM="usb",
               DEVTYPE="usb_device", SEQNUM=str(seqnum))
    pid = os.posix_spawn(program, [program], env)
    _, status, ru = os.wait4(pid, 0)
    return ru.ru_minflt + ru.ru_majflt, (ru.ru_utime + ru.ru_stime) * 1000

run(helper, "add", 1)   # creates the database; not counted
# Stand in for statd, which keeps the database open.
hold = sqlite3.connect(os.environ["VHOTPLUG_DB"], isolation_level=None)
hold.execute("SELECT count(*) FROM devices").fetchall()
res = {"add": [], "remove": [], "true": []}
for i in range(1, n + 1):
    res["add"].append(run(helper, "add", 2 * i))
    res["remove"].append(run(helper, "remove", 2 * i + 1))
    res["true"].append(run("/bin/true", "add", 0))
med = lambda k, j: statistics.median(r[j] for r in res[k])
print("faults add=%d remove=%d true=%d" % (med("add", 0), med("remove", 0), med("true", 0)))
print("cpu_ms add=%.2f remove=%.2f true=%.2f" % (med("add", 1), med("remove", 1), med("true", 1)))
PY
}

if [ "${1:-}" = --inner ]; then
	shift
	inner "$@"
	exit
fi

n=${1:-30}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
[ -x "$HELPER" ] || { echo "$0: no helper at $HELPER: build first" >&2; exit 1; }
command -v umockdev-run >/dev/null || { echo "$0: needs umockdev-run (package umockdev)" >&2; exit 1; }
if grep -q -a -E "__(asan|ubsan)_" "$HELPER"; then
	echo "$0: $HELPER is built with sanitizers: the numbers are not representative" >&2
	export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0:detect_leaks=0}
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/vhotplug-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/run"
umockdev-run --device "$DATA/usb-mouse.umockdev" -- bash "${BASH_SOURCE[0]}" --inner "$n" "$dir"
