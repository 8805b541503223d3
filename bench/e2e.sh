#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end benchmark: real QEMU, real statd, the helper run as udev runs it.
#
# Build WITHOUT sanitizers for numbers worth quoting (`./configure && make`);
# an --enable-sanitizers build works too, only several times slower.
#
# Usage: bench/e2e.sh [EVENTS [BACKLOG]]      (defaults: 200, 1000)
#   BUILDDIR=DIR  where the built helper/ and statd/ are (default: this tree)
#
# 1. Latency: EVENTS times, the helper's add event for a USB mouse (one
#    umockdev-run session for the whole loop), from just before the helper
#    is spawned until statd has QEMU's reply to device_add. statd logs
#    "attached to vm1" right when that reply arrives and before it writes the
#    outcome; its stderr is a pipe this script blocks on, so nothing polls.
#    Each add is followed by the remove event (timed too, not the headline),
#    so every add really attaches. The VM uses "usbAttachBy": "vidpid", so
#    QEMU accepts the usb-host although the host has no such device.
#    The same events measured on QEMU's clock: this QEMU runs with
#    `-trace handle_qmp_command -trace monitor_qmp_respond -msg timestamp=on`,
#    which stamps each command's arrival and its reply with the wall clock;
#    the event's time is the wall clock just before the helper is spawned.
#    plug_qemu: event to QEMU's reply to the device_add (and to the first
#    command of any kind reaching QEMU); unplug_qemu: event to the reply to
#    device_del. Their floor, qemu_median_ms: QEMU's own time from the
#    command's arrival to its reply.
# 2. Backlog: statd stopped, BACKLOG attach intents (distinct vid:pid) are
#    written straight into the database; then the time from starting statd
#    until all are attached, checked against pending_intents afterwards.
#    One QEMU USB bus takes 50 usb-host devices at most (30 xHCI ports plus
#    the hubs QEMU chains in, 5 deep), so the backlog is spread over
#    BACKLOG/50 QEMUs, 50 devices each: statd serves them in parallel.
#
# Prints:
#   e2e median_ms=1.234 p99_ms=3.456 events=200
#   plug_qemu median_ms=... p99_ms=... qemu_median_ms=... first_cmd_median_ms=... events=200
#   unplug_qemu median_ms=... p99_ms=... qemu_median_ms=... events=200
#   backlog intents=1000 drain_s=0.812
# plus the helper's own run time and the detach latency, for context.
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
EVENTS=${1:-200}
BACKLOG=${2:-1000}

for prog in "$BUILDDIR/helper/vhotplug-helper" "$BUILDDIR/statd/vhotplug-statd"; do
	[ -x "$prog" ] || { echo "$prog: not built (BUILDDIR=$BUILDDIR)" >&2; exit 1; }
done
for tool in qemu-system-x86_64 umockdev-run python3; do
	command -v "$tool" >/dev/null || { echo "$tool: not installed" >&2; exit 1; }
done
if ldd "$BUILDDIR/statd/vhotplug-statd" | grep -q libasan; then
	echo "warning: sanitizer build: expect much slower numbers" >&2
fi

# python3 may be a wrapper (pyenv): resolve the interpreter once.
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
# umockdev preloads itself into the helper: ASan must not insist on being first.
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}
export SRCDIR BUILDDIR EVENTS BACKLOG
SCRIPT=$(mktemp)
trap 'rm -f "$SCRIPT"' EXIT
cat >"$SCRIPT" <<'EOF'
import json
import math
import os
import select
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SRCDIR = os.environ["SRCDIR"]
sys.path.insert(0, os.path.join(SRCDIR, "bench"))
import qemutrace  # noqa: E402
BUILDDIR = os.environ["BUILDDIR"]
EVENTS = int(os.environ["EVENTS"])
BACKLOG = int(os.environ["BACKLOG"])
HELPER = os.path.join(BUILDDIR, "helper/vhotplug-helper")
STATD = os.path.join(BUILDDIR, "statd/vhotplug-statd")
DEVPATH = "/devices/pci0000:00/0000:00:14.0/usb1/1-3"
TIMEOUT = 30

