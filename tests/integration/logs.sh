#!/bin/bash
# logs.sh - the access log's fields and flushing, and the error log's
# journald form.
#  (a) access log: a loop route (/hello), a pool route (blocking sleep)
#      and an offloaded one (hash_body, POST), each line parsed with one
#      regular expression: the combined log format (client, [time],
#      "request", status, bytes, "referer", "user-agent"), then the
#      request time, the mode word (loop, pool, offload), the pool queue
#      wait, the worker pid, which must be a live worker's, and the
#      request id (request_id.sh tests the ids themselves). Exact
#      values where they are known: bytes, status, referer and agent (a
#      quote in it escaped), queue wait 0.000 on the loop, a real queue
#      wait when a pool job waited for the only thread, and 0.000 again
#      for a loop request that follows it on the same keep-alive
#      connection.
#  (b) flushing: lines reach the file within about a second with no
#      further traffic (waited for, bounded at 3 s).
#  (c) JOURNAL_STREAM set, error_log "stderr": every line is "<N>role:
#      level: message" with N the syslog priority of the level (6 info,
#      4 warning, 3 error) and no timestamp; a blocked loop, a promotion,
#      a 503, a reload and a respawn each make exactly one such line.
#      With error_log a file, the file keeps the usual timestamped form.
#  (d) access_log "stderr" into a FIFO whose reader is stopped: 4000
#      requests, then 4.5 s of probes, all answered at once by the same
#      worker (the watchdog, 2 s, never fires), lines dropped and counted;
#      once the reader resumes, the error log's "dropped N access log
#      lines" notices add up to switchyard_access_log_dropped_total, and
#      every line the reader got is whole.
# USR1 reopening is covered elsewhere: the access log by signals.sh, the
# error log by lifecycle.sh.
. "$(dirname "$0")/lib.sh"

# live PID: a live process of our binary.
live() {
	ours "$1"
}

# ============================================================================
# (a) + (b): the access log
# ============================================================================
alog=$SY_TMP/access.log
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 1,
  "queue_limit": 8,
  "access_log": "@TMP@/access.log",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/sleep", "handler": "sleep", "mode": "blocking",
     "args": {"ms": 100, "max_ms": 5000}},
    {"path": "/hash", "handler": "hash_body", "methods": ["POST"]}
  ]
}' || exit 1
worker=$(pgrep -P "$SY_PID" | head -1)
check "the worker $worker runs" live "$worker"

UA='logs-test/1.0 "quoted"'
UA_LOGGED='logs-test/1.0 \x22quoted\x22'
REF='http://referer.example/page?x=1'
sy_curl -o /dev/null -A "$UA" -e "$REF" "$(sy_url '/hello?a=1')"
sy_curl -o /dev/null -A "$UA" "$(sy_url '/sleep?ms=150')"
sy_curl -o /dev/null -A "$UA" --data-binary 'abc' "$(sy_url /hash)"
sy_curl -o /dev/null -A "$UA" "$(sy_url /nope)"
# A pool job that waits for the only thread, busy for 1000 ms, then, on
# the same keep-alive connection, a loop request: its queue wait is its
# own (0). How long the second waited depends on when it arrived, which a
# loaded machine decides: t_sent and t_both bound it from outside (the
# first was sent after t_sent, so the thread is busy until at least
# t_sent + 1000 ms; the second was in by t_both).
t_sent=$(now_ms)
sy_curl -o /dev/null "$(sy_url '/sleep?ms=1000&first=1')" &
bg=$!
# Once the server has it, the next job queues behind it (FIFO).
wait_for '[ "$(sy_in_flight)" -ge 1 ]' 5
sy_curl -o /dev/null -o /dev/null -A keepalive "$(sy_url '/sleep?ms=10&second=1')" \
    "$(sy_url '/hello?after=pool')" &
bg2=$!
wait_for '[ "$(sy_in_flight)" -ge 2 ]' 5
t_both=$(now_ms)
wait "$bg" "$bg2"
# The least the second can have waited, in seconds (0 if the machine
# was so slow that it says nothing); 20 ms for reading and parsing it.
qw_min=$(awk -v a="$t_sent" -v b="$t_both" \
    'BEGIN { m = (1000 - (b - a) - 20) / 1000; printf "%.3f", m > 0 ? m : 0 }')
