#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Ask a QEMU one QMP question, for the tests: qmp-query.py SOCKET COMMAND [ARGS-JSON]

Prints the "return" value as JSON on one line and exits 0; prints the error
and exits 1 on a QMP error reply. Shortcut: `qmp-query.py SOCKET peripherals`
prints the devices (children) under /machine/peripheral, one a line, sorted.
"""
import json
import socket
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, command = sys.argv[1], sys.argv[2]
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    names_only = command == "peripherals"
    if names_only:
        command, args = "qom-list", {"path": "/machine/peripheral"}

    # A QEMU just started may have bound its socket but not be listening yet.
    deadline = time.monotonic() + 5
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(path)
            break
        except ConnectionRefusedError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    f = s.makefile("rwb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                sys.exit("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    reply()  # greeting
    for cmd, arguments in (("qmp_capabilities", None), (command, args)):
        req = {"execute": cmd}
        if arguments is not None:
            req["arguments"] = arguments
        f.write(json.dumps(req).encode() + b"\n")
        f.flush()
        msg = reply()
        if "error" in msg:
            print(json.dumps(msg["error"]))
            sys.exit(1)
    ret = msg["return"]
    if names_only:
        # children only: "type" is a property of every QOM object
        for name in sorted(p["name"] for p in ret if p["type"].startswith("child<")):
            print(name)
    else:
        print(json.dumps(ret))


if __name__ == "__main__":
    main()
