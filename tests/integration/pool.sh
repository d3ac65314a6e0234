#!/bin/bash
# pool.sh - the thread pool under pressure. Backpressure: 2 threads and a
# queue of 2, 20 concurrent 500 ms blocking sleeps: the surplus gets 503
# with Retry-After and a JSON body at once, the rest 200, nothing hangs.
# Deadline: timeouts.handler_ms 300 on a 4 s blocking sleep: 504 with
# Connection: close, the loop serves on, and the pool thread finishes the
# job later without harm; a burst of 20 504s is a line or two of warning
# whose suppressed counts add up to them; a HEAD gets the 504's head only;
# a 504 behind answers the client does not read is sent once.
# Disconnects: 1,000 clients reset while their blocking request is queued
# or running: the server survives, the queued jobs of closed connections
# are skipped, and (in the ASan+UBSan and TSan builds) the log stays free
# of sanitizer reports; 200 that half-close are all answered. Graceful
# stop: TERM while a 1 s pool job runs: it completes with 200, the master
# exits 0; TERM while a job runs for a client that then resets: the drain
# does not wait for it.
. "$(dirname "$0")/lib.sh"

command -v ss >/dev/null 2>&1 || skip_all "ss (iproute2) is not installed"

H='Host: test\r\n'

# worker_pid: the (single) worker of the current master: its child, so
# this does not depend on the wording of the master's log lines.
worker_pid() {
	pgrep -P "$SY_PID" | head -1
}