t_last=$(now_ms)

# Flushed within about a second, no traffic meanwhile.
if wait_for '[ "$(grep -c . "$alog" 2>/dev/null)" -ge 7 ]' 3; then
	waited=$(($(now_ms) - t_last))
	check "flush: the 7 lines are in the file $waited ms after the last answer (<= 1500)" \
	    [ "$waited" -le 1500 ]
else
	fail "flush: the access log has $(grep -c . "$alog" 2>/dev/null) of 7 lines 3 s after the last answer"
fi
sed 's/^/#   /' "$alog"

# One regular expression for every line: combined + 5 fields.
re='^([0-9a-f:.]+) - - \[([0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4})\] "([A-Z]+) ([^ "]+) HTTP/1\.([01])" ([0-9]{3}) ([0-9]+) "([^"]*)" "([^"]*)" ([0-9]+\.[0-9]{3}) (loop|pool|offload) ([0-9]+\.[0-9]{3}) ([0-9]+) ([0-9a-z]{26})$'
# fields TARGET: parse the line of TARGET into F_* (1 if none or it
# does not match).
fields() {
	local line
	line=$(grep -F "\"$1 HTTP/1.1\"" "$alog" | head -1)
	F_LINE=$line
	[[ $line =~ $re ]] || return 1
	F_HOST=${BASH_REMATCH[1]} F_TIME=${BASH_REMATCH[2]}
	F_METHOD=${BASH_REMATCH[3]} F_TARGET=${BASH_REMATCH[4]}
	F_STATUS=${BASH_REMATCH[6]} F_BYTES=${BASH_REMATCH[7]}
	F_REF=${BASH_REMATCH[8]} F_UA=${BASH_REMATCH[9]} F_RT=${BASH_REMATCH[10]}
	F_MODE=${BASH_REMATCH[11]} F_QW=${BASH_REMATCH[12]} F_PID=${BASH_REMATCH[13]}
	F_ID=${BASH_REMATCH[14]}
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

n=$(grep -c . "$alog")
nmatch=0
while IFS= read -r line; do
	[[ $line =~ $re ]] && nmatch=$((nmatch + 1))
done <"$alog"
check "access log: all $n lines match the format ($nmatch)" [ "$nmatch" = "$n" ]
check "access log: the 7 request ids, all generated, are distinct" \
    [ "$(awk '{ print $NF }' "$alog" | sort -u | grep -c .)" = "$n" ]
check "access log: the client field is the bare host, as in the combined format" \
    eval '! grep -qE "^[^ ]*:[0-9]+ - - " "$alog"'
now_s=$(date +%s)

if fields "GET /hello?a=1"; then
	ok "loop: the /hello line parses"
	check "loop: client 127.0.0.1, GET /hello?a=1 HTTP/1.1, 200, 25 bytes ($F_HOST $F_METHOD $F_TARGET $F_STATUS $F_BYTES)" \
	    eval '[ "$F_HOST" = 127.0.0.1 ] && [ "$F_METHOD" = GET ] && [ "$F_STATUS" = 200 ] && [ "$F_BYTES" = 25 ]'
	check "loop: referer and user agent, the quote escaped ($F_REF | $F_UA)" \
	    eval '[ "$F_REF" = "$REF" ] && [ "$F_UA" = "$UA_LOGGED" ]'
	check "loop: mode \"loop\", queue wait 0.000 ($F_MODE $F_QW)" \
	    eval '[ "$F_MODE" = loop ] && [ "$F_QW" = 0.000 ]'
	check "loop: request time $F_RT < 0.100 s" le "$F_RT" 0.099
	check "loop: pid $F_PID is the live worker $worker" \
	    eval '[ "$F_PID" = "$worker" ] && live "$F_PID"'
	t=$(date -d "$(echo "$F_TIME" | sed -E 's|^([0-9]+)/([A-Za-z]+)/([0-9]+):([0-9:]+) |\1 \2 \3 \4 |')" +%s 2>/dev/null)
	check "loop: the time [$F_TIME] is now (within 30 s)" \
	    eval '[ -n "$t" ] && [ $((now_s - t)) -ge -2 ] && [ $((now_s - t)) -le 30 ]'
else
	fail "loop: the /hello line does not parse: $F_LINE"
fi
if fields "GET /sleep?ms=150"; then
	check "pool: blocking sleep: 200, mode \"pool\" ($F_STATUS $F_MODE)" \
	    eval '[ "$F_STATUS" = 200 ] && [ "$F_MODE" = pool ]'
	check "pool: request time $F_RT >= 0.150 s, queue wait $F_QW < 0.100 (the thread was free)" \
	    eval 'ge "$F_RT" 0.150 && le "$F_QW" 0.099'
	check "pool: no referer (\"-\"), the agent ($F_REF | $F_UA)" \
	    eval '[ "$F_REF" = - ] && [ "$F_UA" = "$UA_LOGGED" ]'
	check "pool: pid $F_PID is the live worker" eval '[ "$F_PID" = "$worker" ] && live "$F_PID"'
else
	fail "pool: the /sleep line does not parse: $F_LINE"
fi
if fields "POST /hash"; then
	check "offload: hash_body POST: 200, mode \"offload\", 87 bytes ($F_STATUS $F_MODE $F_BYTES)" \
	    eval '[ "$F_METHOD" = POST ] && [ "$F_STATUS" = 200 ] && [ "$F_MODE" = offload ] && [ "$F_BYTES" = 87 ]'
	check "offload: queue wait $F_QW < 0.100, pid $F_PID the live worker" \
	    eval 'le "$F_QW" 0.099 && [ "$F_PID" = "$worker" ] && live "$F_PID"'
else
	fail "offload: the /hash line does not parse: $F_LINE"
fi
if fields "GET /nope"; then
	check "no route: 404 on the loop, queue wait 0.000 ($F_STATUS $F_MODE $F_QW)" \
	    eval '[ "$F_STATUS" = 404 ] && [ "$F_MODE" = loop ] && [ "$F_QW" = 0.000 ]'
else
	fail "no route: the /nope line does not parse: $F_LINE"
fi
if fields "GET /sleep?ms=10&second=1"; then
	check "pool: a job that waited for the only thread logs its queue wait ($F_QW: > 0, >= $qw_min, <= its time $F_RT)" \
	    eval '[ "$F_MODE" = pool ] && [ "$F_QW" != 0.000 ] && ge "$F_QW" "$qw_min" && ge "$F_RT" "$F_QW"'
	# curl sends it on the same keep-alive connection, after the job.
	if fields "GET /hello?after=pool"; then
		check "keep-alive: /hello after that job: loop, queue wait 0.000, not the job's ($F_MODE $F_QW)" \
		    eval '[ "$F_MODE" = loop ] && [ "$F_QW" = 0.000 ]'
	else
		fail "keep-alive: the /hello?after=pool line does not parse: $F_LINE"
	fi
else
	fail "pool: the waiting /sleep line does not parse: $F_LINE"
fi
check "error log (no JOURNAL_STREAM): every line is timestamped, no <N> prefix" \
    eval '! grep -vE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+ switchyard\[[0-9]+\] " "$SY_LOG" | grep -q . &&
    ! grep -q "^<[0-9]>" "$SY_LOG"'
sy_stop

# ============================================================================
# (c) JOURNAL_STREAM: <N> prefixes on stderr
# ============================================================================
jconf='{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 1,
  "queue_limit": 1,
  "loop_block_warn_ms": 100,
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/block", "handler": "sleep", "mode": "nonblocking", "args": {"ms": 150}},
    {"path": "/auto", "handler": "sleep", "mode": "auto", "args": {"ms": 150}},
    {"path": "/slow", "handler": "sleep", "mode": "blocking", "args": {"ms": 400}}
  ]
}'
# journald names its stream "device:inode"; the server's stderr will be the
# next log file sy_start makes (redirecting into it keeps the inode).
jlog=$SY_TMP/server.$((SY_NSTART + 1)).log
: >"$jlog"
export JOURNAL_STREAM=$(stat -c '%d:%i' "$jlog")
sy_start "$jconf"
rc=$?
unset JOURNAL_STREAM
[ "$rc" = 0 ] || exit 1
jworker=$(pgrep -P "$SY_PID" | head -1)

