#!/usr/bin/env python3
"""Load test of `fod serve` with wrk on loopback (bounded: a few seconds per endpoint).

    swift build -c release --product fod && swift build -c release --product fod-bench
    apt-get install wrk
    python3 scripts/bench-service.py [--seconds 10] [--connections 16]

Measures POST /v1/verify (ES256) against one core's raw OpenSSL verify/s measured in the same run
(`fod-bench tokens --json`), POST /v1/activations (durable: synchronous=FULL, group commit, each
with its own Idempotency-Key and vehicle) and GET /v1/vehicles/{vin}/manifest (signed, versioned):
the first manifest of each vehicle the activations run booked (a new version), then polls of
manifests that did not change. Prints a table and one JSON line.
`--release DIR` runs another build's binaries (a before/after comparison in the same session).
`--database postgres://…` runs the service on PostgreSQL (in a new schema of that database), and
`--instances 2` starts a second instance on it: the activations then run as two wrk processes, one
per instance, with half the connections each, and their rates are added.
`--webhooks 3` subscribes three endpoints (receivers on 127.0.0.1 in this process, answering 204)
to every event before the load, and reports what they were delivered during it; the receivers
share the two cores with everything else (their CPU is the "receivers" column).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from e2e_support import ROOT, WebhookReceiver, banner_keys, call, feed, free_port, wait_ready

RELEASE = os.path.join(ROOT, ".build", "release")


def wrk(script, url, seconds, connections, env):
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", script, url],
                         capture_output=True, text=True, env={**os.environ, **env}, timeout=seconds + 30)
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")][-1].split()
    requests, errors, duration_us, p50, p99, worst = int(line[1]), int(line[2]), int(line[3]), float(line[4]), float(line[5]), float(line[6])
    return {"per_s": round(requests / (duration_us / 1e6), 1), "requests": requests, "non_2xx": errors,
            "p50_ms": round(p50 / 1000, 2), "p99_ms": round(p99 / 1000, 2), "max_ms": round(worst / 1000, 2)}


def cpu_seconds():
    """CPU seconds used so far by fod, by PostgreSQL's processes and by this script's finished
    children (wrk): where a phase's time goes on the shared cores."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"fod": 0.0, "postgres": 0.0}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if name in used:
            used[name] += (int(fields[11]) + int(fields[12])) / tick
    times = os.times()
    used["wrk"] = times.children_user + times.children_system
    used["receivers"] = times.user + times.system
    return used


