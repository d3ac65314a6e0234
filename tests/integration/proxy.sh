#!/bin/bash
# proxy.sh - the client address behind load balancers (issue 12):
#  (a) a listener with "proxy_protocol": PROXY v1 (TCP4, TCP6, UNKNOWN) and
#      v2 (TCP4, TCP6, LOCAL) headers give the client address, in the
#      access log and to handlers (sy_req_client()); keep-alive requests
#      after the header keep it; a header split across writes is read;
#  (b) a connection without a valid header (plain HTTP, garbage, a broken
#      v2, silence past the deadline) is closed unserved and counted in
#      switchyard_proxy_protocol_refused_total; the worker serves on; a
#      plain listener beside it needs no header;
#  (c) trusted_proxies: X-Forwarded-For (and Forwarded) believed from a
#      trusted peer (the rightmost untrusted entry), ignored from another
#      (the client binds 127.0.0.2).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { fail "python3 is not installed"; exit 1; }
sy_build_hi hi.so || exit 1
sy_pick_port
plain=$SY_PORT
sy_pick_port
pp=$SY_PORT
SY_PORT=$plain
sy_start '{
  "listen": ["127.0.0.1:@PORT@", {"address": "127.0.0.1:'"$pp"'", "proxy_protocol": true}],
  "workers": 1, "log_level": "info", "access_log": "@TMP@/access.log",
  "trusted_proxies": ["127.0.0.1", "10.0.0.0/8"],
  "plugins": ["hi.so"],
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/metrics", "handler": "metrics"},
    {"path": "/client", "handler": "hi_client"}
  ]
}' || exit 1

# raw PORT PYTHON-BYTES-EXPR [SPLIT]: send the bytes (split after SPLIT
# bytes, 100 ms apart, when given), print what came back (or "CLOSED").
raw() {
	timeout 15 python3 - "$1" "$2" "${3:-0}" <<'PY'
import socket, struct, sys, time
port, expr, split = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sig = b"\r\n\r\n\x00\r\nQUIT\n"
def v2(cmd, fam, addrs):
    return sig + bytes([0x20 | cmd, fam]) + struct.pack("!H", len(addrs)) + addrs
def a4(s, d, sp, dp):
    return socket.inet_pton(socket.AF_INET, s) + socket.inet_pton(socket.AF_INET, d) + struct.pack("!HH", sp, dp)
def a6(s, d, sp, dp):
    return socket.inet_pton(socket.AF_INET6, s) + socket.inet_pton(socket.AF_INET6, d) + struct.pack("!HH", sp, dp)
get = b"GET /client HTTP/1.1\r\nHost: x\r\n\r\n"
close = b"GET /client HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
data = eval(expr)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
if split:
    s.sendall(data[:split]); time.sleep(0.1); s.sendall(data[split:])
else:
    s.sendall(data)
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    out += b"TIMEOUT"
bodies = [p.split(b"\r\n\r\n", 1)[1] for p in out.split(b"HTTP/1.1 ")[1:]]
print(" ".join(b.split(b"HTTP/")[0].decode() for b in bodies) if bodies else "CLOSED")
PY
}
client_is() { # WHAT WANT PORT EXPR [SPLIT]
	local got
	got=$(raw "$3" "$4" "${5:-}")
	check "$1: $got" test "$got" = "$2"
}

# -- (a) what a PROXY header says -----------------------------------------------
client_is "v1 TCP4" '{"client":"203.0.113.7"}' "$pp" \
    'b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n" + close'
client_is "v1 TCP6" '{"client":"2001:db8::7"}' "$pp" \
    'b"PROXY TCP6 2001:db8::7 ::1 5555 80\r\n" + close'
client_is "v1 UNKNOWN keeps the peer" '{"client":"127.0.0.1"}' "$pp" \
    'b"PROXY UNKNOWN\r\n" + close'
client_is "v2 TCP4" '{"client":"198.51.100.9"}' "$pp" \
    'v2(1, 0x11, a4("198.51.100.9", "127.0.0.1", 4242, 80)) + close'
client_is "v2 TCP6" '{"client":"2001:db8::42"}' "$pp" \
    'v2(1, 0x21, a6("2001:db8::42", "::1", 4242, 80)) + close'
client_is "v2 LOCAL (a balancer's health check) keeps the peer" '{"client":"127.0.0.1"}' "$pp" \
    'v2(0, 0x00, b"") + close'
client_is "v2 with TLVs after the addresses" '{"client":"198.51.100.10"}' "$pp" \
    'v2(1, 0x11, a4("198.51.100.10", "127.0.0.1", 1, 80) + b"\x04\x00\x03abc") + close'
client_is "keep-alive: the second request keeps the header's address" \
    '{"client":"203.0.113.8"} {"client":"203.0.113.8"}' "$pp" \
    'b"PROXY TCP4 203.0.113.8 127.0.0.1 5555 80\r\n" + get + close'
