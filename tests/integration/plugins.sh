#!/bin/bash
# plugins.sh - handlers of the user's own, from shared objects named in
# the config's "plugins".
#
#  (a) the SDK: "make install DESTDIR=..." then a plugin (tests/plugins/
#      hi.c) built against the installed header with pkg-config, as a
#      user would; it answers on a nonblocking route on the loop thread
#      and on a blocking route on a pool thread;
#  (b) the binary exports the sy_* API and nothing else of its own;
#  (c) 40 concurrent 300 ms calls into a blocking plugin route, on 2
#      workers x 40 threads, finish together, far below the 12 s they take
#      one after another;
#  (d) new code on SIGHUP: hi.so rebuilt, installed with a rename, HUP,
#      all under ab -k: the new version answers, ab has 0 failed and 0
#      non-2xx responses;
#  (e) every refusal (missing file, not a shared object, an undefined
#      symbol, no table, an empty table, another ABI, an invalid name, a
#      name clash with a built-in and between plugins, a loop-only handler
#      on a blocking route, args refused by init(), an init() that
#      crashes) gives its message with -t, at start, and on a HUP, where
#      the old code keeps answering;
#  (f) a crashing plugin: the master's log names the signal and the route
#      and handler that were running; the worker comes back; /status
#      shows the last crash;
#  (g) the README's "Write your own handler" plugin, taken from README.md,
#      builds warning-free and answers as the README shows.
. "$(dirname "$0")/lib.sh"

: "${SY_BUILDDIR:=${SY_BIN%/src/switchyard}}"
for t in cc pkg-config ab nm; do
	command -v "$t" >/dev/null || { fail "$t is not installed"; exit 1; }
done

sy_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	    make -s -C "$SY_BUILDDIR" "$@"
}

# -- (a) the SDK, from an installed tree ----------------------------------------
root=$SY_TMP/root
if ! sy_make install DESTDIR="$root" >"$SY_TMP/install.log" 2>&1; then
	fail "make install DESTDIR=... failed:"
	tail -20 "$SY_TMP/install.log" | sed 's/^/#   /'
	exit 1
fi
pc=$(cd "$root" && find . -name switchyard.pc | head -1)
if [ -z "$pc" ]; then
	fail "make install put no switchyard.pc in the tree"
	exit 1
fi
ok "make install installs ${pc#.}"
export PKG_CONFIG_PATH=$root$(dirname "${pc#.}") PKG_CONFIG_SYSROOT_DIR=$root
cflags=$(pkg-config --cflags switchyard) || { fail "pkg-config --cflags switchyard"; exit 1; }
libs=$(pkg-config --libs switchyard) || { fail "pkg-config --libs switchyard"; exit 1; }
case $cflags in
*"$root"*) ok "pkg-config --cflags switchyard points into the installed tree ($cflags)" ;;
*) fail "pkg-config --cflags switchyard: $cflags (not the installed tree)" ;;
esac

# build OUT [CFLAGS...]: tests/plugins/hi.c into $SY_TMP/OUT, as a user would.
build() {
	local out=$1
	shift
	# shellcheck disable=SC2086
	cc -std=c11 -O1 -shared -fPIC $cflags "$@" -o "$SY_TMP/$out" \
	    "$SY_SRCDIR/tests/plugins/hi.c" $libs 2>"$SY_TMP/$out.cc.log"
}
if build hi.so -Wall -Wextra -Werror; then
	ok "cc -std=c11 -shared -fPIC \$(pkg-config --cflags switchyard) builds hi.so warning-free"
else
	fail "building hi.so:"
	sed 's/^/#   /' "$SY_TMP/hi.so.cc.log"
	exit 1
fi
undef=$(nm -D --undefined-only "$SY_TMP/hi.so" | awk '$2 ~ /^sy_/ { print $2 }' | sort | tr '\n' ' ')
check "the plugin leaves the sy_* API to the binary (undefined: $undef)" \
    test -n "$undef"

conf_hi='{
  "listen": ["127.0.0.1:@PORT@"], "workers": 2, "threads": 40,
  "log_level": "info", "access_log": "@TMP@/access.log",
  "plugins": ["hi.so"],
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/status", "handler": "status"},
    {"path": "/hi", "handler": "hi", "args": {"greeting": "hello from a plugin"}},
    {"path": "/hib", "handler": "hi", "mode": "blocking"},
    {"path": "/slow", "handler": "hi", "mode": "blocking", "args": {"ms": 300}},
    {"path": "/loop", "handler": "hi_loop"},
    {"path": "/crash", "handler": "hi_crash", "mode": "blocking"}
  ]
}'
# A plugin that faults must die of its signal here, not in a sanitizer's
# report (which a real SIGSEGV would give under ASan).
export ASAN_OPTIONS="$ASAN_OPTIONS:handle_segv=0"
sy_start "$conf_hi" || exit 1

