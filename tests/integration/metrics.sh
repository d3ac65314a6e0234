#!/bin/bash
# metrics.sh - the "metrics" and "status" handlers on a running server,
# read from the shared stats segment whichever worker answers.
#  (a) exactness: 4 workers, ab -n 2000 -c 20 (no keep-alive) on /hello;
#      /hello's total never goes back nor past 2000 while ab runs, then
#      10 consecutive scrapes, each on a new connection, all show exactly
#      2000; the access log (its field before the request id is the
#      worker pid) shows which workers answered the scrapes: several
#      distinct ones.
#  (b) every scrape parses with Debian's prometheus_client text parser
#      (/usr/bin/python3), each family with one # HELP and one # TYPE,
#      no series twice, histograms cumulative with +Inf = _count,
#      heartbeat ages sane; the issue's families are all there.
#  (c) the mode label: a blocking sleep shows mode="pool", hash_body
#      (POST) mode="offload", an auto route loop once then pool, with a
#      slow-loop event, one promotion and one log line; a 404 counts
#      under route=""; the pool histograms count every pool job. On a
#      1-thread, 1-queue server flooded for 2.5 s: the 503s show in
#      switchyard_pool_rejected_total and requests_total code="503",
#      exactly as many as clients got, and the 503 warning is logged at
#      most once a second, its lines' suppressed counts adding up to them.
#  (d) coherence: after a HUP (ready line awaited), /hello's total is
#      unchanged, generation 2, reloads_total{result="ok"} 1, slot
#      counters not reset; after kill -9 of a worker (respawned), its
#      slot's connections_accepted_total does not go back, restarts
#      {cause="signal"} is 1, the dead pid's series are gone.
#  (e) /status: the JSON shape (server, workers, routes and their keys),
#      one worker entry per live worker, /hello's requests equal to the
#      metrics total, current_mode "pool" for the promoted auto route.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "$PY (Debian's python3) is not installed"
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
    skip_all "$PY has no prometheus_client (Debian package python3-prometheus-client)"
command -v ab >/dev/null 2>&1 || skip_all "ab (apache2-utils) is not installed"

# -- helpers -----------------------------------------------------------------

# The Prometheus check: parse FILE with the real parser, then the rules
# the format and this exposition promise. Prints "family NAME TYPE N"
# per family (NAME as exposed: counters with _total), "fail WHY" per
# problem. MAXAGE: the largest heartbeat age allowed, seconds.
cat >"$SY_TMP/prom.py" <<'EOF'
import collections, math, re, sys
from prometheus_client.parser import text_string_to_metric_families

path, maxage = sys.argv[1], float(sys.argv[2])
def fail(msg):
    print("fail " + msg)
raw = open(path, "rb").read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    fail("not UTF-8: %s" % e)
    sys.exit(0)
try:
    fams = list(text_string_to_metric_families(text))
except Exception as e:
    fail("the parser refused it: %r" % e)
    sys.exit(0)
helps = collections.Counter(re.findall(r"^# HELP (\S+) ", text, re.M))
types = collections.Counter(re.findall(r"^# TYPE (\S+) ", text, re.M))
for name, n in list(helps.items()) + list(types.items()):
    if n != 1:
        fail("%s announced %d times" % (name, n))
if set(helps) != set(types):
    fail("HELP without TYPE or back: %s" % (set(helps) ^ set(types)))