# nj ERE: lines of the log matching ERE.
nj() {
	grep -Ec -- "$1" "$SY_LOG"
}

# A blocked loop (nonblocking sleep).
code=$(sy_get_status /block)
check "journal: /block answered ($code)" [ "$code" = 200 ]
blocked='^<4>worker 0: warning: route /block \(handler sleep\) blocked the event loop for [0-9]+ ms; every connection of this worker waited: mark the route "mode": "blocking" to run it in the thread pool \(request [0-9a-z]{26}\)$'
check "journal: the blocked loop is one <4> warning line" wait_for '[ "$(nj "$blocked")" = 1 ]' 3
# A promotion, once: the second call runs in the pool.
sy_get_status /auto >/dev/null
sy_get_status /auto >/dev/null
promoted='^<4>worker 0: warning: route /auto \(handler sleep, mode auto\) blocked the event loop for [0-9]+ ms: moved to the thread pool in this worker \(request [0-9a-z]{26}\)$'
check "journal: the promotion is one <4> warning line" wait_for '[ "$(nj "$promoted")" = 1 ]' 3
check "journal: no \"blocked ... mark the route\" line for /auto" [ "$(nj 'route /auto \(handler sleep\) blocked')" = 0 ]
# A 503: 1 thread, 1 queue place, 3 at once.
dir=$SY_TMP/j503
mkdir -p "$dir"
curl -sS --no-progress-meter -Z --parallel-immediate --parallel-max 3 --max-time 10 \
    -o /dev/null -w '%{http_code}\n' "$(sy_url '/slow?n=[1-3]')" >"$dir/codes" 2>"$dir/err"
