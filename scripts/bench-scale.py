#!/usr/bin/env python3
"""The store at an OEM's scale: the same requests on a small database and on a year of an OEM.

    swift build -c release --product fod && swift build -c release --product fod-bench
    python3 scripts/bench-scale.py [--vehicles 1000000] [--small 60000] [--database postgres://…] [--seconds 10]

For each size, `fod-bench scale-load` writes a year of sales and renewals through the store into
a new database (SQLite in a temporary folder, or a new schema of --database): 3 sales per vehicle,
a third of them in the busy month (2026-10), subscriptions renewed monthly. Then `fod serve` runs on
it and wrk (bounded: --seconds per phase, on loopback) measures: activations, new manifest
versions, manifest polls, a VIN's page (GET /v1/vehicles/{vin}/entitlements, random vehicles),
the events feed (GET /v1/events?after=…, random positions), and what expires within 14 days
(GET /v1/entitlements?expiring_within=P14D, first pages and a walk through all pages). Last,
`fod close` of the busy month (a third of all sales) with its time and peak memory. On PostgreSQL
the hot statements' plans are checked (EXPLAIN ANALYZE): a sequential scan of a large table in a
request path is reported. Prints a table and one JSON line.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from e2e_support import ROOT, free_port, wait_ready

RELEASE = os.path.join(ROOT, ".build", "release")
BUSY = "2026-10"


def wrk(script, url, seconds, connections, env):
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", script, url],
                         capture_output=True, text=True, env={**os.environ, **env}, timeout=seconds + 60)
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")][-1].split()
    requests, errors, duration_us, p50, p99, worst = int(line[1]), int(line[2]), int(line[3]), float(line[4]), float(line[5]), float(line[6])
    return {"per_s": round(requests / (duration_us / 1e6), 1), "requests": requests, "non_2xx": errors,
            "p50_ms": round(p50 / 1000, 2), "p99_ms": round(p99 / 1000, 2), "max_ms": round(worst / 1000, 2)}


def run_measured(command, env=None):
    """Runs a command; returns its wall seconds and peak resident memory (MiB)."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return round(time.monotonic() - started, 1), round(usage.ru_maxrss / 1024, 1), output


