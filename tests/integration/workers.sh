#!/bin/bash
# workers.sh - the process model: one SO_REUSEPORT listener per worker
# slot, each worker a child of the master; connections placed on one
# worker while few, on both when many; a crashed worker is replaced
# on the same socket; workers die with the master; -w overrides the
# count; an IPv6 loopback listener works.
. "$(dirname "$0")/lib.sh"

command -v ss >/dev/null 2>&1 || skip_all "ss (iproute2) is not installed"

conf='{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  "access_log": "stderr",
  "timeouts": {"keepalive_ms": 120000},
  "routes": [{"path": "/hello", "handler": "hello"}]
}'

# listeners ADDR: the listening sockets on ADDR:SY_PORT, one line each,
# "pid=A,pid=B..." of the processes holding it.
listeners() {
	ss -Hltnp "( sport = :$SY_PORT )" 2>/dev/null | awk -v a="$1:$SY_PORT" '
	    $4 == a { s = ""; r = $0
	      while (match(r, /pid=[0-9]+/)) {
	        s = s (s ? "," : "") substr(r, RSTART, RLENGTH)
	        r = substr(r, RSTART + RLENGTH) }
	      print s }'
}

# check_listeners WHAT ADDR N: N listening sockets on ADDR, each held by
# the master and by exactly one worker, N different workers, each a
# child of the master.
# settled ADDR N: N listeners on ADDR, each held by the master and one
# other process. (Just after a fork a new worker still holds every
# slot's socket until it closes the others: the checks wait for that.)
settled() {
	local lines
	lines=$(listeners "$1")
	[ "$(printf '%s' "$lines" | grep -c pid=)" = "$2" ] || return 1
	! printf '%s\n' "$lines" | awk -F, 'NF != 2 { bad = 1 } END { exit !bad }'
}