check "journal: one of 3 concurrent /slow refused ($(sort "$dir/codes" | uniq -c | tr '\n' ' '))" \
    [ "$(grep -c '^503$' "$dir/codes")" = 1 ]
refused='^<4>worker 0: warning: route /slow: request refused with 503: the thread pool queue is full \(threads, queue_limit\) \(request [0-9a-z]{26}\)$'
check "journal: the 503 is one <4> warning line" wait_for '[ "$(nj "$refused")" = 1 ]' 3
# A reload.
kill -HUP "$SY_PID"
ready='^<6>master: info: reload: generation 2 ready [0-9]+ ms after HUP \(1 workers\); draining the previous generation$'
check "journal: the reload is one <6> info line" wait_for '[ "$(nj "$ready")" = 1 ]' 10
check "journal: ... after one \"reload: reading\" line" [ "$(nj "^<6>master: info: reload: reading $SY_CONF\$")" = 1 ]
check "journal: the old worker $jworker exits" wait_for "! ours $jworker" 10
# A respawn.
victim=
wait_for 'victim=$(pgrep -P "$SY_PID" | head -1); [ -n "$victim" ] && ours "$victim"' 5
nstart=$(nj '^<6>master: info: worker 0 started, pid [0-9]+, generation 2$')
kill -KILL "$victim"
killed="^<3>master: error: worker 0 \\(pid $victim\\) killed by signal 9 \\(Killed\\)\$"
check "journal: the death is one <3> error line" wait_for '[ "$(nj "$killed")" = 1 ]' 5
check "journal: the respawn is one <6> info line" \
    wait_for '[ "$(nj "^<6>master: info: worker 0 started, pid [0-9]+, generation 2\$")" = $((nstart + 1)) ]' 5
check_hello "journal: after the respawn"

# Every line: <N>role: level: text, N matching the level; no timestamp.
bad=$(grep -vE '^<(3>[^:]+: error|4>[^:]+: warning|6>[^:]+: info|7>[^:]+: debug): [[:print:]]+$' "$SY_LOG")
check "journal: every line is <N>role: level: message, N the level's priority" [ -z "$bad" ]
[ -z "$bad" ] || printf '%s\n' "$bad" | head -10 | sed 's/^/#   /'
check "journal: no line carries a timestamp" eval '! grep -Eq "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:" "$SY_LOG"'
check "journal: info lines are <6> ($(nj '^<6>')), warnings <4> ($(nj '^<4>')), errors <3> ($(nj '^<3>'))" \
    eval '[ "$(nj "^<6>")" -ge 5 ] && [ "$(nj "^<4>")" = 3 ] && [ "$(nj "^<3>")" = 1 ]'
