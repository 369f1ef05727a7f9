#!/usr/bin/env bash
# The console's pages, timed server-side on PostgreSQL: the approval queue with
# 500 pending gestures waiting for a manager, and the page of a customer with
# 10,000 ledger entries. Each page is requested by wrk with a signed-in
# session's cookie for --duration seconds at 1 and at 4 connections; prints
# requests/s, p50 and p99, and the page's weight with its assets.
#
#   bash benches/console.sh [--duration 15] [--binary PATH] [--keep] [--finance]
#
# --finance instead times finance's pages over a tenant of 1,000,000 gestures
# (36 months, 20 stores, 100,000 customers; seeding takes a few minutes): the
# goodwill report of the last 12 months by store, the same by month, and the
# aging of promises.
#
# --keep leaves the service and the cluster running (for profiling) and prints
# how to reach them.
#
# Uses a throwaway PostgreSQL cluster of default settings
# (tests/support/pgcluster.sh) and only 127.0.0.1; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
duration=15 binary="" keep=0 finance=0
while [ $# -gt 0 ]; do
    case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --binary) binary="$(realpath "$2")"; shift 2 ;;
    --keep) keep=1; shift ;;
    --finance) finance=1; shift ;;
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
work="$(mktemp -d /tmp/goodwill-console-bench.XXXXXX)"
chmod 755 "$work"
pgport=$((30000 + RANDOM % 10000))
port=$((40000 + RANDOM % 10000))
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    bash "$root/tests/support/pgcluster.sh" stop "$work/pg" || true
    rm -rf "$work"
}
trap cleanup EXIT
bash "$root/tests/support/pgcluster.sh" start "$work/pg" "$pgport"
psql -X -q "postgres://postgres@127.0.0.1:$pgport/postgres" -c "CREATE DATABASE goodwill"
export GOODWILL_DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/goodwill?sslmode=disable"
export GOODWILL_JWT_SECRET="console-bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export GOODWILL_LOG=warn
"$binary" migrate 2>/dev/null
tenant="$("$binary" tenant create --name bench | tail -1)"
if [ "$finance" = 1 ]; then
    log "seeding 1,000,000 gestures over 36 months, 20 stores, 100,000 customers"
    "$binary" dev seed --tenant "$tenant" --gestures 1000000 --customers 100000 --stores 20 --months 36 --seed 3 >/dev/null
    psql -X -q "$GOODWILL_DATABASE_URL" -c "VACUUM ANALYZE"
    "$binary" serve --bind "127.0.0.1:$port" --no-migrate >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -fs "127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    link="$("$binary" console link --tenant "$tenant" --sub bench-finance --role finance --ttl 1h --bind "127.0.0.1:$port" | tail -1)"
    cookie="$(curl -s -D - -o /dev/null -X POST "$link" -H "Origin: http://127.0.0.1:$port" \
        -H 'Content-Type: application/x-www-form-urlencoded' --data '' | sed -n 's/^set-cookie: \([^;]*\);.*/\1/Ip' | head -1)"
    [ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
    to="$(date -u +%F)"; from="$(date -u -d '-1095 days' +%F)"
    printf '\n| page | connections | requests/s | p50 | p99 | bytes |\n|---|---|---|---|---|---|\n'
    for page in "/console/finance/reports?group=store&from=$from&to=$to" "/console/finance/reports?group=month&from=$from&to=$to" "/console/finance/aging"; do
        bytes="$(curl -s -H "Cookie: $cookie" "127.0.0.1:$port$page" | wc -c)"
        out="$(wrk -t1 -c1 -d"${duration}s" --latency -H "Cookie: $cookie" "http://127.0.0.1:$port$page")"
        rps="$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')"
        p50="$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')"
        p99="$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')"
        non2xx="$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $4}')"
        [ -z "$non2xx" ] || { echo "errors on $page: $non2xx" >&2; exit 1; }
        printf '| %s | 1 | %s | %s | %s | %s |\n' "${page%%&from*}" "$rps" "$p50" "$p99" "$bytes"
    done
    if [ "$keep" = 1 ]; then
        echo "service http://127.0.0.1:$port cookie '$cookie' database $GOODWILL_DATABASE_URL"
        sleep infinity
    fi
    exit 0
fi
log "seeding: one customer with 10,000 entries, then 100 customers' history"
"$binary" dev seed --tenant "$tenant" --customers 1 --gestures 6500 --stores 1 --months 24 --closed-only --seed 1 >/dev/null
"$binary" dev seed --tenant "$tenant" --customers 100 --gestures 2000 --stores 1 --months 12 --seed 2 >/dev/null
psql -X -q "$GOODWILL_DATABASE_URL" -c "VACUUM ANALYZE"
big="$(psql -X -At "$GOODWILL_DATABASE_URL" -c "SELECT customer_id FROM entries WHERE customer_id IS NOT NULL GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1")"
entries="$(psql -X -At "$GOODWILL_DATABASE_URL" -c "SELECT count(*) FROM entries WHERE customer_id = '$big'")"
store="$(psql -X -At "$GOODWILL_DATABASE_URL" -c "SELECT id FROM stores WHERE tenant_id = '$tenant' ORDER BY code DESC LIMIT 1")"
"$binary" serve --bind "127.0.0.1:$port" --no-migrate >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

log "500 pending gestures (a clerk's, above the clerk's limit)"
clerk="$("$binary" token --tenant "$tenant" --sub bench-clerk --role clerk --store "$store" | tail -1)"
python3 - "$port" "$clerk" "$store" "$GOODWILL_DATABASE_URL" "$tenant" <<'PY'
import json, subprocess, sys, urllib.request, uuid
port, token, store, url, tenant = sys.argv[1:]
ids = subprocess.run(["psql", "-X", "-At", url, "-c",
    f"SELECT id FROM customers WHERE tenant_id = '{tenant}' ORDER BY id LIMIT 100"],
    capture_output=True, text=True, check=True).stdout.split()
for i in range(500):
    body = {"kind": "service_recovery", "store_id": store, "reason_code": "service_failure",
            "story": f"Bench request {i}: an apology dinner after a missed delivery.",
            "amount": {"amount": "120.00", "currency": "USD"}}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/customers/{ids[i % len(ids)]}/gestures",
        data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 "Idempotency-Key": uuid.uuid4().hex})
    with urllib.request.urlopen(req) as r:
        assert r.status == 201, r.status