def commit_metrics(base, key):
    """The group commits of activations so far: how many, and their total seconds."""
    request = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {key}"})
    text = urllib.request.urlopen(request).read().decode()
    def value(name):
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ") or line.startswith(name + "{"))
    return value("fod_database_commit_duration_seconds_count"), value("fod_database_commit_duration_seconds_sum")


def phase(run):
    """Runs one wrk phase and adds the CPU seconds each process group used during it."""
    before = cpu_seconds()
    result = run()
    after = cpu_seconds()
    result["cpu_s"] = {name: round(after[name] - before[name], 2) for name in after}
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--vehicles", type=int, default=60000)
    parser.add_argument("--release", default=RELEASE, help="the directory of the fod and fod-bench binaries")
    parser.add_argument("--database", help="a PostgreSQL URL (the benchmark works in a new schema of it)")
    parser.add_argument("--instances", type=int, default=1, choices=[1, 2])
    parser.add_argument("--webhooks", type=int, default=0, help="endpoints subscribed to every event during the load")
    args = parser.parse_args()
    release = args.release
    if not shutil.which("wrk"):
        sys.exit("install wrk: apt-get install wrk")
    def raw_verify():
        return json.loads(subprocess.run([os.path.join(release, "fod-bench"), "tokens", "--seconds", "4", "--json"],
                                         capture_output=True, text=True, check=True).stdout)["ES256"]["raw_verify_per_s"]

    # The machine's speed drifts: raw verify is measured before and after the load test, and the
    # ratio uses their mean.
    raw_before = raw_verify()
    work = tempfile.mkdtemp(prefix="fod-bench-service-")
    fixtures = os.path.join(work, "fixtures")
    os.makedirs(fixtures)
    for name in ("catalog.json", "dealers.json"):
        shutil.copy(os.path.join(ROOT, "fixtures", name), fixtures)
    # wrk runs one thread (-t1): its requests use vehicles 1, 2, 3, …
    vehicles = [{"vin": f"WDDBENCH{i:09d}", "model": "A4", "model_year": 2024, "market": "DE", "equipment": [], "dealer_id": "DE-10001"}
                for i in range(1, args.vehicles + 1)]
    with open(os.path.join(fixtures, "vehicles.json"), "w") as f:
        json.dump(vehicles, f)
    port = free_port()
    log = open(os.path.join(work, "server.log"), "w")
    if args.database:
        schema = "bench_" + os.urandom(6).hex()
        store = ["--database", args.database + ("&" if "?" in args.database else "?") + f"search_path={schema}"]
    else:
        store = ["--data", os.path.join(work, "data")]
    if args.instances == 2 and not args.database:
        sys.exit("--instances 2 needs --database")
    hooks = ["--webhooks-allow-private"] if args.webhooks else []
    server = subprocess.Popen([os.path.join(release, "fod"), "serve", "--dev", *store, "--port", str(port),
                               "--fixtures", fixtures, *hooks], cwd=ROOT, stdout=log, stderr=log)
    receivers = []
    second = None
    try:
        wait_ready(port, attempts=600)
        if args.instances == 2:
            port2 = free_port()
            second = subprocess.Popen([os.path.join(release, "fod"), "serve", "--dev", *store, "--port", str(port2), *hooks], cwd=ROOT, stdout=log, stderr=log)
            wait_ready(port2, attempts=600)
        log.flush()
        keys = banner_keys(os.path.join(work, "server.log"))
        admin, dealer = keys[0], keys[1]
        for _ in range(args.webhooks):
            receiver = WebhookReceiver(check_signatures=False)
            status, body, _ = call(port, "POST", "/v1/webhooks", admin, {"url": receiver.url})
            if status != 201:
                sys.exit(f"subscribing a receiver failed: {status} {body[:200]}")
            receivers.append(receiver)
            start_after = json.loads(body)["position"]
            subscribed_at = time.monotonic()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/entitlements", method="POST",
                                         data=json.dumps({"vin": "WDDBENCH000000001", "feature": "NAV_PLUS", "term": "P1Y"}).encode(),
                                         headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"})
        token = json.loads(urllib.request.urlopen(request).read())["token"]
        base = f"http://127.0.0.1:{port}"
        wrk(os.path.join(ROOT, "scripts", "wrk", "verify.lua"), base + "/v1/verify", 2, args.connections, {"KEY": admin, "TOKEN": token})
        verify = phase(lambda: wrk(os.path.join(ROOT, "scripts", "wrk", "verify.lua"), base + "/v1/verify", args.seconds, args.connections,
                                   {"KEY": admin, "TOKEN": token}))
        commits_before = commit_metrics(base, admin)
        def run_activations():
            if args.instances == 2:
                import concurrent.futures
                with concurrent.futures.ThreadPoolExecutor(2) as pool:
                    halves = list(pool.map(lambda job: wrk(os.path.join(ROOT, "scripts", "wrk", "activations.lua"), job[0], args.seconds,
                                                           args.connections // 2, {"KEY": dealer, "OFFSET": job[1]}),
                                           [(base + "/", "0"), (f"http://127.0.0.1:{port2}/", str(args.vehicles // 2))]))
                return {"per_s": round(sum(h["per_s"] for h in halves), 1), "requests": sum(h["requests"] for h in halves),
                        "non_2xx": sum(h["non_2xx"] for h in halves), "p50_ms": max(h["p50_ms"] for h in halves),
                        "p99_ms": max(h["p99_ms"] for h in halves), "max_ms": max(h["max_ms"] for h in halves), "instances": halves}
            return wrk(os.path.join(ROOT, "scripts", "wrk", "activations.lua"), base + "/", args.seconds, args.connections, {"KEY": dealer})

        activations = phase(run_activations)
        commits_after = commit_metrics(base, admin)
        if args.instances == 2:
            second_commits = commit_metrics(f"http://127.0.0.1:{port2}", admin)
            commits_after = (commits_after[0] + second_commits[0], commits_after[1] + second_commits[1])
        groups, seconds = commits_after[0] - commits_before[0], commits_after[1] - commits_before[1]
        activations["group_commits"] = int(groups)
        activations["mean_group"] = round(activations["requests"] / groups, 1) if groups else None
        activations["mean_commit_ms"] = round(seconds / groups * 1000, 2) if groups else None
        # The manifests of the vehicles the activations booked (each has one entitlement): first
        # the first manifest of each (a new version: a durable write each), then vehicles polling
        # a manifest that has not changed (1,000 vehicles that had theirs in the first run).
        booked = max(1, min(activations["requests"] - activations["non_2xx"], args.vehicles))
        manifests = phase(lambda: wrk(os.path.join(ROOT, "scripts", "wrk", "manifests.lua"), base + "/", args.seconds, args.connections,
                                      {"KEY": admin, "FIRST": "1", "COUNT": str(booked)}))
        polls = phase(lambda: wrk(os.path.join(ROOT, "scripts", "wrk", "manifests.lua"), base + "/", args.seconds, args.connections,
                                  {"KEY": admin, "FIRST": "1", "COUNT": str(max(1, min(1000, manifests["requests"] - manifests["non_2xx"])))}))
        webhooks = None
        if receivers:
            # What the receivers got while the load ran, against the events it made.
            events = len(feed(port, admin, after=start_after))
            got = [len(r.received) for r in receivers]
            load_seconds = time.monotonic() - subscribed_at
            webhooks = {"endpoints": len(receivers), "events": events, "delivered": got,
                        "delivered_per_s_each": round(sum(got) / len(got) / load_seconds, 1), "backlog_each": events - min(got),
                        "seconds": round(load_seconds, 1)}
    finally:
        for receiver in receivers:
            receiver.stop()
        for process in (server, second):
            if process:
                process.terminate()
                process.wait(timeout=20)
    raw_after = raw_verify()
    raw = (raw_before + raw_after) / 2
    verify["ratio_to_raw_verify"] = round(verify["per_s"] / raw, 3)
    print(f"raw OpenSSL ES256 verify on one core: {raw:,.0f}/s (before {raw_before:,.0f}, after {raw_after:,.0f})")
    print(f"POST /v1/verify      {verify['per_s']:>9,.0f}/s  ratio {verify['ratio_to_raw_verify']:.3f}  p50 {verify['p50_ms']} ms  p99 {verify['p99_ms']} ms  non-2xx {verify['non_2xx']}")
    print(f"POST /v1/activations {activations['per_s']:>9,.0f}/s  p50 {activations['p50_ms']} ms  p99 {activations['p99_ms']} ms  non-2xx {activations['non_2xx']}")
    print(f"GET manifest (new)   {manifests['per_s']:>9,.0f}/s  p50 {manifests['p50_ms']} ms  p99 {manifests['p99_ms']} ms  non-2xx {manifests['non_2xx']}")
    print(f"GET manifest (poll)  {polls['per_s']:>9,.0f}/s  p50 {polls['p50_ms']} ms  p99 {polls['p99_ms']} ms  non-2xx {polls['non_2xx']}")
    print(f"activations: {activations['group_commits']:,} group commits, {activations['mean_group']} activations each, "
          f"{activations['mean_commit_ms']} ms each")
    if webhooks:
        print(f"webhooks: {webhooks['endpoints']} endpoints, {webhooks['events']:,} events made during the load, delivered to each "
              f"{webhooks['delivered']} ({webhooks['delivered_per_s_each']:,}/s each over the {webhooks['seconds']:.0f} s since they subscribed); "
              f"backlog at the end {webhooks['backlog_each']:,} each")
    for name, result in (("verify", verify), ("activations", activations), ("manifests (new)", manifests), ("manifests (poll)", polls)):
        per_request = {group: round(seconds / max(1, result["requests"]) * 1e6) for group, seconds in result["cpu_s"].items()}
        print(f"CPU per request, {name}: " + ", ".join(f"{group} {us} µs" for group, us in per_request.items()))
    print(json.dumps({"raw_verify_per_s": round(raw, 1), "raw_before": raw_before, "raw_after": raw_after, "verify": verify, "activations": activations,
                      "manifests": manifests, "manifest_polls": polls, "connections": args.connections, "seconds": args.seconds,
                      "store": "postgres" if args.database else "sqlite", "instances": args.instances, "webhooks": webhooks}))


if __name__ == "__main__":
    main()