body=$(sy_curl "$(sy_url /hi)")
case $body in
*'"greeting":"hello from a plugin"'*'"version":1'*'"main_thread":"yes"'*)
	ok "nonblocking plugin route: on the loop thread ($body)" ;;
*) fail "nonblocking plugin route: $body" ;;
esac
body=$(sy_curl "$(sy_url /hib)")
case $body in
*'"greeting":"hi"'*'"main_thread":"no!"'*)
	ok "blocking plugin route: on a pool thread ($body)" ;;
*) fail "blocking plugin route: $body" ;;
esac
check "a loop-only plugin handler answers" test "$(sy_get_status /loop)" = 200

# -- (b) what the binary exports ------------------------------------------------
# Defined dynamic symbols: ours must all be sy_*; the C runtime's own come
# versioned (stdout@GLIBC_2.2.5, copy relocations); a sanitizer's are __*.
exported=$(nm -D --defined-only "$SY_BIN_REAL" | awk '{ print $3 }')
foreign=$(printf '%s\n' "$exported" | grep -v '@' | grep -Ev '^(sy_|__|_init$|_fini$|_edata$|_end$|__bss_start$)' | tr '\n' ' ')
check "nm -D: the binary exports no symbol of its own but sy_* (others: '${foreign}')" \
    test -z "$foreign"
missing=
for f in $(sed -n 's/^[a-z].*[ *]\(sy_[a-z_]*\)(.*/\1/p' "$SY_SRCDIR/include/switchyard.h" | sort -u); do
	printf '%s\n' "$exported" | grep -qx "$f" || missing+="$f "
done
nfun=$(sed -n 's/^[a-z].*[ *]\(sy_[a-z_]*\)(.*/\1/p' "$SY_SRCDIR/include/switchyard.h" | sort -u | wc -l)
check "nm -D: every one of the $nfun sy_* functions of switchyard.h is exported (missing: '$missing')" \
    test -z "$missing" -a "$nfun" -gt 20

# -- (c) a blocking plugin route in parallel ------------------------------------
t0=$(now_ms)
ab -q -n 40 -c 40 -s 20 "$(sy_url /slow)" >"$SY_TMP/ab-slow.txt" 2>&1
elapsed=$(($(now_ms) - t0))
sy_ab_read "$SY_TMP/ab-slow.txt"
info "40 concurrent 300 ms blocking plugin calls: $elapsed ms (one after another: 12000 ms)"
check "40 concurrent 300 ms calls: all 40 complete, 0 failed" \
    test "${AB_DONE:-0}" = 40 -a "${AB_FAILED:-1}" = 0
check "40 concurrent 300 ms calls finish together: $elapsed ms < 1500 ms (4 waves at most)" \
    test "$elapsed" -lt 1500

# -- (d) new code on SIGHUP, under ab -k -------------------------------------
build hi.so.new -DHI_VERSION=2 || { fail "building hi.so version 2"; exit 1; }
lines() { wc -l <"$SY_TMP/access.log" 2>/dev/null || echo 0; }
ab -k -c 4 -t 120 -n 50000000 -s 10 "$(sy_url /hi)" >"$SY_TMP/ab-hup.txt" 2>&1 &
abpid=$!
n0=$(lines)
check "ab -k is under way before the swap" wait_for "[ \$(lines) -gt $((n0 + 500)) ]" 20
mv -f "$SY_TMP/hi.so.new" "$SY_TMP/hi.so"
kill -HUP "$SY_PID"
check "HUP after the rename: generation 2 ready" \
    wait_for "grep -q 'reload: generation 2 ready' '$SY_LOG'" 20
check "the new code answers after the reload (version 2)" \
    wait_for "sy_curl '$(sy_url /hi)' | grep -q '\"version\":2'" 10
n1=$(lines)
wait_for "[ \$(lines) -gt $((n1 + 500)) ]" 20
if alive "$abpid"; then
	ok "ab -k ran across the whole swap"
	kill -INT "$abpid"
else
	fail "ab -k ended before the swap was over"
fi
wait "$abpid"
sy_ab_read "$SY_TMP/ab-hup.txt"
info "ab -k across the plugin swap: $AB_DONE complete, ${AB_FAILED:-?} failed, $AB_NON2XX non-2xx $AB_WHY"
check "ab -k across the plugin swap: 0 failed, 0 non-2xx, >1000 requests" \
    test "${AB_FAILED:-1}" = 0 -a "$AB_NON2XX" = 0 -a "${AB_DONE:-0}" -gt 1000

