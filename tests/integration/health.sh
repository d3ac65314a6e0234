#!/bin/bash
# health.sh - the "health" handler and timeouts.drain_delay_ms.
#  (a) serving: GET and HEAD /health answer 200 {"status":"ok"} as
#      application/json, Cache-Control: no-store; /status says
#      "draining": false.
#  (b) a reload does not flip it: /health answers 200 on new connections
#      all through a HUP, and on a keep-alive connection held on an old
#      worker while that worker drains (its answer carries Connection:
#      close); /status still says false. A TERM with drain_delay_ms 0
#      stops at once.
#  (c) TERM with drain_delay_ms 3000 and shutdown_ms 1000: /health turns
#      503 {"status":"draining"} (no Retry-After) within a few hundred ms
#      while /hello still answers 200 on new connections and on a
#      keep-alive one (no Connection: close) for the delay; /status says
#      true; the delay lasts 3000 ms by the log, the workers drain only
#      after it (then Connection: close), an idle keep-alive connection
#      is closed at shutdown_ms counted from the end of the delay (not
#      from the TERM), nobody is killed, and the master exits 0. With
#      libsystemd: STOPPING=1 at the TERM, then STATUS= saying
#      "draining", and no READY=1 after it.
#  (d) QUIT starts the delay as TERM does; a HUP during it is ignored
#      (no new generation); a second TERM ends it at once.
#  (e) INT skips the delay: the master exits promptly.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"

# conf DELAY_MS SHUTDOWN_MS: two workers; keep-alive connections stay open
# far longer than the test, so only the drain closes them.
conf() {
	printf '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  "access_log": "off",
  "timeouts": {"drain_delay_ms": %s, "shutdown_ms": %s,
               "keepalive_ms": 60000},
  "routes": [
    {"path": "/health", "handler": "health"},
    {"path": "/hello", "handler": "hello"},
    {"path": "/status", "handler": "status"}
  ]
}' "$1" "$2"
}

# ka_get FD PATH [METHOD]: one request on the open connection FD; sets R_*.
ka_get() {
	local mode=
	[ "${3:-GET}" = HEAD ] && mode=nobody
	sy_send "$1" "${3:-GET} $2 HTTP/1.1\r\nHost: t\r\n\r\n"
	sy_read_resp "$1" 5 $mode
}

# status_draining: what /status says of server.draining (true, false).
status_draining() {
	sy_curl "$(sy_url /status)" | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin)["server"].get("draining")))' 2>&1
}

# log_ms ERE: the time of the first log line matching ERE, in ms of the day.
log_ms() {
	grep -E -m1 -- "$1" "$SY_LOG" |
	    sed -n 's/^[0-9-]*T\([0-9]*\):\([0-9]*\):\([0-9.]*\) .*/\1 \2 \3/p' |
	    awk '{ printf "%d\n", (($1 * 60 + $2) * 60 + $3) * 1000 + 0.5 }'
}

# since T0: milliseconds from T0 (now_ms) to now.
since() {
	echo $(($(now_ms) - $1))
}

# -- (a) serving ---------------------------------------------------------------
sy_start "$(conf 0 30000)" || exit 1
sy_open ka || exit 1
ka_get "$ka" /health
check "GET /health: 200 {\"status\":\"ok\"} ($R_STATUS $R_BODY $R_ERR)" \
    [ "$R_STATUS" = 200 -a "$R_BODY" = '{"status":"ok"}' ]
check "... as application/json" [ "$(hdr content-type)" = application/json ]
check "... with Cache-Control: no-store" [ "$(hdr cache-control)" = no-store ]
ka_get "$ka" /health HEAD
check "HEAD /health: 200 ($R_STATUS $R_ERR)" [ "$R_STATUS" = 200 ]
check "/status: \"draining\": false" [ "$(status_draining)" = false ]

# -- (b) a reload does not flip it ------------------------------------------
# ka stays on a worker of generation 1, which drains once generation 2
# is ready; new connections sample /health from the HUP on.
kill -HUP "$SY_PID"
t0=$(now_ms)
codes=
while [ "$(since "$t0")" -lt 10000 ]; do
	codes+="$(sy_get_status /health) "
	grep -q ' master: info: reload: generation 2 ready ' "$SY_LOG" &&
	    [ "$(echo $codes | wc -w)" -ge 5 ] && break
done
check "HUP: generation 2 ready" \
    grep -q ' master: info: reload: generation 2 ready ' "$SY_LOG"
