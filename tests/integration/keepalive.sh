#!/bin/bash
# keepalive.sh - connection persistence: HTTP/1.1 default keep-alive,
# HTTP/1.0 opt-in, Connection: close, the keep-alive timeout, Expect:
# 100-continue and chunked request bodies.
. "$(dirname "$0")/lib.sh"

conf='{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "timeouts": {"keepalive_ms": KEEPALIVE},
  "access_log": "stderr",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/post", "handler": "hello", "methods": ["POST"]}
  ]
}'
H='Host: test\r\n'
HELLO='{"message":"Hello world"}'

sy_start "${conf/KEEPALIVE/5000}" || exit 1

# -- HTTP/1.1: two requests on one connection ----------------------------------
sy_open fd
sy_send "$fd" "GET /hello HTTP/1.1\r\n$H\r\n"
sy_read_resp "$fd" 5 || fail "1.1 first request: $R_ERR"
check "1.1 first request: 200 with the body" eval '[ "$R_STATUS" = 200 ] && [ "$R_BODY" = "$HELLO" ]'
check "1.1 first request: no Connection header ($(hdr connection))" [ -z "$(hdr connection)" ]
sy_send "$fd" "GET /hello HTTP/1.1\r\n$H\r\n"
sy_read_resp "$fd" 5 || fail "1.1 second request: $R_ERR"
check "1.1 second request on the same connection: 200" eval '[ "$R_STATUS" = 200 ] && [ "$R_BODY" = "$HELLO" ]'
check "1.1 second request: no Connection header" [ -z "$(hdr connection)" ]

# Connection: close on 1.1: answered with Connection: close, then EOF.
sy_send "$fd" "GET /hello HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
sy_read_resp "$fd" 5 || fail "1.1 Connection: close: $R_ERR"
check "1.1 Connection: close: 200" [ "$R_STATUS" = 200 ]
check "1.1 Connection: close: answered with Connection: close" [ "$(hdr connection)" = close ]
sy_expect_eof "$fd" 5
check "1.1 Connection: close: the server closes (status $?)" [ $? = 0 ]
sy_close "$fd"

# -- HTTP/1.0 ------------------------------------------------------------------
sy_open fd
sy_send "$fd" "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
sy_read_resp "$fd" 5 || fail "1.0 keep-alive: $R_ERR"
check "1.0 keep-alive: 200" [ "$R_STATUS" = 200 ]
check "1.0 keep-alive: answered with Connection: keep-alive ($(hdr connection))" \
    [ "$(hdr connection)" = keep-alive ]
sy_send "$fd" "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
sy_read_resp "$fd" 5 || fail "1.0 keep-alive, second request: $R_ERR"
check "1.0 keep-alive: a second request on the same connection: 200" \
    eval '[ "$R_STATUS" = 200 ] && [ "$R_BODY" = "$HELLO" ]'
# Then a plain 1.0 request on it: answered, and the connection ends.
sy_send "$fd" "GET /hello HTTP/1.0\r\n\r\n"
sy_read_resp "$fd" 5 || fail "1.0 plain after keep-alive: $R_ERR"
check "1.0 without keep-alive: 200" [ "$R_STATUS" = 200 ]
check "1.0 without keep-alive: Connection: close" [ "$(hdr connection)" = close ]
sy_expect_eof "$fd" 5
check "1.0 without keep-alive: the server closes (status $?)" [ $? = 0 ]
sy_close "$fd"

sy_raw "GET /hello HTTP/1.0\r\n\r\n" 5
R_HEADERS=$(raw_head | sed 1d)
check "1.0 first request without keep-alive: 200" [ "$RAW_STATUS" = 200 ]
check "1.0 first request without keep-alive: Connection: close" [ "$(hdr connection)" = close ]
check "1.0 first request without keep-alive: EOF after the body" \
    eval '[ "$RAW_RC" = 0 ] && [ "$(raw_body)" = "$HELLO" ]'

# -- Expect: 100-continue --------------------------------------------------------
body=$(head -c 2000 /dev/zero | tr '\0' e)
sy_open fd
sy_send "$fd" "POST /post HTTP/1.1\r\n${H}Content-Length: 2000\r\nExpect: 100-continue\r\n\r\n"
sy_read_resp "$fd" 5 || fail "100-continue: $R_ERR"
check "100-continue: interim 'HTTP/1.1 100 Continue' before the body is sent ($R_LINE)" \
    [ "$R_LINE" = "HTTP/1.1 100 Continue" ]