# -- (e) refusals, with -t, at start and on HUP ---------------------------------
build hi-abi.so -DHI_BAD_ABI
build hi-name.so -DHI_BAD_NAME
build hi-clash.so -DHI_CLASH
build hi-empty.so -DHI_EMPTY
build hi-notable.so -DHI_NO_TABLE
build hi-undef.so -DHI_UNDEFINED
build hi-initcrash.so -DHI_INIT_CRASH
cp "$SY_TMP/hi.so" "$SY_TMP/hi-copy.so"
# Long enough to have an ELF header's size: the reason is then the header.
for i in $(seq 100); do echo "not a shared object"; done >"$SY_TMP/junk.so"
S=$SY_TMP

# refusal WHAT PLUGINS ROUTES EXPECTED: a config that must be refused with
# EXPECTED (a fixed string) by -t, at start and by a HUP to the server.
nref=0
refusal() {
	local what=$1 plugins=$2 routes=$3 want=$4 f out rc
	nref=$((nref + 1))
	f=$SY_TMP/bad$nref.json
	printf '{"listen": ["127.0.0.1:%s"], "log_level": "info", "plugins": %s, "routes": [%s]}\n' \
	    "$SY_PORT" "$plugins" "$routes" >"$f"
	out=$("$SY_BIN" -t -c "$f" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && [[ $out == *"$f: "*"$want"* ]]; then
		ok "$what: -t: $out"
	else
		fail "$what: -t exited $rc: '$out', wanted '$f: ...$want'"
	fi
	out=$(timeout 20 "$SY_BIN" -c "$f" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" = 1 ] && [[ $out == *"$want"* ]]; then
		ok "$what: refused at start (exit 1)"
	else
		fail "$what: at start: exit $rc, '$out'"
	fi
	cp "$f" "$SY_CONF"
	kill -HUP "$SY_PID"
	if wait_for "grep -F -q -- 'reload: $f' '$SY_LOG' 2>/dev/null || grep -F -q -- '$want' '$SY_LOG'" 15 &&
	    grep -F -- "$want" "$SY_LOG" | grep -q 'keeping the running configuration'; then
		ok "$what: HUP refused, keeping the running configuration"
	else
		fail "$what: HUP: no 'keeping the running configuration' line with '$want'"
		tail -5 "$SY_LOG" | sed 's/^/#   /'
	fi
	# The config file the server reads is now bad: the old code serves on.
	body=$(sy_curl "$(sy_url /hi)")
	case $body in
	*'"version":2'*) ;;
	*) fail "$what: after the refused HUP, /hi answers '$body'" ;;
	esac
}
# The HUP messages name the server's config path, not $f: compare the reason.
hi_routes='{"path": "/hi", "handler": "hi"}'
refusal "a missing file" '["nope.so"]' "$hi_routes" \
    "plugins[0]: $S/nope.so: No such file or directory"
refusal "not a shared object" '["junk.so"]' "$hi_routes" \
    "plugins[0] ($S/junk.so): invalid ELF header"
refusal "an undefined symbol" '["hi-undef.so"]' "$hi_routes" \
    "plugins[0] ($S/hi-undef.so): undefined symbol: sy_no_such_function"
refusal "no sy_plugin_handlers" '["hi-notable.so"]' "$hi_routes" \
    "plugins[0] ($S/hi-notable.so): no sy_plugin_handlers symbol"
refusal "an empty table" '["hi-empty.so"]' "$hi_routes" \
    "plugins[0] ($S/hi-empty.so): sy_plugin_handlers is empty"
refusal "another ABI" '["hi-abi.so"]' "$hi_routes" \
    "plugins[0] ($S/hi-abi.so): handler 2 (hi_future): built for ABI 99, this server has 1"
refusal "an invalid name" '["hi-name.so"]' "$hi_routes" \
    "plugins[0] ($S/hi-name.so): handler 2: name \"hi there\" is invalid"
refusal "a clash with a built-in" '["hi-clash.so"]' "$hi_routes" \
    "plugins[0] ($S/hi-clash.so): handler \"hello\" is already provided by a built-in"
refusal "a clash between plugins" '["hi.so", "hi-copy.so"]' "$hi_routes" \
    "plugins[1] ($S/hi-copy.so): handler \"hi\" is already provided by $S/hi.so"
