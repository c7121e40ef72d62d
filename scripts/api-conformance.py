#!/usr/bin/env python3
"""The API against its description: schemathesis (a tool we did not write) over every operation of
docs/openapi.yaml, against a live `fod serve` on 127.0.0.1, once with the admin key and once with a
dealer key, and over the dealer page's operations with a signed-in page session (run by .ci/run; loopback only, bounded in examples and time).

It generates requests from the description — valid ones and every kind of invalid one — and checks
each answer: no server error, no status code the operation does not list, bodies, content types
and headers as described. Any failure fails the script, with schemathesis's report.

    python3 scripts/api-conformance.py [--max-examples 40]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import re
import urllib.parse
import urllib.request

from e2e_support import FOD, ROOT, banner_keys, check, checks, free_port, wait_ready

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,response_headers_conformance"


def schemathesis():
    """The schemathesis command of the Python running this script (the test environment's)."""
    local = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    return local if os.access(local, os.X_OK) else shutil.which("schemathesis")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def dealer_session(port, key):
    """Signs in on the dealer page as a browser does; returns the session cookie's header value."""
    opener = urllib.request.build_opener(NoRedirect)
    page = opener.open(f"http://127.0.0.1:{port}/dealer/login", timeout=10)
    cookies = [c.split(";")[0] for c in page.headers.get_all("Set-Cookie")]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.read().decode()).group(1)
    form = urllib.parse.urlencode({"key": key, "csrf": csrf}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/dealer/login", data=form, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(cookies)})
    try:
        opener.open(request, timeout=10)
    except urllib.error.HTTPError as answer:
        if answer.code != 303:
            raise
        return "; ".join(c.split(";")[0] for c in answer.headers.get_all("Set-Cookie") if c.startswith("fod_session="))
    sys.exit("signing in on the dealer page did not answer 303")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=40)
    args = parser.parse_args()
    tool = schemathesis()
    if tool is None:
        sys.exit("schemathesis is not installed (scripts/test installs it into .venv-test)")
    folder = tempfile.mkdtemp(prefix="fod-conformance-")
    port = free_port()
    log_path = os.path.join(folder, "server.log")
    with open(log_path, "wb") as log:
        server = subprocess.Popen([FOD, "serve", "--dev", "--data", os.path.join(folder, "data"), "--port", str(port), "--host", "127.0.0.1"],
                                  cwd=ROOT, stdout=log, stderr=log)
    try:
        if not wait_ready(port):
            sys.exit("server did not start:\n" + open(log_path).read())
        keys = banner_keys(log_path)
        # The bearer keys for the API; a dealer page session (signed in as a browser does) for the pages.
        runs = [("the admin key", ["-H", f"Authorization: Bearer {keys[0]}"]), ("a dealer key", ["-H", f"Authorization: Bearer {keys[1]}"]),
                ("a dealer page session", ["-H", f"Cookie: {dealer_session(port, keys[1])}", "--include-path-regex", "^/dealer"])]
        for role, credentials in runs:
            command = [tool, "run", os.path.join(ROOT, "docs", "openapi.yaml"), "--url", f"http://127.0.0.1:{port}",
                       *credentials, "--max-examples", str(args.max_examples), "--checks", CHECKS,
                       "--seed", "7", "--no-color", "--request-timeout", "10", "--max-response-time", "10"]
            started = time.monotonic()
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
            summary = [line for line in result.stdout.splitlines() if "generated" in line or "passed" in line or "failures" in line]
            ok = check(result.returncode == 0, f"schemathesis with {role}: {'; '.join(summary[-2:]).strip()} "
                                               f"({time.monotonic() - started:.0f} s)")
            if not ok:
                print(result.stdout[-20000:])
                print(result.stderr[-4000:])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        check(b"Fatal error" not in open(log_path, "rb").read(), "the server did not crash")
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{checks['passed']} passed, {checks['failed']} failed")
    sys.exit(1 if checks["failed"] else 0)


if __name__ == "__main__":
    main()
