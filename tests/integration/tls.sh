#!/bin/bash
# tls.sh - HTTPS listeners (issue 13), with a throwaway CA made here with
# the openssl command:
#  (a) -t refuses a key that does not match its certificate and a missing
#      key file, naming the path and OpenSSL's reason;
#  (b) curl --cacert: GET, POST with a body, several requests on one
#      connection (one handshake); a Python ssl client: pipelined requests
#      answered in order, 100-continue, a large static file read slowly
#      byte-exact, the server's close_notify after the client's;
#  (c) ab over TLS with and without keep-alive, 0 failed;
#  (d) plain HTTP and random bytes on the TLS port, and a client that
#      sends nothing past timeouts.header_ms: closed, counted by reason in
#      /metrics, and the worker serves on;
#  (e) resumption with a ticket (openssl s_client -sess_out/-sess_in),
#      counted;
#  (f) SIGHUP: a new certificate is served by the new generation (its
#      fingerprint, seen by s_client); a non-matching key and an
#      unreadable key are refused and the old certificate keeps serving.
. "$(dirname "$0")/lib.sh"

for c in openssl python3 ab curl; do
	command -v "$c" >/dev/null ||
	    { fail "$c is not installed (scripts/deps test)"; exit 1; }
done

# -- the certificates ----------------------------------------------------------
pki=$SY_TMP/pki
mkdir -p "$pki" "$SY_TMP/www"
(
	cd "$pki" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 2 -subj /CN=switchyard-test-ca -keyout ca.key -out ca.pem &&
	for n in a b; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -subj "/CN=localhost-$n" -keyout $n.key -out $n.csr &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext &&
		openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key \
		    -CAcreateserial -days 2 -extfile ext -out $n.pem || exit 1
	done
	cp a.pem server.pem && cp a.key server.key
) >"$SY_TMP/openssl.log" 2>&1 ||
    { fail "openssl could not make the certificates"; sed 's/^/#   /' "$SY_TMP/openssl.log"; exit 1; }
fp() {
	openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'
}
fp_a=$(fp "$pki/a.pem")
fp_b=$(fp "$pki/b.pem")
head -c 3000000 /dev/urandom >"$SY_TMP/www/big.bin"

sy_pick_port
plain=$SY_PORT
sy_pick_port
tport=$SY_PORT
SY_PORT=$plain
conf='{
  "listen": ["127.0.0.1:@PORT@", {"address": "127.0.0.1:'"$tport"'",
    "tls": {"certificate": "pki/server.pem", "key": "pki/KEY"}}],
  "workers": 2, "log_level": "debug",
  "timeouts": {"header_ms": 1500},
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/echo", "handler": "echo", "methods": ["POST"]},
    {"path": "/metrics", "handler": "metrics"},
    {"path": "/files/", "match": "prefix", "handler": "static",
     "args": {"root": "@TMP@/www"}}
  ]
}'

# -- (a) -t ----------------------------------------------------------------
t_check() {
	local json=${conf//@PORT@/$plain}
	json=${json//@TMP@/$SY_TMP}
	printf '%s\n' "${json//KEY/$1}" >"$SY_TMP/check.json"
	"$SY_BIN" -t -c "$SY_TMP/check.json" >"$SY_TMP/check.out" 2>&1
}
if t_check b.key; then
	fail "-t accepts a key of another certificate"
else
	check "-t: a non-matching key: its path and OpenSSL's reason" \
	    grep -q "listen\[1\]\.tls: $pki/b.key: key values mismatch" "$SY_TMP/check.out"
fi
if t_check nokey.key; then
	fail "-t accepts a missing key file"
else
	check "-t: an unreadable key file: its path and the system's reason" \
	    grep -q "listen\[1\]\.tls: $pki/nokey.key: No such file or directory" "$SY_TMP/check.out"
fi
check "-t: a good pair passes" t_check server.key

sy_start "${conf//KEY/server.key}" || exit 1
wait_for "sy_port_open 127.0.0.1 $tport" 10

turl() {
	echo "https://127.0.0.1:$tport$1"
}
tcurl() {
	sy_curl --cacert "$pki/ca.pem" "$@"
}
# metric NAME LABEL-ERE: the sum over workers of the series matching.
metric() {
	sy_curl "$(sy_url /metrics)" | awk -v n="$1" -v l="$2" '
	    index($0, n "{") == 1 && $0 ~ l { s += $NF } END { print s + 0 }'
}

# -- (b) curl and a Python client --------------------------------------------
body=$(tcurl "$(turl /hello)")
check "GET over HTTPS (curl --cacert)" [ "$body" = '{"message":"Hello world"}' ]
body=$(tcurl --data-binary 'a body over TLS' "$(turl /echo)")
check "POST with a body over HTTPS" [ "$body" = 'a body over TLS' ]
h0=$(metric switchyard_tls_handshakes_total .)
tcurl -v "$(turl /hello)" "$(turl /hello?2)" "$(turl /hello?3)" \
    >"$SY_TMP/ka.out" 2>&1
check "three requests on one connection (curl says it re-used it)" \
    [ "$(grep -c 'Re-using existing connection' "$SY_TMP/ka.out")" = 2 ]
check "ALPN picked http/1.1" grep -q 'ALPN: server accepted http/1.1' "$SY_TMP/ka.out"
h1=$(metric switchyard_tls_handshakes_total .)
check "one handshake for the three (handshakes $h0 -> $h1)" [ $((h1 - h0)) = 1 ]

# py SUBCOMMAND: the Python ssl client below.
py() {
	timeout 60 python3 - "$tport" "$pki/ca.pem" "$SY_TMP/www/big.bin" "$@" <<'PY'
import hashlib, os, socket, ssl, sys, time
port, ca, big, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)

def tls(**kw):
    raw = socket.create_connection(("127.0.0.1", port))
    if "rcvbuf" in kw:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, kw["rcvbuf"])
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1",
                           suppress_ragged_eofs=False)

