#!/bin/bash
# load.sh - ab against /hello on 2 workers, with keep-alive (50000
# requests) and without (20000, a connection each): every request
# completes, none fails, all are 2xx.
. "$(dirname "$0")/lib.sh"

command -v ab >/dev/null 2>&1 || skip_all "ab (apache2-utils) is not installed"

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  "access_log": "off",
  "routes": [{"path": "/hello", "handler": "hello"}]
}' || exit 1

# run_ab NAME N ARGS...: ab -n N ARGS on /hello, then the assertions.
run_ab() {
	local name=$1 n=$2 out rc
	shift 2
	out=$SY_TMP/ab.$name
	timeout 300 ab -n "$n" "$@" -s 30 "$(sy_url /hello)" >"$out" 2>&1
	rc=$?
	check "$name: ab exit status 0 ($rc)" [ "$rc" = 0 ]
	check "$name: Complete requests: $n" grep -Eq "^Complete requests: +$n\$" "$out"
	check "$name: Failed requests: 0" grep -Eq '^Failed requests: +0$' "$out"
	check "$name: no Non-2xx responses" eval "! grep -q '^Non-2xx' '$out'"
	check "$name: Document Length: 25 bytes" grep -Eq '^Document Length: +25 bytes$' "$out"
	grep -E '^(Requests per second|Time per request|Time taken)' "$out" |
	    sed "s/^/# $name: /"
	if [ "$rc" != 0 ] || ! grep -Eq '^Failed requests: +0$' "$out"; then
		sed 's/^/#   /' "$out"
	fi
	AB_OUT=$out
}

run_ab "ab -k -c 50" 50000 -k -c 50
check "ab -k: every request on a kept-alive connection" \
    grep -Eq '^Keep-Alive requests: +50000$' "$AB_OUT"

run_ab "ab -c 50 (no keep-alive)" 20000 -c 50

check_hello "after the load"
sy_stop
