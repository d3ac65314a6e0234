#!/bin/bash
# cli.sh - the command line: -V, -h, -t (good, syntax error, semantic
# error, never binds), and refused options (-x, -w 0, -l bad, extra args).
. "$(dirname "$0")/lib.sh"

out=$SY_TMP/out
err=$SY_TMP/err

# run ARGS...: run the binary (bounded), status in RC, output in out/err.
run() {
	timeout 10 "$SY_BIN" "$@" >"$out" 2>"$err" </dev/null
	RC=$?
}

# expect_rc WHAT WANT
expect_rc() {
	if [ "$RC" = "$2" ]; then
		ok "$1: exit $RC"
	else
		fail "$1: exit $RC, expected $2 (stdout: $(head -c 300 "$out"); stderr: $(head -c 300 "$err"))"
	fi
}

# expect_match WHAT FILE ERE
expect_match() {
	if grep -Eq -- "$3" "$2"; then
		ok "$1"
	else
		fail "$1: $(basename "$2") does not match /$3/: $(head -c 300 "$2")"
	fi
}

# -- -V, -h --------------------------------------------------------------------
run -V
expect_rc "-V" 0
expect_match "-V prints the version" "$out" '^switchyard [0-9]+\.[0-9]+(\.[0-9]+)?'

run -h
expect_rc "-h" 0
expect_match "-h prints the usage on stdout" "$out" '^usage: switchyard'

# -- -t ----------------------------------------------------------------------
good=$SY_SRCDIR/conf/switchyard.json
run -t -c "$good"
expect_rc "-t $good" 0
expect_match "-t says configuration OK" "$out" '^configuration OK'

# A JSON syntax error: a missing comma, reported at its line and column.
bad=$SY_TMP/syntax.json
printf '{\n  "workers": 2\n  "threads": 4\n}\n' >"$bad"
run -t -c "$bad"
expect_rc "-t on a syntax error" 1
expect_match "-t syntax error names FILE:LINE:COLUMN" "$err" \
    "^$bad:3:[0-9]+: "

# A semantic error: names the route and the key.
bad=$SY_TMP/semantic.json
cat >"$bad" <<'EOF'
{
  "listen": ["127.0.0.1:8080"],
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/nap", "handler": "async_sleep", "args": {"ms": "soon"}}
  ]
}
EOF
run -t -c "$bad"
expect_rc "-t on a semantic error" 1
expect_match "-t semantic error names the route" "$err" 'routes\[1\] \("/nap"\)'
expect_match "-t semantic error names the key" "$err" 'args\.ms'

run -t -c "$SY_TMP/does-not-exist.json"
expect_rc "-t on a missing file" 1

# -t never binds: it succeeds while another process holds the port.
sy_pick_port
held=$SY_TMP/held
python3 - "$SY_PORT" >"$held" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("ready", flush=True)
time.sleep(60)
EOF
holder=$!
if wait_for "grep -q ready '$held'" 10; then
	conf=$SY_TMP/held.json
	printf '{"listen": ["127.0.0.1:%s"], "workers": 1, "routes": [{"path": "/hello", "handler": "hello"}]}\n' \
	    "$SY_PORT" >"$conf"
	run -t -c "$conf"
	expect_rc "-t while the port is held by another process" 0
	expect_match "-t while the port is held says OK" "$out" '^configuration OK'
	# Proof that the port really is held: a real start must fail.
	run -c "$conf"
	expect_rc "a real start on the held port fails" 1
	expect_match "a real start on the held port says why" "$err" \
	    'error: 127\.0\.0\.1:[0-9]+: already in use by python3 \(pid [0-9]+\)$'
else
	fail "could not hold port $SY_PORT: $(cat "$held")"
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# -- refused options -----------------------------------------------------------
run -x
expect_rc "unknown option -x" 1
expect_match "unknown option prints the usage on stderr" "$err" '^usage: switchyard'

run -t -c "$good" extra
expect_rc "a stray argument" 1

for w in 0 1025 -1 two 2x ""; do
	run -t -c "$good" -w "$w"
	expect_rc "-w '$w' rejected" 1
	expect_match "-w '$w' says what is expected" "$err" '1\.\.1024'
done
run -t -c "$good" -w auto
expect_rc "-w auto accepted" 0
run -t -c "$good" -w 3
expect_rc "-w 3 accepted" 0

for l in 1.2.3:80 127.0.0.1 127.0.0.1:0 127.0.0.1:70000 localhost:80 \
    '[::1' '::1:80' '[::1]80' ':80'; do
	run -t -c "$good" -l "$l"
	expect_rc "-l '$l' rejected" 1
	expect_match "-l '$l' error names the option" "$err" "^switchyard: -l"
done
run -t -c "$good" -l 127.0.0.1:8080 -l 127.0.0.1:8080
expect_rc "-l given twice rejected" 1
run -t -c "$good" -l 127.0.0.1:8080 -l '[::1]:8080' -l '*:8081'
expect_rc "-l with v4, [v6] and * accepted" 0
