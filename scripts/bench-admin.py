#!/usr/bin/env python3
"""The back office's pages on the scale benchmark's database: p50/p99 per page.

    swift build -c release --product fod && swift build -c release --product fod-bench
    python3 scripts/bench-admin.py [--vehicles 1000000] [--data DIR] [--requests 300]

Loads a year of an OEM with `fod-bench scale-load` into a new SQLite database (or reuses --data
DIR, loaded before: the load of 1,000,000 vehicles takes about ten minutes), closes the busy month
with `fod close`, starts `fod serve` on it (loopback), signs in to /admin with the admin key and
requests each page --requests times, one after another on one keep-alive connection, as a person
clicking: a random vehicle's page each time, the audit log searched by subject, person and action,
the proposals, webhooks, master data and periods pages, a closed month and a credit note. Then the
actions that are not pages, once each, with their time: the audit chain's verification and the
close's rehearsal. Prints a table and one JSON line; exits non-zero when a page answers other
than 200.
"""
import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

from e2e_support import ROOT, free_port, wait_ready

RELEASE = os.path.join(ROOT, ".build", "release")
BUSY = "2026-10"


def vin(n):
    return f"WDDBENCH{n:09d}"


class Session:
    """One person's keep-alive connection with the back office's cookie."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies = {}

    def request(self, method, path, form=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        elapsed = time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return response.status, text, elapsed


def csrf(text):
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    return found.group(1) if found else ""


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=1_000_000)
    parser.add_argument("--data", help="a folder loaded before (its keys in DATA/keys.json); loaded here when absent")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--release", default=RELEASE)
    args = parser.parse_args()
    data = args.data or tempfile.mkdtemp(prefix="fod-bench-admin-")
    keys_file = os.path.join(data, "keys.json")
    figures = {"vehicles": args.vehicles}
    if not os.path.exists(keys_file):
        started = time.monotonic()
        subprocess.run([os.path.join(args.release, "fod-bench"), "scale-load", "--vehicles", str(args.vehicles), "--busy-month", BUSY,
                        "--keys", keys_file, "--data", data], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        figures["load_seconds"] = round(time.monotonic() - started, 1)
    figures["database_mib"] = round(os.path.getsize(os.path.join(data, "fod.sqlite")) / 2**20)
    with open(keys_file) as f:
        keys = json.load(f)
    store = ["--data", data]
    closed = subprocess.run([os.path.join(args.release, "fod"), "close", "--dev", *store, "--period", BUSY, "--first-period", BUSY,
                             "--at", "2026-12-02T00:00:00Z", "--rules", "fixtures/revenue/rules.json",
                             "--issuer-profile", "fixtures/revenue/issuer.json"], cwd=ROOT, capture_output=True, text=True)
    if closed.returncode != 0 and "closed" not in closed.stdout + closed.stderr:
        sys.exit(f"fod close failed: {closed.stdout[-2000:]}{closed.stderr[-2000:]}")
    port = free_port()
    log = open(os.path.join(data, "serve.log"), "w")
    server = subprocess.Popen([os.path.join(args.release, "fod"), "serve", "--dev", *store, "--port", str(port), "--host", "127.0.0.1",
                               "--first-period", BUSY], cwd=ROOT, stdout=log, stderr=log)
    failures = []
    try:
        if not wait_ready(port, attempts=6000):
            sys.exit("fod serve did not start")
        person = Session(port)
        status, page, _ = person.request("GET", "/admin/login")
        status, _, _ = person.request("POST", "/admin/login", {"key": keys["admin"], "csrf": csrf(page)})
        if status != 303 or "fod_admin_session" not in person.cookies:
            sys.exit(f"sign-in failed ({status})")
        _, periods, _ = person.request("GET", "/admin/periods")
        _, closed_page, _ = person.request("GET", f"/admin/periods/{BUSY}")
        note = re.search(r'href="/admin/credit-notes/([^"/]+)"', closed_page)
        rng = random.Random(7)
        pages = {
            "home": lambda: "/admin",
            "a vehicle (random)": lambda: f"/admin/vehicles/{vin(rng.randint(1, args.vehicles))}",
            "audit: newest": lambda: "/admin/audit",
            "audit: by subject (random vehicle)": lambda: f"/admin/audit?subject={vin(rng.randint(1, args.vehicles))}",
            "audit: by person": lambda: "/admin/audit?person=alice",
            "audit: by action": lambda: "/admin/audit?action=entitlement.revoke",
            "audit: action and dates": lambda: "/admin/audit?action=activation.create&from=2026-10-01&to=2026-10-02",
            "proposals": lambda: "/admin/proposals",
            "webhooks": lambda: "/admin/webhooks",
            "master data": lambda: "/admin/master-data",
            "periods (checklist)": lambda: "/admin/periods",
            f"closed month {BUSY}": lambda: f"/admin/periods/{BUSY}",
        }
        if note:
            pages["a credit note"] = lambda: f"/admin/credit-notes/{note.group(1)}"
        results = {}
        for name, path in pages.items():
            times = []
            for _ in range(args.requests):
                target = path()
                status, _, elapsed = person.request("GET", target)
                if status != 200:
                    failures.append(f"{target}: {status}")
                times.append(elapsed * 1000)
            results[name] = {"p50_ms": round(percentile(times, 50), 2), "p99_ms": round(percentile(times, 99), 2), "max_ms": round(max(times), 2)}
        actions = {}
        _, audit_page, _ = person.request("GET", "/admin/audit")
        status, text, elapsed = person.request("POST", "/admin/audit/verify", {"csrf": csrf(audit_page)})
        actions["verify the audit chain"] = {"ms": round(elapsed * 1000, 1), "status": status}
        status, text, elapsed = person.request("POST", "/admin/periods/2026-11/rehearse", {"csrf": csrf(periods)})
        actions["rehearse the close of 2026-11"] = {"ms": round(elapsed * 1000, 1), "status": status}
        figures["pages"] = results
        figures["actions"] = actions
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(f"{args.vehicles:,} vehicles, SQLite {figures['database_mib']} MiB; {args.requests} requests per page, one at a time")
    print(f"{'page':<40} {'p50 ms':>10} {'p99 ms':>10} {'max ms':>10}")
    for name, r in figures["pages"].items():
        print(f"{name:<40} {r['p50_ms']:>10} {r['p99_ms']:>10} {r['max_ms']:>10}")
    for name, a in figures["actions"].items():
        print(f"action: {name:<32} {a['ms']:>10} ms (HTTP {a['status']})")
    print(json.dumps(figures))
    if failures:
        print("not 200:", failures[:10], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
