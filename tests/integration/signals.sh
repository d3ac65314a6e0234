#!/bin/bash
# signals.sh - TERM drains (an in-flight request completes, exit 0), QUIT
# likewise, INT stops at once, USR1 reopens the access log after it was
# moved, HUP starts a new generation and drains the old one.
. "$(dirname "$0")/lib.sh"

command -v ss >/dev/null 2>&1 || skip_all "ss (iproute2) is not installed"

conf='{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  "access_log": ACCESS_LOG,
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/nap", "handler": "async_sleep",
     "args": {"ms": 1000, "max_ms": 10000}}
  ]
}'
H='Host: test\r\n'
conf_stderr=${conf/ACCESS_LOG/\"stderr\"}

# -- TERM (and QUIT): graceful ------------------------------------------------------
for sig in TERM QUIT; do
	sy_start "$conf_stderr" || exit 1
	sy_open fd
	t0=$(now_ms)
	# 3 s: long enough that the signal lands while it runs, however
	# slowly this machine starts processes.
	sy_send "$fd" "GET /nap?ms=3000 HTTP/1.1\r\n$H\r\n"
	if ! wait_for '[ "$(sy_in_flight)" -ge 1 ]' 5; then
		fail "$sig: the /nap request never reached a worker"
	fi
	workers=$(sy_worker_pids)
	kill -"$sig" "$SY_PID"
	sy_read_resp "$fd" 10 || fail "$sig: in-flight request: $R_ERR"
	elapsed=$(($(now_ms) - t0))
	check "$sig: the in-flight 3 s request completes: 200 \"pong\" ($R_STATUS $R_BODY)" \
	    eval '[ "$R_STATUS" = 200 ] && [ "$R_BODY" = "\"pong\"" ]'
	check "$sig: ... after its full 3 s (${elapsed} ms)" [ "$elapsed" -ge 2950 ]
	check "$sig: ... with Connection: close (draining)" [ "$(hdr connection)" = close ]
	sy_expect_eof "$fd" 5
	check "$sig: then the connection is closed (status $?)" [ $? = 0 ]
	sy_close "$fd"
	t1=$(now_ms)
	sy_stop - 0 10
	check "$sig: the master exits 0 ($SY_STATUS)" [ "$SY_STATUS" = 0 ]
	check "$sig: ... promptly once the request is done ($(($(now_ms) - t1)) ms)" \
	    [ $(($(now_ms) - t1)) -lt 3000 ]
done

# -- INT: fast stop, in-flight requests are cut ---------------------------------------
sy_start "$conf_stderr" || exit 1
sy_open fd
sy_send "$fd" "GET /nap?ms=8000 HTTP/1.1\r\n$H\r\n"
wait_for '[ "$(sy_in_flight)" -ge 1 ]' 5 ||
    fail "INT: the /nap request never reached a worker"
t0=$(now_ms)
sy_stop INT 0 5
elapsed=$(($(now_ms) - t0))
check "INT: master and workers gone in ${elapsed} ms (< 2000 ms; the request had 8 s to go)" \
    [ "$elapsed" -lt 2000 ]
sy_expect_eof "$fd" 2
check "INT: the in-flight connection is closed without an answer (status $?)" [ $? = 0 ]
sy_close "$fd"

# -- USR1: reopen the access log ----------------------------------------------------------
alog=$SY_TMP/access.log
sy_start "${conf/ACCESS_LOG/\"$alog\"}" || exit 1
workers=$(sy_worker_pids)

# log_fds_on PATH: every worker has PATH open (and not PATH.1).
log_fds_on() {
	local w
	for w in $workers; do
		ls -l "/proc/$w/fd" 2>/dev/null | grep -q " -> $1\$" || return 1
		ls -l "/proc/$w/fd" 2>/dev/null | grep -q " -> $1.1\$" && return 1
	done
	return 0
}

for i in 1 2 3 4 5 6; do
	sy_get_status "/hello?before=$i" >/dev/null
done
# Lines are buffered and flushed every second: wait for them.
check "USR1: requests are logged to $(basename "$alog")" \
    wait_for "[ \"\$(grep -c 'GET /hello?before=' '$alog' 2>/dev/null)\" = 6 ]" 5
mv "$alog" "$alog.1"
kill -USR1 "$SY_PID"
check "USR1: every worker reopens the log at its original path" \
    wait_for "log_fds_on '$alog'" 5
for i in 1 2 3 4 5 6; do
	sy_get_status "/hello?after=$i" >/dev/null
done
check "USR1: new requests go to the new file" \
    wait_for "[ \"\$(grep -c 'GET /hello?after=' '$alog' 2>/dev/null)\" = 6 ]" 5
check "USR1: ... and not to the moved one" \
    eval "! grep -q 'GET /hello?after=' '$alog.1'"
check "USR1: the moved file keeps the old lines" \
    [ "$(grep -c 'GET /hello?before=' "$alog.1")" = 6 ]
check "USR1: the new file has only the new lines" \
    eval "! grep -q 'GET /hello?before=' '$alog'"
check "USR1: same workers (a reopen, not a restart)" \
    [ "$(sy_worker_pids | tr '\n' ' ')" = "$(echo $workers) " ]

# -- HUP: a new generation takes over, the old one drains and exits -------
kill -HUP "$SY_PID"
check "HUP: the new generation is ready" \
    wait_for "grep -q 'info: reload: generation 2 ready' '$SY_LOG'" 10
for w in $workers; do
	check "HUP: old worker $w drains and exits" wait_for "! ours $w" 10
done
check "HUP: new workers started" \
    [ "$(sy_worker_pids | wc -l)" -gt "$(echo "$workers" | wc -w)" ]
check_hello "HUP"
check "HUP: the master is still running" alive "$SY_PID"
sy_stop
