#!/usr/bin/env python3
"""bench/report.py - the report of a bench/run: medians, ratios, charts.

    python3 bench/report.py machine             the machine's facts as JSON (stdout)
    python3 bench/report.py build OUT           OUT/results.jsonl + OUT/machine.json ->
                                                OUT/results.json, OUT/report.md, OUT/*.png

The input is what the bench scripts wrote through bench/lib.sh (one JSON object
a line: kind "result", "note" or "series") and what bench/run wrote of each
invocation (kind "invocation"). Every comparison is one table: a row per tool,
the median of its runs with min and max, and the ratio of sluice's speed to the
tool's. Charts are drawn with gnuplot when it is installed (package
gnuplot-nox); without it the report says so and has no pictures.

Exit: 0 report written; 2 bad input (names the file and line).
"""

import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

# What each metric is called in a table, and which way is better.
METRICS = {
    "seconds": ("seconds", "lower"),
    "rows_per_s": ("rows/s", "higher"),
    "mb_per_s": ("MB/s", "higher"),
    "rss_mib": ("peak RSS MiB", "lower"),
    "cpu_s": ("CPU s (tool)", "lower"),
    "cpu_src_s": ("CPU s (source)", "lower"),
    "cpu_dst_s": ("CPU s (dest.)", "lower"),
    "cpu_servers_s": ("CPU s (servers)", "lower"),
    "bytes": ("MB", "lower"),
    "pct_of_binlog": ("% of binlog", "lower"),
    "lag_p50_s": ("lag p50 s", "lower"),
    "lag_p99_s": ("lag p99 s", "lower"),
    "lag_max_s": ("lag max s", "lower"),
    "downtime_s": ("downtime s", "lower"),
    "txn_per_s": ("load txn/s", "higher"),
    "probes": ("probes", "higher"),
}

# The comparisons bench/run makes, in report order. "primary" is the figure a
# chart draws and a ratio compares; "baseline" the tool the ratios are of;
# "ratios" False where no tool is a peer (lag: one path, or parts of one),
# or the list of the tools that are.
COMPARISONS = [
    {"id": "full-copy", "title": "Full copy: definitions and rows into an empty destination",
     "script": "bench_migrate.sh", "baseline": "sluice migrate", "primary": "rows_per_s"},
    {"id": "replay", "title": "Replay of a captured change stream",
     "script": "bench_replay.sh", "baseline": "sluice replay", "primary": "rows_per_s"},
    {"id": "decode", "title": "Capture: decoding archived binlog files",
     "script": "bench_decode.sh", "baseline": "sluice capture --binlog-files", "primary": "rows_per_s"},
    {"id": "segment-size", "title": "Segment size against zstd on the raw binlog",
     "script": "bench_decode.sh", "baseline": "sluice segments", "primary": "pct_of_binlog"},
    {"id": "verify", "title": "Verify: comparing two copies row for row",
     "script": "bench_verify.sh", "baseline": "sluice verify", "primary": "rows_per_s"},
    {"id": "migrate-lag", "title": "Lag of the migrate task under a steady load",
     "script": "bench_switchover.sh", "baseline": "sluice migrate --follow", "primary": "lag_p99_s",
     "ratios": False},
    {"id": "switchover", "title": "Switchover downtime and reverse sync",
     "script": "bench_switchover.sh", "baseline": "sluice switchover", "primary": "downtime_s",
     "ratios": False},
    {"id": "ship", "title": "Carrying the change log: JetStream against a bundle",
     "script": "bench_ship.sh", "baseline": "sluice ship + receive (JetStream R3)", "primary": "mb_per_s",
     "ratios": ["sluice pack + unpack"]},
    {"id": "ship-lag", "title": "Lag added by JetStream under a steady load",
     "script": "bench_ship.sh", "baseline": "through JetStream", "primary": "lag_p99_s",
     "ratios": False},
]


# bench/run's names of what it invokes, where one invocation gives several
# comparisons (bench_decode.sh: decode and segment-size).
ALSO_GIVES = {"lag": ("migrate-lag", "switchover"), "decode": ("decode", "segment-size"),
              "ship": ("ship", "ship-lag")}


