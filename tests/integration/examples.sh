#!/bin/bash
# examples.sh - the example plugins of examples/plugins, built as a user
# builds them: their own Makefiles, with the build tree's pkg-config file
# (switchyard-uninstalled.pc), into the test's directory, then loaded with
# "plugins" by the real server.
#
# kv (SQLite): PUT/GET/HEAD/DELETE/list with exact statuses and bodies,
# 400/404/405/413, on a blocking route; then a SIGHUP to a config that
# runs the same database on a nonblocking route: the data persist, and
# the same checks pass there. WAL is on (the -wal file exists), and
# concurrent PUTs from 2 workers never fail (one upsert of a shared key
# is 201, the others 200). The example configuration passes -t.
#
# upstream (libevent's HTTP client): against a second switchyard serving
# async_sleep 1000 ms, 200 concurrent calls on one worker end in about
# 1 s (< 3 s; one at a time would take 200 s) with 200 connections open
# to the upstream at once and the loop still free; a closed port is 502,
# an upstream slower than timeout_ms 504, a stopped upstream 502; a
# client that resets cancels its upstream call (its connection closes).
. "$(dirname "$0")/lib.sh"

: "${SY_BUILDDIR:=${SY_BIN%/src/switchyard}}"
if [ ! -f "$SY_BUILDDIR/switchyard-uninstalled.pc" ]; then
	fail "no switchyard-uninstalled.pc in the build directory $SY_BUILDDIR (set SY_BUILDDIR)"
	exit 1
fi
command -v pkg-config >/dev/null 2>&1 || skip_all "pkg-config is not installed"
command -v ss >/dev/null 2>&1 || skip_all "ss (iproute2) is not installed"
pkg-config --exists sqlite3 2>/dev/null ||
    skip_all "no sqlite3.pc: install libsqlite3-dev (scripts/deps build)"

# -- build ---------------------------------------------------------------------
# A fresh top-level make (the jobserver of the "make check" running us is
# not ours), with the build's sanitizer flags, so that an ASan build also
# checks the plugins' code.
san=$(sed -n 's/^SAN_CFLAGS = //p' "$SY_BUILDDIR/Makefile" 2>/dev/null)
build_plugin() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	    make -s -C "$SY_SRCDIR/examples/plugins/$1" \
	    PKG_CONFIG_PATH="$SY_BUILDDIR" OUT="$SY_TMP" \
	    CFLAGS="-O2 -Werror $san" >"$SY_TMP/build-$1.log" 2>&1
}
for p in kv upstream; do
	if build_plugin "$p" && [ -f "$SY_TMP/$p.so" ]; then
		ok "make -C examples/plugins/$p PKG_CONFIG_PATH=build OUT=TMP: $p.so, no warning (-Werror)"
	else
		fail "building examples/plugins/$p:"
		sed 's/^/#   /' "$SY_TMP/build-$p.log"
		exit 1
	fi
done
check "the plugins export sy_plugin_handlers" \
    eval 'nm -D "$SY_TMP/kv.so" | grep -q " D sy_plugin_handlers$" &&
        nm -D "$SY_TMP/upstream.so" | grep -q " D sy_plugin_handlers$"'

# The example configurations, as shipped but for where the database goes.
for p in kv upstream; do
	sed "s|/tmp/switchyard-kv.db|$SY_TMP/example-kv.db|" \
	    "$SY_SRCDIR/examples/plugins/$p/switchyard.json" >"$SY_TMP/example-$p.json"
	out=$("$SY_BIN" -t -c "$SY_TMP/example-$p.json" 2>&1)
	check "examples/plugins/$p/switchyard.json passes -t (\"plugins\": [\"$p.so\"] beside it): $out" \
	    [ "$out" = "configuration OK: $SY_TMP/example-$p.json" ]
done

# req METHOD PATH [CURL ARGS...]: one request; sets CODE, BODY and HDRS
# (the response headers, CR removed).
req() {
	local m=$1 path=$2 how out
	shift 2
	how=(-X "$m")
	[ "$m" = HEAD ] && how=(-I)	# curl then reads no body
	out=$(sy_curl -g --path-as-is "${how[@]}" -D "$SY_TMP/hdrs" -o "$SY_TMP/body" \
	    -w '%{http_code}' "$@" "$(sy_url "$path")" 2>"$SY_TMP/curl.err")
	CODE=$out
	BODY=$(cat "$SY_TMP/body" 2>/dev/null)
	HDRS=$(tr -d '\r' <"$SY_TMP/hdrs" 2>/dev/null)
}
# header NAME: its value in HDRS.
header() {
	printf '%s\n' "$HDRS" | awk -v n="$1" '
	    { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == tolower(n)) {
	      v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }'
}
# expect WHAT CODE BODY: CODE and BODY are what the last req got.
expect() {
	if [ "$CODE" = "$2" ] && [ "$BODY" = "$3" ]; then
		ok "$1: $2 $3"
	else
		fail "$1: got $CODE '$BODY', expected $2 '$3'"
	fi
}

