#!/bin/bash
# request_id.sh - request ids (X-Request-Id) and access_log_format "json".
#  (a) one worker, combined format: a client's valid X-Request-Id (1 to
#      128 visible ASCII characters) is the response's and the access
#      log's; one too long, with a space, a byte >= 0x80 or empty is
#      replaced by a new 26-character id, as is a missing one. A plugin
#      built here reads the same id with sy_req_id() and may not set the
#      header. Errors the server answers itself carry an id too: 404, 405,
#      400 for a request without Host (the client's id, read whole), 413,
#      431 (the client's, its field read before the limit) and 400 for
#      bytes that never made a request (a new one).
#  (b) the id of a request is in every warning about it: the slow-loop
#      warning, the auto promotion, the 504, the 503 of a full queue and
#      a handler's failure, for a client's id and for a generated one
#      (the one the response carried).
#  (c) 2 workers: 3000 requests, a reload, 3000 more, a restart of the
#      whole server, 1000 more: every id in the access log distinct;
#      each one decodes (reqid.h) to the pid of the worker that logged it
#      and a start time of now, and all of a worker's ids share its
#      16-character prefix.
#  (d) access_log_format "json": every line parses with Python's json
#      module and has every field with its type; requests with hostile
#      bytes in the target, User-Agent and Referer (invalid UTF-8, an
#      overlong "/", a surrogate, an encoded C1 control, quotes,
#      backslashes, a tab) come back as switchyard.json(5) says: UTF-8
#      kept, each other byte as the character of its value; a request
#      whose target holds a control byte is a 400 logged with nulls.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
command -v ab >/dev/null 2>&1 || skip_all "ab is not installed (apache2-utils)"
command -v cc >/dev/null 2>&1 || skip_all "no C compiler for the plugin"

ID_RE='^[0-9a-hjkmnp-tv-z]{26}$'

# py_checks ARGS... <<'EOF': run a Python checker that prints ok/FAIL
# lines (tests/tools/sytest.py), and count them.
py_checks() {
	local out=$SY_TMP/py.out rc
	PYTHONPATH=$SY_SRCDIR/tests/tools PYTHONDONTWRITEBYTECODE=1 \
	    python3 - "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	SY_OKS=$((SY_OKS + $(grep -c '^ok: ' "$out")))
	SY_FAILS=$((SY_FAILS + $(grep -c '^FAIL: ' "$out")))
	[ "$rc" = 0 ] || fail "the Python checker exited with status $rc"
}

# The plugin: answers {"id": sy_req_id(), "set": sy_resp_header()'s
# return for X-Request-Id}; ?fail returns SY_ERROR (the server logs
# "handler rid failed").
cat >"$SY_TMP/rid.c" <<'EOF'
#include <string.h>
#include <switchyard.h>

static int
rid_handle(struct sy_req *req, void *state)
{
	const char	*q = sy_req_query_string(req);
	int		 set;

	(void)state;
	if (q != NULL && strcmp(q, "fail") == 0)
		return SY_ERROR;
	set = sy_resp_header(req, "X-Request-Id", "from-the-handler");
	return sy_resp_json(req, 200, json_pack("{s:s, s:i}", "id",
	    sy_req_id(req), "set", set));
}

static const struct sy_handler rid = {
	.abi = SY_ABI_VERSION, .name = "rid", .handle = rid_handle
};
SY_PLUGIN(&rid);
EOF
dir=${SY_BIN%/src/switchyard}
# shellcheck disable=SC2046
if ! PKG_CONFIG_PATH=$dir cc -std=c11 -O1 -Wall -Werror -shared -fPIC \
    $(PKG_CONFIG_PATH=$dir pkg-config --cflags switchyard) \
    -o "$SY_TMP/rid.so" "$SY_TMP/rid.c" \
    $(PKG_CONFIG_PATH=$dir pkg-config --libs switchyard); then
	fail "cannot build the rid plugin"
	exit 1
fi

# head_id: the X-Request-Id of the response headers in $SY_TMP/h.
head_id() {
	tr -d '\r' <"$SY_TMP/h" | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p' | head -1
}
# get [CURL ARGS...] PATH: GET, headers to $SY_TMP/h, body to $SY_TMP/b;
# prints the status.
get() {
	local path=${*: -1}
	sy_curl -g -D "$SY_TMP/h" -o "$SY_TMP/b" -w '%{http_code}' \
	    "${@:1:$#-1}" "$(sy_url "$path")" 2>/dev/null
}
# logged TAG: the access log line whose target has TAG.
logged() {
	grep -F -- "$1" "$alog" | head -1
}
# last_field LINE
last_field() {
	echo "${1##* }"
}