# The keys each kind of line must have.
NEEDS = {"result": ("comparison", "tool", "metric", "value"), "note": ("comparison", "text"),
         "series": ("comparison", "tool", "x", "y"), "invocation": ("script", "run", "status")}


class BadInput(Exception):
    pass


# ---------------------------------------------------------------- machine

def _cmd_first_line(argv):
    """The first non-empty line a command prints, or None when it is missing."""
    if not shutil.which(argv[0]):
        return None
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in (p.stdout + "\n" + p.stderr).splitlines():
        if line.strip():
            return line.strip()
    return None


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine(out_dir):
    """Cores, memory, disk, kernel and the versions of every tool compared."""
    cpu_model = None
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kib = None
    m = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo"), re.M)
    if m:
        mem_kib = int(m.group(1))
    disk = {}
    probe = out_dir if os.path.isdir(out_dir) else "."
    du = shutil.disk_usage(probe)
    disk["free_gib"] = round(du.free / 2**30, 1)
    disk["total_gib"] = round(du.total / 2**30, 1)
    try:
        p = subprocess.run(["df", "--output=source,fstype", probe], capture_output=True, text=True)
        fields = p.stdout.splitlines()[-1].split()
        disk["device"], disk["fstype"] = fields[0], fields[1]
        dev = os.path.basename(os.path.realpath(fields[0]))
        base = re.sub(r"p?\d+$", "", dev) if not os.path.exists("/sys/block/" + dev) else dev
        rot = _read("/sys/block/%s/queue/rotational" % base).strip()
        if rot:
            disk["rotational"] = rot == "1"
        model = _read("/sys/block/%s/device/model" % base).strip()
        if model:
            disk["model"] = model
    except (OSError, IndexError):
        pass
    os_name = None
    m = re.search(r'^PRETTY_NAME="?([^"\n]*)', _read("/etc/os-release"), re.M)
    if m:
        os_name = m.group(1)
    here = os.path.dirname(os.path.abspath(__file__))
    commit = _cmd_first_line(["git", "-C", here, "describe", "--always", "--dirty"])
    versions = {
        "sluice": commit,
        "mariadbd": _cmd_first_line(["mariadbd", "--version"]) or _cmd_first_line(["/usr/sbin/mariadbd", "--version"]),
        "mariadb-binlog": _cmd_first_line(["mariadb-binlog", "--version"]),
        "mydumper": _cmd_first_line(["mydumper", "--version"]),
        "sysbench": _cmd_first_line(["sysbench", "--version"]),
        "nats-server": _cmd_first_line(["nats-server", "--version"]),
        "zstd": (_cmd_first_line(["zstd", "--version"]) or "").strip("* ") or None,
        "gnuplot": _cmd_first_line(["gnuplot", "--version"]),
        "python3": platform.python_version(),
    }
    return {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "cores": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kib / 2**20, 1) if mem_kib else None,
        "disk": disk,
        "kernel": platform.release(),
        "os": os_name,
        "loadavg_at_start": _read("/proc/loadavg").split()[:3],
        "versions": versions,
    }


# ---------------------------------------------------------------- figures

def load_lines(path):
    lines = []
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as e:
                raise BadInput("%s:%d: not JSON (%s)" % (path, n, e.msg))
            if not isinstance(obj, dict) or "kind" not in obj:
                raise BadInput("%s:%d: no \"kind\"" % (path, n))
            for key in NEEDS.get(obj["kind"], ()):
                if key not in obj:
                    raise BadInput("%s:%d: a line of kind %s without \"%s\"" % (path, n, obj["kind"], key))
            for key in ("value", "x", "y"):
                if key in obj and (isinstance(obj[key], bool) or not isinstance(obj[key], (int, float))):
                    raise BadInput("%s:%d: \"%s\" is not a number" % (path, n, key))
            lines.append(obj)
    return lines


def summarize(values):
    return {"runs": values, "median": statistics.median(values), "min": min(values), "max": max(values)}


def speed_ratio(metric, base, other):
    """How many times better the baseline is than another tool on METRIC (>1: baseline better)."""
    if base is None or other is None or base == 0 or other == 0:
        return None
    better = METRICS.get(metric, ("", "higher"))[1]
    return base / other if better == "higher" else other / base


