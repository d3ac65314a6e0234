#!/bin/bash
# static.sh - the "static" handler on a prefix route: exact bytes,
# content types, ETag / Last-Modified and their 304s, HEAD, directory
# index and 301, and containment: "..", encoded or not, and symbolic
# links out of the root answer 404 and never the file; so do dotfiles
# (.env, .git/config) unless args.dotfiles is true. Then ab -k on a
# 1 MiB file, the same file from a blocking (pool) route, and the
# config errors of args.root / args.index / args.dotfiles.
. "$(dirname "$0")/lib.sh"

# -- the tree ------------------------------------------------------------------
R=$SY_TMP/root
mkdir -p "$R/sub/dir" "$R/locked" "$R/.git" "$SY_TMP/outside/dir" || exit 99
SECRET=TOP-SECRET-3f9c1a
echo "$SECRET" >"$SY_TMP/outside/secret.txt"
echo "$SECRET" >"$SY_TMP/outside/dir/secret.txt"
printf '<!doctype html><title>root index</title>\n' >"$R/index.html"
printf 'body { color: red }\n' >"$R/a.css"
printf 'h1 {}\n' >"$R/UPPER.CSS"
printf 'export default 1;\n' >"$R/app.js"
printf '{"a": 1}\n' >"$R/data.json"
printf 'plain\n' >"$R/notes.txt"
printf '\x89PNG\r\n\x1a\n' >"$R/img.png"
printf 'wOF2' >"$R/font.woff2"
printf 'zzz' >"$R/blob.xyz"
: >"$R/empty.txt"
printf 'sub dir index\n' >"$R/sub/dir/index.html"
printf 'pool home\n' >"$R/home.htm"
printf 'spaces and percent\n' >"$R/with space %.txt"
printf 'inside\n' >"$R/locked/x.txt"
head -c 1048576 /dev/urandom >"$R/b.bin" || exit 99
ln -s "$SY_TMP/outside/secret.txt" "$R/escape.txt"
ln -s "$SY_TMP/outside/dir" "$R/escdir"
ln -s a.css "$R/inner-link.css"		# inside the root: refused too
mkfifo "$R/fifo" || exit 99
printf 'no one may read this\n' >"$R/unreadable.txt"
DOTSECRET=DOT-SECRET-7d2e4b
echo "PASSWORD=$DOTSECRET" >"$R/.env"
echo "url = https://$DOTSECRET@example.org/x.git" >"$R/.git/config"
printf 'git index\n' >"$R/.git/index.html"
echo "$DOTSECRET" >"$R/sub/.hidden"
printf 'dot in the middle\n' >"$R/sub/a.b.txt"

# 403 needs a worker that permissions apply to. Root ignores them, so
# as root the workers drop to "nobody" (config "user"), which must then
# be able to reach the tree.
USER_JSON=
CHECK_403=1
if [ "$(id -u)" = 0 ]; then
	if id nobody >/dev/null 2>&1; then
		USER_JSON='"user": "nobody",'
		chmod 711 "$SY_TMP"
		chmod -R a+rX "$R" "$SY_TMP/outside"
		info "running as root: workers drop to user nobody so that mode 000 gives EACCES (403)"
	else
		CHECK_403=0
		info "running as root without a \"nobody\" user: the 403 checks are skipped (root ignores mode 000)"
	fi
fi

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  '"$USER_JSON"'
  "access_log": "off",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/static/", "match": "prefix", "handler": "static",
     "mode": "nonblocking", "args": {"root": "@TMP@/root"}},
    {"path": "/pool", "match": "prefix", "handler": "static",
     "mode": "blocking", "args": {"root": "@TMP@/root", "index": "home.htm"}},
    {"path": "/dots/", "match": "prefix", "handler": "static",
     "args": {"root": "@TMP@/root", "dotfiles": true}}
  ]
}' || exit 1

H='Host: test\r\n'

# get PATH [HEADER_LINES]: a raw GET (exact bytes, no client-side
# normalisation of "..") on its own connection.
get() {
	sy_raw "GET $1 HTTP/1.1\r\n${H}${2:-}Connection: close\r\n\r\n"
}

# raw_hdr NAME: the value of header NAME in RAW.
raw_hdr() {
	R_HEADERS=$(raw_head | sed 1d) hdr "$1"
}

