#!/usr/bin/env python3
"""The console's stories, clicked through in a real headless Chromium.

Debian's chromium and chromium-driver (one source version, so they never
drift), driven through WebDriver by Selenium pointed at /usr/bin/chromedriver:
nothing is downloaded. Each story runs against a fresh service (the binary
under test, on 127.0.0.1) over a fresh SQLite file or a fresh PostgreSQL
database, and checks what a person sees and what the API then says.

    python3 tests/console/stories.py --binary target/debug/goodwill --backend sqlite
    python3 tests/console/stories.py --backend postgres --screenshots docs/console

With --screenshots, every page the stories visit is saved as a PNG there (the
pictures in docs/console.md come from this); otherwise to target/console-shots.
"""

import argparse
import datetime
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        raise AssertionError(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Service:
    """One instance of the binary under test, over a database of its own."""

    def __init__(self, binary, backend, pg_base, workdir):
        self.binary = binary
        self.backend = backend
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.pg_db = None
        if backend == "sqlite":
            self.url = os.path.join(workdir, "console.db")
        else:
            self.pg_db = "gw_console_" + uuid.uuid4().hex[:12]
            subprocess.run(["psql", f"{pg_base}/postgres", "-qAtc", f"CREATE DATABASE {self.pg_db}"], check=True)
            self.url = f"{pg_base}/{self.pg_db}?sslmode=disable"
        self.pg_base = pg_base
        env = dict(os.environ, GOODWILL_LOG="warn", GOODWILL_DATABASE_URL=self.url,
                   GOODWILL_WEBHOOKS_ALLOW_LOOPBACK="true")
        for k in ["GOODWILL_JWT_SECRET", "GOODWILL_JWT_PUBLIC_KEY", "GOODWILL_PUBLIC_URL"]:
            env.pop(k, None)
        self.env = env
        self.err = open(os.path.join(workdir, "server.err"), "w+")
        self.proc = subprocess.Popen(
            [binary, "serve", "--bind", f"127.0.0.1:{self.port}"],
            env=env, stdout=subprocess.PIPE, stderr=self.err, text=True,
        )
        self.admin_token = self.proc.stdout.readline().strip()
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/readyz", timeout=1)
                break
            except Exception:
                time.sleep(0.05)
        else:
            raise RuntimeError("the service did not become ready")
        self.err.seek(0)
        found = re.search(r"(http://127\.0\.0\.1:\d+/console/sign-in/[A-Za-z0-9_-]+)", self.err.read())
        check(found is not None, "the first run prints a sign-in link")
        self.first_link = found.group(1)
        self.tenant = self.cli("tenant", "list").split("\t")[0]

    def cli(self, *args):
        out = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"goodwill {' '.join(args)}: {out.stderr}")
        return out.stdout.strip().splitlines()[-1]

    def token(self, sub, role, stores=()):
        args = ["token", "--tenant", self.tenant, "--sub", sub, "--role", role]
        for s in stores:
            args += ["--store", s]
        return self.cli(*args)

    def link(self, sub, role, stores=(), ttl="15m"):
        args = ["console", "link", "--tenant", self.tenant, "--sub", sub, "--role", role, "--ttl", ttl,
                "--bind", f"127.0.0.1:{self.port}"]
        for s in stores:
            args += ["--store", s]
        return self.cli(*args)

    def api(self, method, path, token, body=None, key=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if key or (method == "POST" and body is not None):
            req.add_header("Idempotency-Key", key or uuid.uuid4().hex)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def sql(self, statement):
        """Runs a statement on the service's database (test set-up only)."""
        if self.backend == "sqlite":
            import sqlite3
            con = sqlite3.connect(self.url)
            con.execute(statement)
            con.commit()
            con.close()
        else:
            subprocess.run(["psql", f"{self.pg_base}/{self.pg_db}", "-qAtc", statement], check=True)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.pg_db:
            subprocess.run(["psql", f"{self.pg_base}/postgres", "-qAtc",
                            f"DROP DATABASE IF EXISTS {self.pg_db} WITH (FORCE)"], check=False)


class Person:
    """Someone at a browser: a Chromium of their own (own profile, own cookies)."""

    def __init__(self, name, service, shots, width=1280):
        self.name = name
        self.service = service
        self.shots = shots
        self.profile = tempfile.mkdtemp(prefix="goodwill-chrome-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--lang=en-US", f"--user-data-dir={self.profile}"]:
            opts.add_argument(a)
        self.d = webdriver.Chrome(service=DriverService("/usr/bin/chromedriver"), options=opts)
        self.d.set_page_load_timeout(30)
        self.width = width
        self.d.set_window_size(width, 900)

    def go(self, path):
        self.d.get(path if path.startswith("http") else self.service.base + path)
        return self

    def text(self):
        for _ in range(5):
            try:
                return self.d.find_element(By.TAG_NAME, "body").text
            except WebDriverException:
                time.sleep(0.1)
        return self.d.find_element(By.TAG_NAME, "body").text

    def path(self):
        return self.d.current_url.replace(self.service.base, "")

    def sees(self, words):
        check(words in self.text(), f"{self.name} sees {words!r} on {self.path()}:\n{self.text()[:2000]}")

    def does_not_see(self, words):
        check(words not in self.text(), f"{self.name} does not see {words!r} on {self.path()}")

    def fill(self, field_id, value):
        el = self.d.find_element(By.ID, field_id)
        el.clear()
        el.send_keys(value)

    def choose(self, field_id, label_part):
        sel = self.d.find_element(By.ID, field_id)
        for opt in sel.find_elements(By.TAG_NAME, "option"):
            if label_part in opt.text:
                opt.click()
                return
        raise AssertionError(f"no option {label_part!r} in #{field_id}")

    def tick(self, label_part):
        for lab in self.d.find_elements(By.CSS_SELECTOR, "fieldset.checks label"):
            if label_part in lab.text:
                box = lab.find_element(By.TAG_NAME, "input")
                if not box.is_selected():
                    box.click()
                return
        raise AssertionError(f"no checkbox {label_part!r}")

    def _navigates(self, el):
        # Clicks and waits for the next page: the old one goes stale.
        old = self.d.find_element(By.TAG_NAME, "html")
        el.click()

        def gone(_):
            # Chromium may report a replaced document's node either as stale
            # or as "not in the document": both mean the next page is here.
            try:
                old.is_enabled()
                return False
            except WebDriverException:
                return True

        WebDriverWait(self.d, 20).until(gone)
        WebDriverWait(self.d, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def press(self, label, within=None):
        scope = within or self.d
        for b in scope.find_elements(By.CSS_SELECTOR, "button, a.button"):
            if b.text.strip() == label:
                self._navigates(b)
                return self
        raise AssertionError(f"{self.name}: no button {label!r} on {self.path()}")

    def follow(self, text):
        self._navigates(self.d.find_element(By.PARTIAL_LINK_TEXT, text))
        return self

    def shot(self, name):
        h = self.d.execute_script("return document.documentElement.scrollHeight")
        self.d.set_window_size(self.width, min(max(h, 600) + 40, 5000))
        self.d.save_screenshot(os.path.join(self.shots, f"{name}.png"))
        self.d.set_window_size(self.width, 900)

    def sign_in(self, link):
        self.go(link)
        self.sees("Sign in")
        self.press("Sign in")
        check("/console/" in self.path() and "sign-in" not in self.path(), f"{self.name} is in: {self.path()}")
        return self

    def quit(self):
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def history(service, pos_token, store, customers):
    """Two years of sales for the customers (so the value model has data)."""
    rnd = random.Random(7)
    today = datetime.date.today()
    sales = []
    for i, c in enumerate(customers):
        # The first customer (Dana) is a regular: every few weeks, to this month.
        visits = 40 if i == 0 else 2 + rnd.randrange(10)
        day = today - datetime.timedelta(days=700 - rnd.randrange(60))
        for v in range(visits):
            day = day + datetime.timedelta(days=rnd.randrange(14, 24) if i == 0 else rnd.randrange(10, 90))
            if day >= today:
                break
            sales.append({"customer_id": c, "store_id": store, "sale_ref": f"S-{i}-{v}",
                          "occurred_at": day.isoformat(), "amount": {"amount": f"{rnd.randrange(20, 400)}.00", "currency": "USD"}})
    for i in range(0, len(sales), 500):
        st, body = service.api("POST", "/v1/sales/batch", pos_token, {"sales": sales[i:i + 500]})
        check(st == 200, f"sales batch: {st} {body}")


def stories(service, shots):
    s = service
    admin = s.admin_token
    st, a = s.api("POST", "/v1/stores", admin, {"name": "Main Street", "code": "MS", "currency": "USD", "time_zone": "America/New_York"})
    check(st == 201, f"store: {a}")
    st, b = s.api("POST", "/v1/stores", admin, {"name": "Harbour", "code": "HB", "currency": "USD", "time_zone": "Europe/London"})
    A, B = a["id"], b["id"]
    for name, sub, store in [("Amy Clerk", "clerk-amy", A), ("Bo Manager", "mgr-bo", A), ("Cy Manager", "mgr-cy", B)]:
        st, _ = s.api("POST", "/v1/staff", admin, {"name": name, "store_ids": [store], "subject": sub})
        check(st == 201, "staff")
    st, dana = s.api("POST", "/v1/customers", admin, {"external_ref": "C-1001", "name": "Dana Whitfield", "email": "dana@example.com", "home_store_id": A})
    check(st == 201, f"customer: {dana}")
    others = []
    for i in range(59):
        st, c = s.api("POST", "/v1/customers", admin, {"external_ref": f"C-{2000 + i}", "name": f"Customer {2000 + i}"})
        others.append(c["id"])
    history(s, s.token("till-1", "pos", [A]), A, [dana["id"]] + others)
    st, model = s.api("POST", "/v1/value/model/fit", s.token("fin", "finance"), {})
    check(st == 201, f"value fit: {st} {model}")

    people = []
    try:
        # --- Signing in -----------------------------------------------------
        boss = Person("admin", s, shots)
        people.append(boss)
        boss.go(s.first_link)
        boss.sees("signs you in as admin (admin)")
        boss.shot("sign-in-link")
        boss.press("Sign in")
        boss.sees("Approvals")
        boss.go("/console/users")
        boss.sees("Open sessions")
        boss.shot("users")
        stranger = Person("stranger", s, shots)
        people.append(stranger)
        stranger.go(s.first_link)
        stranger.sees("used already")
        late = s.link("late", "clerk", [A], ttl="1s")
        time.sleep(2.1)
        stranger.go(late)
        stranger.sees("expired")
        stranger.go("/console/customers")
        check("/console/sign-in" in stranger.path(), "without a session: the sign-in page")

        # --- S1: "pay us tomorrow" at closing time ---------------------------
        amy = Person("Amy (clerk)", s, shots)
        people.append(amy)
        amy.sign_in(s.link("clerk-amy", "clerk", [A]))
        amy.does_not_see("Approvals")
        amy.fill("q", "Dana")
        amy.press("Search")
        amy.shot("customers-search")
        amy.follow("Dana Whitfield")
        amy.sees("C-1001")
        amy.press("Record goodwill")
        amy.sees("Goods given on a promise to pay later")
        # A bad amount is named next to its field, and what was typed stays.
        amy.fill("amount", "10.955")
        amy.fill("story", "Tills sealed for the night; remedy for her child. Pay tomorrow.")
        amy.press("Record deferred payment")
        err = amy.d.find_element(By.ID, "amount-err").text
        check("decimal" in err or "2" in err, f"the amount's own error: {err!r}")
        check("remedy for her child" in amy.d.find_element(By.ID, "story").get_attribute("value"), "the story stays")
        amy.shot("record-error")
        # A double submit acts once: the same form sent twice at once.
        amy.fill("amount", "10.95")
        st, before = s.api("GET", f"/v1/gestures?customer_id={dana['id']}", admin)
        amy.d.execute_script("""
            const f = document.querySelector('form.stack');
            const body = new URLSearchParams(new FormData(f));
            window.__sent = Promise.all([
              fetch(f.action, {method: 'POST', body, credentials: 'same-origin', redirect: 'manual'}),
              fetch(f.action, {method: 'POST', body, credentials: 'same-origin', redirect: 'manual'}),
            ]).then(rs => rs.map(r => r.type + ':' + r.status));
        """)
        outcome = amy.d.execute_async_script("window.__sent.then(arguments[0]);")
        check(len(outcome) == 2, f"both sent: {outcome}")
        st, after = s.api("GET", f"/v1/gestures?customer_id={dana['id']}", admin)
        check(len(after["data"]) == len(before["data"]) + 1, f"one gesture for two submits: {len(before['data'])} -> {len(after['data'])}")
        promise = after["data"][-1]
        check(promise["amount"]["amount"] == "10.95" and promise["status"] == "approved", f"the promise: {promise}")
        amy.go(f"/console/customers/{dana['id']}?recorded={promise['id']}")
        amy.sees("Deferred payment $10.95 at MS · Main Street is recorded: open.")
        amy.sees("Tills sealed for the night")
        amy.shot("customer")
        # The next morning she pays.
        row = next(r for r in amy.d.find_elements(By.CSS_SELECTOR, "table tr") if "$10.95" in r.text and "Record payment" in r.text)
        row.find_element(By.NAME, "amount").clear()
        row.find_element(By.NAME, "amount").send_keys("10.95")
        amy.press("Record payment", within=row)
        amy.sees("Payment of $10.95 recorded.")
        st, g = s.api("GET", f"/v1/gestures/{promise['id']}", admin)
        check(g["status"] == "settled", f"settled: {g['status']}")

        # --- S2: the forgotten birthday display --------------------------------
        bo = Person("Bo (manager)", s, shots)
        people.append(bo)
        bo.sign_in(s.link("mgr-bo", "manager", [A]))
        bo.go(f"/console/customers/{dana['id']}/record?kind=deferred_payment")
        bo.fill("amount", "250.00")
        bo.fill("story", "Balance of the TV after her deposit.")
        bo.press("Record deferred payment")
        bo.sees("Deferred payment $250.00")
        bo.go("/console/incidents/new")
        bo.choose("cause", "Staff error")
        bo.tick("Amy Clerk")
        bo.fill("description", "We forgot the birthday display she arranged for her husband.")
        bo.press("Record the incident")
        bo.sees("We forgot the birthday display")
        bo.shot("incident")
        amy.go(f"/console/customers/{dana['id']}/record?kind=balance_waiver")
        amy.fill("amount", "250.00")
        amy.tick("$250.00 owed")
        amy.choose("reason_code", "Staff error")
        amy.choose("incident_id", "Staff error")
        amy.fill("story", "We forgot her birthday display; the balance is waived.")
        amy.shot("record-waiver")
        amy.press("Record balance waiver")
        amy.sees("is waiting for approval by a manager or finance or admin")
        # Another store's manager sees none of it.
        cy = Person("Cy (manager, other store)", s, shots)
        people.append(cy)
        cy.sign_in(s.link("mgr-cy", "manager", [B]))
        cy.go("/console/approvals")
        cy.sees("Nothing is waiting for you.")
        # The clerk has no queue, and a forged decision changes nothing.
        st, pending = s.api("GET", "/v1/approvals", s.token("mgr-bo", "manager", [A]))
        waiver = pending["data"][0]["gesture"]
        amy.go("/console/customers")
        amy.d.execute_script("""
            const f = document.createElement('form');
            f.method = 'post'; f.action = '/console/approvals/' + arguments[0] + '/approve';
            for (const [k, v] of [['csrf', arguments[1]], ['idempotency_key', 'forged-1']]) {
              const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
            }
            document.body.appendChild(f); f.submit();
        """, waiver["id"], amy.d.find_element(By.NAME, "csrf").get_attribute("value"))
        WebDriverWait(amy.d, 20).until(lambda d: "/approve" in d.current_url)
        amy.sees("Not allowed")
        st, g = s.api("GET", f"/v1/gestures/{waiver['id']}", admin)
        check(g["status"] == "pending_approval", "the forged approval changed nothing")
        # The manager decides, with the customer's standing and value beside it.
        bo.go("/console/approvals")
        bo.sees("We forgot her birthday display")
        bo.sees("Dana Whitfield")
        bo.sees("Lifetime value")
        bo.sees("Still active (P)")
        bo.sees("Above the requester's self-grant limit")
        # What waits for finance at her store is shown, read only, below.
        amy_token = s.token("clerk-amy", "clerk", [A])
        st, big = s.api("POST", f"/v1/customers/{dana['id']}/gestures", amy_token,
                        {"kind": "service_recovery", "store_id": A, "reason_code": "service_failure",
                         "story": "Recreated the whole evening", "amount": {"amount": "1500.00", "currency": "USD"}})
        check(st == 201 and big["status"] == "pending_approval", "a request above the manager's tier")
        bo.go("/console/approvals")
        bo.sees("Waiting for someone else")
        bo.sees("finance or admin")
        check(f"/console/approvals/{big['id']}/approve" not in bo.d.page_source,
              "what waits for finance is not offered to the manager")
        bo.shot("approvals")
        st, _ = s.api("POST", f"/v1/gestures/{big['id']}/cancel", amy_token, {"note": "Entered for the screenshot"})
        check(st == 200, "the requester withdraws it")
        bo.go("/console/approvals")
        bo.press("Approve")
        bo.sees("You approved the Balance waiver of $250.00 for Dana Whitfield.")
        bo.follow("Customers")
        bo.go(f"/console/customers/{dana['id']}")
        bo.sees("Balance waiver")
        bo.sees("No open promises.")  # the waiver gave the promise up
        bo.sees("written off")
        st, g = s.api("GET", f"/v1/gestures/{waiver['id']}", admin)
        check(g["status"] == "approved", "the waiver is in effect")
        bo.shot("customer-after-waiver")
        bo.go("/console/incidents")
        bo.follow("Staff error")
        bo.sees("Balance waiver")
        bo.go("/console/recognitions")
        bo.sees("Recognitions")
        # On a phone.
        phone = Person("Bo on a phone", s, shots, width=360)
        people.append(phone)
        phone.sign_in(s.link("mgr-bo", "manager", [A]))
        st, _ = s.api("POST", f"/v1/customers/{dana['id']}/gestures", s.token("clerk-amy", "clerk", [A]),
                      {"kind": "store_credit", "store_id": A, "reason_code": "loyalty", "story": "Ten years a customer",
                       "amount": {"amount": "40.00", "currency": "USD"}})
        check(st == 201, "a pending store credit")
        phone.go("/console/approvals")
        phone.sees("Ten years a customer")
        overflow = phone.d.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        check(not overflow, "the queue fits a 360 px screen")
        phone.shot("approvals-phone")
        phone.go(f"/console/customers/{dana['id']}")
        overflow = phone.d.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        check(not overflow, "the customer's page fits a 360 px screen")
        phone.shot("customer-phone")

        finance_and_admin(s, shots, people, {"A": A, "B": B, "dana": dana, "bo": bo, "amy": amy, "admin": boss})

        # --- Signing out ends the session everywhere --------------------------
        kept = amy.d.get_cookie("goodwill_session")
        check(kept is not None and kept.get("httpOnly") and kept.get("sameSite") == "Strict", f"cookie flags: {kept}")
        amy.go("/console/customers")
        amy.press("Sign out")
        amy.sees("You are signed out.")
        amy.go("/console/customers")
        check("/console/sign-in" in amy.path(), "signed out: the sign-in page")
        amy.d.add_cookie({"name": kept["name"], "value": kept["value"], "path": "/console"})
        amy.go("/console/customers")
        check("/console/sign-in" in amy.path(), "the old cookie opens nothing")
        amy.shot("signed-out")
    finally:
        for p in people:
            p.quit()


def fetch_text(person, path):
    """What the signed-in browser gets for `path` (a download, read as text)."""
    return person.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'})
          .then(r => r.text().then(t => done([r.status, r.headers.get('content-type') || '', t])))
          .catch(e => done([0, '', String(e)]));
    """, path)


def finance_and_admin(s, shots, people, w):
    """Part 2: finance finishes S2, reviews, closes a month; an admin changes
    the policy; an auditor reads everything and changes nothing."""
    import csv as csvmod
    import io
    A, B, dana, bo, amy, admin = w["A"], w["B"], w["dana"], w["bo"], w["amy"], w["admin"]
    # S2, finished: the $500 apology evening for the same incident, above the
    # manager's limit, waits for finance.
    bo.go(f"/console/customers/{dana['id']}/record?kind=service_recovery")
    bo.fill("amount", "500.00")
    bo.choose("reason_code", "Staff error")
    bo.choose("incident_id", "Staff error")
    bo.fill("story", "We recreated the birthday evening we spoiled.")
    bo.press("Record service recovery")
    bo.sees("is waiting for approval by a finance or admin")
    fay = Person("Fay (finance)", s, shots)
    people.append(fay)
    fay.sign_in(s.link("fin-fay", "finance"))
    fay.go("/console/approvals")
    fay.sees("We recreated the birthday evening")
    card = next(c for c in fay.d.find_elements(By.CSS_SELECTOR, "article.queue-item") if "birthday evening" in c.text)
    fay.press("Approve", within=card)
    fay.sees("You approved the Service recovery of $500.00 for Dana Whitfield.")
    # The $250 waiver, reviewed.
    fay.go("/console/finance/write-offs")
    fay.sees("We forgot her birthday display")
    fay.shot("write-offs")
    card = next(c for c in fay.d.find_elements(By.CSS_SELECTOR, "article.queue-item") if "birthday display" in c.text)
    card.find_element(By.TAG_NAME, "textarea").send_keys("Store's own mistake: approved by the manager, fine.")
    fay.press("Mark reviewed", within=card)
    fay.sees("1 write-off reviewed.")
    # The goodwill report by incident cause: 750 of goodwill, 250 written off.
    fay.go("/console/finance/reports?group=incident_cause")
    row = next(r for r in fay.d.find_elements(By.CSS_SELECTOR, "table tbody tr") if r.text.startswith("Staff error"))
    check("$750.00" in row.text and "$250.00" in row.text, f"the report's staff_error row: {row.text!r}")
    fay.shot("report")
    status, ctype, body = fetch_text(fay, "/console/finance/reports.csv?group=incident_cause")
    check(status == 200 and "text/csv" in ctype, f"the report's CSV: {status} {ctype}")
    rows = list(csvmod.DictReader(io.StringIO(body)))
    staff_error = [r for r in rows if r["incident_cause"] == "staff_error"]
    check(staff_error and staff_error[0]["value"] == "750.00" and staff_error[0]["written_off"] == "250.00",
          f"the CSV is the same view: {staff_error}")
    # A batch review of three write-offs.
    clerk = s.token("clerk-amy", "clerk", [A])
    due = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    for i in range(3):
        st, c = s.api("POST", "/v1/customers", s.admin_token, {"external_ref": f"C-B{i}", "name": f"Batch customer {i}"})
        s.api("POST", f"/v1/customers/{c['id']}/gestures", clerk, {"kind": "deferred_payment", "store_id": A,
              "reason_code": "closing_time", "story": "till closed", "amount": {"amount": f"{10 + i}.00", "currency": "USD"}, "due_on": due})
        st, g = s.api("POST", f"/v1/customers/{c['id']}/gestures", clerk, {"kind": "balance_waiver", "store_id": A,
                     "reason_code": "goodwill", "story": f"small balance {i} waived", "amount": {"amount": f"{10 + i}.00", "currency": "USD"}})
        check(st == 201 and g["status"] == "approved", f"a write-off: {g}")
    fay.go("/console/finance/write-offs")
    boxes = fay.d.find_elements(By.CSS_SELECTOR, "input[name=write_off_id]")
    check(len(boxes) == 3, f"three to review: {len(boxes)}")
    fay.d.find_element(By.ID, "select-all").click()
    check(all(b.is_selected() for b in boxes), "tick all ticks them all")
    fay.fill("batch-note", "Small balances: policy allows.")
    fay.press("Mark ticked reviewed")
    fay.sees("3 write-offs reviewed.")
    # The aging chart's bars stand as the API's figures.
    mgr_b = s.token("mgr-cy", "manager", [B])
    st, c = s.api("POST", "/v1/customers", s.admin_token, {"external_ref": "C-H1", "name": "Harbour customer"})
    s.api("POST", f"/v1/customers/{c['id']}/gestures", mgr_b, {"kind": "deferred_payment", "store_id": B, "reason_code": "closing_time",
          "story": "pay on Friday", "amount": {"amount": "90.00", "currency": "USD"}, "due_on": due})
    st, c2 = s.api("POST", "/v1/customers", s.admin_token, {"external_ref": "C-M1", "name": "Main Street customer"})
    s.api("POST", f"/v1/customers/{c2['id']}/gestures", clerk, {"kind": "deferred_payment", "store_id": A, "reason_code": "closing_time",
          "story": "pay next week", "amount": {"amount": "22.50", "currency": "USD"}, "due_on": due})
    st, aging = s.api("GET", "/v1/finance/aging", s.token("fin-fay", "finance"))
    api = {r["store_id"]: float(r["buckets"]["not_yet_due"]["amount"]["amount"]) for r in aging["stores"]}
    fay.go("/console/finance/aging")
    fay.shot("aging")
    bars = fay.d.execute_script("""
        return Array.from(document.querySelectorAll('svg.chart rect[fill="#0072B2"]'))
          .map(r => [+r.getAttribute('height'), +r.getAttribute('width')]);
    """)
    check(all(w > 0 and h > 0 for h, w in bars), f"every bar is drawn: {bars}")
    heights = [h for h, _ in bars]
    amounts = [api[x] for x in (A, B) if x in api]
    order = sorted(api.items(), key=lambda kv: kv[0])
    check(len(heights) == len(api), f"one bar per store: {heights} for {api}")
    ratio_api = order[1][1] / order[0][1] if len(order) == 2 else 1
    ratio_svg = heights[1] / heights[0] if len(heights) == 2 else 1
    table_order = [t.text.split(" · ")[0] for t in fay.d.find_elements(By.CSS_SELECTOR, "section.card table tbody tr td:first-child")][:2]
    check(abs(ratio_api - ratio_svg) / ratio_api < 0.03 or abs(1 / ratio_api - ratio_svg) * ratio_api < 0.03,
          f"bars {heights} against the API's {order} ({table_order}, {amounts})")
    fay.follow("$90.00")
    fay.sees("Harbour customer")
    fay.shot("aging-promises")
    # A forced close of last month, with a reason; then a gesture dated in it
    # is refused where the clerk can see it.
    today = datetime.date.today()
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    # The tenant has been with us for a while (a new one could not date
    # anything before the day it began).
    began = (today - datetime.timedelta(days=90)).isoformat() + " 00:00:00"
    s.sql(f"UPDATE tenants SET created_at = '{began}'")
    month = last_month_end.strftime("%Y-%m")
    st, pol = s.api("GET", "/v1/policy", s.admin_token)
    p = pol["policy"]
    p["back_dating"] = {"window_days": 40}
    st, prop = s.api("PUT", "/v1/policy", s.admin_token, p)
    check(st == 202 and prop["state"] == "pending", f"a wider back-dating window waits for a second admin: {st}")
    ines_token = s.token("admin-ines", "admin")
    st, _ = s.api("POST", f"/v1/policy/proposals/{prop['id']}/approve", ines_token, {"note": "month-end catch-up"})
    check(st == 200, "a second admin puts the 40-day back-dating window in force")
    st, g = s.api("POST", f"/v1/customers/{dana['id']}/gestures", clerk, {"kind": "store_credit", "store_id": A, "reason_code": "loyalty",
                 "story": "back-dated credit", "amount": {"amount": "5.00", "currency": "USD"}, "effective_on": last_month_end.isoformat()})
    check(st == 201, f"a back-dated gesture: {g}")
    st, c = s.api("POST", "/v1/customers", s.admin_token, {"external_ref": "C-LM", "name": "Last month customer"})
    s.api("POST", f"/v1/customers/{c['id']}/gestures", clerk, {"kind": "deferred_payment", "store_id": A, "reason_code": "closing_time",
          "story": "till closed", "amount": {"amount": "8.00", "currency": "USD"}, "due_on": today.isoformat(), "effective_on": last_month_end.isoformat()})
    s.api("POST", f"/v1/customers/{c['id']}/gestures", clerk, {"kind": "balance_waiver", "store_id": A, "reason_code": "goodwill",
          "story": "waived last month", "amount": {"amount": "8.00", "currency": "USD"}, "effective_on": last_month_end.isoformat()})
    fay.go("/console/finance/periods")
    fay.shot("periods")
    fay.follow(month)
    fay.sees("not reviewed yet")
    fay.d.find_element(By.NAME, "force").click()
    fay.fill("reason", "Month-end deadline: the waiver is reviewed next week.")
    fay.press(f"Close {month}")
    fay.sees("closed")
    fay.sees("Month-end deadline")
    fay.sees("balanced")
    fay.shot("period")
    status, ctype, body = fetch_text(fay, f"/console/finance/periods/{month}/journal.csv")
    check(status == 200 and "text/csv" in ctype, f"the journal: {status}")
    deb = cred = 0
    for r in csvmod.DictReader(io.StringIO(body)):
        deb += round(float(r["debit"] or 0) * 100)
        cred += round(float(r["credit"] or 0) * 100)
    check(deb > 0 and deb == cred, f"the journal balances: {deb} vs {cred}")
    amy.go(f"/console/customers/{dana['id']}/record?kind=store_credit")
    amy.fill("amount", "5.00")
    amy.fill("story", "One more, dated last month.")
    amy.d.execute_script("document.getElementById('effective_on').value = arguments[0];", last_month_end.isoformat())
    amy.press("Record store credit")
    err = amy.d.find_element(By.CSS_SELECTOR, ".notice.bad, #effective_on-err").text
    check("closed" in err, f"the closed month is said: {err!r}")
    amy.shot("record-closed-month")
    # Value, audit.
    fay.go("/console/value")
    fay.sees("Customers by P(still active)")
    fay.shot("value")
    fay.go(f"/console/audit?entity_type=gesture&entity_id={g['id']}")
    fay.sees("gesture.requested")
    fay.shot("audit")
    fay.go("/console/audit/verify")
    fay.sees("Intact")
    # An admin changes the policy from the form.
    admin.go("/console/admin")
    admin.shot("admin")
    admin.go("/console/admin/policy")
    admin.fill("limit_any_0", "5")
    admin.press("Preview")
    admin.sees("would have gone another way")
    admin.shot("policy-preview")
    admin.press("Save as version 3")
    admin.sees("Version 3 saved")
    st, g = s.api("POST", f"/v1/customers/{dana['id']}/gestures", clerk, {"kind": "deferred_payment", "store_id": A,
                 "reason_code": "closing_time", "story": "ten dollars after the change", "amount": {"amount": "10.00", "currency": "USD"}, "due_on": due})
    check(g["status"] == "pending_approval", f"the next request is decided by version 3: {g['status']}")
    admin.follow("What changed")
    admin.go("/console/admin/policy/diff?a=2&b=3")
    admin.sees("self_grant_limits[0].limit.any")
    admin.shot("policy-diff")
    # Raising the ceiling lets more be granted alone: a second admin decides.
    admin.go("/console/admin/policy")
    admin.fill("ceiling", "2500")
    admin.press("Save as version 4")
    admin.sees("Saved as a proposal")
    admin.sees("It raises the self-grant ceiling from 1000.00 USD to 2500.00 USD")
    admin.sees("You proposed this: another administrator approves it.")
    admin.shot("policy-proposal")
    st, pol = s.api("GET", "/v1/policy", s.admin_token)
    check(pol["version"] == 3, f"a proposal decides nothing: version {pol['version']}")
    ines = Person("Ines (second admin)", s, shots)
    people.append(ines)
    ines.sign_in(s.link("admin-ines", "admin"))
    ines.go("/console/admin/policy")
    ines.sees("Proposed by admin")
    ines.press("Approve and put in force")
    ines.sees("Proposal approved: it is version 4")
    st, pol = s.api("GET", "/v1/policy", s.admin_token)
    check(pol["version"] == 4 and pol["policy"]["self_grant_ceiling"] == {"any": "2500"}, "approved, the ceiling is in force")
    admin.go("/console/admin/events")
    admin.shot("events")
    admin.go("/console/admin/ledger")
    admin.sees("The ledger is clean.")
    # Webhooks: the admin registers the till's receiver, sees its secret once,
    # sees a delivery arrive and sends it again.
    import http.server
    import threading
    got = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(self.rfile.read(int(self.headers.get("content-length", "0"))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass
    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    admin.go("/console/admin/webhooks")
    admin.fill("url", "https://10.0.0.7/hook")
    admin.press("Register")
    admin.sees("a private address")
    admin.fill("url", f"http://127.0.0.1:{hooks.server_address[1]}/hook")
    admin.fill("description", "Till back office")
    admin.fill("event_types", "customer.created, gesture.*")
    admin.press("Register")
    admin.sees("copy it now")
    secret = admin.d.find_element(By.ID, "secret").text
    check(secret.startswith("whsec_"), f"the secret is shown once: {secret!r}")
    admin.shot("webhooks")
    admin.go("/console/admin/webhooks")
    admin.does_not_see(secret)
    st, _ = s.api("POST", "/v1/customers", s.admin_token, {"external_ref": "C-HOOK", "name": "Hooked customer"})
    check(st == 201, "a customer for the webhook")
    deadline = time.time() + 20
    while not got and time.time() < deadline:
        time.sleep(0.1)
    check(got and json.loads(got[0])["type"] == "customer.created", f"the receiver got the event: {got[:1]}")
    admin.follow("127.0.0.1")
    admin.sees("customer.created")
    admin.sees("delivered")
    admin.press("Send again")
    admin.sees("queued again")
    deadline = time.time() + 20
    while len(got) < 2 and time.time() < deadline:
        time.sleep(0.1)
    check(len(got) == 2 and got[1] == got[0], "sent again, the same body")
    admin.go(admin.path())
    admin.shot("webhook")
    hooks.shutdown()
    # An auditor sees everything and changes nothing.
    aud = Person("Ann (auditor)", s, shots)
    people.append(aud)
    aud.sign_in(s.link("aud-ann", "auditor"))
    for path in ["/console/finance/write-offs", "/console/finance/aging", "/console/finance/reports", "/console/finance/periods",
                 f"/console/finance/periods/{month}", "/console/value", "/console/audit/verify", "/console/admin/policy",
                 "/console/admin/events", "/console/admin/ledger", "/console/admin/webhooks",
                 f"/console/customers/{dana['id']}"]:
        aud.go(path)
        aud.does_not_see("Something went wrong")
        aud.does_not_see("Not allowed")
        check(not aud.d.find_elements(By.CSS_SELECTOR, "form[method=post]:not([action='/console/sign-out'])"),
              f"the auditor is offered no form that changes anything on {path}")
    st, before = s.api("GET", "/v1/policy", s.admin_token)
    aud.go("/console/admin/policy")
    aud.d.execute_script("""
        const f = document.createElement('form'); f.method = 'post'; f.action = '/console/finance/periods/' + arguments[0] + '/reopen';
        for (const [k, v] of [['csrf', arguments[1]], ['idempotency_key', 'aud-1'], ['reason', 'x']]) {
          const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
        }
        document.body.appendChild(f); f.submit();
    """, month, aud.d.find_element(By.NAME, "csrf").get_attribute("value"))
    WebDriverWait(aud.d, 20).until(lambda d: "/reopen" in d.current_url)
    aud.sees("Not allowed")
    st, period = s.api("GET", f"/v1/finance/periods/{month}", s.admin_token)
    check(period["state"] == "closed", "the auditor's forged reopen changed nothing")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/debug/goodwill"))
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--screenshots", default=None, help="save the pages' pictures here")
    args = ap.parse_args()
    pg_base = os.environ.get("GOODWILL_TEST_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    shots = os.path.abspath(args.screenshots or os.path.join(ROOT, "target", "console-shots", args.backend))
    os.makedirs(shots, exist_ok=True)
    work = tempfile.mkdtemp(prefix="goodwill-console-")
    started = time.time()
    service = Service(os.path.abspath(args.binary), args.backend, pg_base, work)
    try:
        stories(service, shots)
    except (AssertionError, WebDriverException, StopIteration, KeyError) as e:
        service.err.seek(0)
        import traceback
        print(f"FAIL ({args.backend}): {e}", file=sys.stderr)
        traceback.print_exc(limit=4)
        print("--- server log (tail) ---", file=sys.stderr)
        print(service.err.read()[-4000:], file=sys.stderr)
        sys.exit(1)
    finally:
        service.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"console stories on {args.backend}: {CHECKS} checks passed in {time.time() - started:.1f}s; pictures in {shots}")


if __name__ == "__main__":
    main()
