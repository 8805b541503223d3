#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A listening SOCK_SEQPACKET unix socket, as crosvm's control socket is:
seqpacket-listen.py PATH [LOG]

Binds and listens at PATH, then creates PATH.ready (connect before that would
be refused). Accepts every connection and appends each packet received, one a
line, to LOG. Removes PATH and exits on SIGTERM or SIGINT.
"""
import os
import selectors
import signal
import socket
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    path = sys.argv[1]
    log = open(sys.argv[2], "a", buffering=1) if len(sys.argv) == 3 else None
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(16)

    def stop(*_):
        try:
            os.unlink(path)
        finally:
            sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    open(path + ".ready", "w").close()
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is srv:
                conn, _ = srv.accept()
                sel.register(conn, selectors.EVENT_READ)
                continue
            data = key.fileobj.recv(65536)
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
            elif log:
                log.write(data.decode(errors="replace") + "\n")


if __name__ == "__main__":
    main()
