#!/usr/bin/env python3
"""The back office at /admin end to end (run by .ci/run; loopback only, bounded in count and time).

An OpenID Connect provider we did not write (PyPI oidc-provider-mock) on loopback, `fod serve
--oidc-issuer … --oidc-client-id … --oidc-client-secret-file …`, and headless Chromium through
Selenium (as scripts/dealer-e2e.py):

1. Alice (group issuer) signs in through the provider, opens a VIN, revokes an entitlement with a
   reason and a comment: the API shows it revoked, the audit entry names Alice.
2. Alice proposes a bulk revocation of three VINs and cannot approve it; Bob (group issuer) signs in
   in another browser and approves: the three are revoked, in Bob's name.
3. A forged state, a replayed sign-in, and a person without a role are refused.
4. Erin (finance) reads the close checklist and rehearses the month's close; she proposes a
   commission plan version, cannot approve it; Frank (finance) approves: the plan has the version,
   the audit log and the event name Frank. The month is closed (`fod close --at` beside the
   service); the dealer objects to its credit note; Erin decides it from the page.
5. axe-core (axe-selenium-python) on every page: no serious or critical violation.
Screenshots of each page go to a temporary folder, or with --update-screenshots to docs/images/.
Prints `N passed, M failed` and exits non-zero on any failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from axe_selenium_python import Axe
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from e2e_support import FOD, ROOT, banner_keys, call, check, checks, chromium, free_port, wait_ready

VINS = ["WAUZZZF45RA000001", "WAUZZZFY7P2000002", "3VWD07AJ5EM388202"]
PEOPLE = [{"sub": "alice", "name": "Alice Example", "email": "alice@oem.test", "groups": ["issuer", "staff"]},
          {"sub": "bob", "name": "Bob Example", "email": "bob@oem.test", "groups": ["issuer", "auditor"]},
          {"sub": "carol", "name": "Carol Example", "email": "carol@oem.test", "groups": ["staff"]},
          {"sub": "dana", "name": "Dana Example", "email": "dana@oem.test", "groups": ["admin"]},
          {"sub": "erin", "name": "Erin Example", "email": "erin@oem.test", "groups": ["finance"]},
          {"sub": "frank", "name": "Frank Example", "email": "frank@oem.test", "groups": ["finance", "auditor"]}]


def gone(element):
    """Whether `element`'s page has been replaced: stale, or (Chromium, while the next page comes)
    "does not belong to the document", which Selenium's staleness_of does not take for stale."""
    try:
        element.is_enabled()
        return False
    except (StaleElementReferenceException, WebDriverException):
        return True


