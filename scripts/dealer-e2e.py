#!/usr/bin/env python3
"""End-to-end test of the dealer web page in a real browser (run by .ci/run).

Headless Chromium driven by Selenium through chromedriver (both from Debian's packages) against
`fod serve` on 127.0.0.1 with a fresh data folder and the demo fixtures:

  sign in as dealer DE-10001, look a fixture VIN up, book Navigation Plus for a year with a double
  click on "Activate", read the QR code of the token off the screen (zxing-cpp) and compare it with
  the token, see the feature listed as active and the commission on the start page; go back and
  submit again (books nothing); forms without the CSRF token are refused; the cookie carries
  HttpOnly and SameSite=Strict; the session is no API credential and the dealer key cannot issue;
  a second dealer sees none of the first dealer's activations and cannot open its result page.

Bounded: one server, a few dozen page loads, a 180-second deadline.
Screenshots of each step go to a temporary folder, or with --update-screenshots to docs/images/
(for docs/dealer-guide.md). Prints `N passed, M failed` and exits non-zero on any failure.
"""
import argparse
import base64
import datetime
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import numpy
import zxingcpp
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from e2e_support import FOD, ROOT, check, checks, chromium, free_port

VIN = "WAUZZZF45RA000001"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(port, method, path, headers=None, body=None):
    """One request, redirects not followed (a 303 is an answer here)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=body, headers=headers or {})
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def start_server(data, port, log):
    process = subprocess.Popen([FOD, "serve", "--dev", "--data", data, "--port", str(port), "--host", "127.0.0.1"], cwd=ROOT,
                               stdout=log, stderr=log)
    for _ in range(300):
        if http(port, "GET", "/readyz")[0] == 200 if _port_open(port) else False:
            return process
        time.sleep(0.1)
    process.kill()
    sys.exit("server did not start")


def _port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Steps:
    def __init__(self, driver, folder):
        self.driver, self.folder, self.wait = driver, folder, WebDriverWait(driver, 10)

    def shot(self, name):
        # The whole page, at tablet width.
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(820, max(600, min(height + 140, 2400)))
        self.driver.save_screenshot(os.path.join(self.folder, name))
        self.driver.set_window_size(820, 1180)

    def text(self, selector):
        # Wait for the element: after a click the next page may not have loaded yet.
        return self.wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector))).text

    def sign_in(self, port, key):
        self.driver.get(f"http://127.0.0.1:{port}/dealer")
        self.wait.until(expected_conditions.presence_of_element_located((By.ID, "key")))
        self.driver.find_element(By.ID, "key").send_keys(key)
        self.driver.find_element(By.ID, "sign-in").click()
        self.wait.until(expected_conditions.presence_of_element_located((By.ID, "vin")))

    def look_up(self, vin):
        field = self.driver.find_element(By.ID, "vin")
        field.clear()
        field.send_keys(vin)
        self.driver.find_element(By.ID, "look-up").click()
        self.wait.until(expected_conditions.presence_of_element_located((By.TAG_NAME, "h1")))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--update-screenshots", action="store_true", help="write the screenshots to docs/images/")
    arguments = parser.parse_args()
    deadline = time.monotonic() + 180
    folder = os.path.join(ROOT, "docs", "images") if arguments.update_screenshots else tempfile.mkdtemp(prefix="fod-e2e-shots-")
    os.makedirs(folder, exist_ok=True)
    data = tempfile.mkdtemp(prefix="fod-e2e-")
    port = free_port()
    log = open(os.path.join(data, "server.log"), "w+")
    server = start_server(data, port, log)
    driver = None
    try:
        log.seek(0)
        banner = log.read()
        admin = re.search(r"bootstrap admin key.*?\n\s+(fod_\S+)", banner).group(1)
        dealer1 = re.search(r"demo dealer key for DE-10001.*?\n\s+(fod_\S+)", banner).group(1)
        made = subprocess.run([FOD, "apikey", "create", "--data", data, "--role", "dealer", "--dealer", "DE-10002", "--label", "e2e"],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        dealer2 = made.stdout.strip()

        driver = chromium(820, 1180)
        steps = Steps(driver, folder)

        # 1. Sign in.
        driver.get(f"http://127.0.0.1:{port}/dealer")
        check(driver.current_url.endswith("/dealer/login"), "without a session /dealer leads to the sign-in page")
        check(driver.find_element(By.CSS_SELECTOR, "label[for=key]").text == "Dealer key", "the key field has a label")
        steps.shot("01-sign-in.png")
        driver.find_element(By.ID, "key").send_keys("fod_000000000000_not-a-key")
        driver.find_element(By.ID, "sign-in").click()
        check("This key was not accepted." in steps.text("#error"), "a wrong key is refused with a sentence")
        steps.sign_in(port, dealer1)
        check("Autohaus Beispiel München" in steps.text("header"), "signed in as the dealer, named in the header")
        cookie = driver.get_cookie("fod_session")
        check(cookie is not None and cookie.get("httpOnly") is True and cookie.get("sameSite") == "Strict",
              f"the session cookie is HttpOnly and SameSite=Strict ({cookie and {k: cookie.get(k) for k in ('httpOnly', 'sameSite', 'path')}})")
        check("No activations yet this month." in steps.text("#commission"), "no activations yet")
        steps.shot("02-start.png")

        # 2. Look the fixture VIN up (typed in lower case).
        steps.look_up(VIN.lower())
        check(steps.text("h1").startswith("A6"), "the vehicle page shows the model")
        check("Nothing is active." in steps.text("#active"), "nothing is active yet")
        bookable = steps.text("#bookable")
        check("Navigation Plus" in bookable and "1 year · 149.00 EUR" in bookable, "Navigation Plus can be booked, 1 year for 149.00 EUR")
        steps.shot("03-vehicle.png")

        # 3. Confirm, then double-click "Activate".
        driver.find_element(By.ID, "book-NAV_PLUS-P1Y").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "activate")))
        check(steps.text("#price") == "149.00 EUR", "the confirmation shows the gross price")
        steps.shot("04-confirm.png")
        ActionChains(driver).double_click(driver.find_element(By.ID, "activate")).perform()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "entitlement-id")))
        entitlement = steps.text("#entitlement-id")
        check(re.fullmatch(r"[0-9a-f-]{36}", entitlement) is not None, f"the result shows the entitlement id {entitlement}")
        check("until" in steps.text("#validity"), "the result shows the validity")
        token = driver.execute_script("return document.getElementById('token').textContent").strip()
        qr = Image.open(io.BytesIO(driver.find_element(By.CSS_SELECTOR, "#qr svg").screenshot_as_png)).convert("L")
        found = zxingcpp.read_barcodes(numpy.array(qr))
        check(len(found) == 1 and found[0].text == token, "the QR code on screen reads back as the token (zxing-cpp)")
        steps.shot("05-result.png")

        status, body = http(port, "GET", f"/v1/vehicles/{VIN}/entitlements", {"Authorization": f"Bearer {admin}"})
        listed = [e for e in json.loads(body)["entitlements"] if e["feature"] == "NAV_PLUS"]
        check(status == 200 and len(listed) == 1 and listed[0]["id"] == entitlement and listed[0]["dealer"] == "DE-10001",
              "the double click booked once, credited to DE-10001")

        # 4. Listed as active; commission on the start page.
        driver.find_element(By.LINK_TEXT, "Back to the vehicle").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "active")))
        check("Navigation Plus — 1 year" in steps.text("#active"), "Navigation Plus is listed as active")
        check("Navigation Plus" not in steps.text("#bookable"), "and is no longer offered")
        steps.shot("06-active.png")
        driver.get(f"http://127.0.0.1:{port}/dealer")
        commission = steps.text("#commission")
        rows = driver.find_elements(By.CSS_SELECTOR, "#activations tbody tr")
        check("Commission so far" in commission and len(rows) == 1 and VIN in rows[0].text, f"the start page lists the activation: {commission}")
        steps.shot("07-commission.png")

        # 5. Going back to the confirmation and submitting again books nothing.
        driver.get(f"http://127.0.0.1:{port}/dealer/confirm?vin={VIN}&feature=NAV_PLUS&term=P1Y")
        driver.find_element(By.ID, "activate").click()
        check("already active" in steps.text("#error"), "a second booking of the same feature is refused as already active")
        status, body = http(port, "GET", f"/v1/vehicles/{VIN}/entitlements", {"Authorization": f"Bearer {admin}"})
        check(len([e for e in json.loads(body)["entitlements"] if e["feature"] == "NAV_PLUS"]) == 1, "still one booking")

        # 5b. The withdrawal: offered on the result page while the period runs, a click refunds and
        # switches off; a sale started early at the customer's request with the box ticked has none.
        driver.get(f"http://127.0.0.1:{port}/dealer/confirm?vin={VIN}&feature=ACC&term=P1M")
        check("within 14 days" in steps.text("fieldset.consent"), "the confirmation states the withdrawal right")
        driver.find_element(By.ID, "activate").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "withdraw-button")))
        check("may withdraw until" in steps.text("#withdraw"), "the result page offers the withdrawal while the period runs")
        steps.shot("05b-withdrawal.png")
        driver.find_element(By.ID, "withdraw-button").click()
        steps.wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "state"), "withdrawn"))
        check("withdrawn by the customer" in steps.text("#state") and not driver.find_elements(By.ID, "qr")
              and not driver.find_elements(By.ID, "withdraw-button"), "after the click the sale is withdrawn, without token or button")
        driver.get(f"http://127.0.0.1:{port}/dealer/confirm?vin={VIN}&feature=MATRIX_LED&term=P1M")
        driver.find_element(By.ID, "immediate-start").click()
        driver.find_element(By.ID, "activate").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "entitlement-id")))
        check(not driver.find_elements(By.ID, "withdraw-button") and "acknowledged losing the right" in steps.text("#withdrawal-note"),
              "an early start with the acknowledgement has no withdrawal, and the page says why")

        # 5c. What ends soon is on the start page; extending it is a sale like any other, appended to its end.
        driver.get(f"http://127.0.0.1:{port}/dealer")
        ending = steps.text("#ending")
        check("Matrix LED headlights" in ending and "1 month" in ending, f"the start page lists what ends within six weeks: {ending}")
        steps.shot("05c-ending.png")
        driver.find_element(By.CSS_SELECTOR, "#ending a").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "extend-MATRIX_LED-P1M")))
        driver.find_element(By.ID, "extend-MATRIX_LED-P1M").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "starts")))
        starts = steps.text("#starts")
        driver.find_element(By.ID, "activate").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "entitlement-id")))
        check(f"from {starts}" in steps.text("#validity"), f"the extension starts where the current month ends ({starts})")
        driver.get(f"http://127.0.0.1:{port}/dealer")
        check(not driver.find_elements(By.ID, "ending"), "once extended, it is no longer listed as ending")

        # 6. Forms without the CSRF token; the session is no API credential; the dealer key cannot issue.
        session = f"fod_session={cookie['value']}"
        form = f"vin={VIN}&feature=ACC&term=P1M&idempotency_key=forged-1".encode()
        status, body = http(port, "POST", "/dealer/activate", {"Cookie": session, "Content-Type": "application/x-www-form-urlencoded"}, form)
        check(status == 403 and "This form has expired" in body, "a form without the CSRF token is refused (403)")
        status, _ = http(port, "POST", "/v1/entitlements", {"Cookie": session, "Content-Type": "application/json"},
                         json.dumps({"vin": VIN, "feature": "ACC", "term": "P1M"}).encode())
        check(status == 401, "the session cookie does not authenticate the API (401)")
        status, _ = http(port, "POST", "/v1/entitlements", {"Authorization": f"Bearer {dealer1}", "Content-Type": "application/json"},
                         json.dumps({"vin": VIN, "feature": "ACC", "term": "P1M"}).encode())
        check(status == 403, "the dealer key cannot issue directly (403)")
        status, _ = http(port, "GET", "/v1/audit", {"Authorization": f"Bearer {dealer1}"})
        check(status == 403, "the dealer key cannot read the audit log (403)")

        # 6b. The month is closed (as finance would once it has ended: --at is the closing clock):
        # the credit note is on the start page, printable, and the dealer can object to it.
        today = datetime.datetime.now(datetime.timezone.utc)
        period = today.strftime("%Y-%m")
        following = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1, hour=0, minute=1, second=0, microsecond=0)
        closed = subprocess.run([FOD, "close", "--dev", "--data", data, "--period", period, "--at", following.strftime("%Y-%m-%dT%H:%M:%SZ")],
                                cwd=ROOT, capture_output=True, text=True)
        check(closed.returncode == 0 and "GS-" in closed.stdout, f"fod close numbers the month's credit notes: {closed.stdout.strip()} {closed.stderr.strip()}")
        driver.get(f"http://127.0.0.1:{port}/dealer")
        notes = driver.find_elements(By.CSS_SELECTOR, "#credit-notes a")
        check(len(notes) == 1 and notes[0].text.startswith("GS-"), "the start page lists the dealer's credit note")
        number = notes[0].text
        notes[0].click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "object")))
        check(steps.text("#number") == number and "EUR" in steps.text("#total"), "the credit note's page shows its number and total")
        steps.shot("08a-credit-note.png")
        driver.find_element(By.ID, "reason").send_keys("The tier bonus of this month is missing.")
        driver.find_element(By.ID, "object-button").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "objections")))
        check("open" in steps.text("#objections") and "tier bonus" in steps.text("#objections"), "the objection is recorded and shown as open")
        driver.get(f"http://127.0.0.1:{port}/dealer/credit-notes/{number}/print")
        check("Gutschrift" in steps.text("h1") and number in steps.text("#number"), "the printable credit note is titled Gutschrift")
        steps.shot("08b-credit-note-print.png")

        # 7. An unknown VIN is explained.
        driver.get(f"http://127.0.0.1:{port}/dealer")
        steps.look_up("1HGCM82633A004352")
        check("This VIN is not registered" in steps.text("#error"), "an unregistered VIN is explained in a sentence")
        steps.shot("08-unknown-vin.png")

        # 8. A second dealer sees none of it.
        driver.find_element(By.CSS_SELECTOR, "header button").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "key")))
        check(driver.get_cookie("fod_session") is None, "signing out removes the session cookie")
        status, _ = http(port, "GET", "/dealer", {"Cookie": session})
        check(status == 303, "the old session no longer works on the server")
        steps.sign_in(port, dealer2)
        check("Autohaus Muster Berlin" in steps.text("header"), "signed in as the second dealer")
        check("No activations yet this month." in steps.text("#commission") and not driver.find_elements(By.ID, "activations"),
              "the second dealer sees no commission and not the first dealer's activation")
        steps.shot("09-other-dealer.png")
        driver.get(f"http://127.0.0.1:{port}/dealer/entitlements/{entitlement}")
        check("There is no activation" in steps.text("#error"), "the second dealer cannot open the first dealer's result page")
        driver.get(f"http://127.0.0.1:{port}/dealer/credit-notes/{number}")
        check("There is no credit note" in steps.text("#error"), "the second dealer cannot open the first dealer's credit note")

        # 9. A journey across touchpoints: the app makes a quote of two items with a preferred site;
        # the customer takes its code to another site, whose page opens it and accepts at the counter.
        made = subprocess.run([FOD, "apikey", "create", "--data", data, "--role", "issuer", "--label", "the app"],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        app = {"Authorization": f"Bearer {made.stdout.strip()}", "Content-Type": "application/json"}
        items = [{"feature": "PARK_ASSIST", "term": "P1Y"}, {"feature": "SOUND_PLUS", "term": "P6M"}]
        status, body = http(port, "POST", "/v1/quotes", app,
                            json.dumps({"vin": VIN, "items": items, "channel": "app", "preferred_dealer": "DE-10003"}).encode())
        quote = json.loads(body)
        check(status == 201 and quote["status"] == "open" and len(quote["items"]) == 2, f"the app makes a quote of two items ({status})")
        code = quote["code"]
        status, svg = http(port, "GET", f"/v1/quotes/{quote['id']}/qr", app)
        check(status == 200 and svg.lstrip().startswith("<svg"), "the app can show the quote's QR code (SVG)")
        driver.get(f"http://127.0.0.1:{port}/dealer")
        driver.find_element(By.ID, "code").send_keys(code.lower().replace("-", " "))
        driver.find_element(By.ID, "open-quote").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "quote-items")))
        rows = driver.find_elements(By.CSS_SELECTOR, "#quote-items tbody tr")
        check(len(rows) == 2, f"the quote's two items are listed: {[row.text for row in rows]}")
        check(steps.text("#quote-code") == code and "Open" in steps.text("#quote-state") and steps.text("#preferred") == "DE-10003",
              "the dealer page opens the customer's quote by its code, open, with the preferred site")
        total = quote["total_minor"] / 100
        check(f"{total:,.2f}" in steps.text("#quote-total"), f"the total is the quote's ({total})")
        steps.shot("10-quote.png")
        driver.find_element(By.ID, "accept").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "bookings")))
        booked = steps.text("#bookings")
        check("Accepted" in steps.text("#quote-state") and booked.count("credited to DE-10002") == 2 and booked.count("counter: booked at the site's counter") == 2,
              f"both items are booked, credited to the accepting site, and the page says why: {booked}")
        check(not driver.find_elements(By.ID, "accept-form"), "an accepted quote offers no acceptance")
        steps.shot("11-quote-accepted.png")
        status, body = http(port, "GET", f"/v1/quotes/{quote['id']}", app)
        read = json.loads(body)
        check(status == 200 and read["status"] == "accepted" and read["credited_dealer"] == "DE-10002" and read["attribution"] == "counter"
              and [b["attribution"] for b in read["bookings"]] == ["counter", "counter"], "the API shows the quote accepted, credited by the counter rule")
        status, body = http(port, "GET", f"/v1/vehicles/{VIN}/entitlements", {"Authorization": f"Bearer {admin}"})
        sold = {e["feature"]: e for e in json.loads(body)["entitlements"] if e["feature"] in ("PARK_ASSIST", "SOUND_PLUS")}
        check(set(sold) == {"PARK_ASSIST", "SOUND_PLUS"} and all(e["dealer"] == "DE-10002" for e in sold.values()), "both entitlements exist, credited to DE-10002")
        status, body = http(port, "GET", f"/v1/vehicles/{VIN}/manifest", {"Authorization": f"Bearer {admin}"})
        payload = json.loads(body)["manifest"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        in_manifest = {e.get("jti") or e.get("id") for e in claims.get("entitlements", [])}
        check({e["id"] for e in sold.values()} <= in_manifest, "the manifest holds both")
        status, body = http(port, "POST", f"/v1/quotes/{quote['id']}/accept",
                            {"Authorization": f"Bearer {dealer2}", "Content-Type": "application/json", "Idempotency-Key": "second-try"},
                            json.dumps({"code": code}).encode())
        check(status == 409 and json.loads(body)["code"] == "quote_accepted", "the same code cannot be accepted again (409 quote_accepted)")

        # 9b. A salesperson prepares a quote on the vehicle page; the customer accepts it in the app that
        # evening: credited to the site that made it, by the rule.
        driver.get(f"http://127.0.0.1:{port}/dealer")
        steps.look_up(VIN)
        Select(driver.find_element(By.ID, "quote-ACC")).select_by_value("P1M")
        driver.find_element(By.ID, "make-quote").click()
        steps.wait.until(expected_conditions.presence_of_element_located((By.ID, "quote-code")))
        prepared = steps.text("#quote-code")
        check("Open" in steps.text("#quote-state") and len(driver.find_elements(By.CSS_SELECTOR, "#quote-items tbody tr")) == 1,
              f"the vehicle page makes a quote of the chosen feature ({prepared})")
        steps.shot("12-quote-prepared.png")
        status, body = http(port, "GET", f"/v1/quotes/by-code/{prepared}", app)
        prepared_id = json.loads(body)["id"]
        status, body = http(port, "POST", f"/v1/quotes/{prepared_id}/accept", {**app, "Idempotency-Key": "evening-1"},
                            json.dumps({"consent": {"terms_version": "2026-11", "immediate_start": False}}).encode())
        answer = json.loads(body)
        check(status == 200 and answer["credited_dealer"] == "DE-10002" and answer["attribution"] == "quoted",
              f"accepted in the app, it is credited to the site that made it (quoted): {body[:200]}")

        # 10. A quote past its expiry is refused.
        # Ten seconds ahead, in whole seconds (RFC 3339 without a fraction): room for a slow machine to make it.
        expires_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=10)
        expires = expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        status, body = http(port, "POST", "/v1/quotes", app,
                            json.dumps({"vin": VIN, "items": [{"feature": "MORE_POWER", "term": "P1M"}], "channel": "web", "expires_at": expires}).encode())
        short = json.loads(body)
        check(status == 201, f"a quote valid for ten seconds is made ({status} {body[:200]})")
        time.sleep(max(0.0, (expires_at - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 1.5)
        driver.get(f"http://127.0.0.1:{port}/dealer/quotes?code={short['code']}")
        check("Expired" in steps.text("#quote-state") and not driver.find_elements(By.ID, "accept-form"), "the page shows the expired quote without acceptance")
        status, body = http(port, "POST", f"/v1/quotes/{short['id']}/accept",
                            {"Authorization": f"Bearer {dealer2}", "Content-Type": "application/json", "Idempotency-Key": "late"},
                            json.dumps({"code": short["code"]}).encode())
        check(status == 409 and json.loads(body)["code"] == "quote_expired", "a quote past its expiry is refused (409 quote_expired)")
        check(time.monotonic() < deadline, "finished within the deadline")
    except Exception as error:  # a step that could not run (element never appeared, browser gone): say which page
        try:
            page = driver.current_url if driver is not None else "no browser"
        except Exception:
            page = "the browser did not answer"
        check(False, f"stopped by {type(error).__name__}: {str(error).strip()[:300]} (at {page})")
    finally:
        if driver is not None:
            driver.quit()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"{checks['passed']} passed, {checks['failed']} failed; screenshots in {folder}")
    sys.exit(1 if checks["failed"] else 0)


if __name__ == "__main__":
    main()