info "journal: the log:"
sed 's/^/#   /' "$SY_LOG"
sy_stop TERM 0
check "journal: the stop is logged <6> too" grep -q '^<6>master: info: stopped$' "$SY_LOG"
# sy_check_log does not know the <N> form: errors are checked here.
check "journal: no error line but the kill's" [ "$(nj '^<3>')" = 1 ]
check "journal: no sanitizer report" eval '! grep -Eq "runtime error:|AddressSanitizer|LeakSanitizer" "$SY_LOG"'

# ============================================================================
# JOURNAL_STREAM with error_log a file: the file has the usual form
# ============================================================================
elog=$SY_TMP/error.log
SY_CONF=$SY_TMP/switchyard.efile.json
printf '%s\n' "${jconf/\"workers\": 1,/\"workers\": 1, \"error_log\": \"$elog\",}" |
    sed "s/@PORT@/$SY_PORT/" >"$SY_CONF"
JOURNAL_STREAM=1:1 "$SY_BIN" -c "$SY_CONF" >"$SY_TMP/efile.stderr" 2>&1 </dev/null &
SY_PID=$!
SY_LOG=$elog
SY_LOGS+=("$SY_TMP/efile.stderr")
if wait_for 'grep -q " info: ready: 1 workers" "$elog" 2>/dev/null && sy_port_open 127.0.0.1 $SY_PORT' 10; then
	sy_get_status /block >/dev/null
	check "error_log file: the blocked-loop warning lands in it, timestamped" \
	    wait_for 'grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+ switchyard\[[0-9]+\] worker 0: warning: route /block \(handler sleep\) blocked the event loop" "$elog"' 3
	check "error_log file: no <N> prefix in it although JOURNAL_STREAM is set" \
	    eval '! grep -q "^<" "$elog"'
	sy_stop TERM 0
	check "error_log file: nothing on stderr" eval '! grep -q . "$SY_TMP/efile.stderr"'
else
	fail "error_log file: the server did not start"
	sed 's/^/#   /' "$elog" "$SY_TMP/efile.stderr" 2>/dev/null
	sy_kill
fi

# ============================================================================
# (d) the access log on stderr, its reader stopped: the loop never waits
# ============================================================================
# stderr is a FIFO whose reader (cat) is stopped with SIGSTOP: once the
# pipe (64 KiB) and the worker's buffer (64 KiB) are full, a blocking
# write would freeze the loop until the watchdog (worker_timeout_ms 2000)
# killed the worker. (1000 was too short for ThreadSanitizer on a loaded
# machine: a starved loop, not a blocked one, got killed.) The error log is a file, so this test can read it.
fifo=$SY_TMP/stderr.fifo
sout=$SY_TMP/stderr.out
selog=$SY_TMP/stall.error.log
mkfifo "$fifo" || exit 99
cat "$fifo" >"$sout" &
reader=$!
# resume_reader: never leave it stopped (it would keep the FIFO open).
resume_reader() {
	kill -CONT "$reader" 2>/dev/null
}
SY_CONF=$SY_TMP/switchyard.stall.json
sed "s/@PORT@/$SY_PORT/" >"$SY_CONF" <<CONF
{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "worker_timeout_ms": 2000,
  "access_log": "stderr",
  "error_log": "$selog",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/metrics", "handler": "metrics"}
  ]
}
CONF
"$SY_BIN" -c "$SY_CONF" 2>"$fifo" >/dev/null </dev/null &
SY_PID=$!
SY_LOG=$selog
SY_LOGS+=("$sout")
if ! wait_for 'grep -q " info: ready: 1 workers" "$selog" 2>/dev/null && sy_port_open 127.0.0.1 $SY_PORT' 10; then
	fail "stalled reader: the server did not start"
	sed 's/^/#   /' "$selog" "$sout" 2>/dev/null
	sy_kill
	kill "$reader" 2>/dev/null
	exit 1
