#!/bin/bash
# compress.sh - response compression ("compress": true) and precompressed
# static files (FILE.gz): gzip answers that gzip -d turns back into the
# identity body of the same request without Accept-Encoding, on a
# nonblocking and a blocking route; q-values (gzip;q=0 refuses, "*"
# counts, identity preferred); no Content-Encoding on a route without
# compress, for small bodies, incompressible types or HEAD; Vary on
# every answer of a compress route; Content-Length of the coded body;
# FILE.gz with its own ETag and the original's Content-Type.
. "$(dirname "$0")/lib.sh"

R=$SY_TMP/root
mkdir -p "$R" || exit 99
for i in $(seq 1 400); do echo "export const item$i = \"value $i\";"; done >"$R/app.js"
gzip -k -9 "$R/app.js" || exit 99
for i in $(seq 1 300); do echo "line $i of a text file"; done >"$R/plain.txt"

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "access_log": "off",
  "routes": [
    {"path": "/json", "handler": "json", "args": {"items": 250},
     "compress": true},
    {"path": "/json_pool", "handler": "json", "mode": "blocking",
     "args": {"items": 250}, "compress": true},
    {"path": "/json_plain", "handler": "json", "args": {"items": 250}},
    {"path": "/hello", "handler": "hello", "compress": true},
    {"path": "/echo", "handler": "echo", "methods": ["POST"],
     "compress": true},
    {"path": "/s/", "match": "prefix", "handler": "static",
     "args": {"root": "@TMP@/root"}, "compress": true}
  ]
}' || exit 1

H=$SY_FETCH_H B=$SY_FETCH_B
get() { sy_fetch "$@"; }
hval() { sy_fetched "$1"; }
# identity PATH [CURL_ARGS]: the answer without Accept-Encoding, in $SY_TMP/id.
identity() {
	get "$@"
	cp "$B" "$SY_TMP/id"
	ID_VARY=$(hval vary) ID_CE=$(hval content-encoding)
}

# gzipped WHAT PATH [CURL_ARGS]: with gzip accepted, the answer is gzip,
# its Content-Length the coded size, and it decodes to the identity one.
gzipped() {
	local what=$1
	shift
	identity "$@"
	check "$what: identity answer 200 ($CODE), no Content-Encoding ($ID_CE)" \
	    [ "$CODE" = 200 ] && [ -z "$ID_CE" ]
	check "$what: identity answer has Vary: Accept-Encoding ($ID_VARY)" \
	    [ "$ID_VARY" = Accept-Encoding ]
	get "$@" -H 'Accept-Encoding: gzip'
	check "$what: Content-Encoding: gzip ($(hval content-encoding))" \
	    [ "$(hval content-encoding)" = gzip ]
	check "$what: Vary: Accept-Encoding ($(hval vary))" \
	    [ "$(hval vary)" = Accept-Encoding ]
	check "$what: Content-Length $(hval content-length) is the coded body's" \
	    [ "$(hval content-length)" = "$(stat -c %s "$B")" ]
	check "$what: coded smaller than identity ($(stat -c %s "$B") < $(stat -c %s "$SY_TMP/id"))" \
	    [ "$(stat -c %s "$B")" -lt "$(stat -c %s "$SY_TMP/id")" ]
	check "$what: gzip -d gives the identity body byte for byte" \
	    cmp -s <(gzip -dc <"$B") "$SY_TMP/id"
}

# not_gzipped WHAT PATH [CURL_ARGS]: the answer is identity.
not_gzipped() {
	local what=$1
	shift
	get "$@"
	check "$what: no Content-Encoding ($(hval content-encoding), $CODE)" \
	    [ -z "$(hval content-encoding)" ]
}

# -- compress: true, nonblocking and blocking --------------------------------------
gzipped "nonblocking /json" /json
gzipped "blocking /json_pool" /json_pool
gzipped "POST text/plain" /echo -H 'Content-Type: text/plain' \
    --data-binary @"$R/plain.txt"
gzipped "POST application/problem+json" /echo \
    -H 'Content-Type: application/problem+json' --data-binary @"$R/plain.txt"
identity /json
sy_curl --compressed -o "$B" "$(sy_url /json)"
check "curl --compressed decodes /json to the identity body" cmp -s "$B" "$SY_TMP/id"

# -- what Accept-Encoding allows ---------------------------------------------------
identity /json
for ae in 'gzip' 'GZIP' 'deflate, gzip;q=0.5' '*' 'x-gzip' 'br;q=1, gzip;q=0.1' \
    'gzip;q=0.5, identity;q=0.5'; do
	get /json -H "Accept-Encoding: $ae"
	check "Accept-Encoding: $ae: gzip ($(hval content-encoding))" \
	    [ "$(hval content-encoding)" = gzip ] && cmp -s <(gzip -dc <"$B") "$SY_TMP/id"
done
for ae in 'gzip;q=0' 'gzip;q=0.000' 'identity' 'br' '*;q=0' 'gzip;q=0, *' \
    'gzip;q=0.5, identity' 'gzip;q=2' 'gzipx' ''; do
	get /json -H "Accept-Encoding: $ae"
	check "Accept-Encoding: '$ae': identity ($(hval content-encoding)), Vary ($(hval vary))" \
	    [ -z "$(hval content-encoding)" ] && cmp -s "$B" "$SY_TMP/id" &&
	    [ "$(hval vary)" = Accept-Encoding ]
done

# -- never compressed --------------------------------------------------------------
get /json_plain -H 'Accept-Encoding: gzip'
check "route without compress: no Content-Encoding ($(hval content-encoding)), no Vary ($(hval vary))" \
    [ -z "$(hval content-encoding)" ] && [ -z "$(hval vary)" ] &&
    cmp -s "$B" "$SY_TMP/id"
