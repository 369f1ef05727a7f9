#!/usr/bin/env bash
# Webhooks under load: the write path (auto-approved deferred payments, as in
# benches/load) with no endpoint, then with 10 endpoints subscribed to every
# gesture event, then once more with the endpoints disabled (the tables grew
# meanwhile), on one throwaway PostgreSQL cluster; how many deliveries the
# worker made per second to a receiver on 127.0.0.1, and how long it took to
# catch up after the writes stopped. Figures: docs/BENCHMARKS.md.
#
#   bash benches/webhooks.sh [--duration 20] [--connections 16] [--binary PATH]
#
# Only 127.0.0.1 is used; every phase is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

duration=20 conns=16 binary=""
while [ $# -gt 0 ]; do
    case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) conns="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done
log() { printf '== %s\n' "$*" >&2; }
command -v wrk >/dev/null || {
    log "installing wrk"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
}
if [ -z "$binary" ]; then
    log "release build"
    cargo build -q --release --bin goodwill
    binary="$root/target/release/goodwill"
fi
work="$(mktemp -d /tmp/goodwill-webhooks-bench.XXXXXX)"
chmod 755 "$work"
pgport=$((30000 + RANDOM % 10000))
port=$((40000 + RANDOM % 10000))
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    bash "$root/tests/support/pgcluster.sh" stop "$work/pg" || true
    rm -rf "$work"
}
trap cleanup EXIT
bash "$root/tests/support/pgcluster.sh" start "$work/pg" "$pgport"
db="postgres://postgres@127.0.0.1:$pgport/goodwill?sslmode=disable"
psql -X -q "postgres://postgres@127.0.0.1:$pgport/postgres" -c "CREATE DATABASE goodwill"
export GOODWILL_DATABASE_URL="$db"
export GOODWILL_JWT_SECRET="webhooks-bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export GOODWILL_LOG=warn
export GOODWILL_WEBHOOKS_ALLOW_LOOPBACK=true
"$binary" migrate 2>/dev/null
tenant="$("$binary" tenant create --name bench | tail -1)"
log "seeding 2,000 customers at 20 stores"
"$binary" dev seed --tenant "$tenant" --customers 2000 --gestures 2000 --stores 20 --months 3 >/dev/null
token="$("$binary" token --tenant "$tenant" --sub bench-pos --role pos --ttl 8h | tail -1)"
admin="$("$binary" token --tenant "$tenant" --sub bench-admin --role admin --ttl 8h | tail -1)"
psql -X -q "$db" <<SQL
CREATE TABLE load_pick (n int PRIMARY KEY, customer_id uuid NOT NULL, store_id uuid NOT NULL);
INSERT INTO load_pick
SELECT c.n, c.id, s.id
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM customers WHERE tenant_id = '$tenant') c
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM stores WHERE tenant_id = '$tenant') s
  ON s.k = c.n % 20;
VACUUM ANALYZE;
SQL
psql -X -At -F $'\t' "$db" -c "SELECT n, customer_id, store_id FROM load_pick ORDER BY n" > "$work/picks.tsv"
: > "$work/promises.tsv"

# The receiver: answers 204 at once and counts what it got.
python3 - "$work/receiver.port" "$work/receiver.count" <<'PY' &
import http.server, sys, threading
count = [0]
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with lock:
            count[0] += 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
    def do_GET(self):
        with lock:
            body = str(count[0]).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/receiver.port" ] && break; sleep 0.1; done
rport="$(cat "$work/receiver.port")"

"$binary" serve --bind "127.0.0.1:$port" --no-migrate >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

run_write() {
    LOAD_TOKEN="$token" LOAD_DIR="$work" LOAD_LUA="$root/benches/load" LOAD_RUN="$RANDOM$RANDOM" \
        wrk -t2 -c"$conns" -d"${duration}s" --timeout 10s -s "$root/benches/load/write.lua" \
        "http://127.0.0.1:$port" | grep '^WRKJSON' | sed 's/^WRKJSON //'
}