client_is "v1 split inside the header" '{"client":"203.0.113.9"}' "$pp" \
    'b"PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\n" + close' 9
client_is "v2 split inside the signature" '{"client":"198.51.100.11"}' "$pp" \
    'v2(1, 0x11, a4("198.51.100.11", "127.0.0.1", 1, 80)) + close' 5
wait_for "grep -q '^203.0.113.7 .*\"GET /client HTTP/1.1\" 200' '$SY_TMP/access.log'" 5
check "the access log's first field is the PROXY header's client" \
    grep -q '^198.51.100.9 .*"GET /client HTTP/1.1" 200' "$SY_TMP/access.log"

# -- (b) connections without a valid header ------------------------------------------
refused() {
	sy_curl "$(sy_url /metrics)" | sed -n 's/^switchyard_proxy_protocol_refused_total{worker="0"} //p'
}
n0=$(refused)
client_is "plain HTTP on the PROXY listener: closed unserved" CLOSED "$pp" 'close'
client_is "garbage: closed" CLOSED "$pp" 'b"\x16\x03\x01\x02\x00" + b"x" * 200'
client_is "a v1 header with a bad port: closed" CLOSED "$pp" \
    'b"PROXY TCP4 203.0.113.7 127.0.0.1 99999 80\r\n" + close'
client_is "a v2 header of another version: closed" CLOSED "$pp" \
    'sig + bytes([0x31, 0x11]) + struct.pack("!H", 12) + a4("1.2.3.4", "1.2.3.4", 1, 1) + close'
t0=$(now_ms)
client_is "silence: closed at the PROXY deadline" CLOSED "$pp" 'b""'
dt=$(($(now_ms) - t0))
check "the silent connection was closed after the 3 s deadline ($dt ms, 2500..9000)" \
    test "$dt" -ge 2500 -a "$dt" -lt 9000
check "5 refused connections counted in switchyard_proxy_protocol_refused_total ($n0 -> $(refused))" \
    test "$(( $(refused) - ${n0:-0} ))" = 5
check "the refusals are logged (rate-limited)" \
    grep -q 'connection closed: invalid PROXY header (the listener expects the PROXY protocol)' "$SY_LOG"
client_is "the PROXY listener serves on" '{"client":"203.0.113.7"}' "$pp" \
    'b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n" + close'
client_is "the plain listener needs no header" '{"client":"127.0.0.1"}' "$plain" 'close'

# -- (c) forwarded headers ---------------------------------------------------------
fwd() { # WHAT WANT [CURL ARGS...]
	local what=$1 want=$2 got
	shift 2
	got=$(sy_curl "$@" "$(sy_url /client)")
	check "$what: $got" test "$got" = "$want"
}
fwd "XFF from a trusted peer" '{"client":"198.51.100.1"}' \
    -H 'X-Forwarded-For: 198.51.100.1'
fwd "XFF: the rightmost untrusted entry (a client's own XFF is to the left)" \
    '{"client":"198.51.100.2"}' -H 'X-Forwarded-For: 6.6.6.6, 198.51.100.2, 10.1.2.3'
fwd "XFF over two headers, in order" '{"client":"198.51.100.3"}' \
    -H 'X-Forwarded-For: 6.6.6.6' -H 'X-Forwarded-For: 198.51.100.3'
# 16 headers of the client's cannot push out the proxy's own, which is last.
forged=()
for i in $(seq 16); do forged+=(-H 'X-Forwarded-For: 6.6.6.6'); done
fwd "17 XFF headers: the last one (the proxy's) still counts" \
    '{"client":"198.51.100.4"}' "${forged[@]}" -H 'X-Forwarded-For: 198.51.100.4'
fwd "Forwarded for= without XFF" '{"client":"2001:db8:cafe::17"}' \
    -H 'Forwarded: for="[2001:db8:cafe::17]:4711";proto=http'
fwd "an XFF that is no address keeps the peer" '{"client":"127.0.0.1"}' \
    -H 'X-Forwarded-For: unknown'
fwd "XFF from an untrusted peer (127.0.0.2) is ignored" '{"client":"127.0.0.2"}' \
    --interface 127.0.0.2 -H 'X-Forwarded-For: 198.51.100.1'
fwd "Forwarded from an untrusted peer is ignored" '{"client":"127.0.0.2"}' \
    --interface 127.0.0.2 -H 'Forwarded: for=198.51.100.1'
sy_curl -o /dev/null --interface 127.0.0.2 -H 'X-Forwarded-For: 198.51.100.99' "$(sy_url '/client?untrusted')"
check "the access log shows the untrusted peer, not the address it claimed" \
    wait_for "grep -q '^127.0.0.2 .*\"GET /client?untrusted HTTP/1.1\" 200' '$SY_TMP/access.log'" 5
check "no line claims the untrusted client's XFF address" \
    eval '! grep -q "^198.51.100.99 " "$SY_TMP/access.log"'

SY_EXPECT_ERRORS=
sy_stop
