# SPDX-License-Identifier: Apache-2.0
"""QEMU's own clock for the benches: a QEMU started with ARGS writes, on its
stderr, the wall-clock time at which each QMP command arrived
(handle_qmp_command) and at which its reply went out (monitor_qmp_respond)."""
import json
import re

ARGS = ["-trace", "handle_qmp_command", "-trace", "monitor_qmp_respond", "-msg", "timestamp=on"]
LINE = re.compile(r"\d+@(\d+\.\d+):(handle_qmp_command|monitor_qmp_respond) mon (\S+) \w+: (.*)")


def commands(path):
    """[(command, arrival, reply, arguments, ok)] in order; times in seconds since
    the epoch, ok: QEMU answered "return", not "error"."""
    pending, done = {}, []
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        t, what, mon, body = float(m.group(1)), m.group(2), m.group(3), json.loads(m.group(4))
        if what == "handle_qmp_command":
            pending.setdefault(mon, []).append((body.get("execute"), t, body.get("arguments")))
        elif "return" in body or "error" in body:	# not the greeting, not an event
            cmd, arrival, args = pending[mon].pop(0)	# a monitor answers in order
            done.append((cmd, arrival, t, args, "return" in body))
    return done
