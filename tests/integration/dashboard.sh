#!/bin/bash
# dashboard.sh - the "dashboard" page, rendered by a real browser.
#
# A server with a dashboard, its status route, a nonblocking route that
# blocks the loop (sleep), an auto route (sleep, moved to the pool by its
# first call), a blocking route kept busy by ab, /hello, and a route whose
# path is markup. After a reload (so the page has one to show) and some
# traffic, headless Chromium loads the page with a virtual-time budget of
# several polls, and the test reads the rendered DOM (--dump-dom), not the
# HTML source:
#  (a) every route of /status is a row with its handler, configured mode
#      and current mode; the blocking route shows a rate above 0 (the
#      page computed it from its polls); the nonblocking sleep is flagged
#      with the "mode": "blocking" hint; the auto route is marked as moved
#      to the pool; the markup path is text, not elements;
#  (b) every worker pid of /status is a row, with its pool threads and
#      queue limit; the last reload is shown as ok;
#  (c) each chart is an svg with data points and a polyline per series;
#      no alert is shown;
#  (d) a dashboard pointed at a path that is not a status route says in
#      words that it cannot read it (HTTP 404).
# Screenshots at 1280x800 and at phone width are saved beside the test's
# log and their paths printed. Chromium runs with a temporary profile, in
# its own process group, bounded in time, and is killed at the end.
# Skipped (77) only when Chromium is not installed or cannot start.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
command -v ab >/dev/null 2>&1 || skip_all "ab is not installed (apache2-utils)"
CHROMIUM=
for c in chromium chromium-browser google-chrome; do
	if command -v "$c" >/dev/null 2>&1; then
		CHROMIUM=$c
		break
	fi
done
[ -n "$CHROMIUM" ] ||
    skip_all "Chromium is not installed: apt-get install chromium (scripts/deps test)"

# Where the screenshots go: beside the test's log in the build tree.
SHOTS=${SY_BUILDDIR:+$SY_BUILDDIR/tests/integration}
[ -n "$SHOTS" ] && [ -d "$SHOTS" ] && [ -w "$SHOTS" ] || SHOTS=${TMPDIR:-/tmp}

CR_PGID=
# browser ARGS...: headless Chromium with a profile, cache and home of
# its own under SY_TMP, in its own session and process group, at most 60
# s; stdout to $SY_TMP/chromium.out. The group is killed afterwards, so
# no helper process outlives the call.
browser() {
	local rc
	mkdir -p "$SY_TMP/cr/home" "$SY_TMP/cr/profile"
	HOME=$SY_TMP/cr/home XDG_CONFIG_HOME=$SY_TMP/cr/home \
	    XDG_CACHE_HOME=$SY_TMP/cr/home setsid timeout -k 5 60 \
	    "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --no-first-run --disable-extensions --disable-sync \
	    --disable-background-networking --disable-component-update \
	    --disable-breakpad --user-data-dir="$SY_TMP/cr/profile" \
	    "$@" >"$SY_TMP/chromium.out" 2>"$SY_TMP/chromium.err" &
	CR_PGID=$!
	wait "$CR_PGID"
	rc=$?
	kill -KILL -- "-$CR_PGID" 2>/dev/null
	CR_PGID=
	return "$rc"
}
trap 'rc=$?; [ -z "$CR_PGID" ] || kill -KILL -- "-$CR_PGID" 2>/dev/null
    sy_cleanup $rc' EXIT

if ! browser --dump-dom 'data:text/html,<p id="x">chromium runs</p>' ||
    ! grep -q 'chromium runs' "$SY_TMP/chromium.out"; then
	sed 's/^/#   /' "$SY_TMP/chromium.err" | tail -5
	skip_all "$CHROMIUM cannot run here (output above)"
fi
info "$("$CHROMIUM" --version 2>/dev/null | head -1)"

sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 2,
  "threads": 4,
  "queue_limit": 64,
  "loop_block_warn_ms": 50,
  "access_log": "off",
  "routes": [
    {"path": "/", "handler": "dashboard", "args": {"status": "/status"}},
    {"path": "/broken", "handler": "dashboard", "args": {"status": "/nope"}},
    {"path": "/status", "handler": "status"},
    {"path": "/hello", "handler": "hello"},
    {"path": "/bad", "handler": "sleep", "mode": "nonblocking",
     "args": {"ms": 100}},
    {"path": "/auto", "handler": "sleep", "mode": "auto", "args": {"ms": 100}},
    {"path": "/ping", "handler": "sleep", "mode": "blocking",
     "args": {"ms": 100}},
    {"path": "/t<b>bold</b>", "handler": "hello"}
  ]
}' || exit 1

