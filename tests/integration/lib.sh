# lib.sh - shared helpers for the integration tests (sourced, not run).
#
# Each test script sources this file, starts the real daemon with a
# generated config on a free loopback port, talks to it with curl, ab and
# raw /dev/tcp sockets, and stops it. Synchronisation is always a bounded
# wait on a condition (a port answers, a log line appears, a process is
# gone), never a fixed sleep.
#
# Environment (exported by Makefile.am; defaults for running by hand):
#   SY_BIN           the switchyard binary
#   SY_SRCDIR        the source tree (for conf/)
#   SY_TEST_TIMEOUT  seconds before the watchdog fails the test (180)
#   SY_KEEP          1: keep the temporary directory
#
# Exit status (automake): 0 pass, 1 fail, 77 skip, 99 hard error.

set -u
export LC_ALL=C
# A write to a socket the server has closed must fail, not kill us.
trap '' PIPE

SY_TEST=$(basename "$0" .sh)
SY_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SY_SRCDIR:=$(cd "$SY_LIBDIR/../.." && pwd)}"
: "${SY_BIN:=$SY_SRCDIR/src/switchyard}"
: "${SY_TEST_TIMEOUT:=180}"
export SY_BIN SY_SRCDIR

# Sanitizer reports go to stderr, which sy_start sends to the log.
: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=0}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=0}"
export ASAN_OPTIONS UBSAN_OPTIONS

if [ ! -x "$SY_BIN" ]; then
	echo "FAIL: $SY_TEST: no binary at SY_BIN=$SY_BIN" >&2
	exit 99
fi
SY_BIN_REAL=$(readlink -f "$SY_BIN")
# 1 when the binary is built with a sanitizer, whose allocator keeps freed
# memory in quarantine: memory figures then say nothing about the server.
SY_SANITIZED=0
grep -qa -e __asan_init -e __tsan_init "$SY_BIN_REAL" && SY_SANITIZED=1

SY_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sy-$SY_TEST.XXXXXX") || exit 99
SY_FAILS=0
SY_OKS=0
SY_PID=			# the master of the current server
SY_LOG=			# its stderr
SY_NSTART=0
SY_NRAW=0
SY_PORT=
SY_ADDR=127.0.0.1	# where sy_start, curl and raw requests connect
SY_EXPECT_ERRORS=	# ERE: "error:" log lines the test expects
SY_LOCKS=()		# port lock directories to remove at exit
SY_LOGS=()		# every server log, checked at exit if still unchecked
SY_PORT_LOCKDIR=${TMPDIR:-/tmp}/switchyard-test-ports

# -- reporting ---------------------------------------------------------------

ok() {
	SY_OKS=$((SY_OKS + 1))
	echo "ok: $*"
}

fail() {
	SY_FAILS=$((SY_FAILS + 1))
	echo "FAIL: $*"
}

info() {
	echo "# $*"
}

skip_all() {
	echo "SKIP: $SY_TEST: $*"
	SY_SKIP=1
	exit 77
}

# check DESCRIPTION COMMAND...: ok or FAIL on the command's status.
check() {
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		fail "$what"
	fi
}

# Milliseconds since the epoch, without a fork.
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# -- processes ---------------------------------------------------------------

