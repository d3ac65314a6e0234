#!/bin/bash
# drain.sh - what a draining worker still does: a keep-alive client that
# sends one more request after a reload gets it served (pool and offload
# routes included: the pool keeps taking jobs while draining), with
# Connection: close; and signals sent while a new generation starts (USR1
# for log rotation) do not kill its workers.
. "$(dirname "$0")/lib.sh"

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/ping", "handler": "sleep", "mode": "blocking", "args": {"ms": 10}},
    {"path": "/hash", "handler": "hash_body", "methods": ["POST"]}
  ]
}' || exit 1

ready_lines() {
	grep -c ' master: info: reload: generation [0-9]* ready ' "$SY_LOG"
}

sy_open ping && sy_open hash || exit 1
sy_send "$ping" 'GET /ping HTTP/1.1\r\nHost: t\r\n\r\n'
sy_read_resp "$ping" 5
check "before the reload: blocking route 200 ($R_STATUS $R_ERR)" [ "$R_STATUS" = 200 ]
sy_send "$hash" 'POST /hash HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc'
sy_read_resp "$hash" 5
check "before the reload: offload route 200 ($R_STATUS $R_ERR)" [ "$R_STATUS" = 200 ]

kill -HUP "$SY_PID"
check "the new generation is ready" wait_for '[ "$(ready_lines)" -ge 1 ]' 10

# The old worker drains; these connections are still its.
sy_send "$ping" 'GET /ping HTTP/1.1\r\nHost: t\r\n\r\n'
sy_read_resp "$ping" 5
check "after the reload, same connection: blocking route 200, not 503 ($R_STATUS $R_ERR)" \
    [ "$R_STATUS" = 200 ]
check "... with Connection: close" [ "$(hdr connection)" = close ]
sy_send "$hash" 'POST /hash HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc'
sy_read_resp "$hash" 5
check "after the reload, same connection: offload route 200, not 503 ($R_STATUS $R_ERR)" \
    [ "$R_STATUS" = 200 ]
check "... the right digest" \
    eval 'printf "%s" "$R_BODY" | grep -q ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
sy_close "$ping"
sy_close "$hash"

# USR1 right behind HUP, 20 times: every reload completes.
for i in $(seq 1 20); do
	before=$(ready_lines)
	kill -HUP "$SY_PID"
	kill -USR1 "$SY_PID"
	wait_for "[ \"\$(ready_lines)\" -gt $before ] || grep -q 'reload failed' '$SY_LOG'" 10
done
check "HUP + USR1 x 20: 21 generations ready ($(ready_lines) reload lines)" [ "$(ready_lines)" = 21 ]
check "HUP + USR1 x 20: no reload failed, no worker killed" \
    eval "! grep -Eq 'reload failed|killed by signal' '$SY_LOG'"
check_hello "after the reloads"
sy_stop
