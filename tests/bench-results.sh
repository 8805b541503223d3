#!/bin/sh
# bench/results.py, bench/run.sh's second half, turns the bench scripts'
# `name key=value` lines into well-formed bench/results.json: each figure with
# its value, unit and floor, a missing one with the reason, an unknown line
# still listed. Canned script output; no bench runs and no time is asserted.
set -u
: "${top_srcdir:=.}"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/logs"
cat >"$tmp/logs/helper.out" <<'EOF'
helper median_ms=11.5 p99_ms=15.2 peak_rss_kb=4340 events=1000
baseline_true median_ms=4.6 p99_ms=7.4 events=200
parallel32 events_per_s=91.0 events=500 spooled=266 lost=0
parallel_true32 events_per_s=130.0 events=500
EOF
echo "0 1500" >"$tmp/logs/helper.status"
echo "e2e: timed out" >"$tmp/logs/e2e.out"
echo "1 900" >"$tmp/logs/e2e.status"
echo "newbench widgets_ms=2.5 count=3" >"$tmp/logs/newbench.out"
echo "0 10" >"$tmp/logs/newbench.status"

LOGS=$tmp/logs OUT=$tmp/results.json FROM=test SHA=0 QUICK=0 TOTAL_S=3 \
	LOAD_BEFORE="1.00 2.00 3.00 1/1 1" LOAD_AFTER="1.50 2.00 3.00 1/1 1" UPTIME_TEXT=up \
	python3 "$top_srcdir/bench/results.py" >"$tmp/table" 2>/dev/null || { echo "FAIL: results.py"; exit 1; }
python3 - "$tmp/results.json" <<'EOF' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
f = {x["name"]: x for x in r["figures"]}
def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
for x in r["figures"]:
    check(set(x) >= {"name", "value", "unit"}, "a figure without name, value or unit: %r" % x)
check(f["helper_per_event"]["value"] == 11.5 and f["helper_per_event"]["unit"] == "ms",
      "helper_per_event is the helper's median")
check(f["helper_per_event"]["floor"] == {"name": "bin_true_per_event", "value": 4.6, "unit": "ms"},
      "helper_per_event's floor is /bin/true's median")
check(f["parallel32_rate"]["floor"]["value"] == 130.0, "parallel32's floor is 32 /bin/true")
check(f["parallel32_spooled"]["value"] == 266, "spooled is counted")
check(f["plug_to_qemu_reply"]["value"] is None and "failed" in f["plug_to_qemu_reply"]["missing"],
      "a figure of a failed script says so")
check("not there" in f["boot_burst_total"]["missing"], "a figure of an absent script says so")
check(f["newbench.widgets_ms"]["value"] == 2.5 and f["newbench.widgets_ms"]["unit"] == "ms",
      "an unknown line is listed")
check(r["metadata"]["loadavg_before"] == ["1.00", "2.00", "3.00"], "the load average is kept")
EOF
grep -q '^helper_per_event  *11.5 ms  *4.6 ms  *2.50x$' "$tmp/table" || { echo "FAIL: the table's helper row"; cat "$tmp/table"; exit 1; }
echo "ok: bench/results.py"
