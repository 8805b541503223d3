#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A laptop's boot: statd starts beside VMS running QEMUs (each VM appearing
# is reconciled) while udev replays EVENTS USB adds, HELPERS helpers at a time
# (xargs -P). The devices (umockdev, EVENTS distinct vendor:product ids) go to
# the VMs in turn by vendor id; statd and the helpers see the same recording,
# so statd's reconciles enumerate every device. Measured, on the wall clock
# (QEMU's own, from its trace: see bench/qemutrace.py): from the last helper's
# exit (the last event recorded) until QEMU has replied to the device_add of
# every device, and from statd's exec until then. The database exists (an
# earlier boot made it); the VMs' QEMUs are up before statd. statd runs
# without -a, so that every attach comes from an event: with -a it attaches
# the recorded devices by itself, often before the replay ends.
#
# Build WITHOUT sanitizers for numbers worth quoting (`./configure && make`).
#
# Usage: bench/boot-burst.sh [EVENTS [VMS [HELPERS]]]      (defaults: 300, 9, 16)
#   BUILDDIR=DIR  where the built helper/ and statd/ are (default: this tree)
#
# Prints:
#   boot_burst vms=9 events=300 attached=300 last_event_to_all_attached_ms=... total_s=...
# (without the two times, and exit 1, if not all were attached within 120 s)
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
export SRCDIR BUILDDIR EVENTS=${1:-300} VMS=${2:-9} HELPERS=${3:-16}

for prog in "$BUILDDIR/helper/vhotplug-helper" "$BUILDDIR/statd/vhotplug-statd"; do
	[ -x "$prog" ] || { echo "$prog: not built (BUILDDIR=$BUILDDIR)" >&2; exit 1; }
done
for tool in qemu-system-x86_64 umockdev-run python3; do
	command -v "$tool" >/dev/null || { echo "$tool: not installed" >&2; exit 1; }
done
if ldd "$BUILDDIR/statd/vhotplug-statd" | grep -q libasan; then
	echo "warning: sanitizer build: expect much slower numbers" >&2
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
exec "$PYTHON" - <<'EOF'
import json, os, shutil, signal, subprocess, sys, tempfile, time

SRCDIR, BUILDDIR = os.environ["SRCDIR"], os.environ["BUILDDIR"]
N, VMS, HELPERS = int(os.environ["EVENTS"]), int(os.environ["VMS"]), int(os.environ["HELPERS"])
sys.path.insert(0, os.path.join(SRCDIR, "bench"))
import qemutrace  # noqa: E402
HELPER = os.path.join(BUILDDIR, "helper/vhotplug-helper")
STATD = os.path.join(BUILDDIR, "statd/vhotplug-statd")
USB = "/devices/pci0000:00/0000:00:14.0/usb1"
tmp = tempfile.mkdtemp(prefix="vhp-boot-burst.")
db, run, cfg, rec, log, stamp = (os.path.join(tmp, x) for x in (
    "vhotplug.db", "run", "config.json", "devs.umockdev", "statd.log", "start"))
vms = ["vm%d" % v for v in range(1, VMS + 1)]
procs = []

def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)

def wait_for(cond, timeout, step=0.01):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(step)
    return True

