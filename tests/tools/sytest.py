"""sytest.py - what the Python-driven integration tests share.

docs.sh and schema.sh ask the switchyard binary about its vocabulary by
feeding it configs with -t and reading its messages; both report with the
same ok/FAIL lines as lib.sh and read ranges off the JSON Schema alike.
"""
import json
import os
import subprocess

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


def schema_range(p):
    """(minimum, maximum, 0 allowed besides) of schema property p, or None."""
    lo, hi, zero = p.get("minimum"), p.get("maximum"), False
    for s in p.get("anyOf", []):
        if s.get("const") == 0:
            zero = True
        if "minimum" in s:
            lo, hi = s["minimum"], s["maximum"]
    return None if lo is None else (lo, hi, zero)
