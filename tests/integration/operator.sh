#!/bin/bash
# operator.sh - what a Debian administrator runs into (issue 11):
#  (a) a second master on the same address is refused, naming the first
#      one's pid, and the first keeps serving; the pid file is locked, so
#      "-s" refuses a pid file no master holds;
#  (b) -t fails on a log in a missing directory and on "group" without
#      "user"; a pid file's missing directory is made at start;
#  (c) with "user": "nobody", logrotate's mv + USR1 (one info line): the
#      new files exist, belong to nobody and get the new lines;
#  (d) a HUP that lowers log_level silences the new workers at once;
#  (e) TTIN, TTOU, USR2 and WINCH sent to a worker do nothing; USR2 and
#      WINCH to the master neither;
#  (f) a unix-socket listener: mode 0660, curl --unix-socket answers, a
#      stale socket file is replaced, a live one refused, gone at exit;
#  (g) socket activation (systemd-socket-activate): the passed socket
#      serves, survives a HUP under ab with 0 failed; one that matches no
#      listen entry stops the start;
#  (h) the systemd watchdog: a NOTIFY_SOCKET listener counts WATCHDOG=1 at
#      the right rate and sees them stop while a worker's loop is stuck;
#  (i) during a graceful stop, once the workers have closed their
#      listeners, a new connection is refused at once (a balancer retries
#      it elsewhere), not left waiting on the master's copy of the socket.
. "$(dirname "$0")/lib.sh"

H='Host: x\r\n'

# -- (a) one master per address --------------------------------------------------
conf='{
  "listen": ["127.0.0.1:@PORT@"], "workers": 2, "log_level": "info",
  "pid_file": "@TMP@/run/a.pid",
  "routes": [{"path": "/hello", "handler": "hello"}]
}'
sy_start "$conf" || exit 1
first=$SY_PID
check "(b) the pid file's missing directory is made at start" \
    test -f "$SY_TMP/run/a.pid"
check "(a) the pid file names the master" \
    test "$(cat "$SY_TMP/run/a.pid")" = "$first"
cat >"$SY_TMP/b.json" <<JSON
{"listen": ["127.0.0.1:$SY_PORT"], "pid_file": "$SY_TMP/b.pid",
 "routes": [{"path": "/hello", "handler": "hello"}]}
JSON
out=$(timeout 20 "$SY_BIN" -c "$SY_TMP/b.json" 2>&1 </dev/null)
rc=$?
want="127.0.0.1:$SY_PORT: already served by switchyard pid $first"
if [ "$rc" = 1 ] && [[ $out == *"$want"* ]]; then
	ok "(a) a second master on the same address is refused: $want"
else
	fail "(a) second master: exit $rc, '$out'"
fi
check "(a) it wrote no pid file" test ! -e "$SY_TMP/b.pid"
check_hello "(a) second master refused"
# Same pid file, other address: the lock stops it.
port1=$SY_PORT
sy_pick_port
port2=$SY_PORT
SY_PORT=$port1
cat >"$SY_TMP/c.json" <<JSON
{"listen": ["127.0.0.1:$port2"], "pid_file": "$SY_TMP/run/a.pid",
 "routes": [{"path": "/hello", "handler": "hello"}]}
JSON
out=$(timeout 20 "$SY_BIN" -c "$SY_TMP/c.json" 2>&1 </dev/null)
rc=$?
if [ "$rc" = 1 ] && [[ $out == *"pid_file $SY_TMP/run/a.pid: locked by a running master (pid $first)"* ]]; then
	ok "(a) a second master with the same pid file is refused (locked by pid $first)"
else
	fail "(a) same pid file: exit $rc, '$out'"
fi
check "(a) the pid file still names the first master" \
    test "$(cat "$SY_TMP/run/a.pid")" = "$first"
check "(a) -s reload finds the running master" \
    "$SY_BIN" -s reload -c "$SY_CONF"
# A pid file no master holds: -s refuses it, whatever pid it names.
echo "$first" >"$SY_TMP/stale.pid"
sed "s|$SY_TMP/run/a.pid|$SY_TMP/stale.pid|" "$SY_CONF" >"$SY_TMP/stale.json"
out=$("$SY_BIN" -s reload -c "$SY_TMP/stale.json" 2>&1)
rc=$?
check "(a) -s with an unlocked pid file: refused ($out)" \
    eval '[ "$rc" = 1 ] && [[ $out == *"is not locked by one"* ]]'