# ============================================================================
# (a) + (b): one worker
# ============================================================================
alog=$SY_TMP/access.log
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 1,
  "queue_limit": 1,
  "loop_block_warn_ms": 100,
  "timeouts": {"handler_ms": 300},
  "limits": {"body_bytes": 16, "headers": 8},
  "access_log": "@TMP@/access.log",
  "plugins": ["@TMP@/rid.so"],
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/rid", "handler": "rid"},
    {"path": "/post", "handler": "echo", "methods": ["POST"]},
    {"path": "/block", "handler": "sleep", "mode": "nonblocking", "args": {"ms": 150}},
    {"path": "/auto", "handler": "sleep", "mode": "auto", "args": {"ms": 150}},
    {"path": "/long", "handler": "sleep", "mode": "blocking", "args": {"ms": 800}},
    {"path": "/slow", "handler": "sleep", "mode": "blocking", "args": {"ms": 250}}
  ]
}' || exit 1

# -- (a) the client's id or a new one ------------------------------------------
kept() { # WHAT ID: sent as X-Request-Id, it comes back and is logged
	local what=$1 id=$2 tag=$3 code got
	code=$(get -H "X-Request-Id: $id" "/hello?$tag")
	got=$(head_id)
	check "$what: kept ($code, X-Request-Id: ${got:0:40})" \
	    eval '[ "$code" = 200 ] && [ "$got" = "$id" ]'
}
replaced() { # WHAT HEADER TAG: a new id instead
	local what=$1 header=$2 tag=$3 code got
	code=$(get -H "$header" "/hello?$tag")
	got=$(head_id)
	check "$what: replaced by a new id ($code, $got)" \
	    eval '[ "$code" = 200 ] && [[ $got =~ $ID_RE ]]'
	eval "NEW_$tag=\$got"
}
long128=$(printf 'L%.0s' $(seq 1 127))Z
long129=${long128}9
kept "a balancer's id" 'lb-7f3a9c21/0001' t1
all_visible='!"#$%&'"'"'()*+,-./0123456789:;<=>?@AZ[\]^_`az{|}~'
kept "every visible character" "$all_visible" t2
kept "128 characters" "$long128" t3
replaced "129 characters" "X-Request-Id: $long129" t4
replaced "a space" "X-Request-Id: two words" t5
replaced "a byte >= 0x80" $'X-Request-Id: caf\xc3\xa9' t6
replaced "an empty value" "X-Request-Id;" t7
code=$(get "/hello?t8")
NEW_t8=$(head_id)
check "no X-Request-Id: a new one ($code, $NEW_t8)" \
    eval '[ "$code" = 200 ] && [[ $NEW_t8 =~ $ID_RE ]]'
code=$(get "/hello?t9")
NEW_t9=$(head_id)
check "the next request gets another ($NEW_t9), same worker prefix" \
    eval '[[ $NEW_t9 =~ $ID_RE ]] && [ "$NEW_t9" != "$NEW_t8" ] && [ "${NEW_t9:0:16}" = "${NEW_t8:0:16}" ]'
# Two X-Request-Id fields: the first counts.
code=$(get -H 'X-Request-Id: first' -H 'X-Request-Id: second' "/hello?t10")
check "two X-Request-Id fields: the first is kept ($(head_id))" [ "$(head_id)" = first ]

# The plugin sees the same id, and cannot set the header.
code=$(get -H 'X-Request-Id: from-client' "/rid?a")
check "sy_req_id() in a plugin: the client's id ($(cat "$SY_TMP/b")), sy_resp_header refused" \
    eval '[ "$code" = 200 ] && [ "$(cat "$SY_TMP/b")" = "{\"id\":\"from-client\",\"set\":-1}" ] &&
    [ "$(head_id)" = from-client ] && [ "$(grep -ci "^x-request-id:" "$SY_TMP/h")" = 1 ]'
code=$(get "/rid?b")
check "sy_req_id() in a plugin: the new id the response carries ($(head_id))" \
    eval '[ "$code" = 200 ] && [[ $(head_id) =~ $ID_RE ]] && [ "$(cat "$SY_TMP/b")" = "{\"id\":\"$(head_id)\",\"set\":-1}" ]'

