#!/usr/bin/env python3
"""Reliability test for `fod serve` (run by .ci/run; loopback only, bounded in count and time).

1. A 0-byte database file: the start is refused with a message, and no admin key is made.
1b. Requests the HTTP decoder refuses (an over-long head, broken chunked framing, garbage) get a
   problem document, like every other refusal.
2. 300 idle connections and 100 half-sent requests (a head cut off, a body announced and never
   sent) while a client's requests are still answered within 100 ms; the server closes them
   after its idle timeout.
3. A held database lock (another process holds `BEGIN EXCLUSIVE`): an activation is answered
   503 `store_busy` with `Retry-After` within the busy timeout, `/readyz` fails, and both work
   again once the lock is released.
4. A full disk (the data folder on a small tmpfs; skipped with a message where mounting is not
   allowed): writes answer 503 with `Retry-After`, the server logs the database failure,
   `/readyz` fails; after space returns writes work again, and `fod audit verify` passes.
5. SIGTERM during a burst of activations: `/readyz` fails at once (a load balancer stops sending),
   requests are served for the drain period (`--shutdown-delay`, 2 s), then the server stops;
   every request it accepted is answered, none is reset, and every 2xx is stored.
Prints `N passed, M failed` and exits non-zero on any failure.
"""
import concurrent.futures
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from e2e_support import FOD, ROOT, check, checks, free_port

DEADLINE = time.monotonic() + 300
LOGS = tempfile.mkdtemp(prefix="fod-fault-logs-")
IDLE_TIMEOUT = 4


class Server:
    """`fod serve` on a data folder, its stderr in a log file."""

    def __init__(self, data, extra=()):
        self.data, self.port = data, free_port()
        self.log_path = os.path.join(LOGS, f"server-{self.port}.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([FOD, "serve", "--dev", "--data", data, "--port", str(self.port), "--host", "127.0.0.1",
                                         "--idle-timeout", str(IDLE_TIMEOUT), *extra], cwd=ROOT, stdout=self.log, stderr=self.log)
        for _ in range(300):
            if self.process.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        keys = [line.strip() for line in self.text().splitlines() if line.strip().startswith("fod_")]
        self.admin, self.dealer = (keys + ["", ""])[:2]

    def text(self):
        self.log.flush()
        return open(self.log_path, errors="replace").read()

    def call(self, method, path, key=None, body=None, idempotency=None, timeout=10):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode())
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        request.add_header("Content-Type", "application/json")
        if idempotency:
            request.add_header("Idempotency-Key", idempotency)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        self.log.close()


def vin(index):
    return f"WDDFAULT{index:09d}"


def register(server, count, offset=0):
    for index in range(offset, offset + count):
        status, body, _ = server.call("POST", "/v1/vehicles", server.admin,
                                      {"vin": vin(index), "model": "A4", "model_year": 2024, "market": "DE", "dealer_id": "DE-10001"})
        if status != 201:
            sys.exit(f"registering a vehicle failed: {status} {body[:200]}")


def activate(server, index, timeout=10):
    return server.call("POST", "/v1/activations", server.dealer, {"vin": vin(index), "feature": "ACC", "term": "P1M"},
                       idempotency=f"fault-{index}", timeout=timeout)


def empty_database(work):
    data = os.path.join(work, "empty")
    os.makedirs(data)
    open(os.path.join(data, "fod.sqlite"), "wb").close()
    server = Server(data)
    code = server.process.wait(timeout=30)
    text = server.text()
    check(code == 2 and "is empty (0 bytes)" in text, f"a 0-byte database stops the start (exit {code})")
    check("bootstrap admin key" not in text and os.path.getsize(os.path.join(data, "fod.sqlite")) == 0,
          "no admin key was made and the file is left as it was")