def statd(*args):
    """statd under umockdev-run; its pid (the shell that stamps the start execs it)."""
    p = subprocess.Popen(["umockdev-run", "--device", rec, "--", "bash", "-c",
                          'echo "$$ $EPOCHREALTIME" >"$0"; exec "$@"', stamp,
                          STATD, "-c", cfg, "--db", db, "--run-dir", run] + list(args),
                         stdin=subprocess.DEVNULL, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    if not wait_for(lambda: os.path.exists(stamp) and len(open(stamp).read().split()) == 2, 30):
        sys.exit("boot-burst: statd did not start")
    pid, t0 = open(stamp).read().split()
    os.unlink(stamp)
    return p, int(pid), float(t0)

def stop(p, pid):
    os.kill(pid, signal.SIGTERM)
    p.wait(30)

try:
    # Device i (1-i on the mouse's xHCI) is vendor ab0V, V its VM.
    with open(rec, "w") as f:
        for i in range(1, N + 1):
            v = (i - 1) % VMS + 1
            f.write("P: %s/1-%d\nE: BUSNUM=001\nE: DEVNAME=/dev/bus/usb/001/%03d\nE: DEVNUM=%03d\n"
                    "E: DEVTYPE=usb_device\nE: ID_USB_INTERFACES=:030102:\n"
                    "E: PRODUCT=ab%02x/%04x/100\nE: SUBSYSTEM=usb\nA: busnum=1\\n\n"
                    "A: devnum=%d\\n\nA: idProduct=%04x\\n\nA: idVendor=ab%02x\\n\n\n"
                    % (USB, i, i % 1000, i % 1000, v, i, i % 1000, i, v))
        mouse = open(os.path.join(SRCDIR, "tests/data/usb-mouse.umockdev")).read()
        f.write(mouse[mouse.index("P: %s\n" % USB):])
    json.dump({"usbPassthrough": [{"targetVm": vm, "allow": [{"vendorId": "ab%02x" % (v + 1)}]}
                                  for v, vm in enumerate(vms)],
               "vms": [{"name": vm, "type": "qemu", "socket": os.path.join(tmp, vm + ".sock"),
                        "usbAttachBy": "vidpid"} for vm in vms]}, open(cfg, "w"))
    # An earlier boot made the database: statd once, to ready, VMs down.
    p, pid, _ = statd()
    if not wait_for(lambda: "ready:" in open(log).read(), 30):
        sys.exit("boot-burst: statd did not get ready:\n" + open(log).read())
    stop(p, pid)

    traces = [os.path.join(tmp, vm + ".trace") for vm in vms]
    for vm, trace in zip(vms, traces):
        procs.append(subprocess.Popen(
            ["qemu-system-x86_64", "-M", "q35", "-nodefaults", "-display", "none", "-S",
             "-device", "qemu-xhci,id=xhci,p2=15,p3=15",
             "-qmp", "unix:%s,server=on,wait=off" % os.path.join(tmp, vm + ".sock")]
            + qemutrace.ARGS, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(trace, "w")))
    if not wait_for(lambda: all(os.path.exists(os.path.join(tmp, vm + ".sock")) for vm in vms), 30):
        sys.exit("boot-burst: QEMU did not create its sockets")

    # The boot: statd and the replay start together.
    burst = subprocess.Popen(
        ["umockdev-run", "--device", rec, "--", "bash", "-c",
         'seq "$1" | xargs -P"$2" -I{} env ACTION=add DEVPATH="$3"/1-{} SUBSYSTEM=usb '
         'DEVTYPE=usb_device SEQNUM={} "$4" -c "$5" --db "$6" --run-dir "$7"; '
         'echo "$EPOCHREALTIME" >"$8"',
         "burst", str(N), str(HELPERS), USB, HELPER, cfg, db, run, stamp + ".last"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(tmp, "helpers.log"), "w"))
    p, pid, t_start = statd()
    burst.wait()
    t_last = float(open(stamp + ".last").read())	# the last helper's exit

    def attached():
        """{qdev id: QEMU's first OK reply to its device_add}"""
        ids = {}
        for trace in traces:
            for cmd, _, reply, args, ok in qemutrace.commands(trace):
                if cmd == "device_add" and ok and args["id"] not in ids:
                    ids[args["id"]] = reply
        return ids
    ids = {}
    def all_attached():
        ids.update(attached())
        return len(ids) >= N
    wait_for(all_attached, 120, 0.2)
    line = "boot_burst vms=%d events=%d attached=%d" % (VMS, N, len(ids))
    if len(ids) < N:
        print(line)
        sys.stdout.flush()
        sys.exit("boot-burst: %d of %d attached after 120 s; statd's log ends:\n%s"
                 % (len(ids), N, open(log, errors="replace").read()[-2000:]))
    t_all = max(ids.values())
    print("%s last_event_to_all_attached_ms=%.0f total_s=%.3f"
          % (line, (t_all - t_last) * 1000, t_all - t_start))
    stop(p, pid)
finally:
    cleanup()
EOF