# Answers of the server's own.
code=$(get -H 'X-Request-Id: e404' "/nope")
check "404: carries the client's id ($code, $(head_id))" eval '[ "$code" = 404 ] && [ "$(head_id)" = e404 ]'
code=$(get -X POST -H 'X-Request-Id: e405' "/hello")
check "405: carries the client's id ($code, $(head_id))" eval '[ "$code" = 405 ] && [ "$(head_id)" = e405 ]'
code=$(get -H 'X-Request-Id: e413' --data-binary "$(printf 'x%.0s' $(seq 1 40))" "/post")
check "413: carries the client's id ($code, $(head_id))" eval '[ "$code" = 413 ] && [ "$(head_id)" = e413 ]'
sy_raw 'GET /hello?e400 HTTP/1.1\r\nX-Request-Id: e400\r\n\r\n'
check "400 (no Host): carries the client's id ($RAW_STATUS, $(raw_head | sed -n 's/^X-Request-Id: //p'))" \
    eval '[ "$RAW_STATUS" = 400 ] && raw_head | grep -qx "X-Request-Id: e400"'
sy_raw 'GET /hello?e431 HTTP/1.1\r\nHost: x\r\nX-Request-Id: e431\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\n\r\n'
check "431 (too many fields): the client's id, read before the limit ($RAW_STATUS, $(raw_head | sed -n 's/^X-Request-Id: //p'))" \
    eval '[ "$RAW_STATUS" = 431 ] && raw_head | grep -qx "X-Request-Id: e431"'
sy_raw 'garbage\r\n\r\n'
garbage_id=$(raw_head | sed -n 's/^X-Request-Id: //p')
check "400 for bytes that never made a request: a new id ($RAW_STATUS, $garbage_id)" \
    eval '[ "$RAW_STATUS" = 400 ] && [[ $garbage_id =~ $ID_RE ]]'

# -- (b) the warnings about a request --------------------------------------------
# warned ERE: the error log has a line matching ERE (waited for: the
# rate-limited ones may come with the next tick).
warned() {
	wait_for "grep -Eq -- '$1' '$SY_LOG'" 5
}
get -H 'X-Request-Id: slow-1' "/block?w1" >/dev/null
check "slow loop: the warning names the client's id" \
    warned 'warning: route /block \(handler sleep\) blocked the event loop for [0-9]+ ms; .* thread pool \(request slow-1\)$'
get "/block?w2" >/dev/null
gen=$(head_id)
check "slow loop: the warning names the new id the response carried ($gen)" \
    eval '[[ $gen =~ $ID_RE ]] && warned "blocked the event loop .* \\(request $gen\\)\$"'
get -H 'X-Request-Id: auto-1' "/auto?w3" >/dev/null
check "auto promotion: the warning names the request that blocked the loop" \
    warned 'route /auto \(handler sleep, mode auto\) blocked the event loop for [0-9]+ ms: moved to the thread pool in this worker \(request auto-1\)$'
code=$(get -H 'X-Request-Id: late-1' "/long?w4")
check "504: the response carries the client's id ($code, $(head_id))" \
    eval '[ "$code" = 504 ] && [ "$(head_id)" = late-1 ]'
check "504: the warning names it" \
    warned 'route /long \(handler sleep\): no answer after 300 ms: 504 \(request late-1\)'
code=$(get -H 'X-Request-Id: fails-1' "/rid?fail")
check "500: the response carries the client's id ($code, $(head_id))" \
    eval '[ "$code" = 500 ] && [ "$(head_id)" = fails-1 ]'
check "500: \"handler rid failed\" names it" \
    warned 'warning: route /rid: handler rid failed \(request fails-1\)$'
# A full queue: 3 /slow at once on 1 thread (perhaps still busy with the
# late /long) and 1 queue place: one or two are refused.
dir503=$SY_TMP/503
mkdir -p "$dir503"
bg=()
for i in 1 2 3; do
	sy_curl -D "$dir503/h$i" -o /dev/null -w '%{http_code}' \
	    -H "X-Request-Id: full-$i" "$(sy_url "/slow?n=$i")" >"$dir503/c$i" 2>/dev/null &
	bg+=($!)
