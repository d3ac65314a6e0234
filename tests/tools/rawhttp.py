#!/usr/bin/env python3
"""rawhttp.py - send raw bytes on one connection, report every answer.

Usage: rawhttp.py ADDR PORT TIMEOUT_S < request-bytes

Sends stdin as it is (no half-close: the server must decide by itself
that the stream has ended), then reads until the server closes the
connection or TIMEOUT_S pass, and splits what came back into responses
by their Content-Length (none for 1xx, 204 and 304). Prints, one a line:

    responses N          how many complete responses
    status S1 S2 ...     their status codes
    connection C1 ...    their Connection header ("-" when absent)
    end eof|reset|open   the server closed, reset, or still open at the end
    trailing N           bytes after the last complete response
    body I B             response I's body (from 1), a Python byte literal
"""
import socket
import sys
import time


def split_responses(data):
    """(responses, trailing bytes): each response (status, headers, body)."""
    out = []
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            return out, data
        lines = data[:head_end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            return out, data
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start = head_end + 4
        if status < 200 or status in (204, 304):
            length = 0
        elif "content-length" in headers:
            length = int(headers["content-length"])
        else:
            return out, data
        if len(data) < start + length:
            return out, data
        out.append((status, headers, data[start:start + length]))
        data = data[start + length:]


def main():
    addr, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    request = sys.stdin.buffer.read()
    deadline = time.monotonic() + timeout
    s = socket.create_connection((addr, port), timeout=timeout)
    data = b""
    end = "open"
    try:
        s.sendall(request)
    except (BrokenPipeError, ConnectionResetError):
        pass		# it may close before reading it all; read what came
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            end = "reset"
            break
        if not chunk:
            end = "eof"
            break
        data += chunk
    s.close()
    responses, trailing = split_responses(data)
    print("responses %d" % len(responses))
    print("status " + " ".join(str(r[0]) for r in responses))
    print("connection " + " ".join(r[1].get("connection", "-") or "-"
                                   for r in responses))
    print("end " + end)
    print("trailing %d" % len(trailing))
    for i, r in enumerate(responses):
        print("body %d %r" % (i + 1, r[2]))


if __name__ == "__main__":
    main()
