#!/bin/bash
# modes.sh - the FastAPI shape on 1 worker, 40 threads, 100 ms sleeps,
# ab -c 40: a blocking sleep (def + time.sleep) runs 40 at a time in the
# pool (>= 200 req/s, at most the 400 req/s bound); the same sleep on the
# loop (async def + time.sleep) is serialized (<= 15 req/s, about 10) and
# logged as blocking the loop; async_sleep (asyncio.sleep) overlaps on
# the loop (>= 200 req/s); auto starts on the loop, is promoted to the
# pool once, logged once, and then runs like blocking (>= 200 req/s).
# Isolation: /hello stays fast while ab -c 100 floods the blocking
# route, and visibly stalls while the non-blocking sleep is flooded.
# The margins are generous (the issue's targets are 320 req/s and 50 ms);
# every real figure is printed.
. "$(dirname "$0")/lib.sh"

command -v ab >/dev/null 2>&1 || skip_all "ab (apache2-utils) is not installed"
command -v ss >/dev/null 2>&1 || skip_all "ss (iproute2) is not installed"

# worker_pid: the (single) worker of the current master: its child, so
# this does not depend on the wording of the master's log lines.
worker_pid() {
	pgrep -P "$SY_PID" | head -1
}

alog=$SY_TMP/access.log
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 40,
  "queue_limit": 1024,
  "loop_block_warn_ms": 100,
  "access_log": "@TMP@/access.log",
  "routes": [
    {"path": "/hello", "handler": "hello", "mode": "nonblocking"},
    {"path": "/ping", "handler": "sleep", "mode": "blocking",
     "args": {"ms": 100, "max_ms": 10000}},
    {"path": "/ping_bad", "handler": "sleep", "mode": "nonblocking",
     "args": {"ms": 100, "max_ms": 10000}},
    {"path": "/ping_auto", "handler": "sleep", "mode": "auto",
     "args": {"ms": 100, "max_ms": 10000}},
    {"path": "/ping_auto_burst", "handler": "sleep", "mode": "auto",
     "args": {"ms": 100, "max_ms": 10000}},
    {"path": "/ping_async", "handler": "async_sleep", "mode": "nonblocking",
     "args": {"ms": 100, "max_ms": 10000}}
  ]
}' || exit 1
worker=$(worker_pid)

