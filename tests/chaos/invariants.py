#!/usr/bin/env python3
"""Bank-style invariant run, crash safety and soak for goodwill.

Workers issue random operations (every gesture kind, payments and bad-debt
recoveries, redemptions, approvals, rejections, reversals of gestures and
payments, write-offs, sales) against one or more instances sharing one
database, each request with its own Idempotency-Key (also sent as
X-Request-Id), retried with the same key on timeouts, refused connections,
503 and 409 idempotency_in_flight, until it gets a definitive answer. With
--kills, an instance is killed with SIGKILL at random moments and restarted;
requests caught by a kill are retried with their keys. Then a checker verifies:

- `goodwill ledger check` and `goodwill audit verify` pass;
- every ledger transaction balances per currency, every balance equals the sum
  of its entries, and no balance, promise or credit lot is negative
  (independently of the ledger check, in SQL);
- every acknowledged (2xx) request's effect is present exactly once: its audit
  events were written by exactly one execution (one primary event under its
  request id), the resource it answered exists; every refused (4xx) request
  wrote nothing;
- every decided gesture has exactly one decision event;
- a webhook receiver subscribed to gesture and payment events (answering 500
  to a few deliveries, to exercise retries) has received every such event of
  the feed at least once, and nothing that is not in the feed; the duplicate
  rate is reported.

It prints operations, answers and violations as JSON and exits 1 on any
violation. Only 127.0.0.1 is used; every phase is bounded in time.

    python3 tests/chaos/invariants.py --backend postgres --instances 3 --duration 60
    python3 tests/chaos/invariants.py --backend sqlite --kills 3 --duration 60
    python3 tests/chaos/invariants.py --backend postgres --soak 600 --rate 40 --own-cluster
"""