# -- kv ------------------------------------------------------------------------
db=$SY_TMP/kv.db
kv_conf() { # MODE
	cat <<EOF
{
  "plugins": ["kv.so"],
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  "access_log": "$SY_TMP/access.log",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/kv/", "match": "prefix", "handler": "kv", "mode": "$1",
     "methods": ["GET", "PUT", "DELETE", "POST"],
     "args": {"database": "$db", "max_value_bytes": 1000}}
  ]
}
EOF
}
# kv.so is found beside the config, which sy_start writes into SY_TMP.
sy_start "$(kv_conf blocking)" || exit 1

badkey='{"detail":"key: 1 to 256 characters among A-Z a-z 0-9 - . _ ~, other than \".\" and \"..\""}'
# kv_checks MODE P: the API on keys P-alpha, P-beta, P-gamma.
kv_checks() {
	local m=$1 p=$2 codes
	req PUT "/kv/$p-alpha" -H 'Content-Type: application/json' --data-binary '{"a":1}'
	expect "$m: PUT new" 201 "{\"key\":\"$p-alpha\",\"version\":1,\"bytes\":7}"
	check "$m: PUT new: Location /kv/$p-alpha ($(header Location))" \
	    [ "$(header Location)" = "/kv/$p-alpha" ]
	req PUT "/kv/$p-alpha" -H 'Content-Type: text/plain' --data-binary 'hello'
	expect "$m: PUT again replaces" 200 "{\"key\":\"$p-alpha\",\"version\":2,\"bytes\":5}"
	req GET "/kv/$p-alpha"
	expect "$m: GET" 200 hello
	check "$m: GET: the stored Content-Type ($(header Content-Type))" \
	    [ "$(header Content-Type)" = text/plain ]
	req HEAD "/kv/$p-alpha"
	check "$m: HEAD: 200, Content-Length 5 ($CODE, $(header Content-Length))" \
	    eval '[ "$CODE" = 200 ] && [ "$(header Content-Length)" = 5 ]'
	req GET "/kv/$p-missing"
	expect "$m: GET missing" 404 '{"detail":"no such key"}'
	req PUT "/kv/$p-beta" --data-binary ''
	expect "$m: PUT empty value" 201 "{\"key\":\"$p-beta\",\"version\":1,\"bytes\":0}"
	req PUT "/kv/$p-gamma" --data-binary 'g'
	expect "$m: PUT third" 201 "{\"key\":\"$p-gamma\",\"version\":1,\"bytes\":1}"
	req GET "/kv/?limit=2&after=$p-"
	expect "$m: list, first page" 200 "{\"keys\":[\"$p-alpha\",\"$p-beta\"],\"next\":\"$p-beta\"}"
	req GET "/kv/?limit=2&after=$p-beta"
	expect "$m: list, next page" 200 "{\"keys\":[\"$p-gamma\"],\"next\":null}"
	req DELETE "/kv/$p-beta"
	check "$m: DELETE: 204, no body ($CODE '$BODY')" eval '[ "$CODE" = 204 ] && [ -z "$BODY" ]'
	req DELETE "/kv/$p-beta"
	expect "$m: DELETE again" 404 '{"detail":"no such key"}'
	req GET "/kv/$p-beta"
	expect "$m: GET deleted" 404 '{"detail":"no such key"}'
	req POST "/kv/$p-alpha" --data-binary x
	expect "$m: POST (in the route's methods, not the handler's)" 405 '{"detail":"method not allowed"}'
	check "$m: ... Allow: GET, HEAD, PUT, DELETE ($(header Allow))" \
	    [ "$(header Allow)" = "GET, HEAD, PUT, DELETE" ]
	req PUT "/kv/" --data-binary x
	expect "$m: PUT on the collection" 405 '{"detail":"method not allowed"}'
	check "$m: ... Allow: GET, HEAD ($(header Allow))" [ "$(header Allow)" = "GET, HEAD" ]
	req PATCH "/kv/$p-alpha" --data-binary x
	check "$m: PATCH (not in the route's methods): the server's 405 ($CODE)" [ "$CODE" = 405 ]
	for k in 'a%20b' 'a/b' '..' "$(printf 'k%.0s' $(seq 1 257))"; do
		req GET "/kv/$k"
		expect "$m: bad key '${k:0:20}'" 400 "$badkey"
	done
	req PUT "/kv/$p-$(printf 'k%.0s' $(seq 1 250))" --data-binary x
	check "$m: a 256-character key is fine ($CODE)" [ "$CODE" = 201 ]
	head -c 1001 /dev/zero | tr '\0' v >"$SY_TMP/big"
	req PUT "/kv/$p-big" --data-binary "@$SY_TMP/big"
	expect "$m: PUT over max_value_bytes" 413 '{"detail":"value: 1001 bytes, at most 1000"}'
	req GET "/kv/?limit=0"
	expect "$m: list ?limit=0" 400 '{"detail":"limit: must be an integer in 1..1000"}'
	req GET "/kv/?after=a%2Fb"
	expect "$m: list ?after=a/b" 400 '{"detail":"after: must be a key"}'

	# Many writers at once, from both workers: 100 upserts of one key
	# and 200 of distinct ones, 50 connections at a time. SQLite takes
	# one writer at a time; the others wait (busy_timeout_ms), none fails.
	codes=$SY_TMP/put.$m
	curl -sS --no-progress-meter -Z --parallel-immediate --parallel-max 50 --max-time 30 \
	    -X PUT --data-binary v -w '%{http_code}\n' \
	    -o /dev/null "$(sy_url "/kv/$p-shared?n=[1-100]")" \
	    -o /dev/null "$(sy_url "/kv/$p-c[1-200]")" \
	    >"$codes" 2>"$SY_TMP/put.err"
	check "$m: 300 concurrent PUTs: 300 answers, none 5xx ($(sort "$codes" | uniq -c | tr '\n' ' '))" \
	    eval '[ "$(grep -c . "$codes")" = 300 ] && ! grep -q "^5" "$codes" && ! grep -q "^000" "$codes"'
	check "$m: ... exactly 201 created: 1 shared key + 200 distinct ($(grep -c '^201$' "$codes"))" \
	    [ "$(grep -c '^201$' "$codes")" = 201 ]
	req GET "/kv/$p-shared"
	expect "$m: the shared key after 100 upserts" 200 v
	req GET "/kv/?limit=1000&after=$p-c"
	check "$m: 200 distinct keys listed" \
	    [ "$(printf '%s' "$BODY" | grep -o "\"$p-c[0-9]*\"" | grep -c .)" = 200 ]
}

