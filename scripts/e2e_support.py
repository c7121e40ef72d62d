"""What the end-to-end scripts (durability-test, postgres-test, fault-test, dealer-e2e) share: where
the repository and the `fod` binary are, the pass/fail tally, a free loopback port, and one API call."""
import base64
import json
import os
import socket
import sys
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



def kid(token):
    """The `kid` of a compact JWS's header (not verified)."""
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))["kid"]


def rfc3339(unix):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


def wait(condition, seconds, what):
    """Polls `condition` every 0.2 s for up to `seconds`; a timeout is a failed check."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if condition():
            return True
        time.sleep(0.2)
    return check(False, f"{what} within {seconds} s")

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


def feed(port, key, after=0):
    """Every event of GET /v1/events after `after`, page by page."""
    events = []
    while True:
        status, body, _ = call(port, "GET", f"/v1/events?after={after}&limit=1000", key)
        if status != 200:
            raise RuntimeError(f"GET /v1/events answered {status}: {body[:200]}")
        page = json.loads(body)
        events += page["events"]
        if page["next_after"] == after:
            return events
        after = page["next_after"]


class WebhookReceiver:
    """A webhook receiver on 127.0.0.1 that checks every request's signature with the
    standardwebhooks package (not fod's code) and records what it got. `fail_first` requests are
    answered 500; with `hang`, every request waits that many seconds before answering; without
    `check_signatures` (the benchmark's receivers), bodies are only parsed."""

    def __init__(self, fail_first=0, hang=0.0, check_signatures=True):
        import http.server
        import threading
        from standardwebhooks import Webhook
        self.secret = None
        self.received = []          # (webhook-id, event dict), in arrival order, signature checked
        self.bad_signatures = 0
        self.aborted = 0            # requests cut off mid-body (the sender killed): never judged
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0      # the most requests at once: 1 when each endpoint is delivered by one instance at a time
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a receiver in production would

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender went away mid-request (a test kills it): not a delivery, and not a
                    # bad signature — a receiver never sees this request whole.
                    with receiver.lock:
                        receiver.aborted += 1
                    self.close_connection = True
                    return
                with receiver.lock:
                    receiver.requests += 1
                    number = receiver.requests
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                try:
                    status = self.judge(body, number)
                finally:
                    # Before the answer goes out: the sender cannot have the next one on its way yet.
                    with receiver.lock:
                        receiver.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def judge(self, body, number):
                if hang:
                    time.sleep(hang)
                if number <= fail_first:
                    return 500
                try:
                    event = (Webhook(receiver.secret).verify(body, {k.lower(): v for k, v in self.headers.items()})
                             if check_signatures else json.loads(body))
                except Exception:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    return 400
                with receiver.lock:
                    receiver.received.append((self.headers["webhook-id"], event))
                return 204

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # A sender killed mid-connection (the durability tests do that) is expected, not news.
                if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def unique(self):
        """The events after dropping duplicates by webhook-id, in the order first received."""
        seen, out = set(), []
        with self.lock:
            for webhook_id, event in self.received:
                if webhook_id not in seen:
                    seen.add(webhook_id)
                    out.append(event)
        return out

    def stop(self):
        self.server.shutdown()


def chromium(width, height):
    """Headless Chromium through Selenium ($CHROMIUM, $CHROMEDRIVER), a window of width × height,
    British English: the browser of the page tests."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                     "--force-device-scale-factor=1", "--lang=en-GB", "--disable-gpu"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