# ge A B / le A B: decimal comparisons (ab prints "324.33").
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# run_ab NAME PATH N C: ab -n N -c C on PATH (bounded), the assertions
# every run shares, then AB_RPS, AB_MEAN (ms), AB_P99 and AB_MAX (ms).
run_ab() {
	local name=$1 path=$2 n=$3 c=$4 out rc
	out=$SY_TMP/ab.${name//[^a-z0-9_]/_}
	timeout 120 ab -n "$n" -c "$c" -s 30 "$(sy_url "$path")" >"$out" 2>&1
	rc=$?
	check "$name: ab exit status 0 ($rc)" [ "$rc" = 0 ]
	check "$name: Complete requests: $n" grep -Eq "^Complete requests: +$n\$" "$out"
	check "$name: Failed requests: 0" grep -Eq '^Failed requests: +0$' "$out"
	check "$name: no Non-2xx responses" eval "! grep -q '^Non-2xx' '$out'"
	AB_RPS=$(sed -n 's/^Requests per second: *\([0-9.]*\) .*/\1/p' "$out")
	AB_MEAN=$(sed -n 's/^Time per request: *\([0-9.]*\) \[ms\] (mean)$/\1/p' "$out")
	AB_P99=$(sed -n 's/^ *99% *\([0-9]*\)$/\1/p' "$out")
	AB_MAX=$(sed -n 's/^ *100% *\([0-9]*\) (longest request)$/\1/p' "$out")
	: "${AB_RPS:=0}" "${AB_MEAN:=0}" "${AB_P99:=0}" "${AB_MAX:=0}"
	info "$name: ab -n $n -c $c $path: $AB_RPS req/s, mean $AB_MEAN ms, p99 $AB_P99 ms, max $AB_MAX ms"
	if [ "$rc" != 0 ] || ! grep -Eq '^Failed requests: +0$' "$out"; then
		sed 's/^/#   /' "$out"
	fi
}

# Warning lines of the loop-block detector for one route.
blocked_lines() {
	grep -c "warning: route $1 (handler sleep) blocked the event loop for [0-9]* ms; every connection of this worker waited: mark the route \"mode\": \"blocking\"" "$SY_LOG"
}
promoted_lines() {
	grep -c "worker 0: warning: route $1 (handler sleep, mode auto) blocked the event loop for [0-9]* ms: moved to the thread pool in this worker (request [!-~]*)\$" "$SY_LOG"
}

# -- blocking: def + time.sleep, 40 pool threads ------------------------------------------
# The rates need only prove the sleeps overlap: 10x what one at a time
# gives; how near the bound of 400 they come, a loaded machine decides
# (121 req/s was seen under ThreadSanitizer).
run_ab "blocking" /ping 200 40
check "blocking: $AB_RPS req/s >= 100 (40 threads x 100 ms: bound 400; one at a time: 10)" ge "$AB_RPS" 100
check "blocking: $AB_RPS req/s <= 400 (each request did sleep 100 ms)" le "$AB_RPS" 400
check "blocking: no loop-block warning for /ping" [ "$(blocked_lines /ping)" = 0 ]

# -- async_sleep: asyncio.sleep on the loop --------------------------------------------
run_ab "async_sleep" /ping_async 200 40
check "async_sleep: $AB_RPS req/s >= 100 (bound 400; one at a time: 10)" ge "$AB_RPS" 100
check "async_sleep: $AB_RPS req/s <= 400 (each request did wait 100 ms)" le "$AB_RPS" 400

# -- nonblocking: async def + time.sleep, serialized on the loop -------------------------
# 40 requests at 10 req/s: 4 s.
run_ab "nonblocking sleep" /ping_bad 40 40
check "nonblocking sleep: $AB_RPS req/s <= 15 (serialized: about 10)" le "$AB_RPS" 15
check "nonblocking sleep: the longest request waited for the others ($AB_MAX ms >= 2000)" \
    [ "$AB_MAX" -ge 2000 ]
n=$(blocked_lines /ping_bad)
check "nonblocking sleep: every call logged \"route /ping_bad (handler sleep) blocked the event loop\" with the hint ($n >= 40)" \
    [ "$n" -ge 40 ]

# -- auto: first call on the loop, then the pool ---------------------------------------
t0=$(now_ms)
code=$(sy_get_status /ping_auto)
t1=$(($(now_ms) - t0))
check "auto: the first request: 200 ($code) after its sleep ($t1 ms >= 100)" \
    eval '[ "$code" = 200 ] && [ "$t1" -ge 100 ]'
check "auto: the promotion is logged" \
    wait_for '[ "$(promoted_lines /ping_auto)" -ge 1 ]' 5
run_ab "auto (promoted)" /ping_auto 200 40
check "auto: after promotion $AB_RPS req/s >= 100 (bound 400; one at a time: 10)" ge "$AB_RPS" 100
check "auto: promoted exactly once in the worker ($(promoted_lines /ping_auto))" \
    [ "$(promoted_lines /ping_auto)" = 1 ]
check "auto: no \"blocked the event loop ... mark the route\" line (promoted instead)" \
    [ "$(blocked_lines /ping_auto)" = 0 ]

# 40 concurrent first calls on a cold auto route: one blocks the loop and
# promotes it, the others already go to the pool; one line.
codes=$SY_TMP/burst.codes
t0=$(now_ms)
curl -sS --no-progress-meter -Z --parallel-immediate --parallel-max 40 --max-time 20 \
    -o /dev/null -w '%{http_code}\n' "$(sy_url '/ping_auto_burst?n=[1-40]')" \
    >"$codes" 2>"$SY_TMP/burst.err"
rc=$?
t1=$(($(now_ms) - t0))
check "auto burst: curl exit status 0 ($rc; $(head -c 200 "$SY_TMP/burst.err"))" [ "$rc" = 0 ]
check "auto burst: 40 answers, all 200 ($(sort "$codes" | uniq -c | tr '\n' ' '))" \
    eval '[ "$(grep -c "^200$" "$codes")" = 40 ] && [ "$(grep -c . "$codes")" = 40 ]'
info "auto burst: 40 concurrent first calls took $t1 ms (serialized would be 4000)"
check "auto burst: not serialized ($t1 ms < 2000)" [ "$t1" -lt 2000 ]
check "auto burst: promoted exactly once ($(promoted_lines /ping_auto_burst))" \
    [ "$(promoted_lines /ping_auto_burst)" = 1 ]

# The access log says how each ran: the first /ping_auto on the loop,
# every later one in the pool.
# ran_as PATH MODE: how many GET PATH requests the access log shows
# with that mode (the fourth field from the end).
ran_as() {
	grep "\"GET $1 HTTP" "$alog" 2>/dev/null | awk -v m="$2" '$(NF-3) == m' | grep -c .
}
check "access log: the 201 /ping_auto requests are logged" \
    wait_for '[ "$(grep -c "\"GET /ping_auto HTTP" "$alog")" = 201 ]' 5
check "access log: /ping_auto ran once on the loop ($(ran_as /ping_auto loop)), then 200 times in the pool ($(ran_as /ping_auto pool))" \
    eval '[ "$(ran_as /ping_auto loop)" = 1 ] && [ "$(ran_as /ping_auto pool)" = 200 ]'
check "access log: the 40 /ping_bad ran on the loop ($(ran_as /ping_bad loop)), the 200 /ping in the pool ($(ran_as /ping pool))" \
    eval '[ "$(ran_as /ping_bad loop)" = 40 ] && [ "$(ran_as /ping pool)" = 200 ]'

# -- isolation ---------------------------------------------------------------------
# Established connections the server side holds on the port.
server_conns() {
	ss -Htn state established "( sport = :$SY_PORT )" 2>/dev/null | grep -c .
}

# sample_hello NAME PID N MAXTIME: up to N GETs of /hello, one after the
# other, each started while PID (the flood) runs; sets S_N (samples), S_MAX
# and S_MED (seconds; no answer within MAXTIME counts as MAXTIME), and
# prints every figure.
sample_hello() {
	local name=$1 pid=$2 n=$3 maxtime=$4 i t all=() sorted
	for i in $(seq 1 "$n"); do
		alive "$pid" || break
		t=$(curl -s --max-time "$maxtime" -o /dev/null -w '%{http_code} %{time_total}' \
		    "$(sy_url "/hello?sample=$i")")
		case $t in
		"200 "*) all+=("${t#200 }") ;;
		*) all+=("$maxtime") ;;	# no answer in time: stalled
		esac
	done
	S_N=${#all[@]}
	if [ "$S_N" = 0 ]; then
		S_MAX=0 S_MED=0
		return
	fi
	sorted=$(printf '%s\n' "${all[@]}" | sort -g)
	S_MAX=$(echo "$sorted" | tail -1)
	S_MED=$(echo "$sorted" | sed -n "$(((S_N + 1) / 2))p")
	info "$name: /hello over $S_N samples: median ${S_MED} s, max ${S_MAX} s (all: ${all[*]})"
}