seen = set()
nsamples = 0
for f in fams:
    name = f.name
    if f.type == "counter" and not name.endswith("_total"):
        name += "_total"
    print("family %s %s %d" % (name, f.type, len(f.samples)))
    if not name.startswith("switchyard_"):
        fail("%s: not prefixed switchyard_" % name)
    if name not in helps or f.type == "unknown":
        fail("%s: no HELP/TYPE" % name)
    groups = collections.OrderedDict()
    for s in f.samples:
        nsamples += 1
        key = (s.name, tuple(sorted(s.labels.items())))
        if key in seen:
            fail("series twice: %s %s" % key)
        seen.add(key)
        if math.isnan(s.value) or s.value < 0:
            fail("%s %s: value %r" % (s.name, s.labels, s.value))
        if f.type == "histogram":
            g = groups.setdefault(tuple(sorted((k, v) for k, v in
                s.labels.items() if k != "le")), {"b": [], "sum": [], "count": []})
            if s.name.endswith("_bucket"):
                g["b"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_sum"):
                g["sum"].append(s.value)
            elif s.name.endswith("_count"):
                g["count"].append(s.value)
            else:
                fail("%s: sample %s in a histogram" % (name, s.name))
        if name == "switchyard_heartbeat_age_seconds" and s.value > maxage:
            fail("%s %s: %g s (> %g)" % (name, s.labels, s.value, maxage))
    for labels, g in groups.items():
        les = [le for le, _ in g["b"]]
        vals = [v for _, v in g["b"]]
        if les != sorted(les) or len(set(les)) != len(les):
            fail("%s %s: le not increasing: %s" % (name, labels, les))
        if not les or les[-1] != float("inf"):
            fail("%s %s: last bucket is not +Inf" % (name, labels))
        if vals != sorted(vals):
            fail("%s %s: buckets not cumulative: %s" % (name, labels, vals))
        if len(g["sum"]) != 1 or len(g["count"]) != 1:
            fail("%s %s: %d sums, %d counts" % (name, labels,
                len(g["sum"]), len(g["count"])))
        elif vals and vals[-1] != g["count"][0]:
            fail("%s %s: +Inf %g != _count %g" % (name, labels, vals[-1],
                g["count"][0]))
print("parsed %d families, %d samples" % (len(fams), nsamples))
EOF

# The /status check. Args: FILE GENERATION CONFIG HELLO_TOTAL PIDS
# AUTO_MODE. Prints "ok WHAT" or "fail WHAT" lines.
cat >"$SY_TMP/status.py" <<'EOF'
import json, sys

path, gen, config, hello, pids, auto_mode = sys.argv[1:7]
gen, hello = int(gen), int(hello)
pids = sorted(int(p) for p in pids.split())
def check(cond, msg):
    print(("ok " if cond else "fail ") + msg)
def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)
try:
    doc = json.load(open(path))
except Exception as e:
    check(False, "status is JSON: %r" % e)
    sys.exit(0)
check(isinstance(doc, dict) and sorted(doc) == ["routes", "server", "workers"],
    "status: top-level keys server, workers, routes (%s)" % sorted(doc))
srv = doc.get("server", {})
check(isinstance(srv.get("version"), str) and srv["version"] != "",
    "status: server.version a string (%r)" % srv.get("version"))
check(is_num(srv.get("uptime_seconds")) and srv["uptime_seconds"] >= 0,
    "status: server.uptime_seconds a number >= 0 (%r)" % srv.get("uptime_seconds"))
check(srv.get("generation") == gen,
    "status: server.generation %r == %d" % (srv.get("generation"), gen))
check(srv.get("config") == config,
    "status: server.config is the file (%r)" % srv.get("config"))

workers = doc.get("workers")
wkeys = ["pid", "slot", "generation", "connections", "pool_busy",
    "pool_queued", "loop_lag_ms", "heartbeat_age_ms"]
check(isinstance(workers, list), "status: workers is an array")
workers = workers if isinstance(workers, list) else []
bad = [w for w in workers if not all(is_num(w.get(k)) for k in wkeys)]
check(not bad, "status: every worker has numeric %s (%s)" % (", ".join(wkeys), bad[:1]))
got = sorted(w.get("pid") for w in workers)
check(got == pids, "status: one entry per live worker: pids %s == %s" % (got, pids))
slots = sorted(w.get("slot") for w in workers)
check(slots == list(range(len(pids))), "status: slots %s" % slots)
check(all(w.get("generation") == gen for w in workers),
    "status: every worker of generation %d" % gen)
ages = [w.get("heartbeat_age_ms") for w in workers]
check(all(is_num(a) and 0 <= a < 5000 for a in ages),
    "status: heartbeat ages %s ms (< 5000)" % ages)

routes = doc.get("routes")
rkeys = {"path": str, "handler": str, "mode": str, "current_mode": str}
check(isinstance(routes, list), "status: routes is an array")
routes = routes if isinstance(routes, list) else []
bad = [r for r in routes if not all(isinstance(r.get(k), t) for k, t in rkeys.items())
    or not all(is_num(r.get(k)) for k in ("requests", "errors"))
    or not all(r.get(k) is None or is_num(r.get(k)) for k in ("p50_ms", "p99_ms"))
    or not all(k in r for k in ("p50_ms", "p99_ms"))]