check "HUP: /health answered 200 on every new connection through the reload ($(echo $codes | wc -w) requests: $(echo $codes | tr ' ' '\n' | sort | uniq -c | tr '\n' ' '))" \
    eval '[ -z "$(echo $codes | tr " " "\n" | grep -vx 200)" ]'
ka_get "$ka" /health
check "HUP: on a keep-alive connection of a draining old worker, /health still 200 ($R_STATUS $R_BODY $R_ERR)" \
    [ "$R_STATUS" = 200 -a "$R_BODY" = '{"status":"ok"}' ]
check "... and that worker is draining: Connection: close" \
    [ "$(hdr connection)" = close ]
sy_close "$ka"
check "HUP: /status still says \"draining\": false" \
    [ "$(status_draining)" = false ]
t0=$(now_ms)
sy_stop TERM 0 5
check "TERM with drain_delay_ms 0: stopped at once ($(since "$t0") ms), no delay logged" \
    eval '! grep -q "after drain_delay_ms" "$SY_LOG"'

# -- (c) TERM with drain_delay_ms ----------------------------------------------
NL_PID=
msgs=$SY_TMP/notify.out
if ldd "$SY_BIN" 2>/dev/null | grep -q libsystemd; then
	sock=$SY_TMP/notify.sock
	python3 "$SY_SRCDIR/tests/tools/notify_listen.py" "$sock" "$msgs" \
	    2>"$SY_TMP/notify.err" &
	NL_PID=$!
	trap 'rc=$?; [ -n "$NL_PID" ] && kill "$NL_PID" 2>/dev/null; sy_cleanup $rc' EXIT
	if ! wait_for 'grep -q "^listening$" "$msgs" 2>/dev/null && [ -S "$sock" ]' 10
	then
		fail "the notify listener did not start"
		cat "$SY_TMP/notify.err"
		exit 1
	fi
	NOTIFY_SOCKET=$sock sy_start "$(conf 3000 1000)" || exit 1
else
	info "built without libsystemd: STATUS= is not checked"
	sy_start "$(conf 3000 1000)" || exit 1
fi
# datagrams: every datagram so far, without receipt times, one a line.
datagrams() {
	sed -n '2,$p' "$msgs" 2>/dev/null | cut -d' ' -f2-
}
[ -n "$NL_PID" ] && wait_for '[ "$(datagrams | grep -c ^READY=1)" -ge 1 ]' 10

sy_open ka2 && sy_open ka3 || exit 1
ka_get "$ka2" /hello
check "before TERM: keep-alive /hello 200 ($R_STATUS $R_ERR)" [ "$R_STATUS" = 200 ]
ka_get "$ka3" /hello	# then left idle: only the drain closes it
check "before TERM: a second keep-alive connection ($R_STATUS $R_ERR)" [ "$R_STATUS" = 200 ]

# over: the master has logged the end of the delay (before it tells the
# workers): an answer read while this fails came during the delay.
over() {
	grep -q " master: info: drain_delay_ms is over$" "$SY_LOG"
}

t0=$(now_ms)
kill -TERM "$SY_PID"
wait_for '[ "$(sy_get_status /health)" = 503 ]' 5
t503=$(since "$t0")
check "TERM: /health answers 503 within a few hundred ms (${t503} ms < 700)" \
    [ "$t503" -lt 700 ]
ka_get "$ka2" /hello
check "during the delay ($(since "$t0") ms): keep-alive /hello 200 ($R_STATUS $R_ERR)" \
    eval '[ "$R_STATUS" = 200 ] && ! over'
check "... and the connection stays open (no Connection: close: not draining yet)" \
    [ "$(hdr connection)" != close ]
ka_get "$ka2" /health
check "TERM: /health on that keep-alive connection: 503 too ($R_STATUS)" \
    [ "$R_STATUS" = 503 ]
sy_open h || exit 1
ka_get "$h" /health
sy_close "$h"
check "... {\"status\":\"draining\"} ($R_STATUS $R_BODY $R_ERR)" \
    [ "$R_STATUS" = 503 -a "$R_BODY" = '{"status":"draining"}' ]
check "... without Retry-After, with Cache-Control: no-store" \
    [ -z "$(hdr retry-after)" -a "$(hdr cache-control)" = no-store ]
check "TERM: /status says \"draining\": true" [ "$(status_draining)" = true ]

# New connections until 2000 ms after the TERM, well inside the delay
# (at least one, however slow the checks above were).
n=0
bad=
while :; do
	code=$(sy_get_status /hello)
	n=$((n + 1))
	[ "$code" = 200 ] || bad+="$code at $(since "$t0") ms; "
	[ "$(since "$t0")" -ge 2000 ] && break
