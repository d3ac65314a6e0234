#!/bin/bash
# framing.sh - strict request framing (RFC 9112) on the wire. Each class
# of bad framing is sent with a valid request pipelined right behind it,
# on one connection: the answer must be the one error (400, or 501 for an
# unknown method or transfer coding), nothing after it may be served, and
# the server must close that connection and go on answering new ones.
# Then the framings that are valid: absolute-form, OWS around values,
# chunk extensions, "Connection: close<TAB>", Transfer-Encoding on
# HTTP/1.0 (answered, then closed).
. "$(dirname "$0")/lib.sh"

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "stderr",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/echo", "handler": "echo", "methods": ["POST"]}
  ]
}' || exit 1

H='Host: test\r\n'
NEXT="GET /hello HTTP/1.1\r\n$H\r\n"
CHUNKED="POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
HELLO="b'{\"message\":\"Hello world\"}'"

# raw BYTES: send BYTES (printf %b) on a new connection with rawhttp.py,
# which reads until the server closes (bounded: 5 s). Sets R_N (answers),
# R_STATUS ("400" or "200 200"), R_CONN (their Connection headers), R_END
# (eof, reset or open), R_TRAIL (bytes after the last answer), R_BODY1.
raw() {
	local out=$SY_TMP/rawhttp.out
	printf '%b' "$1" | python3 "$SY_SRCDIR/tests/tools/rawhttp.py" \
	    "$SY_ADDR" "$SY_PORT" 5 >"$out" 2>&1
	R_N=$(sed -n 's/^responses //p' "$out")
	R_STATUS=$(sed -n 's/^status //p' "$out")
	R_CONN=$(sed -n 's/^connection //p' "$out")
	R_END=$(sed -n 's/^end //p' "$out")
	R_TRAIL=$(sed -n 's/^trailing //p' "$out")
	R_BODY1=$(sed -n 's/^body 1 //p' "$out")
	[ -n "$R_N" ] || sed 's/^/#   /' "$out"
}

# refused WHAT STATUS BYTES: BYTES, then $NEXT on the same connection,
# get exactly one answer, STATUS with Connection: close, and the server
# closes; a new connection is still served.
refused() {
	local what=$1 want=$2
	raw "$3$NEXT"
	if [ "$R_N" = 1 ] && [ "$R_STATUS" = "$want" ]; then
		ok "$what: $want, and only that"
	else
		fail "$what: got ${R_N:-no} answer(s) '$R_STATUS', expected one $want"
	fi
	check "$what: Connection: close ($R_CONN)" [ "$R_CONN" = close ]
	check "$what: the server closes ($R_END)" \
	    eval '[ "$R_END" = eof ] || [ "$R_END" = reset ]'
	check "$what: nothing after the answer ($R_TRAIL bytes)" \
	    [ "$R_TRAIL" = 0 ]
	check_hello "$what"
}

# -- a CR not followed by LF ends no line --------------------------------------
refused "CR without LF in a field line" 400 \
    "GET /hello HTTP/1.1\r\n${H}X: a\rGET /hello HTTP/1.1\r\n\r\n"
refused "CR without LF after the request line" 400 \
    "GET /hello HTTP/1.1\r${H}\r\n"
refused "CR without LF as the blank line" 400 \
    "GET /hello HTTP/1.1\r\n${H}\rX"
refused "CR without LF on a chunk-size line" 400 \
    "${CHUNKED}2\rok\r\n0\r\n\r\n"
refused "CR without LF in a chunk extension" 400 \
    "${CHUNKED}2;a=b\rok\r\n0\r\n\r\n"
refused "CR without LF in a trailer" 400 \
    "${CHUNKED}2\r\nok\r\n0\r\nT: 1\rX\r\n\r\n"
refused "chunk data not followed by CRLF" 400 \
    "${CHUNKED}2\r\nokXX0\r\n\r\n"

# -- a bare LF ends no line ------------------------------------------------------
refused "bare LF line ends" 400 "GET /hello HTTP/1.1\n${H%\\r\\n}\n\n"
refused "bare LF on a chunk-size line" 400 "${CHUNKED}2\nok\r\n0\r\n\r\n"

