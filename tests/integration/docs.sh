#!/bin/bash
# docs.sh - the manual pages agree with the binary, so they cannot drift.
#
# switchyard.json(5): the keys (top level, timeouts, limits, routes), the
# handlers and each handler's args that the parser accepts, read from its
# own messages (an unknown key lists the known ones, an unknown handler
# every handler), are exactly the ".It Ic" / ".It Cm" entries of the man
# page; the modes and enumerations likewise. Each key's documented type,
# range and default match conf/switchyard.schema.json (which schema.sh
# checks against the parser), and the page's example configurations load.
# switchyard(8): the options of "switchyard -h" are exactly its ".It Fl"
# entries, and the -s names are documented.
# switchyard-handler(3): every sy_* function of include/switchyard.h is in
# its NAME and SYNOPSIS with the header's prototype, and described; so are
# the typedefs, macros (with their values), enum members (with theirs) and
# types, and the page names nothing the header lacks. Its example plugin
# builds warning-free with the page's command and the build's pkg-config
# file, passes -t, and answers the page's curl as the page shows.
# All pages: "mandoc -T lint" reports nothing above STYLE level.
. "$(dirname "$0")/lib.sh"

man5=$SY_SRCDIR/man/switchyard.json.5
man8=$SY_SRCDIR/man/switchyard.8
man3=$SY_SRCDIR/man/switchyard-handler.3

# -- mandoc lint ---------------------------------------------------------------
if ! command -v mandoc >/dev/null 2>&1; then
	fail "mandoc not found: install the Debian package mandoc (scripts/deps test)"
	exit 1
fi
for page in "$man8" "$man5" "$man3"; do
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		ok "mandoc -T lint: nothing above STYLE in $(basename "$page")"
	else
		fail "mandoc -T lint $(basename "$page") (exit $rc):"
		printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
	fi
	# STYLE messages are allowed; show them (without mandoc.db noise).
	mandoc -T lint -W style "$page" 2>&1 | grep ' STYLE: ' |
	    sed 's/^/# /'
done

# -- keys, handlers, options -------------------------------------------------
py=python3
"$py" - "$SY_BIN" "$SY_SRCDIR" "$SY_TMP" >"$SY_TMP/out" 2>&1 <<'EOF'
import json, os, re, shlex, subprocess, sys

BIN, SRC, TMP = sys.argv[1:4]
sys.dont_write_bytecode = True     # nothing written into the source tree
sys.path.insert(0, os.path.join(SRC, "tests", "tools"))
import sytest
from sytest import ok, fail, schema_range
MAN5 = os.path.join(SRC, "man", "switchyard.json.5")
MAN8 = os.path.join(SRC, "man", "switchyard.8")
with open(os.path.join(SRC, "conf", "switchyard.schema.json")) as f:
    schema = json.load(f)


def run(args):
    return sytest.run(BIN, args)


def probe(obj):
    return sytest.probe(BIN, TMP, obj)


def same(what, parser, doc, src="the parser"):
    p, d = set(parser), set(doc)
    if not p:
        fail("%s: nothing found in the parser's messages" % what)
    elif p == d:
        ok("%s: %s and the man page agree on %d: %s" %
           (what, src, len(p), ", ".join(parser)))
    else:
        if p - d:
            fail("%s: in %s, not documented: %s" %
                 (what, src, ", ".join(sorted(p - d))))
        if d - p:
            fail("%s: documented, not in %s: %s" %
                 (what, src, ", ".join(sorted(d - p))))


# -- the parser's vocabulary -----------------------------------------------
ROUTE, KNOWN = sytest.ROUTE, sytest.KNOWN
ONE_OF = re.compile(r"is not one of (.*)$")


def listed(obj, what, rx=KNOWN):
    return sytest.listed(BIN, TMP, obj, what, rx)


parser = {
    "top": listed({"zz_unknown": 1, "routes": [ROUTE]}, "top level"),
    "timeouts": listed({"timeouts": {"zz_unknown": 1}, "routes": [ROUTE]},
                       "timeouts"),
    "limits": listed({"limits": {"zz_unknown": 1}, "routes": [ROUTE]},
                     "limits"),
    "route": listed({"routes": [dict(ROUTE, zz_unknown=1)]}, "route"),
    "handlers": listed({"routes": [{"path": "/x", "handler": "zz_unknown"}]},
                       "handlers"),
    "mode": listed({"routes": [dict(ROUTE, mode="zz")]}, "mode", ONE_OF),
    "match": listed({"routes": [dict(ROUTE, match="zz")]}, "match", ONE_OF),
    "methods": listed({"routes": [dict(ROUTE, methods=["zz"])]}, "methods",
                      ONE_OF),
    "log_level": listed({"log_level": "zz", "routes": [ROUTE]}, "log_level",
                        ONE_OF),
    "access_log_format": listed({"access_log_format": "zz", "routes": [ROUTE]},
                                "access_log_format", ONE_OF),
}


