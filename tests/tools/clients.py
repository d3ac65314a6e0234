#!/usr/bin/env python3
"""clients.py - the clients the internet has, for the connection tests.

Each subcommand is one kind of client, talking to 127.0.0.1:PORT, and
prints what it saw as "key=value" lines for the shell test to assert on.
Every loop is bounded in count and in time.

  slowread PATH RATE      GET PATH with a small receive buffer, read at
                          RATE bytes/s; then GET /hello on the same
                          connection. bytes=, sha256=, status=, again=
  halfclose REQ...        send the raw requests (\\r\\n escapes) at once,
                          shutdown(SHUT_WR), read to EOF. statuses=, eof=
  bodydeadline HEAD1 HEAD2 BODY T1 T2
                          send HEAD1, HEAD2 at T1 s, BODY at T2 s (raw
                          \\r\\n escapes); status=, elapsed=
  flood N PATH BYTES END  N clients POST BYTES to PATH (GET for 0), each
                          waits until its request is sent, then END:
                          "reset" (RST, via
                          SO_LINGER 0) or "halfclose" (FIN, then read the
                          answer). sent=, answered=, statuses=
  stuck SECONDS FILL LAST from a client with a small receive buffer that
                          reads nothing: send FILL (with {BODY:N}) until
                          the server's socket takes no more (its Send-Q,
                          from ss, stops growing), then LAST; wait SECONDS,
                          read everything. statuses=
  holdreset REQ           send REQ, then wait until stdin closes and
                          reset the connection. sent=
  slowloris N SECONDS     N connections sending one header byte a second
                          each for SECONDS, then close. opened=, alive=
"""
import socket
import struct
import sys
import time
import hashlib
import selectors

PORT = 0
DEADLINE = time.monotonic() + 170    # under the test watchdog


def connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(("127.0.0.1", PORT))
    return s


