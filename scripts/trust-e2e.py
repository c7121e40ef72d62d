#!/usr/bin/env python3
"""Issuing-key rotation end to end (run by .ci/run; loopback only, bounded in count and time).

1. Two root holders make root 1 (issuing key A) with `fod trust init/sign`; `fod serve --trust DIR
   --key A.pem --key pkcs11:…B` starts on it — B, the new key, lives in a SoftHSM token
   (scripts/softhsm-token; Debian: softhsm2) and never leaves it.
2. Activations and verifications run the whole time from one client thread.
3. Root 2 publishes B (its nbf a few seconds ahead): the JWKS lists it, then B signs. Root 3 retires
   A: the JWKS drops it, and what A signed is re-issued with B (audit `entitlement.reissue`).
4. Checks: no request failed during the rotation; a vehicle that pinned root 1 walks to root 3
   from /.well-known/fod/root/N.json (`fod trust verify`), accepts B's tokens and the re-issued
   ones (`GET /v1/vehicles/{vin}/entitlements` hands out the current token), refuses A's
   (`fod verify --trust`), and takes the manifest now signed by B.
Prints `N passed, M failed` and exits non-zero on any failure.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from e2e_support import FOD, ROOT, banner_keys, call, check, checks, kid, rfc3339, wait, feed, free_port, wait_ready

ISSUER = "https://fod.oem.example"
DEADLINE = time.monotonic() + 240
MAX_VEHICLES = 600


def fod(*arguments, quiet=False):
    result = subprocess.run([FOD, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60)
    if result.returncode != 0 and not quiet:
        print(result.stderr, file=sys.stderr)
    return result



def iat(token):
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))["iat"]



def main():
    work = tempfile.mkdtemp(prefix="fod-trust-e2e-")
    keys, trust, data, vehicle = (os.path.join(work, name) for name in ("keys", "trust", "data", "vehicle"))
    os.makedirs(trust)
    os.makedirs(vehicle)
    for name, alg in (("alice", "ES256"), ("bob", "EdDSA"), ("a", "EdDSA"), ("b", "ES256")):
        fod("keys", "generate", "--alg", alg, "--out", keys, "--name", name)
    key = lambda name, half="public": os.path.join(keys, f"{name}.{half}.pem")
    # B goes into a SoftHSM token; the service opens it there (the PIN from the environment).
    pin = "e2e-" + os.urandom(4).hex()
    made = subprocess.run([os.path.join(ROOT, "scripts", "softhsm-token"), os.path.join(work, "hsm"), "fod-e2e", pin,
                           key("b", "private"), "issuing-b", "0b"], capture_output=True, text=True, timeout=60)
    if not check(made.returncode == 0, "a SoftHSM token holds B (scripts/softhsm-token)"):
        print(made.stderr, file=sys.stderr)
        return
    softhsm_conf, module = made.stdout.split()[:2]
    os.remove(key("b", "private"))  # from here on B exists only in the token
    key_b = f"pkcs11:token=fod-e2e;object=issuing-b?module-path={module}"
    stage = os.path.join(work, "root-1.json")
    check(fod("trust", "init", "--issuer", ISSUER, "--root-key", key("alice"), "--root-key", key("bob"), "--threshold", "2",
              "--issuing-key", key("a") + f";nbf={rfc3339(time.time() - 60)}", "--expires", rfc3339(time.time() + 86400 * 365),
              "--out", stage).returncode == 0, "fod trust init makes root 1")
    for holder in ("alice", "bob"):
        fod("trust", "sign", stage, "--key", key(holder, "private"))
    shutil.copy(stage, os.path.join(trust, "root-1.json"))

    port = free_port()
    log_path = os.path.join(work, "serve.log")
    log = open(log_path, "w")
    server = subprocess.Popen([FOD, "serve", "--dev", "--data", data, "--port", str(port), "--host", "127.0.0.1", "--trust", trust,
                               "--key", key("a", "private"), "--key", key_b], cwd=ROOT, stdout=log, stderr=log,
                              env={**os.environ, "SOFTHSM2_CONF": softhsm_conf, "FOD_PKCS11_PIN": pin})
    try:
        if not check(wait_ready(port), "fod serve --trust starts on root 1"):
            print(open(log_path).read(), file=sys.stderr)
            return
        admin, dealer = banner_keys(log_path)[:2]
        issuer_key = fod("apikey", "create", "--data", data, "--role", "issuer").stdout.strip()
        auditor = fod("apikey", "create", "--data", data, "--role", "auditor").stdout.strip()
        vins = [f"WDDTRUST{index:09d}" for index in range(MAX_VEHICLES)]
        for vin in vins:
            call(port, "POST", "/v1/vehicles", issuer_key, {"vin": vin, "model": "A6", "model_year": 2025, "market": "DE",
                                                             "equipment": ["7UG"], "dealer_id": "DE-10001"})

        def jwks():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/jwks.json", timeout=5) as response:
                return {k["kid"] for k in json.load(response)["keys"]}

        key_a = jwks().pop()
        tokens, failures, stop = [], [], threading.Event()

        def load():
            for index, vin in enumerate(vins):
                if stop.is_set() or time.monotonic() > DEADLINE:
                    return
                status, body, _ = call(port, "POST", "/v1/activations", dealer, {"vin": vin, "feature": "NAV_PLUS", "term": "P1Y"},
                                       idempotency=f"trust-{index}")
                if status != 201:
                    failures.append(("activation", status, body[:200]))
                    continue
                token = json.loads(body)["token"]
                tokens.append((vin, token))
                status, body, _ = call(port, "POST", "/v1/verify", dealer, {"token": token})
                if status != 200:
                    failures.append(("verify", status, body[:200]))
                time.sleep(0.02)

        client = threading.Thread(target=load)
        client.start()
        time.sleep(2)

        # Root 2: B published, active a few seconds later.
        b_from = int(time.time()) + 6
        stage2 = os.path.join(work, "root-2.json")
        check(fod("trust", "rotate", stage, "--add-issuing-key", key("b") + f";kid=hsm-b;nbf={rfc3339(b_from)}", "--out", stage2).returncode == 0,
              "fod trust rotate makes root 2 with B")
        for holder in ("alice", "bob"):
            fod("trust", "sign", stage2, "--key", key(holder, "private"))
        shutil.copy(stage2, os.path.join(trust, "root-2.json"))
        if wait(lambda: jwks() == {key_a, "hsm-b"}, 12, "the JWKS lists B beside A"):
            check(True, "root 2 taken without a restart: the JWKS lists A and B")
        if wait(lambda: any(kid(t) == "hsm-b" for _, t in tokens), 20, "B signs once its nbf has passed"):
            check(True, "B signs once its nbf has passed")

        # Root 3: A retired.
        stage3 = os.path.join(work, "root-3.json")
        check(fod("trust", "rotate", stage2, "--retire", key_a, "--out", stage3).returncode == 0, "fod trust rotate makes root 3 without A")
        for holder in ("alice", "bob"):
            fod("trust", "sign", stage3, "--key", key(holder, "private"))
        shutil.copy(stage3, os.path.join(trust, "root-3.json"))
        if wait(lambda: jwks() == {"hsm-b"}, 12, "the JWKS drops A"):
            check(True, "root 3 taken: the JWKS lists only B")
        time.sleep(1)
        stop.set()
        client.join(timeout=60)

        signed_a = [(v, t) for v, t in tokens if kid(t) == key_a]
        signed_b = [(v, t) for v, t in tokens if kid(t) == "hsm-b"]
        check(not failures, f"no request failed during the rotation ({len(tokens)} activations, each verified): {failures[:3]}")
        check(signed_a and signed_b, f"tokens signed by A ({len(signed_a)}) and by B ({len(signed_b)})")
        # Issued before B's nbf: A (B published or not); a second after it: B. (The watcher may take
        # a root up to 5 s late, so no bound is claimed for the second just after B's nbf.)
        check(all(kid(t) == key_a for _, t in tokens if iat(t) < b_from), "every token issued before B's nbf is signed by A")
        check(any(kid(t) == "hsm-b" for _, t in tokens if iat(t) >= b_from), "B signs after its nbf")

        def reissued():
            count, after = 0, 0
            while True:
                status, body, _ = call(port, "GET", f"/v1/audit?after={after}", auditor)
                page = json.loads(body)
                count += sum(1 for entry in page["entries"] if entry["action"] == "entitlement.reissue")
                if page.get("next_after") is None:
                    return count
                after = page["next_after"]
        wait(lambda: reissued() >= len(signed_a), 20, "what A signed is re-issued")
        check(reissued() == len(signed_a), f"each of A's {len(signed_a)} entitlements re-issued once with B ({reissued()} audit entries)")
        rotated = [e["data"] for e in feed(port, auditor) if e["type"] == "keys.rotated"]
        check([r["root_version"] for r in rotated] == [1, 2, 3]
              and [[k["kid"] for k in r["issuing_keys"]] for r in rotated] == [[key_a], [key_a, "hsm-b"], ["hsm-b"]],
              f"each root version taken is one keys.rotated event with its issuing keys ({[(r['root_version'], [k['kid'] for k in r['issuing_keys']]) for r in rotated]})")

        # The vehicle: pinned root 1, fetches the others.
        paths = []
        for version in (1, 2, 3):
            path = os.path.join(vehicle, f"root-{version}.json")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/fod/root/{version}.json", timeout=5) as response:
                open(path, "wb").write(response.read())
            paths.append(path)
        walked = fod("trust", "verify", *paths)
        check(walked.returncode == 0 and json.loads(walked.stdout)["version"] == 3
              and [k["kid"] for k in json.loads(walked.stdout)["issuing_keys"]] == ["hsm-b"], "the vehicle walks root 1 → 3 and trusts only B")
        b_vin, b_token = signed_b[0]
        check(fod("verify", "--trust", vehicle, "--issuer", ISSUER, "--vin", b_vin, b_token).returncode == 0, "the vehicle accepts B's token")
        a_vin, a_token = signed_a[0]
        refused = fod("verify", "--trust", vehicle, "--issuer", ISSUER, "--vin", a_vin, a_token, quiet=True)
        check(refused.returncode == 1 and "key_unknown" in refused.stderr, "the vehicle refuses A's token after the retirement (key_unknown)")
        status, body, _ = call(port, "GET", f"/v1/vehicles/{a_vin}/entitlements", issuer_key)
        current = [e["token"] for e in json.loads(body)["entitlements"]] if status == 200 else []
        check(len(current) == 1 and kid(current[0]) == "hsm-b"
              and fod("verify", "--trust", vehicle, "--issuer", ISSUER, "--vin", a_vin, current[0]).returncode == 0,
              "the vehicle's current token, from GET /v1/vehicles/{vin}/entitlements, is A's entitlement re-issued by B and verifies")
        check(pin not in open(log_path).read(), "the PIN is not in the service's log")
        status, body, _ = call(port, "GET", f"/v1/vehicles/{a_vin}/manifest", issuer_key)
        manifest = json.loads(body).get("manifest", "") if status == 200 else ""
        verified = fod("verify", "--trust", vehicle, "--issuer", ISSUER, "--manifest", "--vin", a_vin, manifest) if manifest else None
        check(status == 200 and kid(manifest) == "hsm-b" and verified is not None and verified.returncode == 0
              and len(json.loads(verified.stdout)["entitlements"]) == 1, "the manifest of A's vehicle is signed by B and lists its entitlement")

        # B's token goes away under load (its directory moved, as a pulled HSM): requests fail with
        # a stable code and /readyz fails, nothing crashes; it comes back: signing resumes, no restart.
        kill_vins = [f"WDDHSMX{index:010d}" for index in range(400)]
        for vin in kill_vins:
            call(port, "POST", "/v1/vehicles", issuer_key, {"vin": vin, "model": "A6", "model_year": 2025, "market": "DE",
                                                             "equipment": ["7UG"], "dealer_id": "DE-10001"})
        answers, restored, done = [], threading.Event(), threading.Event()

        def hammer():
            for index, vin in enumerate(kill_vins):
                if done.is_set() or time.monotonic() > DEADLINE:
                    return
                status, body, _ = call(port, "POST", "/v1/activations", dealer, {"vin": vin, "feature": "NAV_PLUS", "term": "P1Y"},
                                       idempotency=f"kill-{index}")
                code = json.loads(body).get("code") if status != 201 else None
                answers.append((restored.is_set(), status, code))
                time.sleep(0.01)

        def ready():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                    return response.status == 200
            except urllib.error.HTTPError:
                return False

        loader = threading.Thread(target=hammer)
        loader.start()
        time.sleep(1)
        tokens_dir = os.path.join(work, "hsm", "tokens")
        os.rename(tokens_dir, tokens_dir + "-away")
        wait(lambda: not ready(), 10, "/readyz fails while the token is away")
        time.sleep(1.5)
        os.rename(tokens_dir + "-away", tokens_dir)
        restored.set()
        wait(ready, 10, "/readyz is ready again once the token is back")
        time.sleep(1)
        done.set()
        loader.join(timeout=30)
        during = [a for a in answers if not a[0]]
        unavailable = [a for a in during if a[1] == 503]
        check(unavailable and all(a[2] == "pkcs11_token_unavailable" for a in unavailable),
              f"while the token is away, activations fail with 503 pkcs11_token_unavailable ({len(unavailable)} of {len(during)})")
        check(all(a[1] in (201, 503) for a in answers), f"no other answer (no 500): {sorted({(a[1], a[2]) for a in answers})}")
        check(any(a[0] and a[1] == 201 for a in answers), f"signing resumes once the token is back ({sum(1 for a in answers if a[0] and a[1] == 201)} activations after)")
        check(server.poll() is None, "the service did not crash or restart")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
    print(f"{checks['passed']} passed, {checks['failed']} failed")
    sys.exit(1 if checks["failed"] else 0)