# A reload, so that the page has one to show; then wait for the first
# generation to be gone, so that /status lists only the workers that stay.
kill -HUP "$SY_PID"
check "reload: generation 2 ready" \
    wait_for 'grep -q " reload: generation 2 ready" "$SY_LOG"' 20
gen1_gone() {
	sy_curl "$(sy_url /status)" | python3 -c '
import json, sys
ws = json.load(sys.stdin)["workers"]
sys.exit(0 if ws and all(w["generation"] == 2 for w in ws) else 1)' 2>/dev/null
}
check "only generation 2 in /status" wait_for gen1_gone 20

# Traffic: the loop-blocking route and the auto one (whose first call moves
# it to the pool), then a flood of the blocking route for the page to see.
pids=
for i in 1 2 3; do
	sy_curl -o /dev/null "$(sy_url /bad)" &
	pids="$pids $!"
	sy_curl -o /dev/null "$(sy_url /auto)" &
	pids="$pids $!"
	sy_curl -o /dev/null "$(sy_url /hello)"
done
# shellcheck disable=SC2086 # a list of pids
wait $pids	# not a bare wait: lib.sh's watchdog is a child too
check "the auto route moved to the pool" \
    wait_for 'grep -q "route /auto (handler sleep, mode auto) blocked the event loop" "$SY_LOG"' 10
timeout 100 ab -q -t 90 -n 100000 -c 4 -s 10 "$(sy_url /ping)" \
    >"$SY_TMP/ab.out" 2>&1 &
AB_PID=$!
wait_for '[ "$(sy_in_flight)" -ge 2 ]' 10
sy_curl "$(sy_url /status)" >"$SY_TMP/status.json"

# 8 s of virtual time: the page polls 8 times (each fetch pauses the
# clock until it is answered).
if ! browser --virtual-time-budget=8000 --window-size=1280,800 \
    --dump-dom "$(sy_url /)"; then
	fail "chromium --dump-dom failed"
	sed 's/^/#   /' "$SY_TMP/chromium.err" | tail -10
fi
cp "$SY_TMP/chromium.out" "$SY_TMP/dom.html"
shot=$SHOTS/dashboard.png
if browser --virtual-time-budget=8000 --window-size=1280,800 \
    --hide-scrollbars --screenshot="$shot" "$(sy_url /)" &&
    [ -s "$shot" ]; then
	ok "screenshot at 1280x800: $shot"
else
	fail "no screenshot at $shot"
fi
phone=$SHOTS/dashboard-phone.png
if browser --virtual-time-budget=4000 --window-size=390,844 \
    --screenshot="$phone" "$(sy_url /)" && [ -s "$phone" ]; then
	ok "screenshot at phone width (390x844): $phone"
else
	fail "no screenshot at $phone"
fi
kill "$AB_PID" 2>/dev/null
wait "$AB_PID" 2>/dev/null

python3 - "$SY_TMP/dom.html" "$SY_TMP/status.json" "$SY_SRCDIR" \
    >"$SY_TMP/out" 2>&1 <<'EOF'
import html.parser, json, os, re, sys

sys.dont_write_bytecode = True     # nothing written into the source tree
sys.path.insert(0, os.path.join(sys.argv[3], "tests", "tools"))
import sytest
from sytest import ok, fail
dom = open(sys.argv[1], encoding="utf-8").read()
status = json.load(open(sys.argv[2]))


class Dom(html.parser.HTMLParser):
    """Rows (data-path, data-pid) as lists of cell texts; svg charts."""

    def __init__(self):
        super().__init__()
        self.rows, self.workers, self.charts = {}, {}, {}
        self.row = self.cell = self.chart = None
        self.alert = None       # (hidden, text)
        self.in_alert = False
        self.tags_in_rows = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and ("data-path" in a or "data-pid" in a):
            self.row = []
            key = a.get("data-path") or a.get("data-pid")
            (self.rows if "data-path" in a else self.workers)[key] = self.row
            self.row_attrs = a
        elif tag == "td" and self.row is not None:
            self.cell = []
            self.row.append(self.cell)
        elif self.row is not None and tag in ("b", "script", "img"):
            self.tags_in_rows.append(tag)
        if tag == "svg" and a.get("class") == "chart":
            self.chart = self.charts[a["id"]] = {
                "points": int(a.get("data-points", "0")), "lines": []}
        elif tag == "polyline" and self.chart is not None:
            self.chart["lines"].append(a.get("points", ""))
        if a.get("id") == "alert":
            self.alert = ["hidden" in a, ""]
            self.in_alert = True

    def handle_endtag(self, tag):
        if tag == "tr":
            self.row = None
        elif tag == "td":
            self.cell = None
        elif tag == "svg" and self.chart is not None:
            self.chart = None
        elif tag == "div":
            self.in_alert = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.in_alert:
            self.alert[1] += data