# lt / ge / le A B: decimal comparisons (curl prints "0.301234").
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# sleeping_threads PID: threads of PID inside clock_nanosleep now
# (x86_64: 230, aarch64: 115), i.e. running a sleep job: glibc's
# nanosleep() is clock_nanosleep, and sanitizer runtimes' own threads use
# the plain nanosleep syscall, which is not counted.
sleeping_threads() {
	local t n=0 nr
	[ -n "$1" ] || { echo 0; return; }
	for t in /proc/"$1"/task/*; do
		nr=$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)
		case $(uname -m):$nr in
		x86_64:230 | aarch64:115) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

# -- backpressure: threads 2, queue_limit 2 ---------------------------------------------
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 2,
  "queue_limit": 2,
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/slow", "handler": "sleep", "mode": "blocking",
     "args": {"ms": 500}}
  ]
}' || exit 1

dir=$SY_TMP/bp
mkdir -p "$dir"
t0=$(now_ms)
curl -sS --no-progress-meter -Z --parallel-immediate --parallel-max 20 --max-time 20 \
    -o "$dir/body_#1" \
    -w '%{http_code} %{time_total} [%header{retry-after}] [%header{content-type}] #%{url}\n' \
    "$(sy_url '/slow?n=[1-20]')" >"$dir/out" 2>"$dir/err"
rc=$?
elapsed=$(($(now_ms) - t0))
n200=$(grep -c '^200 ' "$dir/out")
n503=$(grep -c '^503 ' "$dir/out")
info "backpressure: 20 concurrent 500 ms requests on 2 threads + 2 queue places: $n200 x 200, $n503 x 503 in $elapsed ms"
check "backpressure: curl exit status 0 ($rc; $(head -c 200 "$dir/err"))" [ "$rc" = 0 ]
check "backpressure: nothing hangs: all 20 answered in $elapsed ms (< 5000)" \
    eval '[ "$(grep -c . "$dir/out")" = 20 ] && [ "$elapsed" -lt 5000 ]'
check "backpressure: 200 + 503 = 20 ($n200 + $n503)" [ $((n200 + n503)) = 20 ]
check "backpressure: some refused with 503 ($n503 >= 1)" [ "$n503" -ge 1 ]
# 2 run at once, 2 wait in the queue: the other 16 are refused (the 20
# arrive within a few ms, long before the first 500 ms sleep ends).
check "backpressure: threads + queue_limit got 200 ($n200 = 4)" [ "$n200" = 4 ]
check "backpressure: every 503 has Retry-After and is JSON" \
    eval '! grep "^503 " "$dir/out" | grep -qv " \[[0-9][0-9]*\] \[application/json\] "'
bad=0
for i in $(seq 1 20); do
	line=$(grep "?n=$i\$" "$dir/out")
	case $line in
	"200 "*) [ "$(cat "$dir/body_$i")" = '"pong"' ] || bad=$((bad + 1)) ;;
	"503 "*) grep -q '^{"detail": *"[^"]*"}$' "$dir/body_$i" || bad=$((bad + 1)) ;;
	esac
done
check "backpressure: the 200 bodies are \"pong\", the 503 bodies {\"detail\": ...} ($bad bad)" [ "$bad" = 0 ]
slowest503=$(grep '^503 ' "$dir/out" | awk '{ print $2 }' | sort -g | tail -1)
info "backpressure: the slowest 503 took ${slowest503:-?} s; the 200s: $(grep '^200 ' "$dir/out" | awk '{ print $2 }' | tr '\n' ' ')"
check "backpressure: the 503s are answered at once, not after a sleep (${slowest503:-?} s < 0.45 s)" \
    lt "${slowest503:-9}" 0.45
check "backpressure: once the queue drains, /slow answers 200 again" \
    [ "$(SY_CURL_TIMEOUT=5 sy_get_status /slow)" = 200 ]
check_hello "backpressure"
sy_stop

# -- deadline: timeouts.handler_ms 300 on a 4000 ms blocking sleep -----------------------
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 4,
  "timeouts": {"handler_ms": 300},
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/metrics", "handler": "metrics"},
    {"path": "/echo", "handler": "echo", "methods": ["POST"]},
    {"path": "/long", "handler": "sleep", "mode": "blocking",
     "args": {"ms": 4000, "max_ms": 4000}}
  ]
}' || exit 1
worker=$(worker_pid)

sy_raw "GET /long HTTP/1.1\r\n$H\r\n" 5
info "deadline: $RAW_STATUS after $RAW_MS ms (handler_ms 300, the sleep 4000)"
check "deadline: 504 ($RAW_STATUS)" [ "$RAW_STATUS" = 504 ]
check "deadline: answered and closed after 250..1500 ms ($RAW_MS ms; close status $RAW_RC)" \
    eval '[ "$RAW_RC" = 0 ] && [ "$RAW_MS" -ge 250 ] && [ "$RAW_MS" -le 1500 ]'
check "deadline: Connection: close" eval 'raw_head | grep -qi "^connection: close$"'
check "deadline: JSON body {\"detail\": ...} ($(raw_body))" \
    eval 'raw_body | grep -q "^{\"detail\": *\"[^\"]*\"}$"'
check "deadline: the log has the 504 warning line" \
    wait_for "grep -q 'warning: route /long (handler sleep): no answer after 300 ms: 504' '$SY_LOG'" 5
# The job still holds a pool thread; the loop serves on meanwhile.
check "deadline: the pool thread is still sleeping ($(sleeping_threads "$worker"))" \
    [ "$(sleeping_threads "$worker")" -ge 1 ]
check_hello "deadline, while the late job runs"
check "deadline: the late job finishes (no pool thread sleeping any more)" \
    wait_for '[ "$(sleeping_threads "$worker")" = 0 ]' 10
t0=$(now_ms)
code=$(sy_get_status '/long?ms=10')
check "deadline: a short blocking request afterwards: 200 ($code, $(($(now_ms) - t0)) ms)" \
    [ "$code" = 200 ]
# A burst of 504s: 20 at once on 4 threads (4 time out running, 16
# queued). The warning is rate-limited (log.h, log_limit): a line a
# second at most, each standing for itself and the N it says were
# suppressed, so that the lines add up to the 504s the metrics count.
warn_re=' worker 0: warning: route /long \(handler sleep\): no answer after 300 ms: 504 \(request [!-~]+\)( \(([0-9]+) more suppressed in the last [0-9]+ ms\))?$'
warn_sum() {
	sy_warn_sum "$warn_re"
}
timeouts_total() {
	sy_curl "$(sy_url /metrics)" |
	    sed -n 's/^switchyard_handler_timeouts_total{worker="0"} \([0-9]*\)$/\1/p'
}
t0=$(now_ms)
curl -sS --no-progress-meter -Z --parallel-immediate --parallel-max 20 --max-time 10 \
    -o /dev/null -w '%{http_code}\n' "$(sy_url '/long?ms=600&n=[1-20]')" >"$SY_TMP/burst" 2>&1
check "504 burst: 20 x 504 ($(sort "$SY_TMP/burst" | uniq -c | tr '\n' ' '))" \
    [ "$(grep -c '^504$' "$SY_TMP/burst")" = 20 ]
check "504 burst: the metrics count 21 504s ($(timeouts_total))" \
    [ "$(timeouts_total)" = 21 ]
check "504 burst: the warning lines add up to the 21 504s" \
    wait_for '[ "$(warn_sum)" = 21 ]' 5
nwarn=$(grep -Ec "$warn_re" "$SY_LOG")
window=$(($(now_ms) - t0))
grep -E "$warn_re" "$SY_LOG" | sed 's/^/#   /'
# One before the burst, then at most one a second since it began.
check "504 burst: $nwarn warning lines for 21 504s (<= 2 + $((window / 1000)) in $window ms)" \
    [ "$nwarn" -le $((2 + window / 1000)) ]
check "504 burst: a line says how many were suppressed" \
    grep -Eq "$warn_re" <(grep ' more suppressed in the last ' "$SY_LOG")
check_hello "deadline, afterwards"
# HEAD: the 504's head only (RFC 9110, 9.3.2), length and all.
sy_raw "HEAD /long?ms=1000 HTTP/1.1\r\n$H\r\n" 5
check "deadline: HEAD gets 504 ($RAW_STATUS), with its Content-Length and no body ($(raw_body | wc -c) bytes)" \
    eval '[ "$RAW_STATUS" = 504 ] && raw_head | grep -qi "^content-length: [1-9]" && [ -z "$(raw_body)" ]'
# One 504 per request, even while earlier answers are still going out
# (the client reads nothing for 5 handler_ms): the deadline is not
# re-armed behind it.
out=$(sy_clients stuck 1.5 \
    "POST /echo HTTP/1.1\r\n${H}Content-Length: 200000\r\n\r\n{BODY:200000}" \
    "GET /long?ms=1000 HTTP/1.1\r\n$H\r\n")
out=${out#statuses=}
check "deadline: behind answers the client does not read, one 504 and no more (${out//200,/})" \
    eval '[ "${out##*,}" = 504 ] && [ "$(tr , "\n" <<<"$out" | grep -c 504)" = 1 ] &&
    [ "$(tr , "\n" <<<"$out" | grep -vc "^200$")" = 1 ]'
check "deadline: the late jobs finish" \
    wait_for '[ "$(sleeping_threads "$worker")" = 0 ]' 10
check "deadline: the worker survived its late result (pid $worker)" \
    eval '[ -n "$worker" ] && [ "$(worker_pid)" = "$worker" ] && alive "$worker"'
sy_stop

# -- clients that leave while their job is queued or running ----------------------------
# log_level debug: every connection the server closes is logged, so the
# log proves the server saw each client go.
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 4,
  "queue_limit": 2000,
  "log_level": "debug",
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/nap", "handler": "sleep", "mode": "blocking",
     "args": {"ms": 200, "max_ms": 1000}}
  ]
}' || exit 1
worker=$(worker_pid)
# A client that resets is gone; one that only sends its FIN is waiting
# for its answer (conn.c: EOF is "no more requests"), so the clients that
# leave here reset, as a killed or timed-out client's socket does once the
# server writes to it.
closed() {
	grep -c 'debug: conn_close: .*: Connection reset by peer$' "$SY_LOG"
}

# 1000 clients that send a request and reset: the jobs of the first ones
# start (4 at a time), the rest queue and are taken back. Without that,
# they would keep the pool busy for 1000 x 200 ms / 4 = 50 s.
t0=$(now_ms)
out=$(sy_clients flood 1000 /nap 0 reset)
sent=$(sed -n 's/^sent=//p' <<<"$out")
info "disconnects: $sent requests sent and abandoned in $(($(now_ms) - t0)) ms"
check "disconnects: 1000 requests sent ($sent)" [ "$sent" = 1000 ]
check "disconnects: the server saw all 1000 clients go" \
    wait_for '[ "$(closed)" -ge 1000 ]' 20
info "disconnects: $(closed) connections reset by their clients"
check "disconnects: the worker survived (pid $worker)" \
    eval '[ -n "$worker" ] && [ "$(worker_pid)" = "$worker" ] && alive "$worker"'
check_hello "disconnects"
# The abandoned queue was skipped: a new blocking request waits at most
# for the jobs already running.
t0=$(now_ms)
code=$(SY_CURL_TIMEOUT=20 sy_get_status '/nap?ms=1')
t1=$(($(now_ms) - t0))
info "disconnects: a new blocking request right after: $code in $t1 ms (50000 if the abandoned jobs ran)"
check "disconnects: a new blocking request: 200 in $t1 ms (< 5000: queued jobs of closed connections skipped)" \
    eval '[ "$code" = 200 ] && [ "$t1" -lt 5000 ]'
# 200 that half-close instead: each is still owed its answer.
out=$(sy_clients flood 200 '/nap?ms=10' 0 halfclose)
check "half-close: 200 clients that sent FIN after their request all get 200 ($(tr '\n' ' ' <<<"$out"))" \
    [ "$(sed -n 's/^statuses=//p' <<<"$out")" = 200:200 ]
check "disconnects: the pool goes idle" \
    wait_for '[ "$(sleeping_threads "$worker")" = 0 ]' 10
sy_stop
check "disconnects: the worker exited cleanly at stop" \
    grep -Eq "master: info: worker 0 \(pid ${worker}[,)].* exited( with status 0)?\$" "$SY_TMP/server.$SY_NSTART.log"

# -- graceful TERM with a running 1 s pool job -----------------------------------------
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 4,
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/nap", "handler": "sleep", "mode": "blocking",
     "args": {"ms": 1000}}
  ]
}' || exit 1
worker=$(worker_pid)
sy_open fd
t0=$(now_ms)
sy_send "$fd" "GET /nap HTTP/1.1\r\n$H\r\n"
wait_for '[ "$(sleeping_threads "$worker")" -ge 1 ]' 5 ||
    fail "TERM: the /nap job never started"
kill -TERM "$SY_PID"
sy_read_resp "$fd" 10 || fail "TERM: the running pool job: $R_ERR"
elapsed=$(($(now_ms) - t0))
check "TERM: the running pool job completes: 200 \"pong\" ($R_STATUS $R_BODY)" \
    eval '[ "$R_STATUS" = 200 ] && [ "$R_BODY" = "\"pong\"" ]'
check "TERM: ... after its full second ($elapsed ms >= 950)" [ "$elapsed" -ge 950 ]
sy_close "$fd"
sy_stop - 0 10
check "TERM: the master exits 0 ($SY_STATUS)" [ "$SY_STATUS" = 0 ]

# -- TERM while a job runs for a client that then resets: not waited for ----------------
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 2,
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/long", "handler": "sleep", "mode": "blocking",
     "args": {"ms": 8000}}
  ]
}' || exit 1
worker=$(worker_pid)
exec {hold}> >(sy_clients holdreset "GET /long HTTP/1.1\r\n$H\r\n" \
    >"$SY_TMP/hold" 2>&1)
wait_for '[ "$(sleeping_threads "$worker")" -ge 1 ]' 10 ||
    fail "orphan drain: the /long job never started"
t0=$(now_ms)
kill -TERM "$SY_PID"
wait_for "grep -q 'info: draining (TERM)' '$SY_LOG'" 10 ||
    fail "orphan drain: the worker did not start draining"
exec {hold}>&-			# the client resets
sy_stop - 0 10
elapsed=$(($(now_ms) - t0))
check "orphan drain: once its client reset, the 8 s job is not waited for (stopped in $elapsed ms < 6000)" \
    [ "$elapsed" -lt 6000 ]
check "orphan drain: the master exits 0 ($SY_STATUS)" [ "$SY_STATUS" = 0 ]
