#!/usr/bin/env python3
"""The vehicle side end to end (run by .ci/run; loopback only, bounded in count and time).

1. Root 1 (issuing key A) made with `fod trust init/sign`; `fod serve --trust DIR --key A --key B`.
2. Three cars are made with `fod vehicle init` on root 1 as the service publishes it, sold features,
   and synced with `fod vehicle sync` over and over while the service rotates: root 2 publishes B
   (active a few seconds later), root 3 retires A.
3. Checks: every car ends on root 3 trusting only B, holds the newest manifest (signed by B), has
   what it was sold enabled (`fod vehicle check`: exit 0) and nothing else (exit 1 with the code),
   and reports so (`POST /v1/vehicles/{vin}/state`: in sync; a report of a feature never sold is not);
   a manifest A signed before is refused (`fod vehicle apply`: key_unknown), an older one too
   (manifest_rollback).
4. State survives: a sync killed mid-way (SIGKILL) and the state file truncated: `fod vehicle check`
   says state_truncated, the next sync says so, starts again from the pinned root, ends on root 3
   with the newest manifest, and still refuses what it refused before.
5. `fod vehicle simulate` runs a small fleet against the service without a failed poll.
Prints `N passed, M failed` and exits non-zero on any failure.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from e2e_support import FOD, ROOT, banner_keys, call, check, checks, kid, rfc3339, wait, free_port, wait_ready

ISSUER = "https://fod.oem.example"
DEADLINE = time.monotonic() + 300
CARS = ["WDDCAR00000000001", "WDDCAR00000000002", "WDDCAR00000000003"]


def fod(*arguments, env=None, timeout=60):
    return subprocess.run([FOD, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})





def main():
    work = tempfile.mkdtemp(prefix="fod-vehicle-e2e-")
    keys, trust, data, cars = (os.path.join(work, name) for name in ("keys", "trust", "data", "cars"))
    os.makedirs(trust)
    os.makedirs(cars)
    for name, alg in (("alice", "ES256"), ("bob", "EdDSA"), ("a", "ES256"), ("b", "EdDSA")):
        fod("keys", "generate", "--alg", alg, "--out", keys, "--name", name)
    key = lambda name, half="public": os.path.join(keys, f"{name}.{half}.pem")
    stage = os.path.join(work, "root-1.json")
    check(fod("trust", "init", "--issuer", ISSUER, "--root-key", key("alice"), "--root-key", key("bob"), "--threshold", "2",
              "--issuing-key", key("a") + f";nbf={rfc3339(time.time() - 60)}", "--expires", rfc3339(time.time() + 86400 * 365),
              "--out", stage).returncode == 0, "fod trust init makes root 1 with A")
    for holder in ("alice", "bob"):
        fod("trust", "sign", stage, "--key", key(holder, "private"))
    shutil.copy(stage, os.path.join(trust, "root-1.json"))

    port = free_port()
    server_url = f"http://127.0.0.1:{port}"
    log_path = os.path.join(work, "serve.log")
    log = open(log_path, "w")
    server = subprocess.Popen([FOD, "serve", "--dev", "--data", data, "--port", str(port), "--host", "127.0.0.1", "--trust", trust,
                               "--key", key("a", "private"), "--key", key("b", "private")], cwd=ROOT, stdout=log, stderr=log)
    try:
        if not check(wait_ready(port), "fod serve --trust starts on root 1"):
            print(open(log_path).read(), file=sys.stderr)
            return
        dealer = banner_keys(log_path)[1]
        issuer_key = fod("apikey", "create", "--data", data, "--role", "issuer").stdout.strip()
        key_file = os.path.join(work, "vehicle.key")
        with open(key_file, "w") as f:
            f.write(issuer_key + "\n")
        os.chmod(key_file, 0o600)
        env = {"FOD_VEHICLE_KEY": issuer_key}
        for vin in CARS:
            call(port, "POST", "/v1/vehicles", issuer_key, {"vin": vin, "model": "A6", "model_year": 2025, "market": "DE",
                                                             "equipment": ["7UG", "8G4"], "dealer_id": "DE-10001"})
            status, _, _ = call(port, "POST", "/v1/activations", dealer, {"vin": vin, "feature": "NAV_PLUS", "term": "P1Y"},
                                idempotency=f"nav-{vin}")
            check(status == 201, f"{vin}: NAV_PLUS sold")
        with urllib.request.urlopen(f"{server_url}/.well-known/fod/root/1.json", timeout=5) as response:
            pinned = os.path.join(work, "factory-root-1.json")
            open(pinned, "wb").write(response.read())
        state = lambda vin: os.path.join(cars, f"{vin}.state")
        for vin in CARS:
            made = fod("vehicle", "init", "--vin", vin, "--root", pinned, "--state", state(vin), "--market", "DE")
            check(made.returncode == 0, f"fod vehicle init {vin} pins root 1 ({made.stderr.strip()[:200]})")
        first = fod("vehicle", "sync", "--server", server_url, "--state", state(CARS[0]), "--key-file", key_file)
        check(first.returncode == 0 and "NAV_PLUS: enabled" in first.stdout, f"the first sync takes time and the manifest: NAV_PLUS enabled ({first.stdout.strip()[:300]} {first.stderr.strip()[:200]})")
        status, body, _ = call(port, "GET", f"/v1/vehicles/{CARS[0]}/manifest", issuer_key)
        a_manifest = json.loads(body)["manifest"]
        a_manifest_file = os.path.join(work, "a-manifest.jwt")
        open(a_manifest_file, "w").write(a_manifest)
        key_a = kid(a_manifest)

        # Cars sync over and over while the service rotates.
        results, stop = [], threading.Event()

        def syncing(vin):
            while not stop.is_set() and time.monotonic() < DEADLINE:
                done = fod("vehicle", "sync", "--server", server_url, "--state", state(vin), env=env)
                results.append((vin, done.returncode, done.stderr.strip()[:300]))
                time.sleep(0.3)

        threads = [threading.Thread(target=syncing, args=(vin,)) for vin in CARS]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        b_from = int(time.time()) + 5
        stage2 = os.path.join(work, "root-2.json")
        check(fod("trust", "rotate", stage, "--add-issuing-key", key("b") + f";kid=issuing-b;nbf={rfc3339(b_from)}", "--out", stage2).returncode == 0,
              "root 2 publishes B")
        for holder in ("alice", "bob"):
            fod("trust", "sign", stage2, "--key", key(holder, "private"))
        shutil.copy(stage2, os.path.join(trust, "root-2.json"))
        time.sleep(max(0, b_from - time.time()) + 6)
        stage3 = os.path.join(work, "root-3.json")
        check(fod("trust", "rotate", stage2, "--retire", key_a, "--out", stage3).returncode == 0, "root 3 retires A")
        for holder in ("alice", "bob"):
            fod("trust", "sign", stage3, "--key", key(holder, "private"))
        shutil.copy(stage3, os.path.join(trust, "root-3.json"))

        def jwks():
            with urllib.request.urlopen(f"{server_url}/.well-known/jwks.json", timeout=5) as response:
                return {k["kid"] for k in json.load(response)["keys"]}
        wait(lambda: jwks() == {"issuing-b"}, 15, "the service takes root 3")
        # A feature sold after the rotation: a new manifest, signed by B.
        for vin in CARS:
            status, _, _ = call(port, "POST", "/v1/activations", dealer, {"vin": vin, "feature": "MATRIX_LED", "term": "P1M"},
                                idempotency=f"led-{vin}")
            check(status == 201, f"{vin}: MATRIX_LED sold after the rotation")
        time.sleep(2)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        failed = [r for r in results if r[1] != 0]
        check(len(results) >= 6 and not failed, f"{len(results)} syncs during the rotation, none failed: {failed[:3]}")

        for vin in CARS:
            done = fod("vehicle", "sync", "--server", server_url, "--state", state(vin), "--json", env=env)
            shown = json.loads(done.stdout) if done.returncode == 0 else {}
            status, body, _ = call(port, "GET", f"/v1/vehicles/{vin}/manifest", issuer_key)
            served = json.loads(body)
            check(shown.get("root_version") == 3 and shown.get("issuing_keys") == ["issuing-b"] and shown.get("pinned_root_version") == 1,
                  f"{vin} ends on root 3, pinned 1, trusting only B ({shown.get('root_version')}, {shown.get('issuing_keys')})")
            check(kid(served["manifest"]) == "issuing-b" and shown.get("manifest_version") == served["version"],
                  f"{vin} holds the newest manifest, signed by B (version {shown.get('manifest_version')} of {served['version']})")
            enabled = {e["feature"]: e["enabled"] for e in shown.get("entitlements", [])}
            check(enabled == {"NAV_PLUS": True, "MATRIX_LED": True}, f"{vin}: what was sold is enabled ({enabled})")
        for vin in CARS:
            done = fod("vehicle", "sync", "--server", server_url, "--state", state(vin), env=env)
            check(done.returncode == 0 and "service: in sync" in done.stdout,
                  f"{vin} reports what it has (POST /v1/vehicles/{{vin}}/state): the service finds it in sync ({done.stdout.strip()[-200:]})")
        car = CARS[0]
        # A car that enables what it was not sold: the service says so and raises an event.
        status, body, _ = call(port, "POST", f"/v1/vehicles/{car}/state", issuer_key, {"enabled": ["NAV_PLUS", "MATRIX_LED", "MORE_POWER"]})
        answer = json.loads(body) if status == 200 else {}
        check(answer.get("unexpected") == ["MORE_POWER"] and answer.get("manifest_behind") is True and answer.get("event_raised") is True,
              f"a report with a feature never sold and no manifest: unexpected MORE_POWER, manifest behind, an event ({status} {answer})")
        check(fod("vehicle", "check", "NAV_PLUS", "--state", state(car)).returncode == 0, "fod vehicle check NAV_PLUS: exit 0")
        absent = fod("vehicle", "check", "ACC", "--state", state(car))
        check(absent.returncode == 1 and "feature_not_entitled" in absent.stdout, f"fod vehicle check ACC: exit 1, feature_not_entitled ({absent.stdout.strip()})")
        refused = fod("vehicle", "apply", "--manifest", a_manifest_file, "--state", state(car))
        check(refused.returncode == 1 and "key_unknown" in refused.stdout, f"the manifest A signed is refused: key_unknown ({refused.stdout.strip()})")
        older_file = os.path.join(work, "older-manifest.jwt")
        status, body, _ = call(port, "GET", f"/v1/vehicles/{car}/manifest", issuer_key)
        open(older_file, "w").write(json.loads(body)["manifest"])
        rolled = fod("vehicle", "apply", "--manifest", older_file, "--state", state(car))
        check(rolled.returncode == 1 and "manifest_rollback" in rolled.stdout, f"the manifest held, offered again: manifest_rollback ({rolled.stdout.strip()})")

        # State survives: kill a sync mid-way, truncate the state.
        status, _, _ = call(port, "POST", "/v1/activations", dealer, {"vin": car, "feature": "ACC", "term": "P1M"}, idempotency=f"acc-{car}")
        check(status == 201, "ACC sold: the next sync has a new manifest to take")
        victim = subprocess.Popen([FOD, "vehicle", "sync", "--server", server_url, "--state", state(car)], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
        time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        size = os.path.getsize(state(car))
        with open(state(car), "r+b") as f:
            f.truncate(size // 2)
        torn = fod("vehicle", "check", "NAV_PLUS", "--state", state(car))
        check(torn.returncode == 1 and "state_truncated" in torn.stdout, f"after a torn write, check says state_truncated and enables nothing ({torn.stdout.strip()})")
        again = fod("vehicle", "sync", "--server", server_url, "--state", state(car), "--json", env=env)
        shown = json.loads(again.stdout) if again.returncode == 0 else {}
        check(again.returncode == 0 and "state_truncated" in again.stderr and "pinned root" in again.stderr,
              f"the next sync detects it and starts again from the pinned root ({again.stderr.strip()[:200]})")
        status, body, _ = call(port, "GET", f"/v1/vehicles/{car}/manifest", issuer_key)
        served = json.loads(body)
        check(shown.get("root_version") == 3 and shown.get("manifest_version") == served["version"]
              and {e["feature"] for e in shown.get("entitlements", []) if e["enabled"]} == {"NAV_PLUS", "MATRIX_LED", "ACC"},
              f"recovered: root 3, the newest manifest (version {shown.get('manifest_version')} of {served['version']}), all three features")
        refused = fod("vehicle", "apply", "--manifest", a_manifest_file, "--state", state(car))
        check(refused.returncode == 1 and "key_unknown" in refused.stdout, "after the recovery, A's manifest is still refused (key_unknown)")
        rolled = fod("vehicle", "apply", "--manifest", older_file, "--state", state(car))
        check(rolled.returncode == 1 and "manifest_rollback" in rolled.stdout, "after the recovery, the older manifest is still refused (manifest_rollback)")

        # A small fleet.
        fleet = fod("vehicle", "simulate", "--vehicles", "300", "--server", server_url, "--seconds", "6", "--interval", "2",
                    "--register", "--json", "--key-file", key_file, timeout=120)
        figures = json.loads(fleet.stdout) if fleet.returncode == 0 else {}
        check(figures.get("polls", 0) >= 300 and figures.get("failed") == 0 and not figures.get("refusals"),
              f"fod vehicle simulate: 300 cars, every poll answered and taken ({fleet.stdout.strip()[:300]} {fleet.stderr.strip()[:200]})")
        check(server.poll() is None, "the service did not crash")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
    print(f"{checks['passed']} passed, {checks['failed']} failed")
    sys.exit(1 if checks["failed"] else 0)