refusal "a loop-only handler on a blocking route" '["hi.so"]' \
    '{"path": "/l", "handler": "hi_loop", "mode": "blocking"}' \
    "routes[0] (\"/l\"): mode: handler \"hi_loop\" needs the event loop; use \"nonblocking\""
refusal "args refused by the plugin's init()" '["hi.so"]' \
    '{"path": "/hi", "handler": "hi", "args": {"greeting": 5}}' \
    "routes[0] (\"/hi\"): args.greeting: must be a string of at most 63 bytes"
refusal "an unknown handler names the plugins' too" '["hi.so"]' \
    '{"path": "/x", "handler": "ho"}' \
    "handler: \"ho\" is not a known handler (known: async_sleep, cpu, dashboard, echo, hash_body, health, hello, json, metrics, sleep, static, status, write_file, hi, hi_loop, hi_crash, hi_client)"
refusal "an init() that crashes" '["hi-initcrash.so"]' "$hi_routes" \
    "killed by signal 11 (Segmentation fault) in init() of a plugin or handler"
info "$nref refusals, each with -t, at start and on HUP"
# Back to the good file for what follows (a reload that changes nothing).
printf '%s\n' "${conf_hi//@PORT@/$SY_PORT}" | sed "s|@TMP@|$SY_TMP|g" >"$SY_CONF"
gens=$(grep -c 'reload: generation [0-9]* ready' "$SY_LOG")
kill -HUP "$SY_PID"
check "HUP with the good file again: a new generation" \
    wait_for "[ \$(grep -c 'reload: generation [0-9]* ready' '$SY_LOG') -gt $gens ]" 20

# -- (f) a crashing plugin --------------------------------------------------------
before=$(sy_worker_pids | sort | tr '\n' ' ')
code=$(sy_get_status '/crash?now')
info "GET /crash?now: $code (the worker died under it)"
check "the crash is logged with the signal, the route and the handler" \
    wait_for "grep -Eq 'worker [0-9]+ \\(pid [0-9]+\\) killed by signal 11 \\(Segmentation fault\\) while running /crash \\(handler hi_crash\\)' '$SY_LOG'" 10
grep -E 'killed by signal 11' "$SY_LOG" | head -1 | sed 's/^/#   /'
check "a new worker replaces the one that crashed" \
    wait_for "[ \$(sy_worker_pids | wc -l) -gt $(printf '%s\n' $before | wc -l) ]" 10
check "the replacement serves the plugin" \
    wait_for "[ \"\$(for i in 1 2 3 4; do sy_get_status /hi; echo; done | sort -u)\" = 200 ]" 10
last=$(sy_curl "$(sy_url /status)" | python3 -c '
import json, sys
s = json.load(sys.stdin)
c = s.get("server", {}).get("last_crash") or {}
print(c.get("route"), c.get("handler"), c.get("signal"), sep="|")')
check "/status: server.last_crash names /crash, hi_crash, signal 11 ($last)" \
    test "$last" = "/crash|hi_crash|11"

SY_EXPECT_ERRORS='reload: |killed by signal 11|checking the handlers|keeps crashing'
sy_stop

# -- (g) the README's plugin ------------------------------------------------------
sed -n '/^\/\* greet.c /,/^SY_PLUGIN(&greet);/p' "$SY_SRCDIR/README.md" >"$SY_TMP/greet.c"
# shellcheck disable=SC2086
if [ "$(wc -l <"$SY_TMP/greet.c")" -gt 20 ] &&
    cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags -o "$SY_TMP/greet.so" \
    "$SY_TMP/greet.c" $libs 2>"$SY_TMP/greet.cc.log"; then
	ok "README: greet.c ($(wc -l <"$SY_TMP/greet.c") lines) builds warning-free"
else
	fail "README: greet.c does not build:"
	sed 's/^/#   /' "$SY_TMP/greet.cc.log"
fi
sy_start '{
  "listen": ["127.0.0.1:@PORT@"], "log_level": "info",
  "plugins": ["greet.so"],
  "routes": [
    {"path": "/greet", "handler": "greet", "mode": "blocking",
     "args": {"word": "Hello"}}
  ]
}' || exit 1
body=$(sy_curl "$(sy_url '/greet?name=Ada')")
check "README: GET /greet?name=Ada answers $body" test "$body" = '{"message":"Hello, Ada"}'
body=$(sy_curl -i "$(sy_url /greet)" | tr -d '\r')
case $body in
"HTTP/1.1 422 Unprocessable Entity"*'{"detail":"name: required (at most 63 bytes)"}')
	ok "README: GET /greet without a name answers 422 with the detail" ;;
*) fail "README: GET /greet without a name: $body" ;;
esac
sy_stop