# flood NAME PATH N C: start ab in the background; FLOOD_PID, FLOOD_OUT.
flood() {
	FLOOD_OUT=$SY_TMP/flood.${1// /_}
	timeout 120 ab -n "$3" -c "$4" -s 60 "$(sy_url "$2")" >"$FLOOD_OUT" 2>&1 &
	FLOOD_PID=$!
}

# Blocking route flooded with 100 concurrent clients: 40 run, 60 queue,
# and the loop answers /hello at once. (3000 requests: about 8 s, long
# enough for a few samples even when starting each curl is slow.)
flood "blocking flood" /ping 3000 100
if wait_for '[ "$(server_conns)" -ge 90 ] || ! alive $FLOOD_PID' 10 && alive "$FLOOD_PID"; then
	sample_hello "blocking flood (ab -c 100 /ping)" "$FLOOD_PID" 20 5
	check "isolation: /hello sampled $S_N times during the /ping flood (>= 3)" [ "$S_N" -ge 3 ]
	check "isolation: /hello worst ${S_MAX} s < 0.5 s while /ping is flooded (target 0.05 s; median ${S_MED} s)" \
	    le "$S_MAX" 0.499
else
	fail "isolation: the /ping flood never reached 90 connections ($(server_conns))"
fi
if ! wait_for '! alive $FLOOD_PID' 60; then
	fail "blocking flood: ab still running after 60 s"
	kill "$FLOOD_PID"
fi
wait "$FLOOD_PID"
rc=$?
check "blocking flood: ab exit status 0 ($rc), no failure" \
    eval '[ "$rc" = 0 ] && grep -Eq "^Failed requests: +0$" "$FLOOD_OUT" && ! grep -q "^Non-2xx" "$FLOOD_OUT"'
info "blocking flood: $(grep '^Requests per second' "$FLOOD_OUT")"

# The non-blocking sleep flooded: every /ping_bad holds the loop for
# 100 ms, and /hello waits behind those ready before it: with 20
# clients, up to 2 s. (60 requests: about 6 s.)
flood "nonblocking flood" /ping_bad 60 20
if wait_for '[ "$(server_conns)" -ge 10 ] || ! alive $FLOOD_PID' 10 && alive "$FLOOD_PID"; then
	sample_hello "nonblocking flood (ab -c 20 /ping_bad)" "$FLOOD_PID" 3 5
	check "isolation: /hello sampled $S_N times during the /ping_bad flood (>= 1)" [ "$S_N" -ge 1 ]
	check "isolation: /hello visibly stalls while /ping_bad is flooded (worst ${S_MAX} s >= 0.09 s; median ${S_MED} s)" \
	    ge "$S_MAX" 0.09
else
	fail "isolation: the /ping_bad flood never showed up ($(server_conns))"
fi
if ! wait_for '! alive $FLOOD_PID' 60; then
	fail "nonblocking flood: ab still running after 60 s"
	kill "$FLOOD_PID"
fi
wait "$FLOOD_PID"
rc=$?
check "nonblocking flood: ab exit status 0 ($rc), no failure" \
    eval '[ "$rc" = 0 ] && grep -Eq "^Failed requests: +0$" "$FLOOD_OUT"'
info "nonblocking flood: $(grep '^Requests per second' "$FLOOD_OUT")"

check_hello "after the floods"
check "the worker never restarted (pid $worker)" \
    eval '[ -n "$worker" ] && [ "$(worker_pid)" = "$worker" ] && alive "$worker"'
sy_stop
