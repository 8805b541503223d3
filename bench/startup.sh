#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# `vhotplug-statd -a` start-up: DEVICES USB devices (faked by umockdev, each a
# distinct vendor:product a rule takes, attached by vendor/product id) are
# plugged in before statd starts; measured, ROUNDS times on a fresh database and
# a fresh QEMU: from statd's exec until QEMU has replied to the last of the
# DEVICES device_add commands. The start is the wall clock taken by the shell
# that execs statd (inside umockdev-run, so umockdev's own start is not in it);
# the end is QEMU's own clock (`-trace handle_qmp_command -trace
# monitor_qmp_respond -msg timestamp=on`, see bench/qemutrace.py). The floor,
# qemu_floor_ms: the sum of QEMU's own times for those device_adds (one VM
# takes them one at a time).
#
# Build WITHOUT sanitizers for numbers worth quoting (`./configure && make`).
#
# Usage: bench/startup.sh [DEVICES [ROUNDS]]      (defaults: 20, 5)
#   BUILDDIR=DIR  where the built statd/ is (default: this tree)
#
# Prints:
#   startup_a devices=20 rounds=5 median_ms=... max_ms=... qemu_floor_ms=...
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
export SRCDIR BUILDDIR DEVICES=${1:-20} ROUNDS=${2:-5}

[ -x "$BUILDDIR/statd/vhotplug-statd" ] || { echo "$BUILDDIR/statd/vhotplug-statd: not built (BUILDDIR=$BUILDDIR)" >&2; exit 1; }
for tool in qemu-system-x86_64 umockdev-run python3; do
	command -v "$tool" >/dev/null || { echo "$tool: not installed" >&2; exit 1; }
done
if ldd "$BUILDDIR/statd/vhotplug-statd" | grep -q libasan; then
	echo "warning: sanitizer build: expect much slower numbers" >&2
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
exec "$PYTHON" - <<'EOF'
import json, os, shutil, signal, statistics, subprocess, sys, tempfile, time

SRCDIR, BUILDDIR = os.environ["SRCDIR"], os.environ["BUILDDIR"]
N, ROUNDS = int(os.environ["DEVICES"]), int(os.environ["ROUNDS"])
sys.path.insert(0, os.path.join(SRCDIR, "bench"))
import qemutrace  # noqa: E402
STATD = os.path.join(BUILDDIR, "statd/vhotplug-statd")
tmp = tempfile.mkdtemp(prefix="vhp-startup.")
sock, cfg, rec = (os.path.join(tmp, x) for x in ("vm1.sock", "config.json", "devs.umockdev"))
procs = []

def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)

def wait_for(cond, what, timeout=60):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            sys.exit("startup: timed out waiting for " + what)
        time.sleep(0.005)

def count(path, text):
    with open(path, errors="replace") as f:
        return f.read().count(text)

try:
    # N devices 1-1 ... 1-N of vendor aaaa on the xHCI of the mouse's recording.
    with open(rec, "w") as f:
        for i in range(1, N + 1):
            f.write("P: /devices/pci0000:00/0000:00:14.0/usb1/1-%d\nE: BUSNUM=001\n"
                    "E: DEVNAME=/dev/bus/usb/001/%03d\nE: DEVNUM=%03d\nE: DEVTYPE=usb_device\n"
                    "E: ID_USB_INTERFACES=:030102:\nE: PRODUCT=aaaa/%04x/100\nE: SUBSYSTEM=usb\n"
                    "A: busnum=1\\n\nA: devnum=%d\\n\nA: idProduct=%04x\\n\nA: idVendor=aaaa\\n\n\n"
                    % (i, i + 1, i + 1, i, i + 1, i))
        mouse = open(os.path.join(SRCDIR, "tests/data/usb-mouse.umockdev")).read()
        f.write(mouse[mouse.index("P: /devices/pci0000:00/0000:00:14.0/usb1\n"):])
    json.dump({"usbPassthrough": [{"targetVm": "vm1", "allow": [{"vendorId": "aaaa"}]}],
               "vms": [{"name": "vm1", "type": "qemu", "socket": sock, "usbAttachBy": "vidpid"}]},
              open(cfg, "w"))
    times, floors = [], []
    for r in range(ROUNDS):
        d = os.path.join(tmp, "r%d" % r)
        os.makedirs(d)
        trace, log, stamp = (os.path.join(d, x) for x in ("qemu.trace", "statd.log", "start"))
        if os.path.exists(sock):
            os.unlink(sock)
        q = subprocess.Popen(["qemu-system-x86_64", "-M", "q35", "-nodefaults", "-display", "none",
                              "-S", "-device", "qemu-xhci,id=xhci,p2=15,p3=15",
                              "-qmp", "unix:%s,server=on,wait=off" % sock] + qemutrace.ARGS,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(trace, "w"))
        procs.append(q)
        wait_for(lambda: os.path.exists(sock), "QEMU's socket")
        statd = subprocess.Popen(
            ["umockdev-run", "--device", rec, "--", "bash", "-c",
             'echo "$$ $EPOCHREALTIME" >"$0"; exec "$@"', stamp,
             STATD, "-a", "-c", cfg, "--db", os.path.join(d, "vhotplug.db"),
             "--run-dir", os.path.join(d, "run")],
            stdin=subprocess.DEVNULL, stdout=open(log, "w"), stderr=subprocess.STDOUT,
            env=dict(os.environ, LC_ALL="C"))
        procs.append(statd)
        wait_for(lambda: count(log, "attached to vm1 as") >= N, "%d attaches" % N)
        adds = [c for c in qemutrace.commands(trace) if c[0] == "device_add"]
        if len(adds) < N:
            sys.exit("startup: QEMU saw %d device_add, not %d" % (len(adds), N))
        pid, t0 = open(stamp).read().split()
        t0 = float(t0)
        times.append((adds[N - 1][2] - t0) * 1000)
        floors.append(sum(c[2] - c[1] for c in adds[:N]) * 1000)
        os.kill(int(pid), signal.SIGTERM)	# statd, under umockdev-run
        statd.wait(30)
        q.terminate()
        q.wait()
    print("startup_a devices=%d rounds=%d median_ms=%.1f max_ms=%.1f qemu_floor_ms=%.1f" %
          (N, ROUNDS, statistics.median(times), max(times), statistics.median(floors)))
finally:
    cleanup()
EOF
