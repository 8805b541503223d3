# SPDX-License-Identifier: Apache-2.0
"""bench/run.sh's second half: the scripts' `name key=value ...` lines become
bench/results.json and a table. Environment: LOGS (NAME.out, NAME.status per
script), OUT, and the metadata run.sh measured."""
import json
import os
import platform
import re
import subprocess
import sys
import time

LOGS = os.environ["LOGS"]

# name, line, key, unit, floor (name, line, key, unit) or None. The floor is
# what the figure cannot beat on this machine: /bin/true started the same way,
# or QEMU's own time for the commands (from its trace).
TRUE = ("bin_true_per_event", "baseline_true", "median_ms", "ms")
FIGURES = [
    ("helper_per_event", "helper", "median_ms", "ms", TRUE),
    ("helper_per_event_p99", "helper", "p99_ms", "ms",
     ("bin_true_per_event_p99", "baseline_true", "p99_ms", "ms")),
    ("helper_peak_rss", "helper", "peak_rss_kb", "KiB", None),
    ("parallel32_rate", "parallel32", "events_per_s", "events/s",
     ("bin_true_parallel32_rate", "parallel_true32", "events_per_s", "events/s")),
    ("parallel32_spooled", "parallel32", "spooled", "events", None),
    ("parallel32_lost", "parallel32", "lost", "events", None),
    ("plug_to_qemu_reply", "plug_qemu", "median_ms", "ms",
     ("qemu_device_add_handling", "plug_qemu", "qemu_median_ms", "ms")),
    ("plug_to_qemu_reply_p99", "plug_qemu", "p99_ms", "ms", None),
    ("plug_to_first_qmp_command", "plug_qemu", "first_cmd_median_ms", "ms", TRUE),
    ("unplug_to_qemu_reply", "unplug_qemu", "median_ms", "ms",
     ("qemu_device_del_handling", "unplug_qemu", "qemu_median_ms", "ms")),
    ("unplug_to_qemu_reply_p99", "unplug_qemu", "p99_ms", "ms", None),
    ("plug_to_statd_log", "e2e", "median_ms", "ms", None),
    ("unplug_to_statd_log", "e2e_detach", "median_ms", "ms", None),
    ("helper_run_under_e2e", "helper_run", "median_ms", "ms", None),
    ("backlog_drain", "backlog", "drain_s", "s", None),
    ("startup_a_all_attached", "startup_a", "median_ms", "ms",
     ("qemu_device_add_handling_sum", "startup_a", "qemu_floor_ms", "ms")),
    ("statd_rss_idle", "statd_rss", "idle_kb", "KiB",
     ("rss_floor", "statd_rss", "floor_kb", "KiB")),
    ("statd_rss_after_1000", "statd_rss", "after1000_kb", "KiB",
     ("rss_floor", "statd_rss", "floor_kb", "KiB")),
    ("boot_burst_last_event_to_all_attached", "boot_burst", "last_event_to_all_attached_ms", "ms",
     None),
    ("boot_burst_total", "boot_burst", "total_s", "s", None),
    ("idle_wakeups", "idle", "wakeups", "wakeups", None),
    ("pokes_cpu_per_poke", "pokes", "per_poke_us", "us", None),
    ("reattach_all_listed", "reattach", "median_ms", "ms", None),
    ("vfio_node_to_device_add", "vfio-wait", "median_ms", "ms", None),
]
# The script each line comes from, to say why a figure is missing.
SOURCE = {"helper": "helper", "baseline_true": "helper", "parallel32": "helper",
          "parallel_true32": "helper", "plug_qemu": "e2e", "unplug_qemu": "e2e",
          "e2e": "e2e", "e2e_detach": "e2e", "helper_run": "e2e", "backlog": "e2e",
          "startup_a": "startup", "statd_rss": "rss", "boot_burst": "boot-burst",
          "idle": "idle", "pokes": "statd-pokes", "reattach": "reattach",
          "vfio-wait": "vfio-wait"}
UNITS = (("_ms", "ms"), ("_s", "s"), ("_kb", "KiB"), ("_us", "us"), ("_per_s", "events/s"))
LINE = re.compile(r"^([A-Za-z][\w.-]*)((?:\s+\w+=\S+)+)")