def handler_args(h):
    args = {"zz_unknown": 1}
    for _ in range(8):
        rc, msg = probe({"routes": [{"path": "/x", "handler": h,
                                     "args": args}]})
        if "takes no args" in msg:
            return []
        m = re.search(r"args\.zz_unknown: unknown key \(known: ([^)]*)\)",
                      msg)
        if m:
            return m.group(1).split(", ")
        m = re.search(r"args\.(\w+): required", msg)
        if m and m.group(1) not in args:
            args[m.group(1)] = None
            continue
        break
    fail("handler %s: cannot list its args from %r" % (h, msg))
    return None


# -- the man page's vocabulary ----------------------------------------------
class Item:
    def __init__(self, section, depth, parent, macro, name, args):
        self.section, self.depth, self.parent = section, depth, parent
        self.macro, self.name, self.args = macro, name, args
        self.body = []


def items(path):
    """Every .It of path, with its section, list depth, parent and body."""
    out, stack, section = [], [], None   # stack: the open .It per depth
    with open(path) as f:
        lines = f.read().split("\n")
    for line in lines:
        if line.startswith(".\\\""):
            continue
        if line.startswith(".Sh "):
            section, stack = line[4:].strip(), []
            continue
        if line.startswith(".Bl"):
            stack.append(None)
            continue
        if line.startswith(".El"):
            if stack:
                stack.pop()
            continue
        if line.startswith(".It") and stack:
            words = line.split()
            macro = words[1] if len(words) > 1 else ""
            name = words[2] if len(words) > 2 else ""
            parent = next((i for i in reversed(stack[:-1]) if i), None)
            it = Item(section, len(stack), parent, macro, name,
                      " ".join(words[3:]))
            stack[-1] = it
            out.append(it)
            continue
        for it in stack:
            if it is not None:
                it.body.append(line)
    return out


man5 = items(MAN5)


def doc(section, depth, macro, parent=None):
    return [i for i in man5 if i.section == section and i.depth == depth and
            i.macro == macro and
            (parent is None or (i.parent and i.parent.name == parent))]


doc_top = doc("TOP-LEVEL KEYS", 1, "Ic")
doc_handlers = doc("HANDLERS", 1, "Cm")
same("top-level keys", parser["top"], [i.name for i in doc_top])
same("timeouts keys", parser["timeouts"],
     [i.name for i in doc("TOP-LEVEL KEYS", 2, "Ic", "timeouts")])
same("limits keys", parser["limits"],
     [i.name for i in doc("TOP-LEVEL KEYS", 2, "Ic", "limits")])
same("route keys", parser["route"], [i.name for i in doc("ROUTES", 1, "Ic")])
same("handlers", parser["handlers"], [i.name for i in doc_handlers])
same("modes", parser["mode"], [i.name for i in doc("MODES", 1, "Cm")])


def text(item):
    return "\n".join(item.body)


def quoted(item):
    return re.findall(r"^\.Qq (\S+)", text(item), re.M)


by_name = {(i.section, i.parent.name if i.parent else None, i.name): i
           for i in man5}
for key, section, parent in (("match", "ROUTES", None),
                             ("methods", "ROUTES", None),
                             ("log_level", "TOP-LEVEL KEYS", None),
                             ("access_log_format", "TOP-LEVEL KEYS", None)):
    it = by_name.get((section, parent, key))
    if it is None:
        continue
    missing = [v for v in parser[key] if v not in quoted(it)]
    if missing:
        fail("%s: values the parser accepts are not documented: %s" %
             (key, ", ".join(missing)))
    else:
        ok("%s: every value documented (%s)" % (key, ", ".join(parser[key])))

# Handler args: the .It Ic entries of the handler's own list, or those of
# the handler its text defers to ("are those of .Cm async_sleep").
doc_args = {}
for h in doc_handlers:
    doc_args[h.name] = [i.name for i in man5 if i.parent is h and
                        i.macro == "Ic"]