# -- 200: bytes, types, lengths ------------------------------------------------
out=$SY_TMP/b.out
code=$(sy_curl -o "$out" -w '%{http_code}' "$(sy_url /static/b.bin)")
check "GET 1 MiB file: 200 ($code)" [ "$code" = 200 ]
check "GET 1 MiB file: the exact bytes (cmp)" cmp -s "$out" "$R/b.bin"

# expect_type PATH TYPE
expect_type() {
	local got
	got=$(sy_curl -o /dev/null -w '%{http_code} %{content_type}' "$(sy_url "$1")")
	check "$1: 200 $2 ($got)" [ "$got" = "200 $2" ]
}
expect_type /static/index.html "text/html; charset=utf-8"
expect_type /static/a.css "text/css; charset=utf-8"
expect_type /static/UPPER.CSS "text/css; charset=utf-8"
expect_type /static/app.js "text/javascript; charset=utf-8"
expect_type /static/data.json "application/json"
expect_type /static/notes.txt "text/plain; charset=utf-8"
expect_type /static/img.png "image/png"
expect_type /static/font.woff2 "font/woff2"
expect_type /static/blob.xyz "application/octet-stream"

get /static/a.css
check "a.css: Content-Length $(stat -c %s "$R/a.css") ($(raw_hdr content-length))" \
    [ "$(raw_hdr content-length)" = "$(stat -c %s "$R/a.css")" ]
check "a.css: body is the file" [ "$(raw_body)" = "$(cat "$R/a.css")" ]
ETAG=$(raw_hdr etag)
LASTMOD=$(raw_hdr last-modified)
secs=$(stat -c %.9Y "$R/a.css")
want_etag=$(printf '"%x-%x"' "$(stat -c %s "$R/a.css")" \
    "$((10#${secs%.*} * 1000000000 + 10#${secs#*.}))")
check "a.css: ETag is \"size-mtime_ns\" in hex ($ETAG)" [ "$ETAG" = "$want_etag" ]
check "a.css: Last-Modified is the mtime as an IMF-fixdate ($LASTMOD)" \
    [ "$LASTMOD" = "$(date -u -r "$R/a.css" '+%a, %d %b %Y %H:%M:%S GMT')" ]

get /static/empty.txt
check "empty file: 200, Content-Length 0 ($RAW_STATUS, $(raw_hdr content-length))" \
    [ "$RAW_STATUS/$(raw_hdr content-length)" = 200/0 ]

get "/static/with%20space%20%25.txt"
check "percent-encoded name with spaces and %: 200 ($RAW_STATUS)" [ "$RAW_STATUS" = 200 ]
check "... and its bytes" [ "$(raw_body)" = "spaces and percent" ]

# -- conditional requests --------------------------------------------------------
# expect_304 WHAT HEADER_LINES
expect_304() {
	get /static/a.css "$2"
	check "$1: 304 ($RAW_STATUS)" [ "$RAW_STATUS" = 304 ]
	# RFC 9110, 8.6: a 304 carries no Content-Length (it would have to be
	# the 200's).
	check "$1: no body, no Content-Length ('$(raw_hdr content-length)', ${#RAW} bytes in all)" \
	    eval '[ -z "$(raw_body)" ] && [ -z "$(raw_hdr content-length)" ]'
	check "$1: the ETag again" [ "$(raw_hdr etag)" = "$ETAG" ]
}
# expect_200 WHAT HEADER_LINES
expect_200() {
	get /static/a.css "$2"
	check "$1: 200 with the body ($RAW_STATUS)" \
	    eval '[ "$RAW_STATUS" = 200 ] && [ "$(raw_body)" = "$(cat "$R/a.css")" ]'
}
expect_304 "If-None-Match: the ETag" "If-None-Match: $ETAG\r\n"
expect_304 "If-None-Match: W/ and a list" "If-None-Match: \"nope\", W/$ETAG\r\n"
expect_304 "If-None-Match: *" "If-None-Match: *\r\n"
expect_304 "If-Modified-Since: Last-Modified" "If-Modified-Since: $LASTMOD\r\n"
expect_304 "If-Modified-Since: later (asctime form)" \
    "If-Modified-Since: Sun Nov  6 08:49:37 2094\r\n"