def get(port, path, key):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def psql(url, sql):
    out = subprocess.run(["psql", url, "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"psql failed: {out.stderr}")
    return out.stdout


def plans(url, schema):
    """EXPLAIN ANALYZE of the statements requests run, with values from the database."""
    path = f"SET search_path TO {schema}; "
    vin = "WDDBENCH000000077"
    entitlement = psql(url, path + "SELECT id FROM entitlement ORDER BY id LIMIT 1 OFFSET 1000").strip()
    seq = psql(url, path + "SELECT COALESCE(MAX(seq), 0) / 2 FROM outbox").strip()
    now = "1794787200"
    statements = {
        "manifest snapshot": f"""SELECT e.*, m.version FROM vehicle v LEFT JOIN manifest_version m ON m.vin = v.vin
                                 LEFT JOIN entitlement e ON e.vin = v.vin WHERE v.vin = '{vin}' ORDER BY e.issued_at DESC, e.id DESC""",
        "VIN page": f"SELECT * FROM entitlement WHERE vin = '{vin}' ORDER BY issued_at DESC, id DESC",
        "entitlement by id": f"SELECT * FROM entitlement WHERE id = '{entitlement}'",
        "activation: keys": f"SELECT * FROM idempotency WHERE (principal, key) IN (VALUES ('scale', 'scale-1'), ('scale', 'scale-2'))",
        "activation: live": f"SELECT id FROM entitlement WHERE vin IN ('{vin}') AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > {now})",
        "manifest versions": f"SELECT * FROM manifest_version WHERE vin IN ('{vin}')",
        "events feed": f"SELECT * FROM outbox WHERE seq > {seq} AND (CAST(NULL AS TEXT) IS NULL OR dealer_id = NULL) ORDER BY seq LIMIT 100",
        "dealer's feed": f"SELECT * FROM outbox WHERE seq > {seq} AND (CAST('DE-10001' AS TEXT) IS NULL OR dealer_id = 'DE-10001') ORDER BY seq LIMIT 100",
        "expiring": f"""SELECT * FROM entitlement e WHERE e.revoked_at IS NULL AND e.expires_at > {now} AND e.expires_at <= {int(now) + 14 * 86400}
                        AND NOT EXISTS (SELECT 1 FROM renewal r WHERE r.previous_id = e.id)
                        AND NOT EXISTS (SELECT 1 FROM entitlement n WHERE n.vin = e.vin AND n.feature = e.feature AND n.id <> e.id
                                        AND n.revoked_at IS NULL AND (n.expires_at IS NULL OR n.expires_at > e.expires_at))
                        AND (e.term <> 'subscription' OR EXISTS (SELECT 1 FROM cancellation c WHERE c.entitlement_id = e.id))
                        ORDER BY e.expires_at, e.id LIMIT 100""",
        "revocations since": f"SELECT id FROM entitlement WHERE revoked_at IS NOT NULL AND revoked_at >= {now}",
        "reinstatements since": f"SELECT entitlement_id FROM reinstatement WHERE reinstated_at >= {now}",
        "audit head": "SELECT seq, sha256 FROM audit ORDER BY seq DESC LIMIT 1",
        "key ids": """WITH RECURSIVE k (kid) AS (SELECT MIN(kid) FROM entitlement WHERE revoked_at IS NULL
                      UNION ALL SELECT (SELECT MIN(e.kid) FROM entitlement e WHERE e.revoked_at IS NULL AND e.kid > k.kid) FROM k WHERE k.kid IS NOT NULL)
                      SELECT kid FROM k WHERE kid IS NOT NULL""",
        "sale of an entitlement": f"SELECT * FROM event WHERE event_id = 'act-{entitlement}'",
        "ledger mark": "SELECT COALESCE(MAX(recorded), 0) FROM event",
    }
    large = {row.split("|")[0] for row in psql(url, path + "SELECT relname || '|' || n_live_tup FROM pg_stat_user_tables WHERE n_live_tup > 10000").split()}
    psql(url, path + "ANALYZE")
    found = {}
    for name, sql in statements.items():
        plan = psql(url, path + "EXPLAIN (ANALYZE, FORMAT TEXT) " + sql)
        scans = sorted({line.split("Seq Scan on ")[1].split()[0] for line in plan.splitlines() if "Seq Scan on " in line} & large)
        total = [line for line in plan.splitlines() if line.startswith("Execution Time")]
        found[name] = {"seq_scans_of_large_tables": scans, "ms": float(total[0].split()[2]) if total else None}
    return found


def measure(args, vehicles, work):
    """Loads `vehicles` and measures; returns the figures."""
    result = {"vehicles": vehicles}
    keys_file = os.path.join(work, f"keys-{vehicles}.json")
    if args.database:
        schema = f"scale_{vehicles}_" + os.urandom(4).hex()
        url = args.database + ("&" if "?" in args.database else "?") + f"search_path={schema}"
        store = ["--database", url]
    else:
        url = None
        store = ["--data", os.path.join(work, f"data-{vehicles}")]
    seconds, peak, output = run_measured([os.path.join(args.release, "fod-bench"), "scale-load", "--vehicles", str(vehicles),
                                          "--subscriptions", str(args.subscriptions), "--busy-month", BUSY, "--keys", keys_file, *store])
    result["load"] = {"seconds": seconds, "peak_mib": peak, "summary": output.strip().splitlines()[-1]}
    if url:
        result["database_mib"] = round(int(psql(args.database, f"SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                                                                  f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{schema}' AND c.relkind = 'r'").strip()) / 2**20)
    else:
        result["database_mib"] = round(os.path.getsize(os.path.join(work, f"data-{vehicles}", "fod.sqlite")) / 2**20)
    with open(keys_file) as f:
        keys = json.load(f)
    port = free_port()
    log = open(os.path.join(work, f"server-{vehicles}.log"), "w")
    started = time.monotonic()
    server = subprocess.Popen([os.path.join(args.release, "fod"), "serve", "--dev", *store, "--port", str(port)], cwd=ROOT, stdout=log, stderr=log)
    try:
        wait_ready(port, attempts=6000)
        result["start_seconds"] = round(time.monotonic() - started, 1)
        base = f"http://127.0.0.1:{port}"
        script = lambda name: os.path.join(ROOT, "scripts", "wrk", name)
        # Activations of ACC on vehicles that have none (the subscriptions are on the last ones).
        result["activations"] = wrk(script("activations.lua"), base + "/", args.seconds, args.connections, {"KEY": keys["dealer"]})
        booked = max(1, result["activations"]["requests"] - result["activations"]["non_2xx"])
        result["manifests_new"] = wrk(script("manifests.lua"), base + "/", args.seconds, args.connections,
                                      {"KEY": keys["admin"], "FIRST": "1", "COUNT": str(booked)})
        result["manifest_polls"] = wrk(script("manifests.lua"), base + "/", args.seconds, args.connections,
                                       {"KEY": keys["admin"], "FIRST": "1", "COUNT": str(min(1000, booked))})
        result["vin_page"] = wrk(script("random-get.lua"), base + "/", args.seconds, args.connections,
                                 {"KEY": keys["admin"], "PATH_FORMAT": "/v1/vehicles/%s/entitlements", "KIND": "vin", "COUNT": str(vehicles)})
        last = get(port, "/v1/events?after=0&limit=1", keys["admin"])
        top = max(1, vehicles * 3)
        result["events_feed"] = wrk(script("random-get.lua"), base + "/", args.seconds, args.connections,
                                    {"KEY": keys["admin"], "PATH_FORMAT": "/v1/events?after=%s&limit=100", "KIND": "number", "COUNT": str(top)})
        result["expiring_first_page"] = wrk(script("random-get.lua"), base + "/", args.seconds, args.connections,
                                            {"KEY": keys["admin"], "PATH_FORMAT": "/v1/entitlements?expiring_within=P14D&limit=100",
                                             "KIND": "number", "COUNT": "1000"})
        # All of what expires within 14 days, page after page.
        walked, pages, after = 0, 0, None
        walk_started = time.monotonic()
        while True:
            page = get(port, "/v1/entitlements?expiring_within=P14D&limit=1000" + (f"&after={after}" if after else ""), keys["admin"])
            walked += len(page["entitlements"])
            pages += 1
            after = page.get("next")
            if not after:
                break
        result["expiring_walk"] = {"entitlements": walked, "pages": pages, "seconds": round(time.monotonic() - walk_started, 2)}
        del last
    finally:
        server.terminate()
        server.wait(timeout=60)
    seconds, peak, output = run_measured([os.path.join(args.release, "fod"), "close", "--dev", *store, "--period", BUSY, "--first-period", BUSY,
                                          "--at", "2026-12-02T00:00:00Z", "--rules", "fixtures/revenue/rules.json",
                                          "--issuer-profile", "fixtures/revenue/issuer.json"])
    result["close"] = {"period": BUSY, "seconds": seconds, "peak_mib": peak}
    if url:
        result["plans"] = plans(args.database, schema)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=60_000)
    parser.add_argument("--subscriptions", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--release", default=RELEASE)
    parser.add_argument("--database", help="a PostgreSQL URL (the benchmark works in new schemas of it)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("install wrk: apt-get install wrk")
    work = tempfile.mkdtemp(prefix="fod-bench-scale-")
    results = [measure(args, size, work) for size in (args.small, args.vehicles)]
    small, large = results
    print(f"store: {'postgres' if args.database else 'sqlite'}; {args.connections} connections, {args.seconds} s per phase")
    for result in results:
        print(f"{result['vehicles']:>9,} vehicles: loaded in {result['load']['seconds']} s ({result['load']['summary']}), {result['database_mib']} MiB, "
              f"start {result['start_seconds']} s; close of {BUSY}: {result['close']['seconds']} s, peak {result['close']['peak_mib']} MiB")
    for phase in ("activations", "manifests_new", "manifest_polls", "vin_page", "events_feed", "expiring_first_page"):
        a, b = small[phase], large[phase]
        ratio = round(b["p99_ms"] / a["p99_ms"], 2) if a["p99_ms"] else None
        print(f"{phase:<20} small {a['per_s']:>8,.0f}/s p99 {a['p99_ms']:>7} ms | large {b['per_s']:>8,.0f}/s p99 {b['p99_ms']:>7} ms "
              f"| p99 ratio {ratio} | non-2xx {a['non_2xx']}/{b['non_2xx']}")
    print(f"expiring walk: small {small['expiring_walk']}, large {large['expiring_walk']}")
    for name, plan in (large.get("plans") or {}).items():
        print(f"plan {name:<24} {plan['ms']} ms" + (f"  SEQ SCAN: {', '.join(plan['seq_scans_of_large_tables'])}" if plan["seq_scans_of_large_tables"] else ""))
    print(json.dumps({"store": "postgres" if args.database else "sqlite", "results": results}))


if __name__ == "__main__":
    main()
