#!/usr/bin/env python3
"""Benchmark: GET /v1/vehicles/{vin}/offers of two builds (before/after), alternated in one session.

    python3 scripts/bench-offers.py --before DIR_WITH_FOD --after DIR_WITH_FOD [--rounds 3] [--seconds 5] [--connections 16]

Each round starts each build's `fod serve --dev` on a new SQLite database on 127.0.0.1 (the demo
data), puts the catalog history in the state the after build can have (with --campaigns: a running
campaign and a scheduled version, when the build has the endpoints), and runs wrk for a fixed time
on one vehicle's offers with the demo dealer key (bounded: --seconds per run). Prints requests/s
and the p50/p99 latency of each run, the medians, and the ratios after/before.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_support import ROOT, banner_keys, call, free_port, wait_ready  # noqa: E402


def run(binary, seconds, connections, campaigns):
    folder = tempfile.mkdtemp(prefix="fod-offers-")
    port = free_port()
    log_path = os.path.join(folder, "serve.log")
    with open(log_path, "w") as log:
        server = subprocess.Popen([binary, "serve", "--dev", "--data", os.path.join(folder, "data"), "--port", str(port), "--host", "127.0.0.1"],
                                  stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        if not wait_ready(port):
            sys.exit("fod serve did not start: " + open(log_path).read()[-2000:])
        admin, dealer = banner_keys(log_path)[:2]
        if campaigns:
            now = time.time()
            stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
            call(port, "POST", "/v1/campaigns", admin, {"id": "bench", "feature": "NAV_PLUS", "market": "DE", "term": "P1M", "gross_minor": 100,
                                                        "from": stamp(now + 1), "to": stamp(now + 86_400)})
            with open(os.path.join(ROOT, "fixtures", "catalog.json")) as f:
                document = json.load(f)
            document["version"] = "bench-next"
            document["effective_at"] = stamp(now + 7 * 86_400)
            call(port, "POST", "/v1/catalog/versions", admin, document)
            time.sleep(1.5)
        result = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {dealer}",
                                 f"http://127.0.0.1:{port}/v1/vehicles/WAUZZZF45RA000001/offers"], capture_output=True, text=True, timeout=seconds + 30)
        text = result.stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
        def latency(label):
            match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", text)
            value, unit = float(match.group(1)), match.group(2)
            return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        return rps, latency("50"), latency("99"), int(non2xx.group(1)) if non2xx else 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    results = {"before": [], "after": [], "after+campaigns": []}
    for round in range(args.rounds):
        order = ["before", "after", "after+campaigns"] if round % 2 == 0 else ["after+campaigns", "after", "before"]
        for name in order:
            binary = os.path.join(args.before if name == "before" else args.after, "fod")
            rps, p50, p99, bad = run(binary, args.seconds, args.connections, name == "after+campaigns")
            results[name].append((rps, p50, p99))
            print(f"round {round + 1} {name:16} {rps:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  non-2xx {bad}", flush=True)
    med = {name: [statistics.median(v[i] for v in values) for i in range(3)] for name, values in results.items()}
    for name, (rps, p50, p99) in med.items():
        print(f"median {name:16} {rps:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    for name in ["after", "after+campaigns"]:
        print(f"{name} / before: req/s {med[name][0] / med['before'][0]:.3f}, p50 {med[name][1] / med['before'][1]:.3f}, p99 {med[name][2] / med['before'][2]:.3f}")


if __name__ == "__main__":
    main()