d = Dom()
d.feed(dom)
text = lambda cells: ["".join(c).strip() for c in cells]

# (a) routes
for r in status["routes"]:
    row = d.rows.get(r["path"])
    if row is None:
        fail("route %s: no row in the rendered page" % r["path"])
        continue
    cells = text(row)
    want_now = "pool (thread)" if r["current_mode"] == "pool" else "loop"
    if cells[1:4] == [r["handler"], r["mode"], want_now]:
        ok("route %s: %s, configured %s, runs now: %s" %
           (r["path"], cells[1], cells[2], cells[3]))
    else:
        fail("route %s: cells %r, want handler %s, mode %s, now %s" %
             (r["path"], cells[:4], r["handler"], r["mode"], want_now))
rows = {p: text(c) for p, c in d.rows.items()}
ping = rows.get("/ping", [""] * 10)
m = re.match(r"([0-9.]+) /s$", ping[4])
if m and float(m.group(1)) > 0:
    ok("/ping, flooded: %s, a rate the page computed from its polls" % ping[4])
else:
    fail("/ping, flooded: requests/s cell %r, want a rate above 0" % ping[4])
bad = rows.get("/bad", [""] * 10)
if "blocked the loop" in bad[9] and '"mode": "blocking"' in bad[9]:
    ok("/bad flagged with the hint: %s" % bad[9])
else:
    fail("/bad: note %r, want the flag and the \"mode\": \"blocking\" hint"
         % bad[9])
auto = rows.get("/auto", [""] * 10)
if auto[3] == "pool (thread)" and "moved to the pool" in auto[9]:
    ok("/auto marked as moved to the pool: %s" % auto[9])
else:
    fail("/auto: now %r, note %r, want pool and the mark" % (auto[3], auto[9]))
if "/t<b>bold</b>" in rows and rows["/t<b>bold</b>"][0] == "/t<b>bold</b>" \
        and not d.tags_in_rows:
    ok("a route path made of markup is shown as text")
else:
    fail("markup path: row %r, elements inside rows %r" %
         (rows.get("/t<b>bold</b>"), d.tags_in_rows))

# (b) workers
pids = sorted(str(w["pid"]) for w in status["workers"])
if pids and pids == sorted(d.workers):
    ok("every worker pid of /status has a row: %s" % ", ".join(pids))
else:
    fail("worker rows %r, /status pids %r" % (sorted(d.workers), pids))
for pid, cells in d.workers.items():
    cells = text(cells)
    if re.match(r"\d+ / 4", cells[4]) and re.match(r"\d+ / 64", cells[5]) \
            and cells[6].endswith(" ms") and cells[8].endswith(" ms"):
        ok("worker %s: pool %s, queue %s, lag %s, heartbeat %s" %
           (pid, cells[4], cells[5], cells[6], cells[8]))
    else:
        fail("worker %s: cells %r" % (pid, cells))
m = re.search(r"<dt>last reload</dt><dd[^>]*>([^<]*)</dd>", dom)
if m and m.group(1).startswith("ok: generation 2 ready"):
    ok("server: last reload %s" % m.group(1))
else:
    fail("server: last reload %r" % (m and m.group(1)))

# (c) charts
for cid in ("chart-rps", "chart-lag", "chart-pool"):
    c = d.charts.get(cid)
    if c and c["points"] >= 2 and c["lines"] and \
            all(len(l.split()) >= 1 for l in c["lines"]):
        ok("%s: svg with %d points in %d series" %
           (cid, c["points"], len(c["lines"])))
    else:
        fail("%s: %r" % (cid, c))
if d.alert is not None and d.alert[0]:
    ok("no alert: every poll answered")
else:
    fail("alert shown: %r" % (d.alert,))
sys.exit(1 if sytest.nfail else 0)
EOF
sy_tally "$SY_TMP/out" $?
if [ "$SY_FAILS" -gt 0 ]; then
	info "rendered DOM, first 60 lines of the body:"
	sed -n '/<body>/,$p' "$SY_TMP/dom.html" | head -60 | sed 's/^/#   /'
fi

# (d) a status path that is not a status route: said in words.
if browser --virtual-time-budget=3000 --dump-dom "$(sy_url /broken)"; then
	alert=$(python3 -c '
import re, sys
m = re.search(r"<div id=\"alert\" role=\"alert\"( hidden=\"\")?>([^<]*)</div>",
              open(sys.argv[1]).read())
print("hidden" if m is None or m.group(1) else m.group(2))' "$SY_TMP/chromium.out")
	case $alert in
	"Cannot read /nope: HTTP 404"*)
		ok "a status path that answers 404: the page says \"$alert\"" ;;
	*)
		fail "a status path that answers 404: alert \"$alert\"" ;;
	esac
else
	fail "chromium --dump-dom of /broken failed"
fi

sy_stop
