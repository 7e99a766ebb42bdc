#!/usr/bin/env python3
"""check_failpoints.py SOURCE_DIR - every crash point exists, is listed and is tested.

The failpoints (common/sl.h) are kept in four places that must agree:
  1. the call sites: sl_failpoint("name") in the sources (the switchover's
     names are built from migrate/mig_journal.c mig__sw_step_names:
     "switchover.<step>.before" and ".after");
  2. the registry: known[] in common/sl_fail.c (an armed name not in it is
     refused, so a test cannot arm a point that does not exist);
  3. the table under "## Failpoints" in tests/integration/README.md;
  4. the tests that crash there: the MATRIX of test_failpoints.sh, the
     POINTS of test_ship_crash.sh (ship's and receive's), and the STEPS of
     test_switchover_crash.sh for the switchover's.
A point added in one place and not the others fails here, naming it.
Exit 0 when they agree, 1 (with one line per difference) when not.
"""
import os
import re
import sys


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def call_sites(root):
    """Names given as string literals to sl_failpoint(), per file."""
    names = {}
    for folder in ("common", "formats", "store", "db", "ddl", "capture", "snapshot", "replay",
                   "verify", "migrate", "ship", "cli"):
        d = os.path.join(root, folder)
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".c") or fn == "sl_fail.c":
                continue
            text = read(root, os.path.join(folder, fn))
            for m in re.finditer(r"\bsl_failpoint\(", text):
                depth, i = 1, m.end()
                while depth and i < len(text):
                    depth += {"(": 1, ")": -1}.get(text[i], 0)
                    i += 1
                for lit in re.findall(r'"([^"\\]*)"', text[m.end():i]):
                    names.setdefault(lit, f"{folder}/{fn}")
    return names


def registry(root):
    text = read(root, "common/sl_fail.c")
    m = re.search(r"known\[\]\s*=\s*\{(.*?)\n\};", text, re.S)
    if not m:
        sys.exit("check_failpoints: no known[] table in common/sl_fail.c")
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return re.findall(r'"([^"]+)"', body)


def switchover_names(root):
    m = re.search(r"mig__sw_step_names\[SW_NSTEPS\]\s*=\s*\{(.*?)\};",
                  read(root, "migrate/mig_journal.c"), re.S)
    steps = re.findall(r'"([^"]+)"', m.group(1))
    return steps, {f"switchover.{s}.{w}" for s in steps for w in ("before", "after")}


def readme_table(root):
    text = read(root, "tests/integration/README.md")
    m = re.search(r"^## Failpoints\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not m:
        return None
    return re.findall(r"^\|\s*`([a-z-]+\.[a-z.<>-]+)`", m.group(1), re.M)


def matrix(root):
    text = read(root, "tests/integration/test_failpoints.sh")
    m = re.search(r'^MATRIX="\n(.*?)^"', text, re.S | re.M)
    return [line.split()[0] for line in m.group(1).splitlines() if line.strip()]


def ship_points(root):
    m = re.search(r"^POINTS=\(([^)]*)\)", read(root, "tests/integration/test_ship_crash.sh"), re.M)
    return m.group(1).split() if m else []


def crash_test_steps(root):
    m = re.search(r"^STEPS=\(([^)]*)\)", read(root, "tests/integration/test_switchover_crash.sh"), re.M)
    return m.group(1).split()


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    bad = []
    sites = call_sites(root)
    reg = registry(root)
    steps, sw = switchover_names(root)
    table = readme_table(root)
    mat = matrix(root)
    ship = ship_points(root)

    if len(set(reg)) != len(reg):
        bad.append("common/sl_fail.c: a name is twice in known[]")
    for name, where in sorted(sites.items()):
        if name not in reg:
            bad.append(f"{where}: sl_failpoint(\"{name}\") is not in known[] (common/sl_fail.c)")
    for name in reg:
        if name not in sites and name not in sw:
            bad.append(f"common/sl_fail.c: '{name}' has no call site")
        if name.startswith("switchover."):
            if name not in sw:
                bad.append(f"common/sl_fail.c: '{name}' is not a switchover step's point")
        elif name not in mat and name not in ship:
            bad.append(f"'{name}' is not in the MATRIX of tests/integration/test_failpoints.sh"
                       " (nor in the POINTS of test_ship_crash.sh)")
    for name in sorted(sw - set(reg)):
        bad.append(f"common/sl_fail.c: switchover point '{name}' missing from known[]")
    for name in mat:
        if name not in reg:
            bad.append(f"test_failpoints.sh: '{name}' is not a failpoint (known[])")
    for name in ship:
        if name not in reg:
            bad.append(f"test_ship_crash.sh: '{name}' is not a failpoint (known[])")
    if crash_test_steps(root) != steps:
        bad.append("test_switchover_crash.sh: STEPS differ from mig__sw_step_names")
    if table is None:
        bad.append("tests/integration/README.md: no '## Failpoints' section")
    else:
        listed = {n for n in table if not n.startswith("switchover.<")}
        for name in reg:
            if name.startswith("switchover."):
                continue
            if name not in listed:
                bad.append(f"tests/integration/README.md: '{name}' missing from the Failpoints table")
        for name in sorted(listed - set(reg)):
            bad.append(f"tests/integration/README.md: '{name}' is listed but not a failpoint")
        if "switchover.<step>.before" not in table or "switchover.<step>.after" not in table:
            bad.append("tests/integration/README.md: the switchover rows are missing")
    for line in bad:
        print(f"check_failpoints: {line}")
    if not bad:
        print(f"check_failpoints: {len(reg)} failpoints, each called, listed and tested")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