log "warm-up (5 s)"
(duration=5; run_write >/dev/null)
log "writes, no endpoint (${duration} s, $conns connections)"
none="$(run_write)"
log "registering 10 endpoints subscribed to gesture.*"
endpoints=()
for i in $(seq 1 10); do
    endpoints+=("$(curl -fs -X POST "127.0.0.1:$port/v1/webhook-endpoints" -H "Authorization: Bearer $admin" \
        -H 'Content-Type: application/json' \
        -d "{\"url\": \"http://127.0.0.1:$rport/hook/$i\", \"event_types\": [\"gesture.*\"]}" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')")
done
before="$(curl -fs "127.0.0.1:$rport/")"
log "writes, 10 endpoints (${duration} s, $conns connections)"
start=$(date +%s.%N)
ten="$(run_write)"
wrote=$(date +%s.%N)
during=$(( $(curl -fs "127.0.0.1:$rport/") - before ))
log "waiting for the deliveries to catch up (at most 300 s)"
for _ in $(seq 1 3000); do
    pending="$(psql -X -At "$db" -c "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'")"
    # Fanned out to the feed's end, and nothing left to send.
    behind="$(psql -X -At "$db" -c "SELECT count(*) FROM webhook_endpoints WHERE feed_cursor IS DISTINCT FROM
        (SELECT id FROM events WHERE tenant_id = '$tenant' ORDER BY txid DESC, seq DESC LIMIT 1)")"
    [ "$pending" = 0 ] && [ "$behind" = 0 ] && break
    sleep 0.1
done
done_at=$(date +%s.%N)
total=$(( $(curl -fs "127.0.0.1:$rport/") - before ))
delivered="$(psql -X -At "$db" -c "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'")"
failed="$(psql -X -At "$db" -c "SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'")"
# The tables grew meanwhile: the writes are timed again without endpoints
# (disabled), so the comparison brackets what the growth alone costs.
for id in "${endpoints[@]}"; do
    curl -fs -X PATCH "127.0.0.1:$port/v1/webhook-endpoints/$id" -H "Authorization: Bearer $admin" \
        -H 'Content-Type: application/json' -d '{"enabled": false}' >/dev/null
done
log "writes, endpoints disabled again (${duration} s, $conns connections)"
again="$(run_write)"

python3 - "$none" "$ten" "$start" "$wrote" "$done_at" "$during" "$total" "$delivered" "$failed" "$again" <<'PY'
import json, sys
def figures(w):
    r = json.loads(w)
    ok = sum(n for s, n in r["status"].items() if s.startswith("2"))
    bad = sum(n for s, n in r["status"].items() if not s.startswith("2")) + r["socket_errors"]
    return {"rps": ok / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "errors": bad}
none, ten, again = figures(sys.argv[1]), figures(sys.argv[2]), figures(sys.argv[10])
start, wrote, done = map(float, sys.argv[3:6])
during, total, delivered, failed = map(int, sys.argv[6:10])
print()
print("| writes | requests/s | p50 | p99 | errors |")
print("|---|---|---|---|---|")
for name, r in (("no endpoint", none), ("10 endpoints (gesture.*)", ten),
                ("no endpoint again (disabled, after the catch-up)", again)):
    print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['errors']} |")
print()
print(f"with 10 endpoints / without: {ten['rps'] / none['rps']:.2f} against the run before, "
      f"{ten['rps'] / ((none['rps'] + again['rps']) / 2):.2f} against the mean of before and after")
print(f"deliveries received during the writes: {during} ({during / (wrote - start):.0f}/s)")
print(f"deliveries received in all: {total}; caught up {done - wrote:.1f} s after the writes stopped "
      f"({total / (done - start):.0f}/s over the whole run); delivered {delivered}, not delivered {failed}")
PY