def number(text):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def read_lines():
    """{line name: {key: value}}, and each script's status."""
    lines, status = {}, {}
    for f in sorted(os.listdir(LOGS)):
        name, ext = os.path.splitext(f)
        path = os.path.join(LOGS, f)
        if ext == ".status":
            rc, ms = open(path).read().split()
            status[name] = {"exit": int(rc), "seconds": int(ms) / 1000}
        elif ext == ".out":
            for text in open(path, errors="replace"):
                m = LINE.match(text)
                if m:
                    kv = dict(p.split("=", 1) for p in m.group(2).split())
                    lines[m.group(1)] = {k: number(v) if number(v) is not None else v
                                         for k, v in kv.items()}
    return lines, status


def why_missing(line, key, lines, status):
    script = SOURCE.get(line, "?")
    if line in lines:
        return "bench/%s.sh printed no %s in its %s line" % (script, key, line)
    if script not in status:
        return "bench/%s.sh is not there" % script
    if status[script]["exit"]:
        return "bench/%s.sh failed (exit %d)" % (script, status[script]["exit"])
    return "bench/%s.sh printed no %s" % (script, line)


def figures(lines, status):
    out, used = [], set()
    for name, line, key, unit, floor in FIGURES:
        used.add(line)
        value = lines.get(line, {}).get(key)
        fig = {"name": name, "value": value, "unit": unit, "from": "%s %s" % (line, key)}
        if value is None:
            fig["missing"] = why_missing(line, key, lines, status)
        if floor:
            fvalue = lines.get(floor[1], {}).get(floor[2])
            if fvalue is not None:
                fig["floor"] = {"name": floor[0], "value": fvalue, "unit": floor[3]}
        if "events" in lines.get(line, {}):
            fig["events"] = lines[line]["events"]
        out.append(fig)
    # A script run.sh does not know yet still shows up: each number of its lines.
    for line, kv in lines.items():
        if line in used or line in ("baseline_true", "parallel_true32"):
            continue
        for key, value in kv.items():
            if isinstance(value, (int, float)):
                unit = next((u for s, u in UNITS if key.endswith(s)), "")
                out.append({"name": "%s.%s" % (line, key), "value": value, "unit": unit,
                            "from": "%s %s" % (line, key)})
    return out


def metadata(status):
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return None
    qemu = run("qemu-system-x86_64", "--version")
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "built_from": os.environ["FROM"],
        "commit": os.environ["SHA"],
        "quick": os.environ["QUICK"] == "1",
        "host": platform.node(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "qemu": qemu.splitlines()[0] if qemu else None,
        "loadavg_before": os.environ["LOAD_BEFORE"].split()[:3],
        "loadavg_after": os.environ["LOAD_AFTER"].split()[:3],
        "uptime": os.environ["UPTIME_TEXT"],
        "build_s": int(os.environ.get("BUILD_S", 0)),
        "total_s": int(os.environ["TOTAL_S"]),
        "scripts": status,
        "note": "a shared machine's numbers are noisy: compare runs made side by side, "
                "and each figure with its floor",
    }


def fmt(value, unit):
    if value is None:
        return "-"
    text = ("%.3f" % value).rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return "%s %s" % (text, unit)


def table(result):
    meta = result["metadata"]
    rows = [("figure", "value", "floor", "ratio")]
    for f in result["figures"]:
        floor = f.get("floor")
        ratio = "-"
        if floor and f["value"] is not None and floor["value"]:
            ratio = "%.2fx" % (f["value"] / floor["value"])
        value = fmt(f["value"], f["unit"]) if "missing" not in f else "(%s)" % f["missing"]
        rows.append((f["name"], value, fmt(floor["value"], floor["unit"]) if floor else "-",
                     ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    text = ["%s; load average %s before, %s after; build %d s, benches %d s"
            % (meta["built_from"], " ".join(meta["loadavg_before"]),
               " ".join(meta["loadavg_after"]), meta["build_s"], meta["total_s"])]
    for r in rows:
        text.append("%-*s  %-*s  %-*s  %s" % (widths[0], r[0], widths[1], r[1], widths[2], r[2],
                                              r[3]))
    return "\n".join(text)


def main():
    lines, status = read_lines()
    result = {"metadata": metadata(status), "figures": figures(lines, status), "lines": lines}
    tmp = os.environ["OUT"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.environ["OUT"])
    print(table(result))
    print("(ratio = value / floor; written to %s)" % os.environ["OUT"], file=sys.stderr)


main()