def build_comparisons(lines):
    specs = {c["id"]: c for c in COMPARISONS}
    order = [c["id"] for c in COMPARISONS]
    found = {}
    for obj in lines:
        cid = obj.get("comparison")
        if cid is None or obj["kind"] not in ("result", "note", "series"):
            continue
        if cid not in found:
            found[cid] = {"tools": {}, "notes": [], "series": {}}
            if cid not in specs:
                order.append(cid)
        c = found[cid]
        kind = obj["kind"]
        if kind == "result":
            t = c["tools"].setdefault(obj["tool"], {})
            m = t.setdefault(obj["metric"], {"unit": obj.get("unit", ""), "values": []})
            m["values"].append((obj.get("run", 1), obj["value"]))
        elif kind == "note":
            c["notes"].append((obj.get("run", 1), obj["text"]))
        elif kind == "series":
            key = (obj["tool"], obj.get("run", 1))
            c["series"].setdefault(key, []).append((obj["x"], obj["y"]))
    result = []
    for cid in order:
        if cid not in found:
            continue
        spec = specs.get(cid, {"id": cid, "title": cid, "script": "?", "baseline": None, "primary": None})
        c = found[cid]
        tools = []
        for name, metrics in c["tools"].items():
            tm = {}
            for metric, m in metrics.items():
                vals = [v for _, v in sorted(m["values"], key=lambda rv: rv[0])]
                s = summarize(vals)
                s["unit"] = m["unit"]
                tm[metric] = s
            tools.append({"tool": name, "metrics": tm})
        primary = spec.get("primary")
        if primary is None and tools:
            primary = next(iter(tools[0]["metrics"]))
        base_name = spec.get("baseline")
        names = [t["tool"] for t in tools]
        if base_name not in names:
            base_name = next((n for n in names if n.startswith("sluice")), names[0] if names else None)
        # the baseline first, then sluice's other ways, then the peers, each
        # in the order they were reported
        tools.sort(key=lambda t: 0 if t["tool"] == base_name else 1 if t["tool"].startswith("sluice") else 2)
        base = next((t for t in tools if t["tool"] == base_name), None)
        ratios = spec.get("ratios", True)
        for t in tools:
            if t is base or ratios is False or (isinstance(ratios, list) and t["tool"] not in ratios):
                continue
            b = base["metrics"].get(primary, {}).get("median") if base else None
            o = t["metrics"].get(primary, {}).get("median")
            r = speed_ratio(primary, b, o)
            if r is not None:
                t["ratio"] = round(r, 3)
        notes = [text for _, text in sorted(c["notes"], key=lambda rn: rn[0])]
        series = [{"tool": tool, "run": run, "points": pts}
                  for (tool, run), pts in sorted(c["series"].items(), key=lambda kv: (kv[0][0], kv[0][1]))]
        result.append({"id": cid, "title": spec["title"], "script": spec["script"], "baseline": base_name,
                       "primary": primary, "tools": tools, "notes": notes, "series": series})
    return result


# ---------------------------------------------------------------- formatting