def response(s, buf):
    """One response from s: (status, headers dict, body), and the rest."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit("EOF before the headers")
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.lower(): v.strip() for k, v in
            (l.split(":", 1) for l in lines[1:])}
    if status < 200:
        return status, hdrs, b"", buf
    n = int(hdrs.get("content-length", 0))
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            raise SystemExit("EOF in the body")
        buf += d
    return status, hdrs, buf[:n], buf[n:]

if cmd == "pipeline":
    s = tls()
    s.sendall(b"GET /hello?1 HTTP/1.1\r\nHost: x\r\n\r\n"
              b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo"
              b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
    buf, got = b"", []
    for _ in range(3):
        st, h, b, buf = response(s, buf)
        got.append("%d:%s" % (st, b.decode()[:12]))
    print(" ".join(got))
elif cmd == "continue":
    s = tls()
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              b"Content-Length: 5\r\n\r\n")
    st, h, b, buf = response(s, b"")
    s.sendall(b"hello")
    st2, h, b, buf = response(s, buf)
    print(st, st2, b.decode())
elif cmd == "slow":
    # A reader with a small window, pausing between reads: the answer
    # must come whole through every partial SSL_write.
    s = tls(rcvbuf=16384)
    s.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    head, body = buf.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n")
             if l.lower().startswith(b"content-length")][0])
    sha = hashlib.sha256(body)
    got = len(body)
    reads = 0
    while got < n:
        d = s.recv(16384)
        if not d:
            break
        sha.update(d)
        got += len(d)
        reads += 1
        if reads % 8 == 0:
            time.sleep(0.01)
    want = hashlib.sha256(open(big, "rb").read()).hexdigest()
    print("same" if got == n and sha.hexdigest() == want else
          "differs: %d of %d bytes" % (got, n))
elif cmd == "close_notify":
    # Ours after the response, then the server's: unwrap() waits for it.
    s = tls()
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, b, buf = response(s, b"")
    s.unwrap()
    print("closed", st)
elif cmd == "conn_close":
    # Connection: close: the server's close_notify before its FIN (a
    # bare FIN raises here: suppress_ragged_eofs is off).
    s = tls()
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    st, h, b, buf = response(s, b"")
    try:
        rest = s.recv(100)
        print("eof" if rest == b"" else "data")
    except ssl.SSLError as e:
        print("no close_notify: %s" % e)
elif cmd in ("plain", "random", "silent"):
    s = socket.create_connection(("127.0.0.1", port))
    if cmd == "plain":
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    elif cmd == "random":
        s.sendall(os.urandom(4096))
    s.settimeout(15)
    try:
        d = s.recv(4096)
        # An alert at most: never an HTTP answer.
        print("closed" if not d.startswith(b"HTTP") else "answered")
    except ConnectionResetError:
        print("closed")
    except socket.timeout:
        print("still open")
PY
}
check "pipelined requests answered in order over TLS" \
    [ "$(py pipeline)" = '200:{"message":" 200:two 404:{"detail":"N' ]
check "100-continue over TLS" [ "$(py continue)" = '100 200 hello' ]
# hwm_kb: the workers' peak RSS (VmHWM), summed, in kB.
hwm_kb() {
	local p n=0
	for p in $(sy_worker_pids); do
		n=$((n + $(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status")))
	done
	echo "$n"
}
hwm0=$(hwm_kb)
check "a 3 MB static file through a slow reader, byte-exact" \
    [ "$(py slow)" = same ]
hwm1=$(hwm_kb)
if [ "$SY_SANITIZED" = 1 ]; then
	info "peak RSS not checked: the sanitizer's allocator owns the figures"
else
	# Read a record at a time, not mapped or loaded whole: the peak
	# grows by far less than the file (3000 kB).
	check "the file went out in records: peak RSS +$((hwm1 - hwm0)) kB < 1500 kB" \
	    [ $((hwm1 - hwm0)) -lt 1500 ]
fi
check "the client's close_notify gets the server's" \
    [ "$(py close_notify)" = 'closed 200' ]
check "Connection: close ends with the server's close_notify" \
    [ "$(py conn_close)" = eof ]

# -- (c) ab ----------------------------------------------------------------
for k in -k ""; do
	ab -q -n 400 -c 8 $k "$(turl /hello)" >"$SY_TMP/ab$k.out" 2>&1
	sy_ab_read "$SY_TMP/ab$k.out"
	check "ab ${k:-without -k} over TLS: 400 done, 0 failed" \
	    [ "$AB_DONE" = 400 ] && [ "$AB_FAILED" = 0 ] && [ "$AB_NON2XX" = 0 ]
done

# -- (d) not TLS, and nothing ----------------------------------------------------
f_http=$(metric switchyard_tls_handshake_failures_total 'reason="http"')
f_proto=$(metric switchyard_tls_handshake_failures_total 'reason="protocol"')
f_time=$(metric switchyard_tls_handshake_failures_total 'reason="timeout"')
check "plain HTTP on the TLS port is closed unanswered" [ "$(py plain)" = closed ]
check "random bytes on the TLS port: closed" [ "$(py random)" = closed ]
check "a client that sends nothing is closed (timeouts.header_ms)" \
    [ "$(py silent)" = closed ]
check "the worker serves on (HTTPS)" \
    [ "$(tcurl "$(turl /hello)")" = '{"message":"Hello world"}' ]
check "counted: reason=http" wait_for \
    "[ \$(metric switchyard_tls_handshake_failures_total 'reason=\"http\"') -gt $f_http ]" 5
check "counted: reason=protocol" wait_for \
    "[ \$(metric switchyard_tls_handshake_failures_total 'reason=\"protocol\"') -gt $f_proto ]" 5
check "counted: reason=timeout" wait_for \
    "[ \$(metric switchyard_tls_handshake_failures_total 'reason=\"timeout\"') -gt $f_time ]" 5
check "the silent client's close is the handshake deadline (log)" \
    grep -q 'TLS handshake failed (timeout): no handshake in time' "$SY_LOG"

# -- (e) resumption --------------------------------------------------------------
# sclient ARGS...: one request through openssl s_client, to the server's
# close (tickets arrive after the handshake: reading to the end gets them).
sclient() {
	printf 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	    timeout 20 openssl s_client -connect "127.0.0.1:$tport" \
	    -CAfile "$pki/ca.pem" -ign_eof "$@" 2>/dev/null
}
r0=$(metric switchyard_tls_resumed_total .)
sclient -sess_out "$SY_TMP/sess.pem" >"$SY_TMP/s1.out"
sclient -sess_in "$SY_TMP/sess.pem" >"$SY_TMP/s2.out"
check "first s_client connection: a new session" grep -q '^New, TLSv1.3' "$SY_TMP/s1.out"
check "second with its ticket: resumed" grep -q '^Reused, TLSv1.3' "$SY_TMP/s2.out"
check "resumption counted" [ "$(metric switchyard_tls_resumed_total .)" -gt "$r0" ]

# -- (f) SIGHUP ------------------------------------------------------------------
served_fp() {
	sclient -showcerts </dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null |
	    sed 's/.*=//'
}
check "certificate A served" [ "$(served_fp)" = "$fp_a" ]
cp "$pki/b.pem" "$pki/server.pem" && cp "$pki/b.key" "$pki/server.key"
kill -HUP "$SY_PID"
check "after HUP, the new generation serves certificate B" \
    wait_for '[ "$(served_fp)" = "$fp_b" ]' 20
SY_EXPECT_ERRORS='reload: .*(key values mismatch|No such file or directory); keeping the running configuration'
cp "$pki/a.key" "$pki/server.key"
kill -HUP "$SY_PID"
check "a reload with a non-matching key is refused (log)" wait_for \
    "grep -q 'reload: .*server.key: key values mismatch; keeping the running configuration' '$SY_LOG'" 10
check "certificate B still served" [ "$(served_fp)" = "$fp_b" ]
rm -f "$pki/server.key"
kill -HUP "$SY_PID"
check "a reload with an unreadable key is refused (log)" wait_for \
    "grep -q 'reload: .*server.key: No such file or directory; keeping the running configuration' '$SY_LOG'" 10
check "certificate B still served, and requests too" \
    [ "$(served_fp)" = "$fp_b" ] && [ "$(tcurl "$(turl /hello)")" = '{"message":"Hello world"}' ]

sy_stop