def open_many(n):
    """Up to n non-blocking connections (fewer if connecting fails)."""
    socks = []
    for i in range(n):
        try:
            s = connect()
        except OSError:
            break
        s.setblocking(False)
        socks.append(s)
    return socks


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def read_response(s, buf):
    """One response from s; (status, body, rest of buf) or None at EOF."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None, b"", buf
        buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    if status < 200 or status in (204, 304):
        length = 0
    while len(buf) < length:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return status, buf[:length], buf[length:]


def slowread(path, rate):
    rate = int(rate)
    s = connect(rcvbuf=32768)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].split()[1].decode() if head else "none"
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    h = hashlib.sha256()
    h.update(body)
    got = len(body)
    t0 = time.monotonic()
    while got < length and time.monotonic() < DEADLINE:
        # Stay at or below rate: sleep until the bytes so far are due.
        ahead = got / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
        try:
            d = s.recv(16384)
        except OSError:
            break
        if not d:
            break
        h.update(d)
        got += len(d)
    print("status=%s" % status)
    print("length=%d" % length)
    print("bytes=%d" % got)
    print("seconds=%.1f" % (time.monotonic() - t0))
    print("sha256=%s" % h.hexdigest())
    # The connection is still good for another request.
    again = "none"
    try:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        st, _, _ = read_response(s, body[length:] if got > length else b"")
        again = str(st)
    except OSError as e:
        again = "error:" + e.__class__.__name__
    print("again=%s" % again)


def halfclose(*reqs):
    s = connect()
    s.sendall(b"".join(unescape(r) for r in reqs))
    s.shutdown(socket.SHUT_WR)
    statuses = []
    buf = b""
    eof = "no"
    while time.monotonic() < DEADLINE:
        try:
            st, _, buf = read_response(s, buf)
        except OSError as e:
            eof = "error:" + e.__class__.__name__
            break
        if st is None:
            eof = "yes" if not buf else "partial"
            break
        statuses.append(str(st))
    print("statuses=%s" % ",".join(statuses))
    print("eof=%s" % eof)


def bodydeadline(head1, head2, body, t1, t2):
    s = connect()
    t0 = time.monotonic()
    s.sendall(unescape(head1))
    time.sleep(max(0, t0 + float(t1) - time.monotonic()))
    s.sendall(unescape(head2))
    time.sleep(max(0, t0 + float(t2) - time.monotonic()))
    try:
        s.sendall(unescape(body))
        st, _, _ = read_response(s, b"")
    except OSError as e:
        st = "error:" + e.__class__.__name__
    print("status=%s" % st)
    print("elapsed=%.2f" % (time.monotonic() - t0))


def flood(n, path, nbytes, end):
    n, nbytes = int(n), int(nbytes)
    body = b"x" * nbytes
    socks = []
    for s in open_many(n):
        if nbytes:
            req = b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: " \
                  b"%d\r\n\r\n" % (path.encode(), nbytes) + body
        else:
            req = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode()
        socks.append([s, req])
    # Send every body, interleaved, without waiting for any answer.
    sel = selectors.DefaultSelector()
    for item in socks:
        sel.register(item[0], selectors.EVENT_WRITE, item)
    pending = len(socks)
    while pending and time.monotonic() < DEADLINE:
        for key, _ in sel.select(timeout=1):
            item = key.data
            try:
                k = item[0].send(item[1][:262144])
            except BlockingIOError:
                continue
            except OSError:
                k = len(item[1])
            item[1] = item[1][k:]
            if not item[1]:
                sel.unregister(item[0])
                pending -= 1
    print("sent=%d" % (len(socks) - pending))
    sys.stdout.flush()
    statuses = {}
    if end == "reset":
        for s, _ in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
        print("answered=0")
        return
    for s, _ in socks:
        s.shutdown(socket.SHUT_WR)
        s.setblocking(True)
        s.settimeout(max(1, DEADLINE - time.monotonic()))
    answered = 0
    for s, _ in socks:
        try:
            st, _, _ = read_response(s, b"")
        except OSError:
            st = None
        if st is not None:
            answered += 1
        statuses[st] = statuses.get(st, 0) + 1
        s.close()
    print("answered=%d" % answered)
    print("statuses=%s" % ",".join("%s:%d" % (k, v)
                                   for k, v in sorted(statuses.items(),
                                                      key=str)))


def read_statuses(s):
    """The statuses of every answer on s until EOF (or 10 s of silence)."""
    statuses = []
    buf = b""
    s.settimeout(10)
    while time.monotonic() < DEADLINE:
        try:
            st, _, buf = read_response(s, buf)
        except OSError:
            break
        if st is None:
            break
        statuses.append(str(st))
    return statuses


def expand(req):
    """A raw request with its {BODY:N} written out."""
    out = b""
    for i, part in enumerate(req.split("{BODY:")):
        if i:
            n, _, part = part.partition("}")
            out += b"x" * int(n)
        out += unescape(part)
    return out


def server_sendq(s):
    """The Send-Q of the server's end of s, from ss(8)."""
    import subprocess
    lport = s.getsockname()[1]
    out = subprocess.run(["ss", "-Htn", "state", "established",
                          "( sport = :%d and dport = :%d )" % (PORT, lport)],
                         capture_output=True, text=True).stdout.split()
    return int(out[1]) if len(out) > 1 else -1


def stuck(seconds, fill, last):
    s = connect(rcvbuf=4096)
    prev = -1
    for i in range(60):
        s.sendall(expand(fill))
        time.sleep(0.3)
        q = server_sendq(s)
        if q == prev:
            break
        prev = q
    s.sendall(expand(last))
    time.sleep(float(seconds))
    print("statuses=%s" % ",".join(read_statuses(s)))


def holdreset(req):
    s = connect()
    s.sendall(unescape(req))
    print("sent=1")
    sys.stdout.flush()
    sys.stdin.read()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def slowloris(n, seconds):
    n, seconds = int(n), float(seconds)
    req = b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 100
    socks = open_many(n)
    print("opened=%d" % len(socks))
    sys.stdout.flush()
    t0 = time.monotonic()
    sent = 0
    alive = len(socks)
    while time.monotonic() - t0 < seconds and time.monotonic() < DEADLINE:
        alive = 0
        for s in socks:
            try:
                s.send(req[sent % len(req):sent % len(req) + 1])
                alive += 1
            except OSError:
                pass
        sent += 1
        time.sleep(max(0, t0 + sent - time.monotonic()))
    print("alive=%d" % alive)
    print("bytes_each=%d" % sent)
    sys.stdout.flush()
    # Hold them open until told (stdin closes), so the test can measure.
    sys.stdin.read()
    for s in socks:
        s.close()


if __name__ == "__main__":
    PORT = int(sys.argv[1])
    globals()[sys.argv[2]](*sys.argv[3:])
