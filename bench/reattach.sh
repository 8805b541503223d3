#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Re-attach time after a QEMU restart: DEVICES USB devices (faked by umockdev,
# attached by vendor/product id) are attached to a real QEMU by statd; then,
# ROUNDS times, QEMU is killed with SIGKILL and started again on the same QMP
# socket. Measured: from the moment the socket file is there again until QEMU
# lists every device (polled every 5 ms on a second QMP socket, which statd
# does not use). Nothing tells statd: it sees the socket come back, marks the
# attachments vm_stopped and reconciles the VM.
#
# Build WITHOUT sanitizers for numbers worth quoting (`./configure && make`).
#
# Usage: bench/reattach.sh [DEVICES [ROUNDS]]      (defaults: 24, 10)
#   BUILDDIR=DIR  where the built helper/ and statd/ are (default: this tree)
#
# Prints:
#   reattach devices=24 rounds=10 median_ms=... max_ms=...
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
export SRCDIR BUILDDIR DEVICES=${1:-24} ROUNDS=${2:-10}

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
import json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

SRCDIR, BUILDDIR = os.environ["SRCDIR"], os.environ["BUILDDIR"]
N, ROUNDS = int(os.environ["DEVICES"]), int(os.environ["ROUNDS"])
HELPER = os.path.join(BUILDDIR, "helper/vhotplug-helper")
STATD = os.path.join(BUILDDIR, "statd/vhotplug-statd")
tmp = tempfile.mkdtemp(prefix="vhp-reattach.")
sock, watch = os.path.join(tmp, "vm1.sock"), os.path.join(tmp, "vm1-bench.sock")
db, run, cfg, rec = (os.path.join(tmp, x) for x in ("vhotplug.db", "run", "config.json", "devs.umockdev"))
procs = []

def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)

def wait_for(cond, timeout=30):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            sys.exit("timed out")
        time.sleep(0.005)

def qmp_ids(path):
    """The ids under /machine/peripheral, over a fresh QMP connection."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rwb")
    f.readline()
    for cmd in ({"execute": "qmp_capabilities"},
                {"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}}):
        f.write(json.dumps(cmd).encode() + b"\n")
        f.flush()
        while True:
            r = json.loads(f.readline())
            if "return" in r or "error" in r:
                break
    s.close()
    return {c["name"] for c in r.get("return", []) if c["name"].startswith("vhp-")}

def qemu():
    for p in (sock, watch):
        if os.path.exists(p):
            os.unlink(p)
    p = subprocess.Popen(["qemu-system-x86_64", "-M", "q35", "-nodefaults", "-display", "none", "-S",
                          "-device", "qemu-xhci,id=xhci,p2=15,p3=15",
                          "-qmp", "unix:%s,server=on,wait=off" % sock,
                          "-qmp", "unix:%s,server=on,wait=off" % watch],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    return p

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
    q = qemu()
    wait_for(lambda: os.path.exists(watch))
    log = open(os.path.join(tmp, "statd.log"), "w")
    statd = subprocess.Popen(["umockdev-run", "--device", rec, "--", STATD, "-c", cfg, "--db", db,
                              "--run-dir", run], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    procs.append(statd)
    wait_for(lambda: os.path.exists(os.path.join(run, "statd.sock")))
    adds = "for i in $(seq %d); do ACTION=add DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-$i " \
           "SUBSYSTEM=usb DEVTYPE=usb_device SEQNUM=$i %s -c %s --db %s --run-dir %s; done" % (
               N, HELPER, cfg, db, run)
    subprocess.run(["umockdev-run", "--device", rec, "--", "bash", "-c", adds], check=True)
    wait_for(lambda: len(qmp_ids(watch)) == N)
    times = []
    for _ in range(ROUNDS):
        q.kill()
        q.wait()
        q = qemu()
        wait_for(lambda: os.path.exists(sock), 10)
        t0 = time.monotonic()
        wait_for(lambda: os.path.exists(watch), 10)
        wait_for(lambda: len(qmp_ids(watch)) == N)
        times.append((time.monotonic() - t0) * 1000)
    print("reattach devices=%d rounds=%d median_ms=%.1f max_ms=%.1f" %
          (N, ROUNDS, statistics.median(times), max(times)))
finally:
    cleanup()
EOF