# -- field names: tokens, no whitespace before the colon ------------------------
# "Content-Length : N" was honoured, and the body ate the next request.
refused "whitespace before the colon" 400 \
    "POST /echo HTTP/1.1\r\n${H}Content-Length : 35\r\n\r\n"
refused "whitespace in a field name" 400 \
    "POST /echo HTTP/1.1\r\n${H}Transfer Encoding: chunked\r\n\r\n0\r\n\r\n"
refused "non-token byte in a field name" 400 \
    "GET /hello HTTP/1.1\r\n${H}X@Y: 1\r\n\r\n"

# -- obs-fold ----------------------------------------------------------------------
refused "obs-fold" 400 "GET /hello HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n"
refused "whitespace before the first field" 400 \
    "GET /hello HTTP/1.1\r\n $H\r\n"

# -- chunk-size lines outside the chunk-ext grammar ---------------------------------
refused "chunk size then junk" 400 "${CHUNKED}2 xyz\r\nok\r\n0\r\n\r\n"
refused "chunk extension without a name" 400 "${CHUNKED}2;\r\nok\r\n0\r\n\r\n"
refused "unbalanced quote in a chunk extension" 400 \
    "${CHUNKED}2;a=\"x\r\nok\r\n0\r\n\r\n"

# -- Transfer-Encoding ------------------------------------------------------------
refused "chunked, chunked" 400 \
    "POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
refused "unknown transfer coding" 501 \
    "POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"

# -- the request line ---------------------------------------------------------------
refused "HTTP-version HXYZ/1.1" 400 "GET /hello HXYZ/1.1\r\n$H\r\n"
refused "unknown method" 501 "FOO /hello HTTP/1.1\r\n$H\r\n"
refused "invalid method token" 400 "F@O /hello HTTP/1.1\r\n$H\r\n"

# -- valid framing, served -----------------------------------------------------------
raw "GET http://test/hello?x=1 HTTP/1.1\r\n$H\r\nGET http://test/hello HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
check "absolute-form: both routed to /hello ($R_N: $R_STATUS)" \
    eval '[ "$R_N" = 2 ] && [ "$R_STATUS" = "200 200" ]'
check "absolute-form: the hello body ($R_BODY1)" [ "$R_BODY1" = "$HELLO" ]
check "absolute-form: closed after the second ($R_END)" [ "$R_END" = eof ]

raw "POST /echo HTTP/1.1\r\n${H}Content-Length:\t5\t\r\n\r\nhello$NEXT"
check "Content-Length with HTAB around it: body and the next request ($R_N: $R_STATUS)" \
    eval '[ "$R_N" = 2 ] && [ "$R_STATUS" = "200 200" ] && [ "$R_BODY1" = "b'"'hello'"'" ]'

raw "${CHUNKED}2;name=\"quoted \\\\\" v\"\r\nhe\r\n3 ;ext\r\nllo\r\n0\r\n\r\n$NEXT"
check "chunk extensions: body and the next request ($R_N: $R_STATUS)" \
    eval '[ "$R_N" = 2 ] && [ "$R_STATUS" = "200 200" ] && [ "$R_BODY1" = "b'"'hello'"'" ]'

raw "GET /hello HTTP/1.1\r\n${H}Connection: close\t\r\n\r\n$NEXT"
check "Connection: close<TAB>: one answer ($R_N: $R_STATUS)" \
    eval '[ "$R_N" = 1 ] && [ "$R_STATUS" = 200 ]'
check "Connection: close<TAB>: answered with Connection: close" \
    [ "$R_CONN" = close ]
check "Connection: close<TAB>: the server closes ($R_END)" \
    eval '[ "$R_END" = eof ] || [ "$R_END" = reset ]'

raw "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n$NEXT"
check "HTTP/1.0 with Transfer-Encoding: answered ($R_N: $R_STATUS)" \
    eval '[ "$R_N" = 1 ] && [ "$R_STATUS" = 200 ] && [ "$R_BODY1" = "b'"'hello'"'" ]'
check "HTTP/1.0 with Transfer-Encoding: Connection: close ($R_CONN)" \
    [ "$R_CONN" = close ]
check "HTTP/1.0 with Transfer-Encoding: the server closes ($R_END)" \
    eval '[ "$R_END" = eof ] || [ "$R_END" = reset ]'

check_hello "after all of them"
sy_stop