sy_send "$fd" "$body"
sy_read_resp "$fd" 5 || fail "100-continue final answer: $R_ERR"
check "100-continue: then the final 200" eval '[ "$R_STATUS" = 200 ] && [ "$R_BODY" = "$HELLO" ]'
check "100-continue: connection kept" [ -z "$(hdr connection)" ]
# No 100 for a request refused on its headers: a 404 straight away, and
# the unread body means the connection must close.
sy_send "$fd" "POST /missing HTTP/1.1\r\n${H}Content-Length: 2000\r\nExpect: 100-continue\r\n\r\n"
sy_read_resp "$fd" 5 || fail "100-continue on a missing route: $R_ERR"
check "100-continue on a missing route: 404 without a 100 first ($R_LINE)" [ "$R_STATUS" = 404 ]
check "100-continue on a missing route: Connection: close" [ "$(hdr connection)" = close ]
sy_expect_eof "$fd" 5
check "100-continue on a missing route: the server closes (status $?)" [ $? = 0 ]
sy_close "$fd"

# HTTP/1.0 clients do not know 100: none is sent.
sy_raw "POST /post HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello" 5
check "100-continue on HTTP/1.0: no 100, just 200" [ "$RAW_STATUS" = 200 ]

# curl, with a body over 1024 bytes.
printf '%s' "$body" >"$SY_TMP/body"
out=$(sy_curl -v -H 'Expect: 100-continue' --data-binary @"$SY_TMP/body" \
    "$(sy_url /post)" 2>"$SY_TMP/curl.err")
check "curl 100-continue: server sent 'HTTP/1.1 100 Continue'" \
    grep -q '^< HTTP/1.1 100 Continue' "$SY_TMP/curl.err"
check "curl 100-continue: final 200 with the body" eval \
    '[ "$out" = "$HELLO" ] && grep -q "^< HTTP/1.1 200 OK" "$SY_TMP/curl.err"'

# -- chunked request bodies ------------------------------------------------------
sy_open fd
sy_send "$fd" "POST /post HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\n"
sy_read_resp "$fd" 5 || fail "chunked POST: $R_ERR"
check "chunked POST (with a chunk extension and a trailer): 200" \
    eval '[ "$R_STATUS" = 200 ] && [ "$R_BODY" = "$HELLO" ]'
sy_send "$fd" "GET /hello HTTP/1.1\r\n$H\r\n"
sy_read_resp "$fd" 5 || fail "request after a chunked POST: $R_ERR"
check "the connection carries on after a chunked body: 200" [ "$R_STATUS" = 200 ]
sy_close "$fd"

code=$(sy_curl -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$SY_TMP/body" "$(sy_url /post)")
check "curl chunked POST of 2000 bytes: 200 ($code)" [ "$code" = 200 ]

sy_stop

# -- the keep-alive timeout --------------------------------------------------------
sy_start "${conf/KEEPALIVE/300}" || exit 1
sy_open fd
t0=$(now_ms)	# before the request: the idle timer starts after it
sy_send "$fd" "GET /hello HTTP/1.1\r\n$H\r\n"
sy_read_resp "$fd" 5 || fail "keep-alive timeout, request: $R_ERR"
sy_expect_eof "$fd" 5
rc=$?
elapsed=$(($(now_ms) - t0))
check "an idle keep-alive connection is closed (status $rc)" [ $rc = 0 ]
check "... after keepalive_ms 300 (${elapsed} ms), not at once" [ "$elapsed" -ge 280 ]
check "... and well before 5 s" [ "$elapsed" -lt 4000 ]
sy_close "$fd"
check_hello "after the keep-alive timeout"
sy_stop

# keepalive_ms 0 turns keep-alive off: every answer closes.
sy_start "${conf/KEEPALIVE/0}" || exit 1
sy_open fd
sy_send "$fd" "GET /hello HTTP/1.1\r\n$H\r\n"
sy_read_resp "$fd" 5 || fail "keepalive_ms 0: $R_ERR"
check "keepalive_ms 0: Connection: close" [ "$(hdr connection)" = close ]
sy_expect_eof "$fd" 5
check "keepalive_ms 0: the server closes (status $?)" [ $? = 0 ]
sy_close "$fd"
sy_stop
