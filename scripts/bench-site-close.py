#!/usr/bin/env python3
"""Benchmark: closing a site that services many vehicles, while /v1/verify is under load.

A `fod serve` on 127.0.0.1 over a new SQLite database (or --database postgres://…) with the demo
network and N extra vehicles (default 50,000) serviced by site DE-10003. Client threads post a
token to /v1/verify without pause; after a few seconds the site is closed with successor
DE-10004 (POST /v1/sites/DE-10003/close). It prints how long the close took, how many vehicles
moved, and the verify latency (p50/p99/max) of the requests sent before the close (the
reference, same run) and of those sent while it ran. Bounded: a fixed count of vehicles, a fixed
time of load.

    python3 scripts/bench-site-close.py [--vehicles 50000] [--threads 8] [--database URL]

Uses .build/release/fod when it exists (FOD_BIN overrides), else the debug build.
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_support import ROOT, banner_keys, call, free_port, wait_ready  # noqa: E402

FOD = os.environ.get("FOD_BIN") or next(p for p in (os.path.join(ROOT, ".build", "release", "fod"), os.path.join(ROOT, ".build", "debug", "fod"))
                                         if os.path.exists(p))


def vin(n):
    """A valid European VIN (no check digit needed): WAUZZZ8K + 9 digits... 17 characters."""
    return f"WAUZZZ8K{n:09d}"


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="fod-site-close-")
    fixtures = os.path.join(folder, "fixtures")
    shutil.copytree(os.path.join(ROOT, "fixtures"), fixtures)
    with open(os.path.join(fixtures, "vehicles.json")) as f:
        vehicles = json.load(f)
    vehicles += [{"vin": vin(n), "model": "A4", "model_year": 2024, "market": "DE", "equipment": ["8G4"], "dealer_id": "DE-10003"}
                 for n in range(args.vehicles)]
    with open(os.path.join(fixtures, "vehicles.json"), "w") as f:
        json.dump(vehicles, f)
    port = free_port()
    store = ["--database", args.database] if args.database else ["--data", os.path.join(folder, "data")]
    log_path = os.path.join(folder, "serve.log")
    with open(log_path, "w") as log:
        server = subprocess.Popen([FOD, "serve", "--dev", *store, "--fixtures", fixtures, "--port", str(port), "--host", "127.0.0.1"],
                                  stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        if not wait_ready(port, attempts=1200):
            sys.exit("fod serve did not start: " + open(log_path).read()[-2000:])
        admin, dealer = banner_keys(log_path)[:2]
        status, body, _ = call(port, "POST", "/v1/activations", dealer, {"vin": "WAUZZZF45RA000001", "feature": "NAV_PLUS", "term": "P1Y"},
                               idempotency="bench-1")
        assert status == 201, body
        token = json.loads(body)["token"]
        payload = json.dumps({"token": token})
        samples = []  # (start, seconds)
        stop = threading.Event()

        def load():
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = {"Authorization": f"Bearer {dealer}", "Content-Type": "application/json"}
            mine = []
            while not stop.is_set():
                start = time.monotonic()
                connection.request("POST", "/v1/verify", payload, headers)
                response = connection.getresponse()
                response.read()
                mine.append((start, time.monotonic() - start, response.status))
            samples.extend(mine)

        threads = [threading.Thread(target=load) for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        time.sleep(4)
        effective = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
        close_start = time.monotonic()
        status, body, _ = call(port, "POST", "/v1/sites/DE-10003/close", admin, {"effective_at": effective, "successor": "DE-10004"}, timeout=120)
        close_end = time.monotonic()
        time.sleep(2)
        stop.set()
        for thread in threads:
            thread.join()
        assert status == 200, body
        moved = json.loads(body)["vehicles_moved"]
        before = [s for s in samples if s[0] < close_start]
        during = [s for s in samples if close_start <= s[0] <= close_end or (s[0] < close_start and s[0] + s[1] > close_start)]
        failed = sum(1 for s in samples if s[2] != 200)
        ms = lambda values, q: percentile([v[1] for v in values], q) * 1000
        print(f"store: {'postgresql' if args.database else 'sqlite'}   binary: {os.path.relpath(FOD, ROOT)}   verify threads: {args.threads}")
        print(f"site close: {moved} vehicles moved in {close_end - close_start:.2f} s")
        print(f"verify before the close: {len(before)} requests, p50 {ms(before, .5):.2f} ms, p99 {ms(before, .99):.2f} ms, max {ms(before, 1):.2f} ms")
        print(f"verify during the close: {len(during)} requests, p50 {ms(during, .5):.2f} ms, p99 {ms(during, .99):.2f} ms, max {ms(during, 1):.2f} ms")
        print(f"verify answers other than 200: {failed}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
