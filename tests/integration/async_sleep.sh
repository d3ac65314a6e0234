#!/bin/bash
# async_sleep.sh - a non-blocking handler that waits on a loop timer: one
# worker holds 100 concurrent 1 s sleeps at once, so all finish in about
# 1 s (curl -Z, then ab -c 100), and the loop stays free for other
# requests meanwhile.
. "$(dirname "$0")/lib.sh"

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/nap", "handler": "async_sleep", "mode": "nonblocking",
     "args": {"ms": 1000, "max_ms": 2000}}
  ]
}' || exit 1

# Established connections the server side holds on the port.
server_conns() {
	ss -Htn state established "( sport = :$SY_PORT )" 2>/dev/null | grep -c .
}

# curl runs the 100 transfers at once on 100 connections
# (--parallel-immediate: do not wait to see whether one connection could
# carry them all, which would make the first one run alone).
codes=$SY_TMP/codes
t0=$(now_ms)
curl -sS --no-progress-meter -Z --parallel-immediate --parallel-max 100 --max-time 20 \
    -o /dev/null -w '%{http_code}\n' "$(sy_url '/nap?n=[1-100]')" \
    >"$codes" 2>"$SY_TMP/curl.err" &
curl_pid=$!

# While the 100 sleeps are pending, the same worker answers at once.
if wait_for '[ "$(server_conns)" -ge 100 ]' 5; then
	ok "100 connections open at once"
	t1=$(now_ms)
	code=$(sy_get_status /hello)
	t2=$(($(now_ms) - t1))
	check "/hello during the sleeps: 200 ($code)" [ "$code" = 200 ]
	check "/hello during the sleeps: not held up by them (${t2} ms < 900 ms)" [ "$t2" -lt 900 ]
	check "/hello during the sleeps: answered before they end" \
	    eval 'alive "$curl_pid" && [ ! -s "$codes" ]'
else
	fail "100 concurrent connections never showed up (ss: $(server_conns))"
fi

if ! wait_for '! alive $curl_pid' 20; then
	fail "curl still running after 20 s"
	kill "$curl_pid"
fi
wait "$curl_pid"
rc=$?
elapsed=$(($(now_ms) - t0))
check "curl exit status 0 ($rc; $(head -c 200 "$SY_TMP/curl.err"))" [ "$rc" = 0 ]
check "100 answers, all 200 ($(sort "$codes" | uniq -c | tr '\n' ' '))" \
    eval '[ "$(grep -c "^200$" "$codes")" = 100 ] && [ "$(grep -c . "$codes")" = 100 ]'
check "100 x 1 s sleeps on one worker overlap: ${elapsed} ms < 3000 ms" [ "$elapsed" -lt 3000 ]
check "... and each did sleep: ${elapsed} ms >= 1000 ms" [ "$elapsed" -ge 1000 ]

# ab -c 100 likewise. (ab sends its first request alone, so its total is
# about 2 s; each request's own time must still be about 1 s.)
if command -v ab >/dev/null 2>&1; then
	out=$SY_TMP/ab.out
	timeout 30 ab -n 100 -c 100 -s 20 "$(sy_url /nap)" >"$out" 2>&1
	rc=$?
	check "ab exit status 0 ($rc)" [ "$rc" = 0 ]
	check "ab: Complete requests: 100" grep -Eq '^Complete requests: +100$' "$out"
	check "ab: Failed requests: 0" grep -Eq '^Failed requests: +0$' "$out"
	check "ab: no Non-2xx responses" eval '! grep -q "^Non-2xx" "$out"'
	longest=$(sed -n 's/^ *100% *\([0-9]*\) (longest request)/\1/p' "$out")
	check "ab: the longest request took ${longest:-?} ms < 3000 ms" \
	    [ "${longest:-99999}" -lt 3000 ]
	if [ "$rc" != 0 ] || ! grep -Eq '^Failed requests: +0$' "$out"; then
		sed 's/^/#   /' "$out"
	fi
else
	echo "skip: ab -c 100: ab (apache2-utils) is not installed"
fi

# ?ms= overrides the duration up to max_ms; anything else is a 400.
t1=$(now_ms)
body=$(sy_curl "$(sy_url '/nap?ms=50')")
t2=$(($(now_ms) - t1))
check "?ms=50: \"pong\" in ${t2} ms (< 900 ms)" eval '[ "$body" = "\"pong\"" ] && [ "$t2" -lt 900 ]'
check "?ms=2001 (over max_ms): 400" [ "$(sy_get_status '/nap?ms=2001')" = 400 ]
check "?ms=abc: 400" [ "$(sy_get_status '/nap?ms=abc')" = 400 ]

sy_stop
