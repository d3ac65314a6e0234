#!/bin/bash
# notify.sh - sd_notify to a real NOTIFY_SOCKET (a datagram listener in
# python3, tests/tools/notify_listen.py), in order: READY=1 with STATUS=
# once the workers are ready; at a reload RELOADING=1 with MONOTONIC_USEC
# (close to now on CLOCK_MONOTONIC) and then READY=1 with the new
# generation and the reload's result; an invalid file: STATUS= only (no
# RELOADING=1); a rolled-back reload: RELOADING=1 then READY=1 saying
# why; TTIN: STATUS= with 3 workers; TERM: STOPPING=1, and nothing after.
# Skipped when the binary was built without libsystemd (then a no-op).
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
ldd "$SY_BIN" 2>/dev/null | grep -q libsystemd ||
    skip_all "$SY_BIN is built without libsystemd: sd_notify is a no-op"

listener=$SY_SRCDIR/tests/tools/notify_listen.py
sock=$SY_TMP/notify.sock
msgs=$SY_TMP/notify.out
python3 "$listener" "$sock" "$msgs" 2>"$SY_TMP/notify.err" &
NL_PID=$!
trap 'rc=$?; [ -n "$NL_PID" ] && kill "$NL_PID" 2>/dev/null; sy_cleanup $rc' EXIT
if ! wait_for 'grep -q "^listening$" "$msgs" 2>/dev/null && [ -S "$sock" ]' 10; then
	fail "the notify listener did not start"
	cat "$SY_TMP/notify.err"
	exit 1
fi

# msg N: the Nth datagram (without its receipt time); nmsg: how many.
msg() {
	sed -n '2,$p' "$msgs" | sed -n "$1p" | cut -d' ' -f2-
}
nmsg() {
	sed -n '2,$p' "$msgs" | grep -c .
}
# expect N WHAT ERE: wait for datagram N, then check it matches ERE.
expect() {
	local n=$1 what=$2 re=$3
	if ! wait_for "[ \"\$(nmsg)\" -ge $n ]" 10; then
		fail "datagram $n ($what) never came; got: $(sed -n '2,$p' "$msgs" | cut -d' ' -f2- | tr '\n' ';')"
		return 1
	fi
	check "datagram $n: $what: $(msg "$n")" eval 'msg "$n" | grep -Eq -- "$re"'
}

conf='{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  "access_log": "off",
  "routes": [{"path": "/hello", "handler": "hello"}]
}'
SY_EXPECT_ERRORS='master: error: reload: .*; keeping the running configuration$'
SY_EXPECT_ERRORS+='|master: error: reload failed: new worker [0-9]+ \(pid [0-9]+\) exited with status 1 before it was ready; generation 2 keeps serving$'
SY_EXPECT_ERRORS+='|worker [0-9]+: error: .*args\.once: init\(\) ran before$'
NOTIFY_SOCKET=$sock sy_start "$conf" || exit 1

expect 1 "READY=1 with STATUS= (generation 1, 2 workers)" \
    '^READY=1\|STATUS=generation 1, 2 workers$'
check "READY=1 is sent after the master logged every worker ready" \
    grep -q ' master: info: ready: 2 workers$' "$SY_LOG"

# -- a reload ----------------------------------------------------------------
kill -HUP "$SY_PID"
expect 2 "RELOADING=1 with MONOTONIC_USEC" '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$'
line=$(sed -n '2,$p' "$msgs" | sed -n 2p)
recv_us=${line%% *}
mono_us=$(echo "$line" | sed -n 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/p')
if [ -n "$mono_us" ]; then
	d=$((recv_us - mono_us))
	check "MONOTONIC_USEC is CLOCK_MONOTONIC at the reload (received ${d} us later; 0 <= d < 1 s)" \
	    [ "$d" -ge 0 -a "$d" -lt 1000000 ]
fi
expect 3 "READY=1 after the reload, STATUS= generation 2 and the reload's result" \
    '^READY=1\|STATUS=generation 2, 2 workers; last reload: generation 2 ready [0-9]+ ms after HUP$'
check "the reload completed in the log too" \
    grep -q ' master: info: reload: generation 2 ready ' "$SY_LOG"

# -- an invalid file: no reload happens, STATUS= tells ---------------------------
cp "$SY_CONF" "$SY_TMP/good.json"
printf '{ "workers": \n' >"$SY_CONF"
kill -HUP "$SY_PID"
expect 4 "an invalid file: STATUS= only, the result 'failed: invalid configuration'" \
    '^STATUS=generation 2, 2 workers; last reload: failed: invalid configuration$'

# -- a reload rolled back: RELOADING=1 is still followed by READY=1 -------------
# The plugin's init() passes in the checking process and fails in every
# worker after it (tests/plugins/hi.c, "once").
sy_build_hi hi.so || exit 1
sed "s|\"routes\": \[|\"plugins\": [\"hi.so\"], \"routes\": [{\"path\": \"/once\", \"handler\": \"hi\", \"args\": {\"once\": \"$SY_TMP/once.flag\"}},|" \
    "$SY_TMP/good.json" >"$SY_CONF"
kill -HUP "$SY_PID"
expect 5 "rollback: RELOADING=1" '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$'
expect 6 "rollback: READY=1, still generation 2, STATUS= says why" \
    '^READY=1\|STATUS=generation 2, 2 workers; last reload: failed: new worker [0-9]+ \(pid [0-9]+\) exited with status 1 before it was ready$'
cp "$SY_TMP/good.json" "$SY_CONF"

# -- TTIN: STATUS= follows the worker count -----------------------------------
kill -TTIN "$SY_PID"
expect 7 "TTIN: STATUS= with 3 workers" '^STATUS=generation 2, 3 workers; last reload: '

# -- TERM ------------------------------------------------------------------------
sy_stop TERM 0 10
expect 8 "STOPPING=1 at TERM" '^STOPPING=1$'
# The master is gone: stop the listener (it records what is still queued).
kill "$NL_PID"
wait "$NL_PID"
check "the listener stopped cleanly" [ $? = 0 ]
NL_PID=
check "nothing after STOPPING=1 ($(nmsg) datagrams)" [ "$(nmsg)" = 8 ]
info "datagrams: $(sed -n '2,$p' "$msgs" | cut -d' ' -f2- | tr '\n' ';')"
# Every RELOADING=1 is answered by READY=1 before anything else is reloaded
# or stopped (systemd waits for it).
check "every RELOADING=1 is followed by READY=1" \
    eval 'sed -n "2,\$p" "$msgs" | cut -d" " -f2- | awk "/^RELOADING=1/ { open = 1 } /^READY=1/ { open = 0 }
        /^STOPPING=1/ && open { bad = 1 } END { exit bad || open }"'