for h in doc_handlers:
    m = re.search(r"are those of\n\.Cm (\w+)", text(h))
    if not doc_args[h.name] and m:
        doc_args[h.name] = doc_args.get(m.group(1), [])
for h in parser["handlers"]:
    names = handler_args(h)
    if names is None or h not in doc_args:
        continue
    item = next(i for i in doc_handlers if i.name == h)
    if not names:
        if doc_args[h]:
            fail("handler %s takes no args; documented: %s" %
                 (h, ", ".join(doc_args[h])))
        elif "No arguments." not in text(item):
            fail("handler %s takes no args; its entry does not say "
                 "\"No arguments.\"" % h)
        else:
            ok("handler %s: no args, documented so" % h)
        continue
    same("handler %s args" % h, names, doc_args[h])
    loop_only = "needs the event loop" in probe(
        {"routes": [{"path": "/x", "handler": h, "mode": "blocking"}]})[1]
    if loop_only != ("Needs the event loop." in text(item)):
        fail("handler %s: needs the loop: %s; its entry says \"Needs the "
             "event loop.\": %s" % (h, loop_only, not loop_only))

# -- types, ranges and defaults: man page against the schema ----------------



def schema_kind(p):
    t = p.get("type")
    if t is None:
        t = "|".join(sorted(s.get("type", "const") for s in p["anyOf"]))
    return t


def check_item(what, item, p):
    """The man entry's type, range and default against schema property p."""
    words = item.args.split()
    dtype = words[1] if len(words) > 1 and words[0] == "Ar" else None
    st = schema_kind(p)
    if dtype is None or not st.endswith(dtype) and dtype not in st:
        fail("%s: documented as %r, schema type %s" % (what, item.args, st))
        return
    body = " ".join(l for l in item.body if not l.startswith("."))
    if "integer" in st:
        m = re.search(r"(?:Range |^|\s)(\d+) to (\d+)(, or 0 for off)?",
                      body)
        doc_range = m and (int(m.group(1)), int(m.group(2)),
                           bool(m.group(3)))
        if doc_range != schema_range(p):
            fail("%s: documented range %s, schema %s" %
                 (what, doc_range, schema_range(p)))
            return
        m = re.search(r"[Dd]efault (\d+)", body)
        if "default" in p and isinstance(p["default"], int):
            if m is None or int(m.group(1)) != p["default"]:
                fail("%s: documented default %s, schema %s" %
                     (what, m and m.group(1), p["default"]))
                return
        ok("%s: %s %d..%d%s%s" % (what, st, doc_range[0], doc_range[1],
                                  " or 0" if doc_range[2] else "",
                                  ", default %d" % p["default"]
                                  if "default" in p else ""))
        return
    if isinstance(p.get("default"), str):
        t = text(item)
        m = (re.search(r"[Dd]efault\n\.Qq (\S+)", t) or
             re.search(r"^\.Qq (\S+)\n\(the default\)", t, re.M))
        if m is None or m.group(1) != p["default"]:
            fail("%s: documented default %s, schema %r" %
                 (what, m and m.group(1), p["default"]))
            return
        ok("%s: %s, default %s" % (what, st, p["default"]))
        return
    ok("%s: %s" % (what, st))


props = schema["properties"]
for it in doc_top:
    if it.name in props:
        check_item(it.name, it, props[it.name])
for sub in ("timeouts", "limits"):
    for it in doc("TOP-LEVEL KEYS", 2, "Ic", sub):
        p = props.get(sub, {}).get("properties", {}).get(it.name)
        if p:
            check_item(sub + "." + it.name, it, p)
for it in doc("ROUTES", 1, "Ic"):
    p = schema["definitions"]["route"]["properties"].get(it.name)
    if p:
        check_item("routes[]." + it.name, it, p)
for r in schema["definitions"]["route"]["allOf"]:
    h = r["if"]["properties"]["handler"]["const"]
    d = schema["definitions"][r["then"]["properties"]["args"]["$ref"]
                              .split("/")[-1]]
    for it in man5:
        if it.parent and it.parent.name == h and it.section == "HANDLERS":
            p = d.get("properties", {}).get(it.name)
            if p:
                check_item("handler %s args.%s" % (h, it.name), it, p)

# -- example configurations in switchyard.json(5) ---------------------------
with open(MAN5) as f:
    src = f.read()
examples = re.findall(r"^\.Bd -literal[^\n]*\n(\{.*?)^\.Ed$", src,
                      re.M | re.S)