done
wait "${bg[@]}"	# not a bare wait: lib.sh's watchdog runs in the background
n503=0 ok503=1
for i in 1 2 3; do
	[ "$(cat "$dir503/c$i")" = 503 ] || continue
	n503=$((n503 + 1))
	grep -qix "x-request-id: full-$i" <(tr -d '\r' <"$dir503/h$i") || ok503=0
	warned "request refused with 503: .* \\(request full-$i\\)" || ok503=0
done
check "503: $n503 of 3 refused, each with its id in the response and a warning line" \
    eval '[ "$n503" -ge 1 ] && [ "$ok503" = 1 ]'

# -- the access log: the same ids, last field ------------------------------------
check "access log: the lines are flushed" \
    wait_for '[ -n "$(logged "GET /rid?b ")" ] && [ -n "$(logged "GET /slow?n=3 ")" ]' 3
for t in t1 t3; do
	line=$(logged "GET /hello?$t ")
	case $t in t1) want='lb-7f3a9c21/0001' ;; t3) want=$long128 ;; esac
	check "access log: ?$t ends with the client's id" [ "$(last_field "$line")" = "$want" ]
done
line=$(logged "GET /hello?t2 ")
want=$(printf '%s' "$all_visible" | sed 's/\\/\\x5C/g; s/"/\\x22/g')
check "access log: the quote and the backslash of an id are escaped ($want)" \
    [ "$(last_field "$line")" = "$want" ]
for t in t4 t5 t6 t7 t8 t9; do
	eval "want=\$NEW_$t"
	line=$(logged "GET /hello?$t ")
	check "access log: ?$t ends with the id the response carried ($want)" \
	    eval '[ -n "$want" ] && [ "$(last_field "$line")" = "$want" ]'
done
line=$(logged "GET /long?w4 ")
check "access log: the 504 line ends with its id" eval '[[ $line == *" 504 "*" late-1" ]]'
line=$(grep -F '"-" 400 ' "$alog" | grep -F " $garbage_id" | head -1)
check "access log: the garbage's 400 ends with its new id" [ -n "$line" ]
sy_stop

# ============================================================================
# (c) unique across workers, a reload and a restart
# ============================================================================
alog=$SY_TMP/unique.log
conf2='{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  "access_log": "@TMP@/unique.log",
  "routes": [{"path": "/hello", "handler": "hello"}]
}'
sy_start "$conf2" || exit 1
gen1=$(sy_worker_pids | tr '\n' ' ')
load() { # N TAG: N requests, 4 at a time, new connections (both workers:
	# placement gives a few at a time to the first one, so 64 idle
	# connections are held meanwhile, 32 on each, and ties alternate)
	local n=$1 out=$SY_TMP/ab.$2
	sy_hold 64 -
	timeout 60 ab -n "$n" -c 4 "$(sy_url "/hello?$2")" >"$out" 2>&1
	sy_release
	check "ab -n $n ($2): complete, none failed" \
	    eval 'grep -Eq "^Complete requests: +$n\$" "$out" && grep -Eq "^Failed requests: +0\$" "$out"'
}
load 3000 gen1
kill -HUP "$SY_PID"
check "reload: generation 2 ready" \
    wait_for 'grep -q "reload: generation 2 ready" "$SY_LOG"' 15
load 3000 gen2
gen2=$(sy_worker_pids | tr '\n' ' ')
wait_for '[ "$(grep -c "hello?gen2 " "$alog")" = 3000 ]' 5
sy_stop
sy_start "$conf2" || exit 1
load 1000 restart
gen3=$(sy_worker_pids | tr '\n' ' ')
wait_for '[ "$(grep -c "hello?restart " "$alog")" = 1000 ]' 5
sy_stop
info "worker pids: generation 1 $gen1| all of the first server $gen2| restart $gen3"

py_checks "$alog" <<'EOF'
import collections, sys, time
from sytest import ok, fail

A = "0123456789abcdefghjkmnpqrstvwxyz"
lines = open(sys.argv[1], encoding="latin-1").read().splitlines()
ids = [l.split(" ")[-1] for l in lines]
pids = [int(l.split(" ")[-2]) for l in lines]
tags = collections.Counter(l.split("?")[1].split(" ")[0] for l in lines
                           if "GET /hello?" in l)
if tags == {"gen1": 3000, "gen2": 3000, "restart": 1000}:
    ok("the access log has the 7000 requests: %s" % dict(tags))
else:
    fail("the access log has %s" % dict(tags))
dup = [i for i, n in collections.Counter(ids).items() if n > 1]
if dup:
    fail("%d ids logged more than once, e.g. %s" % (len(dup), dup[:3]))
