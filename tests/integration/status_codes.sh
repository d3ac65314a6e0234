#!/bin/bash
# status_codes.sh - every status the server produces today, each from a
# real request: 200, HEAD, 404, 405, and the framing errors (400, 408,
# 413, 414, 417, 431, 501, 505), after each of which the server must
# close the connection and go on answering /hello.
. "$(dirname "$0")/lib.sh"

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  "timeouts": {"header_ms": 300, "body_ms": 300, "keepalive_ms": 5000},
  "limits": {"body_bytes": 1024, "headers": 20, "uri_bytes": 4096,
             "header_bytes": 8192},
  "access_log": "stderr",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/post", "handler": "hello", "methods": ["POST"]}
  ]
}' || exit 1

H='Host: test\r\n'

# -- 200 ---------------------------------------------------------------------
hdrs=$SY_TMP/h200
body=$(sy_curl -D "$hdrs" "$(sy_url /hello)")
R_HEADERS=$(tr -d '\r' <"$hdrs" | sed 1d)
R_LINE=$(head -1 "$hdrs" | tr -d '\r')
check "200: status line" [ "$R_LINE" = "HTTP/1.1 200 OK" ]
check "200: body is exactly {\"message\":\"Hello world\"}" \
    [ "$body" = '{"message":"Hello world"}' ]
check "200: Content-Type application/json" [ "$(hdr content-type)" = application/json ]
check "200: Content-Length 25" [ "$(hdr content-length)" = 25 ]
check "200: Date is an IMF-fixdate ($(hdr date))" eval \
    '[[ "$(hdr date)" =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun),\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ GMT$ ]]'
check "200: Server switchyard/VERSION ($(hdr server))" eval \
    '[[ "$(hdr server)" =~ ^switchyard/[0-9] ]]'
check "200: no Connection: close on HTTP/1.1" [ -z "$(hdr connection)" ]

# -- HEAD --------------------------------------------------------------------
sy_raw "HEAD /hello HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
R_HEADERS=$(raw_head | sed 1d)
check "HEAD: 200" [ "$RAW_STATUS" = 200 ]
check "HEAD: Content-Length 25 (the GET's length)" [ "$(hdr content-length)" = 25 ]
check "HEAD: Content-Type application/json" [ "$(hdr content-type)" = application/json ]
check "HEAD: no body after the head" [ -z "$(raw_body)" ]
check "HEAD: connection closed as asked" [ "$RAW_RC" = 0 ]

# -- 404, 405: answered, connection kept ---------------------------------------
sy_open fd
sy_send "$fd" "GET /missing HTTP/1.1\r\n$H\r\n"
sy_read_resp "$fd" 5 || fail "404: $R_ERR"
check "404: status" [ "$R_STATUS" = 404 ]
check "404: JSON body {\"detail\":\"Not Found\"} ($R_BODY)" [ "$R_BODY" = '{"detail":"Not Found"}' ]
check "404: Content-Type application/json" [ "$(hdr content-type)" = application/json ]
check "404: connection kept" [ -z "$(hdr connection)" ]

sy_send "$fd" "DELETE /hello HTTP/1.1\r\n$H\r\n"
sy_read_resp "$fd" 5 || fail "405: $R_ERR"
check "405: status" [ "$R_STATUS" = 405 ]
check "405: Allow: GET, HEAD ($(hdr allow))" [ "$(hdr allow)" = "GET, HEAD" ]
check "405: JSON body ($R_BODY)" [ "$R_BODY" = '{"detail":"Method Not Allowed"}' ]

sy_send "$fd" "GET /post HTTP/1.1\r\n$H\r\n"
sy_read_resp "$fd" 5 || fail "405 on /post: $R_ERR"
check "405 on a POST-only route: Allow: POST ($(hdr allow))" \
    eval '[ "$R_STATUS" = 405 ] && [ "$(hdr allow)" = POST ]'

sy_send "$fd" "GET /hello HTTP/1.1\r\n$H\r\n"
sy_read_resp "$fd" 5 || fail "200 after 404/405: $R_ERR"
check "the same connection still answers after 404 and 405" [ "$R_STATUS" = 200 ]
sy_close "$fd"

# A 405 for a request with a body: the body is never read, so the
# connection must close after the answer.
sy_raw "PUT /hello HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello"
check "405 with a body: answered" [ "$RAW_STATUS" = 405 ]
check "405 with a body: connection closed" [ "$RAW_RC" = 0 ]

# -- framing errors: status, Connection: close, EOF, server alive --------------

