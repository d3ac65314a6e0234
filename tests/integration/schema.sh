#!/bin/bash
# schema.sh - conf/switchyard.schema.json agrees with the parser.
#
# 1. The schema is a valid draft-07 schema (Debian's python3-jsonschema).
# 2. What the parser accepts, read from the binary's own messages (an
#    unknown key lists the known ones, an unknown handler lists every
#    handler, a wrong type or an out-of-range number names the type or the
#    range): the same keys, handlers, handler args, types and integer
#    ranges as the schema, and the schema's defaults and examples load.
# 3. Files: every conf/*.json, tests/conf/good/*.json and
#    tests/conf/schema/good/*.json validates and passes "switchyard -t";
#    every tests/conf/bad/*.json and tests/conf/schema/bad/*.json fails
#    "switchyard -t" and is refused by the schema too, unless it is one of
#    the KNOWN EXCEPTIONS below: rules JSON Schema cannot express. An
#    exception the schema starts refusing must leave the list.
. "$(dirname "$0")/lib.sh"

# A python3 with Debian's jsonschema: the first python3 on PATH may be
# another installation without it.
py=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 &&
	    "$p" -c 'import jsonschema' 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	fail "no python3 with jsonschema: install python3-jsonschema (scripts/deps test)"
	exit 1
fi
info "$py, jsonschema $("$py" -c 'import importlib.metadata as m; print(m.version("jsonschema"))' 2>/dev/null)"

"$py" - "$SY_BIN" "$SY_SRCDIR" "$SY_TMP" >"$SY_TMP/out" 2>&1 <<'EOF'
import glob, json, os, re, subprocess, sys
import jsonschema

BIN, SRC, TMP = sys.argv[1:4]
sys.dont_write_bytecode = True     # nothing written into the source tree
sys.path.insert(0, os.path.join(SRC, "tests", "tools"))
import sytest
from sytest import ok, fail, schema_range
SCHEMA = os.path.join(SRC, "conf", "switchyard.schema.json")

# -- KNOWN EXCEPTIONS: files switchyard -t refuses that the schema cannot --
# Each class says why JSON Schema cannot express the rule.
EXCEPTIONS = {
    "syntax": ("not JSON, so no schema applies; an editor flags it as a "
               "JSON error (checked here: Python's json refuses it too)", [
        "bad/empty_file.json", "bad/syntax_comment.json",
        "bad/syntax_missing_comma.json", "bad/syntax_trailing_comma.json",
        "bad/syntax_truncated.json", "bad/syntax_unterminated_string.json",
        "bad/trailing_garbage.json"]),
    "duplicate key": ("a schema sees one value per key (the last); jansson "
                      "refuses the file", ["bad/duplicate_key.json"]),
    "integral real": ("for JSON Schema 40.0 is an integer; jansson "
                      "types it a real", ["bad/threads_real.json"]),
    "same address": ("\"*:8080\" and \"0.0.0.0:8080\" differ as strings "
                     "(identical strings are refused by uniqueItems)",
                     ["bad/listen_duplicate.json"]),
    "cross-field comparison": ("no standard keyword compares two values: "
                               "uri_bytes <= an explicit header_bytes "
                               "(against the default 8192 it is checked)",
                               ["bad/limits_uri_over_header.json"]),
    "duplicate routes": ("same path, match and a shared method across "
                         "array items (GET implying HEAD)", [
        "bad/route_duplicate.json", "bad/route_duplicate_implied_head.json",
        "bad/route_duplicate_prefix.json"]),
    "system lookups": ("user and group must exist, static root and "
                       "write_file dir must be directories on this host", [
        "bad/user_unknown.json", "bad/group_unknown.json",
        "bad/listen_tls_missing_file.json",
        "schema/bad/static_root_missing.json",
        "schema/bad/write_file_dir_missing.json"]),
    "byte lengths": ("maxLength counts characters, the parser bytes: "
                     "600 x U+00E9 is 1201 bytes",
                     ["schema/bad/route_path_multibyte_too_long.json"]),
    "plugin handlers": ("the handlers a config's plugins bring are known "
                        "only once they are loaded: the schema takes any "
                        "valid name", ["schema/bad/handler_unknown.json"]),
    "NUL in strings": ("\\u0000 is a character like any other for JSON "
                       "Schema; jansson refuses it at parse time",
                       ["schema/bad/string_nul.json"]),
}