tmp = tempfile.mkdtemp(prefix="vhp-e2e.")
db = os.path.join(tmp, "vhotplug.db")
run = os.path.join(tmp, "run")
cfg = os.path.join(tmp, "config.json")
PER_VM = 50	# usb-host devices one QEMU bus takes
bench_vms = ["b%d" % n for n in range(1, (BACKLOG + PER_VM - 1) // PER_VM + 1)]


def write_config(vms):
    with open(cfg, "w") as f:
        json.dump({
            "usbPassthrough": [{"targetVm": "vm1",
                                "allow": [{"vendorId": "046d", "productId": "c077"}]}],
            "vms": [{"name": name, "type": "qemu", "socket": os.path.join(tmp, name + ".sock"),
                     "usbAttachBy": "vidpid"} for name in vms],
        }, f)


write_config(["vm1"])

# QEMU and statd are not under umockdev: only the helper sees the recording.
clean_env = {k: v for k, v in os.environ.items()
             if k != "LD_PRELOAD" and not k.startswith("UMOCKDEV")}
procs = []


def cleanup():
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    shutil.rmtree(tmp, ignore_errors=True)


def die(msg):
    print("e2e: " + msg, file=sys.stderr)
    cleanup()
    sys.exit(1)


class Statd:
    """statd with its stderr on a pipe; lines are read as they come."""

    def __init__(self):
        self.t_start = time.monotonic()
        # statd prefixes "<N>" only on the journal's stream: say the pipe is one.
        self.fd, w = os.pipe()
        st = os.fstat(w)
        env = dict(clean_env, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
        self.p = subprocess.Popen([STATD, "-c", cfg, "--db", db, "--run-dir", run],
                                  env=env, stdin=subprocess.DEVNULL, stderr=w)
        os.close(w)
        procs.append(self.p)
        self.buf = b""
        self.wait_for(b"ready:")

    def wait_for(self, text, count=1):
        """Block until COUNT more lines contain TEXT; the time the last one was read."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                if text in line:
                    count -= 1
                    if count == 0:
                        return time.monotonic()
                elif line.startswith((b"<3>", b"<4>", b"<5>")):
                    die("statd: " + line.decode(errors="replace"))
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                die("timed out waiting for statd to log %r" % text)
            data = os.read(self.fd, 65536)
            if not data:
                die("statd exited")
            self.buf += data

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        if self.p.wait(10) != 0:
            die("statd exited with %d" % self.p.returncode)
        procs.remove(self.p)


def helper(action, seq, log):
    env = dict(os.environ, ACTION=action, DEVPATH=DEVPATH, SUBSYSTEM="usb",
               DEVTYPE="usb_device", SEQNUM=str(seq))
    return subprocess.Popen([HELPER, "-c", cfg, "--db", db, "--run-dir", run], env=env,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)


def reap(p, t0, out):
    p.wait()
    out.append(time.monotonic() - t0)


def pct(samples, q):
    s = sorted(samples)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def ms(x):
    return "%.3f" % (x * 1000)


def start_qemus(names, trace=None):
    socks = [os.path.join(tmp, name + ".sock") for name in names]
    args = qemutrace.ARGS if trace else []
    for path in socks:
        procs.append(subprocess.Popen(
            ["qemu-system-x86_64", "-M", "q35", "-nodefaults", "-display", "none", "-S",
             "-device", "qemu-xhci,id=xhci,p2=15,p3=15",
             "-qmp", "unix:%s,server=on,wait=off" % path] + args,
            env=clean_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(trace, "w") if trace else subprocess.DEVNULL))
    for _ in range(1000):
        if all(os.path.exists(path) for path in socks):
            return
        time.sleep(0.01)
    die("QEMU did not create its QMP socket")


def to_qemu(events, cmds, name):
    """For each event time: (to the first NAME command's reply, QEMU's time for it,
    to the first command of any kind)."""
    out = []
    for t in events:
        reply = next(c for c in cmds if c[0] == name and c[1] >= t)
        first = next(c for c in cmds if c[1] >= t)
        out.append((reply[2] - t, reply[2] - reply[1], first[1] - t))
    return out


trace = os.path.join(tmp, "vm1.trace")
start_qemus(["vm1"], trace)

try:
    statd = Statd()
    attach, detach, helper_runs = [], [], []
    plug_wall, unplug_wall = [], []
    with open(os.path.join(tmp, "helper.log"), "w") as log:
        for i in range(EVENTS):
            plug_wall.append(time.time())
            t0 = time.monotonic()
            p = helper("add", 2 * i + 1, log)
            reaper = threading.Thread(target=reap, args=(p, t0, helper_runs))
            reaper.start()
            attach.append(statd.wait_for(b": attached to vm1 as vhp-usb-046d-c077.1-3") - t0)
            reaper.join()
            unplug_wall.append(time.time())
            t0 = time.monotonic()
            p = helper("remove", 2 * i + 2, log)
            detach.append(statd.wait_for(b": detached from vm1") - t0)
            p.wait()
    print("e2e median_ms=%s p99_ms=%s events=%d" % (ms(statistics.median(attach)),
                                                  ms(pct(attach, 0.99)), EVENTS))
    print("e2e_detach median_ms=%s p99_ms=%s events=%d" % (ms(statistics.median(detach)),
                                                         ms(pct(detach, 0.99)), EVENTS))
    print("helper_run median_ms=%s p99_ms=%s (add, spawn to exit, under umockdev)"
          % (ms(statistics.median(helper_runs)), ms(pct(helper_runs, 0.99))))
    cmds = qemutrace.commands(trace)
    plug = to_qemu(plug_wall, cmds, "device_add")
    unplug = to_qemu(unplug_wall, cmds, "device_del")
    print("plug_qemu median_ms=%s p99_ms=%s qemu_median_ms=%s first_cmd_median_ms=%s events=%d"
          % (ms(statistics.median(x[0] for x in plug)), ms(pct([x[0] for x in plug], 0.99)),
             ms(statistics.median(x[1] for x in plug)),
             ms(statistics.median(x[2] for x in plug)), EVENTS))
    print("unplug_qemu median_ms=%s p99_ms=%s qemu_median_ms=%s events=%d"
          % (ms(statistics.median(x[0] for x in unplug)), ms(pct([x[0] for x in unplug], 0.99)),
             ms(statistics.median(x[1] for x in unplug)), EVENTS))
    statd.stop()

    # The backlog: BACKLOG devices with attach intents, written as the helper would.
    con = sqlite3.connect(db)
    with con:
        for i in range(1, BACKLOG + 1):
            cur = con.execute(
                "INSERT INTO devices (kind, ident, devpath, sysname, label, vendor_id, product_id,"
                " busnum, devnum) VALUES ('usb', ?, ?, ?, ?, 4660, ?, 9, ?)",
                ("usb:1234:%04x@9-%d" % (i, i), "/devices/bench/usb9/9-%d" % i, "9-%d" % i,
                 "usb 1234:%04x bench device at 9-%d" % (i, i), i, i % 127 + 1))
            con.execute("INSERT INTO intents (device_id, action, vm, rule, busnum, devnum)"
                        " VALUES (?, 'attach', ?, 'bench', 9, ?)",
                        (cur.lastrowid, bench_vms[(i - 1) // PER_VM], i % 127 + 1))
    con.close()
    write_config(["vm1"] + bench_vms)
    start_qemus(bench_vms)

    statd = Statd()
    t_done = statd.wait_for(b" as vhp-usb-1234-", BACKLOG)
    drain = t_done - statd.t_start
    con = sqlite3.connect(db, timeout=5)
    for _ in range(500):	# the last outcome is committed right after its log line
        left = con.execute("SELECT count(*) FROM pending_intents").fetchone()[0]
        if left == 0:
            break
        time.sleep(0.01)
    # Counted in history, not current_attachments: the devices are not in udev
    # (statd is not under umockdev), so a reconcile of the VM may detach them
    # again before this look.
    attached = con.execute("SELECT count(DISTINCT device_id) FROM history"
                           " WHERE event = 'attached' AND vm != 'vm1'").fetchone()[0]
    con.close()
    if left or attached != BACKLOG:
        die("backlog: %d still pending, %d attached" % (left, attached))
    print("backlog intents=%d drain_s=%.3f vms=%d" % (BACKLOG, drain, len(bench_vms)))
    statd.stop()
finally:
    cleanup()
EOF
umockdev-run --device "$SRCDIR/tests/data/usb-mouse.umockdev" -- "$PYTHON" "$SCRIPT"
