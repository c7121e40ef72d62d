#!/usr/bin/env python3
"""`fod vehicle simulate` against `fod serve` on this machine (release builds, loopback only, bounded):
a service on a fresh root of trust and SQLite, N cars registered and each sold one feature, then the
fleet polls (roots, attested time, manifest) for S seconds at each interval given. Prints the
simulator's figures and the service's CPU seconds per poll.

    python3 scripts/bench-fleet.py --vehicles 10000 --seconds 60 --interval 60 --interval 20
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_support import ROOT, banner_keys, call, free_port, wait_ready  # noqa: E402

FOD = os.path.join(ROOT, ".build", "release", "fod")


def fod(*arguments, timeout=600):
    return subprocess.run([FOD, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--interval", type=float, action="append")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "fod"], cwd=ROOT, check=True, capture_output=True)
    work = tempfile.mkdtemp(prefix="fod-bench-fleet-")
    keys, trust, data = (os.path.join(work, n) for n in ("keys", "trust", "data"))
    os.makedirs(trust)
    for name, alg in (("alice", "ES256"), ("bob", "EdDSA"), ("a", "ES256")):
        fod("keys", "generate", "--alg", alg, "--out", keys, "--name", name)
    key = lambda name, half="public": os.path.join(keys, f"{name}.{half}.pem")
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    root = os.path.join(trust, "root-1.json")
    fod("trust", "init", "--issuer", "https://fod.oem.example", "--root-key", key("alice"), "--root-key", key("bob"), "--threshold", "2",
        "--issuing-key", key("a") + f";nbf={stamp(time.time() - 60)}", "--expires", stamp(time.time() + 86400 * 365), "--out", root)
    for holder in ("alice", "bob"):
        fod("trust", "sign", root, "--key", key(holder, "private"))
    port = free_port()
    log = open(os.path.join(work, "serve.log"), "w")
    server = subprocess.Popen([FOD, "serve", "--dev", "--data", data, "--port", str(port), "--host", "127.0.0.1", "--trust", trust,
                               "--key", key("a", "private")], cwd=ROOT, stdout=log, stderr=log)
    try:
        if not wait_ready(port):
            print(open(os.path.join(work, "serve.log")).read(), file=sys.stderr)
            return 1
        dealer = banner_keys(os.path.join(work, "serve.log"))[1]
        issuer = fod("apikey", "create", "--data", data, "--role", "issuer").stdout.strip()
        key_file = os.path.join(work, "issuer.key")
        open(key_file, "w").write(issuer + "\n")
        started = time.monotonic()
        made = fod("vehicle", "simulate", "--vehicles", str(args.vehicles), "--server", f"http://127.0.0.1:{port}", "--seconds", "1",
                   "--interval", "3600", "--register", "--key-file", key_file, "--json")
        if made.returncode != 0:
            print(made.stderr, file=sys.stderr)
            return 1
        for index in range(args.vehicles):
            vin = f"WDDFLT{index:011d}"
            status, body, _ = call(port, "POST", "/v1/activations", dealer, {"vin": vin, "feature": "ACC", "term": "P1M"},
                                   idempotency=f"fleet-{index}")
            if status != 201:
                print(f"activation {vin}: {status} {body[:200]}", file=sys.stderr)
                return 1
        print(f"{args.vehicles} cars registered and sold ACC in {time.monotonic() - started:.0f} s", flush=True)
        for interval in args.interval or [60.0]:
            before = cpu_seconds(server.pid)
            run = fod("vehicle", "simulate", "--vehicles", str(args.vehicles), "--server", f"http://127.0.0.1:{port}", "--seconds",
                      str(args.seconds), "--interval", str(interval), "--connections", str(args.connections), "--key-file", key_file, "--json")
            figures = json.loads(run.stdout) if run.returncode == 0 else {"error": run.stderr[-500:]}
            used = cpu_seconds(server.pid) - before
            figures["server_cpu_ms_per_poll"] = round(1000 * used / max(1, figures.get("polls", 0)), 3)
            print(json.dumps(figures), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
