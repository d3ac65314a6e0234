#!/usr/bin/env python3
"""notify_listen.py SOCKET OUT - a systemd NOTIFY_SOCKET stand-in.

Binds an AF_UNIX SOCK_DGRAM socket at SOCKET (a path) and appends each
datagram received to OUT as one line: the CLOCK_MONOTONIC time of receipt
in microseconds, a space, then the datagram with its newlines shown as
"|" (so "READY=1\\nSTATUS=x" becomes "READY=1|STATUS=x"). Lines are
flushed one by one, so a test can wait for them. Runs until SIGTERM or
SIGINT; then records what is still queued and removes SOCKET. Writes "listening" to OUT's first line once
bound, so the caller knows when to start the daemon.
"""
import os
import signal
import socket
import sys
import time


def record(f, data):
    us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    text = data.decode("utf-8", "replace").rstrip("\n")
    f.write("%d %s\n" % (us, text.replace("\n", "|")))


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: notify_listen.py SOCKET OUT\n")
        return 2
    path, out = sys.argv[1], sys.argv[2]
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s.bind(path)
    s.settimeout(0.1)
    with open(out, "a", buffering=1) as f:
        f.write("listening\n")
        while not stop:
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            record(f, data)
        # Stopped: what is still queued was sent before; keep it.
        s.setblocking(False)
        while True:
            try:
                record(f, s.recv(65536))
            except (BlockingIOError, InterruptedError):
                break
    s.close()
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