# A wildcard and a specific address on one port, both ours: not "in use".
port1=$SY_PORT
sy_pick_port
cat >"$SY_TMP/wild.json" <<JSON
{"listen": ["*:$SY_PORT", "127.0.0.1:$SY_PORT"], "log_level": "info",
 "routes": [{"path": "/hello", "handler": "hello"}]}
JSON
"$SY_BIN" -c "$SY_TMP/wild.json" >"$SY_TMP/wild.log" 2>&1 </dev/null &
wild=$!
check "(a) \"*:P\" and \"127.0.0.1:P\" in one config start (our own sockets are not another's)" \
    wait_for "grep -q 'ready: 1 workers' '$SY_TMP/wild.log'" 10
kill -TERM "$wild" 2>/dev/null
wait "$wild"
SY_PORT=$port1

# -- (e) signals that must do nothing --------------------------------------------
wait_for "grep -q 'reload: generation 2 ready' '$SY_LOG'" 10
wait_for '[ "$(sy_children | wc -w)" = 2 ]' 10
w=$(sy_children | awk '{ print $1 }')
workers_before=$(sy_children)
for s in TTIN TTOU USR2 WINCH; do
	kill -"$s" "$w"
done
kill -USR2 "$SY_PID"
kill -WINCH "$SY_PID"
state() { cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null; }
# A stopped worker shows state T at once; give a signal time to land.
wait_for "[ \"\$(state $w)\" = T ]" 1
check "(e) TTIN/TTOU/USR2/WINCH to worker $w: still running (state $(state "$w"))" \
    eval '[ "$(state "$w")" != T ] && ours "$w"'
check "(e) USR2 and WINCH to the master: same workers, master alive" \
    eval '[ "$(sy_children)" = "$workers_before" ] && alive "$SY_PID"'
check_hello "(e) after the signals"
sy_stop

# -- (b) -t refusals ---------------------------------------------------------------
printf '{"access_log": "%s/gone/access.log", "routes": [{"path": "/", "handler": "hello"}]}\n' \
    "$SY_TMP" >"$SY_TMP/t1.json"
out=$("$SY_BIN" -t -c "$SY_TMP/t1.json" 2>&1)
rc=$?
check "(b) -t: an access_log in a missing directory fails ($out)" \
    eval '[ "$rc" = 1 ] && [[ $out == *"access_log $SY_TMP/gone/access.log: No such file or directory"* ]]'
printf '{"group": "nogroup", "routes": [{"path": "/", "handler": "hello"}]}\n' >"$SY_TMP/t2.json"
out=$("$SY_BIN" -t -c "$SY_TMP/t2.json" 2>&1)
rc=$?
check "(b) -t: group without user fails ($out)" \
    eval '[ "$rc" = 1 ] && [[ $out == *"group: needs \"user\" too"* ]]'
printf '{"pid_file": "%s/no/such/dir/x.pid", "routes": [{"path": "/", "handler": "hello"}]}\n' \
    "$SY_TMP" >"$SY_TMP/t3.json"
out=$("$SY_BIN" -t -c "$SY_TMP/t3.json" 2>&1)
rc=$?
check "(b) -t: a pid_file two directories deep in nothing fails ($out)" \
    eval '[ "$rc" = 1 ] && [[ $out == *"pid_file $SY_TMP/no/such/dir/x.pid: directory"* ]]'

# -- (c) log rotation after the privilege drop -------------------------------------
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -p "$SY_TMP/logs"
	chmod 755 "$SY_TMP" "$SY_TMP/logs"
	SY_PORT=
	sy_pick_port
	# Not sy_start: its wait reads stderr, and the error log is a file.
	SY_CONF=$SY_TMP/rotate.json
	cat >"$SY_CONF" <<JSON
{"listen": ["127.0.0.1:$SY_PORT"], "workers": 2, "log_level": "info",
 "user": "nobody",
 "error_log": "$SY_TMP/logs/error.log", "access_log": "$SY_TMP/logs/access.log",
 "routes": [{"path": "/hello", "handler": "hello"}]}