check(not bad, "status: every route has path, handler, mode, current_mode, "
    "requests, errors, p50_ms, p99_ms (%s)" % bad[:1])
by = {r.get("path"): r for r in routes}
check("" not in by, "status: no route \"\"")
h = by.get("/hello", {})
check(h.get("requests") == hello,
    "status: /hello requests %r == the metrics total %d" % (h.get("requests"), hello))
check(h.get("handler") == "hello" and h.get("mode") == "nonblocking" and
    h.get("current_mode") == "loop" and h.get("errors") == 0,
    "status: /hello: hello, nonblocking, current loop, 0 errors (%s)" % h)
check(is_num(h.get("p50_ms")) and is_num(h.get("p99_ms")) and
    0 < h["p50_ms"] <= h["p99_ms"],
    "status: /hello 0 < p50 %r <= p99 %r ms" % (h.get("p50_ms"), h.get("p99_ms")))
s = by.get("/sleep", {})
check(s.get("mode") == "blocking" and s.get("current_mode") == "pool",
    "status: /sleep blocking, current pool (%s, %s)" % (s.get("mode"), s.get("current_mode")))
a = by.get("/auto", {})
check(a.get("mode") == "auto" and a.get("current_mode") == auto_mode,
    "status: /auto auto, current_mode %s (%s)" % (auto_mode, a.get("current_mode")))
EOF

# scrape FILE [QUERY]: GET /metrics[?QUERY] into FILE, on a new
# connection.
scrape() {
	local code
	code=$(sy_curl -o "$1" -w '%{http_code}' "$(sy_url "/metrics${2:+?$2}")" 2>/dev/null)
	[ "$code" = 200 ]
}

# prom_ok FILE WHAT [MAXAGE]: the Prometheus check passes (the problems
# are printed otherwise). Leaves FILE.prom.
prom_ok() {
	"$PY" "$SY_TMP/prom.py" "$1" "${3:-5}" >"$1.prom" 2>&1
	if [ $? = 0 ] && grep -q '^parsed ' "$1.prom" && ! grep -q '^fail ' "$1.prom"; then
		ok "$2: parses ($(grep '^parsed ' "$1.prom"))"
		return 0
	fi
	fail "$2: the Prometheus check failed:"
	grep -v '^family ' "$1.prom" | head -15 | sed 's/^/#   /'
	return 1
}

# val FILE SERIES: the value of the series written exactly as SERIES
# (name{labels}), or "none".
val() {
	awk -v s="$2" 'index($0, s " ") == 1 { print $2; f = 1; exit } END { if (!f) print "none" }' "$1"
}

# sum FILE PREFIX: the sum of the values of every line starting PREFIX.
sum() {
	awk -v s="$2" 'index($0, s) == 1 { n += $NF } END { printf "%.6f\n", n }' "$1"
}

# status_ok FILE WHAT ARGS...: run status.py; every line is a check.
status_ok() {
	local file=$1 what=$2 line
	shift 2
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "$what: ${line#ok }" ;;
		"fail "*) fail "$what: ${line#fail }" ;;
		*) fail "$what: status.py: $line" ;;
		esac
	done < <("$PY" "$SY_TMP/status.py" "$file" "$@" 2>&1)
}

# live_workers GEN: the pids of generation GEN's workers alive now.
live_workers() {
	local p out=
	for p in $(sed -n "s/.* master: info: worker [0-9]* started, pid \([0-9]*\), generation $1\$/\1/p" "$SY_LOG"); do
		ours "$p" && out+="$p "
	done
	echo "$out"
}

HELLO='switchyard_requests_total{route="/hello",mode="loop",code="200"}'

# ============================================================================
# (a) + (b): 4 workers, the exactness check
# ============================================================================
alog=$SY_TMP/access.log
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 4,
  "threads": 4,
  "loop_block_warn_ms": 100,
  "access_log": "@TMP@/access.log",
  "routes": [
    {"path": "/hello", "handler": "hello"},
    {"path": "/metrics", "handler": "metrics"},
    {"path": "/status", "handler": "status"},
    {"path": "/sleep", "handler": "sleep", "mode": "blocking", "args": {"ms": 20}},
    {"path": "/hash", "handler": "hash_body", "mode": "nonblocking", "methods": ["POST"]},
    {"path": "/auto", "handler": "sleep", "mode": "auto", "args": {"ms": 150}}
  ]
}' || exit 1
conf1=$SY_CONF
check "4 workers running" wait_for '[ "$(live_workers 1 | wc -w)" = 4 ]' 5
workers1=$(live_workers 1)