def run_t(path):
    return sytest.run(BIN, ["-t", "-c", path])


def probe(obj):
    return sytest.probe(BIN, TMP, obj)


def rel(path):
    return os.path.relpath(path, os.path.join(SRC, "tests", "conf"))


# -- 1. the schema itself ---------------------------------------------------
with open(SCHEMA) as f:
    schema = json.load(f)
try:
    jsonschema.Draft7Validator.check_schema(schema)
    ok("schema is a valid draft-07 schema")
except jsonschema.SchemaError as e:
    fail("schema is not a valid draft-07 schema: %s" % e.message)
    sys.exit(1)
V = jsonschema.Draft7Validator(schema)


def errors(obj):
    return sorted(V.iter_errors(obj), key=lambda e: list(e.path))


def why(errs):
    e = jsonschema.exceptions.best_match(errs)
    msg = e.message
    if e.validator == "pattern":
        msg = "%.40r does not match the pattern" % e.instance
    elif e.validator == "not" and "description" in e.validator_value:
        msg = "%.40r: %s" % (e.instance, e.validator_value["description"])
    elif len(msg) > 120:
        msg = msg[:117] + "..."
    return "%s: %s" % ("/".join(str(p) for p in e.path) or "top", msg)


# -- 2. the parser's vocabulary, from its messages --------------------------
ROUTE = sytest.ROUTE


def known(obj, what):
    return sytest.listed(BIN, TMP, obj, what)


scopes = {
    "top level": (known({"zz_unknown": 1, "routes": [ROUTE]}, "top level"),
                  schema["properties"]),
    "timeouts": (known({"timeouts": {"zz_unknown": 1}, "routes": [ROUTE]},
                       "timeouts"),
                 schema["properties"]["timeouts"]["properties"]),
    "limits": (known({"limits": {"zz_unknown": 1}, "routes": [ROUTE]},
                     "limits"),
               schema["properties"]["limits"]["properties"]),
    "route": (known({"routes": [dict(ROUTE, zz_unknown=1)]}, "route"),
              schema["definitions"]["route"]["properties"]),
}
handlers = known({"routes": [{"path": "/x", "handler": "zz_unknown"}]},
                 "handlers")
# The built-ins are the first choice of "handler"; the second takes the
# name of a plugin's handler.
handler_prop = schema["definitions"]["route"]["properties"]["handler"]
schema_handlers = handler_prop["anyOf"][0]["enum"]
for name, want in (("my_plugin.handler-2", True), ("9lives", False),
                   ("a b", False), ("x" * 64, False)):
    got = not errors({"routes": [{"path": "/x", "handler": name}]})
    if got != want:
        fail("schema: handler %r is %s" % (name, "accepted" if got else
                                           "refused"))
ok("schema: plugin handler names follow the server's rule")


def same(what, parser, schema_side):
    p, s = set(parser), set(schema_side)
    if p == s:
        ok("%s: parser and schema agree on %d names" % (what, len(p)))
    else:
        if p - s:
            fail("%s: accepted by the parser, missing in the schema: %s" %
                 (what, ", ".join(sorted(p - s))))
        if s - p:
            fail("%s: in the schema, refused by the parser: %s" %
                 (what, ", ".join(sorted(s - p))))


for name, (keys, props) in scopes.items():
    same(name + " keys", keys, props)
same("handlers", handlers, schema_handlers)
enum_desc = handler_prop["anyOf"][0].get("enumDescriptions", [])
if len(enum_desc) != len(schema_handlers):
    fail("handler enumDescriptions: %d for %d handlers" %
         (len(enum_desc), len(schema_handlers)))

# The schema's rule for each handler: if handler == H then ...
rules = {}
for r in schema["definitions"]["route"].get("allOf", []):
    h = r.get("if", {}).get("properties", {}).get("handler", {}).get("const")
    if h is not None:
        rules[h] = r["then"]


