#!/usr/bin/env python3
"""What accepting a quote of three items costs beside one activation, with wrk on loopback.

    swift build -c release --product fod
    apt-get install wrk
    python3 scripts/bench-quotes.py [--seconds 5] [--rounds 2] [--connections 16]

One `fod serve` (release build, SQLite, durable; `--database postgres://…` for PostgreSQL) with 200,000 registered vehicles. Rounds alternate
in one session: POST /v1/activations (one item, a new vehicle each: scripts/wrk/activations.lua),
then POST /v1/quotes/{id}/accept of quotes of three items made beforehand (scripts/wrk/quotes.lua,
each quote once). Both at the same concurrency; the figure is the ratio of their rates and of their
median latencies, and of the server's CPU per request in each round (the issue's bound: an acceptance of three items costs at most twice
one activation). Prints a table and one JSON line.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from e2e_support import ROOT, banner_keys, free_port, wait_ready

RELEASE = os.path.join(ROOT, ".build", "release")
WRK = os.path.join(ROOT, "scripts", "wrk")


def wrk(script, url, seconds, connections, env):
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", script, url],
                         capture_output=True, text=True, env={**os.environ, **env}, timeout=seconds + 60)
    results = [l for l in out.stdout.splitlines() if l.startswith("RESULT")]
    if not results:
        sys.exit(f"wrk gave no result: {out.stdout[-800:]} {out.stderr[-800:]}")
    line = results[-1].split()
    requests, errors, duration_us, p50, p99 = int(line[1]), int(line[2]), int(line[3]), float(line[4]), float(line[5])
    return {"per_s": round(requests / (duration_us / 1e6), 1), "requests": requests, "non_2xx": errors,
            "p50_ms": round(p50 / 1000, 2), "p99_ms": round(p99 / 1000, 2)}


def cpu(pid):
    """CPU seconds the process has used so far (user and system)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid, run):
    """A wrk phase with the server's CPU milliseconds per request."""
    before = cpu(pid)
    result = run()
    result["cpu_ms"] = round((cpu(pid) - before) * 1000 / max(1, result["requests"]), 3)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--release", default=RELEASE)
    parser.add_argument("--make-seconds", type=int, help="how long quotes are made beforehand (default: seconds × rounds + 4; PostgreSQL makes them slower than it accepts them)")
    parser.add_argument("--database", help="postgres://… : run the service on PostgreSQL (in a new schema of that database)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    work = tempfile.mkdtemp(prefix="fod-bench-quotes-")
    fixtures = os.path.join(work, "fixtures")
    os.makedirs(fixtures)
    for name in ("catalog.json", "dealers.json"):
        shutil.copy(os.path.join(ROOT, "fixtures", name), fixtures)
    vehicles = [{"vin": f"WDDBENCH{i:09d}", "model": "A6", "model_year": 2025, "market": "DE", "equipment": ["8G4", "7UG", "PCF", "9VD"], "dealer_id": "DE-10001"}
                for i in range(1, 200_001)]
    with open(os.path.join(fixtures, "vehicles.json"), "w") as f:
        json.dump(vehicles, f)
    port = free_port()
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "w")
    if args.database:
        store = ["--database", args.database + ("&" if "?" in args.database else "?") + f"search_path=bench_{os.urandom(6).hex()}"]
    else:
        store = ["--data", os.path.join(work, "data")]
    server = subprocess.Popen([os.path.join(args.release, "fod"), "serve", "--dev", *store, "--port", str(port),
                               "--fixtures", fixtures], cwd=ROOT, stdout=log, stderr=log)
    try:
        wait_ready(port, attempts=900)
        dealer = banner_keys(log_path)[1]
        base = f"http://127.0.0.1:{port}/"
        ids = os.path.join(work, "quotes.txt")
        # Quotes made beforehand, for vehicles 100,001 on: enough for every acceptance round.
        made = wrk(os.path.join(WRK, "quotes.lua"), base, args.make_seconds or args.seconds * args.rounds + 4, args.connections,
                   {"KEY": dealer, "MODE": "create", "IDS": ids, "OFFSET": "100000"})
        with open(ids) as f:
            available = sum(1 for _ in f)
        rows = []
        used = 0
        for round_number in range(args.rounds):
            activation = measured(server.pid, lambda: wrk(os.path.join(WRK, "activations.lua"), base, args.seconds, args.connections,
                                                          {"KEY": dealer, "OFFSET": str(round_number * 45_000)}))
            accept = measured(server.pid, lambda: wrk(os.path.join(WRK, "quotes.lua"), base, args.seconds, args.connections,
                                                      {"KEY": dealer, "MODE": "accept", "IDS": ids, "OFFSET": str(used)}))
            used += accept["requests"]
            rows.append({"round": round_number + 1, "activation": activation, "accept": accept,
                         "rate_ratio": round(activation["per_s"] / accept["per_s"], 3) if accept["per_s"] else None,
                         "p50_ratio": round(accept["p50_ms"] / activation["p50_ms"], 3) if activation["p50_ms"] else None,
                         "cpu_ratio": round(accept["cpu_ms"] / activation["cpu_ms"], 3) if activation["cpu_ms"] else None})
        print(f"quotes made beforehand: {available} ({made['per_s']}/s, 3 items each); acceptances used {used}")
        print(f"{'round':>5} {'activations/s':>14} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>7} {'accepts/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>7}"
              f" {'rate ×':>7} {'p50 ×':>6} {'cpu ×':>6}")
        for row in rows:
            a, q = row["activation"], row["accept"]
            print(f"{row['round']:>5} {a['per_s']:>14} {a['p50_ms']:>7} {a['p99_ms']:>7} {a['cpu_ms']:>7} {q['per_s']:>10} {q['p50_ms']:>7} {q['p99_ms']:>7}"
                  f" {q['cpu_ms']:>7} {row['rate_ratio']:>7} {row['p50_ratio']:>6} {row['cpu_ratio']:>6}")
        ratios = sorted(r["rate_ratio"] for r in rows)
        print(f"median rate ratio {ratios[len(ratios) // 2]} (an acceptance of three items against one activation; the bound is 2)")
        errors = sum(r["activation"]["non_2xx"] + r["accept"]["non_2xx"] for r in rows)
        print(json.dumps({"quotes_made": available, "rounds": rows, "non_2xx": errors}))
        if used > available:
            sys.exit("not enough quotes were made for the acceptances: raise --seconds of the creation")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