check_listeners() {
	local what=$1 addr=$2 n=$3 lines count workers line p w ppid
	wait_for "settled '$addr' $n" 5
	lines=$(listeners "$addr")
	count=$(printf '%s' "$lines" | grep -c pid=)
	check "$what: $n listening sockets on $addr:$SY_PORT (ss shows $count)" [ "$count" = "$n" ]
	workers=
	while read -r line; do
		[ -n "$line" ] || continue
		w=
		for p in $(echo "$line" | tr ',' ' '); do
			p=${p#pid=}
			[ "$p" = "$SY_PID" ] && continue
			w+="$p "
		done
		if [ "$(echo $w | wc -w)" != 1 ]; then
			fail "$what: a listener held by workers '$w' (want exactly one; ss: $line)"
		fi
		workers+="$w"
	done <<<"$lines"
	workers=$(echo $workers | tr ' ' '\n' | sort -u)
	check "$what: $n different worker pids hold them ($(echo $workers))" \
	    [ "$(echo "$workers" | grep -c .)" = "$n" ]
	for w in $workers; do
		ppid=$(awk '{ print $4 }' "/proc/$w/stat" 2>/dev/null)
		check "$what: worker $w is a child of the master $SY_PID" [ "$ppid" = "$SY_PID" ]
	done
	check "$what: the master logged the same worker pids" \
	    [ "$(sy_worker_pids | sort -u | tr '\n' ' ')" = "$(echo "$workers" | tr '\n' ' ')" ]
	WORKERS=$workers
}

# -- workers 2 -----------------------------------------------------------------
sy_start "$conf" || exit 1
check_listeners "workers 2" 127.0.0.1 2
check_hello "workers 2"

# Placement. With the eBPF program (root or CAP_BPF; the master says
# when it falls back to the kernel's hash): a few connections at a time
# all go to one worker, the first, while it has fewer than 32 open; 80
# held open at once (keepalive_ms long enough for a slow loop to open
# them all) spread over both, none with more than 3/4. With the
# kernel's hash, 40 connections reach both workers (the hash puts all
# on one once in 2^39 runs). The access log ends with the worker's pid
# and the request id.
# held_by: established connections to our port per pid, "pid count".
held_by() {
	ss -Htnp state established "( sport = :$SY_PORT )" 2>/dev/null |
	    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort | uniq -c |
	    awk '{ print $2, $1 }'
}
# answered_by TAG: the pids that answered /hello?TAG=..., one per line.
answered_by() {
	grep "\"GET /hello?$1=[0-9]* HTTP/1.1\" 200 " "$SY_LOG" |
	    awk '{ print $(NF - 1) }' | sort -u
}
if grep -q "kernel's hash" "$SY_LOG"; then
	info "placement by the kernel's hash (no CAP_BPF): checking the spread"
	for i in $(seq 1 40); do
		sy_get_status "/hello?hash=$i" >/dev/null
	done
	for w in $WORKERS; do
		check "worker $w answered some of 40 connections" \
		    wait_for "answered_by hash | grep -qx $w" 5
	done
else
	for i in $(seq 1 10); do
		sy_get_status "/hello?few=$i" >/dev/null
	done
	check "placement: 10 connections one at a time, all answered by one worker" \
	    wait_for '[ "$(answered_by few | grep -c .)" = 1 ] && [ "$(grep -c "GET /hello?few=" "$SY_LOG")" = 10 ]' 5
	sy_hold 80 many
	spread=$(held_by)
	info "${#SY_HELD[@]} connections open, per worker pid: $(echo $spread)"
	check "placement: 80 open connections, held by both workers" \
	    [ "$(echo "$spread" | grep -c .)" = 2 ]
	check "placement: 80 open connections, none of the workers holds more than 60" \
	    awk '$2 > 60 { bad = 1 } END { exit bad }' <<<"$spread"
	sy_release
	check "placement: once they closed, connections go to one worker again" \
	    wait_for '[ -z "$(held_by)" ]' 10
	for i in $(seq 1 10); do
		sy_get_status "/hello?again=$i" >/dev/null
	done
	check "placement: 10 more one at a time, one worker, the same as before" \
	    wait_for '[ "$(grep -c "GET /hello?again=" "$SY_LOG")" = 10 ] && [ "$(answered_by again)" = "$(answered_by few)" ]' 5
fi

# A worker killed outright is replaced in its slot, on the same socket.
set -- $WORKERS
victim=$1
SY_EXPECT_ERRORS="worker [0-9]+ \\(pid $victim\\) killed by signal 9"
kill -KILL "$victim"
check "a killed worker: the master logs it as an error" \
    wait_for "grep -Eq '$SY_EXPECT_ERRORS' '$SY_LOG'" 10
check "a killed worker: a replacement starts" \
    wait_for '[ "$(sy_worker_pids | wc -l)" = 3 ]' 10
check "a killed worker: the replacement holds a listener" \
    wait_for '[ "$(listeners 127.0.0.1 | grep -c "pid=$(sy_worker_pids | tail -1)\\b")" = 1 ]' 10
check_hello "after a worker crash"

# The master killed outright: its workers see the pipe close and leave,
# and then nothing accepts on the port any more.
workers=$(ps -o pid= --ppid "$SY_PID" | tr -d ' ')
check "the master has 2 live children ($(echo $workers))" [ "$(echo "$workers" | grep -c .)" = 2 ]
kill -KILL "$SY_PID"
wait "$SY_PID" 2>/dev/null
for w in $workers; do
	check "master killed: worker $w exits within 10 s" wait_for "! ours $w" 10
done
check "master killed: the port stops accepting" \
    wait_for '! sy_port_open 127.0.0.1 $SY_PORT' 10
check "master killed: no listener left on the port" [ -z "$(listeners 127.0.0.1)" ]
SY_PID=
sy_check_log
SY_EXPECT_ERRORS=

# -- -w 3 overrides the config's 2 -----------------------------------------------
sy_start "$conf" -w 3 || exit 1
check_listeners "-w 3" 127.0.0.1 3
check_hello "-w 3"
sy_stop

# -- IPv6 loopback ---------------------------------------------------------------
if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null &&
    python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	SY_ADDR=::1
	sy_start "$conf" -l "[::1]:$SY_PORT" -l "127.0.0.1:$SY_PORT" || exit 1
	check_listeners "[::1] and 127.0.0.1" "[::1]" 2
	check_listeners "[::1] and 127.0.0.1" 127.0.0.1 2
	check_hello "IPv6 [::1]"
	code=$(sy_curl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SY_PORT/hello")
	check "the IPv4 listener beside it: 200 ($code)" [ "$code" = 200 ]
	sy_stop
	SY_ADDR=127.0.0.1
else
	echo "skip: IPv6 [::1] listener: this host has no IPv6 loopback"
fi
