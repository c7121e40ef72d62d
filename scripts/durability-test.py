#!/usr/bin/env python3
"""Durability test for `fod serve` (run by .ci/run; loopback only, bounded in count and time).

1. Starts the server on 127.0.0.1 with a fresh data folder; registers VEHICLES vehicles.
2. Sends a burst of activations (one per vehicle, each with its own Idempotency-Key) from
   CONCURRENCY threads, and kills the server with SIGKILL once KILL_AFTER answers have come back.
3. Restarts the server on the same data and checks:
   - every activation answered 2xx before the kill is in the database (its entitlement is listed),
   - retrying every request with its Idempotency-Key books nothing twice: afterwards each vehicle
     has exactly one ACC entitlement, and a replayed answer has the id of the first,
   - `fod audit verify` passes,
   - the exported events reconcile: one activation event per entitlement, no id twice,
   - a webhook receiver subscribed before the burst gets (at least once) an `activation.created`
     event for every activation answered 2xx, and none for an activation that was not committed;
     what it got checks out with the standardwebhooks package.
Prints `N passed, M failed` and exits non-zero on any failure.
"""
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from e2e_support import FOD, ROOT, WebhookReceiver, banner_keys, call, check, checks, feed, free_port, wait_ready

VEHICLES, CONCURRENCY, KILL_AFTER, DEADLINE = 300, 12, 120, time.monotonic() + 240


def start(data, port, log):
    process = subprocess.Popen([FOD, "serve", "--dev", "--data", data, "--port", str(port), "--host", "127.0.0.1", "--webhooks-allow-private"], cwd=ROOT,
                               stdout=log, stderr=log)
    if wait_ready(port):
        return process
    process.kill()
    sys.exit("server did not start")


def vin(index):
    # Non-North-American test VINs: WMI "WDD", serial from the index; no check digit is enforced.
    return f"WDDTEST0{index:09d}".replace("I", "1").replace("O", "0").replace("Q", "0")


def main():
    data = tempfile.mkdtemp(prefix="fod-durability-")
    port = free_port()
    log = open(os.path.join(data, "server.log"), "wb")
    server = start(os.path.join(data, "data"), port, log)
    log.flush()
    admin, dealer = banner_keys(os.path.join(data, "server.log"))[:2]
    receiver = WebhookReceiver()
    status, body, _ = call(port, "POST", "/v1/webhooks", admin, {"url": receiver.url, "types": ["activation.created"]})
    if status != 201:
        sys.exit(f"subscribing the receiver failed: {status} {body[:200]}")
    receiver.secret = json.loads(body)["secret"]
    for index in range(VEHICLES):
        status, body, _ = call(port, "POST", "/v1/vehicles", admin,
                               {"vin": vin(index), "model": "A4", "model_year": 2024, "market": "DE", "equipment": [], "dealer_id": "DE-10001"})
        if status != 201:
            sys.exit(f"registering a vehicle failed: {status} {body[:200]}")
    answered = {}

    def activate(index):
        if time.monotonic() > DEADLINE:
            return index, None, None
        try:
            status, body, _ = call(port, "POST", "/v1/activations", dealer, {"vin": vin(index), "feature": "ACC", "term": "P1M"},
                                   idempotency=f"burst-{index}", timeout=5)
            return index, status, body
        except Exception:
            return index, None, None

    killed = False
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        futures = [pool.submit(activate, index) for index in range(VEHICLES)]
        for future in concurrent.futures.as_completed(futures):
            index, status, body = future.result()
            if status is not None and 200 <= status < 300:
                answered[index] = json.loads(body)["id"]
            if not killed and len(answered) >= KILL_AFTER:
                server.send_signal(signal.SIGKILL)
                killed = True
    server.wait()
    check(killed, f"server killed with SIGKILL mid-burst after {len(answered)} answered activations")
    check(len(answered) < VEHICLES, f"the kill interrupted the burst ({len(answered)} of {VEHICLES} answered 2xx)")

    server = start(os.path.join(data, "data"), port, log)
    lost = [i for i, ident in answered.items()
            if ident not in [e["id"] for e in json.loads(call(port, "GET", f"/v1/vehicles/{vin(i)}/entitlements", admin)[1])["entitlements"]]]
    check(not lost, f"every activation answered 2xx before the kill is stored ({len(answered)} checked, {len(lost)} lost)")
    webhooks_after_restart(port, admin, receiver, answered)

    replay_mismatch = 0
    for index in range(VEHICLES):
        status, body, headers = call(port, "POST", "/v1/activations", dealer, {"vin": vin(index), "feature": "ACC", "term": "P1M"},
                                     idempotency=f"burst-{index}")
        if status != 201:
            replay_mismatch += 1
        elif index in answered and json.loads(body)["id"] != answered[index]:
            replay_mismatch += 1
    check(replay_mismatch == 0, f"retrying all {VEHICLES} requests with their keys answers 201, replays keep the first id ({replay_mismatch} mismatches)")

    counts = [len([e for e in json.loads(call(port, "GET", f"/v1/vehicles/{vin(i)}/entitlements", admin)[1])["entitlements"]
                   if e["feature"] == "ACC"]) for i in range(VEHICLES)]
    check(all(c == 1 for c in counts), f"each vehicle has exactly one ACC entitlement (counts seen: {sorted(set(counts))})")

    status, body, _ = call(port, "GET", "/v1/exports/events", admin)
    rows = body.decode().strip().split("\n")[1:]
    ids = [row.split(",")[0] for row in rows]
    burst = [row for row in rows if ",ACC,P1M,dealer,DE-10001," in row]
    check(status == 200 and len(ids) == len(set(ids)), f"the events export has no event id twice ({len(ids)} events)")
    check(len(burst) == VEHICLES, f"the export reconciles: {len(burst)} activation events for {VEHICLES} entitlements")

    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)
    audit = subprocess.run([FOD, "audit", "verify", "--data", os.path.join(data, "data")], capture_output=True, text=True, cwd=ROOT)
    check(audit.returncode == 0, f"fod audit verify: {audit.stdout.strip() or audit.stderr.strip()}")
    close_killed(os.path.join(data, "data"))
    print(f"{checks['passed']} passed, {checks['failed']} failed")
    sys.exit(1 if checks["failed"] else 0)