def handler_args_schema(h):
    ref = rules.get(h, {}).get("properties", {}).get("args", {}).get("$ref")
    if ref is None:
        return None
    return schema["definitions"][ref.split("/")[-1]]


def parser_args(h):
    """The arg names handler h accepts ([] for none), or None."""
    args = {"zz_unknown": 1}
    for _ in range(8):
        rc, msg = probe({"routes": [{"path": "/x", "handler": h,
                                     "args": args}]})
        if "takes no args" in msg:
            return [], {}
        m = re.search(r"args\.zz_unknown: unknown key \(known: ([^)]*)\)",
                      msg)
        if m:
            del args["zz_unknown"]
            return m.group(1).split(", "), args
        m = re.search(r"args\.(\w+): required", msg)
        if m and m.group(1) not in args:
            args[m.group(1)] = None     # presence is checked first
            continue
        break
    fail("handler %s: cannot list its args from %r" % (h, msg))
    return None, {}


# Parser types and ranges, probed key by key. mk(value) builds a config
# with the key set to value; label is how the parser names the key.
TYPES = [("must be a positive integer or \"auto\"", "integer|auto"),
         ("must be an integer", "integer"), ("must be a string", "string"),
         ("must be an array", "array"), ("must be an object", "object"),
         ("must be a boolean", "boolean")]
RANGE = re.compile(r"(-?\d+) is out of range (\d+)\.\.(\d+)( \(or 0 for off\))?")


def parser_type(mk, label):
    rc, msg = probe(mk(True))
    m = re.search(re.escape(label) + r": (.*)$", msg)
    if m:
        for text, t in TYPES:
            if m.group(1).startswith(text):
                return t
        return "?" + m.group(1)
    return "boolean"        # true was accepted: the error, if any, is later


def parser_range(mk, label):
    rc, msg = probe(mk(2 ** 40))
    m = re.search(re.escape(label) + r": " + RANGE.pattern, msg)
    if not m:
        return None
    return (int(m.group(2)), int(m.group(3)), bool(m.group(4)))


def schema_type(p):
    if "type" in p and isinstance(p["type"], str):
        t = p["type"]
    else:
        t = "|".join(sorted({s.get("type", "const")
                             for s in p.get("anyOf", [])}))
    consts = [s["const"] for s in p.get("anyOf", []) if isinstance(
        s.get("const"), str)]
    if t == "const|integer" and consts == ["auto"]:
        return "integer|auto"
    return t





def compare_key(what, props, key, mk, label):
    if key not in props:
        return          # reported by the name comparison
    p = props[key]
    pt, st = parser_type(mk, label), schema_type(p)
    if pt != st:
        fail("%s: parser type %s, schema type %s" % (what, pt, st))
        return
    if pt.startswith("integer"):
        pr, sr = parser_range(mk, label), schema_range(p)
        if pr != sr:
            fail("%s: parser range %s, schema range %s" % (what, pr, sr))
            return
        ok("%s: %s %d..%d%s" % (what, pt, pr[0], pr[1],
                                " or 0" if pr[2] else ""))
    else:
        ok("%s: %s" % (what, pt))


def with_routes(obj):
    obj.setdefault("routes", [ROUTE])
    return obj


for key in scopes["top level"][0]:
    compare_key(key, schema["properties"], key,
                lambda v, k=key: with_routes({k: v}), key)
for sub in ("timeouts", "limits"):
    for key in scopes[sub][0]:
        compare_key(sub + "." + key, schema["properties"][sub]["properties"],
                    key, lambda v, s=sub, k=key: with_routes({s: {k: v}}),
                    sub + "." + key)
for key in scopes["route"][0]:
    compare_key("routes[]." + key, scopes["route"][1], key,
                lambda v, k=key: {"routes": [dict(ROUTE, **{k: v})]},
                ("routes[0]: " if key == "path" else "") + key)

# A valid value of each required handler arg, for probing the others.
VALID_ARGS = {"ms": 1, "rounds": 1, "items": 1, "root": "/", "bytes": 1}

