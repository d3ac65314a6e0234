#!/bin/bash
# ranges.sh - byte ranges from the "static" handler, byte-exact against
# the file: Accept-Ranges, one range (a-b, a-, -n) as 206 with
# Content-Range, several as multipart/byteranges (each part parsed and
# compared), overlapping ones merged, 416 with "bytes */LENGTH",
# If-Range fresh and stale (entity-tag and date), HEAD, invalid headers
# ignored (200, whole file), a blocking route, and curl -C - resuming an
# interrupted download.
. "$(dirname "$0")/lib.sh"

R=$SY_TMP/root
mkdir -p "$R" || exit 99
F=$R/f.bin
SIZE=100000
head -c $SIZE /dev/urandom >"$F" || exit 99
printf 'tiny text\n' >"$R/t.txt"
: >"$R/empty.txt"
BIG=$R/big.bin
BIG_SIZE=$((24 * 1024 * 1024))
head -c $BIG_SIZE /dev/urandom >"$BIG" || exit 99

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "off",
  "routes": [
    {"path": "/s/", "match": "prefix", "handler": "static",
     "args": {"root": "@TMP@/root"}},
    {"path": "/pool/", "match": "prefix", "handler": "static",
     "mode": "blocking", "args": {"root": "@TMP@/root"}}
  ]
}' || exit 1

H=$SY_FETCH_H B=$SY_FETCH_B
get() { sy_fetch "$@"; }
hval() { sy_fetched "$1"; }
# same_as FIRST LEN: the last body is exactly those bytes of the file.
same_as() {
	dd if="$F" iflag=skip_bytes,count_bytes skip="$1" count="$2" \
	    status=none >"$SY_TMP/want" && cmp -s "$B" "$SY_TMP/want"
}

# -- the whole file ------------------------------------------------------------
get /s/f.bin
check "no Range: 200 ($CODE)" [ "$CODE" = 200 ]
check "Accept-Ranges: bytes ($(hval accept-ranges))" [ "$(hval accept-ranges)" = bytes ]
check "no Range: the whole file" cmp -s "$B" "$F"
ETAG=$(hval etag)
LASTMOD=$(hval last-modified)
check "an ETag and a Last-Modified to test If-Range with" \
    [ -n "$ETAG" ] && [ -n "$LASTMOD" ]

# -- one range -------------------------------------------------------------------
# one SPEC FIRST LEN [PATH]: a single range, 206 with only those bytes.
one() {
	local spec=$1 first=$2 len=$3 path=${4:-/s/f.bin}
	local want="bytes $first-$((first + len - 1))/$SIZE"
	get "$path" -H "Range: bytes=$spec"
	check "$path bytes=$spec: 206 ($CODE)" [ "$CODE" = 206 ]
	check "$path bytes=$spec: Content-Range: $want ($(hval content-range))" \
	    [ "$(hval content-range)" = "$want" ]
	check "$path bytes=$spec: Content-Length $len ($(hval content-length))" \
	    [ "$(hval content-length)" = "$len" ]
	check "$path bytes=$spec: the file's bytes $first..+$len" same_as "$first" "$len"
	check "$path bytes=$spec: the file's Content-Type ($(hval content-type))" \
	    [ "$(hval content-type)" = application/octet-stream ]
}
one 0-99 0 100
one 0-0 0 1
one 500- 500 $((SIZE - 500))
one -200 $((SIZE - 200)) 200
one 99990-200000 99990 10
one -$((SIZE * 3)) 0 $SIZE
one 12345-12345 12345 1
one 70000-70999 70000 1000 /pool/f.bin
# Merged: overlapping and adjacent ranges are one part.
one 0-9,5-19 0 20
one 0-9,10-19 0 20
one " 100-199 , 150-249" 100 150

