#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Boot burst: statd starts with VMS QEMUs to reconcile while udev replays
# EVENTS plug events, 16 helpers at once (xargs -P16), as on a laptop's boot.
#
# Build WITHOUT sanitizers for numbers worth quoting (`./configure && make`).
#
# Usage: bench/boot-burst.sh [VMS [EVENTS]]        (defaults: 9, 300)
#   BUILDDIR=DIR  where the built helper/ and statd/ are (default: this tree)
#   EXTRA=N       devices in sysfs that no rule takes and udev does not replay
#                 (default 700: 1,000 in all, as issue 16 measured)
#
# EVENTS distinct USB devices 1-1 ... 1-EVENTS under umockdev (statd and the
# helpers see the same recording), device i for VM (i mod VMS), chosen by its
# vendor id; "usbAttachBy": "vidpid", so QEMU (-M q35 -nodefaults -display
# none -S, three xHCIs) takes a usb-host although the host has no such device.
# A new database; statd (reconciling every VM at its start) and the helpers
# start together. The clock runs from the last helper's exit until statd has
# logged QEMU's reply for every device ("attached to": its stderr is a pipe
# read as it comes); 0 when all were in before the last helper ended.
#
# Prints:
#   boot_burst vms=9 events=300 last_event_to_all_attached_ms=N total_s=N
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
VMS=${1:-9}
EVENTS=${2:-300}

for prog in "$BUILDDIR/helper/vhotplug-helper" "$BUILDDIR/statd/vhotplug-statd"; do
	[ -x "$prog" ] || { echo "$prog: not built (BUILDDIR=$BUILDDIR)" >&2; exit 1; }
done
for tool in qemu-system-x86_64 umockdev-run python3 xargs; do
	command -v "$tool" >/dev/null || { echo "$tool: not installed" >&2; exit 1; }
done
if ldd "$BUILDDIR/statd/vhotplug-statd" | grep -q libasan; then
	echo "warning: sanitizer build: expect much slower numbers" >&2
fi
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}
EXTRA=${EXTRA:-700}
export SRCDIR BUILDDIR VMS EVENTS EXTRA
SCRIPT=$(mktemp)
trap 'rm -f "$SCRIPT"' EXIT
cat >"$SCRIPT" <<'PY'
import os, re, shutil, signal, sqlite3, subprocess, sys, tempfile, threading, time

SRCDIR = os.environ["SRCDIR"]
BUILDDIR = os.environ["BUILDDIR"]
VMS = int(os.environ["VMS"])
EVENTS = int(os.environ["EVENTS"])
EXTRA = int(os.environ["EXTRA"])
HELPER = os.path.join(BUILDDIR, "helper/vhotplug-helper")
STATD = os.path.join(BUILDDIR, "statd/vhotplug-statd")
TIMEOUT = 120
BASE = "/devices/pci0000:00/0000:00:14.0/usb1"

tmp = tempfile.mkdtemp(prefix="vhp-boot.")
db = os.path.join(tmp, "vhotplug.db")
run = os.path.join(tmp, "run")
config = os.path.join(tmp, "config.json")
rec = os.path.join(tmp, "devices.umockdev")	# what statd sees
replayed = os.path.join(tmp, "replayed.umockdev")	# what the helpers see
procs = []


def vendor(vm):
    return "a%03x" % (vm + 1)


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)


def wait_for(cond, what):
    deadline = time.monotonic() + TIMEOUT
    while not cond():
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for " + what)
        time.sleep(0.01)


def write_recording(path, n):
    with open(os.path.join(SRCDIR, "tests/data/usb-mouse.umockdev")) as f:
        mouse = f.read()
    # The controller and root hub of the mouse's recording, without the mouse.
    tail = mouse[mouse.index("P: %s\n" % BASE):]
    with open(path, "w") as f:
        for i in range(1, n + 1):
            vid, pid = vendor(i % VMS) if i <= EVENTS else "ffff", "%04x" % i
            f.write("P: %s/1-%d\nE: BUSNUM=001\nE: DEVNAME=/dev/bus/usb/001/%03d\n"
                    "E: DEVNUM=%03d\nE: DEVTYPE=usb_device\nE: DRIVER=usb\nE: ID_BUS=usb\n"
                    "E: ID_USB_INTERFACES=:030102:\nE: PRODUCT=%s/%s/100\nE: SUBSYSTEM=usb\n"
                    "E: TYPE=0/0/0\nA: bDeviceClass=00\\n\nA: busnum=1\\n\nA: devnum=%d\\n\n"
                    "A: idProduct=%s\\n\nA: idVendor=%s\\n\nA: product=Boot device %d\\n\n"
                    "A: removable=removable\\n\n\n"
                    % (BASE, i, i, i, vid, pid, i, pid, vid, i))
        f.write(tail)