def slow_clients(server):
    sockets = []
    for _ in range(300):
        sockets.append(socket.create_connection(("127.0.0.1", server.port)))
    for index in range(100):
        s = socket.create_connection(("127.0.0.1", server.port))
        if index % 2:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow")  # a head that never ends
        else:
            s.sendall(b"POST /v1/activations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 10000000\r\n\r\n")  # a body that never comes
        sockets.append(s)
    times = []
    for _ in range(20):
        for path, key in (("/healthz", None), ("/v1/me", server.dealer)):
            start = time.monotonic()
            status, _, _ = server.call("GET", path, key)
            times.append(time.monotonic() - start if status == 200 else 99)
    times.sort()
    print(f"     latencies with the slow connections open: median {times[len(times) // 2] * 1000:.1f} ms, "
          f"slowest {times[-1] * 1000:.1f} ms", flush=True)
    # A server the slow connections held up would answer after its idle timeout, if at all; the
    # bounds leave room for a loaded machine (one outlier of 100 ms was seen while it compiled).
    check(times[len(times) // 2] < 0.05 and times[-1] < 1.0,
          f"with 400 slow connections open, 40 requests answered: median {times[len(times) // 2] * 1000:.1f} ms (under 50), "
          f"slowest {times[-1] * 1000:.1f} ms (under 1000, the idle timeout is {IDLE_TIMEOUT} s)")
    time.sleep(IDLE_TIMEOUT + 3)
    closed = 0
    for s in sockets:
        s.settimeout(2)
        try:
            s.recv(4096)  # b"" once the server closed it (possibly after an answer)
            closed += 1
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except socket.timeout:
            pass  # still open
        s.close()
    check(closed == len(sockets), f"the idle timeout closed the slow connections ({closed} of {len(sockets)})")


def raw(port, data):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    s.settimeout(5)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    s.close()
    return out


def protocol_errors(server):
    cases = [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", b"431", b"headers_too_large", "an over-long head"),
        (b"POST /v1/activations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\nabc\r\n",
         b"400", b"body_malformed", "broken chunked framing"),
        (b"GARBAGE\r\n\r\n", b"400", b"request_malformed", "a request line that is not HTTP"),
    ]
    for data, status, code, what in cases:
        answer = raw(server.port, data)
        check(answer.startswith(b"HTTP/1.1 " + status) and b"application/problem+json" in answer and code in answer,
              f"{what} is answered {status.decode()} with a problem document ({answer[:60]!r})")


def held_lock(server, database):
    lock = sqlite3.connect(database, isolation_level=None, timeout=1)
    lock.execute("BEGIN EXCLUSIVE")
    start = time.monotonic()
    status, body, headers = activate(server, 0, timeout=15)
    took = time.monotonic() - start
    code = json.loads(body or b"{}").get("code")
    check(status == 503 and code == "store_busy" and headers.get("Retry-After"),
          f"under a held lock an activation is answered 503 store_busy with Retry-After (status {status}, code {code}, {took:.1f} s)")
    check(took < 6, f"the lock wait is bounded ({took:.1f} s; busy timeout 3 s)")
    ready, _, _ = server.call("GET", "/readyz", timeout=15)
    check(ready == 503, f"/readyz fails while the lock is held ({ready})")
    lock.execute("ROLLBACK")
    lock.close()
    status, _, _ = activate(server, 0)
    check(status == 201, f"after the lock is released the activation is booked ({status})")
    check(server.call("GET", "/readyz")[0] == 200, "/readyz is ready again")


def full_disk(work):
    mount = os.path.join(work, "small")
    os.makedirs(mount)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount], capture_output=True, text=True)
    if mounted.returncode != 0:
        print(f"skip full-disk case: cannot mount a tmpfs here ({mounted.stderr.strip() or 'not allowed'})", flush=True)
        return
    server = None
    try:
        data = os.path.join(mount, "data")
        server = Server(data)
        register(server, 60, offset=1000)
        filler = os.path.join(mount, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        failures = []
        for index in range(1000, 1060):
            status, body, headers = activate(server, index)
            if status == 503:
                failures.append((index, headers.get("Retry-After"), json.loads(body or b"{}").get("code")))
                if len(failures) >= 3:
                    break
        check(len(failures) >= 3 and all(retry for _, retry, _ in failures) and all(code == "store_database" for _, _, code in failures),
              f"on a full disk writes answer 503 store_database with Retry-After ({len(failures)} seen)")
        time.sleep(0.3)
        log = server.text()
        check("database failure" in log and ("full" in log or "SQLITE_FULL" in log or "disk" in log),
              "the server logged the database failure with SQLite's reason")
        check(server.call("GET", "/readyz", timeout=15)[0] == 503, "/readyz fails on a full disk")
        status, body, _ = server.call("GET", "/metrics", server.admin)
        check(b'fod_database_errors_total{code="store_database"}' in body, "the failures are counted in /metrics")
        os.remove(filler)
        time.sleep(0.2)
        recovered = [activate(server, index)[0] for index, _, _ in failures]
        check(all(status == 201 for status in recovered), f"after space returns the refused activations book ({recovered})")
        check(server.call("GET", "/readyz")[0] == 200, "/readyz is ready again")
        server.stop()
        audit = subprocess.run([FOD, "audit", "verify", "--data", data], capture_output=True, text=True, cwd=ROOT)
        check(audit.returncode == 0, f"fod audit verify after the full disk: {audit.stdout.strip() or audit.stderr.strip()}")
    finally:
        if server:
            server.stop()
        subprocess.run(["umount", mount])


def sigterm_burst(work):
    data = os.path.join(work, "burst")
    server = Server(data)
    count = 200
    register(server, count, offset=2000)
    results = {}

    def one(index):
        try:
            status, body, _ = activate(server, index, timeout=15)
            return index, status, body, None
        except urllib.error.URLError as error:
            return index, None, None, error.reason
        except Exception as error:
            return index, None, None, error

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(one, index) for index in range(2000, 2000 + count)]
        sent = False
        for future in concurrent.futures.as_completed(futures):
            index, status, body, error = future.result()
            results[index] = (status, body, error)
            if not sent and len(results) >= 40:
                server.process.send_signal(signal.SIGTERM)
                sent = True
                time.sleep(0.2)
                ready = server.call("GET", "/readyz")
                check(ready[0] == 503 and b"shutting_down" in ready[1],
                      f"after SIGTERM /readyz answers 503 shutting_down while requests are still served ({ready[0]})")
    code = server.process.wait(timeout=30)
    answered = {i: json.loads(b)["id"] for i, (s, b, e) in results.items() if s == 201}
    refused = [i for i, (s, b, e) in results.items() if s is None and isinstance(e, ConnectionRefusedError)]
    broken = [(i, repr(e)) for i, (s, b, e) in results.items() if s is None and not isinstance(e, ConnectionRefusedError)]
    other = [(i, s) for i, (s, b, e) in results.items() if s is not None and s != 201]
    check(code == 0, f"SIGTERM mid-burst: the server finished and exited 0 (exit {code})")
    check(not broken and not other,
          f"every accepted request was answered: {len(answered)} booked, {len(refused)} refused before being accepted, "
          f"{len(broken)} cut off {broken[:3]}, {len(other)} other answers {other[:3]}")
    admin = server.admin
    server = Server(data)
    try:
        stored = 0
        for index, ident in answered.items():
            _, body, _ = server.call("GET", f"/v1/vehicles/{vin(index)}/entitlements", admin)
            stored += ident in body.decode()
    finally:
        server.stop()
    check(answered and stored == len(answered), f"every activation answered 201 before SIGTERM is stored ({stored} of {len(answered)})")


def main():
    work = tempfile.mkdtemp(prefix="fod-fault-")
    empty_database(work)
    server = Server(os.path.join(work, "main"))
    try:
        register(server, 5)
        slow_clients(server)
        protocol_errors(server)
        held_lock(server, os.path.join(work, "main", "fod.sqlite"))
    finally:
        server.stop()
    full_disk(work)
    sigterm_burst(work)
    check(time.monotonic() < DEADLINE, "finished within the deadline")
    print(f"{checks['passed']} passed, {checks['failed']} failed")
    sys.exit(1 if checks["failed"] else 0)


if __name__ == "__main__":
    main()
