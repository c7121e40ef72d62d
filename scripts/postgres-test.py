#!/usr/bin/env python3
"""Several `fod serve` instances on one PostgreSQL database (run by .ci/run; loopback only,
bounded in count and time). Starts its own throwaway cluster (scripts/pg-temp) and two instances
A and B on it, then:

1. Durability, round 1: a burst of activations spread over A and B; A is killed with SIGKILL
   mid-burst and started again.
2. Durability, round 2: another burst; the database is stopped with `pg_ctl stop -m immediate`
   (a crash) mid-burst and started again; both instances answer again without a restart.
   After both rounds: every activation answered 2xx is stored, retries with their keys book
   nothing twice (one entitlement per vehicle and feature, replays keep the first id), the
   audit chain verifies, the events export reconciles.
3. Concurrency: 200 concurrent activations over both instances, 50 of them reusing another's
   Idempotency-Key → exactly 150 bookings, every replay identical to its first answer, no 500.
4. Manifests fetched concurrently from both instances while features are booked: one content
   per version, versions strictly increasing with the content.
5. A revocation and an API-key revocation made through A are honoured by B within 1 s; a
   dealer signs in on A and uses the page on B (sessions and the sign-in form's key are shared).
6. Webhooks with both instances delivering: a receiver subscribed before round 1 gets an
   activation.created for every activation stored (so for every one answered 2xx, through the kill
   and the database crash) and for none that is not; never two requests at once, and first
   arrivals in sequence order (each endpoint delivered by one instance at a time).
7. An embedded SQLite deployment: `fod db backup` while it runs, then `fod db migrate-to` into a
   new schema: the audit chain verifies with the same length, keys replay their first answers.
Prints `N passed, M failed` and exits non-zero on any failure.
"""
import concurrent.futures
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import e2e_support
from e2e_support import FOD, ROOT, WebhookReceiver, banner_keys, check, checks, feed, free_port, wait_ready

VEHICLES, CONCURRENCY, KILL_AFTER, DEADLINE = 240, 12, 80, time.monotonic() + 400
PG_TEMP = os.path.join(ROOT, "scripts", "pg-temp")
TERM = {"ACC": "P1M", "PARK_ASSIST": "P1Y", "SOUND_PLUS": "P6M"}  # a term each feature is offered for in DE


def call(port, method, path, key, body=None, idempotency=None, timeout=30):
    """e2e_support.call without the headers; waits longer (a request may wait out a database crash)."""
    return e2e_support.call(port, method, path, key, body, idempotency, timeout)[:2]


def vin(index):
    return f"WDDPGTS0{index:09d}"


class Instance:
    def __init__(self, name, url, folder):
        self.name, self.url, self.port = name, url, free_port()
        self.log_path = os.path.join(folder, f"server-{name}.log")
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([FOD, "serve", "--dev", "--database", self.url, "--port", str(self.port), "--host", "127.0.0.1",
                                         "--shutdown-delay", "0", "--webhooks-allow-private", "--webhook-timeout", "2"],
                                        cwd=ROOT, stdout=log, stderr=log)
        if not wait_ready(self.port):
            self.process.kill()
            sys.exit(f"instance {self.name} did not start: see {self.log_path}")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def burst(instances, dealer, feature, prefix, on_answer):
    """Activations of `feature`, one per vehicle, alternating over the instances; calls
    on_answer(count) after each 2xx. Returns {index: id} of the 2xx answers."""
    answered = {}

    def activate(index):
        if time.monotonic() > DEADLINE:
            return index, None, None
        port = instances[index % len(instances)].port
        try:
            status, body = call(port, "POST", "/v1/activations", dealer, {"vin": vin(index), "feature": feature, "term": TERM[feature]},
                                idempotency=f"{prefix}-{index}", timeout=5)
            return index, status, body
        except Exception:
            return index, None, None

    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        for future in concurrent.futures.as_completed([pool.submit(activate, i) for i in range(VEHICLES)]):
            index, status, body = future.result()
            if status is not None and 200 <= status < 300:
                answered[index] = json.loads(body)["id"]
                on_answer(len(answered))
    return answered


def entitlements(port, admin, index):
    status, body = call(port, "GET", f"/v1/vehicles/{vin(index)}/entitlements", admin)
    return json.loads(body)["entitlements"] if status == 200 else None