done
check "during the delay: /hello 200 on all $n new connections up to 2000 ms after TERM${bad:+ (not: $bad)}" \
    eval '[ -z "$bad" ] && [ "$n" -ge 1 ] && ! over'

check "the delay ends" wait_for over 5
d=$(($(log_ms ' master: info: drain_delay_ms is over$') -
    $(log_ms ' master: info: graceful: health answers 503; stopping 2 workers after drain_delay_ms \(3000 ms\)$')))
check "the delay lasted drain_delay_ms by the log (${d} ms; 2990 <= d < 3500)" \
    [ "$d" -ge 2990 -a "$d" -lt 3500 ]
check "then the workers drain: both say so" \
    wait_for '[ "$(grep -c " info: draining (TERM)" "$SY_LOG")" = 2 ]' 5
check "... not before the end of the delay" \
    [ "$(log_ms ' info: draining \(TERM\)')" -ge "$(log_ms ' master: info: drain_delay_ms is over$')" ]
ka_get "$ka2" /hello
check "after the delay: keep-alive /hello 200 ($R_STATUS $R_ERR)" \
    [ "$R_STATUS" = 200 ]
check "... with Connection: close" [ "$(hdr connection)" = close ]
sy_close "$ka2"
# ka3 sat idle: its worker closes it shutdown_ms (1000) after its own
# TERM, which came at the end of the delay: >= 4000 ms after ours.
sy_expect_eof "$ka3" 10
rc=$?
te=$(since "$t0")
check "the idle keep-alive connection is closed by the drain (sy_expect_eof $rc)" \
    [ "$rc" = 0 ]
check "... at shutdown_ms after the delay, not after the TERM (${te} ms >= 3900)" \
    [ "$te" -ge 3900 ]
sy_close "$ka3"
sy_stop - 0 10
check "after the drain: exit 0, nobody killed" \
    eval '[ "$SY_STATUS" = 0 ] && ! grep -q "killing them" "$SY_LOG"'

if [ -n "$NL_PID" ]; then
	kill "$NL_PID"
	wait "$NL_PID"
	NL_PID=
	info "datagrams: $(datagrams | tr '\n' ';')"
	check "sd_notify: READY=1, STOPPING=1, then STATUS=draining..., nothing else" \
	    eval '[ "$(datagrams | sed -n 2,\$p)" = "STOPPING=1
STATUS=draining (health answers 503); generation 1, 2 workers" ]'
	check "sd_notify: READY=1 came first" \
	    eval 'datagrams | head -1 | grep -q "^READY=1|STATUS=generation 1, 2 workers$"'
fi

# -- (d) QUIT, a HUP during the delay, a second TERM -----------------------
sy_start "$(conf 5000 30000)" || exit 1
kill -QUIT "$SY_PID"
check "QUIT: /health answers 503" \
    wait_for '[ "$(sy_get_status /health)" = 503 ]' 5
check "QUIT: the delay starts, as for TERM" \
    grep -q ' master: info: graceful: health answers 503; stopping 2 workers after drain_delay_ms (5000 ms)$' "$SY_LOG"
kill -HUP "$SY_PID"
check "HUP during the delay: ignored, and said so" \
    wait_for 'grep -q " master: info: reload: ignored: the server is stopping (drain_delay_ms)$" "$SY_LOG"' 5
check "... no new generation" \
    eval '! grep -q "started, pid [0-9]*, generation 2$" "$SY_LOG"'
check "... /hello still 200" [ "$(sy_get_status /hello)" = 200 ]
t0=$(now_ms)
kill -TERM "$SY_PID"
if sy_wait_exit "$SY_PID" 3; then
	ok "a second TERM ends the delay: the master exits $(since "$t0") ms later (delay 5000)"
else
	fail "a second TERM did not end the delay: master still running 3 s later"
fi
check "... and says so" \
    grep -q ' master: info: TERM again during drain_delay_ms: stopping now$' "$SY_LOG"
sy_stop - 0 5

# -- (e) INT skips the delay ---------------------------------------------------
sy_start "$(conf 5000 30000)" || exit 1
t0=$(now_ms)
kill -INT "$SY_PID"
if sy_wait_exit "$SY_PID" 3; then
	ok "INT: the master exits $(since "$t0") ms later, without the 5000 ms delay"
else
	fail "INT: master still running 3 s later (drain_delay_ms 5000)"
fi
check "INT: no delay logged" eval '! grep -q "after drain_delay_ms" "$SY_LOG"'
sy_stop - 0 5