import argparse
import atexit
import http.server
import datetime
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The primary audit action each operation writes when it acts.
PRIMARY = {
    "gesture": "gesture.requested",
    "payment": "payment.recorded",
    "redemption": "credit.redeemed",
    "sale": "sale.recorded",
    "approve": "gesture.approved",
    "reject": "gesture.rejected",
    "reverse_gesture": "gesture.reversed",
    "reverse_payment": "payment.reversed",
    "write_off": "gesture.requested",
}
RETRYABLE = (503,)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Db:
    """The database under test: a fresh PostgreSQL database or SQLite file."""

    def __init__(self, backend, pg_base):
        self.backend = backend
        if backend == "postgres":
            self.name = f"gw_chaos_{uuid.uuid4().hex[:12]}"
            self.admin = f"{pg_base}/postgres"
            subprocess.run(["psql", "-X", "-q", self.admin, "-c", f"CREATE DATABASE {self.name}"],
                           check=True)
            self.url = f"{pg_base}/{self.name}?sslmode=disable"
            self.psql_url = f"{pg_base}/{self.name}"
        else:
            self.dir = tempfile.mkdtemp(prefix="gw-chaos-")
            self.url = os.path.join(self.dir, "chaos.db")

    def rows(self, sql):
        if self.backend == "postgres":
            out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", self.psql_url, "-c", sql],
                                 check=True, capture_output=True, text=True).stdout
            return [line.split("\t") for line in out.splitlines() if line]
        con = sqlite3.connect(self.url, timeout=30)
        try:
            return [[("" if v is None else str(v)) for v in r] for r in con.execute(sql)]
        finally:
            con.close()

    def drop(self):
        if self.backend == "postgres":
            subprocess.run(["psql", "-X", "-q", self.admin, "-c",
                            f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"], check=False)
        else:
            subprocess.run(["rm", "-rf", self.dir], check=False)


class HookReceiver(http.server.BaseHTTPRequestHandler):
    """Counts deliveries by webhook-id; answers 500 to the first receipt of
    about 3 % of them (once per event: the retry after ~5 s then succeeds,
    where a second failure would wait 5 minutes)."""

    received = {}
    types = {}
    failed = set()
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        hid = self.headers.get("webhook-id", "")
        with HookReceiver.lock:
            fail = hid not in HookReceiver.failed and hid not in HookReceiver.received \
                and random.random() < 0.03
            if fail:
                HookReceiver.failed.add(hid)
            if not fail:
                HookReceiver.received[hid] = HookReceiver.received.get(hid, 0) + 1
                try:
                    HookReceiver.types[hid] = json.loads(body)["type"]
                except (ValueError, KeyError):
                    HookReceiver.types[hid] = "?"
        self.send_response(500 if fail else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


def check_webhooks(db, tenant, wait_s):
    """Waits (bounded) until the receiver holds every subscribed feed event,
    then reports what is missing, what is foreign and the duplicates."""
    like = "(type LIKE 'gesture.%' OR type LIKE 'payment.%')"
    want = {r[0] for r in db.rows(f"SELECT id FROM events WHERE tenant_id = '{tenant}' AND {like}")}
    deadline = time.time() + wait_s
    while time.time() < deadline:
        with HookReceiver.lock:
            if want <= set(HookReceiver.received):
                break
        time.sleep(0.5)
    with HookReceiver.lock:
        got = dict(HookReceiver.received)
    all_events = {r[0] for r in db.rows(f"SELECT id FROM events WHERE tenant_id = '{tenant}'")}
    missing = sorted(want - set(got))
    foreign = sorted(set(got) - all_events)
    receipts = sum(got.values())
    report = {"subscribed_events": len(want), "received": len(got), "receipts": receipts,
              "duplicates": receipts - len(got),
              "duplicate_rate": round((receipts - len(got)) / receipts, 4) if receipts else 0.0,
              "missing": len(missing), "foreign": len(foreign)}
    violations = [f"webhook: event {m} of the feed never delivered" for m in missing[:10]]
    violations += [f"webhook: delivered {f}, which is not in the feed" for f in foreign[:10]]
    return report, violations


class Instance:
    def __init__(self, binary, url, env, log):
        self.binary, self.url, self.env, self.log = binary, url, env, log
        self.port = free_port()
        self.proc = None
        self.lock = threading.Lock()

    def start(self):
        with self.lock:
            self.proc = subprocess.Popen(
                [self.binary, "--database-url", self.url, "serve", "--no-migrate",
                 "--bind", f"127.0.0.1:{self.port}", "--workers", "2"],
                env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"instance on port {self.port} did not become ready")

    def kill(self):
        with self.lock:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait()

    def stop(self):
        with self.lock:
            if self.proc and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    self.proc.kill()

    def rss_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) // 1024
        except (OSError, AttributeError):
            return None
        return None


class Client:
    """Sends one operation until it has a definitive answer."""

    def __init__(self, instances, deadline_s):
        self.instances = instances
        self.deadline_s = deadline_s

    def call(self, method, path, token, body=None, key=None):
        key = key or uuid.uuid4().hex
        headers = {"Authorization": f"Bearer {token}", "X-Request-Id": key}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method == "POST":
            headers["Idempotency-Key"] = key
        attempts, started = 0, time.time()
        while True:
            attempts += 1
            inst = random.choice(self.instances)
            t0 = time.time()
            try:
                c = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=5)
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                status = r.status
                c.close()
                answer = json.loads(raw) if raw else None
                if status in RETRYABLE or (
                        status == 409 and answer and answer.get("code") == "idempotency_in_flight"):
                    raise ConnectionError(f"retryable {status}")
                if status >= 500:
                    return {"key": key, "status": status, "body": answer, "attempts": attempts,
                            "latency": time.time() - t0}
                return {"key": key, "status": status, "body": answer, "attempts": attempts,
                        "latency": time.time() - t0,
                        "replayed": r.getheader("Idempotent-Replayed") == "true"}
            except (OSError, ConnectionError, http.client.HTTPException, ValueError):
                if time.time() - started > self.deadline_s:
                    return {"key": key, "status": None, "body": None, "attempts": attempts}
                time.sleep(min(0.05 * attempts, 0.5))


class World:
    """What the workers know of the tenant, shared under a lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.customers, self.stores, self.staff = [], [], []
        self.promises, self.pending, self.credit = set(), set(), set()
        self.payments, self.reversible = set(), set()

    def pick(self, attr):
        with self.lock:
            pool = getattr(self, attr)
            return random.choice(list(pool)) if pool else None


def money(minor):
    return {"amount": f"{minor // 100}.{minor % 100:02d}", "currency": "USD"}


def run_workload(args, client, world, tokens, journal, stop_at, rate=None):
    today = datetime.date.today()

    def record(op, res, **extra):
        res.update(op=op, at=time.time(), **extra)
        with world.lock:
            journal.append(res)
        return res

    def gesture(kind, customer, store, extra):
        key = uuid.uuid4().hex
        body = {"kind": kind, "store_id": store, "reason_code": "goodwill",
                "story": f"chaos {key}", **extra}
        res = client.call("POST", f"/v1/customers/{customer}/gestures", tokens["clerk"], body, key)
        record("gesture", res, kind=kind)
        b = res.get("body") or {}
        if res["status"] == 201:
            with world.lock:
                if b.get("status") == "pending_approval":
                    world.pending.add(b["id"])
                elif kind == "deferred_payment":
                    world.promises.add(b["id"])
                    world.reversible.add(b["id"])
                elif kind == "store_credit":
                    world.credit.add((customer, store))
                    world.reversible.add(b["id"])
                elif kind in ("service_recovery", "free_service", "balance_waiver"):
                    world.reversible.add(b["id"])

    def op_gesture():
        customer, store = world.pick("customers"), world.pick("stores")
        kind = random.choice(["deferred_payment"] * 4 + ["balance_waiver", "free_service",
                              "service_recovery", "store_credit", "store_credit",
                              "recognition", "customer_favour"])
        extra = {}
        if kind == "deferred_payment":
            extra = {"amount": money(random.randint(100, 4000)),
                     "due_on": str(today + datetime.timedelta(days=random.randint(0, 20)))}
        elif kind == "balance_waiver":
            extra = {"amount": money(random.randint(50, 800))}
        elif kind == "free_service":
            extra = {"retail_value": money(random.randint(100, 3000)),
                     "cost": money(random.randint(0, 100))}
        elif kind in ("service_recovery", "store_credit"):
            extra = {"amount": money(random.randint(100, 2400))}
        elif kind == "recognition":
            extra = {"staff_ids": [world.pick("staff")]}
        elif kind == "customer_favour":
            extra = {"estimated_value": money(random.randint(100, 5000))}
        gesture(kind, customer, store, extra)

    def op_payment():
        g = world.pick("promises")
        if not g:
            return op_gesture()
        res = client.call("POST", f"/v1/gestures/{g}/payments", tokens["clerk"],
                          {"amount": money(random.randint(50, 1500))})
        record("payment", res, gesture=g)
        if res["status"] == 201:
            with world.lock:
                world.payments.add(res["body"]["id"])

    def op_redemption():
        cs = world.pick("credit")
        if not cs:
            return op_gesture()
        customer, store = cs
        res = client.call("POST", f"/v1/customers/{customer}/credit/redemptions", tokens["clerk"],
                          {"amount": money(random.randint(50, 1000)), "store_id": store})
        record("redemption", res)

    def op_sale():
        key = uuid.uuid4().hex
        body = {"customer_id": world.pick("customers"), "store_id": world.pick("stores"),
                "sale_ref": key, "occurred_at": datetime.datetime.now(datetime.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ"), "amount": money(random.randint(0, 20000))}
        record("sale", client.call("POST", "/v1/sales", tokens["clerk"], body, key))

    def op_decide():
        g = world.pick("pending")
        if not g:
            return op_gesture()
        if random.random() < 0.65:
            res = client.call("POST", f"/v1/gestures/{g}/approve", tokens["finance"], {})
            record("approve", res, gesture=g)
        else:
            res = client.call("POST", f"/v1/gestures/{g}/reject", tokens["finance"],
                              {"note": "not this time"})
            record("reject", res, gesture=g)
        if res["status"] in (200, 409, 403, 404, 422):
            with world.lock:
                world.pending.discard(g)
            b = res.get("body") or {}
            if res["status"] == 200 and b.get("status") == "approved":
                with world.lock:
                    world.reversible.add(g)
                    if b.get("kind") == "deferred_payment":
                        world.promises.add(g)

    def op_reverse():
        if random.random() < 0.5:
            p = world.pick("payments")
            if p:
                res = client.call("POST", f"/v1/payments/{p}/reversal", tokens["manager"],
                                  {"reason": "the cheque bounced"})
                record("reverse_payment", res, payment=p)
                with world.lock:
                    world.payments.discard(p)
                return
        g = world.pick("reversible")
        if not g:
            return op_gesture()
        res = client.call("POST", f"/v1/gestures/{g}/reversal", tokens["manager"],
                          {"reason": "recorded by mistake"})
        record("reverse_gesture", res, gesture=g)
        with world.lock:
            world.reversible.discard(g)

    def op_write_off():
        g = world.pick("promises")
        if not g:
            return op_gesture()
        res = client.call("POST", f"/v1/gestures/{g}/write-off", tokens["clerk"],
                          {"reason_code": "unpaid_promise", "note": "gave up"})
        record("write_off", res, gesture=g)

    ops = [(op_gesture, 30), (op_payment, 14), (op_sale, 12), (op_decide, 10),
           (op_redemption, 6), (op_reverse, 6), (op_write_off, 4)]
    funcs = [f for f, w in ops for _ in range(w)]

    def worker(i):
        n = 0
        while time.time() < stop_at:
            if rate:
                # Each worker's share of a steady total rate, the workers
                # staggered so requests are evenly spaced (not all sixteen at
                # once, which measures a queue instead of the service).
                next_at = worker_start + (i + n * args.workers) / rate
                delay = next_at - time.time()
                if delay > 0:
                    time.sleep(delay)
                if time.time() >= stop_at:
                    break
            n += 1
            random.choice(funcs)()

    worker_start = time.time()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.workers)]
    for t in threads:
        t.start()
    return threads


def check(db, binary, env, journal, tenant):
    violations = []

    def cli(*a):
        r = subprocess.run([binary, "--database-url", db.url, *a], env=env,
                           capture_output=True, text=True, timeout=600)
        return r.returncode, (r.stdout + r.stderr).strip()

    rc, out = cli("ledger", "check", "--tenant", tenant)
    if rc != 0:
        violations.append(f"ledger check: {out[-2000:]}")
    rc, out = cli("audit", "verify", "--tenant", tenant)
    if rc != 0:
        violations.append(f"audit verify: {out[-2000:]}")

    t = f"tenant_id = '{tenant}'"
    for what, sql in [
        ("an unbalanced transaction",
         f"SELECT transaction_id, currency, SUM(debit_minor) - SUM(credit_minor) FROM entries "
         f"WHERE {t} GROUP BY transaction_id, currency HAVING SUM(debit_minor) <> SUM(credit_minor)"),
        ("a balance (the sum of its shards) that is not the sum of its entries",
         f"SELECT b.account, b.currency FROM (SELECT account, currency, SUM(debit_minor) AS d, "
         f"SUM(credit_minor) AS c FROM balances WHERE {t} GROUP BY account, currency) b "
         f"LEFT JOIN (SELECT account, currency, SUM(debit_minor) AS d, SUM(credit_minor) AS c "
         f"FROM entries WHERE {t} GROUP BY account, currency) e "
         f"ON e.account = b.account AND e.currency = b.currency "
         f"WHERE COALESCE(e.d, 0) <> b.d OR COALESCE(e.c, 0) <> b.c"),
        ("entries without a balance",
         f"SELECT e.account FROM entries e LEFT JOIN balances b ON b.tenant_id = e.tenant_id "
         f"AND b.account = e.account AND b.currency = e.currency WHERE e.{t} AND b.account IS NULL"),
        ("a negative customer balance",
         f"SELECT account FROM balances WHERE {t} AND ((account LIKE 'receivable:%' AND "
         f"debit_minor < credit_minor) OR (account LIKE 'store_credit:%' AND credit_minor < debit_minor))"),
        ("a promise or credit lot below zero",
         f"SELECT id FROM gestures WHERE {t} AND (paid_minor < 0 OR waived_minor < 0 OR "
         f"redeemed_minor < 0 OR expired_minor < 0 OR (amount_minor IS NOT NULL AND "
         f"paid_minor + waived_minor > amount_minor AND kind = 'deferred_payment') OR "
         f"(kind = 'store_credit' AND redeemed_minor + expired_minor > amount_minor))"),
    ]:
        rows = db.rows(sql)
        if rows:
            violations.append(f"{what}: {rows[:5]}")

    # Exactly once: primary audit events per request id.
    events = {}
    for rid, action, entity in db.rows(
            f"SELECT request_id, action, entity_id FROM audit_events WHERE {t}"):
        events.setdefault(rid, []).append((action, entity))
    # The resources acknowledged requests answered with: one query per table
    # (ids are primary keys, so each is there once or not at all).
    tables = {"gesture": "gestures", "payment": "payments",
              "redemption": "redemptions", "sale": "sales"}
    present = {op: {r[0] for r in db.rows(f"SELECT id FROM {table} WHERE {t}")}
               for op, table in tables.items()}
    acked = refused = 0
    by_status = {}
    for j in journal:
        st = j["status"]
        by_status[str(st)] = by_status.get(str(st), 0) + 1
        mine = events.get(j["key"], [])
        primary = [e for e in mine if e[0] == PRIMARY[j["op"]]]
        if st is None:
            violations.append(f"{j['op']} {j['key']}: never answered after {j['attempts']} attempts")
        elif st >= 500:
            violations.append(f"{j['op']} {j['key']}: {st} {j['body']}")
        elif 200 <= st < 300:
            acked += 1
            if len(primary) != 1:
                violations.append(f"{j['op']} {j['key']} acknowledged {st} but its primary event "
                                  f"{PRIMARY[j['op']]} was written {len(primary)} times")
            rid = (j.get("body") or {}).get("id")
            if j["op"] in tables and rid and rid not in present[j["op"]]:
                violations.append(f"{j['op']} {j['key']}: answered {rid}, not in {tables[j['op']]}")
        else:
            refused += 1
            if mine:
                violations.append(f"{j['op']} {j['key']} refused {st} but wrote {mine}")
    # Nothing acted without an acknowledged request behind it.
    keys = {j["key"] for j in journal}
    stray = [rid for rid, evs in events.items()
             if rid not in keys and any(a in PRIMARY.values() for a, _ in evs)
             and not rid.startswith("setup-")]
    if stray:
        violations.append(f"events of requests the workers never made: {stray[:5]}")
    gestures_made = db.rows(f"SELECT COUNT(*) FROM gestures WHERE {t} AND story LIKE 'chaos %'")[0][0]
    acked_gestures = sum(1 for j in journal if j["op"] == "gesture" and j["status"] == 201)
    if int(gestures_made) != acked_gestures:
        violations.append(f"{gestures_made} gestures in the database, {acked_gestures} acknowledged")

    # One decision per decided gesture.
    decisions = {}
    for action, entity in db.rows(
            f"SELECT action, entity_id FROM audit_events WHERE {t} AND action IN "
            f"('gesture.approved', 'gesture.rejected', 'gesture.cancelled', 'gesture.expired')"):
        decisions[entity] = decisions.get(entity, 0) + 1
    for gid, n in decisions.items():
        if n != 1:
            violations.append(f"gesture {gid} has {n} decision events")
    for gid, status, rule in db.rows(
            f"SELECT id, status, decision_rule FROM gestures WHERE {t} AND "
            f"decision_rule IN ('above_self_grant_limit', 'split_threshold', 'budget_exceeded')"):
        if status == "pending_approval" and gid in decisions:
            violations.append(f"gesture {gid} is pending but has a decision event")
    return {"operations": len(journal), "acknowledged": acked, "refused": refused,
            "answers": by_status, "violations": violations}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--instances", type=int, default=None, help="default 3 (PostgreSQL), 1 (SQLite)")
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--customers", type=int, default=40, help="customers the workload spreads over")
    ap.add_argument("--duration", type=float, default=30, help="seconds of workload")
    ap.add_argument("--kills", type=int, default=0, help="SIGKILL and restart an instance this many times")
    ap.add_argument("--soak", type=float, default=0, help="seconds of steady load (soak mode)")
    ap.add_argument("--rate", type=float, default=40, help="operations per second in soak mode")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/debug/goodwill"))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--own-cluster", action="store_true",
                    help="run PostgreSQL in a throwaway cluster of default settings "
                         "(tests/support/pgcluster.sh) instead of --pg")
    ap.add_argument("--keep-db", action="store_true",
                    help="leave the database behind for inspection (its URL is printed)")
    ap.add_argument("--self-test", action="store_true",
                    help="after the run, falsify the journal and require the checker to object")
    ap.add_argument("--pg", default=os.environ.get("GOODWILL_TEST_PG", "postgres://postgres@127.0.0.1:5432"))
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    random.seed(seed)
    instances_n = args.instances or (3 if args.backend == "postgres" else 1)
    duration = args.soak or args.duration

    if args.own_cluster:
        if args.backend != "postgres":
            ap.error("--own-cluster is for --backend postgres")
        args.pg = own_cluster(keep=args.keep_db)
    db = Db(args.backend, args.pg.rstrip("/"))
    log = tempfile.NamedTemporaryFile(prefix="gw-chaos-server-", suffix=".log", delete=False)
    env = dict(os.environ, GOODWILL_JWT_SECRET=uuid.uuid4().hex + uuid.uuid4().hex,
               GOODWILL_LOG="warn", GOODWILL_DATABASE_URL=db.url,
               GOODWILL_WEBHOOKS_ALLOW_LOOPBACK="true")
    for k in ("GOODWILL_RATE_LIMIT_PER_SECOND", "DATABASE_URL"):
        env.pop(k, None)
    instances = []
    try:
        subprocess.run([args.binary, "migrate"], env=env, check=True, capture_output=True)
        tenant = subprocess.run([args.binary, "tenant", "create", "--name", "chaos"], env=env,
                                check=True, capture_output=True, text=True).stdout.split()[-1]

        def token(sub, role):
            return subprocess.run([args.binary, "token", "--tenant", tenant, "--sub", sub,
                                   "--role", role, "--ttl", "8h"], env=env, check=True,
                                  capture_output=True, text=True).stdout.split()[-1]
        tokens = {r: token(f"chaos-{r}", r) for r in ("clerk", "manager", "finance", "admin")}
        instances = [Instance(args.binary, db.url, env, log) for _ in range(instances_n)]
        for i in instances:
            i.start()
        client = Client(instances, deadline_s=120)
        hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HookReceiver)
        threading.Thread(target=hooks.serve_forever, daemon=True).start()
        r = client.call("POST", "/v1/webhook-endpoints", tokens["admin"],
                        {"url": f"http://127.0.0.1:{hooks.server_address[1]}/hook",
                         "description": "chaos receiver", "event_types": ["gesture.*", "payment.*"]},
                        key="setup-webhook")
        if r["status"] != 201:
            raise SystemExit(f"could not register the webhook receiver: {r}")
        world = World()
        for n in range(3):
            r = client.call("POST", "/v1/stores", tokens["admin"],
                            {"name": f"Store {n}", "code": f"S{n}", "currency": "USD"},
                            key=f"setup-store-{n}")
            world.stores.append(r["body"]["id"])
        for n in range(3):
            r = client.call("POST", "/v1/staff", tokens["admin"],
                            {"name": f"Clerk {n}", "store_ids": world.stores}, key=f"setup-staff-{n}")
            world.staff.append(r["body"]["id"])
        for n in range(args.customers):
            r = client.call("POST", "/v1/customers", tokens["admin"],
                            {"external_ref": f"CH-{n}", "name": f"Customer {n}"},
                            key=f"setup-customer-{n}")
            world.customers.append(r["body"]["id"])

        journal = []
        started = time.time()
        stop_at = started + duration
        threads = run_workload(args, client, world, tokens, journal, stop_at,
                               rate=args.rate if args.soak else None)
        kills = []
        samples = []
        if args.kills:
            moments = sorted(random.uniform(0.1, 0.9) * duration for _ in range(args.kills))
            for at in moments:
                time.sleep(max(0, started + at - time.time()))
                victim = random.choice(instances)
                victim.kill()
                kills.append(round(time.time() - started, 2))
                time.sleep(random.uniform(0.2, 1.5))
                victim.start()
        while time.time() < stop_at:
            time.sleep(min(10, max(0.1, stop_at - time.time())))
            samples.append({"t": round(time.time() - started), "rss_mb": [i.rss_mb() for i in instances]})
        for t in threads:
            t.join(timeout=180)
        # Deliveries a killed instance had taken come back when their lease
        # (30 s) runs out, and a 500 is retried after about 5 s.
        hooks_report, hooks_violations = check_webhooks(db, tenant, wait_s=90)

        report = {"backend": args.backend, "instances": instances_n, "workers": args.workers,
                  "seconds": round(time.time() - started, 1), "seed": seed, "kills": kills}
        if args.soak:
            report["soak"] = soak_figures(journal, started, samples)
        for i in instances:
            i.stop()
        report.update(check(db, args.binary, env, journal, tenant))
        report["webhooks"] = hooks_report
        report["violations"] += hooks_violations
        if args.self_test:
            # The checker must see an acknowledged request whose effect is
            # missing, a refused one that acted, and an acknowledged one whose
            # answer names a resource that is not there.
            acked = next(j for j in journal if j["status"] and 200 <= j["status"] < 300)
            refused = next(j for j in journal if j["status"] and 400 <= j["status"] < 500)
            made = next(j for j in journal if j["op"] == "gesture" and j["status"] == 201)
            forged = [dict(acked, key=uuid.uuid4().hex), dict(refused, key=acked["key"], op=acked["op"]),
                      dict(made, body=dict(made["body"], id=str(uuid.uuid4())))]
            found = check(db, args.binary, env, forged, tenant)["violations"]
            caught = len([v for v in found
                          if "written 0 times" in v or "refused" in v or "not in gestures" in v])
            report["self_test"] = {"violations_found": found[:5], "caught": caught == 3}
            if caught != 3:
                report["violations"].append("self-test: the checker missed a falsified journal")
        report["retried"] = sum(1 for j in journal if j["attempts"] > 1)
        report["replayed"] = sum(1 for j in journal if j.get("replayed"))
        print(json.dumps(report, indent=1))
        bad = report["violations"] or (args.soak and report["soak"]["errors"])
        if bad:
            print(f"server log: {log.name}", file=sys.stderr)
        return 1 if bad else 0
    finally:
        for i in instances:
            i.kill()
        if args.keep_db:
            print(f"database kept: {db.url}", file=sys.stderr)
        else:
            db.drop()


def own_cluster(keep):
    """A PostgreSQL cluster of PostgreSQL's default settings (autovacuum on, as
    in production), stopped and removed at exit unless kept; its base URL."""
    script = os.path.join(ROOT, "tests/support/pgcluster.sh")
    where, port = tempfile.mkdtemp(prefix="gw-chaos-pg-"), free_port()
    subprocess.run(["bash", script, "start", where, str(port)], check=True)
    if keep:
        print(f"cluster kept: {where} (stop: bash {script} stop {where})", file=sys.stderr)
    else:
        atexit.register(lambda: (subprocess.run(["bash", script, "stop", where], check=False),
                                 shutil.rmtree(where, ignore_errors=True)))
    return f"postgres://postgres@127.0.0.1:{port}"


def soak_figures(journal, started, samples):
    """Latency per minute of the run (p50, p99), errors, and resident memory."""
    q = lambda xs, p: round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 1) if xs else None
    minutes = {}
    for j in journal:
        if "latency" in j:
            minutes.setdefault(int((j["at"] - started) // 60), []).append(j["latency"])
    per_minute = [{"minute": m + 1, "requests": len(v), "p50_ms": q(sorted(v), 0.5),
                   "p99_ms": q(sorted(v), 0.99)} for m, v in sorted(minutes.items())]
    lat = sorted(j["latency"] for j in journal if "latency" in j)
    errors = sum(1 for j in journal if j["status"] is None or j["status"] >= 500)
    # Each operation's p50 and p99 in the first and the last minute: what grows.
    first, last = min(minutes, default=0), max(minutes, default=0)
    by_op = {}
    for j in journal:
        m = int((j["at"] - started) // 60) if "latency" in j else None
        if m in (first, last):
            by_op.setdefault(j["op"], {}).setdefault("first" if m == first else "last", []).append(j["latency"])
    by_op = {op: {k: {"n": len(v), "p50_ms": q(sorted(v), 0.5), "p99_ms": q(sorted(v), 0.99)}
                  for k, v in sorted(d.items())} for op, d in sorted(by_op.items())}
    return {"operations": len(journal), "errors": errors, "p50_ms": q(lat, 0.5),
            "p99_ms": q(lat, 0.99), "per_minute": per_minute, "by_operation": by_op,
            "rss_mb": samples}


if __name__ == "__main__":
    sys.exit(main())