expect_200 "If-None-Match: another tag" "If-None-Match: \"0-0\"\r\n"
expect_200 "If-Modified-Since: before the mtime" \
    "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n"
expect_200 "If-None-Match decides over If-Modified-Since" \
    "If-None-Match: \"0-0\"\r\nIf-Modified-Since: $LASTMOD\r\n"
expect_200 "If-Modified-Since: not a date" "If-Modified-Since: yesterday\r\n"

# -- HEAD ------------------------------------------------------------------------
sy_raw "HEAD /static/b.bin HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
check "HEAD 1 MiB file: 200 ($RAW_STATUS)" [ "$RAW_STATUS" = 200 ]
check "HEAD: Content-Length 1048576 ($(raw_hdr content-length))" \
    [ "$(raw_hdr content-length)" = 1048576 ]
check "HEAD: ETag and Last-Modified" \
    eval '[ -n "$(raw_hdr etag)" ] && [ -n "$(raw_hdr last-modified)" ]'
check "HEAD: no body bytes (${#RAW} bytes in all)" [ -z "$(raw_body)" ]

# HEAD then GET on one connection: the HEAD left nothing on the wire.
if sy_open fd; then
	sy_send "$fd" "HEAD /static/b.bin HTTP/1.1\r\n${H}\r\nGET /static/a.css HTTP/1.1\r\n${H}\r\n"
	if sy_read_resp "$fd" 5 nobody && [ "$R_STATUS" = 200 ] &&
	    sy_read_resp "$fd" 5 && [ "$R_STATUS" = 200 ]; then
		# (read -N keeps the final newline that $(cat) drops)
		check "HEAD then GET, keep-alive: the GET's body is a.css (${#R_BODY} bytes)" \
		    [ "$R_BODY" = "$(cat "$R/a.css")"$'\n' ]
	else
		fail "HEAD then GET, keep-alive: $R_LINE ${R_ERR:-}"
	fi
	sy_close "$fd"
fi

# -- directories -----------------------------------------------------------------
get /static/
check "/static/: 200, the root's index.html" \
    eval '[ "$RAW_STATUS" = 200 ] && [ "$(raw_body)" = "$(cat "$R/index.html")" ]'
get /static/sub/dir/
check "/static/sub/dir/: 200, its index.html" \
    eval '[ "$RAW_STATUS" = 200 ] && [ "$(raw_body)" = "sub dir index" ]'
get /static/sub/dir
check "/static/sub/dir: 301 ($RAW_STATUS)" [ "$RAW_STATUS" = 301 ]
check "... Location: /static/sub/dir/ ($(raw_hdr location))" \
    [ "$(raw_hdr location)" = /static/sub/dir/ ]
get "/static//sub//dir?x=1&y=%2F"
check "/static//sub//dir?q: 301, empty segments dropped, query kept ($(raw_hdr location))" \
    [ "$(raw_hdr location)" = "/static/sub/dir/?x=1&y=%2F" ]
get /static/sub/
check "/static/sub/ (no index.html): 404 ($RAW_STATUS)" [ "$RAW_STATUS" = 404 ]
get "/static/sub%2Fdir/"
check "/static/sub%2Fdir/ (decoded, then checked): 200 ($RAW_STATUS)" [ "$RAW_STATUS" = 200 ]
get /static/a.css/
check "/static/a.css/ (a file as a directory): 404 ($RAW_STATUS)" [ "$RAW_STATUS" = 404 ]

# -- errors ----------------------------------------------------------------------
get /static/missing.txt
check "missing file: 404 ($RAW_STATUS)" [ "$RAW_STATUS" = 404 ]
t0=$(now_ms)
get /static/fifo
check "a FIFO: 404 at once ($RAW_STATUS, $(($(now_ms) - t0)) ms)" \
    eval '[ "$RAW_STATUS" = 404 ] && [ "$(($(now_ms) - t0))" -lt 3000 ]'