PY
link="$("$binary" console link --tenant "$tenant" --sub bench-manager --role manager --store "$store" --ttl 1h --bind "127.0.0.1:$port" | tail -1)"
cookie="$(curl -s -D - -o /dev/null -X POST "$link" -H "Origin: http://127.0.0.1:$port" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data '' | sed -n 's/^set-cookie: \([^;]*\);.*/\1/Ip' | head -1)"
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }

weight() { # weight PATH: bytes of the page and of the assets it links
    local page total
    page="$(curl -s -H "Cookie: $cookie" "127.0.0.1:$port$1")"
    total=${#page}
    for a in $(printf '%s' "$page" | grep -o '/console/assets/[a-z0-9.]*' | sort -u); do
        total=$((total + $(curl -s "127.0.0.1:$port$a" | wc -c)))
    done
    echo "$total"
}
if [ "$keep" = 1 ]; then
    # For profiling: leave everything running until interrupted.
    echo "service http://127.0.0.1:$port cookie '$cookie' database $GOODWILL_DATABASE_URL customer $big"
    sleep infinity
fi
pending="$(curl -s -H "Cookie: $cookie" "127.0.0.1:$port/console/approvals" | grep -c 'class="card queue-item"')"
[ "$pending" -gt 0 ] || { echo "the manager's queue is empty" >&2; exit 1; }
printf '\n| page | connections | requests/s | p50 | p99 | bytes with assets |\n|---|---|---|---|---|---|\n'
for page in "/console/approvals" "/console/customers/$big"; do
    w="$(weight "$page")"
    for c in 1 4; do
        out="$(wrk -t1 -c"$c" -d"${duration}s" --latency -H "Cookie: $cookie" "http://127.0.0.1:$port$page")"
        rps="$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')"
        p50="$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')"
        p99="$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')"
        non2xx="$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $4}')"
        [ -z "$non2xx" ] || { echo "errors on $page: $non2xx" >&2; exit 1; }
        label="$page"
        [ "$page" = "/console/approvals" ] && label="approval queue (500 pending, 20 a page)"
        [ "$page" != "/console/approvals" ] && label="customer page ($entries entries)"
        printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$c" "$rps" "$p50" "$p99" "$w"
    done
done