JSON
	"$SY_BIN" -c "$SY_CONF" >"$SY_TMP/rotate.stderr" 2>&1 </dev/null &
	SY_PID=$!
	SY_LOG=$SY_TMP/logs/error.log
	SY_LOGS+=("$SY_TMP/rotate.stderr" "$SY_LOG")
	check "(c) started with its error log in a file" \
	    wait_for "grep -q ' info: listening on ' '$SY_LOG' 2>/dev/null && sy_port_open 127.0.0.1 $SY_PORT" 10
	check "(c) the log files belong to nobody" \
	    eval '[ "$(stat -c %U "$SY_TMP/logs/access.log")" = nobody ] && [ "$(stat -c %U "$SY_TMP/logs/error.log")" = nobody ]'
	sy_curl -o /dev/null "$(sy_url /hello)"
	mv "$SY_TMP/logs/access.log" "$SY_TMP/logs/access.log.1"
	mv "$SY_TMP/logs/error.log" "$SY_TMP/logs/error.log.1"
	kill -USR1 "$SY_PID"
	check "(c) USR1: one info line in the new error log" \
	    wait_for "grep -q 'master: info: reopening the log files (USR1)' '$SY_TMP/logs/error.log' 2>/dev/null" 10
	check "(c) USR1: no worker failed to reopen (Permission denied)" \
	    eval '! grep -q "reopening the" "$SY_TMP/logs/error.log.1" "$SY_TMP/logs/error.log" 2>/dev/null || ! grep -q "Permission denied" "$SY_TMP/logs/error.log.1" "$SY_TMP/logs/error.log"'
	check "(c) the new files belong to nobody" \
	    eval '[ "$(stat -c %U "$SY_TMP/logs/access.log")" = nobody ] && [ "$(stat -c %U "$SY_TMP/logs/error.log")" = nobody ]'
	for i in 1 2 3 4; do sy_curl -o /dev/null "$(sy_url /hello?after=$i)"; done
	check "(c) the workers write the new access log" \
	    wait_for "grep -q 'GET /hello?after=' '$SY_TMP/logs/access.log'" 10
	check "(c) and not the rotated one" \
	    eval '! grep -q "after=" "$SY_TMP/logs/access.log.1"'
	SY_LOGS+=("$SY_TMP/logs/error.log.1")
	sy_stop
else
	info "(c) not root or no user nobody: log rotation after the drop not checked"
fi

# -- (d) a HUP that lowers log_level applies to the new workers at once ------------
SY_PORT=
conf='{
  "listen": ["127.0.0.1:@PORT@"], "workers": 2, "log_level": "info",
  "routes": [{"path": "/hello", "handler": "hello"}]
}'
sy_start "$conf" || exit 1
printf '%s\n' "$conf" | sed -e "s/@PORT@/$SY_PORT/" -e 's/"info"/"warning"/' >"$SY_CONF"
kill -HUP "$SY_PID"
wait_for "grep -q 'reload: generation 2 ready' '$SY_LOG'" 10
gen2=$(sed -n 's/.* master: info: worker [0-9]* started, pid \([0-9]*\), generation 2$/\1/p' "$SY_LOG" | tr '\n' ' ')
kill -USR1 "$SY_PID"	# workers log "log files reopened" at debug only
sy_stop
quiet=1
for p in $gen2; do
	grep -q "switchyard\[$p\] worker [0-9]*: info:" "$SY_LOG" && quiet=0
done
check "(d) after a HUP to log_level warning, generation 2's workers ($gen2) log no info line (not even 'draining')" \
    test "$quiet" = 1 -a -n "$gen2"