get /static/./a.css
check "a \".\" segment: 404 ($RAW_STATUS)" [ "$RAW_STATUS" = 404 ]
get "/static/%00"
check "%00: 400 ($RAW_STATUS)" [ "$RAW_STATUS" = 400 ]
get "/static/a%zz.css"
check "a malformed escape: 400 ($RAW_STATUS)" [ "$RAW_STATUS" = 400 ]
code=$(sy_curl -o /dev/null -w '%{http_code}' -X POST -d x "$(sy_url /static/a.css)")
check "POST: 405 ($code)" [ "$code" = 405 ]

if [ "$CHECK_403" = 1 ]; then
	chmod 000 "$R/unreadable.txt" "$R/locked"
	get /static/unreadable.txt
	check "mode 000 file: 403 ($RAW_STATUS)" [ "$RAW_STATUS" = 403 ]
	check "... without its content" eval '[[ "$RAW" != *"no one may read"* ]]'
	get /static/locked/x.txt
	check "file in a mode 000 directory: 403 ($RAW_STATUS)" [ "$RAW_STATUS" = 403 ]
else
	echo "skip: 403 checks (running as root, no user to drop to)"
fi
# So that the temporary directory can be removed without root.
chmod 755 "$R/locked"

# -- containment -----------------------------------------------------------------
# expect_refused PATH: 404 (or 400), and never the secret.
expect_refused() {
	get "$1"
	check "$1: refused ($RAW_STATUS)" \
	    eval '[ "$RAW_STATUS" = 404 ] || [ "$RAW_STATUS" = 400 ]'
	check "$1: never the outside file" eval '[[ "$RAW" != *"$SECRET"* ]]'
}
expect_refused "/static/../outside/secret.txt"
expect_refused "/static/sub/../../outside/secret.txt"
expect_refused "/static/%2e%2e/outside/secret.txt"
expect_refused "/static/%2E%2E%2Foutside%2Fsecret.txt"
expect_refused "/static/..%2Foutside/secret.txt"
expect_refused "/static/sub/.%2e/.%2e/outside/secret.txt"
expect_refused "/static/escape.txt"
expect_refused "/static/escdir/secret.txt"
expect_refused "/static/escdir/"
expect_refused "/static/inner-link.css"
expect_refused "/pool/../outside/secret.txt"
expect_refused "/poolx"

# -- dotfiles --------------------------------------------------------------------
# expect_hidden PATH: 404, and never the dotfile's secret.
expect_hidden() {
	get "$1"
	check "dotfile $1: 404 ($RAW_STATUS)" [ "$RAW_STATUS" = 404 ]
	check "dotfile $1: not its content" eval '[[ "$RAW" != *"$DOTSECRET"* ]]'
}
expect_hidden /static/.env
expect_hidden /static/.git/config
expect_hidden /static/.git/
expect_hidden /static/.git
expect_hidden /static/sub/.hidden
expect_hidden "/static/%2eenv"
expect_hidden "/static/%2Egit%2Fconfig"
expect_hidden "/static/sub/%2ehidden"
expect_hidden "/pool/.env"
get /static/sub/a.b.txt
check "a dot inside a name is no dotfile: 200 ($RAW_STATUS)" \
    eval '[ "$RAW_STATUS" = 200 ] && [ "$(raw_body)" = "dot in the middle" ]'
# "dotfiles": true serves them, and nothing else changes.
get /dots/.env
check "dotfiles true: /dots/.env 200 with the file ($RAW_STATUS)" \
    eval '[ "$RAW_STATUS" = 200 ] && [ "$(raw_body)" = "PASSWORD=$DOTSECRET" ]'
get "/dots/.git/config"
check "dotfiles true: /dots/.git/config 200 ($RAW_STATUS)" \
    eval '[ "$RAW_STATUS" = 200 ] && [[ "$(raw_body)" == *"$DOTSECRET"* ]]'
get "/dots/%2Egit/"
check "dotfiles true: /dots/%2Egit/ is its index ($RAW_STATUS)" \
    eval '[ "$RAW_STATUS" = 200 ] && [ "$(raw_body)" = "git index" ]'
get /dots/sub/.hidden
check "dotfiles true: /dots/sub/.hidden 200 ($RAW_STATUS)" [ "$RAW_STATUS" = 200 ]
expect_refused "/dots/../outside/secret.txt"
expect_refused "/dots/%2e%2e/outside/secret.txt"
get /dots/./a.css
check "dotfiles true: a \".\" segment is still 404 ($RAW_STATUS)" [ "$RAW_STATUS" = 404 ]

