#!/usr/bin/env python3
"""Real deliveries, verified by an independent implementation of the
Standard Webhooks scheme: the `standardwebhooks` package from PyPI.

Starts the binary under test (`serve`, loopback deliveries allowed) over a
fresh SQLite file or PostgreSQL database, runs a receiver on 127.0.0.1,
registers it, makes events happen through the API, and checks that every
delivery verifies with the endpoint's secret (and with nothing else), that a
tampered body or a foreign secret fails, that after a rotation each delivery
verifies with the old secret alone and with the new one alone, and that the
body is the feed's event (same id, same type).

    python3 tests/webhooks/verify.py --binary target/debug/goodwill --backend sqlite
"""

import argparse
import http.server
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

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


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        with Receiver.lock:
            Receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def wait_for(n, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with Receiver.lock:
            if len(Receiver.got) >= n:
                return list(Receiver.got)
        time.sleep(0.05)
    raise AssertionError(f"expected {n} deliveries, got {len(Receiver.got)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/debug/goodwill")
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg", default=os.environ.get("GOODWILL_TEST_PG", "postgres://postgres@127.0.0.1:5432"))
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="goodwill-webhooks-")
    pg_db = None
    if a.backend == "sqlite":
        url = os.path.join(work, "hooks.db")
    else:
        pg_db = "gw_hooks_" + uuid.uuid4().hex[:12]
        subprocess.run(["psql", f"{a.pg}/postgres", "-qAtc", f"CREATE DATABASE {pg_db}"], check=True)
        url = f"{a.pg}/{pg_db}?sslmode=disable"
    env = dict(os.environ, GOODWILL_LOG="warn", GOODWILL_DATABASE_URL=url,
               GOODWILL_WEBHOOKS_ALLOW_LOOPBACK="true")
    for k in ["GOODWILL_JWT_SECRET", "GOODWILL_JWT_PUBLIC_KEY"]:
        env.pop(k, None)

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    err = open(os.path.join(work, "server.err"), "w")
    proc = subprocess.Popen([a.binary, "serve", "--bind", f"127.0.0.1:{port}"],
                            env=env, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        admin = proc.stdout.readline().strip()
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=1)
                break
            except Exception:
                time.sleep(0.05)

        def api(method, path, body=None):
            data = None if body is None else json.dumps(body).encode()
            req = urllib.request.Request(base + path, data=data, method=method)
            req.add_header("Authorization", f"Bearer {admin}")
            if data is not None:
                req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status, json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"null")

        status, ep = api("POST", "/v1/webhook-endpoints",
                         {"url": hook_url, "description": "verify.py", "event_types": ["customer.*", "store.created"]})
        check(status == 201, f"endpoint registered: {status} {ep}")
        secret = ep["secret"]
        status, store = api("POST", "/v1/stores", {"name": "Hooks", "code": "HK", "currency": "USD"})
        check(status == 201, "store")
        for i in range(3):
            status, _ = api("POST", "/v1/customers", {"external_ref": f"hook-{i}", "name": f"Customer {i}"})
            check(status == 201, "customer")
        got = wait_for(4)
        wh = Webhook(secret)
        stranger = Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=")
        _, feed = api("GET", "/v1/events?limit=100")
        feed_types = {e["id"]: e["type"] for e in feed["data"]}
        for headers, body in got:
            event = wh.verify(body, headers)
            check(event["id"] == headers["webhook-id"], "webhook-id is the event id")
            check(feed_types.get(event["id"]) == event["type"], f"the body is the feed's event: {event}")
            check(event["type"] in ("store.created", "customer.created"), f"only wanted types: {event['type']}")
            for bad in (lambda: stranger.verify(body, headers),
                        lambda: wh.verify(body.replace(b'"data"', b'"Data"'), headers)):
                try:
                    bad()
                    check(False, "a foreign secret or a tampered body must not verify")
                except WebhookVerificationError:
                    check(True, "refused")

        status, rotated = api("POST", f"/v1/webhook-endpoints/{ep['id']}/rotate-secret")
        check(status == 200 and rotated["secret"] != secret, "rotated")
        status, _ = api("POST", "/v1/customers", {"external_ref": "hook-after", "name": "After rotation"})
        check(status == 201, "customer after rotation")
        headers, body = wait_for(5)[4]
        sigs = headers["webhook-signature"].split(" ")
        check(len(sigs) == 2, f"two signatures while both secrets live: {sigs}")
        Webhook(secret).verify(body, headers)
        Webhook(rotated["secret"]).verify(body, headers)
        check(True, "both secrets verify the same delivery")
        print(f"webhooks verified by standardwebhooks on {a.backend}: {CHECKS} checks")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        receiver.shutdown()
        if pg_db:
            subprocess.run(["psql", f"{a.pg}/postgres", "-qAtc", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"])


if __name__ == "__main__":
    main()
