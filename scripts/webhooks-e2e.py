#!/usr/bin/env python3
"""Webhooks end to end (run by .ci/run; loopback only, bounded in count and time).

`fod serve --webhooks-allow-private --webhook-timeout 1 --webhook-retry-base-ms 100` on a fresh data
folder, three receivers on 127.0.0.1 whose signatures the standardwebhooks package checks:
- A fails its first three requests, then answers: it receives every event once after dropping
  duplicates by webhook-id, in sequence order;
- B hangs: each attempt is cut off by the timeout (the delivery log says so) and the API stays fast;
- C answers: it receives what the event feed lists, and a replay delivers the events again.
Prints `N passed, M failed` and exits non-zero on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from e2e_support import FOD, ROOT, WebhookReceiver, banner_keys, call, check, checks, free_port, wait_ready

DEADLINE = time.monotonic() + 150
VEHICLES = 20


def vin(index):
    return f"WDDHKTS0{index:09d}"


def wait_for(condition, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def main():
    data = tempfile.mkdtemp(prefix="fod-webhooks-")
    port = free_port()
    log_path = os.path.join(data, "server.log")
    log = open(log_path, "w")
    server = subprocess.Popen([FOD, "serve", "--dev", "--data", os.path.join(data, "data"), "--port", str(port), "--host", "127.0.0.1",
                               "--webhooks-allow-private", "--webhook-timeout", "1", "--webhook-retry-base-ms", "100", "--shutdown-delay", "0"],
                              cwd=ROOT, stdout=log, stderr=log)
    a, b, c = WebhookReceiver(fail_first=3), WebhookReceiver(hang=3.0), WebhookReceiver()
    try:
        if not wait_ready(port):
            sys.exit("server did not start")
        admin, dealer = banner_keys(log_path)[:2]
        status, _, _ = call(port, "POST", "/v1/webhooks", dealer, {"url": c.url})
        check(status == 403, "a dealer key cannot subscribe (403)")
        endpoints = {}
        for name, receiver in (("A", a), ("B", b), ("C", c)):
            status, body, headers = call(port, "POST", "/v1/webhooks", admin, {"url": receiver.url})
            made = json.loads(body)
            receiver.secret = made.get("secret")
            endpoints[name] = made.get("id")
            check(status == 201 and receiver.secret.startswith("whsec_") and headers.get("Location") == f"/v1/webhooks/{made['id']}",
                  f"endpoint {name} subscribed; its secret is shown once")

        # A burst of changes: vehicles, activations, a refund and a revocation.
        started = time.monotonic()
        ids = []
        for index in range(VEHICLES):
            call(port, "POST", "/v1/vehicles", admin, {"vin": vin(index), "model": "A4", "model_year": 2024, "market": "DE",
                                                       "equipment": ["PCF"], "dealer_id": "DE-10001"})
            status, body, _ = call(port, "POST", "/v1/activations", dealer, {"vin": vin(index), "feature": "ACC", "term": "P1M"}, idempotency=f"h-{index}")
            ids.append(json.loads(body)["id"] if status == 201 else None)
        call(port, "POST", f"/v1/activations/{ids[0]}/refund", admin)
        call(port, "POST", f"/v1/entitlements/{ids[1]}/revoke", admin, {"reason": "test"})
        took = time.monotonic() - started
        check(all(ids) and took < 10, f"{2 * VEHICLES + 2} changes answered in {took:.2f} s while B hangs on every delivery")

        status, body, _ = call(port, "GET", "/v1/events?after=0&limit=1000", admin)
        feed = json.loads(body)["events"]
        expected = [event["id"] for event in feed]
        check(status == 200 and len(feed) >= 2 * VEHICLES + 2, f"the event feed lists {len(feed)} events")
        check(wait_for(lambda: [e["id"] for e in c.unique()] == expected, 30), f"C received every event of the feed, in order ({len(c.unique())} of {len(expected)})")
        check(wait_for(lambda: [e["id"] for e in a.unique()] == expected, 40),
              f"A, failing its first 3 requests, received every event once after dedup, in sequence order ({len(a.unique())} of {len(expected)}; {a.requests} requests)")
        check(a.requests >= len(expected) + 3, f"A was retried after its failures ({a.requests} requests for {len(expected)} events)")
        seqs = [e["seq"] for e in a.unique()]
        check(seqs == sorted(seqs), "in sequence order")
        check(a.bad_signatures == 0 and c.bad_signatures == 0, "every signature verifies with standardwebhooks")
        check(all("token" not in json.dumps(e) and "eyJ" not in json.dumps(e) for e in c.unique()), "no payload holds a token")
        types = {e["type"] for e in c.unique()}
        check({"vehicle.registered", "activation.created", "activation.refunded", "entitlement.revoked", "manifest.versioned"} <= types or
              {"vehicle.registered", "activation.created", "activation.refunded", "entitlement.revoked"} <= types, f"the event types: {sorted(types)}")

        status, body, _ = call(port, "GET", f"/v1/webhooks/{endpoints['A']}/deliveries?limit=1000", admin)
        log_a = json.loads(body)["deliveries"]
        first = [d for d in log_a if d["event_id"] == expected[0]]
        check(status == 200 and first and first[0]["status"] == "delivered" and first[0]["attempts"] == 4,
              f"A's delivery log: the first event delivered on attempt 4 ({first[0] if first else None})")

        def timed_out():
            body = call(port, "GET", f"/v1/webhooks/{endpoints['B']}/deliveries", admin)[1]
            log_b = json.loads(body)["deliveries"]
            return bool(log_b) and log_b[-1]["status"] == "retrying" and "timed out" in (log_b[-1]["last_error"] or "") and log_b[-1]["attempts"] >= 2
        check(wait_for(timed_out, 20), "B's attempts are cut off by the timeout and retried (delivery log)")
        check(b.unique() == [] or len(b.unique()) <= 1, "B, which never answers in time, got nothing delivered past the first")

        # Replay to C from the start: every event again, the same webhook-ids.
        before = len(c.received)
        status, _, _ = call(port, "POST", f"/v1/webhooks/{endpoints['C']}/replay", admin, {"after": 0})
        check(status == 200 and wait_for(lambda: len(c.received) >= before + len(expected), 30),
              f"a replay from 0 delivers every event again ({len(c.received) - before} more)")
        check([e["id"] for e in c.unique()] == expected, "after dedup C still has each event once")

        status, _, _ = call(port, "DELETE", f"/v1/webhooks/{endpoints['B']}", admin)
        listed = json.loads(call(port, "GET", "/v1/webhooks", admin)[1])["webhooks"]
        check(status == 204 and endpoints["B"] not in [w["id"] for w in listed] and all("secret" not in w for w in listed),
              "B deleted; the list shows no secret")
        with open(log_path) as text:
            logged = text.read()
        check(not any(r.secret in logged for r in (a, b, c)), "no secret in the server log")
        check(time.monotonic() < DEADLINE, "finished within the deadline")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        for receiver in (a, b, c):
            receiver.stop()
    print(f"{checks['passed']} passed, {checks['failed']} failed")
    sys.exit(1 if checks["failed"] else 0)


if __name__ == "__main__":
    main()
