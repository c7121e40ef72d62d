"""What the end-to-end scripts (durability-test, postgres-test, fault-test, dealer-e2e) share: where
the repository and the `fod` binary are, the pass/fail tally, a free loopback port, and one API call."""
import json
import os
import socket
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOD = os.environ.get("FOD_BIN", os.path.join(ROOT, ".build", "debug", "fod"))
checks = {"passed": 0, "failed": 0}


def check(condition, message):
    """Counts and prints one check; returns the condition."""
    checks["passed" if condition else "failed"] += 1
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    return condition


def free_port():
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, attempts=300):
    """Waits (0.1 s between tries) until `fod serve` on the port answers /readyz; returns whether it did."""
    for _ in range(attempts):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
            return True
        except Exception:
            time.sleep(0.1)
    return False


def banner_keys(log_path):
    """The keys a new `fod serve` prints once: the bootstrap admin key, then the demo dealer key."""
    with open(log_path) as log:
        return [line.strip() for line in log if line.strip().startswith("fod_")]


def call(port, method, path, key, body=None, idempotency=None, timeout=10):
    """One API call on 127.0.0.1 with an API key (and an Idempotency-Key): (status, body bytes, headers)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    if idempotency:
        request.add_header("Idempotency-Key", idempotency)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)
