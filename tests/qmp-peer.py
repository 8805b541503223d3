#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A scripted QMP peer, for the tests: qmp-peer.py SOCKET MODE [MS]

Listens on SOCKET and greets every client like QEMU does, then:
  silent   reads whatever the client sends and never answers;
  garbage  answers the client's first line with bytes that are not JSON;
  late     binds SOCKET, waits 0.3 s before it listens (the window in which a
           connect is refused), then answers like a QEMU with no devices of
           its own: qom-list lists the ids device_add added and device_del
           did not remove, every other command returns {};
  early-event  answers like "late" (without the delay), but sends an event
           before the greeting, as QEMU 7.2 does with a DEVICE_DELETED still
           queued for its previous client.
  deadline answers like "late", each command but qmp_capabilities MS ms after
           it came: right at a client's deadline when that is MS too;
  flood    sends events as fast as it can after the greeting, answers nothing;
  wake-after  silent for clients that connect within MS ms of the first, then
           answers like "late": a VM that stops answering and comes back.
  ports    a paused q35 with root ports rp1..rp3 (tests/data/query-pci-paused.json)
           where rp1 is taken by a device QEMU shows nowhere: device_add on rp1
           fails with QEMU's "in use by" error; device_del answers {} and sends
           DEVICE_DELETED for the id unless MS is 1 (a guest that never lets go).
  hostile  answers like "late", but device_add fails with HOSTILE_DESC: a
           newline and "<0>" (a forged log line at priority 0), an OSC
           sequence that retitles a terminal, and U+202E.
Runs until killed.
"""
import json
import os
import socket
import sys
import threading
import time

EVENT = (b'{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "DEVICE_DELETED", '
         b'"data": {"device": "vhp-usb-1-3", "path": "/machine/peripheral/vhp-usb-1-3"}}\r\n')
GREETING = (b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, '
            b'"package": ""}, "capabilities": []}}\r\n')


QUERY_PCI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "query-pci-paused.json")
HOSTILE_DESC = "no\n<0>forged line \x1b]0;pwned\x07 \u202eevil"
OCCUPIED = "PCI: slot 0 function 0 not available for %s, in use by virtio-rng-pci,id=other"
# The ids device_add added and device_del did not remove, with their driver,
# for every client (statd reconnects): QEMU's /machine/peripheral.
ADDED = {}
ADDED_LOCK = threading.Lock()


def answer(line, mode="late", ms=0):
    try:
        cmd = json.loads(line)
    except ValueError:
        return b'{"error": {"class": "GenericError", "desc": "bad JSON"}}\r\n'
    execute, args = cmd.get("execute"), cmd.get("arguments") or {}
    reply = {"return": {}}
    out = b""
    if execute == "qom-list":
        with ADDED_LOCK:
            reply["return"] = [{"name": "type", "type": "string"}] + \
                [{"name": i, "type": "child<%s>" % d} for i, d in sorted(ADDED.items())]
    elif mode == "ports" and execute == "query-pci":
        with open(QUERY_PCI) as f:
            reply["return"] = json.load(f)
    elif mode == "ports" and execute == "device_add" and args.get("bus") == "rp1":
        reply = {"error": {"class": "GenericError", "desc": OCCUPIED % args.get("driver")}}
    elif mode == "hostile" and execute == "device_add":
        reply = {"error": {"class": "GenericError", "desc": HOSTILE_DESC}}
    elif execute == "device_add":
        with ADDED_LOCK:
            ADDED[args.get("id", "")] = args.get("driver", "")
    elif mode == "ports" and execute == "device_del" and ms != 1:
        dev = args.get("id", "")
        with ADDED_LOCK:
            ADDED.pop(dev, None)
        out = json.dumps({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "DEVICE_DELETED",
                          "data": {"device": dev, "path": "/machine/peripheral/" + dev}}).encode() + b"\r\n"
    elif execute == "device_del" and mode != "ports":
        with ADDED_LOCK:
            ADDED.pop(args.get("id", ""), None)
    if "id" in cmd:
        reply["id"] = cmd["id"]
    return json.dumps(reply).encode() + b"\r\n" + out


def flood(conn):
    burst = EVENT * 256
    while True:
        conn.sendall(burst)


def serve(conn, mode, ms, started):
    if mode == "wake-after":
        mode = "silent" if time.monotonic() - started[0] < ms / 1000 else "late"
    with conn:
        try:
            conn.sendall((EVENT if mode == "early-event" else b"") + GREETING)
            if mode == "flood":
                flood(conn)
            buf = b""
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if mode == "garbage":
                        conn.sendall(b"}{ this is not JSON \x00\xff\r\n")
                    elif mode in ("late", "early-event", "ports", "hostile"):
                        conn.sendall(answer(line, mode, ms))
                    elif mode == "deadline":
                        if b"qmp_capabilities" not in line:
                            time.sleep(ms / 1000)
                        conn.sendall(answer(line))
        except OSError:
            return


def main():
    modes = ("silent", "garbage", "late", "early-event", "deadline", "flood", "wake-after", "ports", "hostile")
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in modes:
        sys.exit(__doc__)
    path, mode = sys.argv[1], sys.argv[2]
    ms = int(sys.argv[3]) if len(sys.argv) == 4 else 0
    started = []
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if mode == "late":
        srv.bind(path)
        time.sleep(0.3)
    else:
        srv.bind(path + ".tmp")
    srv.listen(8)
    if mode != "late":
        os.rename(path + ".tmp", path)  # appears only once it accepts
    with open(path + ".listening", "w"):
        pass
    while True:
        conn, _ = srv.accept()
        if not started:
            started.append(time.monotonic())
        threading.Thread(target=serve, args=(conn, mode, ms, started), daemon=True).start()


if __name__ == "__main__":
    main()