# alive PID: running (a zombie counts as gone).
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_for CONDITION TIMEOUT_S: poll the condition (a string for eval)
# every 50 ms until it holds (0) or TIMEOUT_S seconds pass (1).
wait_for() {
	local cond=$1 deadline
	deadline=$(($(now_ms) + $(to_ms "${2:-10}")))
	while :; do
		if eval "$cond"; then
			return 0
		fi
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# to_ms SECONDS: "2" or "0.25" in milliseconds.
to_ms() {
	local int=${1%%.*} frac=
	case $1 in *.*) frac=${1#*.} ;; esac
	frac=${frac}000
	echo $((10#${int:-0} * 1000 + 10#${frac:0:3}))
}

# The watchdog: a test that hangs fails instead of blocking "make check".
(
	sleep "$SY_TEST_TIMEOUT" &
	sp=$!
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	wait $sp
	echo "FAIL: $SY_TEST: watchdog: still running after $SY_TEST_TIMEOUT s"
	kill -TERM $$ 2>/dev/null
) &
SY_WATCHDOG=$!

# -- ports -------------------------------------------------------------------

# Is nothing at all (listening or connected, v4 or v6) using this port?
sy_port_unused() {
	local port=$1
	if command -v ss >/dev/null 2>&1; then
		[ -z "$(ss -Htan "( sport = :$port )" 2>/dev/null)" ] || return 1
	fi
	# And a plain bind (no SO_REUSEADDR/PORT) must succeed.
	python3 - "$port" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.close()
EOF
}

# sy_pick_port: set SY_PORT to a free loopback port, reserved for this
# test. Ports come from below the ephemeral range (so a client's source
# port cannot take it between our check and the server's bind), and a
# lock directory per port keeps parallel tests (make -j) apart: the
# server binds with SO_REUSEPORT, so two servers on one port would not
# even fail.
sy_pick_port() {
	local port lock i pid
	mkdir -p "$SY_PORT_LOCKDIR" 2>/dev/null
	for i in $(seq 1 500); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		lock=$SY_PORT_LOCKDIR/$port
		if ! mkdir "$lock" 2>/dev/null; then
			# Stale lock of a test that was killed?
			pid=$(cat "$lock/pid" 2>/dev/null)
			if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
				rm -rf "$lock"
			fi
			continue
		fi
		echo $$ >"$lock/pid"
		if sy_port_unused "$port"; then
			SY_LOCKS+=("$lock")
			SY_PORT=$port
			return 0
		fi
		rm -rf "$lock"
	done
	echo "FAIL: cannot find a free port" >&2
	exit 99
}

# Does ADDR PORT accept a TCP connection?
sy_port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# -- the server --------------------------------------------------------------

# sy_start CONFIG_JSON [ARGS...]: write the config (@PORT@ and @TMP@ are
# replaced; a port is picked if none is), start "$SY_BIN -c FILE ARGS" in
# the background with stdout and stderr to $SY_LOG, and wait until it says
# it listens and $SY_ADDR:$SY_PORT accepts. Sets SY_PID, SY_LOG, SY_CONF.
# Returns 1 (after a FAIL) when the server did not come up. The config
# must keep log_level info or debug: the wait and sy_worker_pids read the
# master's "worker N started, pid P" and "listening on" lines.
sy_start() {
	local json=$1
	shift
	[ -n "$SY_PORT" ] || sy_pick_port
	SY_NSTART=$((SY_NSTART + 1))
	SY_CONF=$SY_TMP/switchyard.$SY_NSTART.json
	SY_LOG=$SY_TMP/server.$SY_NSTART.log
	json=${json//@PORT@/$SY_PORT}
	json=${json//@TMP@/$SY_TMP}
	printf '%s\n' "$json" >"$SY_CONF"
	"$SY_BIN" -c "$SY_CONF" "$@" >"$SY_LOG" 2>&1 </dev/null &
	SY_PID=$!
	SY_LOGS+=("$SY_LOG")
	if ! wait_for 'sy_started || ! alive $SY_PID' 10 || ! alive "$SY_PID"; then
		fail "server did not start (config $SY_CONF, args: $*)"
		sed 's/^/#   /' "$SY_LOG"
		sy_kill
		return 1
	fi
	info "server pid $SY_PID on $SY_ADDR:$SY_PORT, workers $(sy_worker_pids | tr '\n' ' ')"
	return 0
}

sy_started() {
	grep -q ' info: listening on ' "$SY_LOG" 2>/dev/null &&
	    sy_port_open "$SY_ADDR" "$SY_PORT"
}

# The worker pids the master logged, one a line.
sy_worker_pids() {
	sed -n 's/.* master: info: worker [0-9]* started, pid \([0-9]*\).*/\1/p' \
	    "${1:-$SY_LOG}" 2>/dev/null
}

# ours PID: PID is running our binary (so a pid from a log that the
# system has since given to another program is never signalled).
ours() {
	alive "$1" && [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$SY_BIN_REAL" ]
}

# Kill the current server and its workers outright (cleanup).
sy_kill() {
	local p
	[ -n "$SY_PID" ] || return 0
	kill -KILL "$SY_PID" 2>/dev/null	# our child: cannot be reused yet
	for p in $(sy_worker_pids); do
		ours "$p" && kill -KILL "$p" 2>/dev/null
	done
	wait "$SY_PID" 2>/dev/null
	SY_PID=
}

# sy_check_log [LOG]: FAIL on a sanitizer report or an "error:" line that
# does not match SY_EXPECT_ERRORS.
sy_check_log() {
	local log=${1:-$SY_LOG} bad
	if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer|UndefinedBehaviorSanitizer)|runtime error:|LeakSanitizer|WARNING: ThreadSanitizer' "$log"; then
		fail "sanitizer report in $(basename "$log"):"
		grep -E -A30 'ERROR: |runtime error:|WARNING: ThreadSanitizer' "$log" |
		    head -80 | sed 's/^/#   /'
	fi
	bad=$(grep -E '^[0-9T:.-]+ switchyard\[[0-9]+\] [^:]+: error: ' "$log")
	if [ -n "$bad" ] && [ -n "$SY_EXPECT_ERRORS" ]; then
		bad=$(printf '%s\n' "$bad" | grep -Ev "$SY_EXPECT_ERRORS")
	fi
	if [ -n "$bad" ]; then
		fail "unexpected error lines in $(basename "$log"):"
		printf '%s\n' "$bad" | head -20 | sed 's/^/#   /'
	fi
	# Checked: not again at exit.
	local i
	for i in "${!SY_LOGS[@]}"; do
		[ "${SY_LOGS[$i]}" = "$log" ] && unset 'SY_LOGS[i]'
	done
	return 0
}

# sy_wait_exit PID TIMEOUT_S: 0 once PID is gone.
sy_wait_exit() {
	wait_for "! alive $1" "$2"
}

# sy_stop [SIGNAL [EXPECTED_STATUS [TIMEOUT_S]]]: signal the master
# (TERM; "-" for none, when the test sent it already), wait for it and
# every worker to exit (bounded), compare the master's exit status, then
# check the log. Sets SY_STATUS.
sy_stop() {
	local sig=${1:-TERM} want=${2:-0} timeout=${3:-15} workers p
	SY_STATUS=
	[ -n "$SY_PID" ] || return 0
	workers=$(sy_worker_pids)
	# "-": the signal was sent already; just wait.
	[ "$sig" = - ] || kill -"$sig" "$SY_PID" 2>/dev/null
	if ! sy_wait_exit "$SY_PID" "$timeout"; then
		fail "master $SY_PID still running $timeout s after SIG$sig"
		sy_kill
		sy_check_log
		return 1
	fi
	wait "$SY_PID"
	SY_STATUS=$?
	if [ "$SY_STATUS" != "$want" ]; then
		fail "master exited with status $SY_STATUS after SIG$sig, expected $want"
	fi
	for p in $workers; do
		if ! wait_for "! ours $p" 5; then
			fail "worker $p still running after the master exited"
			kill -KILL "$p" 2>/dev/null
		fi
	done
	SY_PID=
	sy_check_log
}

# sy_children: the master's live child pids, sorted, on one line.
sy_children() {
	local p out=
	for p in $(pgrep -P "$SY_PID" | sort -n); do
		alive "$p" && out+="$p "
	done
	echo "$out"
}

# sy_listeners [PORT]: one line per listening socket on 127.0.0.1:PORT
# (SY_PORT by default): its inode, then the pids holding it
# ("INODE pid=A,pid=B").
sy_listeners() {
	local port=${1:-$SY_PORT}
	ss -Hltnpe "( sport = :$port )" 2>/dev/null | awk -v a="127.0.0.1:$port" '
	    $4 == a { s = ""; r = $0; ino = "?"
	      if (match($0, /ino:[0-9]+/)) ino = substr($0, RSTART + 4, RLENGTH - 4)
	      while (match(r, /pid=[0-9]+/)) {
	        s = s (s ? "," : "") substr(r, RSTART, RLENGTH)
	        r = substr(r, RSTART + RLENGTH) }
	      print ino, s }'
}

# sy_settled N [PORT]: N listening sockets, each held by the master and
# one worker (a worker just forked holds every slot's socket a moment).
sy_settled() {
	local lines
	lines=$(sy_listeners "${2:-$SY_PORT}")
	[ "$(printf '%s' "$lines" | grep -c pid=)" = "$1" ] || return 1
	! printf '%s\n' "$lines" | awk '{ n = split($2, a, ","); if (n != 2) bad = 1 }
	    END { exit !bad }'
}

# sy_in_flight: how many connections a worker has accepted and read
# everything from (server side, Recv-Q 0, owned by a worker process).
# After sending a request, "sy_in_flight >= 1" means the server has it.
sy_in_flight() {
	local w n=0
	for w in $(sy_worker_pids); do
		n=$((n + $(ss -Htnp state established "( sport = :$SY_PORT )" 2>/dev/null |
		    awk -v p="pid=$w," '$1 == 0 && index($0, p)' | grep -c .)))
	done
	echo "$n"
}

# sy_warn_sum ERE [LOG]: how many events the rate-limited warning lines
# matching ERE stand for (log.h, log_limit): each line one, plus the N of
# its "(N more suppressed in the last M ms)".
sy_warn_sum() {
	grep -E "$1" "${2:-$SY_LOG}" |
	    sed -E -n -e 's/.* \(([0-9]+) more suppressed in the last [0-9]+ ms\)$/\1/p' \
	    -e t -e 's/.*/0/p' |
	    awk '{ n += 1 + $1 } END { print n + 0 }'
}

# -- clients -----------------------------------------------------------------

# sy_clients SUBCOMMAND ARGS...: one of tests/tools/clients.py's clients
# (slow readers, half-closes, floods, slowloris) against the server.
sy_clients() {
	timeout 175 python3 "$SY_SRCDIR/tests/tools/clients.py" "$SY_PORT" "$@"
}

# sy_build_hi OUT [CFLAGS...]: tests/plugins/hi.c as $SY_TMP/OUT, built as
# a user would against the build tree's switchyard-uninstalled.pc.
sy_build_hi() {
	local out=$1 dir=${SY_BIN%/src/switchyard}
	shift
	# shellcheck disable=SC2046
	PKG_CONFIG_PATH=$dir cc -std=c11 -O1 -shared -fPIC \
	    $(PKG_CONFIG_PATH=$dir pkg-config --cflags switchyard) "$@" \
	    -o "$SY_TMP/$out" "$SY_SRCDIR/tests/plugins/hi.c" \
	    $(PKG_CONFIG_PATH=$dir pkg-config --libs switchyard) ||
	    { fail "cannot build tests/plugins/hi.c"; return 1; }
}

# sy_tally OUT RC: show a Python checker's report (its ok: and FAIL: lines,
# with tests/tools/sytest.py) and count its lines as this test's; a checker
# that exited RC != 0 without a FAIL line fails the test too.
sy_tally() {
	local n
	cat "$1"
	n=$(grep -c '^FAIL: ' "$1")
	SY_OKS=$((SY_OKS + $(grep -c '^ok: ' "$1")))
	SY_FAILS=$((SY_FAILS + n))
	if [ "$2" -ne 0 ] && [ "$n" -eq 0 ]; then
		fail "the checker exited with status $2"
	fi
}

# sy_ab_read FILE: ab's figures from its output: AB_DONE, AB_FAILED (empty
# when ab printed none), AB_NON2XX (0 when none), AB_WHY (the failures'
# breakdown, "(Connect: ..., Length: ...)", or empty).
sy_ab_read() {
	AB_DONE=$(sed -n 's/^Complete requests: *//p' "$1")
	AB_FAILED=$(sed -n 's/^Failed requests: *//p' "$1")
	AB_NON2XX=$(sed -n 's/^Non-2xx responses: *//p' "$1")
	AB_NON2XX=${AB_NON2XX:-0}
	AB_WHY=$(grep -o '(Connect.*)' "$1")
}

# curl with a deadline, quiet but showing errors.
sy_curl() {
	curl -sS --max-time "${SY_CURL_TIMEOUT:-10}" "$@"
}

# sy_url PATH: the URL of PATH on the current server.
sy_url() {
	case $SY_ADDR in
	*:*)	echo "http://[$SY_ADDR]:$SY_PORT$1" ;;
	*)	echo "http://$SY_ADDR:$SY_PORT$1" ;;
	esac
}

# sy_get_status PATH: print the status code of a GET (000 on failure).
sy_get_status() {
	sy_curl -g -o /dev/null -w '%{http_code}' "$(sy_url "$1")" 2>/dev/null ||
	    true
}

# sy_fetch PATH [CURL_ARGS...]: one request with curl, the body kept as
# sent (no decoding). Sets CODE (000 on failure); the headers go to
# $SY_FETCH_H (CRs removed), the body to $SY_FETCH_B.
SY_FETCH_H=$SY_TMP/fetch.h
SY_FETCH_B=$SY_TMP/fetch.b
sy_fetch() {
	local path=$1
	shift
	CODE=$(sy_curl -g -D "$SY_FETCH_H.raw" -o "$SY_FETCH_B" \
	    -w '%{http_code}' "$@" "$(sy_url "$path")") || CODE=000
	tr -d '\r' <"$SY_FETCH_H.raw" >"$SY_FETCH_H"
}

# sy_fetched NAME: the value of header NAME (any case) of the last sy_fetch.
sy_fetched() {
	awk -v n="$1" '{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == tolower(n)) {
	    v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }' "$SY_FETCH_H"
}

# check_hello WHAT: FAIL unless GET /hello answers 200 now.
check_hello() {
	local code
	code=$(sy_get_status /hello)
	if [ "$code" = 200 ]; then
		ok "$1: server still answers /hello"
	else
		fail "$1: server does not answer /hello afterwards (got $code)"
	fi
}

# sy_open VAR: connect to the server; the descriptor goes in VAR.
sy_open() {
	local _sy_fd
	if ! exec {_sy_fd}<>"/dev/tcp/$SY_ADDR/$SY_PORT"; then
		fail "cannot connect to $SY_ADDR:$SY_PORT"
		return 1
	fi
	printf -v "$1" '%s' "$_sy_fd"
}

# sy_close FD
sy_close() {
	eval "exec $1>&-"
}

# sy_hold N TAG: open N connections and keep them open, each having
# sent GET /hello?TAG=I and read the status line of its answer (so a
# worker has accepted it); the descriptors go in SY_HELD. Bash alone,
# no process per connection: N in a few hundred milliseconds. Returns
# 1, after a fail, when one gets no answer. TAG "-": send nothing (no
# request to count; placement counts a connection from its SYN, and
# timeouts.header_ms closes it).
SY_HELD=()
sy_hold() {
	local i fd line
	for ((i = 1; i <= $1; i++)); do
		sy_open fd || return 1
		SY_HELD+=("$fd")
		[ "$2" = - ] && continue
		printf 'GET /hello?%s=%d HTTP/1.1\r\nHost: x\r\n\r\n' "$2" "$i" >&"$fd" 2>/dev/null
		if ! IFS= read -r -t 5 line <&"$fd"; then
			fail "sy_hold: no answer on connection $i of $1"
			return 1
		fi
	done
}

# sy_release: close the connections sy_hold opened.
sy_release() {
	local fd
	for fd in "${SY_HELD[@]}"; do
		sy_close "$fd"
	done
	SY_HELD=()
}

# sy_send FD BYTES: write BYTES (printf %b escapes: \r\n, \x00...).
sy_send() {
	printf '%b' "$2" >&"$1" 2>/dev/null
}

# sy_read_resp FD [TIMEOUT_S [nobody]]: read one response. Sets R_STATUS
# (the code), R_LINE (the status line), R_HEADERS (header lines, CR
# removed), R_BODY (Content-Length bytes; none for "nobody", as after a
# HEAD). Returns 1, with R_ERR set, on a timeout or EOF before the end.
sy_read_resp() {
	local fd=$1 t=${2:-5} mode=${3:-} line len
	R_STATUS= R_LINE= R_HEADERS= R_BODY= R_ERR=
	if ! IFS= read -r -t "$t" line <&"$fd"; then
		R_ERR="no status line (timeout or EOF)"
		return 1
	fi
	R_LINE=${line%$'\r'}
	R_STATUS=$(echo "$R_LINE" | sed -n 's|^HTTP/1\.[01] \([0-9][0-9][0-9]\) .*|\1|p')
	while :; do
		if ! IFS= read -r -t "$t" line <&"$fd"; then
			R_ERR="headers cut short (timeout or EOF)"
			return 1
		fi
		line=${line%$'\r'}
		[ -z "$line" ] && break
		R_HEADERS+=$line$'\n'
	done
	# 1xx answers have no body.
	case $R_STATUS in 1??) return 0 ;; esac
	[ "$mode" = nobody ] && return 0
	len=$(R_HEADERS=$R_HEADERS hdr content-length)
	if [ -z "$len" ]; then
		R_ERR="no Content-Length"
		return 1
	fi
	if [ "$len" -gt 0 ] && ! IFS= read -r -t "$t" -N "$len" R_BODY <&"$fd"; then
		R_ERR="body cut short: got ${#R_BODY} of $len bytes"
		return 1
	fi
	return 0
}

# hdr NAME: the value of header NAME in R_HEADERS (case-insensitive).
hdr() {
	printf '%s' "$R_HEADERS" | awk -v n="$1" '
	    { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == tolower(n)) {
	      v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }'
}

# sy_expect_eof FD TIMEOUT_S: 0 when the server closes the connection
# within TIMEOUT_S, 1 when it sends data instead, 2 on timeout.
sy_expect_eof() {
	local c rc
	IFS= read -r -t "$2" -N 1 c <&"$1" 2>/dev/null
	rc=$?
	if [ $rc -gt 128 ]; then
		return 2
	fi
	[ $rc -eq 0 ] && [ -n "$c" ] && return 1
	return 0
}

# sy_raw BYTES [TIMEOUT_S]: connect, send BYTES (printf %b), read until the
# server closes. Sets RAW (everything received, CRs kept), RAW_STATUS
# (first status code), RAW_RC (0: the server closed; 124: still open
# after TIMEOUT_S; other: a read error such as a reset) and RAW_MS (time
# from the send to the close).
sy_raw() {
	local req=$1 t=${2:-5} out fd t0
	SY_NRAW=$((SY_NRAW + 1))
	out=$SY_TMP/raw.$SY_NRAW
	RAW= RAW_STATUS= RAW_RC= RAW_MS=
	sy_open fd || return 1
	t0=$(now_ms)
	printf '%b' "$req" >&"$fd" 2>/dev/null
	timeout "$t" cat <&"$fd" >"$out" 2>"$out.err"
	RAW_RC=$?
	RAW_MS=$(($(now_ms) - t0))
	eval "exec $fd>&-"
	RAW=$(cat "$out"; echo x)
	RAW=${RAW%x}
	RAW_STATUS=$(head -1 "$out" | sed -n 's|^HTTP/1\.[01] \([0-9][0-9][0-9]\) .*|\1|p')
}

# raw_head: the header part of RAW (up to the blank line), CRs removed.
raw_head() {
	printf '%s' "$RAW" | tr -d '\r' | sed '/^$/q'
}

# raw_body: what follows the first blank line of RAW.
raw_body() {
	printf '%s' "$RAW" | awk 'BEGIN { RS = "\r\n\r\n" } NR == 1 { next } { printf "%s%s", sep, $0; sep = RS }'
}

# -- cleanup -----------------------------------------------------------------

sy_cleanup() {
	local rc=$1 l
	trap - EXIT
	kill "$SY_WATCHDOG" 2>/dev/null
	if [ -n "$SY_PID" ]; then
		sy_kill
	fi
	for l in "${SY_LOGS[@]}"; do
		[ -f "$l" ] && sy_check_log "$l"
	done
	for l in "${SY_LOCKS[@]}"; do
		rm -rf "$l"
	done
	if [ "$SY_FAILS" -gt 0 ]; then
		for l in "$SY_TMP"/server.*.log; do
			[ -f "$l" ] || continue
			echo "# --- $(basename "$l") (last 40 lines) ---"
			tail -40 "$l" | sed 's/^/#   /'
		done
	fi
	if [ "${SY_KEEP:-0}" = 1 ]; then
		echo "# kept $SY_TMP"
	else
		rm -rf "$SY_TMP"
	fi
	if [ "${SY_SKIP:-0}" = 1 ]; then
		exit 77
	fi
	if [ "$SY_FAILS" -gt 0 ]; then
		echo "$SY_TEST: $SY_FAILS FAILED, $SY_OKS ok"
		exit 1
	fi
	if [ "$rc" -ne 0 ]; then
		echo "$SY_TEST: exited with status $rc"
		exit "$rc"
	fi
	echo "$SY_TEST: all $SY_OKS ok"
	exit 0
}

trap 'sy_cleanup $?' EXIT
trap 'exit 1' TERM INT HUP