kv_checks blocking b
check "WAL mode: $(basename "$db")-wal exists while the server runs" [ -f "$db-wal" ]

# The same database behind a nonblocking route, by reload.
kv_conf nonblocking | sed "s/@PORT@/$SY_PORT/" >"$SY_CONF"
kill -HUP "$SY_PID"
if wait_for "grep -q 'reload: generation 2 ready' '$SY_LOG'" 20; then
	ok "SIGHUP: generation 2 (nonblocking) ready"
else
	fail "SIGHUP: generation 2 never got ready"
fi
req GET /kv/b-alpha
expect "after the reload: the data persisted" 200 hello
req GET "/kv/?limit=2&after=b-"
expect "after the reload: the list too" 200 '{"keys":["b-alpha","b-c1"],"next":"b-c1"}'
kv_checks nonblocking n
# How each ran, from the access log (flushed once a second): the mode is
# the fourth field from the end.
ran_as() { # PATH MODE
	grep "\"GET $1 HTTP" "$SY_TMP/access.log" 2>/dev/null |
	    awk -v m="$2" '$(NF-3) == m' | grep -c .
}
check "access log: GET /kv/b-alpha ran in the pool, GET /kv/n-alpha on the loop" \
    wait_for '[ "$(ran_as /kv/b-alpha pool)" -ge 1 ] && [ "$(ran_as /kv/n-alpha loop)" -ge 1 ] &&
        [ "$(ran_as /kv/b-alpha loop)" = 1 ] && [ "$(ran_as /kv/n-alpha pool)" = 0 ]' 5
sy_stop

# -- upstream ------------------------------------------------------------------
# The upstream: another switchyard, its own port, async_sleep 1 s.
SY_PORT=
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/nap", "handler": "async_sleep", "args": {"ms": 1000, "max_ms": 10000}}
  ]
}' || exit 1
up_pid=$SY_PID up_log=$SY_LOG up_port=$SY_PORT
# A port nobody listens on (reserved by the lock, never bound).
SY_PORT=
sy_pick_port
closed_port=$SY_PORT
SY_PORT=
sy_start '{
  "plugins": ["upstream.so"],
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/up", "handler": "upstream",
     "args": {"url": "http://127.0.0.1:'"$up_port"'/nap"}},
    {"path": "/up_once", "handler": "upstream",
     "args": {"url": "http://127.0.0.1:'"$up_port"'/nap", "keepalive": 0}},
    {"path": "/up_fast", "handler": "upstream",
     "args": {"url": "http://127.0.0.1:'"$up_port"'/nap", "timeout_ms": 300}},
    {"path": "/up_closed", "handler": "upstream",
     "args": {"url": "http://127.0.0.1:'"$closed_port"'/x"}}
  ]
}' || exit 1

