#!/usr/bin/env python3
"""Times `fod report` against the same monthly statements computed by DuckDB in SQL
(scripts/duckdb_statements.py) on generated events files, in the same run, and checks that both
give the same statements to the cent.

    swift build -c release --product fod
    pip install duckdb
    python3 scripts/bench-report.py [--rows 1000000 5000000 10000000] [--runs 3] [--period 2026-06] [--dir /tmp/fod-bench]

Each size: `fod gen events` makes the file once (seed 7); then fod and DuckDB run alternately
`--runs` times each as separate processes. Wall time and peak memory (max RSS of the process, from
wait4) are reported as the median and the range. Prints a table and, last, one JSON line.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOD = os.path.join(ROOT, ".build", "release", "fod")
RULES = os.path.join(ROOT, "fixtures", "revenue", "rules.json")
DUCK = os.path.join(ROOT, "scripts", "duckdb_statements.py")


def timed(command):
    """Runs a command; returns (wall seconds, peak RSS in MiB, exit status)."""
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{command[0]} failed ({code}): {stderr}")
    return wall, usage.ru_maxrss / 1024, code


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000, 10_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--period", default="2026-06")
    parser.add_argument("--dir", default="/tmp/fod-bench")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if not os.access(FOD, os.X_OK):
        sys.exit("build first: swift build -c release --product fod")
    results = []
    for rows in args.rows:
        events = os.path.join(args.dir, f"events-{rows}.csv")
        if not os.path.exists(events):
            subprocess.run([FOD, "gen", "events", "--rows", str(rows), "--seed", "7", "--out", events], check=True)
        out = os.path.join(args.dir, f"report-{rows}")
        reference = os.path.join(args.dir, f"duckdb-{rows}.csv")
        lenient = os.path.join(args.dir, f"duckdb-novin-{rows}.csv")
        fod_runs, duck_runs, lenient_runs = [], [], []
        for _ in range(args.runs):
            fod_runs.append(timed([FOD, "report", "--events", events, "--rules", RULES, "--period", args.period, "--out", out, "--allow-rejects"]))
            duck_runs.append(timed([sys.executable, DUCK, events, RULES, args.period, reference]))
            lenient_runs.append(timed([sys.executable, DUCK, events, RULES, args.period, lenient, "--no-vin-check"]))
        with open(os.path.join(out, "statements.csv")) as f:
            ours = f.read()
        with open(reference) as f:
            theirs = f.read()
        with open(lenient) as f:
            theirs_lenient = f.read()
        same = ours == theirs and ours == theirs_lenient
        fod_wall = statistics.median(r[0] for r in fod_runs)
        duck_wall = statistics.median(r[0] for r in duck_runs)
        results.append({
            "rows": rows, "bytes": os.path.getsize(events), "statements": ours.count("\n") - 1, "identical": same,
            "fod_wall_s": round(fod_wall, 2), "fod_wall_range": [round(min(r[0] for r in fod_runs), 2), round(max(r[0] for r in fod_runs), 2)],
            "fod_peak_mib": round(max(r[1] for r in fod_runs)),
            "duckdb_wall_s": round(duck_wall, 2), "duckdb_wall_range": [round(min(r[0] for r in duck_runs), 2), round(max(r[0] for r in duck_runs), 2)],
            "duckdb_peak_mib": round(max(r[1] for r in duck_runs)),
            "speedup": round(duck_wall / fod_wall, 2),
            "duckdb_no_vin_check_wall_s": round(statistics.median(r[0] for r in lenient_runs), 2),
            "duckdb_no_vin_check_peak_mib": round(max(r[1] for r in lenient_runs)),
            "speedup_vs_no_vin_check": round(statistics.median(r[0] for r in lenient_runs) / fod_wall, 2),
        })
        r = results[-1]
        print(f"{rows:>11,} rows {r['bytes'] / 2**20:7.0f} MiB | fod {r['fod_wall_s']:6.2f} s {r['fod_peak_mib']:5} MiB | "
              f"DuckDB {r['duckdb_wall_s']:6.2f} s {r['duckdb_peak_mib']:5} MiB ({r['speedup']:.2f}x) | "
              f"DuckDB without VIN check {r['duckdb_no_vin_check_wall_s']:6.2f} s {r['duckdb_no_vin_check_peak_mib']:5} MiB ({r['speedup_vs_no_vin_check']:.2f}x) | "
              f"statements {'identical' if same else 'DIFFER'} ({r['statements']})", flush=True)
    print(json.dumps({"period": args.period, "runs": args.runs, "results": results}))
    if not all(r["identical"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