def check_round(instances, admin, dealer, feature, prefix, answered, label):
    port = instances[0].port
    stored = {i: entitlements(port, admin, i) for i in range(VEHICLES)}
    lost = [i for i, ident in answered.items() if ident not in [e["id"] for e in stored[i] or []]]
    check(not lost, f"{label}: every activation answered 2xx is stored ({len(answered)} checked, {len(lost)} lost)")
    mismatch = 0
    for index in range(VEHICLES):
        status, body = call(instances[(index + 1) % 2].port, "POST", "/v1/activations", dealer,
                            {"vin": vin(index), "feature": feature, "term": TERM[feature]}, idempotency=f"{prefix}-{index}")
        if status != 201 or (index in answered and json.loads(body)["id"] != answered[index]):
            mismatch += 1
    check(mismatch == 0, f"{label}: retrying all {VEHICLES} requests (on the other instance) answers 201, replays keep the first id ({mismatch} mismatches)")
    counts = [len([e for e in entitlements(port, admin, i) if e["feature"] == feature]) for i in range(VEHICLES)]
    check(all(c == 1 for c in counts), f"{label}: each vehicle has exactly one {feature} entitlement (counts seen: {sorted(set(counts))})")


def month_and_end():
    """This month (UTC) and a moment just after it ends, for fod close --at."""
    import datetime
    today = datetime.datetime.now(datetime.timezone.utc)
    following = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return today.strftime("%Y-%m"), following.strftime("%Y-%m-01T00:01:00Z")


def check_closes(url, folder):
    """Two fod close at once on the shared database (two instances' operators): one close, the
    same answer for both, credit notes numbered from 000001 without gaps."""
    period, at = month_and_end()
    command = [FOD, "close", "--dev", "--database", url, "--period", period, "--at", at]
    both = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in both]
    same = all(process.returncode == 0 for process in both) and outputs[0][0] == outputs[1][0]
    numbers = re.findall(r"(GS-\d{4}-(\d{6}))", outputs[0][0])
    check(same and numbers and [int(n) for _, n in numbers] == list(range(1, len(numbers) + 1)),
          f"two fod close at once: one close, the same answer, {len(numbers)} credit notes numbered without gaps ({[o[1].strip() for o in outputs if o[1].strip()]})")