# -- a blocking route, without a trailing slash, another index -------------------
out=$SY_TMP/pool.out
code=$(sy_curl -o "$out" -w '%{http_code}' "$(sy_url /pool/b.bin)")
check "blocking route: 1 MiB file, 200 ($code) and the exact bytes" \
    eval '[ "$code" = 200 ] && cmp -s "$out" "$R/b.bin"'
get /pool
check "/pool: 301 to /pool/ ($RAW_STATUS, $(raw_hdr location))" \
    [ "$RAW_STATUS $(raw_hdr location)" = "301 /pool/" ]
get /pool/
check "/pool/: index home.htm" \
    eval '[ "$RAW_STATUS" = 200 ] && [ "$(raw_body)" = "pool home" ]'

# -- load ------------------------------------------------------------------------
if command -v ab >/dev/null 2>&1; then
	out=$SY_TMP/ab.out
	timeout 120 ab -k -n 2000 -c 20 -s 30 "$(sy_url /static/b.bin)" >"$out" 2>&1
	rc=$?
	check "ab -k -n 2000 -c 20 on 1 MiB: exit status 0 ($rc)" [ "$rc" = 0 ]
	check "ab: Complete requests: 2000" grep -Eq '^Complete requests: +2000$' "$out"
	check "ab: Failed requests: 0" grep -Eq '^Failed requests: +0$' "$out"
	check "ab: no Non-2xx responses" eval '! grep -q "^Non-2xx" "$out"'
	check "ab: Document Length: 1048576 bytes" \
	    grep -Eq '^Document Length: +1048576 bytes$' "$out"
	check "ab: Keep-Alive requests: 2000" grep -Eq '^Keep-Alive requests: +2000$' "$out"
	grep -E '^(Requests per second|Transfer rate)' "$out" | sed 's/^/# ab: /'
	if [ "$rc" != 0 ] || ! grep -Eq '^Failed requests: +0$' "$out"; then
		sed 's/^/#   /' "$out"
	fi
else
	echo "skip: ab: ab (apache2-utils) is not installed"
fi

check_hello "after the static checks"
sy_stop

# -- config errors ---------------------------------------------------------------
# expect_conf_error WHAT ARGS_JSON ERE (ARGS_JSON "": no "args" at all)
expect_conf_error() {
	local conf=$SY_TMP/bad.json err=$SY_TMP/bad.err rc args=
	[ -n "$2" ] && args=", \"args\": $2"
	printf '{"listen": ["127.0.0.1:1"], "routes": [{"path": "/s/", "match": "prefix", "handler": "static"%s}]}\n' \
	    "$args" >"$conf"
	timeout 10 "$SY_BIN" -t -c "$conf" >/dev/null 2>"$err" </dev/null
	rc=$?
	if [ "$rc" = 1 ] && grep -Eq -- "$3" "$err"; then
		ok "config: $1: $(head -c 200 "$err")"
	else
		fail "config: $1: exit $rc, stderr /$3/ expected: $(head -c 300 "$err")"
	fi
}
expect_conf_error "no args" '' 'args\.root: required'
expect_conf_error "root missing" '{"index": "i.html"}' 'args\.root: required'
expect_conf_error "root does not exist" "{\"root\": \"$SY_TMP/nope\"}" \
    'args\.root: .*/nope: No such file or directory'
expect_conf_error "root is a file" "{\"root\": \"$R/a.css\"}" \
    'args\.root: .*/a\.css is not a directory'
expect_conf_error "root not a string" '{"root": 1}' 'args\.root: must be a string'
expect_conf_error "index with a slash" "{\"root\": \"$R\", \"index\": \"a/b\"}" \
    'args\.index: must be a file name'
expect_conf_error "unknown key" "{\"root\": \"$R\", \"listing\": true}" \
    'args\.listing: unknown key'
expect_conf_error "dotfiles not a boolean" "{\"root\": \"$R\", \"dotfiles\": 1}" \
    'args\.dotfiles: must be a boolean, not an integer'
expect_conf_error "dotfiles a string" "{\"root\": \"$R\", \"dotfiles\": \"yes\"}" \
    'args\.dotfiles: must be a boolean, not a string'