# expect_error WHAT STATUS BYTES [MIN_MS]: send BYTES on a new connection;
# the answer must be STATUS with a JSON "detail" and Connection: close,
# the server must close the connection (within 5 s, and not before MIN_MS
# when given), and /hello must still work.
expect_error() {
	local what=$1 want=$2 req=$3 min_ms=${4:-}
	sy_raw "$req" 5
	R_HEADERS=$(raw_head | sed 1d)
	if [ "$RAW_STATUS" = "$want" ]; then
		ok "$what: $want"
	else
		fail "$what: got status '${RAW_STATUS:-none}' ($(printf '%s' "$RAW" | head -1 | tr -d '\r')), expected $want; request: $req"
	fi
	check "$what: JSON detail body" eval '[[ "$(raw_body)" == "{\"detail\":"* ]]'
	check "$what: Connection: close" [ "$(hdr connection)" = close ]
	case $RAW_RC in
	0)	ok "$what: connection closed by the server" ;;
	124)	fail "$what: connection still open 5 s after the answer" ;;
	*)	fail "$what: connection ended by an error ($(cat "$SY_TMP/raw.$SY_NRAW.err"))" ;;
	esac
	if [ -n "$min_ms" ]; then
		check "$what: answered after the timeout (${RAW_MS} ms >= $min_ms ms)" \
		    [ "$RAW_MS" -ge "$min_ms" ]
	fi
	check_hello "$what"
}

expect_error "garbage" 400 "GARBAGE\x01\x02 / nonsense\r\n\r\n"
expect_error "missing Host on HTTP/1.1" 400 "GET /hello HTTP/1.1\r\n\r\n"
expect_error "duplicate Host" 400 \
    "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
expect_error "duplicate Content-Length" 400 \
    "POST /post HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"
expect_error "conflicting Content-Length values" 400 \
    "POST /post HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 5\r\n\r\nabc"
expect_error "Content-Length with chunked" 400 \
    "POST /post HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
expect_error "bad chunk size" 400 \
    "POST /post HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"

# HTTP/1.0 without Host is fine.
sy_raw "GET /hello HTTP/1.0\r\n\r\n"
check "HTTP/1.0 without Host: 200" [ "$RAW_STATUS" = 200 ]

# 408: the header timeout (header_ms 300) on a request cut short, and the
# body timeout (body_ms 300) on a body cut short. sy_raw waits for the
# answer and the close, bounded by 5 s.
expect_error "header timeout" 408 "GET /hello HTTP/1.1\r\n${H}X-Slow: 1" 250
expect_error "header timeout after the request line" 408 "GET /hel" 250
expect_error "body timeout" 408 \
    "POST /post HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc" 250
expect_error "chunked body timeout" 408 \
    "POST /post HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nab" 250

# 413: Content-Length over limits.body_bytes (1024) is refused before the
# body; a chunked body is refused when it passes the limit.
expect_error "Content-Length over body_bytes" 413 \
    "POST /post HTTP/1.1\r\n${H}Content-Length: 2000\r\n\r\n"
big=$(head -c 1500 /dev/zero | tr '\0' a)
expect_error "chunked body over body_bytes" 413 \
    "POST /post HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5dc\r\n$big\r\n0\r\n\r\n"
# Exactly at the limit is fine.
kb=$(head -c 1024 /dev/zero | tr '\0' b)
sy_raw "POST /post HTTP/1.1\r\n${H}Content-Length: 1024\r\nConnection: close\r\n\r\n$kb"
check "a body of exactly body_bytes: 200" [ "$RAW_STATUS" = 200 ]

# 414: a target over limits.uri_bytes (4096).
long=/$(head -c 5000 /dev/zero | tr '\0' u)
expect_error "target over uri_bytes" 414 "GET $long HTTP/1.1\r\n$H\r\n"

# 431: a header section over header_bytes (8192), and more than 20 headers.
bigh=$(head -c 9000 /dev/zero | tr '\0' h)
expect_error "header section over header_bytes" 431 \
    "GET /hello HTTP/1.1\r\n${H}X-Big: $bigh\r\n\r\n"
many=
for i in $(seq 1 25); do
	many+="X-H$i: $i\r\n"
done
expect_error "more headers than limits.headers" 431 \
    "GET /hello HTTP/1.1\r\n$H$many\r\n"
# 20 headers in all is fine.
few=
for i in $(seq 1 18); do
	few+="X-H$i: $i\r\n"
done
sy_raw "GET /hello HTTP/1.1\r\n$H${few}Connection: close\r\n\r\n"
check "exactly limits.headers headers: 200" [ "$RAW_STATUS" = 200 ]

# 501: a transfer coding other than chunked.
expect_error "Transfer-Encoding: gzip" 501 \
    "POST /post HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n"
expect_error "Transfer-Encoding: gzip, chunked" 501 \
    "POST /post HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"

# An unknown coding is 501 even where chunked is not last (400 otherwise).
expect_error "Transfer-Encoding: chunked, identity" 501 \
    "POST /post HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n"

# 505: HTTP/2.0 in a request line.
expect_error "HTTP/2.0 request line" 505 "GET /hello HTTP/2.0\r\n$H\r\n"

# 417: an expectation other than 100-continue.
expect_error "Expect: something-else" 417 \
    "GET /hello HTTP/1.1\r\n${H}Expect: something-else\r\n\r\n"

sy_stop