def fmt_num(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3f" % v


def metric_value(metric, v):
    return v / 1e6 if metric == "bytes" else v


def cell(metric, s):
    med = metric_value(metric, s["median"])
    if len(s["runs"]) == 1:
        return fmt_num(med)
    lo, hi = metric_value(metric, s["min"]), metric_value(metric, s["max"])
    return "%s (%s-%s)" % (fmt_num(med), fmt_num(lo), fmt_num(hi))


def spread(s):
    """max - min over the median: how much the runs disagree."""
    if not s or s["median"] == 0 or len(s["runs"]) < 2:
        return 0.0
    return (s["max"] - s["min"]) / abs(s["median"])


def med(c, tool, metric):
    for t in c["tools"]:
        if t["tool"] == tool:
            s = t["metrics"].get(metric)
            return s["median"] if s else None
    return None


def x(r):
    return "%.2fx" % r if r is not None else "n/a"


def variants(c):
    """sluice's other ways of the comparison against each peer: ' `--workers 1`: 1.2x peer, ...'."""
    base, primary = c["baseline"], c["primary"]
    peers = [t for t in c["tools"] if not t["tool"].startswith("sluice")]
    out = []
    for v in c["tools"]:
        if v["tool"] == base or not v["tool"].startswith("sluice"):
            continue
        mv = v["metrics"].get(primary, {}).get("median")
        parts = []
        for p in peers:
            r = speed_ratio(primary, mv, p["metrics"].get(primary, {}).get("median"))
            if r is not None:
                parts.append("%s vs %s" % (x(r), p["tool"]))
        if parts:
            out.append("`%s`: %s" % (v["tool"], ", ".join(parts)))
    return (" " + "; ".join(out) + ".") if out else ""


def interpretation(c):
    """One line saying what the table means, from its medians."""
    cid, base = c["id"], c["baseline"]
    runs = max((len(s["runs"]) for t in c["tools"] for s in t["metrics"].values()), default=0)
    of = "median of %d runs" % runs if runs > 1 else "one run"
    peers = [t for t in c["tools"] if t["tool"] != base and t.get("ratio") is not None
             and not t["tool"].startswith("sluice")]
    if cid == "full-copy" and peers:
        parts = ", ".join("%s vs %s" % (x(t["ratio"]), t["tool"]) for t in peers)
        return ("`%s` copies %s rows/s (%s): %s. Its time includes verifying every table; "
                "the peers check nothing." % (base, fmt_num(med(c, base, "rows_per_s")), of, parts))
    if cid == "replay" and peers:
        parts = ", ".join("%s vs %s" % (x(t["ratio"]), t["tool"]) for t in peers)
        return "`%s` applies %s rows/s (%s): %s.%s" % (base, fmt_num(med(c, base, "rows_per_s")), of, parts,
                                                   variants(c))
    if cid == "decode" and peers:
        t = peers[0]
        return ("`%s` decodes %s row events/s (%s), %s the speed of `%s`, and writes "
                "checked segments where the peer prints text." % (base, fmt_num(med(c, base, "rows_per_s")), of,
                                                                  x(t["ratio"]), t["tool"]))
    if cid == "segment-size":
        parts = ", ".join("%s %s %%" % (t["tool"], fmt_num(med(c, t["tool"], "pct_of_binlog")))
                          for t in c["tools"] if t["tool"] != base)
        return ("sluice's segments take %s %% of the binlog's bytes (%s); %s. Segments also carry "
                "a CRC per frame and an index." % (fmt_num(med(c, base, "pct_of_binlog")), of, parts or "no peer ran"))
    if cid == "verify" and peers:
        parts = ", ".join("%s vs %s" % (x(t["ratio"]), t["tool"]) for t in peers)
        return "`%s` checks %s rows/s (%s): %s.%s" % (base, fmt_num(med(c, base, "rows_per_s")), of, parts,
                                                  variants(c))
    if c["primary"] and c["primary"].startswith("lag_"):
        lines = []
        for t in c["tools"]:
            p50, p99 = med(c, t["tool"], "lag_p50_s"), med(c, t["tool"], "lag_p99_s")
            if p50 is not None and p99 is not None:
                lines.append("%s p50 %s s, p99 %s s" % (t["tool"], fmt_num(p50), fmt_num(p99)))
        load = None
        for t in c["tools"]:
            load = load or med(c, t["tool"], "txn_per_s")
        return "Source commit to destination commit (%s%s): %s." % (
            of, ", under %s txn/s" % fmt_num(load) if load else "", "; ".join(lines))
    if cid == "switchover":
        d = med(c, base, "downtime_s")
        rev = med(c, "reverse sync", "lag_p99_s")
        return "Downtime %s s from the freeze of the source to reverse sync running (%s)%s." % (
            fmt_num(d), of, "; reverse sync p99 %s s" % fmt_num(rev) if rev is not None else "")
    if cid == "ship":
        parts = ", ".join("%s vs %s" % (x(t["ratio"]), t["tool"]) for t in c["tools"]
                          if "+" in t["tool"] and t.get("ratio") is not None)
        return ("`%s` carries %s MB/s of segments (%s): %s. Every byte is stored three times by the "
                "cluster on this one machine." % (base, fmt_num(med(c, base, "mb_per_s")), of, parts or "n/a"))
    if peers:
        parts = ", ".join("%s vs %s" % (x(t["ratio"]), t["tool"]) for t in peers)
        return "%s (%s): %s." % (base, of, parts)
    return "%s (%s)." % (base, of)


def write_charts(out, comps):
    """gnuplot charts: a bar per tool of each comparison's figure, and lag over time."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return {}, "gnuplot is not installed (package gnuplot-nox): no charts"
    data_dir = os.path.join(out, "charts")
    os.makedirs(data_dir, exist_ok=True)
    charts = {}
    script = []
    for c in comps:
        metric = c["primary"]
        rows = [(t["tool"], t["metrics"][metric]) for t in c["tools"] if metric in t["metrics"]]
        if not c["primary"].startswith("lag_") and c["id"] != "switchover" and len(rows) >= 1:
            dat = os.path.join(data_dir, "%s.dat" % c["id"])
            with open(dat, "w") as f:
                for i, (tool, s) in enumerate(rows):
                    colour = 0x2f6fbf if tool == c["baseline"] else (0x7f9fbf if tool.startswith("sluice") else 0x9a9a9a)
                    f.write('"%s" %r %r %r %d\n' % (tool.replace('"', "'"), metric_value(metric, s["median"]),
                                                    metric_value(metric, s["min"]), metric_value(metric, s["max"]), colour))
            png = "chart-%s.png" % c["id"]
            label, better = METRICS.get(metric, (metric, "higher"))
            n = len(rows)
            script.append("""
reset
set output '%s'
set terminal pngcairo size 900,%d font 'sans,10'
set title '%s' noenhanced
set xlabel '%s, median of the runs (bar), min to max (line); %s is better' noenhanced
set ytics nomirror noenhanced
set format x %s
set yrange [%f:-0.6]
set xrange [0:*]
set offsets 0, graph 0.15, 0, 0
set grid xtics
set style fill solid 0.85 border -1
unset key
plot '%s' using (0):0:(0):2:($0-0.35):($0+0.35):5:ytic(1) with boxxyerror fc rgb variable, \\
     '' using 2:0:3:4 with xerrorbars lc rgb 'black' pt 0, \\
     '' using 4:0:($2 >= 100 ? sprintf('  %%.0f', $2) : sprintf('  %%.3g', $2)) with labels left
""" % (os.path.join(out, png), 110 + 42 * n, c["title"].replace("'", "''"), label, better,
                "'%.0s%c'" if max(metric_value(metric, s["max"]) for _, s in rows) >= 10000 else "'% g'",
                n - 0.4, dat))
            charts[c["id"]] = [png]
        if c["series"]:
            dat = os.path.join(data_dir, "%s-series.dat" % c["id"])
            titles = []
            with open(dat, "w") as f:
                for s in c["series"]:
                    titles.append("%s, run %d" % (s["tool"], s["run"]))
                    for px, py in sorted(s["points"]):
                        f.write("%r %r\n" % (px, py))
                    f.write("\n\n")
            png = "lag-%s.png" % c["id"]
            plots = ", ".join("'%s' index %d using 1:2 with lines lw 1 title '%s' noenhanced" %
                              (dat, i, t.replace("'", "''")) for i, t in enumerate(titles))
            script.append("""
reset
set output '%s'
set terminal pngcairo size 900,480 font 'sans,10'
set title '%s: lag over time' noenhanced
set xlabel 'seconds since the load started'
set ylabel 'lag, seconds (source commit to destination commit)'
set yrange [0:*] noreverse
set xrange [0:*]
set offsets 0, 0, 0, 0
set ytics mirror
set grid
set key outside below noenhanced
plot %s
""" % (os.path.join(out, png), c["title"].replace("'", "''"), plots))
            charts.setdefault(c["id"], []).append(png)
    if not script:
        return {}, None
    gp = os.path.join(data_dir, "charts.gp")
    with open(gp, "w") as f:
        f.write("".join(script))
    p = subprocess.run([gnuplot, gp], capture_output=True, text=True)
    if p.returncode != 0:
        return {}, "gnuplot failed: %s" % (p.stderr.strip().splitlines() or ["?"])[-1]
    return charts, None


def md_cell(text):
    """TEXT in a markdown table cell: a | would end the cell."""
    return text.replace("|", "\\|")


def write_report(out, mach, invocations, comps, charts, chart_note, mode):
    md = []
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    if os.path.abspath(out).startswith(repo + os.sep):
        readme = "[bench/README.md](%s)" % os.path.relpath(os.path.join(here, "README.md"), os.path.abspath(out))
    else:
        readme = "bench/README.md in sluice's source"
    md.append("# sluice benchmark report\n")
    when = datetime.datetime.now(datetime.timezone.utc)
    if mach.get("started"):
        when = datetime.datetime.fromisoformat(mach["started"])
    when = when.strftime("%Y-%m-%d %H:%M UTC")
    v = mach.get("versions", {})
    md.append("Made by `bench/run%s` on %s, sluice %s. Every comparison ran its tools one at a time on "
              "fresh local servers the scripts started; a figure is the median of the runs, with the "
              "smallest and largest in brackets. A ratio is how many times better sluice's figure is "
              "than the tool's (above 1: sluice is better). How each figure is made and what it depends "
              "on: %s.\n" % (" --quick" if mode == "quick" else "", when,
                                                 v.get("sluice") or "?", readme))
    disk = mach.get("disk", {})
    md.append("| machine | |\n|---|---|")
    md.append("| cores | %s (%s) |" % (mach.get("cores"), mach.get("cpu_model") or "?"))
    md.append("| memory | %s GiB |" % mach.get("memory_gib"))
    md.append("| disk | %s %s%s, %s GiB free |" % (disk.get("device", "?"), disk.get("fstype", ""),
                                                   " (%s)" % ("rotational" if disk["rotational"] else "not rotational")
                                                   if "rotational" in disk else "", disk.get("free_gib")))
    md.append("| system | %s, Linux %s |" % (mach.get("os"), mach.get("kernel")))
    loads = [i.get("load_before") for i in invocations if i.get("load_before") is not None]
    md.append("| load average | %s at the start%s |" % (" ".join(mach.get("loadavg_at_start", [])),
                                                       ", %s-%s before the invocations" % (fmt_num(min(loads)), fmt_num(max(loads))) if loads else ""))
    for k in ("mariadbd", "mydumper", "sysbench", "nats-server", "zstd", "gnuplot"):
        if v.get(k):
            md.append("| %s | %s |" % (k, v[k]))
    md.append("")

    bad = [i for i in invocations if i.get("status") not in ("ok",)]
    total = sum(i.get("seconds", 0) for i in invocations)
    md.append("%d invocations, %s s in all%s.\n" % (len(invocations), fmt_num(total),
                                                     ", %d not ok (below)" % len(bad) if bad else ", every one ok: "
                                                     "every destination equal to its source"))
    if comps:
        md.append("## Summary\n")
        md.append("| comparison | sluice | figure | against |\n|---|---|---|---|")
        for c in comps:
            if not c["tools"]:
                continue
            b = c["baseline"]
            m = c["primary"]
            s = next((t["metrics"].get(m) for t in c["tools"] if t["tool"] == b), None)
            against = "; ".join("%s %s" % (x(t["ratio"]), t["tool"]) for t in c["tools"] if t.get("ratio") is not None)
            md.append("| [%s](#%s) | %s | %s %s | %s |" % (c["id"], c["id"], md_cell(b), cell(m, s) if s else "-",
                                                          METRICS.get(m, (m,))[0], md_cell(against) or "-"))
        md.append("")
    ran = {i.get("comparison") for i in invocations}
    shown = {c["id"] for c in comps}
    for name in sorted(n for n in ran if n and not shown.intersection(ALSO_GIVES.get(n, (n,)))):
        md.append("## %s\n\nNo figures: no invocation of its script reported one (below).\n" % name)
    for c in comps:
        md.append('<a id="%s"></a>\n## %s\n' % (c["id"], c["title"]))
        md.append("`%s` (`%s`). %s\n" % (c["id"], c["script"], interpretation(c)))
        metrics = []
        for t in c["tools"]:
            for m in t["metrics"]:
                if m not in metrics:
                    metrics.append(m)
        known = [m for m in METRICS if m in metrics] + [m for m in metrics if m not in METRICS]
        with_ratio = any(t.get("ratio") is not None for t in c["tools"])
        head = ["tool"] + [METRICS.get(m, (m,))[0] for m in known] + (["ratio"] if with_ratio else [])
        md.append("| " + " | ".join(head) + " |")
        md.append("|" + "---|" * len(head))
        for t in c["tools"]:
            row = ["`%s`" % t["tool"] if t["tool"].startswith("sluice") else md_cell(t["tool"])]
            for m in known:
                s = t["metrics"].get(m)
                row.append(cell(m, s) if s else "")
            if with_ratio:
                row.append(x(t["ratio"]) if t.get("ratio") is not None else ("baseline" if t["tool"] == c["baseline"] else ""))
            md.append("| " + " | ".join(row) + " |")
        md.append("")
        noisy = [t["tool"] for t in c["tools"] if spread(t["metrics"].get(c["primary"])) > 0.25]
        if noisy:
            md.append("The runs of %s spread by more than 25 %% of the median: the machine was busy or the "
                      "figure is short; compare ratios of one run only.\n" % ", ".join(noisy))
        if c["notes"]:
            md.append("Measured: %s\n" % c["notes"][0])
        for png in charts.get(c["id"], []):
            md.append("![%s](%s)\n" % (c["id"], png))
    if chart_note:
        md.append("Charts: %s.\n" % chart_note)
    if invocations:
        logs = os.path.isdir(os.path.join(out, "logs"))
        md.append("## Invocations\n")
        md.append("| script | run | settings | status | seconds | load before |%s\n|---|---|---|---|---|---|%s" %
                  (" log |" if logs else "", "---|" if logs else ""))
        for i in invocations:
            status = i.get("status", "?")
            if status != "ok":
                status = "**%s** (exit %s)%s" % (status, i.get("exit"), ": " + md_cell(i["reason"]) if i.get("reason") else "")
            md.append("| %s | %s | %s | %s | %s | %s |%s" % (i.get("script"), i.get("run"), md_cell(i.get("env") or "defaults"),
                                                        status, fmt_num(i.get("seconds")), i.get("load_before"),
                                                        " `%s` |" % i.get("log") if logs else ""))
        md.append("")
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md))


def build(out):
    jl = os.path.join(out, "results.jsonl")
    if not os.path.exists(jl):
        raise BadInput("%s: no such file (did bench/run run?)" % jl)
    lines = load_lines(jl)
    mach_path = os.path.join(out, "machine.json")
    mach = {}
    if os.path.exists(mach_path):
        try:
            with open(mach_path) as f:
                mach = json.load(f)
        except json.JSONDecodeError as e:
            raise BadInput("%s: not JSON (%s)" % (mach_path, e.msg))
    invocations = [l for l in lines if l["kind"] == "invocation"]
    mode = next((l.get("mode") for l in invocations if l.get("mode")), "default")
    comps = build_comparisons(lines)
    charts, chart_note = write_charts(out, comps)
    results = {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "mode": mode,
        "machine": mach,
        "invocations": invocations,
        "comparisons": [{k: v for k, v in c.items() if k != "series"} for c in comps],
        "figures": [l for l in lines if l["kind"] in ("result", "note")],
    }
    # every curve on one line of its own: x and y as two lists (a point per
    # line would make the file ten times longer)
    curves = []
    for c in comps:
        for sr in c["series"]:
            pts = sorted(sr["points"])
            curves.append({"comparison": c["id"], "tool": sr["tool"], "run": sr["run"],
                           "x": [p[0] for p in pts], "y": [p[1] for p in pts]})
    text = json.dumps(results, indent=1)
    text = text[:text.rindex("}")].rstrip() + ',\n "series": [\n' + ",\n".join(
        "  " + json.dumps(cv, separators=(",", ":")) for cv in curves) + "\n ]\n}\n"
    with open(os.path.join(out, "results.json"), "w") as f:
        f.write(text)
    write_report(out, mach, invocations, comps, charts, chart_note, mode)


def main(argv):
    if len(argv) == 2 and argv[1] == "machine":
        json.dump(machine(os.getcwd()), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if len(argv) == 3 and argv[1] == "build":
        try:
            build(argv[2])
        except BadInput as e:
            print("bench/report.py: %s" % e, file=sys.stderr)
            return 2
        return 0
    print("usage: bench/report.py machine | build OUT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
