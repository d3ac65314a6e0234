#!/bin/bash
# balancers.sh - rolling restarts behind the balancers users run, with the
# shipped conf/examples/haproxy.cfg and conf/examples/nginx.conf (their
# addresses and paths replaced), two switchyard instances behind each:
#  (a) HAProxy, PROXY protocol v2, health checks on /health: under ab -k
#      -c 20 through HAProxy, TERM the first instance (its /health turns
#      503 for drain_delay_ms, HAProxy takes it out, it drains), start it
#      again, wait until HAProxy has it back, then the same for the
#      second: 0 failed, 0 non-2xx; the client address is the one HAProxy
#      saw (the PROXY header's);
#  (b) nginx, keep-alive upstream, proxy_next_upstream, X-Forwarded-For
#      believed from nginx (trusted_proxies): the same rolling restart,
#      0 failed, 0 non-2xx; the client address is X-Forwarded-For's.
# Loopback only; every wait is bounded.
. "$(dirname "$0")/lib.sh"

for t in ab python3; do
	command -v "$t" >/dev/null || { fail "$t is not installed"; exit 1; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
sy_build_hi hi.so || exit 1

# instance NAME PORT LISTEN-JSON EXTRA-JSON: start a switchyard instance;
# sets NAME_PID, NAME_LOG, NAME_CONF.
instance() {
	local name=$1 port=$2 listen=$3 extra=$4
	SY_PORT=$port
	sy_start '{
  "listen": '"$listen"', "workers": 2, "log_level": "info",
  "access_log": "@TMP@/access-'"$name"'.log",
  "timeouts": {"drain_delay_ms": 3000, "shutdown_ms": 5000},
  '"$extra"'
  "plugins": ["hi.so"],
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/health", "handler": "health"},
    {"path": "/client", "handler": "hi_client"}
  ]
}' || exit 1
	printf -v "${name}_PID" '%s' "$SY_PID"
	printf -v "${name}_LOG" '%s' "$SY_LOG"
}

# stop_instance NAME: TERM, wait for a clean exit (status 0).
stop_instance() {
	local name=$1 pid log
	pid=${name}_PID
	pid=${!pid}
	log=${name}_LOG
	SY_PID=$pid
	SY_LOG=${!log}
	sy_stop TERM 0 20
}

lines() { cat "$SY_TMP"/access-*.log 2>/dev/null | wc -l; }

# ab_start URL: ab -k -c 20 in the background until ab_end.
ab_start() {
	ab -k -c 20 -t 300 -n 50000000 -s 10 "$1" >"$SY_TMP/ab.txt" 2>&1 &
	AB_PID=$!
	local n0
	n0=$(lines)
	check "$WHO: ab -k -c 20 is under way" wait_for "[ \$(lines) -gt $((n0 + 2000)) ]" 20
}
ab_end() {
	if alive "$AB_PID"; then
		kill -INT "$AB_PID"
	else
		fail "$WHO: ab ended before the rolling restart was over"
	fi
	wait "$AB_PID"
	sy_ab_read "$SY_TMP/ab.txt"
	info "$WHO: rolling restart under ab -k -c 20: $AB_DONE complete, ${AB_FAILED:-?} failed, $AB_NON2XX non-2xx $AB_WHY"
	check "$WHO: rolling restart under ab -k -c 20: 0 failed, 0 non-2xx, >5000 complete ($AB_DONE)" \
	    test "${AB_FAILED:-1}" = 0 -a "$AB_NON2XX" = 0 -a "${AB_DONE:-0}" -gt 5000
}