s=$SY_TMP/scrape.0
check "before any traffic: /metrics answers 200" scrape "$s"
prom_ok "$s" "before any traffic"
check "before any traffic: no /hello series yet ($(val "$s" "$HELLO"))" [ "$(val "$s" "$HELLO")" = none ]
check "before any traffic: switchyard_workers 4, switchyard_generation 1" \
    eval '[ "$(val "$s" switchyard_workers)" = 4 ] && [ "$(val "$s" switchyard_generation)" = 1 ]'

# ab in the background; scrape while it runs: /hello never goes back.
abo=$SY_TMP/ab.hello
timeout 120 ab -n 2000 -c 20 -s 30 "$(sy_url /hello)" >"$abo" 2>&1 &
abpid=$!
seq_vals=()
i=0
while alive "$abpid" && [ "$i" -lt 200 ]; do
	i=$((i + 1))
	if scrape "$SY_TMP/during"; then
		v=$(val "$SY_TMP/during" "$HELLO")
		[ "$v" = none ] && v=0
		seq_vals+=("$v")
	fi
done
wait "$abpid"
rc=$?
check "ab -n 2000 -c 20 /hello: exit 0 ($rc), 2000 complete, 0 failed, no non-2xx" \
    eval '[ "$rc" = 0 ] && grep -Eq "^Complete requests: +2000\$" "$abo" &&
    grep -Eq "^Failed requests: +0\$" "$abo" && ! grep -q "^Non-2xx" "$abo"'
info "ab: $(grep '^Requests per second' "$abo")"
info "during ab: ${#seq_vals[@]} scrapes saw /hello at: ${seq_vals[*]}"
mono=1
prev=0
for v in "${seq_vals[@]}"; do
	{ [ "$v" -lt "$prev" ] || [ "$v" -gt 2000 ]; } && mono=0
	prev=$v
done
check "during ab: /hello's total never went back nor past 2000 over ${#seq_vals[@]} scrapes" [ "$mono" = 1 ]

# Ten consecutive scrapes, each on its own connection, tagged so that
# their access log lines are known (each worker flushes its own buffer:
# the file is not in request order across workers). Placement would
# give connections made one at a time to the first worker; with 64 idle
# ones held, 32 on each, ties go to each worker in turn.
sy_hold 64 -
vals=()
for i in $(seq 1 10); do
	s=$SY_TMP/scrape.a$i
	if scrape "$s" "exact=$i"; then
		vals+=("$(val "$s" "$HELLO")")
	else
		vals+=("no-answer")
	fi
done
sy_release
info "10 scrapes after ab: /hello = ${vals[*]}"
n2000=$(printf '%s\n' "${vals[@]}" | grep -cx 2000)
check "exactness: /hello is exactly 2000 on all 10 scrapes ($n2000 of 10)" [ "$n2000" = 10 ]
check "exactness: no other /hello series (sum of every /hello series: $(sum "$SY_TMP/scrape.a10" 'switchyard_requests_total{route="/hello",'))" \
    [ "$(sum "$SY_TMP/scrape.a10" 'switchyard_requests_total{route="/hello",')" = 2000.000000 ]
check "exactness: the duration histogram counted them all" \
    [ "$(val "$SY_TMP/scrape.a10" 'switchyard_request_duration_seconds_count{route="/hello"}')" = 2000 ]
# Who answered: the access log's worker pid, the field before the request
# id, once it is flushed (1 s).
if wait_for '[ "$(grep -c "\"GET /metrics?exact=[0-9]* HTTP" "$alog")" = 10 ]' 3; then
	apids=$(for i in $(seq 1 10); do
		grep "\"GET /metrics?exact=$i HTTP" "$alog" | awk '{ print $(NF-1) }'
	done)
	distinct=$(printf '%s\n' $apids | sort -u | tr '\n' ' ')
	ndistinct=$(printf '%s\n' $apids | sort -u | grep -c .)
	info "the 10 scrapes were answered by worker pids: $(echo $apids) ($ndistinct distinct: $distinct)"
	check "exactness: several distinct workers answered the 10 scrapes ($ndistinct >= 2)" [ "$ndistinct" -ge 2 ]
	bad=
	for p in $distinct; do
		case " $workers1 " in *" $p "*) ;; *) bad+="$p " ;; esac
	done
	check "exactness: every answering pid is a live worker ($workers1)" [ -z "$bad" ]