else:
    ok("all %d ids distinct" % len(ids))


def value(s):
    v = 0
    for c in s:
        v = v * 32 + A.index(c)
    return v


bad, prefixes = [], collections.defaultdict(set)
now = int(time.time())
for i, p in zip(ids, pids):
    if len(i) != 26 or any(c not in A for c in i):
        bad.append("%s: not 26 base32 characters" % i)
        continue
    hi, lo = value(i[:8]), value(i[8:16])
    t, pid = hi >> 16, (hi & 0xffff) << 6 | lo >> 34
    if pid != p & 0x3fffff:
        bad.append("%s: pid %d, logged by %d" % (i, pid, p))
    if (now - t) % (1 << 24) > 300:
        bad.append("%s: start time %d, now %d" % (i, t, now % (1 << 24)))
    prefixes[p].add(i[:16])
if bad:
    fail("%d ids do not decode as reqid.h says: %s" % (len(bad), bad[:3]))
else:
    ok("every id decodes to the pid of the worker that logged it and a "
       "start time of now")
one = all(len(s) == 1 for s in prefixes.values())
distinct = len(set.union(*prefixes.values())) == len(prefixes)
if one and distinct and len(prefixes) >= 4:
    ok("%d worker pids, one 16-character prefix each, all different" %
       len(prefixes))
else:
    fail("prefixes by pid: %s" % dict(prefixes))
EOF

# ============================================================================
# (d) access_log_format "json"
# ============================================================================
alog=$SY_TMP/access.json
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "@TMP@/access.json",
  "access_log_format": "json",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/h", "match": "prefix", "handler": "hello"},
    {"path": "/sleep", "handler": "sleep", "mode": "blocking", "args": {"ms": 20}},
    {"path": "/post", "handler": "echo", "methods": ["POST"]}
  ]
}' || exit 1
worker=$(sy_worker_pids | head -1)
py_checks "$SY_PORT" "$alog" "$worker" <<'EOF'
import codecs, datetime, json, os, socket, sys, time
from sytest import ok, fail

port, path, worker = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])


