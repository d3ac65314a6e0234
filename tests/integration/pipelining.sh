#!/bin/bash
# pipelining.sh - requests sent back to back in one write are answered
# one by one, in order, whatever each route does (at once or later).
. "$(dirname "$0")/lib.sh"

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "stderr",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/nap", "handler": "async_sleep", "args": {"ms": 200}}
  ]
}' || exit 1

H='Host: test\r\n'
HELLO='{"message":"Hello world"}'
NOTFOUND='{"detail":"Not Found"}'

# expect_resp WHAT FD STATUS BODY [nobody]
expect_resp() {
	if ! sy_read_resp "$2" 5 ${5:-}; then
		fail "$1: $R_ERR"
		return
	fi
	if [ "$R_STATUS" = "$3" ] && [ "$R_BODY" = "$4" ]; then
		ok "$1: $3"
	else
		fail "$1: got $R_STATUS '$R_BODY', expected $3 '$4'"
	fi
}

# -- three GETs in one write -------------------------------------------------------
sy_open fd
sy_send "$fd" "GET /hello HTTP/1.1\r\n$H\r\nGET /missing HTTP/1.1\r\n$H\r\nGET /hello HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
expect_resp "pipelined 1/3 /hello" "$fd" 200 "$HELLO"
expect_resp "pipelined 2/3 /missing" "$fd" 404 "$NOTFOUND"
expect_resp "pipelined 3/3 /hello" "$fd" 200 "$HELLO"
check "pipelined 3/3 asked to close: Connection: close" [ "$(hdr connection)" = close ]
sy_expect_eof "$fd" 5
check "then the server closes, nothing more sent (status $?)" [ $? = 0 ]
sy_close "$fd"

# -- a slow (async_sleep 200 ms) request first ---------------------------------------
sy_open fd
t0=$(now_ms)
sy_send "$fd" "GET /nap HTTP/1.1\r\n$H\r\nGET /hello HTTP/1.1\r\n$H\r\nGET /missing HTTP/1.1\r\n$H\r\n"
expect_resp "after a slow one, 1/3 /nap" "$fd" 200 '"pong"'
t1=$(($(now_ms) - t0))
expect_resp "after a slow one, 2/3 /hello (waited its turn)" "$fd" 200 "$HELLO"
expect_resp "after a slow one, 3/3 /missing" "$fd" 404 "$NOTFOUND"
check "the /nap answer took its 200 ms (${t1} ms)" [ "$t1" -ge 190 ]
# The connection is still usable.
sy_send "$fd" "GET /hello HTTP/1.1\r\n$H\r\n"
expect_resp "a request after the pipelined batch" "$fd" 200 "$HELLO"
sy_close "$fd"

# -- two slow ones then a fast one: 2 x 200 ms in sequence ----------------------------
sy_open fd
t0=$(now_ms)
sy_send "$fd" "GET /nap HTTP/1.1\r\n$H\r\nGET /nap HTTP/1.1\r\n$H\r\nGET /hello HTTP/1.1\r\n$H\r\n"
expect_resp "two slow ones, 1/3" "$fd" 200 '"pong"'
expect_resp "two slow ones, 2/3" "$fd" 200 '"pong"'
t1=$(($(now_ms) - t0))
expect_resp "two slow ones, 3/3 /hello" "$fd" 200 "$HELLO"
check "one request at a time per connection: the two naps took >= 400 ms (${t1} ms)" \
    [ "$t1" -ge 390 ]
sy_close "$fd"

# -- HEAD in a pipeline: no body, so the next answer starts right after -------------
sy_open fd
sy_send "$fd" "HEAD /hello HTTP/1.1\r\n$H\r\nGET /hello HTTP/1.1\r\n$H\r\n"
expect_resp "pipelined HEAD" "$fd" 200 "" nobody
check "pipelined HEAD: Content-Length 25" [ "$(hdr content-length)" = 25 ]
expect_resp "GET after a pipelined HEAD" "$fd" 200 "$HELLO"
sy_close "$fd"

# -- a framing error in the middle: answers up to it, then 400 and close ----------------
sy_open fd
sy_send "$fd" "GET /hello HTTP/1.1\r\n$H\r\nGARBAGE\r\n\r\nGET /hello HTTP/1.1\r\n$H\r\n"
expect_resp "before the bad request" "$fd" 200 "$HELLO"
sy_read_resp "$fd" 5 || fail "the bad pipelined request: $R_ERR"
check "the bad pipelined request: 400 ($R_STATUS)" [ "$R_STATUS" = 400 ]
sy_expect_eof "$fd" 5
check "nothing answered after it; the server closes (status $?)" [ $? = 0 ]
sy_close "$fd"

# -- 200 requests in one write: all answered, in order ---------------------------------
req=
want=
for i in $(seq 1 200); do
	if [ $((i % 3)) = 0 ]; then
		req+="GET /missing?$i HTTP/1.1\r\n$H\r\n"
		want+="404 "
	else
		req+="GET /hello?$i HTTP/1.1\r\n$H\r\n"
		want+="200 "
	fi
done
req+="GET /hello HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
want+="200 "
sy_raw "$req" 10
got=$(printf '%s' "$RAW" | grep -ao 'HTTP/1.1 [0-9][0-9][0-9] ' | cut -d' ' -f2 | tr '\n' ' ')
check "201 pipelined requests: 201 answers in order" [ "$got" = "$want" ]
check "201 pipelined requests: closed after the last" [ "$RAW_RC" = 0 ]

sy_stop