def write_config():
    rules = ",\n".join('    { "targetVm": "vm%d", "allow": [ { "vendorId": "%s" } ] }'
                       % (v, vendor(v)) for v in range(VMS))
    vms = ",\n".join('    { "name": "vm%d", "type": "qemu", "socket": "%s/vm%d.sock",'
                     ' "usbAttachBy": "vidpid" }' % (v, tmp, v) for v in range(VMS))
    with open(config, "w") as f:
        f.write('{\n  "usbPassthrough": [\n%s\n  ],\n  "vms": [\n%s\n  ],\n'
                '  "general": { "qmpTimeoutMs": 30000 }\n}\n' % (rules, vms))


def helpers(action, parallel):
    """One helper per device, PARALLEL at a time, in one umockdev session."""
    worker = os.path.join(tmp, "worker")
    with open(worker, "w") as f:
        f.write('#!/bin/sh\nACTION=%s DEVPATH=%s/1-$1 SUBSYSTEM=usb DEVTYPE=usb_device '
                'SEQNUM=$1 exec "%s" -c "%s" --db "%s" --run-dir "%s" 2>>"%s/helper.log"\n'
                % (action, BASE, HELPER, config, db, run, tmp))
    os.chmod(worker, 0o755)
    args = "\n".join(str(i) for i in range(1, EVENTS + 1))
    subprocess.run(["umockdev-run", "--device", replayed, "--", "xargs", "-P%d" % parallel,
                    "-n1", worker], input=args.encode(), check=True)


def qemu(v):
    sock = "%s/vm%d.sock" % (tmp, v)
    if os.path.exists(sock):
        os.unlink(sock)
    extra = []
    for c in (1, 2):
        extra += ["-device", "qemu-xhci,id=xhci%d,p2=15,p3=15" % c]
    p = subprocess.Popen(["qemu-system-x86_64", "-M", "q35", "-nodefaults", "-display", "none",
                          "-S", "-device", "qemu-xhci,id=xhci"] + extra +
                         ["-qmp", "unix:%s,server=on,wait=off" % sock],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    procs.append(p)
    return p, sock


def statd_run(attached):
    """statd under umockdev; ATTACHED[qdev id] is when QEMU first said yes to it."""
    p = subprocess.Popen(["umockdev-run", "--device", rec, "--", STATD, "-c", config, "--db", db,
                          "--run-dir", run], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    procs.append(p)

    def read():
        for line in p.stderr:
            m = re.search(rb" attached to vm\d+ as (\S+)", line)
            if m and m.group(1) not in attached:
                attached[m.group(1)] = time.monotonic()
    t = threading.Thread(target=read, daemon=True)
    t.start()
    return p, t


def statd_stop(p, t):
    os.killpg(p.pid, signal.SIGTERM)
    p.wait()
    t.join()


try:
    os.makedirs(run)
    write_recording(rec, EVENTS + EXTRA)
    # Only the replayed devices: umockdev's cost grows with its testbed, and
    # udev's workers pay nothing for sysfs's size.
    write_recording(replayed, EVENTS)
    write_config()
    qemus = [qemu(v) for v in range(VMS)]
    for _, sock in qemus:
        wait_for(lambda: os.path.exists(sock), "QEMU's socket")

    attached = {}
    t0 = time.monotonic()
    sp, st = statd_run(attached)
    helpers("add", 16)
    last_event = time.monotonic()
    wait_for(lambda: len(attached) >= EVENTS, "every device attached")
    done = max(attached.values())
    statd_stop(sp, st)
    with sqlite3.connect(db) as c:
        pending = c.execute("SELECT count(*) FROM intents WHERE state IN ('pending', 'claimed')"
                            " AND action != 'reconcile'").fetchone()[0]
    if pending:
        print("warning: %d intents still pending" % pending, file=sys.stderr)
    print("boot_burst vms=%d events=%d last_event_to_all_attached_ms=%d total_s=%.2f"
          % (VMS, EVENTS, max(0, round((done - last_event) * 1000)), done - t0))
finally:
    cleanup()
PY
"$PYTHON" -S "$SCRIPT"
