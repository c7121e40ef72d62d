#!/usr/bin/env python3
"""Benchmark: what pricing by plan version costs `fod report` — the same events file reported with
the single rules file (the reference) and with a plan of three versions that change twice within
the month, alternately in one session, as separate processes.

    swift build -c release --product fod
    python3 scripts/bench-plan.py [--rows 10000000] [--runs 3] [--period 2026-06] [--dir /tmp/fod-bench-plan]

`fod gen events --rows N --seed 7` makes the file once (kept in --dir for later runs). The plan's
versions are the fixture rules with other rates, in force from the epoch, the 10th and the 20th of
the month. Prints each run's wall time and peak memory, the medians and the ratio plan/rules; and
checks that a plan of one version (the rules file) gives the rules file's statements byte for byte.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOD = os.environ.get("FOD_BIN", os.path.join(ROOT, ".build", "release", "fod"))
RULES = os.path.join(ROOT, "fixtures", "revenue", "rules.json")


def timed(command):
    """Runs a command; returns (wall seconds, peak RSS in MiB)."""
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if status != 0:
        sys.exit(f"{' '.join(command)} failed: {stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--period", default="2026-06")
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "fod-bench-plan"))
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    events = os.path.join(args.dir, f"events-{args.rows}.csv")
    if not os.path.exists(events):
        print(f"generating {args.rows:,} events …", flush=True)
        subprocess.run([FOD, "gen", "events", "--rows", str(args.rows), "--seed", "7", "--out", events], check=True, stdout=subprocess.DEVNULL)
    with open(RULES) as f:
        rules = json.load(f)

    def version(label, factor, start):
        v = json.loads(json.dumps(rules))
        v["version"] = label
        v["effective_from"] = start
        for rule in v["rules"]:
            rule["share_bps"] = rule["share_bps"] * factor // 100
        return v

    year, month = args.period.split("-")
    plan = {"plan": "network", "versions": [version("a", 100, "1970-01-01T00:00:00Z"), version("b", 80, f"{year}-{month}-10T00:00:00Z"),
                                            version("c", 60, f"{year}-{month}-20T00:00:00Z")]}
    plan_file = os.path.join(args.dir, "plan.json")
    with open(plan_file, "w") as f:
        json.dump(plan, f)
    single = {"plan": "rules", "versions": [dict(rules, effective_from="1970-01-01T00:00:00Z")]}
    single_file = os.path.join(args.dir, "single.json")
    with open(single_file, "w") as f:
        json.dump(single, f)

    def report(kind, out):
        source = ["--rules", RULES] if kind == "rules" else ["--plan", plan_file if kind == "plan" else single_file]
        return timed([FOD, "report", "--events", events, *source, "--period", args.period, "--out", out, "--allow-rejects"])

    results = {"rules": [], "plan": []}
    for run in range(args.runs):
        for kind in (["rules", "plan"] if run % 2 == 0 else ["plan", "rules"]):
            wall, rss = report(kind, os.path.join(args.dir, f"out-{kind}"))
            results[kind].append((wall, rss))
            print(f"run {run + 1} {kind:5}: {wall:6.2f} s, {rss:6.0f} MiB", flush=True)
    report("single", os.path.join(args.dir, "out-single"))
    same = open(os.path.join(args.dir, "out-single", "statements.csv"), "rb").read() == open(os.path.join(args.dir, "out-rules", "statements.csv"), "rb").read()
    median = {kind: statistics.median(w for w, _ in values) for kind, values in results.items()}
    print(f"rows {args.rows:,}  period {args.period}  runs {args.runs}")
    print(f"median wall: rules {median['rules']:.2f} s, plan of 3 versions {median['plan']:.2f} s, ratio {median['plan'] / median['rules']:.3f}")
    print(f"a plan of one version gives the rules file's statements byte for byte: {same}")
    print(json.dumps({"rows": args.rows, "rules_s": median["rules"], "plan_s": median["plan"], "ratio": median["plan"] / median["rules"], "single_same": same}))


if __name__ == "__main__":
    main()
