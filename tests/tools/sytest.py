"""sytest.py - what the Python-driven integration tests share.

docs.sh and schema.sh ask the switchyard binary about its vocabulary by
feeding it configs with -t and reading its messages; both report with the
same ok/FAIL lines as lib.sh and read ranges off the JSON Schema alike.
"""
import json
import os
import re
import subprocess

# A minimal valid route, and the list the parser appends to an unknown key.
ROUTE = {"path": "/x", "handler": "hello"}
KNOWN = re.compile(r"\(known: ([^)]*)\)$")

nfail = 0


def ok(msg):
    print("ok: " + msg)


def fail(msg):
    global nfail
    nfail += 1
    print("FAIL: " + msg)


def run(binary, args):
    """Run the binary; its exit status and its output, stripped."""
    # errors="replace": a message may quote a string cut mid-character.
    p = subprocess.run([binary] + args, capture_output=True, text=True,
                       errors="replace", timeout=20)
    return p.returncode, (p.stdout + p.stderr).strip()


def probe(binary, tmp, obj):
    """switchyard -t on the config obj, written to a file in tmp."""
    path = os.path.join(tmp, "probe.json")
    with open(path, "w") as f:
        json.dump(obj, f)
    return run(binary, ["-t", "-c", path])


def listed(binary, tmp, obj, what, rx=KNOWN):
    """The names rx finds in the parser's refusal of obj ([] and a FAIL
    when it accepts obj or says no list)."""
    rc, msg = probe(binary, tmp, obj)
    m = rx.search(msg)
    if rc == 0 or m is None:
        fail("%s: no list in the parser's message %r" % (what, msg))
        return []
    return m.group(1).split(", ")


def schema_range(p):
    """(minimum, maximum, 0 allowed besides) of schema property p, or None."""
    lo, hi, zero = p.get("minimum"), p.get("maximum"), False
    for s in p.get("anyOf", []):
        if s.get("const") == 0:
            zero = True
        if "minimum" in s:
            lo, hi = s["minimum"], s["maximum"]
    return None if lo is None else (lo, hi, zero)
