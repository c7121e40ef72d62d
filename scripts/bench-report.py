#!/usr/bin/env python3
"""Times `fod report` against the same monthly statements computed by DuckDB in SQL
(scripts/duckdb_statements.py) on generated events files, in the same run, and checks that both
give the same statements to the cent.

    swift build -c release --product fod
    pip install duckdb
    python3 scripts/bench-report.py [--rows 1000000 5000000 10000000 50000000] [--ids padded uuid7]
        [--runs 3] [--period 2026-06] [--dir /tmp/fod-bench] [--vin-rule-up-to 10000000]

Each size and id shape: `fod gen events --ids SHAPE` makes the file once (seed 7; the shapes give
the same rows with other ids); then fod and DuckDB run alternately `--runs` times each as separate
processes. DuckDB runs the same statements in SQL with the VIN rule (up to --vin-rule-up-to rows: it
is slow and needs ~0.5 GB per million rows) and without it. Wall time and peak memory (max RSS of the
process, from wait4) are reported as the median and the range. Every fod statement file must equal
DuckDB's, and the statements of every shape of a size must be the same. Prints a table and, last,
one JSON line.
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
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000, 10_000_000, 50_000_000])
    parser.add_argument("--ids", nargs="+", default=["padded", "uuid7"])
    parser.add_argument("--vin-rule-up-to", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--period", default="2026-06")
    parser.add_argument("--dir", default="/tmp/fod-bench")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if not os.access(FOD, os.X_OK):
        sys.exit("build first: swift build -c release --product fod")
    results = []
    for rows in args.rows:
      by_shape = {}
      for shape in args.ids:
        events = os.path.join(args.dir, f"events-{rows}-{shape}.csv")
        if not os.path.exists(events):
            subprocess.run([FOD, "gen", "events", "--rows", str(rows), "--seed", "7", "--ids", shape, "--out", events], check=True)
        out = os.path.join(args.dir, f"report-{rows}-{shape}")
        reference = os.path.join(args.dir, f"duckdb-{rows}-{shape}.csv")
        lenient = os.path.join(args.dir, f"duckdb-novin-{rows}-{shape}.csv")
        with_vin = rows <= args.vin_rule_up_to
        fod_runs, duck_runs, lenient_runs = [], [], []
        for _ in range(args.runs):
            fod_runs.append(timed([FOD, "report", "--events", events, "--rules", RULES, "--period", args.period, "--out", out, "--allow-rejects"]))
            if with_vin:
                duck_runs.append(timed([sys.executable, DUCK, events, RULES, args.period, reference]))
            lenient_runs.append(timed([sys.executable, DUCK, events, RULES, args.period, lenient, "--no-vin-check"]))
        with open(os.path.join(out, "statements.csv")) as f:
            ours = f.read()
        theirs = open(reference).read() if with_vin else ours
        with open(lenient) as f:
            theirs_lenient = f.read()
        same = ours == theirs and ours == theirs_lenient
        by_shape[shape] = ours
        fod_wall = statistics.median(r[0] for r in fod_runs)
        lenient_wall = statistics.median(r[0] for r in lenient_runs)
        result = {
            "rows": rows, "ids": shape, "bytes": os.path.getsize(events), "statements": ours.count("\n") - 1, "identical": same,
            "fod_wall_s": round(fod_wall, 2), "fod_wall_range": [round(min(r[0] for r in fod_runs), 2), round(max(r[0] for r in fod_runs), 2)],
            "fod_peak_mib": round(max(r[1] for r in fod_runs)),
            "duckdb_no_vin_check_wall_s": round(lenient_wall, 2),
            "duckdb_no_vin_check_peak_mib": round(max(r[1] for r in lenient_runs)),
            "speedup_vs_no_vin_check": round(lenient_wall / fod_wall, 2),
        }
        if with_vin:
            duck_wall = statistics.median(r[0] for r in duck_runs)
            result.update({"duckdb_wall_s": round(duck_wall, 2), "duckdb_peak_mib": round(max(r[1] for r in duck_runs)),
                           "speedup": round(duck_wall / fod_wall, 2)})
        results.append(result)
        r = result
        same_rules = f"DuckDB {r['duckdb_wall_s']:6.2f} s {r['duckdb_peak_mib']:5} MiB ({r['speedup']:.2f}x) | " if with_vin else "DuckDB with VIN rule not run | "
        print(f"{rows:>11,} rows {shape:>7} {r['bytes'] / 2**20:7.0f} MiB | fod {r['fod_wall_s']:6.2f} s {r['fod_peak_mib']:5} MiB | "
              + same_rules +
              f"DuckDB without VIN check {r['duckdb_no_vin_check_wall_s']:6.2f} s {r['duckdb_no_vin_check_peak_mib']:5} MiB ({r['speedup_vs_no_vin_check']:.2f}x) | "
              f"statements {'identical' if same else 'DIFFER'} ({r['statements']})", flush=True)
      if len(set(by_shape.values())) > 1:
          print(f"{rows:>11,} rows: statements DIFFER between id shapes {sorted(by_shape)}", flush=True)
          results.append({"rows": rows, "identical": False, "shapes_differ": sorted(by_shape)})
    print(json.dumps({"period": args.period, "runs": args.runs, "results": results}))
    if not all(r["identical"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
