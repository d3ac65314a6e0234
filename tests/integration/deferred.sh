#!/bin/bash
# deferred.sh - "deferred": true on a listener (TCP_DEFER_ACCEPT): the
# kernel hands a connection to a worker only once it has sent bytes.
#
#  (a) a connection that sends nothing to the deferred listener is never
#      accepted while requests on it are served; the same silence on a
#      plain listener of the same server is accepted (the control, so the
#      count can tell the two apart);
#  (b) the silent connection is still served once it sends its request;
#  (c) a reload that turns it off makes the socket accept silent
#      connections again.
. "$(dirname "$0")/lib.sh"

# accepted: connections_accepted_total over the slots, as /metrics on the
# plain listener says (that scrape is one of them).
accepted() {
	curl -sS --max-time 10 "http://127.0.0.1:$PLAIN/metrics" |
	    awk '/^switchyard_connections_accepted_total/ { n += $2 }
	        END { print n + 0 }'
}
hello_on() {
	curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$1/hello" 2>/dev/null || true
}

sy_pick_port
PLAIN=$SY_PORT
SY_PORT=
sy_pick_port
DEFERRED=$SY_PORT
# header_ms 30 s: the deferral (rounded up to seconds) outlasts the test.
config() {
	printf '{
  "listen": ["127.0.0.1:%s", {"address": "127.0.0.1:%s", "deferred": %s}],
  "workers": 1,
  "log_level": "info",
  "access_log": "off",
  "timeouts": {"header_ms": 30000},
  "routes": [
    {"path": "/hello", "handler": "hello", "mode": "nonblocking"},
    {"path": "/metrics", "handler": "metrics"}
  ]
}\n' "$PLAIN" "$DEFERRED" "$1"
}
sy_start "$(config true)" || exit 1

# probe PORT WHAT: a silent connection to PORT (its descriptor in
# SILENT), then a request on PORT; DELTA is what the accepted count grew
# by: the request and the scrape after it, and the silent connection if a
# worker got it. 1 worker, one socket per address, and an accept queue is
# FIFO: one accepted at all is accepted before the request after it.
probe() {
	local before
	before=$(accepted)
	exec {SILENT}<>"/dev/tcp/127.0.0.1/$1"
	check "$2: a request is answered" [ "$(hello_on "$1")" = 200 ]
	DELTA=$(($(accepted) - before))
}

# (a)
probe "$DEFERRED" "deferred listener"
silent=$SILENT
check "the silent connection was not accepted (the count grew by $DELTA: the request and the scrape)" \
    [ "$DELTA" -eq 2 ]
probe "$PLAIN" "plain listener"
check "control: a silent connection to the plain listener was accepted (grew by $DELTA)" \
    [ "$DELTA" -eq 3 ]
exec {SILENT}>&-

# (b)
printf 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&"$silent"
line=
IFS= read -r -t 10 line <&"$silent" || true
check "the silent connection is served once it speaks ($line)" \
    [ "${line%$'\r'}" = "HTTP/1.1 200 OK" ]
exec {silent}>&-

# (c) a reload: the new worker clears TCP_DEFER_ACCEPT on its socket.
old=$(sy_worker_pids | head -1)
printf '%s\n' "$(config false)" >"$SY_CONF.new" && mv "$SY_CONF.new" "$SY_CONF"
kill -HUP "$SY_PID"
check "the reload's new worker replaces pid $old" \
    wait_for "grep -q '(pid $old, generation [0-9]*) ' '$SY_LOG'" 30
probe "$DEFERRED" "after the reload"
check "after the reload, a silent connection to it is accepted (grew by $DELTA)" \
    [ "$DELTA" -eq 3 ]
exec {SILENT}>&-
sy_stop