class Person:
    """One person's browser."""

    def __init__(self, port, folder):
        self.port, self.folder = port, folder
        self.driver = chromium(1024, 1100)
        self.wait = WebDriverWait(self.driver, 15)
        self.audited = set()

    def get(self, path):
        self.driver.get(f"http://127.0.0.1:{self.port}{path}")

    def element(self, how, what):
        return self.wait.until(expected_conditions.presence_of_element_located((how, what)))

    def click(self, how, what):
        """Clicks what leads to another page, and waits until the old page has gone (so that
        nothing is read from it afterwards)."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.element(how, what).click()
        self.wait.until(lambda _: gone(page))

    def sign_in(self, sub):
        self.get("/admin/login")
        self.click(By.ID, "sign-in")
        # The provider's page: pick the predefined person.
        self.click(By.CSS_SELECTOR, f"button[name='sub'][value='{sub}']")

    def accessible(self, name):
        """axe-core on the page: no serious or critical violation (each page once)."""
        if name in self.audited:
            return
        self.audited.add(name)
        axe = Axe(self.driver)
        axe.inject()
        results = axe.run()
        bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
        check(not bad, f"axe-core on the {name} page: no serious or critical violation ({[(v['id'], v['impact']) for v in bad]})")

    def shot(self, name):
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1024, max(600, min(height + 140, 2400)))
        self.driver.save_screenshot(os.path.join(self.folder, name))
        self.driver.set_window_size(1024, 1100)

    def quit(self):
        self.driver.quit()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def raw(url, cookie=None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--update-screenshots", action="store_true", help="write the screenshots to docs/images/")
    arguments = parser.parse_args()
    folder = os.path.join(ROOT, "docs", "images") if arguments.update_screenshots else tempfile.mkdtemp(prefix="fod-admin-shots-")
    work = tempfile.mkdtemp(prefix="fod-admin-e2e-")
    provider_port, port = free_port(), free_port()
    issuer_url = f"http://127.0.0.1:{provider_port}"
    provider_log = open(os.path.join(work, "provider.log"), "w")
    provider_arguments = [os.path.join(os.path.dirname(sys.executable), "oidc-provider-mock"), "--port", str(provider_port), "--require-nonce", "true"]
    for person in PEOPLE:
        provider_arguments += ["--user-claims", json.dumps(person)]
    provider = subprocess.Popen(provider_arguments, stdout=provider_log, stderr=provider_log)
    secret = os.path.join(work, "client-secret")
    with open(secret, "w") as f:
        f.write("e2e-" + os.urandom(8).hex() + "\n")
    os.chmod(secret, 0o600)
    log_path = os.path.join(work, "serve.log")
    log = open(log_path, "w")
    server = None
    people = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{issuer_url}/.well-known/openid-configuration", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        server = subprocess.Popen([FOD, "serve", "--dev", "--data", os.path.join(work, "data"), "--port", str(port), "--host", "127.0.0.1",
                                   "--public-url", f"http://127.0.0.1:{port}", "--oidc-issuer", issuer_url, "--oidc-client-id", "fod-admin",
                                   "--oidc-client-secret-file", secret, "--webhooks-allow-private"], cwd=ROOT, stdout=log, stderr=log)
        if not check(wait_ready(port), "fod serve starts with an identity provider"):
            print(open(log_path).read(), file=sys.stderr)
            return
        admin, dealer = banner_keys(log_path)[:2]
        sold = {}
        for index, vin in enumerate(VINS + ["WVWZZZ1KZAW394821"]):
            feature = "MATRIX_LED" if vin == "WVWZZZ1KZAW394821" else "NAV_PLUS"
            status, body, _ = call(port, "POST", "/v1/activations", dealer, {"vin": vin, "feature": feature, "term": "P1Y"}, idempotency=f"adm-{index}")
            check(status == 201, f"{feature} sold for {vin}")
            sold[vin] = json.loads(body).get("id")

        # Alice signs in through the provider and revokes one entitlement from a vehicle's page.
        alice = Person(port, folder)
        people.append(alice)
        alice.get("/admin/login")
        alice.element(By.ID, "sign-in")
        alice.accessible("sign-in")
        alice.shot("13-admin-sign-in.png")
        alice.sign_in("alice")
        check("Alice Example" in alice.element(By.CSS_SELECTOR, ".who").text, "Alice is signed in through the provider, by name")
        alice.accessible("home")
        alice.shot("14-admin-home.png")
        alice.element(By.ID, "vin").send_keys("WVWZZZ1KZAW394821")
        alice.click(By.ID, "open-vehicle")
        alice.element(By.ID, "revoke-form")
        alice.accessible("vehicle")
        alice.shot("15-admin-vehicle.png")
        Select(alice.element(By.ID, "reason")).select_by_value("fraud")
        alice.element(By.ID, "comment").send_keys("card reported stolen")
        alice.click(By.ID, "revoke")
        state = alice.element(By.CSS_SELECTOR, f"#entitlement-{sold['WVWZZZ1KZAW394821']} .state").text
        check(state.startswith("revoked") and "fraud: card reported stolen" in state, f"the page shows it revoked with the reason ({state})")
        status, body, _ = call(port, "GET", f"/v1/entitlements/{sold['WVWZZZ1KZAW394821']}", admin)
        check(status == 200 and json.loads(body).get("revoked_at"), "the API shows the entitlement revoked")

        def audit():
            status, body, _ = call(port, "GET", "/v1/audit?after=0&limit=1000", admin)
            return json.loads(body)["entries"] if status == 200 else []
        revoke = [e for e in audit() if e["action"] == "entitlement.revoke"]
        check(len(revoke) == 1 and "person:alice (Alice Example)" in revoke[0]["actor"], f"the audit entry names Alice ({revoke[:1]})")

        # Four eyes: Alice proposes, cannot approve; Bob approves.
        alice.get("/admin/proposals")
        alice.element(By.ID, "vins").send_keys("\n".join(VINS))
        Select(alice.element(By.ID, "reason")).select_by_value("recall")
        alice.element(By.ID, "comment").send_keys("recall 26-04: a fault in the LED controller")
        alice.click(By.ID, "propose")
        row = alice.element(By.CSS_SELECTOR, "tbody tr")
        proposal = row.get_attribute("id").removeprefix("proposal-")
        check(row.find_element(By.CSS_SELECTOR, ".status").text == "open", "the proposal of three vehicles is open")
        alice.accessible("proposals")
        alice.shot("16-admin-proposals.png")
        alice.click(By.ID, f"approve-{proposal}")
        code = alice.element(By.CSS_SELECTOR, "p small code").text
        check(code == "proposal_own", f"Alice cannot approve her own proposal ({code})")
        alice.accessible("error")
        for vin in VINS:
            status, body, _ = call(port, "GET", f"/v1/entitlements/{sold[vin]}", admin)
            check(status == 200 and not json.loads(body).get("revoked_at"), f"{vin} is not revoked before a second person approves")

        bob = Person(port, folder)
        people.append(bob)
        bob.sign_in("bob")
        check("Bob Example" in bob.element(By.CSS_SELECTOR, ".who").text, "Bob is signed in, in another browser")
        bob.get("/admin/proposals")
        bob.click(By.ID, f"approve-{proposal}")
        status_text = bob.element(By.CSS_SELECTOR, f"#proposal-{proposal} .status").text
        check(status_text.startswith("approved") and "revoked 3 entitlement(s) of 3 vehicle(s)" in status_text, f"Bob approves: {status_text}")
        bob.shot("17-admin-proposal-approved.png")
        for vin in VINS:
            status, body, _ = call(port, "GET", f"/v1/entitlements/{sold[vin]}", admin)
            check(status == 200 and json.loads(body).get("revoked_at"), f"{vin} is revoked")
        entries = audit()
        check(any(e["action"] == "proposal.create" and "person:alice" in e["actor"] for e in entries)
              and any(e["action"] == "proposal.approve" and "person:bob (Bob Example)" in e["actor"] for e in entries)
              and sum(1 for e in entries if e["action"] == "entitlement.revoke" and "person:bob" in e["actor"]) == 3,
              "the audit log names Alice for the proposal and Bob for the approval and the three revocations")

        # The vehicle's timeline and the audit log (Bob holds auditor too).
        alice.get("/admin/vehicles/WVWZZZ1KZAW394821")
        timeline = alice.element(By.ID, "timeline").text
        check("entitlement.revoke" in timeline and "Alice Example" in timeline and "activation.create" in timeline,
              "the vehicle's timeline has the sale and Alice's revocation")
        bob.get("/admin/audit?person=alice")
        entries = bob.element(By.ID, "entries").text
        check("proposal.create" in entries and "entitlement.revoke" in entries and "Bob" not in entries, "the audit log, searched by person: Alice's entries")
        bob.accessible("audit")
        bob.shot("18-admin-audit.png")
        bob.click(By.ID, "verify")
        notice = bob.element(By.ID, "notice").text
        check(notice.startswith("The chain of") and notice.endswith("entries verifies."), f"the audit chain verifies from the page ({notice})")
        alice.get("/admin/master-data")
        check("DE-10001" in alice.element(By.ID, "sites").text and "in force" in alice.element(By.ID, "catalog-versions").text,
              "the master data page: sites, catalog versions in force")
        alice.accessible("master data")
        alice.shot("20-admin-master-data.png")
        alice.get("/admin/audit")
        check(alice.element(By.CSS_SELECTOR, "p small code").text == "forbidden", "Alice (issuer only) may not read the audit log")

        # Webhooks: an endpoint nobody answers at is failing; Dana (admin) sees it and retries.
        dead = free_port()
        status, body, _ = call(port, "POST", "/v1/webhooks", admin, {"url": f"http://127.0.0.1:{dead}/hook"})
        check(status == 201, f"a webhook endpoint nobody answers at ({status})")
        endpoint = json.loads(body).get("id", "")
        status, _, _ = call(port, "POST", "/v1/activations", dealer, {"vin": "WAUZZZF45RA000001", "feature": "MATRIX_LED", "term": "P1Y"},
                            idempotency="adm-hook")
        check(status == 201, "a sale after the endpoint was added: an event to deliver")
        dana = Person(port, folder)
        people.append(dana)
        dana.sign_in("dana")
        deadline = time.monotonic() + 20
        health = ""
        while time.monotonic() < deadline:
            dana.get("/admin/webhooks")
            health = dana.element(By.CSS_SELECTOR, f"#endpoint-{endpoint} .health").text
            if health == "failing":
                break
            time.sleep(0.5)
        check(health == "failing", f"the webhooks page shows the endpoint failing ({health})")
        dana.accessible("webhooks")
        dana.shot("19-admin-webhooks.png")
        # The network team's form (Dana is admin): a salesperson added at a site.
        dana.get("/admin/master-data")
        dana.accessible("master data with its forms")
        Select(dana.element(By.ID, "sp-site")).select_by_value("DE-10001")
        dana.element(By.ID, "sp-id").send_keys("SP-E2E")
        dana.click(By.ID, "salesperson-submit")
        check("Salesperson SP-E2E is recorded." in dana.element(By.ID, "notice").text and "SP-E2E" in dana.element(By.ID, "sites").text,
              "Dana adds a salesperson at DE-10001 from the master data page")
        dana.get(f"/admin/webhooks/{endpoint}")
        check("retrying" in dana.element(By.ID, "deliveries").text, "its deliveries show the attempts being retried")
        dana.accessible("webhook")
        dana.click(By.ID, "retry")
        check("tried now" in dana.element(By.ID, "notice").text, "retry from the page")
        bob.get("/admin/webhooks")
        check(bob.element(By.CSS_SELECTOR, "p small code").text == "forbidden", "webhooks are the admin's: Bob may not see them")

        # Finance: the close checklist, a rehearsal, and a plan version with four eyes.
        erin = Person(port, folder)
        people.append(erin)
        erin.sign_in("erin")
        erin.get("/admin/periods")
        checklist = erin.element(By.ID, "checklist").text
        month = time.strftime("%Y-%m", time.gmtime())
        check(f"Closing {month}" in checklist and f"{month} cannot close yet." in checklist and "No objection is open." in checklist,
              f"the close checklist: the month has not ended, no objection is open ({checklist[:200]!r})")
        erin.accessible("periods")
        erin.shot("21-admin-periods.png")
        erin.click(By.ID, "rehearse")
        rehearsal = erin.element(By.ID, "main").text
        check("rehearsed" in rehearsal and "credit note(s)" in rehearsal and "DE-10001" in rehearsal and erin.driver.find_elements(By.ID, "rehearsal-ok"),
              "the close rehearsed: the month's credit notes so far, each made and checked, nothing stored")
        status, _, _ = call(port, "GET", f"/v1/periods/{month}", admin)
        check(status == 404, f"a rehearsal closes nothing ({status})")
        erin.accessible("rehearsal")
        erin.shot("22-admin-rehearsal.png")
        with open(os.path.join(ROOT, "fixtures", "revenue", "rules.json")) as f:
            version = json.load(f)
        version["version"] = "e2e-next-year"
        version["effective_from"] = f"{int(month[:4]) + 1}-01-01T00:00:00Z"
        erin.get("/admin/master-data")
        erin.element(By.ID, "document").send_keys(json.dumps(version, indent=1))
        erin.element(By.ID, "plan-comment").send_keys("the new year's network plan")
        erin.click(By.ID, "propose-plan-version")
        row = erin.element(By.CSS_SELECTOR, "tbody tr")
        plan_proposal = row.get_attribute("id").removeprefix("proposal-")
        check("plan_version" in row.text and row.find_element(By.CSS_SELECTOR, ".status").text == "open", "Erin proposes a plan version")
        erin.click(By.ID, f"approve-{plan_proposal}")
        check(erin.element(By.CSS_SELECTOR, "p small code").text == "proposal_own", "Erin cannot approve her own plan version")
        status, body, _ = call(port, "GET", "/v1/plans/network", admin)
        check(status == 200 and b"e2e-next-year" not in body, f"the version is not in the plan before a second person approves ({status})")
        frank = Person(port, folder)
        people.append(frank)
        frank.sign_in("frank")
        frank.get("/admin/proposals")
        frank.click(By.ID, f"approve-{plan_proposal}")
        status_text = frank.element(By.CSS_SELECTOR, f"#proposal-{plan_proposal} .status").text
        check(status_text.startswith("approved") and "version e2e-next-year in force from" in status_text, f"Frank approves: {status_text}")
        frank.shot("23-admin-plan-approved.png")
        status, body, _ = call(port, "GET", "/v1/plans/network", admin)
        check(status == 200 and b"e2e-next-year" in body, f"the plan has the version ({status})")
        check(any(e["action"] == "plan.version" and "person:frank (Frank Example)" in e["actor"] for e in audit()), "the audit log names Frank for the version")
        status, body, _ = call(port, "GET", "/v1/events?after=0&limit=1000", admin)
        versioned = [e for e in json.loads(body).get("events", []) if e["type"] == "plan.versioned"] if status == 200 else []
        check(versioned and "person:frank (Frank Example)" in versioned[-1].get("actor", ""), f"the event names Frank ({versioned[-1:]})")
        alice.get("/admin/periods")
        check(alice.element(By.CSS_SELECTOR, "p small code").text == "forbidden", "Alice (issuer only) may not see the periods")

        # The month closed (by `fod close` at the next month's second day, beside the running
        # service), an objection to its credit note, decided on the page.
        year, number = int(month[:4]), int(month[5:])
        following = f"{year + number // 12:04d}-{number % 12 + 1:02d}"
        closed = subprocess.run([FOD, "close", "--dev", "--data", os.path.join(work, "data"), "--period", month, "--first-period", month,
                                 "--at", f"{following}-02T00:00:00Z", "--rules", "fixtures/revenue/rules.json",
                                 "--issuer-profile", "fixtures/revenue/issuer.json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        check(closed.returncode == 0, f"{month} closed ({closed.stderr[-300:]})")
        status, body, _ = call(port, "GET", f"/v1/credit-notes?period={month}", admin)
        notes = json.loads(body).get("credit_notes", []) if status == 200 else []
        check(len(notes) == 1, f"one credit note for {month} ({status})")
        note = notes[0]["number"] if notes else ""
        status, body, _ = call(port, "POST", f"/v1/credit-notes/{note}/objections", dealer, {"reason": "one activation is missing"})
        check(status == 201, f"the dealer objects to {note} ({status})")
        objection = json.loads(body).get("id", "") if status == 201 else ""
        erin.get("/admin/periods")
        erin.element(By.ID, f"objection-{objection}")
        check("1 objection(s) are open." in erin.element(By.ID, "checklist").text, "the checklist names the open objection")
        erin.accessible("periods with an objection")
        erin.shot("24-admin-objection.png")
        erin.click(By.CSS_SELECTOR, f"#closed a[href='/admin/periods/{month}']")
        check(note in erin.element(By.ID, "credit-notes").text and "one activation is missing" in erin.element(By.ID, "period-objections").text,
              f"the closed month's page lists {note} and the objection to it")
        erin.accessible("closed month")
        erin.shot("25-admin-closed-month.png")
        erin.get(f"/admin/credit-notes/{note}")
        check(note in erin.element(By.TAG_NAME, "body").text and "Gutschrift" in erin.element(By.TAG_NAME, "body").text,
              f"the credit note {note} as a person reads it")
        erin.accessible("credit note")
        erin.get("/admin/periods")
        Select(erin.element(By.ID, f"decision-{objection}")).select_by_value("adjust")
        erin.element(By.ID, f"amount-{objection}").send_keys("12.50")
        erin.element(By.ID, f"reason-{objection}").send_keys("the activation of the 3rd is added")
        erin.click(By.ID, f"decide-{objection}")
        check(f"Objection {objection} is decided." in erin.element(By.ID, "notice").text, "Erin decides the objection from the page")
        status, body, _ = call(port, "GET", f"/v1/objections?credit_note={note}", admin)
        decided = json.loads(body).get("objections", [{}])[0] if status == 200 else {}
        check(decided.get("status") == "adjusted" and any(e["action"] == "objection.adjusted" and e["subject"] == objection
                                                          and "person:erin (Erin Example)" in e["actor"] for e in audit()),
              f"the objection is adjusted, in Erin's name ({decided.get('status')})")

        # Another version proposed; Frank sees what it would have paid in the closed month, and rejects it.
        version["version"] = "e2e-preview"
        version["effective_from"] = f"{int(month[:4]) + 1}-02-01T00:00:00Z"
        for rule in version.get("rules", []):
            rule["share_bps"] = 100
            rule.pop("fixed_minor", None)
        erin.get("/admin/master-data")
        erin.element(By.ID, "document").send_keys(json.dumps(version, indent=1))
        erin.element(By.ID, "plan-comment").send_keys("1 % everywhere")
        erin.click(By.ID, "propose-plan-version")
        preview_proposal = erin.element(By.CSS_SELECTOR, "tbody tr").get_attribute("id").removeprefix("proposal-")
        frank.get("/admin/proposals")
        frank.click(By.ID, f"preview-{preview_proposal}")
        table = frank.element(By.ID, "preview").text
        check(f"over {month}" in frank.element(By.TAG_NAME, "h1").text and "DE-10001" in table and "-" in table.splitlines()[-1].split()[-2],
              f"Frank sees what the version (1 %) would have paid in {month}: less than was paid ({table.splitlines()[-1]})")
        frank.accessible("plan preview")
        frank.shot("26-admin-plan-preview.png")
        frank.get("/admin/proposals")
        frank.click(By.ID, f"reject-{preview_proposal}")
        check(frank.element(By.CSS_SELECTOR, f"#proposal-{preview_proposal} .status").text.startswith("rejected"), "Frank rejects it")
        status, body, _ = call(port, "GET", "/v1/plans/network", admin)
        check(status == 200 and b"e2e-preview" not in body, "a rejected version is not in the plan")

        # Refusals on the way back from the provider.
        status, body, headers = raw(f"http://127.0.0.1:{port}/admin/oidc/start")
        pending = headers.get("Set-Cookie", "").split(";")[0]
        status, body, _ = raw(f"http://127.0.0.1:{port}/admin/oidc/callback?code=x&state=forged", cookie=pending)
        check(status == 401 and "oidc_state_mismatch" in body, f"a forged state is refused ({status})")
        carol = Person(port, folder)
        people.append(carol)
        carol.sign_in("carol")
        code = carol.element(By.CSS_SELECTOR, "p small code").text
        check(code == "oidc_no_role", f"a person without a role of the back office is refused ({code})")
        # A replayed sign-in: the provider's answer (code and state) sent a second time with the
        # pending sign-in's cookie, as a browser's history or an attacker with both would.
        status, _, headers = raw(f"http://127.0.0.1:{port}/admin/oidc/start")
        pending = headers.get("Set-Cookie", "").split(";")[0]
        request = urllib.request.Request(headers.get("Location", ""), method="POST", data=b"sub=bob",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            urllib.request.build_opener(NoRedirect).open(request, timeout=10)
            answer = ""
        except urllib.error.HTTPError as error:
            answer = error.headers.get("Location", "")
        first, _, _ = raw(answer, cookie=pending)
        again, body, _ = raw(answer, cookie=pending)
        check(first == 303 and again == 401 and "oidc_state_used" in body, f"a sign-in completes once; replayed, it is refused ({first}, {again})")
        check(server.poll() is None, "the service did not crash")
    finally:
        for person in people:
            person.quit()
        if server:
            server.terminate()
            server.wait(timeout=20)
        provider.terminate()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{checks['passed']} passed, {checks['failed']} failed; screenshots in {folder}")


if __name__ == "__main__":
    main()
    sys.exit(1 if checks["failed"] else 0)