# -- (a) HAProxy --------------------------------------------------------------
if [ -x "$HAPROXY" ]; then
	WHO=haproxy
	sy_pick_port; pa=$SY_PORT
	sy_pick_port; pb=$SY_PORT
	sy_pick_port; ph=$SY_PORT
	listen_a='[{"address": "127.0.0.1:'"$pa"'", "proxy_protocol": true}]'
	listen_b='[{"address": "127.0.0.1:'"$pb"'", "proxy_protocol": true}]'
	# sy_start waits for the port to answer: a PROXY listener does
	# (it accepts, then waits for the header).
	instance A "$pa" "$listen_a" ''
	instance B "$pb" "$listen_b" ''
	sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$ph/" -e "s/127\.0\.0\.1:8081/127.0.0.1:$pa/" \
	    -e "s/127\.0\.0\.1:8082/127.0.0.1:$pb/" \
	    -e "s|^global$|global\n\tstats socket $SY_TMP/haproxy.sock level admin|" \
	    "$SY_SRCDIR/conf/examples/haproxy.cfg" >"$SY_TMP/haproxy.cfg"
	check "haproxy -c accepts the shipped haproxy.cfg" \
	    "$HAPROXY" -c -q -f "$SY_TMP/haproxy.cfg"
	"$HAPROXY" -db -f "$SY_TMP/haproxy.cfg" >"$SY_TMP/haproxy.log" 2>&1 &
	HA_PID=$!
	trap 'rc=$?; kill "$HA_PID" "${NG_PID:-}" 2>/dev/null; sy_cleanup $rc' EXIT
	# state SERVER: HAProxy's view of it ("UP", "DOWN", ...).
	state() {
		python3 - "$SY_TMP/haproxy.sock" "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
rows = out.decode().splitlines()
head = rows[0].lstrip("# ").split(",")
for r in rows[1:]:
    f = r.split(",")
    if len(f) == len(head) and f[0] == "switchyard" and f[1] == sys.argv[2]:
        print(f[head.index("status")].split()[0])
PY
	}
	check "HAProxy sees both instances UP" \
	    wait_for '[ "$(state a)" = UP ] && [ "$(state b)" = UP ]' 15
	got=$(sy_curl --interface 127.0.0.2 "http://127.0.0.1:$ph/client")
	check "through HAProxy, the client address is the PROXY header's ($got)" \
	    test "$got" = '{"client":"127.0.0.2"}'
	ab_start "http://127.0.0.1:$ph/hello"
	for name in A B; do
		srv=$(echo "$name" | tr AB ab)
		pid=${name}_PID
		pid=${!pid}
		port=$pa
		[ "$name" = B ] && port=$pb
		t0=$(now_ms)
		kill -TERM "$pid"
		check "$WHO: TERM to $name: HAProxy takes it out while it still serves (health 503)" \
		    wait_for "[ \"\$(state $srv)\" = DOWN ] && alive $pid" 5
		info "$WHO: $name out of HAProxy $(($(now_ms) - t0)) ms after TERM"
		stop_instance "$name"
		listen=$listen_a
		[ "$name" = B ] && listen=$listen_b
		instance "$name" "$port" "$listen" ''
		check "$WHO: $name restarted and back UP in HAProxy" \
		    wait_for "[ \"\$(state $srv)\" = UP ]" 15
		n0=$(lines)
		wait_for "[ \$(lines) -gt $((n0 + 1000)) ]" 20
	done
	ab_end
	kill "$HA_PID" 2>/dev/null
	wait "$HA_PID" 2>/dev/null
	HA_PID=
	stop_instance A
	stop_instance B
else
	fail "(a) no haproxy (scripts/deps test installs it)"
fi

# -- (b) nginx ----------------------------------------------------------------
if [ -x "$NGINX" ]; then
	WHO=nginx
	rm -f "$SY_TMP"/access-*.log
	sy_pick_port; pa=$SY_PORT
	sy_pick_port; pb=$SY_PORT
	sy_pick_port; pn=$SY_PORT
	trusted='"trusted_proxies": ["127.0.0.1"],'
	instance A "$pa" '["127.0.0.1:'"$pa"'"]' "$trusted"
	instance B "$pb" '["127.0.0.1:'"$pb"'"]' "$trusted"
	mkdir -p "$SY_TMP/nginx"
	sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$pn/" -e "s/127\.0\.0\.1:8081/127.0.0.1:$pa/" \
	    -e "s/127\.0\.0\.1:8082/127.0.0.1:$pb/" \
	    -e "s|^pid .*|pid $SY_TMP/nginx/nginx.pid;|" \
	    -e "s|^error_log .*|error_log $SY_TMP/nginx/error.log warn;|" \
	    -e "s|^worker_processes 1;|worker_processes 1;\nuser nobody nogroup;|" \
	    "$SY_SRCDIR/conf/examples/nginx.conf" >"$SY_TMP/nginx.conf"
	# Its temporary files in TMP, not in /var/lib/nginx.
	sed -i "s|^http {|http {\n\tclient_body_temp_path $SY_TMP/nginx/body;\n\tproxy_temp_path $SY_TMP/nginx/proxy;|" "$SY_TMP/nginx.conf"
	check "nginx -t accepts the shipped nginx.conf" \
	    "$NGINX" -q -t -c "$SY_TMP/nginx.conf" -e "$SY_TMP/nginx/error.log"
	"$NGINX" -c "$SY_TMP/nginx.conf" -e "$SY_TMP/nginx/error.log" -g 'daemon off;' \
	    >"$SY_TMP/nginx.out" 2>&1 &
	NG_PID=$!
	check "nginx answers" wait_for "sy_port_open 127.0.0.1 $pn" 10
	got=$(sy_curl --interface 127.0.0.2 "http://127.0.0.1:$pn/client")
	check "through nginx, the client address is X-Forwarded-For's ($got)" \
	    test "$got" = '{"client":"127.0.0.2"}'
	ab_start "http://127.0.0.1:$pn/hello"
	for name in A B; do
		pid=${name}_PID
		pid=${!pid}
		port=$pa
		[ "$name" = B ] && port=$pb
		stop_instance "$name"
		n0=$(wc -l <"$SY_TMP/access-$name.log")
		instance "$name" "$port" '["127.0.0.1:'"$port"'"]' "$trusted"
		check "$WHO: $name restarted and serving through nginx again" \
		    wait_for "[ \$(wc -l <'$SY_TMP/access-$name.log') -gt $((n0 + 500)) ]" 20
	done
	ab_end
	kill "$NG_PID" 2>/dev/null
	wait "$NG_PID" 2>/dev/null
	NG_PID=
	stop_instance A
	stop_instance B
else
	fail "(b) no nginx (scripts/deps test installs nginx-light)"
fi