if len(examples) < 2:
    fail("only %d example configurations in switchyard.json(5)" %
         len(examples))
defaults_ok = True
for n, ex in enumerate(examples):
    # A directory that exists here stands in for the page's /var/www.
    ex = ex.replace('"/var/www"', json.dumps(TMP))
    path = os.path.join(TMP, "example%d.json" % n)
    with open(path, "w") as f:
        f.write(ex)
    rc, msg = run(["-t", "-c", path])
    if rc != 0:
        fail("switchyard.json(5) example %d does not load: %s" % (n + 1, msg))
    else:
        ok("switchyard.json(5) example %d loads" % (n + 1))
    # The first claims "every key at its default value except workers and
    # access_log".
    if n == 0 and rc == 0:
        conf = json.loads(ex)
        for k, p in props.items():
            subs = [(k + "." + s, conf.get(k, {}).get(s), sp)
                    for s, sp in p.get("properties", {}).items()]
            for label, v, sp in [(k, conf.get(k), p)] + subs:
                if (label in ("workers", "access_log") or v is None or
                        "default" not in sp or isinstance(v, dict)):
                    continue
                if v != sp["default"]:
                    defaults_ok = False
                    fail("example 1: %s is %r, its default is %r" %
                         (label, v, sp["default"]))
        if defaults_ok:
            ok("example 1: every key at its default but workers and "
               "access_log, as it says")

# -- switchyard(8): options -------------------------------------------------
rc, usage = run(["-h"])
opts = sorted(set(re.findall(r"^  -(\w)\b", usage, re.M)) |
              set(re.findall(r"\[-(\w+)\]", usage)[0]
                  if re.findall(r"\[-(\w+)\]", usage) else ""))
man8 = items(MAN8)
doc_opts = [i.name for i in man8 if i.section == "OPTIONS" and
            i.macro == "Fl" and i.depth == 1]
same("switchyard(8) options", opts, doc_opts, "switchyard -h")
m = re.search(r"-s (\w+(?:\|\w+)+)", usage)
s_item = next((i for i in man8 if i.section == "OPTIONS" and
               i.name == "s"), None)
if m and s_item:
    names = m.group(1).split("|")
    missing = [n for n in names if not re.search(r"^\.Cm %s$" % n,
                                                 text(s_item), re.M)]
    if missing:
        fail("-s names not documented in switchyard(8): %s" %
             ", ".join(missing))
    else:
        ok("-s names documented: %s" % ", ".join(names))
else:
    fail("cannot find -s in the usage or in switchyard(8)")

# -- switchyard-handler(3): the header's API, and the page's example --------
MAN3 = os.path.join(SRC, "man", "switchyard-handler.3")
HEADER = os.path.join(SRC, "include", "switchyard.h")


def norm(decl):
    """A C declaration with one space between tokens: "char * buf"."""
    decl = re.sub(r"\s*([*()\[\],])\s*", r" \1 ", decl)
    return " ".join(decl.split())


def header_api(path):
    """The functions (name: (type, [params])), the typedefs (name: text),
    the SY_ macros (name: value, None for a function-like one), the other
    sy_/SY_ names of path and its enum members (name: value)."""
    with open(path) as f:
        src = f.read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = src.replace("\\\n", " ")
    macros = {}
    for m in re.finditer(r"^#\s*define\s+(SY_\w+)(\([^)]*\))?[ \t]*(.*)$",
                         src, re.M):
        macros[m.group(1)] = None if m.group(2) else m.group(3).strip()
    src = re.sub(r"^#.*$", " ", src, flags=re.M)
    src = re.sub(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)", " ", src)
    funcs, typedefs, others = {}, {}, set()
    for stmt in src.split(";"):
        stmt = re.split(r"[{}]", stmt)[-1].strip()
        m = re.match(r"typedef\s+.*\(\s*\*\s*(sy_\w+)\s*\)", stmt, re.S)
        if m:
            typedefs[m.group(1)] = norm(stmt)
            continue
        m = re.match(r"(?:extern\s+)?(.*?)\b(sy_\w+)\s*\((.*)\)$", stmt,
                     re.S)
        if m:
            funcs[m.group(2)] = (norm(m.group(1)),
                                 [norm(p) for p in m.group(3).split(",")])
            continue
        m = re.match(r"extern\s+.*?\b(sy_\w+)\s*\[\s*\]$", stmt, re.S)
        if m:
            others.add(m.group(1))
    others |= set(re.findall(r"\b(?:struct|enum)\s+(sy_\w+)", src))
    enums = dict(re.findall(r"\b(SY_[A-Z_]+)\s*=\s*(-?\d+)", src))
    return funcs, typedefs, macros, others | set(enums), enums