def check_move(url, folder):
    """An embedded SQLite deployment backed up and moved to PostgreSQL: the backup verifies, the
    move keeps every row and the audit chain, a key's replay on the moved data answers as before,
    and a second move into the same database is refused."""
    data = os.path.join(folder, "sqlite-data")
    sqlite = Instance("S", url, folder)
    log = open(sqlite.log_path, "ab")
    sqlite.process = subprocess.Popen([FOD, "serve", "--dev", "--data", data, "--port", str(sqlite.port), "--host", "127.0.0.1", "--shutdown-delay", "0"],
                                      cwd=ROOT, stdout=log, stderr=log)
    if not wait_ready(sqlite.port):
        sqlite.process.kill()
        return check(False, "the SQLite instance started")
    admin, dealer = banner_keys(sqlite.log_path)[:2]
    booked = {}
    for index in range(5):
        call(sqlite.port, "POST", "/v1/vehicles", admin, {"vin": vin(index), "model": "A4", "model_year": 2024, "market": "DE",
                                                          "equipment": ["PCF"], "dealer_id": "DE-10001"})
        status, body = call(sqlite.port, "POST", "/v1/activations", dealer, {"vin": vin(index), "feature": "ACC", "term": "P1M"}, idempotency=f"move-{index}")
        booked[index] = json.loads(body)["id"] if status == 201 else None
    call(sqlite.port, "POST", f"/v1/activations/{booked[0]}/refund", admin)
    backup = os.path.join(folder, "backup.sqlite")
    done = subprocess.run([FOD, "db", "backup", "--data", data, "--out", backup], capture_output=True, text=True, cwd=ROOT)
    check(done.returncode == 0 and oct(os.stat(backup).st_mode & 0o777) == "0o600",
          f"fod db backup while the service runs: {done.stderr.strip()} (mode {oct(os.stat(backup).st_mode & 0o777) if os.path.exists(backup) else '-'})")
    sqlite.stop()
    before = subprocess.run([FOD, "audit", "verify", "--data", data], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    target = url + ("&" if "?" in url else "?") + "search_path=moved"
    moved = subprocess.run([FOD, "db", "migrate-to", target, "--data", data], capture_output=True, text=True, cwd=ROOT)
    check(moved.returncode == 0 and "audit log intact" in moved.stderr, f"fod db migrate-to: {moved.stderr.strip()}")
    after = subprocess.run([FOD, "audit", "verify", "--database", target], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    check(after == before and after.startswith("audit log intact"), f"the audit chain after the move: {after!r} (before: {before!r})")
    instance = Instance("M", target, folder)
    instance.start()
    try:
        replays = [call(instance.port, "POST", "/v1/activations", dealer, {"vin": vin(i), "feature": "ACC", "term": "P1M"}, idempotency=f"move-{i}")
                   for i in range(5)]
        same = all(status == 201 and json.loads(body)["id"] == booked[i] for i, (status, body) in enumerate(replays))
        check(same, "on the moved database the dealer key works and every Idempotency-Key replays its first answer")
        refunded = [e for e in json.loads(call(instance.port, "GET", f"/v1/vehicles/{vin(0)}/entitlements", admin)[1])["entitlements"] if e["id"] == booked[0]]
        check(bool(refunded) and not refunded[0]["active"] and refunded[0]["revoked_at"] is not None,
              f"the refund moved with it ({refunded[0] if refunded else None})")
        call(instance.port, "POST", "/v1/vehicles", admin, {"vin": vin(5), "model": "A4", "model_year": 2024, "market": "DE",
                                                            "equipment": ["PCF"], "dealer_id": "DE-10001"})
        status, _ = call(instance.port, "POST", "/v1/activations", dealer, {"vin": vin(5), "feature": "ACC", "term": "P1M"}, idempotency="move-5")
        check(status == 201, "an activation on the moved database")
    finally:
        instance.stop()
    # The moved events keep their commit numbers and a new one comes after them: a close sees all.
    period, at = month_and_end()
    closed = subprocess.run([FOD, "close", "--dev", "--database", target, "--period", period, "--at", at], capture_output=True, text=True, cwd=ROOT)
    statement = subprocess.run([FOD, "credit-notes", "--database", target, "--period", period, "--out", os.path.join(folder, "moved-notes")],
                               capture_output=True, text=True, cwd=ROOT)
    document = json.load(open(os.path.join(folder, "moved-notes", f"statement-{period}.json"))) if statement.returncode == 0 else {}
    munich = [s for s in document.get("statements", []) if s["dealer_id"] == "DE-10001"]
    check(closed.returncode == 0 and munich and munich[0]["activations"] == 6 and munich[0]["clawbacks"] == 1,
          f"a close on the moved database counts the moved and the new activations: {munich} {closed.stderr.strip()}")
    again = subprocess.run([FOD, "db", "migrate-to", target, "--data", data], capture_output=True, text=True, cwd=ROOT)
    check(again.returncode != 0 and "conflict" in again.stderr, f"a second move into the same database is refused: {again.stderr.strip()}")


def check_webhooks(port, admin, receiver, answered):
    stored = {e["data"]["entitlement"]["id"]: e["seq"] for e in feed(port, admin) if e["type"] == "activation.created"}
    end = time.monotonic() + 90

    def delivered():
        return [e for e in receiver.unique() if e["type"] == "activation.created"]
    while time.monotonic() < end and len(delivered()) < len(stored):
        time.sleep(0.2)
    got = delivered()
    ids = {e["data"]["entitlement"]["id"] for e in got}
    missing = [ident for ident in answered.values() if ident not in ids]
    check(not missing, f"webhooks: every activation answered 2xx in rounds 1 and 2 was delivered ({len(answered)} answered, {len(missing)} missing)")
    check(ids == set(stored), f"webhooks: an event for exactly the stored activations, none for one not committed ({len(ids)} delivered, {len(stored)} stored)")
    seqs = [e["seq"] for e in got]
    check(receiver.max_in_flight == 1 and seqs == sorted(seqs) and receiver.bad_signatures == 0,
          f"webhooks: two instances delivering, never two requests at once ({receiver.max_in_flight} at most), first arrivals in sequence order "
          f"({len(receiver.received)} deliveries, {len(got)} distinct, {receiver.bad_signatures} bad signatures)")


def main():
    folder = tempfile.mkdtemp(prefix="fod-postgres-")
    os.chmod(folder, 0o755)  # the cluster runs as the postgres user when this runs as root
    cluster = os.path.join(folder, "pg")
    url = subprocess.run([PG_TEMP, "start", cluster, str(free_port())], capture_output=True, text=True, check=True).stdout.strip()
    a, b = Instance("A", url, folder), Instance("B", url, folder)
    try:
        a.start()
        admin, dealer = banner_keys(a.log_path)[:2]
        receiver = WebhookReceiver(hang=0.003)
        status, body = call(a.port, "POST", "/v1/webhooks", admin, {"url": receiver.url, "types": ["activation.created"]})
        if status != 201:
            sys.exit(f"subscribing the receiver failed: {status} {body[:200]}")
        receiver.secret = json.loads(body)["secret"]
        b.start()
        instances = [a, b]
        issuer = subprocess.run([FOD, "apikey", "create", "--role", "issuer", "--database", url], capture_output=True, text=True, cwd=ROOT).stdout.strip()
        for index in range(VEHICLES):
            status, body = call(a.port, "POST", "/v1/vehicles", admin, {"vin": vin(index), "model": "A4", "model_year": 2024, "market": "DE",
                                                                         "equipment": ["PCF", "9VD"], "dealer_id": "DE-10001"})
            if status != 201:
                sys.exit(f"registering a vehicle failed: {status} {body[:200]}")

        # Round 1: kill -9 of instance A mid-burst.
        killed = []

        def kill_a(count):
            if not killed and count >= KILL_AFTER:
                a.kill()
                killed.append(count)
        first = burst(instances, dealer, "ACC", "r1", kill_a)
        check(bool(killed) and len(first) < VEHICLES, f"round 1: instance A killed with SIGKILL after {killed[:1]} answers; {len(first)} of {VEHICLES} answered 2xx")
        a.start()

        # Round 2: the database crashes mid-burst (pg_ctl stop -m immediate), then comes back.
        crashed = []

        def crash_database(count):
            if not crashed and count >= KILL_AFTER:
                subprocess.run([PG_TEMP, "stop", cluster, "immediate"], check=True)
                crashed.append(count)
        second = burst(instances, dealer, "PARK_ASSIST", "r2", crash_database)
        check(bool(crashed) and len(second) < VEHICLES, f"round 2: the database stopped immediately after {crashed[:1]} answers; {len(second)} of {VEHICLES} answered 2xx")
        status, _ = call(b.port, "POST", "/v1/activations", dealer, {"vin": vin(0), "feature": "SOUND_PLUS", "term": "P6M"}, idempotency="down-1")
        check(status == 503, f"with the database down an activation is refused with 503, not lost or 500 (got {status})")
        subprocess.run([PG_TEMP, "start", cluster, str(int(url.split(":")[2].split("/")[0]))], capture_output=True, check=True)
        check(wait_ready(a.port, 200) and wait_ready(b.port, 200), "both instances are ready again after the database restarted (no restart of theirs)")

        check_round(instances, admin, dealer, "ACC", "r1", first, "round 1")
        check_round(instances, admin, dealer, "PARK_ASSIST", "r2", second, "round 2")

        # Concurrency: 200 requests, 150 distinct keys, 50 keys sent twice at once to the two instances.
        def activation(job):
            index, port = job
            return index, call(port, "POST", "/v1/activations", dealer, {"vin": vin(index), "feature": "SOUND_PLUS", "term": "P6M"},
                               idempotency=f"c-{index}")
        jobs = [(i, a.port) for i in range(150)] + [(i, b.port) for i in range(50)]
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            results = list(pool.map(activation, jobs))
        statuses = [status for _, (status, _) in results]
        ids = {}
        replays_identical = True
        for index, (status, body) in results:
            if status == 201:
                answer = json.loads(body)
                if index in ids and ids[index] != answer:
                    replays_identical = False
                ids.setdefault(index, answer)
        check(500 not in statuses and all(s == 201 for s in statuses), f"200 concurrent activations over two instances: all 201, no 500 (statuses {sorted(set(statuses))})")
        check(len({answer["id"] for answer in ids.values()}) == 150, f"exactly 150 distinct bookings for 150 keys ({len({answer['id'] for answer in ids.values()})})")
        check(replays_identical, "every replay is identical to its key's first answer")
        booked = sum(len([e for e in entitlements(a.port, admin, i) if e["feature"] == "SOUND_PLUS"]) for i in range(150))
        check(booked == 150, f"the database holds 150 SOUND_PLUS entitlements ({booked})")

        # Manifests on both instances while features are booked on the same vehicles.
        def manifest(job):
            index, port = job
            status, body = call(port, "GET", f"/v1/vehicles/{vin(index)}/manifest", issuer)
            if status != 200:
                return index, status, None, None
            answer = json.loads(body)
            payload = answer["manifest"].split(".")[1]
            claims = json.loads(__import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return index, status, answer["version"], tuple(sorted(e["jti"] if "jti" in e else e.get("id", "") for e in claims.get("entitlements", [])))

        def book(index):
            return call(b.port, "POST", "/v1/activations", dealer, {"vin": vin(index), "feature": "SOUND_PLUS", "term": "P6M"}, idempotency=f"m-{index}")
        vehicles = range(200, VEHICLES)
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            seen = list(pool.map(manifest, [(i, (a, b)[n % 2].port) for n in range(4) for i in vehicles]))
            list(pool.map(book, vehicles))
            seen += list(pool.map(manifest, [(i, (a, b)[n % 2].port) for n in range(4) for i in vehicles]))
        by_vin = {}
        for index, status, version, content in seen:
            if status != 200:
                continue
            by_vin.setdefault(index, {}).setdefault(version, set()).add(content)
        one_content = all(len(contents) == 1 for versions in by_vin.values() for contents in versions.values())
        ordered = all(sorted(versions, key=lambda v: len(next(iter(versions[v])))) == sorted(versions) for versions in by_vin.values())
        check(all(s == 200 for _, s, _, _ in seen), f"{len(seen)} manifests fetched from both instances (statuses {sorted(set(s for _, s, _, _ in seen))})")
        check(one_content and ordered, "one content per manifest version; versions increase with the content, on both instances")

        # Revocation, API-key revocation and dealer sessions across instances.
        status, body = call(a.port, "POST", "/v1/entitlements", issuer, {"vin": vin(0), "feature": "MORE_POWER", "term": "P1M"})
        token, ident = json.loads(body)["token"], json.loads(body)["id"]
        check(call(b.port, "POST", "/v1/verify", issuer, {"token": token})[0] == 200, "a token issued on A verifies on B")
        call(a.port, "POST", f"/v1/entitlements/{ident}/revoke", issuer, {"reason": "test"})
        revoked_at = time.monotonic()
        code = None
        while time.monotonic() - revoked_at < 3:
            status, body = call(b.port, "POST", "/v1/verify", issuer, {"token": token})
            code = json.loads(body).get("code")
            if code == "revoked":
                break
            time.sleep(0.05)
        took = time.monotonic() - revoked_at
        check(code == "revoked" and took <= 1.0, f"a revocation on A is honoured by B after {took:.2f} s (bound 1 s)")

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"http://127.0.0.1:{a.port}/dealer/login").read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        opener.open(urllib.request.Request(f"http://127.0.0.1:{b.port}/dealer/login", method="POST",
                                           data=urllib.parse.urlencode({"csrf": csrf, "key": dealer}).encode()))
        session = [c for c in jar if c.name == "fod_session"]
        check(bool(session), "the sign-in form from A is accepted by B (one CSRF key for all instances)")
        request = urllib.request.Request(f"http://127.0.0.1:{a.port}/dealer")
        request.add_header("Cookie", f"fod_session={session[0].value}" if session else "")
        try:
            with urllib.request.urlopen(request) as response:
                signed_in = response.status == 200 and "sign out" in response.read().decode().lower()
        except urllib.error.HTTPError:
            signed_in = False
        check(signed_in, "the session made on B serves the dealer page on A")

        key_id = dealer.split("_")[1]
        subprocess.run([FOD, "apikey", "revoke", key_id, "--database", url], check=True, capture_output=True, cwd=ROOT)
        revoked_at = time.monotonic()
        status = 200
        while time.monotonic() - revoked_at < 3:
            status, _ = call(b.port, "GET", "/v1/me", dealer)
            if status == 401:
                break
            time.sleep(0.05)
        took = time.monotonic() - revoked_at
        check(status == 401 and took <= 1.0, f"an API key revoked through the CLI is refused by B after {took:.2f} s (bound 1 s)")

        status, body = call(a.port, "GET", "/v1/exports/events", admin)
        rows = body.decode().strip().split("\n")[1:]
        event_ids = [row.split(",")[0] for row in rows]
        activations = [row for row in rows if ",activation," in row]
        entitled = sum(len(entitlements(a.port, admin, i)) for i in range(VEHICLES)) - 1  # less the issued MORE_POWER (no sale)
        check(status == 200 and len(event_ids) == len(set(event_ids)), f"the events export has no event id twice ({len(event_ids)} events)")
        check(len(activations) == entitled, f"the export reconciles: {len(activations)} activation events for {entitled} sold entitlements")
        check_webhooks(a.port, admin, receiver, {**first, **{f"r2-{k}": v for k, v in second.items()}})
        receiver.stop()
        a.stop()
        b.stop()
        audit = subprocess.run([FOD, "audit", "verify", "--database", url], capture_output=True, text=True, cwd=ROOT)
        check(audit.returncode == 0, f"fod audit verify: {audit.stdout.strip() or audit.stderr.strip()}")
        check_closes(url, folder)
        check_move(url, folder)
    finally:
        for instance in (a, b):
            if instance.process and instance.process.poll() is None:
                instance.process.kill()
        subprocess.run([PG_TEMP, "stop", cluster, "immediate"], capture_output=True)
    print(f"{checks['passed']} passed, {checks['failed']} failed")
    sys.exit(1 if checks["failed"] else 0)


if __name__ == "__main__":
    main()