# Connections this server has open to the upstream.
to_upstream() {
	ss -Htn state established "( dport = :$up_port )" 2>/dev/null | grep -c .
}

# Cancellation first, while no idle connection muddles the count: a
# client that resets takes its upstream call with it.
exec {hold}> >(sy_clients holdreset "GET /up_once?ms=5000 HTTP/1.1\r\nHost: x\r\n\r\n" \
    >"$SY_TMP/hold" 2>&1)
# Bounds generous for a loaded machine: wait_for returns once it holds.
if wait_for '[ "$(to_upstream)" = 1 ]' 30; then
	ok "abort: the call is under way (1 connection to the upstream)"
	exec {hold}>&-
	check "abort: once the client resets, the upstream connection closes" \
	    wait_for '[ "$(to_upstream)" = 0 ]' 15
else
	fail "abort: no upstream connection showed up ($(to_upstream))"
	exec {hold}>&-
fi

req GET '/up?ms=10'
expect "GET /up?ms=10 (the query forwarded)" 200 '"pong"'
check "... with the upstream's Content-Type ($(header Content-Type))" \
    [ "$(header Content-Type)" = application/json ]

# 200 concurrent 1 s calls on one worker.
codes=$SY_TMP/up.codes
t0=$(now_ms)
curl -sS --no-progress-meter -Z --parallel-immediate --parallel-max 200 --max-time 20 \
    -o /dev/null -w '%{http_code}\n' "$(sy_url '/up?n=[1-200]')" \
    >"$codes" 2>"$SY_TMP/up.err" &
curl_pid=$!
if wait_for '[ "$(to_upstream)" -ge 200 ] || ! alive $curl_pid' 10 && alive "$curl_pid"; then
	ok "200 connections to the upstream at once ($(to_upstream))"
	t1=$(now_ms)
	code=$(sy_get_status /hello)
	t2=$(($(now_ms) - t1))
	check "/hello during the 200 calls: 200 in ${t2} ms (< 900 ms: the loop is free)" \
	    eval '[ "$code" = 200 ] && [ "$t2" -lt 900 ]'
else
	fail "never 200 connections to the upstream at once ($(to_upstream))"
fi
if ! wait_for '! alive $curl_pid' 20; then
	fail "curl still running after 20 s"
	kill "$curl_pid"
fi
wait "$curl_pid"
rc=$?
elapsed=$(($(now_ms) - t0))
check "200 calls: curl exit status 0 ($rc; $(head -c 200 "$SY_TMP/up.err"))" [ "$rc" = 0 ]
check "200 calls: 200 answers, all 200 ($(sort "$codes" | uniq -c | tr '\n' ' '))" \
    eval '[ "$(grep -c "^200$" "$codes")" = 200 ] && [ "$(grep -c . "$codes")" = 200 ]'
info "200 concurrent calls to a 1 s upstream took $elapsed ms (one at a time: 200000 ms)"
check "200 calls of 1 s on one worker overlap: ${elapsed} ms < 3000 ms" [ "$elapsed" -lt 3000 ]
check "... and each waited for the upstream: ${elapsed} ms >= 1000 ms" [ "$elapsed" -ge 1000 ]
n=$(to_upstream)
check "keep-alive: idle connections kept for reuse ($n, at most keepalive 128)" \
    eval '[ "$n" -ge 1 ] && [ "$n" -le 128 ]'

# Failures.
req GET /up_closed
expect "closed port" 502 "{\"detail\":\"upstream http://127.0.0.1:$closed_port/x: cannot connect to 127.0.0.1 port $closed_port\"}"
t0=$(now_ms)
req GET /up_fast
t1=$(($(now_ms) - t0))
expect "upstream slower than timeout_ms 300" 504 "{\"detail\":\"upstream http://127.0.0.1:$up_port/nap did not answer within 300 ms\"}"
check "... after about 300 ms ($t1 ms, 300..900)" eval '[ "$t1" -ge 300 ] && [ "$t1" -lt 900 ]'
req GET '/up_fast?ms=20'
expect "... and a fast answer still passes" 200 '"pong"'
req POST /up -d x
check "POST: the server's 405 (the route allows GET, HEAD) ($CODE)" [ "$CODE" = 405 ]

# The upstream goes away: its idle connections close, new ones are refused.
b_pid=$SY_PID b_log=$SY_LOG b_port=$SY_PORT
SY_PID=$up_pid SY_LOG=$up_log SY_PORT=$up_port
sy_stop
SY_PID=$b_pid SY_LOG=$b_log SY_PORT=$b_port
req GET '/up?ms=10'
expect "the upstream stopped" 502 "{\"detail\":\"upstream http://127.0.0.1:$up_port/nap: cannot connect to 127.0.0.1 port $up_port\"}"
check_hello "after the upstream failures"
sy_stop