for h in handlers:
    names, required = parser_args(h)
    if names is None:
        continue
    s = handler_args_schema(h)
    if s is None:
        fail("handler %s: no args rule in the schema" % h)
        continue
    same("handler %s args" % h, names, s.get("properties", {}))
    if not names and s.get("maxProperties") != 0:
        fail("handler %s takes no args; its schema allows some" % h)
    if sorted(required) != sorted(s.get("required", [])):
        fail("handler %s: parser requires %s, schema %s" %
             (h, sorted(required), sorted(s.get("required", []))))
    if required and "args" not in rules[h].get("required", []):
        fail("handler %s: required args, but the schema does not require "
             "\"args\"" % h)
    for key in names:
        def mk(v, h=h, key=key):
            # The other required args valid, so the error is this key's
            # whatever order the handler checks its args in.
            args = {key: v}
            for r in required:
                args.setdefault(r, VALID_ARGS.get(r))
            return {"routes": [{"path": "/x", "handler": h, "args": args}]}
        compare_key("handler %s args.%s" % (h, key), s["properties"], key,
                    mk, "args." + key)
    # Loop-only handlers: the parser refuses "blocking" before any args.
    rc, msg = probe({"routes": [{"path": "/x", "handler": h,
                                 "mode": "blocking"}]})
    loop_only = "needs the event loop" in msg
    s_loop = rules[h].get("properties", {}).get("mode", {}).get(
        "const") == "nonblocking"
    if loop_only != s_loop:
        fail("handler %s: needs the loop for the parser: %s, for the "
             "schema: %s" % (h, loop_only, s_loop))
    else:
        ok("handler %s: %s" % (h, "nonblocking only" if loop_only
                                else "any mode"))


# Defaults and examples: each must be accepted by both.
def check_value(what, obj):
    errs = errors(obj)
    rc, msg = probe(obj)
    if errs or rc != 0:
        fail("%s: schema: %s; -t: %s" % (what, why(errs) if errs else "ok",
                                         msg))
        return False
    return True


def values(p):
    v = ([p["default"]] if "default" in p else []) + p.get("examples", [])
    return v + p.get("items", {}).get("examples", [])


n = 0
for key, p in schema["properties"].items():
    for v in values(p):
        if key == "listen" and isinstance(v, str):
            v = [v]
        if key in ("access_log", "error_log") and v.startswith("/"):
            # -t creates log files, as the start would: under TMP.
            os.makedirs(TMP + os.path.dirname(v), exist_ok=True)
            v = TMP + v
        if key == "plugins":
            # No such plugin is installed here: the schema must take the
            # example, and -t refuse it for the first file, resolved
            # against the directory of the config (the probe's, TMP).
            obj = with_routes({key: v})
            errs = errors(obj)
            rc, msg = probe(obj)
            want = "plugins[0]: %s: No such file or directory" % (
                v[0] if v[0].startswith("/") else os.path.join(TMP, v[0]))
            if errs or rc != 1 or want not in msg:
                fail("top plugins = %r: schema: %s; -t: %s (wanted %s)" % (
                    v, why(errs) if errs else "ok", msg, want))
            n += 1
            continue
        n += check_value("top %s = %r" % (key, v), with_routes({key: v}))
    for sub, sp in p.get("properties", {}).items():
        for v in values(sp):
            n += check_value("%s.%s = %r" % (key, sub, v),
                             with_routes({key: {sub: v}}))
for key, p in schema["definitions"]["route"]["properties"].items():
    for v in values(p):
        route = dict(ROUTE)
        route[key] = v
        n += check_value("routes[].%s = %r" % (key, v), {"routes": [route]})
for name, d in schema["definitions"].items():
    for key, p in d.get("properties", {}).items():
        if name == "route":
            continue
        for h, r in rules.items():
            if r["properties"]["args"]["$ref"].endswith("/" + name):
                break
        args = {k: None for k in d.get("required", [])}
        base = {"sleep_args": {"ms": 1}, "cpu_args": {"rounds": 1},
                "json_args": {"items": 1}, "static_args": {"root": "/"},
                "write_file_args": {"bytes": 1}}.get(name, {})
        for v in values(p):
            if key == "root" and isinstance(v, str) and v.startswith("/"):
                # An example path (/var/www) exists only where some
                # package made it: the test makes its own, under TMP.
                os.makedirs(TMP + v, exist_ok=True)
                v = TMP + v
            a = dict(base, **{key: v})
            n += check_value("%s args.%s = %r" % (h, key, v),
                             {"routes": [{"path": "/x", "handler": h,
                                          "args": a}]})