fi
sworker=$(sy_worker_pids)
# metric NAME: its value for worker 0.
metric() {
	sy_curl "$(sy_url /metrics)" | sed -n "s/^switchyard_$1{worker=\"0\"[^}]*} \\([0-9.e+-]*\\)\$/\\1/p" | head -1
}
sy_get_status '/hello?before=stall' >/dev/null
check "stalled reader: lines reach the reader on stderr" \
    wait_for 'grep -q "GET /hello?before=stall " "$sout"' 3

kill -STOP "$reader"
out=$SY_TMP/ab.stall
timeout 60 ab -k -n 4000 -c 8 -s 5 "$(sy_url '/hello?stalled=1')" >"$out" 2>&1
check "stalled reader: ab -k -n 4000 completes, no request failed" \
    eval 'grep -Eq "^Complete requests: +4000$" "$out" && grep -Eq "^Failed requests: +0$" "$out"'
grep -E '^(Requests per second|Time taken)' "$out" | sed 's/^/# ab: /'
dropped=$(metric access_log_dropped_total)
check "stalled reader: the pipe and the buffer are full: lines dropped (${dropped:-?} > 0)" \
    [ "${dropped:-0}" -gt 0 ]
# Two watchdog periods and more with the pipe full: the periodic flush
# and every request meet EAGAIN, and /hello answers each time at once.
t0=$(now_ms)
n=0 slow=0 bad=0
while [ $(($(now_ms) - t0)) -lt 4500 ]; do
	t1=$(now_ms)
	code=$(SY_CURL_TIMEOUT=2 sy_get_status '/hello?probe=1')
	[ "$code" = 200 ] || bad=$((bad + 1))
	[ $(($(now_ms) - t1)) -lt 500 ] || slow=$((slow + 1))
	n=$((n + 1))
done
# How long a probe takes is curl's start as much as the server's answer
# on a loaded machine: the loop's own lag, below, is what must stay low.
info "stalled reader: $slow of $n probes took 500 ms or more"
check "stalled reader: $n probes over 4.5 s: all 200 within curl's 2 s ($bad not)" \
    [ "$bad" = 0 ]
check "stalled reader: still the same worker $sworker, not killed by the watchdog" \
    eval '[ "$(sy_worker_pids)" = "$sworker" ] && ours "$sworker" && ! grep -q "killed" "$selog"'
lagmax=$(metric loop_lag_max_seconds)
check "stalled reader: the loop never lagged half a watchdog period (max ${lagmax:-?} s < 1.0)" \
    awk -v l="${lagmax:-9}" 'BEGIN { exit !(l + 0 < 1.0) }'
check "stalled reader: no dropped notice while the reader is stopped" \
    eval '! grep -q "access log lines" "$selog"'

resume_reader
notice='worker 0: warning: dropped [0-9]+ access log lines: stderr was not writable$'
check "stalled reader: resumed: the error log says how many lines were dropped" \
    wait_for 'grep -Eq "$notice" "$selog"' 5
grep -E "$notice" "$selog" | sed 's/^/#   /'
# told_dropped: the total the notices tell.
told_dropped() {
	grep -E "$notice" "$selog" | sed -E 's/.*dropped ([0-9]+) access.*/\1/' |
	    awk '{ n += $1 } END { print n + 0 }'
}
check "stalled reader: the notices add up to switchyard_access_log_dropped_total" \
    wait_for '[ "$(told_dropped)" = "$(metric access_log_dropped_total)" ]' 5
check "stalled reader: lines logged after the stall reach the reader" \
    eval 'sy_get_status "/hello?after=stall" >/dev/null; wait_for "grep -q \"GET /hello?after=stall \" \"$sout\"" 3'
# Whole lines only: nothing interleaved or cut, every line in the format.
nbad=$(grep -cvE "$re" "$sout")
check "stalled reader: every line the reader got is whole ($(grep -c . "$sout") lines, $nbad not)" \
    [ "$nbad" = 0 ]
sy_stop TERM 0
check "stalled reader: the reader sees EOF once the server is gone" \
    wait_for "! kill -0 $reader 2>/dev/null" 5
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
