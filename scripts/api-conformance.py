#!/usr/bin/env python3
"""The API against its description: schemathesis (a tool we did not write) over every operation of
docs/openapi.yaml with every check (scripts/schemathesis.toml), against a live `fod serve` on 127.0.0.1, once with the admin key and once with a
dealer key, over the dealer page's operations with a signed-in page session, and over the back
office's with a back office session (run by .ci/run; loopback only, bounded in examples and time).

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

# Every check schemathesis has, with scripts/schemathesis.toml (what a valid request may be answered).
CHECKS = "all"
CONFIG = os.path.join(ROOT, "scripts", "schemathesis.toml")


def schemathesis():
    """The schemathesis command of the Python running this script (the test environment's)."""
    local = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    return local if os.access(local, os.X_OK) else shutil.which("schemathesis")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def page_session(port, key, page, cookie):
    """Signs in on a web page (/dealer or /admin) with a key as a browser does; returns the session
    cookie's header value."""
    opener = urllib.request.build_opener(NoRedirect)
    login = opener.open(f"http://127.0.0.1:{port}/{page}/login", timeout=10)
    cookies = [c.split(";")[0] for c in login.headers.get_all("Set-Cookie")]
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.read().decode()).group(1)
    form = urllib.parse.urlencode({"key": key, "csrf": csrf}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{page}/login", data=form, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(cookies)})
    try:
        opener.open(request, timeout=10)
    except urllib.error.HTTPError as answer:
        if answer.code != 303:
            raise
        return "; ".join(c.split(";")[0] for c in answer.headers.get_all("Set-Cookie") if c.startswith(cookie + "="))
    sys.exit(f"signing in on /{page} did not answer 303")


def generated_client_names():
    """Generates a Python client from docs/openapi.yaml with openapi-python-client (a tool we did
    not write) and checks that its methods are named by the operationIds (get_vehicle, not
    get_v1_vehicles_vin): one module per operation, no name derived from a path."""
    import yaml
    tool = os.path.join(os.path.dirname(sys.executable), "openapi-python-client")
    spec = yaml.safe_load(open(os.path.join(ROOT, "docs", "openapi.yaml")))
    wanted = {re.sub(r"(?<!^)(?=[A-Z])", "_", op["operationId"]).lower().replace("x_m_l", "xml").replace("h_t_m_l", "html")
              for item in spec["paths"].values() for method, op in item.items() if method in ("get", "post", "put", "delete", "patch")}
    out = tempfile.mkdtemp(prefix="fod-client-")
    try:
        result = subprocess.run([tool, "generate", "--path", os.path.join(ROOT, "docs", "openapi.yaml"), "--meta", "none",
                                 "--output-path", os.path.join(out, "client")], cwd=out, capture_output=True, text=True, timeout=300)
        modules = {os.path.splitext(name)[0] for folder, _, names in os.walk(os.path.join(out, "client", "api"))
                   for name in names if name.endswith(".py") and name != "__init__.py"}
        check(result.returncode == 0 and modules == wanted,
              f"openapi-python-client: {len(modules)} methods, named by operationId" +
              ("" if modules == wanted else f"; unexpected {sorted(modules - wanted)[:5]}, missing {sorted(wanted - modules)[:5]}: {result.stderr[-2000:]}"))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=40)
    args = parser.parse_args()
    tool = schemathesis()
    if tool is None:
        sys.exit("schemathesis is not installed (scripts/test installs it into .venv-test)")
    generated_client_names()
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
        # The page's operations are a browser's: without a session they send it to the sign-in page
        # (303) before reading anything else, so they are run with a session only.
        api = ["--exclude-path-regex", "^/(dealer|admin)"]
        runs = [("the admin key", ["-H", f"Authorization: Bearer {keys[0]}", *api]), ("a dealer key", ["-H", f"Authorization: Bearer {keys[1]}", *api]),
                ("a dealer page session", ["-H", f"Cookie: {page_session(port, keys[1], 'dealer', 'fod_session')}", "--include-path-regex", "^/dealer"]),
                ("a back office session", ["-H", f"Cookie: {page_session(port, keys[0], 'admin', 'fod_admin_session')}", "--include-path-regex", "^/admin"])]
        for role, credentials in runs:
            command = [tool, "--config-file", CONFIG, "run", os.path.join(ROOT, "docs", "openapi.yaml"), "--url", f"http://127.0.0.1:{port}",
                       *credentials, "--max-examples", str(args.max_examples), "--checks", CHECKS,
                       "--seed", "7", "--no-color", "--request-timeout", "10", "--max-response-time", "10"]
            started = time.monotonic()
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
            summary = [line for line in result.stdout.splitlines() if "generated" in line or "passed" in line or "failures" in line]
            ok = check(result.returncode == 0, f"schemathesis with {role}: {'; '.join(summary[-2:]).strip()} "
                                               f"({time.monotonic() - started:.0f} s)")
            if not ok:
                failures = result.stdout.find("FAILURES")
                print(result.stdout[failures:failures + 20000] if failures >= 0 else result.stdout[-20000:])
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