# -- several ranges: multipart/byteranges ----------------------------------------
# multi SPEC "FIRST-LAST ...": each part parsed by Python and compared.
multi() {
	local spec=$1 want=$2 out
	get /s/f.bin -H "Range: bytes=$spec"
	check "bytes=$spec: 206 ($CODE)" [ "$CODE" = 206 ]
	check "bytes=$spec: Content-Length is the body's ($(hval content-length))" \
	    [ "$(hval content-length)" = "$(stat -c %s "$B")" ]
	out=$(python3 - "$B" "$F" "$(hval content-type)" $want <<'PY'
import re, sys
body = open(sys.argv[1], "rb").read()
data = open(sys.argv[2], "rb").read()
ctype = sys.argv[3]
want = [tuple(int(x) for x in w.split("-")) for w in sys.argv[4:]]
m = re.fullmatch(r"multipart/byteranges; boundary=([0-9A-Za-z'()+_,./:=?-]{1,70})",
                 ctype)
if not m:
    sys.exit("bad Content-Type %r" % ctype)
b = m.group(1).encode()
if not body.startswith(b"--" + b + b"\r\n"):
    sys.exit("body does not open with the boundary")
if not body.endswith(b"\r\n--" + b + b"--\r\n"):
    sys.exit("body does not close with the boundary")
parts = body[len(b) + 4:-(len(b) + 8)].split(b"\r\n--" + b + b"\r\n")
if len(parts) != len(want):
    sys.exit("%d parts, want %d" % (len(parts), len(want)))
for part, (first, last) in zip(parts, want):
    head, sep, payload = part.partition(b"\r\n\r\n")
    if not sep:
        sys.exit("a part without a blank line")
    fields = dict(l.split(b": ", 1) for l in head.split(b"\r\n"))
    if fields.get(b"Content-Type") != b"application/octet-stream":
        sys.exit("part Content-Type %r" % fields.get(b"Content-Type"))
    cr = b"bytes %d-%d/%d" % (first, last, len(data))
    if fields.get(b"Content-Range") != cr:
        sys.exit("part Content-Range %r, want %r" %
                 (fields.get(b"Content-Range"), cr))
    if payload != data[first:last + 1]:
        sys.exit("part %d-%d: bytes differ" % (first, last))
print("%d parts, all byte-exact" % len(parts))
PY
	)
	check "bytes=$spec: $out" [ $? = 0 ]
}
multi 0-9,100-199,-50 "0-9 100-199 $((SIZE - 50))-$((SIZE - 1))"
# Out of order, one merged pair, one unsatisfiable dropped: sorted parts.
multi 90000-90099,0-0,200000-,10-20,15-30 "0-0 10-30 90000-90099"
multi 0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14 \
    "0-0 2-2 4-4 6-6 8-8 10-10 12-12 14-14"

# -- more than 16 range-specs (RANGES_MAX): ignored, the whole file --------------
many=0-0
for i in $(seq 1 500); do many="$many,$((i * 2))-$((i * 2))"; done
get /s/f.bin -H "Range: bytes=$many"
check "501 range-specs: ignored, 200 ($CODE)" [ "$CODE" = 200 ]
check "501 range-specs: the whole file" cmp -s "$B" "$F"

# -- unsatisfiable: 416 ------------------------------------------------------------
for spec in "$SIZE-" "$SIZE-$((SIZE + 10))" "-0" "999999999999999999999-"; do
	get /s/f.bin -H "Range: bytes=$spec"
	check "bytes=$spec: 416 ($CODE)" [ "$CODE" = 416 ]
	check "bytes=$spec: Content-Range: bytes */$SIZE ($(hval content-range))" \
	    [ "$(hval content-range)" = "bytes */$SIZE" ]
done

# -- invalid: ignored (RFC 9110 14.2), 200 and the whole file ----------------------
for spec in "bytes=5-1" "bytes=" "bytes=-" "items=0-1" "bytes=0 -1" \
    "bytes=a-b" "bytes=-1-2" "bytes=1"; do
	get /s/f.bin -H "Range: $spec"
	check "Range: $spec: ignored, 200 ($CODE)" [ "$CODE" = 200 ]
	check "Range: $spec: the whole file, no Content-Range" \
	    cmp -s "$B" "$F" && [ -z "$(hval content-range)" ]
done
get /s/empty.txt -H "Range: bytes=0-1"
check "an empty file with a Range: 200 ($CODE), empty" \
    [ "$CODE" = 200 ] && [ ! -s "$B" ]

# -- If-Range ----------------------------------------------------------------------
get /s/f.bin -H "Range: bytes=10-19" -H "If-Range: $ETAG"
check "If-Range: the current ETag: 206 ($CODE)" [ "$CODE" = 206 ] && same_as 10 10
get /s/f.bin -H "Range: bytes=10-19" -H "If-Range: \"0-0\""
check "If-Range: a stale ETag: 200 ($CODE), the whole file" \
    [ "$CODE" = 200 ] && cmp -s "$B" "$F"
get /s/f.bin -H "Range: bytes=10-19" -H "If-Range: W/$ETAG"
check "If-Range: a weak ETag never matches: 200 ($CODE)" [ "$CODE" = 200 ]
get /s/f.bin -H "Range: bytes=10-19" -H "If-Range: $LASTMOD"
check "If-Range: Last-Modified itself: 206 ($CODE)" [ "$CODE" = 206 ] && same_as 10 10
get /s/f.bin -H "Range: bytes=10-19" -H "If-Range: Thu, 01 Jan 1998 00:00:00 GMT"
check "If-Range: an older date: 200 ($CODE), the whole file" \
    [ "$CODE" = 200 ] && cmp -s "$B" "$F"