def webhooks_after_restart(port, admin, receiver, answered):
    """Before any retry: the receiver gets an event for every stored activation (the feed's), so
    for every one answered 2xx, and for none that is not stored."""
    stored = {e["data"]["entitlement"]["id"] for e in feed(port, admin) if e["type"] == "activation.created"}
    end = time.monotonic() + 60

    def delivered():
        return {e["data"]["entitlement"]["id"] for e in receiver.unique() if e["type"] == "activation.created"}
    while time.monotonic() < end and not stored <= delivered():
        time.sleep(0.2)
    got = delivered()
    missing = [ident for ident in answered.values() if ident not in got]
    check(not missing, f"after the restart every activation answered 2xx before the kill was delivered to the webhook ({len(answered)} answered, {len(missing)} missing)")
    check(got == stored, f"the webhook got an event for exactly the stored activations, none for one not committed ({len(got)} delivered, {len(stored)} stored)")
    check(receiver.bad_signatures == 0 and len(receiver.received) >= len(got), f"every delivery verifies with standardwebhooks ({len(receiver.received)} deliveries, {len(got)} distinct, {receiver.bad_signatures} bad; {receiver.aborted} cut off by the kill)")
    receiver.stop()


def close_killed(folder):
    """`fod close` killed with SIGKILL at growing delays: each kill leaves the whole close or none
    of it (the period row, its lines and its credit notes together), and the close that finally
    runs numbers its credit notes from 000001 without gaps."""
    import datetime
    import sqlite3
    today = datetime.datetime.now(datetime.timezone.utc)
    period = today.strftime("%Y-%m")
    at = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1).strftime("%Y-%m-01T00:01:00Z")
    command = [FOD, "close", "--dev", "--data", folder, "--period", period, "--at", at]

    def state():
        with sqlite3.connect(os.path.join(folder, "fod.sqlite")) as db:
            return tuple(db.execute(sql, (period,)).fetchone()[0] for sql in (
                "SELECT count(*) FROM period_close WHERE period = ?", "SELECT count(*) FROM closed_line WHERE period = ?",
                "SELECT count(*) FROM credit_note WHERE period = ?"))

    outcomes = {"none": 0, "whole": 0}
    torn = []
    for delay in [0.02 * step for step in range(1, 40)]:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        finished = process.poll() is not None
        process.kill()
        process.wait()
        closed, lines, notes = state()
        if closed == 0 and lines == 0 and notes == 0:
            outcomes["none"] += 1
        elif closed == 1 and lines > 0 and notes > 0:
            outcomes["whole"] += 1
            if finished:
                break
        else:
            torn.append((delay, closed, lines, notes))
        if closed:
            break
    check(not torn, f"fod close killed with SIGKILL at growing delays left the whole close or none of it ({outcomes['none']} none, {outcomes['whole']} whole, torn: {torn})")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    with sqlite3.connect(os.path.join(folder, "fod.sqlite")) as db:
        numbers = [row[0] for row in db.execute("SELECT number FROM credit_note ORDER BY year, sequence")]
        sequences = [row[0] for row in db.execute("SELECT sequence FROM credit_note ORDER BY year, sequence")]
    check(done.returncode == 0 and numbers and sequences == list(range(1, len(sequences) + 1)),
          f"the close after the kills numbers without gaps: {numbers} ({done.stdout.strip() or done.stderr.strip()})")


if __name__ == "__main__":
    main()
