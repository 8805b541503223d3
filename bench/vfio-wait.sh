#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# How soon a PCI attach that waits for its vfio group node goes on once the
# node is there. A NIC of IOMMU group 15 (tests/data/pci-group.umockdev, made
# whole by tests/pci-testbed.sh) is plugged, statd gives the group to
# vfio-pci and waits for /dev/vfio/15; ROUNDS times, this script plays the
# kernel's part (driver links), lets statd wait WAIT_MS (plus 0 to 50 ms of
# jitter), creates the node and measures until statd logs its device_add
# (the log polled every 0.5 ms, which is most of what a prompt statd
# measures). The VM is the scripted QMP peer of tests/ in its "ports" mode;
# the NIC is unplugged after each round. Also printed: how many times statd
# looked at the group (gave the NIC to vfio-pci) while it waited.
#
# Build WITHOUT sanitizers for numbers worth quoting (`./configure && make`).
#
# Usage: bench/vfio-wait.sh [ROUNDS [WAIT_MS]]      (defaults: 20, 300)
#   BUILDDIR=DIR  where the built helper/ and statd/ are (default: this tree)
#
# Prints:
#   vfio-wait rounds=20 wait_ms=300 median_ms=... max_ms=... looks_per_wait=...
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${BUILDDIR:-$SRCDIR}" && pwd)
export SRCDIR BUILDDIR ROUNDS=${1:-20} WAIT_MS=${2:-300}

for prog in "$BUILDDIR/helper/vhotplug-helper" "$BUILDDIR/statd/vhotplug-statd"; do
	[ -x "$prog" ] || { echo "$prog: not built (BUILDDIR=$BUILDDIR)" >&2; exit 1; }
done
for tool in umockdev-run python3; do
	command -v "$tool" >/dev/null || { echo "$tool: not installed" >&2; exit 1; }
done
if ldd "$BUILDDIR/statd/vhotplug-statd" | grep -q libasan; then
	echo "warning: sanitizer build: expect much slower numbers" >&2
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
exec "$PYTHON" - <<'EOF'
import json, os, random, shutil, statistics, subprocess, sys, tempfile, time

SRCDIR, BUILDDIR = os.environ["SRCDIR"], os.environ["BUILDDIR"]
ROUNDS, WAIT_MS = int(os.environ["ROUNDS"]), int(os.environ["WAIT_MS"])
HELPER = os.path.join(BUILDDIR, "helper/vhotplug-helper")
STATD = os.path.join(BUILDDIR, "statd/vhotplug-statd")
REC = os.path.join(SRCDIR, "tests/data/pci-group.umockdev")
TESTBED = os.path.join(SRCDIR, "tests/pci-testbed.sh")
PCI_DEVS = "/devices/pci0000:00/0000:00:1c.4/0000:05:00.0"
NIC, MEMBERS = "0000:06:00.0", ("0000:06:00.0", "0000:06:01.0", "0000:06:02.0")
tmp = tempfile.mkdtemp(prefix="vhp-vfio-wait.")
sock = os.path.join(tmp, "vm1.sock")
db, run, cfg, log = (os.path.join(tmp, x) for x in ("vhotplug.db", "run", "config.json", "statd.log"))
procs = []

def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)

def wait_for(cond, timeout=30, step=0.005):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            sys.exit("timed out; statd log:\n" + open(log).read()[-3000:])
        time.sleep(step)

def log_count(text):
    with open(log) as f:
        return f.read().count(text)

def event(action):
    env = dict(os.environ, ACTION=action, DEVPATH=PCI_DEVS + "/" + NIC, SUBSYSTEM="pci")
    cmd = [HELPER, "-c", cfg, "--db", db, "--run-dir", run]
    if action == "add":
        cmd = ["umockdev-run", "--device", REC, "--", "bash", "-c",
               '. "$0"; exec "$@"', TESTBED] + cmd
    subprocess.run(cmd, env=env, check=True)

try:
    os.makedirs(run)
    with open(cfg, "w") as f:
        json.dump({"pciPassthrough": [{"targetVm": "vm1", "allow": [{"address": NIC}]},
                                      {"allowedVms": ["vm1"], "allow": [{"vendorId": "1274"}]}],
                   "vms": [{"name": "vm1", "type": "qemu", "socket": sock}]}, f)
    procs.append(subprocess.Popen([sys.executable, "-S", os.path.join(SRCDIR, "tests/qmp-peer.py"),
                                   sock, "ports"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for(lambda: os.path.exists(sock + ".listening"))
    tbfile = os.path.join(tmp, "testbed")
    with open(log, "w") as out:
        procs.append(subprocess.Popen(
            ["umockdev-run", "--device", REC, "--", "bash", "-c",
             '. "$0"; echo "$UMOCKDEV_DIR" >"$1"; shift; exec "$@"', TESTBED, tbfile,
             STATD, "-c", cfg, "--db", db, "--run-dir", run, "-d"],
            stdout=out, stderr=subprocess.STDOUT))
    wait_for(lambda: log_count("ready:") == 1)
    tb = open(tbfile).read().strip()
    node_dir = os.path.join(tb, "dev/vfio")
    override = os.path.join(tb, "sys/bus/pci/devices", NIC, "driver_override")
    lat, looks = [], []
    drivers = {"0000:06:00.0": "e1000", "0000:06:01.0": "snd_ens1371", "0000:06:02.0": None}

    def link_drivers(table):
        for a, drv in table.items():
            link = os.path.join(tb, "sys/bus/pci/devices", a, "driver")
            if os.path.lexists(link):
                os.unlink(link)
            if drv:
                os.symlink(os.path.join(tb, "sys/bus/pci/drivers", drv), link)

    for i in range(ROUNDS):
        adds = log_count('"driver":"vfio-pci"')
        gave = log_count("giving %s (group 15" % NIC)
        link_drivers(drivers)
        event("add")
        wait_for(lambda: open(override).read().strip() == "vfio-pci")
        # statd waits for the node; each look gives the NIC to vfio-pci again.
        # The jitter keeps the node from coming in step with a polling statd.
        time.sleep((WAIT_MS + random.uniform(0, 50)) / 1000)
        looks.append(log_count("giving %s (group 15" % NIC) - gave)
        link_drivers({a: "vfio-pci" for a in drivers})
        os.makedirs(node_dir, exist_ok=True)
        t0 = time.monotonic()
        open(os.path.join(node_dir, "15"), "w").close()
        wait_for(lambda: log_count('"driver":"vfio-pci"') > adds, step=0.0005)
        lat.append((time.monotonic() - t0) * 1000)
        wait_for(lambda: log_count("attached to vm1 as vhp-pci") > i)
        event("remove")
        wait_for(lambda: log_count("detached from vm1") > i)
        wait_for(lambda: open(override).read().strip() != "vfio-pci")
        os.unlink(os.path.join(node_dir, "15"))
    print("vfio-wait rounds=%d wait_ms=%d median_ms=%.1f max_ms=%.1f looks_per_wait=%.1f" %
          (ROUNDS, WAIT_MS, statistics.median(lat), max(lat), statistics.mean(looks)))
finally:
    cleanup()
EOF