else
	fail "exactness: the 10 scrapes are not all in the access log within 3 s"
fi
for i in $(seq 1 10); do
	prom_ok "$SY_TMP/scrape.a$i" "scrape $i of 10"
done
s=$SY_TMP/scrape.a10
for fam in switchyard_requests_total:counter \
    switchyard_request_duration_seconds:histogram \
    switchyard_pool_queue_wait_seconds:histogram \
    switchyard_pool_run_seconds:histogram \
    switchyard_loop_lag_seconds:gauge switchyard_connections_open:gauge \
    switchyard_heartbeat_age_seconds:gauge switchyard_generation:gauge \
    switchyard_reloads_total:counter switchyard_worker_restarts_total:counter \
    switchyard_slow_loop_total:counter switchyard_auto_promotions_total:counter \
    switchyard_pool_rejected_total:counter switchyard_handler_timeouts_total:counter \
    switchyard_connections_accepted_total:counter; do
	check "family ${fam%:*} (${fam#*:})" grep -q "^family ${fam%:*} ${fam#*:} " "$s.prom"
done
check "per-worker gauges: one loop lag and one heartbeat series per live worker (4)" \
    eval '[ "$(grep -c "^switchyard_loop_lag_seconds{" "$s")" = 4 ] &&
    [ "$(grep -c "^switchyard_heartbeat_age_seconds{" "$s")" = 4 ]'
check "connections accepted over the 4 slots >= 2000 ($(sum "$s" switchyard_connections_accepted_total{))" \
    awk -v n="$(sum "$s" switchyard_connections_accepted_total{)" 'BEGIN { exit !(n >= 2000) }'

# ============================================================================
# (c) modes, promotion, 404
# ============================================================================
for i in 1 2 3; do
	sy_curl -o /dev/null "$(sy_url "/sleep?i=$i")"
done
for i in 1 2; do
	sy_curl -o /dev/null --data-binary "body $i" "$(sy_url /hash)"
done
# One connection: the first /auto blocks its worker's loop and promotes
# the route there; the next two, same connection, same worker: pool.
codes=$(sy_curl -w '%{http_code} ' -o /dev/null -o /dev/null -o /dev/null \
    "$(sy_url '/auto?n=1')" "$(sy_url '/auto?n=2')" "$(sy_url '/auto?n=3')")
check "auto: three answers on one connection ($codes)" [ "$codes" = "200 200 200 " ]
code=$(sy_get_status /nope)
check "404 for /nope ($code)" [ "$code" = 404 ]
s=$SY_TMP/scrape.c
scrape "$s" && prom_ok "$s" "after the modes"
for want in \
    'switchyard_requests_total{route="/sleep",mode="pool",code="200"} 3' \
    'switchyard_requests_total{route="/hash",mode="offload",code="200"} 2' \
    'switchyard_requests_total{route="/auto",mode="loop",code="200"} 1' \
    'switchyard_requests_total{route="/auto",mode="pool",code="200"} 2' \
    'switchyard_requests_total{route="",mode="loop",code="404"} 1' \
    'switchyard_request_duration_seconds_count{route="/sleep"} 3' \
    'switchyard_slow_loop_total{route="/auto"} 1' \
    'switchyard_auto_promotions_total{route="/auto"} 1' \
    'switchyard_slow_loop_total{route="/hello"} 0' \
    'switchyard_auto_promotions_total{route="/hello"} 0' \
    'switchyard_pool_rejected_total{worker="0"} 0'; do
	check "modes: $want" grep -qxF "$want" "$s"
done
check "modes: no other /sleep, /hash or /auto series" \
    eval '[ "$(grep -c "^switchyard_requests_total{route=\"/\(sleep\|hash\|auto\)\"" "$s")" = 4 ]'
# Pool jobs: 3 /sleep, 2 /hash (offloaded), 2 promoted /auto.
check "pool histograms: 7 jobs waited and ran ($(sum "$s" switchyard_pool_queue_wait_seconds_count), $(sum "$s" switchyard_pool_run_seconds_count))" \
    eval '[ "$(sum "$s" switchyard_pool_queue_wait_seconds_count)" = 7.000000 ] &&
    [ "$(sum "$s" switchyard_pool_run_seconds_count)" = 7.000000 ]'
check "pool histograms: run time >= 3 x 20 ms + 2 x 150 ms ($(sum "$s" switchyard_pool_run_seconds_sum) s)" \
    awk -v n="$(sum "$s" switchyard_pool_run_seconds_sum)" 'BEGIN { exit !(n >= 0.36) }'
check "auto: the promotion is one log line" \
    [ "$(grep -c "warning: route /auto (handler sleep, mode auto) blocked the event loop for [0-9]* ms: moved to the thread pool in this worker (request [!-~]*)\$" "$SY_LOG")" = 1 ]

# ============================================================================
# (e) /status
# ============================================================================
st=$SY_TMP/status.1
code=$(sy_curl -o "$st" -w '%{http_code} %{content_type}' "$(sy_url /status)")
check "status: 200 application/json ($code)" [ "$code" = "200 application/json" ]
status_ok "$st" "before the reload" 1 "$conf1" 2000 "$(live_workers 1)" pool

# ============================================================================
# (d) coherence across a reload and a respawn
# ============================================================================
s=$SY_TMP/scrape.d0
scrape "$s"
declare -A acc0
for k in 0 1 2 3; do
	acc0[$k]=$(val "$s" "switchyard_connections_accepted_total{worker=\"$k\"}")
done
kill -HUP "$SY_PID"
if wait_for 'grep -q " master: info: reload: generation 2 ready " "$SY_LOG"' 10; then
	ok "reload: generation 2 ready"
else
	fail "reload: generation 2 never became ready"
fi
s=$SY_TMP/scrape.d1
scrape "$s" && prom_ok "$s" "after the reload"
check "reload: /hello unchanged: $(val "$s" "$HELLO") (not reset)" [ "$(val "$s" "$HELLO")" = 2000 ]
check "reload: switchyard_generation 2" [ "$(val "$s" switchyard_generation)" = 2 ]
check "reload: switchyard_reloads_total{result=\"ok\"} 1" \
    [ "$(val "$s" 'switchyard_reloads_total{result="ok"}')" = 1 ]
check "reload: the other reload results 0" \
    eval '[ "$(val "$s" "switchyard_reloads_total{result=\"invalid\"}")" = 0 ] &&
    [ "$(val "$s" "switchyard_reloads_total{result=\"failed\"}")" = 0 ]'
check "reload: the /auto counters kept (loop 1, pool 2)" \
    eval '[ "$(val "$s" "switchyard_requests_total{route=\"/auto\",mode=\"loop\",code=\"200\"}")" = 1 ] &&
    [ "$(val "$s" "switchyard_requests_total{route=\"/auto\",mode=\"pool\",code=\"200\"}")" = 2 ]'
bad=
for k in 0 1 2 3; do
	v=$(val "$s" "switchyard_connections_accepted_total{worker=\"$k\"}")
	[ "$v" != none ] && [ "$v" -ge "${acc0[$k]}" ] || bad+="slot $k: ${acc0[$k]} -> $v; "
done
check "reload: no slot's connections_accepted_total went back ${bad:+($bad)}" [ -z "$bad" ]
check "reload: the old generation drains: only generation 2 cells, 4 of them" \
    wait_for 'scrape "$SY_TMP/scrape.d2" && [ "$(grep -c "^switchyard_connections_open{.*generation=\"2\"}" "$SY_TMP/scrape.d2")" = 4 ] &&
    ! grep -q "^switchyard_connections_open{.*generation=\"1\"}" "$SY_TMP/scrape.d2" &&
    [ "$(val "$SY_TMP/scrape.d2" switchyard_workers)" = 4 ]' 10
st=$SY_TMP/status.2
sy_curl -o "$st" "$(sy_url /status)"
# A new generation starts over: /auto runs on the loop again.
status_ok "$st" "after the reload" 2 "$conf1" 2000 "$(live_workers 2)" loop

# kill -9 one worker of generation 2.
set -- $(live_workers 2)
victim=$1
vslot=$(sed -n "s/.* master: info: worker \([0-9]*\) started, pid $victim, generation 2\$/\1/p" "$SY_LOG")
SY_EXPECT_ERRORS="master: error: worker $vslot \\(pid $victim\\) killed by signal 9 \\(Killed\\)\$"
# Some traffic on every slot first, so each counter is above 0.
ab -n 200 -c 8 "$(sy_url /hello)" >/dev/null 2>&1
s=$SY_TMP/scrape.k0
scrape "$s"
before=$(val "$s" "switchyard_connections_accepted_total{worker=\"$vslot\"}")
hello0=$(val "$s" "$HELLO")
nstart0=$(grep -c " master: info: worker $vslot started, pid " "$SY_LOG")
kill -KILL "$victim"
if wait_for '[ "$(grep -c " master: info: worker $vslot started, pid " "$SY_LOG")" -gt "$nstart0" ]' 5; then
	newpid=$(sed -n "s/.* master: info: worker $vslot started, pid \([0-9]*\), generation 2\$/\1/p" "$SY_LOG" | tail -1)
	ok "respawn: slot $vslot: pid $victim killed, $newpid started"
else
	fail "respawn: slot $vslot not respawned within 5 s"
	newpid=
fi
s=$SY_TMP/scrape.k1
check "respawn: the new worker's cell is live" \
    wait_for 'scrape "$s" && grep -q "^switchyard_connections_open{worker=\"$vslot\",pid=\"$newpid\"," "$s"' 5
prom_ok "$s" "after the respawn"
after=$(val "$s" "switchyard_connections_accepted_total{worker=\"$vslot\"}")
check "respawn: slot $vslot's connections_accepted_total did not go back ($before -> $after)" \
    eval '[ "$after" != none ] && [ "$after" -ge "$before" ] && [ "$before" -gt 0 ]'
check "respawn: switchyard_worker_restarts_total{cause=\"signal\"} 1" \
    [ "$(val "$s" 'switchyard_worker_restarts_total{cause="signal"}')" = 1 ]
check "respawn: restarts by exit and watchdog 0" \
    eval '[ "$(val "$s" "switchyard_worker_restarts_total{cause=\"exit\"}")" = 0 ] &&
    [ "$(val "$s" "switchyard_worker_restarts_total{cause=\"watchdog\"}")" = 0 ]'
check "respawn: no series of the dead pid $victim" eval '! grep -q "pid=\"$victim\"" "$s"'
check "respawn: /hello total unchanged by the kill ($hello0 -> $(val "$s" "$HELLO"))" \
    [ "$(val "$s" "$HELLO")" = "$hello0" ]
check "respawn: 4 workers" [ "$(val "$s" switchyard_workers)" = 4 ]
st=$SY_TMP/status.3
sy_curl -o "$st" "$(sy_url /status)"
status_ok "$st" "after the respawn" 2 "$conf1" "$hello0" "$(live_workers 2)" loop
sy_stop

# ============================================================================
# (c) 503s: 1 thread, queue 1, flooded
# ============================================================================
SY_EXPECT_ERRORS=
sy_start '{
  "listen": ["127.0.0.1:@PORT@"],
  "workers": 1,
  "threads": 1,
  "queue_limit": 1,
  "routes": [
    {"path": "/metrics", "handler": "metrics"},
    {"path": "/slow", "handler": "sleep", "mode": "blocking", "args": {"ms": 200}}
  ]
}' || exit 1
complete=0
non2xx=0
runs=0
t0=$(now_ms)
while [ $(($(now_ms) - t0)) -lt 2500 ] && [ "$runs" -lt 100 ]; do
	runs=$((runs + 1))
	out=$SY_TMP/ab.flood
	timeout 60 ab -n 100 -c 10 -s 10 "$(sy_url /slow)" >"$out" 2>&1
	c=$(sed -n 's/^Complete requests: *\([0-9]*\)$/\1/p' "$out")
	n=$(sed -n 's/^Non-2xx responses: *\([0-9]*\)$/\1/p' "$out")
	if [ -z "$c" ]; then
		fail "flood: ab run $runs did not complete"
		sed 's/^/#   /' "$out" | head -20
		break
	fi
	complete=$((complete + c))
	non2xx=$((non2xx + ${n:-0}))
done
elapsed=$(($(now_ms) - t0))
info "flood: $runs ab runs in $elapsed ms: $complete requests, $non2xx answered 503"
check "flood: some requests refused ($non2xx > 0) and some served ($((complete - non2xx)) > 0)" \
    eval '[ "$non2xx" -gt 0 ] && [ "$complete" -gt "$non2xx" ]'
s=$SY_TMP/scrape.503
scrape "$s" && prom_ok "$s" "after the flood"
# Every family the server exposes is documented in switchyard.json(5).
undocumented=
for fam in $(sed -n 's/^# TYPE switchyard_\([a-z_]*\) .*/\1/p' "$s"); do
	grep -q "$fam" "$SY_SRCDIR/man/switchyard.json.5" ||
	    undocumented="$undocumented $fam"
done
check "every metric family is in switchyard.json(5) (missing:${undocumented:- none})" \
    [ -z "$undocumented" ]
check "flood: switchyard_pool_rejected_total{worker=\"0\"} = the 503s clients got ($(val "$s" 'switchyard_pool_rejected_total{worker="0"}') = $non2xx)" \
    [ "$(val "$s" 'switchyard_pool_rejected_total{worker="0"}')" = "$non2xx" ]
check "flood: requests_total{route=\"/slow\",mode=\"pool\",code=\"503\"} = $non2xx ($(val "$s" 'switchyard_requests_total{route="/slow",mode="pool",code="503"}'))" \
    [ "$(val "$s" 'switchyard_requests_total{route="/slow",mode="pool",code="503"}')" = "$non2xx" ]
check "flood: requests_total{...code=\"200\"} = the 200s ($(val "$s" 'switchyard_requests_total{route="/slow",mode="pool",code="200"}') = $((complete - non2xx)))" \
    [ "$(val "$s" 'switchyard_requests_total{route="/slow",mode="pool",code="200"}')" = $((complete - non2xx)) ]
# The 503s' queue wait and run time are not pool jobs: only the 200s count.
check "flood: the pool histograms count the jobs run, not the refusals ($(val "$s" 'switchyard_pool_run_seconds_count{worker="0"}'))" \
    [ "$(val "$s" 'switchyard_pool_run_seconds_count{worker="0"}')" = $((complete - non2xx)) ]
# The first refusal is logged at once, later ones at most once a second,
# each line ending with how many were held back since the one before
# (log.h, log_limit): every line stands for 1 + N refusals, and once the
# tick has told the storm's last second the lines add up to the 503s.
warn_re=' worker 0: warning: route /slow: request refused with 503: the thread pool queue is full \(threads, queue_limit\) \(request [!-~]+\)( \([0-9]+ more suppressed in the last [0-9]+ ms\))?$'
# warn_sum: the refusals the warning lines tell of.
warn_sum() {
	sy_warn_sum "$warn_re"
}
check "flood: the warning lines add up to the $non2xx refusals" \
    wait_for '[ "$(warn_sum)" = "$non2xx" ]' 3
window=$(($(now_ms) - t0))
nwarn=$(grep -Ec "$warn_re" "$SY_LOG")
logged=$(warn_sum)
info "flood: $nwarn warning lines for $non2xx refusals in $elapsed ms; they tell of $logged:"
grep -E "$warn_re" "$SY_LOG" | sed 's/^/#   /'
check "flood: the 503 warning is rate-limited: $nwarn lines in $window ms (<= 1 + $((window / 1000)))" \
    [ "$nwarn" -le $((1 + window / 1000)) ]
check "flood: ... but the storm is logged ($nwarn >= 2 lines over $elapsed ms)" [ "$nwarn" -ge 2 ]
ncounted=$(grep -E "$warn_re" "$SY_LOG" | grep -c ' more suppressed in the last ')
check "flood: lines after the first say how many were suppressed ($ncounted of $nwarn; never the first)" \
    eval '[ "$ncounted" -ge 1 ] && [ "$ncounted" -le $((nwarn - 1)) ]'
# One a second at most: consecutive lines >= 1 s apart (log time, ms).
gaps=$(grep -E "$warn_re" "$SY_LOG" | awk '{
	split(substr($1, 12), t, /[:.]/)
	ms = ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4]
	if (NR > 1) { d = ms - prev; if (d < 0) d += 86400000; printf "%d ", d }
	prev = ms }')
info "flood: gaps between the warning lines (ms): $gaps"
short=
for g in $gaps; do
	[ "$g" -lt 995 ] && short+="$g "
done
check "flood: consecutive 503 warnings are >= 1 s apart (${short:-none} shorter)" [ -z "$short" ]
check_hello_metrics() { scrape "$SY_TMP/scrape.after"; }
check "flood: the server still answers" check_hello_metrics
sy_stop