# The file changes: the ETag a client holds goes stale.
cp "$F" "$R/g.bin"
get /s/g.bin
OLD_ETAG=$(hval etag)
touch -d '2001-01-01 00:00:00' "$R/g.bin"
get /s/g.bin -H "Range: bytes=0-9" -H "If-Range: $OLD_ETAG"
check "If-Range: the ETag from before a change: 200 ($CODE)" [ "$CODE" = 200 ]

# -- HEAD --------------------------------------------------------------------------
sy_raw 'HEAD /s/f.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-99\r\nConnection: close\r\n\r\n'
check "HEAD with a Range: 206 ($RAW_STATUS)" [ "$RAW_STATUS" = 206 ]
check "HEAD with a Range: Content-Range and Content-Length 100" \
    grep -q '^Content-Range: bytes 0-99/100000' <(raw_head) &&
    grep -q '^Content-Length: 100$' <(raw_head)
check "HEAD with a Range: no body (got $(raw_body | wc -c) bytes)" \
    [ -z "$(raw_body)" ]
sy_raw 'HEAD /s/f.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1,5-6\r\nConnection: close\r\n\r\n'
check "HEAD with two ranges: 206 multipart, no body" [ "$RAW_STATUS" = 206 ] &&
    grep -q '^Content-Type: multipart/byteranges; boundary=' <(raw_head) &&
    [ -z "$(raw_body)" ]

# -- curl -C -: resume an interrupted download ---------------------------------------
OUT=$SY_TMP/big.part
: >"$OUT"
# Slow and cut short: the download stops part way.
curl -sS --limit-rate 4M --max-time 1 -o "$OUT" "$(sy_url /s/big.bin)" 2>/dev/null
got=$(stat -c %s "$OUT")
if [ "$got" -eq 0 ]; then
	# A loaded machine may not have sent a byte in that second.
	curl -sS --limit-rate 4M --max-time 3 -o "$OUT" "$(sy_url /s/big.bin)" 2>/dev/null
	got=$(stat -c %s "$OUT")
fi
check "the first download was cut short ($got of $BIG_SIZE bytes)" \
    [ "$got" -gt 0 ] && [ "$got" -lt "$BIG_SIZE" ]
code=$(sy_curl --max-time 60 -C - -o "$OUT" -w '%{http_code}' "$(sy_url /s/big.bin)")
check "curl -C - resumes with 206 ($code)" [ "$code" = 206 ]
check "curl -C -: the resumed file is identical to the original" cmp -s "$OUT" "$BIG"

# -- a pipelining client that does not read: descriptors stay bounded -------------
# Many-part answers of 1-byte ranges are tiny, so the output's byte cap
# alone would let hundreds queue, each holding the file open. The answers
# of a connection share one descriptor each, and at most 32 wait.
W=$(sy_worker_pids | head -1)
fds() { ls "/proc/$W/fd" 2>/dev/null | wc -l; }
fd0=$(fds)
spec=$(seq -s, 0 2 30 | sed 's/\([0-9]*\)/\1-\1/g')
python3 - "$SY_PORT" "$spec" >"$SY_TMP/hold.out" 2>&1 <<'PY' &
import socket, sys, time
port, spec = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
req = ("GET /s/f.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=%s\r\n\r\n" % spec).encode()
s.sendall(req * 400)
print("sent", flush=True)
time.sleep(30)		# hold, unread, until the test kills us
PY
hold=$!
wait_for 'grep -q sent "$SY_TMP/hold.out"' 20
# Sample the worker's descriptors while the client holds its answers.
max=$(fds)
for _ in $(seq 1 20); do
	n=$(fds)
	[ "$n" -gt "$max" ] && max=$n
	python3 -c 'import time; time.sleep(0.1)'
done
kill "$hold" 2>/dev/null
wait "$hold" 2>/dev/null
check "a non-reading client with 400 pipelined 16-part requests holds at most 40 descriptors ($((max - fd0)) more than before)" \
    [ $((max - fd0)) -le 40 ]
wait_for '[ "$(fds)" -le $((fd0 + 2)) ]' 10
check "... and gives them back once it is gone ($(fds), before $fd0)" [ "$(fds)" -le $((fd0 + 2)) ]

sy_stop