get /hello -H 'Accept-Encoding: gzip'
check "a small body (/hello, $(stat -c %s "$B") bytes): identity, with Vary" \
    [ -z "$(hval content-encoding)" ] && [ "$(hval vary)" = Accept-Encoding ]
not_gzipped "POST image/png, 5 KiB" /echo -H 'Accept-Encoding: gzip' \
    -H 'Content-Type: image/png' --data-binary @"$R/plain.txt"
check "POST image/png: the body as sent" cmp -s "$B" "$R/plain.txt"
not_gzipped "POST without a Content-Type" /echo -H 'Accept-Encoding: gzip' \
    -H 'Content-Type:' --data-binary @"$R/plain.txt"
head -c 1023 "$R/plain.txt" >"$SY_TMP/1023"
not_gzipped "POST text/plain of 1023 bytes" /echo -H 'Accept-Encoding: gzip' \
    -H 'Content-Type: text/plain' --data-binary @"$SY_TMP/1023"
head -c 1024 "$R/plain.txt" >"$SY_TMP/1024"
get /echo -H 'Accept-Encoding: gzip' -H 'Content-Type: text/plain' \
    --data-binary @"$SY_TMP/1024"
check "POST text/plain of 1024 bytes: gzip ($(hval content-encoding))" \
    [ "$(hval content-encoding)" = gzip ] && cmp -s <(gzip -dc <"$B") "$SY_TMP/1024"
sy_raw 'HEAD /json HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n'
check "HEAD: 200, no Content-Encoding, Vary, no body" [ "$RAW_STATUS" = 200 ] &&
    ! grep -qi '^Content-Encoding' <(raw_head) &&
    grep -q '^Vary: Accept-Encoding' <(raw_head) && [ -z "$(raw_body)" ]
get /nothing-here -H 'Accept-Encoding: gzip'
check "404 without a route: no Vary ($CODE)" [ "$CODE" = 404 ] && [ -z "$(hval vary)" ]

# -- precompressed static files ------------------------------------------------------
get /s/app.js
ID_ETAG=$(hval etag)
check "app.js without Accept-Encoding: identity, the file" \
    [ "$CODE" = 200 ] && [ -z "$(hval content-encoding)" ] && cmp -s "$B" "$R/app.js"
get /s/app.js -H 'Accept-Encoding: gzip, deflate'
GZ_ETAG=$(hval etag)
check "app.js accepting gzip: app.js.gz itself, Content-Encoding gzip" \
    [ "$CODE" = 200 ] && [ "$(hval content-encoding)" = gzip ] && cmp -s "$B" "$R/app.js.gz"
check "app.js.gz: the original's Content-Type ($(hval content-type))" \
    [ "$(hval content-type)" = "text/javascript; charset=utf-8" ]
check "app.js.gz: Vary: Accept-Encoding, once ($(grep -ci '^vary:' "$H"))" \
    [ "$(hval vary)" = Accept-Encoding ] && [ "$(grep -ci '^vary:' "$H")" = 1 ]
check "app.js.gz: its own ETag ($GZ_ETAG, not $ID_ETAG)" \
    [ -n "$GZ_ETAG" ] && [ "$GZ_ETAG" != "$ID_ETAG" ]
check "app.js.gz decodes to app.js" cmp -s <(gzip -dc <"$B") "$R/app.js"
get /s/app.js -H 'Accept-Encoding: gzip' -H "If-None-Match: $GZ_ETAG"
check "app.js.gz: If-None-Match with its ETag: 304 ($CODE)" [ "$CODE" = 304 ]
get /s/app.js -H 'Accept-Encoding: gzip' -H "If-None-Match: $ID_ETAG"
check "app.js.gz: If-None-Match with the identity ETag: 200 ($CODE)" [ "$CODE" = 200 ]
get /s/app.js -H 'Accept-Encoding: gzip;q=0'
check "app.js with gzip;q=0: identity" \
    [ -z "$(hval content-encoding)" ] && cmp -s "$B" "$R/app.js"
get /s/app.js -H 'Accept-Encoding: gzip' -H 'Range: bytes=0-9'
check "app.js.gz with Range 0-9: 206, the .gz's first 10 bytes" \
    [ "$CODE" = 206 ] && cmp -s "$B" <(head -c 10 "$R/app.js.gz") &&
    [ "$(hval content-range)" = "bytes 0-9/$(stat -c %s "$R/app.js.gz")" ]
get /s/app.js -H 'Accept-Encoding: gzip' -H 'Range: bytes=0-9,20-29'
check "app.js.gz with two ranges: 200, all of the .gz, not multipart" \
    [ "$CODE" = 200 ] && cmp -s "$B" "$R/app.js.gz" &&
    [ "$(hval content-encoding)" = gzip ]
get /s/app.js -H 'Accept-Encoding: gzip' -H 'Range: bytes=999999-'
check "app.js.gz with an unsatisfiable range: 416 ($CODE), its JSON not said to be coded" \
    [ "$CODE" = 416 ] && [ -z "$(hval content-encoding)" ] &&
    [ "$(hval content-range)" = "bytes */$(stat -c %s "$R/app.js.gz")" ]
get /s/plain.txt -H 'Accept-Encoding: gzip'
check "plain.txt without a .gz beside it: the file as it is (a file body is not compressed)" \
    [ -z "$(hval content-encoding)" ] && cmp -s "$B" "$R/plain.txt"

sy_stop
