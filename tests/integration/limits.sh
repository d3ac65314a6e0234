#!/bin/bash
# limits.sh - limits.max_connections: at the limit the worker stops
# accepting (the listener is paused, not polled: no busy loop), a waiting
# client is served as soon as a slot frees up.
. "$(dirname "$0")/lib.sh"

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "off",
  "timeouts": {"keepalive_ms": 20000},
  "limits": {"max_connections": 2},
  "routes": [{"path": "/hello", "handler": "hello"}]
}' || exit 1
worker=$(sy_worker_pids | head -1)
req='GET /hello HTTP/1.1\r\nHost: t\r\n\r\n'

# CPU ticks (user + system) the worker has used so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$worker/stat"
}

sy_open a && sy_open b || exit 1
for fd in "$a" "$b"; do
	sy_send "$fd" "$req"
	sy_read_resp "$fd" 5
	check "connection $fd under the limit: 200 ($R_STATUS $R_ERR)" [ "$R_STATUS" = 200 ]
done

# The third connection completes in the kernel's backlog, but the worker
# must not take it while two are open.
sy_open c || exit 1
sy_send "$c" "$req"
t0=$(cpu_ticks)
if sy_read_resp "$c" 1; then
	fail "third connection served past max_connections=2 ($R_STATUS)"
else
	ok "third connection waits while 2 are open"
fi
used=$(($(cpu_ticks) - t0))
# A listener left armed would spin the loop: ~100 ticks in that second.
check "no busy loop while accepting is paused ($used ticks in 1 s < 20)" [ "$used" -lt 20 ]

sy_close "$a"
sy_read_resp "$c" 5
check "a freed slot lets the waiting client in: 200 ($R_STATUS $R_ERR)" [ "$R_STATUS" = 200 ]
sy_send "$b" "$req"
sy_read_resp "$b" 5
check "the open connections still work: 200 ($R_STATUS)" [ "$R_STATUS" = 200 ]
sy_close "$b"
sy_close "$c"
check_hello "after the limit"
sy_stop

# Out of descriptors (EMFILE): accepting pauses and retries; no spin, no
# crash, and service resumes once descriptors are free again. The
# warning, which would come with every retry (10 a second), is limited
# to a line a second whose suppressed counts add up to the pauses.
SY_PORT=
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 2,
  "access_log": "off",
  "timeouts": {"keepalive_ms": 20000},
  "routes": [{"path": "/hello", "handler": "hello"},
             {"path": "/metrics", "handler": "metrics"}]
}' || exit 1
worker=$(sy_worker_pids | head -1)
prlimit --nofile=40 --pid "$worker" || fail "prlimit on worker $worker"
fds=()
for i in $(seq 1 60); do
	sy_open fd || break
	sy_send "$fd" "$req"
	fds+=("$fd")
done
t_emfile=$(now_ms)
check "EMFILE is logged and accepting pauses" \
    wait_for "grep -q 'accept: pausing for' '$SY_LOG'" 5
t0=$(cpu_ticks)
sleep 1		# a measuring window, not a synchronisation
used=$(($(cpu_ticks) - t0))
check "no busy loop while out of descriptors ($used ticks in 1 s < 20)" [ "$used" -lt 20 ]
for fd in "${fds[@]}"; do
	sy_close "$fd"
done
check "service resumes once descriptors are free" \
    wait_for '[ "$(sy_get_status /hello)" = 200 ]' 10
warn_re=' worker 0: warning: accept: pausing for 100 ms: Too many open files( \(([0-9]+) more suppressed in the last [0-9]+ ms\))?$'
warn_sum() {
	sy_warn_sum "$warn_re"
}
paused_total() {
	sy_curl "$(sy_url /metrics)" |
	    sed -n 's/^switchyard_accept_paused_total{worker="0",reason="emfile"} \([0-9]*\)$/\1/p'
}
paused=$(paused_total)
check "EMFILE: the warning lines add up to the $paused pauses" \
    wait_for '[ -n "$paused" ] && [ "$(warn_sum)" = "$paused" ]' 5
window=$(($(now_ms) - t_emfile))
nwarn=$(grep -Ec "$warn_re" "$SY_LOG")
grep -E "$warn_re" "$SY_LOG" | sed 's/^/#   /'
check "EMFILE: the pauses came again and again (${paused:-?} > 3)" [ "${paused:-0}" -gt 3 ]
check "EMFILE: $nwarn warning lines for ${paused:-?} pauses (<= 1 + $((window / 1000)) in $window ms)" \
    [ "$nwarn" -le $((1 + window / 1000)) ]
check "EMFILE: a line says how many were suppressed" \
    grep -Eq "$warn_re" <(grep ' more suppressed in the last ' "$SY_LOG")
sy_stop