# -- (f) a unix socket ----------------------------------------------------------------
sock=$SY_TMP/http.sock
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
check "(f) a stale socket file is there before the start" test -S "$sock"
SY_PORT=
sy_start '{
  "listen": ["127.0.0.1:@PORT@", "unix:@TMP@/http.sock"], "workers": 2,
  "log_level": "info",
  "routes": [{"path": "/hello", "handler": "hello"}]
}' || exit 1
check "(f) the unix socket has mode 0660" test "$(stat -c %a "$sock")" = 660
body=$(curl -sS --max-time 5 --unix-socket "$sock" http://x/hello)
check "(f) curl --unix-socket answers ($body)" test "$body" = '{"message":"Hello world"}'
printf '{"listen": ["unix:%s"], "routes": [{"path": "/", "handler": "hello"}]}\n' "$sock" >"$SY_TMP/u2.json"
out=$(timeout 20 "$SY_BIN" -c "$SY_TMP/u2.json" 2>&1 </dev/null)
rc=$?
check "(f) a second master on the live socket is refused ($out)" \
    eval '[ "$rc" = 1 ] && [[ $out == *"unix:$sock: already served by switchyard pid $SY_PID"* ]]'
kill -HUP "$SY_PID"
wait_for "grep -q 'reload: generation 2 ready' '$SY_LOG'" 10
body=$(curl -sS --max-time 5 --unix-socket "$sock" http://x/hello)
check "(f) after a HUP the unix socket still answers" test "$body" = '{"message":"Hello world"}'
grep -q 'unix: "GET /hello' "$SY_LOG" 2>/dev/null || true
sy_stop
check "(f) the socket file is removed at exit" test ! -e "$sock"

# -- (g) socket activation ----------------------------------------------------------------
if command -v systemd-socket-activate >/dev/null 2>&1; then
	SY_PORT=
	sy_pick_port
	cat >"$SY_TMP/act.json" <<JSON
{"listen": ["127.0.0.1:$SY_PORT"], "workers": 2, "log_level": "info",
 "pid_file": "$SY_TMP/act.pid", "access_log": "$SY_TMP/act-access.log",
 "routes": [{"path": "/hello", "handler": "hello"}]}
JSON
	SY_LOG=$SY_TMP/act.log
	SY_LOGS+=("$SY_LOG")
	systemd-socket-activate -l "127.0.0.1:$SY_PORT" "$SY_BIN" -c "$SY_TMP/act.json" \
	    >"$SY_LOG" 2>&1 </dev/null &
	act=$!
	wait_for "sy_port_open 127.0.0.1 $SY_PORT" 10
	# The first connection starts it (systemd-socket-activate's way).
	body=$(sy_curl "$(sy_url /hello)")
	check "(g) the activated server answers ($body)" test "$body" = '{"message":"Hello world"}'
	check "(g) it used the passed socket" \
	    grep -q "master: info: socket activation: 127.0.0.1:$SY_PORT (descriptor 3)" "$SY_LOG"
	SY_PID=$(cat "$SY_TMP/act.pid" 2>/dev/null)
	ab -q -k -n 200000 -c 4 -t 60 "$(sy_url /hello)" >"$SY_TMP/ab-act.txt" 2>&1 &
	abpid=$!
	lines() { wc -l <"$SY_TMP/act-access.log" 2>/dev/null || echo 0; }
	check "(g) ab is under way" wait_for "[ \$(lines) -gt 300 ]" 20
	kill -HUP "$SY_PID"
	check "(g) HUP: generation 2 on the passed socket" \
	    wait_for "grep -q 'reload: generation 2 ready' '$SY_LOG'" 15
	kill -HUP "$SY_PID"
	wait_for "grep -q 'reload: generation 3 ready' '$SY_LOG'" 15
	if alive "$abpid"; then kill -INT "$abpid"; fi
	wait "$abpid"
	sy_ab_read "$SY_TMP/ab-act.txt"
	check "(g) ab -k across two HUPs on the passed socket: $AB_DONE complete, ${AB_FAILED:-?} failed, $AB_NON2XX non-2xx $AB_WHY" \
	    test "${AB_FAILED:-1}" = 0 -a "$AB_NON2XX" = 0 -a "${AB_DONE:-0}" -gt 100
	sy_stop
	wait "$act" 2>/dev/null
	# A passed socket that matches no listen entry.
	sy_pick_port
	other=$SY_PORT
	sy_pick_port
	SY_LOG=$SY_TMP/act2.log
	SY_LOGS+=("$SY_LOG")
	timeout 20 systemd-socket-activate -l "127.0.0.1:$other" "$SY_BIN" -c "$SY_TMP/act.json" \
	    >"$SY_LOG" 2>&1 </dev/null &
	act=$!
	wait_for "sy_port_open 127.0.0.1 $other" 10
	curl -s --max-time 3 -o /dev/null "http://127.0.0.1:$other/hello"
	wait "$act"
	check "(g) a passed socket no listen entry names stops the start" \
	    grep -q "LISTEN_FDS: socket 127.0.0.1:$other matches no \"listen\" entry" "$SY_LOG"
	SY_EXPECT_ERRORS='LISTEN_FDS: socket .* matches no "listen" entry'
	sy_check_log
	SY_EXPECT_ERRORS=
else
	info "(g) no systemd-socket-activate: socket activation not checked"
fi

# -- (h) the systemd watchdog ------------------------------------------------------------
listener=$SY_SRCDIR/tests/tools/notify_listen.py
nsock=$SY_TMP/notify.sock
msgs=$SY_TMP/notify.out
if ldd "$SY_BIN" 2>/dev/null | grep -q libsystemd; then
	python3 "$listener" "$nsock" "$msgs" 2>"$SY_TMP/notify.err" &
	NL_PID=$!
	trap 'rc=$?; kill "$NL_PID" 2>/dev/null; sy_cleanup $rc' EXIT
	wait_for 'grep -q "^listening$" "$msgs" 2>/dev/null && [ -S "$nsock" ]' 10
	SY_PORT=
	# 2 s: a ping at least every second.
	NOTIFY_SOCKET=$nsock WATCHDOG_USEC=2000000 sy_start '{
  "listen": ["127.0.0.1:@PORT@"], "workers": 1, "log_level": "info",
  "worker_timeout_ms": 0,
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/stuck", "handler": "sleep", "args": {"ms": 3500, "max_ms": 10000}}
  ]
}' || exit 1
	pings() { grep -c ' WATCHDOG=1$' "$msgs"; }
	t0=$(now_ms)
	n0=$(pings)
	wait_for "[ \$(pings) -ge $((n0 + 4)) ]" 10
	dt=$(($(now_ms) - t0))
	check "(h) 4 WATCHDOG=1 in $dt ms (every 1 s at most: 2000..5000 ms)" \
	    test "$dt" -ge 2000 -a "$dt" -le 5500
	# Largest gap between pings so far, in ms.
	gap() { awk '/ WATCHDOG=1$/ { if (p) { g = ($1 - p) / 1000; if (g > m) m = g } p = $1 } END { printf "%d\n", m }' "$msgs"; }
	# Sent every 0.75..1 s; a loaded machine may run the tick late, but
	# never by the second that would make systemd's 2 s run out.
	check "(h) no gap of 2 s (the interval) between pings while the loop ticks ($(gap) ms)" \
	    test "$(gap)" -lt 2000
	# A handler that blocks the loop for 3.5 s: the pings stop.
	curl -s --max-time 10 -o /dev/null "$(sy_url /stuck)" &
	cpid=$!
	wait_for "grep -q 'route /stuck (handler sleep) blocked the event loop' '$SY_LOG'" 10
	wait "$cpid"
	# The gap shows once the first ping after the stall has come.
	n1=$(pings)
	check "(h) the pings resume once the loop ticks again" \
	    wait_for "[ \$(pings) -ge $((n1 + 1)) ]" 5
	if [ "$(gap)" -gt 2000 ]; then
		ok "(h) while the worker's loop was stuck the pings stopped (a gap of $(gap) ms)"
	else
		fail "(h) while the worker's loop was stuck the pings went on (largest gap $(gap) ms):"
		awk '{ printf "#   %.3f %s\n", $1 / 1e6, $2 }' "$msgs" | tail -15
	fi
	sy_stop
else
	info "(h) built without libsystemd: watchdog not checked"
fi

# -- (i) refused, not queued, while the last requests finish ---------------------------
SY_PORT=
sy_start '{
  "listen": ["127.0.0.1:@PORT@"], "workers": 1, "log_level": "info",
  "routes": [{"path": "/slow", "handler": "sleep", "mode": "blocking",
              "args": {"ms": 4000, "max_ms": 10000}}]
}' || exit 1
sy_curl -o /dev/null "$(sy_url /slow)" &
slow=$!
wait_for '[ "$(sy_in_flight)" -ge 1 ]' 5
kill -TERM "$SY_PID"
wait_for "grep -q 'worker 0: info: draining (TERM)' '$SY_LOG'" 5
t0=$(now_ms)
curl -s --max-time 3 -o /dev/null "$(sy_url /slow)"
rc=$?
check "(i) a connection during the drain is refused at once (curl exit $rc: 7 is refused, 28 a timeout; $(($(now_ms) - t0)) ms)" \
    test "$rc" = 7
wait "$slow"
check "(i) the request in flight still got its answer" test $? = 0
sy_stop - 0 15