ok("%d defaults and examples in the schema load with -t" % n)

# -- 3. files ----------------------------------------------------------------
good = sorted(f for f in glob.glob(os.path.join(SRC, "conf", "*.json"))
              if not f.endswith(".schema.json"))
good += sorted(glob.glob(os.path.join(SRC, "tests", "conf", "good", "*.json")))
good += sorted(glob.glob(os.path.join(SRC, "tests", "conf", "schema", "good",
                                      "*.json")))
if len(good) < 8:
    fail("only %d good files" % len(good))
LOGDIR = "/var/log/switchyard/"
os.makedirs(TMP + LOGDIR, exist_ok=True)
for f in good:
    with open(f) as fh:
        text = fh.read()
    data = json.loads(text)
    errs = errors(data)
    if LOGDIR in text:
        # -t creates the log files, as the start would: under TMP.
        f_t = os.path.join(TMP, "good-" + os.path.basename(f))
        with open(f_t, "w") as fh:
            fh.write(text.replace(LOGDIR, TMP + LOGDIR))
        rc, msg = run_t(f_t)
    else:
        rc, msg = run_t(f)
    name = os.path.relpath(f, SRC)
    if errs:
        fail("%s: schema refuses a good file: %s" % (name, why(errs)))
    elif rc != 0:
        fail("%s: switchyard -t refuses a good file: %s" % (name, msg))
    else:
        ok("%s: schema and -t accept it" % name)

exception_of = {}
for cls, (reason, files) in EXCEPTIONS.items():
    for f in files:
        exception_of[f] = cls
        if not os.path.exists(os.path.join(SRC, "tests", "conf", f)):
            fail("known exception %s (%s) does not exist" % (f, cls))

bad = sorted(glob.glob(os.path.join(SRC, "tests", "conf", "bad", "*.json")))
bad += sorted(glob.glob(os.path.join(SRC, "tests", "conf", "schema", "bad",
                                     "*.json")))
if len(bad) < 100:
    fail("only %d bad files" % len(bad))
counts = {"refused": 0}
for f in bad:
    name = rel(f)
    cls = exception_of.get(name)
    rc, msg = run_t(f)
    if rc != 1:
        fail("%s: switchyard -t exits %d on a bad file: %s" % (name, rc, msg))
        continue
    try:
        with open(f, encoding="utf-8") as fh:
            data = json.load(fh)
    except ValueError as e:
        if cls == "syntax":
            ok("%s: known exception (syntax): not JSON for Python either" %
               name)
            counts[cls] = counts.get(cls, 0) + 1
        else:
            fail("%s: not JSON (%s) but not listed as a syntax exception" %
                 (name, e))
        continue
    if cls == "syntax":
        fail("%s: listed as a syntax exception but Python parses it" % name)
        continue
    errs = errors(data)
    if cls is not None:
        if errs:
            fail("%s: listed as a known exception (%s) but the schema "
                 "refuses it (%s): take it off the list" %
                 (name, cls, why(errs)))
        else:
            ok("%s: known exception (%s): the schema accepts, -t says: %s" %
               (name, cls, msg.split(": ", 1)[-1]))
            counts[cls] = counts.get(cls, 0) + 1
        continue
    if errs:
        ok("%s: both refuse (schema: %s)" % (name, why(errs)))
        counts["refused"] += 1
    else:
        fail("%s: the schema accepts what -t refuses: %s" % (name, msg))

print("# %d bad files: %d refused by the schema too; known exceptions: %s" %
      (len(bad), counts.pop("refused"),
       ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
for cls, (reason, files) in EXCEPTIONS.items():
    print("#   %s: %s" % (cls, reason))
sys.exit(1 if sytest.nfail else 0)
EOF
sy_tally "$SY_TMP/out" $?