def send(raw):
    """One request on its own connection: (status, X-Request-Id)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(raw)
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    rid = [h.split(": ", 1)[1] for h in head
           if h.lower().startswith("x-request-id:")]
    return int(head[0].split()[1]), rid[0] if rid else None


# What switchyard.json(5) promises for the client's bytes: UTF-8 where
# valid, every other byte the character of its value.
codecs.register_error("byte_value", lambda e: (
    "".join(chr(b) for b in e.object[e.start:e.end]), e.end))


def expect(b):
    return b.decode("utf-8", "byte_value")


target = (b"/h/\xff\xc0\xaf\"\\%22\xed\xa0\x80\xe2\x82x\xc3\xa9\xf0\x9f\x98"
          b"\x80\xc2\x9b?q=\x80\xf4\x90\x80\x80")
agent = b"h \"q\" \\ \tx\xe9t\xc3\xa9 \xf5\xc2\x9b\x7e"
referer = b"http://r/\xc0\x80\"\\"
reqs = [
    ("hostile", b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nUser-Agent: " +
     agent + b"\r\nReferer: " + referer + b"\r\nX-Request-Id: hostile\r\n"
     b"\r\n", 200),
    ("plain", b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200),
    ("head", b"HEAD /hello HTTP/1.0\r\n\r\n", 200),
    ("pool", b"GET /sleep HTTP/1.1\r\nHost: x\r\nX-Request-Id: pool\r\n\r\n",
     200),
    ("post", b"POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
     200),
    ("404", b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    ("ctl", b"GET /h/\x01\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("garbage", b"\xff\xfe\x00junk\r\n\r\n", 400),
]
sent = {}
for name, raw, want in reqs:
    status, rid = send(raw)
    sent[name] = rid
    if status != want or not rid:
        fail("%s: status %s (want %s), X-Request-Id %r" %
             (name, status, want, rid))

deadline = time.time() + 5
while time.time() < deadline:
    with open(path, "rb") as f:
        raw_lines = f.read().splitlines()
    if len(raw_lines) >= len(reqs):
        break
    time.sleep(0.05)
if len(raw_lines) == len(reqs):
    ok("json: %d lines for %d requests" % (len(raw_lines), len(reqs)))
else:
    fail("json: %d lines for %d requests" % (len(raw_lines), len(reqs)))

TYPES = [("time", str), ("client", str), ("method", (str, None)),
         ("target", (str, None)), ("version", (str, None)), ("status", int),
         ("bytes", int), ("referer", (str, None)),
         ("user_agent", (str, None)), ("duration", float), ("mode", str),
         ("queue_wait", float), ("pid", int), ("request_id", str),
         ("route", (str, None))]
by_id, nbad = {}, 0
for n, line in enumerate(raw_lines, 1):
    try:
        o = json.loads(line.decode("utf-8"))   # strict UTF-8, then JSON
    except (UnicodeDecodeError, ValueError) as e:
        fail("json: line %d does not parse: %s: %r" % (n, e, line[:200]))
        nbad += 1
        continue
    keys = [k for k, _ in TYPES]
    if list(o) != keys:
        fail("json: line %d has %s, want %s" % (n, list(o), keys))
        nbad += 1
        continue
    bad = []
    for k, t in TYPES:
        ts = t if isinstance(t, tuple) else (t,)
        ok_type = any(o[k] is None if x is None else
                      (type(o[k]) is x) for x in ts)
        if not ok_type:
            bad.append("%s=%r" % (k, o[k]))
    if bad:
        fail("json: line %d: wrong types: %s" % (n, ", ".join(bad)))
        nbad += 1
    if any(0 <= b < 0x20 or b == 0x7f for b in line):
        fail("json: line %d holds a raw control byte" % n)
        nbad += 1
    by_id[o["request_id"]] = o
if nbad == 0:
    ok("json: every line parses (strict UTF-8) with the 15 members in "
       "order, each of its type, and no raw control byte")

now = datetime.datetime.now(datetime.timezone.utc)
for name, _, want in reqs:
    o = by_id.get(sent[name])
    if o is None:
        fail("json: no line with %s's id %r" % (name, sent[name]))
        continue
    t = datetime.datetime.fromisoformat(o["time"])
    if t.tzinfo is None or abs((now - t).total_seconds()) > 60:
        fail("json: %s: time %r is not an RFC 3339 time of now" %
             (name, o["time"]))
    if o["status"] != want or o["pid"] != worker or o["client"] != \
            "127.0.0.1" or o["duration"] < 0 or o["queue_wait"] < 0:
        fail("json: %s: %r" % (name, o))

o = by_id.get("hostile", {})
checks = [("method", "GET"), ("target", expect(target)),
          ("version", "HTTP/1.1"), ("user_agent", expect(agent)),
          ("referer", expect(referer)), ("route", "/h"), ("bytes", 25),
          ("mode", "loop"), ("queue_wait", 0.0)]
wrong = [(k, o.get(k), v) for k, v in checks if o.get(k) != v]
if wrong:
    fail("json: hostile: got/wanted %r" % wrong)
else:
    ok("json: hostile target, User-Agent and Referer: UTF-8 kept, every "
       "other byte the character of its value (%r)" % o["target"])
line = next(l for l in raw_lines if b'"request_id":"hostile"' in l)
for text in (rb'"user_agent":"h \"q\" \\ \u0009x\u00e9t', rb'\u009b',
             rb'\"\\%22'):
    if text not in line:
        fail("json: hostile: %r not in the line %r" % (text, line))
o = by_id.get("pool", {})
if o.get("mode") == "pool" and o.get("route") == "/sleep" and \
        o.get("user_agent") is None and o.get("referer") is None:
    ok("json: a pool request: mode pool, route /sleep, no agent or "
       "referer (null)")
else:
    fail("json: pool: %r" % o)
o = by_id.get(sent["head"], {})
if o.get("version") == "HTTP/1.0" and o.get("method") == "HEAD" and \
        o.get("bytes") == 0:
    ok("json: HEAD on HTTP/1.0: version, method, 0 bytes")
else:
    fail("json: head: %r" % o)
o = by_id.get(sent["404"], {})
if o.get("route") is None and o.get("status") == 404:
    ok("json: 404: route null")
else:
    fail("json: 404: %r" % o)
for name in ("ctl", "garbage"):
    o = by_id.get(sent[name], {})
    if all(o.get(k, 0) is None for k in ("method", "target", "version",
                                         "referer", "user_agent", "route")):
        ok("json: %s: a 400 with method, target, version, headers and "
           "route null" % name)
    else:
        fail("json: %s: %r" % (name, o))
EOF
sy_stop