def page_api(path):
    """What the page declares: the .Nm names, the SYNOPSIS functions
    (name: (type, [params])), its .Vt and .Fd lines, and the text of
    the sections after SYNOPSIS."""
    with open(path) as f:
        lines = f.read().split("\n")
    section, names, funcs, vt, fd, body = None, [], {}, [], [], []
    ftype, cur = None, None
    for line in lines:
        if line.startswith(".Sh "):
            section = line[4:].strip()
            continue
        if section == "NAME" and line.startswith(".Nm "):
            names.append(line.split()[1])
        elif section == "SYNOPSIS":
            words = shlex.split(line[4:]) if line.startswith(".") else []
            if line.startswith(".Ft "):
                ftype = norm(line[4:])
            elif line.startswith(".Fn "):
                funcs[words[0]] = (ftype, [norm(w) for w in words[1:]])
            elif line.startswith(".Fo "):
                cur = words[0]
                funcs[cur] = (ftype, [])
            elif line.startswith(".Fa ") and cur:
                funcs[cur][1].append(norm(words[0]))
            elif line.startswith(".Fc"):
                cur = None
            elif line.startswith(".Vt "):
                vt.append(norm(" ".join(w for w in words if w != ";")))
            elif line.startswith(".Fd "):
                fd.append(line[4:].split())
        elif section is not None:
            body.append(line)
    return names, funcs, vt, fd, "\n".join(body)


funcs, typedefs, macros, others, enums = header_api(HEADER)
names, pfuncs, vt, fd, body = page_api(MAN3)
if len(funcs) < 20:
    fail("switchyard.h: only %d sy_* functions found: is the parser "
         "stale?" % len(funcs))
fnlike = sorted(m for m, v in macros.items() if v is None)
same("switchyard-handler(3) NAME", sorted(funcs) + fnlike, names,
     "switchyard.h")
same("switchyard-handler(3) SYNOPSIS functions", sorted(funcs) + fnlike,
     sorted(pfuncs), "switchyard.h")
bad = ["%s: header %s(%s), page %s(%s)" %
       (f, funcs[f][0], ", ".join(funcs[f][1]), pfuncs[f][0],
        ", ".join(pfuncs[f][1]))
       for f in sorted(funcs) if f in pfuncs and pfuncs[f] != funcs[f]]
if bad:
    fail("switchyard-handler(3) prototypes differ from switchyard.h:\n# " +
         "\n# ".join(bad))
else:
    ok("switchyard-handler(3): every prototype as in switchyard.h")
undescribed = [f for f in sorted(funcs)
               if not re.search(r"^\.(?:It )?Fn %s\b" % f, body, re.M)]
if undescribed:
    fail("switchyard-handler(3): in the SYNOPSIS only, never described: %s"
         % ", ".join(undescribed))
else:
    ok("switchyard-handler(3): every function described")
stale = sorted(set(re.findall(r"\b(sy_[a-z_]+)", body)) -
               set(funcs) - set(typedefs) - others)
if stale:
    fail("switchyard-handler(3) names what switchyard.h does not declare: %s"
         % ", ".join(stale))
for t, decl in sorted(typedefs.items()):
    if decl not in vt:
        fail("switchyard-handler(3) SYNOPSIS: no .Vt %r" % decl)
for m, v in sorted(macros.items()):
    if v is not None and ["#define", m, v] not in fd:
        fail("switchyard-handler(3) SYNOPSIS: no .Fd #define %s %s" % (m, v))
for n in sorted(others):
    if not any(re.search(r"\b%s\b" % n, d) for d in vt) or \
            not re.search(r"\b%s\b" % n, body):
        fail("switchyard-handler(3): %s is not both in the SYNOPSIS and "
             "the text" % n)
enum = next((d for d in vt if d.startswith("enum sy_result {")), "")
for m, v in sorted(enums.items()):
    if norm("%s = %s" % (m, v)) not in enum:
        fail("switchyard-handler(3) SYNOPSIS: enum sy_result lacks %s = %s"
             % (m, v))
ok("switchyard-handler(3): %d functions, %d typedefs, %d macros and %s "
   "checked against switchyard.h" % (len(funcs), len(typedefs), len(macros),
                                     ", ".join(sorted(others))))

# The example plugin, its configuration and its session, as the page has
# them: built here with the page's command (plus -Werror) against the
# build's switchyard-uninstalled.pc, then checked with -t; docs.sh then
# serves it and compares the curl output.
with open(MAN3) as f:
    man3 = f.read()


def literal(rx):
    m = re.search(r"^\.Bd -literal[^\n]*\n(%s.*?)^\.Ed$" % rx, man3,
                  re.M | re.S)
    return m and m.group(1).replace("\\e", "\\").replace("\\&", "")


code = literal(r"/\* hi\.c ")
session = literal(r"\$ cc ")
if code is None or session is None:
    fail("switchyard-handler(3): no example plugin or session")
else:
    with open(os.path.join(TMP, "hi.c"), "w") as f:
        f.write(code)
    cmds = re.split(r"^\$ ", session, flags=re.M)[1:]
    build = next(c for c in cmds if c.startswith("cc "))
    build = " ".join(build.replace("\\\n", " ").split("\n")[0].split())
    conf = next(c for c in cmds if c.startswith("cat hi.json"))
    with open(os.path.join(TMP, "hi.json"), "w") as f:
        f.write(conf.split("\n", 1)[1])
    check = next(c for c in cmds if c.startswith("switchyard -t"))
    curl = next(c for c in cmds if c.startswith("curl "))
    with open(os.path.join(TMP, "hi.curl"), "w") as f:
        f.write(curl)
    env = dict(os.environ)
    env["PKG_CONFIG_PATH"] = os.path.dirname(os.path.dirname(
        os.path.abspath(BIN))) + ":" + env.get("PKG_CONFIG_PATH", "")
    cc = os.environ.get("CC", "cc")
    p = subprocess.run(re.sub(r"^cc ", cc + " -Werror ", build), shell=True,
                       cwd=TMP, env=env, capture_output=True, text=True)
    if p.returncode != 0 or p.stderr.strip():
        fail("switchyard-handler(3) example: %s:\n# %s" %
             (build, (p.stdout + p.stderr).strip().replace("\n", "\n# ")))
    else:
        ok("switchyard-handler(3) example builds warning-free: %s" % build)
        p = subprocess.run([BIN] + check.split("\n")[0].split()[1:],
                           cwd=TMP, capture_output=True, text=True)
        want = check.split("\n")[1]
        got = (p.stdout + p.stderr).strip()
        if p.returncode != 0 or got != want:
            fail("switchyard-handler(3) example: %r says %r, the page %r" %
                 (check.split("\n")[0], got, want))
        else:
            ok("switchyard-handler(3) example: %s" % got)
sys.exit(1 if sytest.nfail else 0)
EOF
sy_tally "$SY_TMP/out" $?

# -- switchyard-handler(3): the example plugin answers as the page shows ----
# The checker left hi.so, hi.json and the page's curl session (the command,
# then its output) in $SY_TMP. The config goes beside hi.so, as in the page.
if [ -f "$SY_TMP/hi.so" ] && [ -f "$SY_TMP/hi.curl" ]; then
	url=$(sed -n "1s/^curl -i '\\([^']*\\)'\$/\\1/p" "$SY_TMP/hi.curl")
	path=${url#http://127.0.0.1:8080}
	sy_pick_port
	if [ -z "$url" ] || [ "$path" = "$url" ]; then
		fail "switchyard-handler(3): cannot read the example's curl line"
	elif sy_start "$(cat "$SY_TMP/hi.json")" -l "$SY_ADDR:$SY_PORT"; then
		# The Date, the version and the request id change; the rest is the
		# page's.
		norm='s/\r$//; s/^Date: .*/Date: */; s/^Server: switchyard\/.*/Server: switchyard\/*/; s/^X-Request-Id: [0-9a-z]\{26\}$/X-Request-Id: */'
		sed 1d "$SY_TMP/hi.curl" | sed "$norm" >"$SY_TMP/hi.want"
		sy_curl -i "$(sy_url "$path")" | sed "$norm" >"$SY_TMP/hi.got"
		if diff -u "$SY_TMP/hi.want" "$SY_TMP/hi.got" >"$SY_TMP/hi.diff"
		then
			ok "switchyard-handler(3) example: GET $path answers as the page shows"
		else
			fail "switchyard-handler(3) example: GET $path differs from the page:"
			sed 's/^/#   /' "$SY_TMP/hi.diff"
		fi
		sy_stop
	fi
fi
