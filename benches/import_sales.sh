#!/usr/bin/env bash
# The rate and memory of `goodwill import sales` on a large file: generates a
# CSV of ROWS sales by CUSTOMERS customers over three years at one store
# (deterministic), imports it with --create-customers into a fresh database
# (SQLite by default; BACKEND=postgres for a fresh database on the local
# PostgreSQL), sampling the importer's resident memory every 2 s, then imports
# the same file again (it must create nothing). Figures: docs/BENCHMARKS.md.
#   ROWS=10000000 CUSTOMERS=500000 bash benches/import_sales.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${ROWS:-10000000}"
customers="${CUSTOMERS:-500000}"
backend="${BACKEND:-sqlite}"
pg="${GOODWILL_TEST_PG:-postgres://postgres@127.0.0.1:5432}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build -q --release --bin goodwill
bin="$PWD/target/release/goodwill"

if [ "$backend" = postgres ]; then
    db="goodwill_import_bench"
    psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    url="$pg/$db?sslmode=disable"
else
    url="$work/import.db"
fi
export GOODWILL_DATABASE_URL="$url"
export GOODWILL_JWT_SECRET="import-bench-secret-0123456789abcdef0123"
"$bin" migrate 2>/dev/null
tenant="$("$bin" tenant create --name import-bench | tail -1)"
port=$((20000 + RANDOM % 20000))
"$bin" serve --bind "127.0.0.1:$port" --no-migrate 2>/dev/null &
server=$!
token="$("$bin" token --tenant "$tenant" --sub bench --role admin | tail -1)"
for _ in $(seq 1 50); do curl -fs "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
curl -fs -X POST "127.0.0.1:$port/v1/stores" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"name":"Import","code":"IMP","currency":"USD"}' >/dev/null
kill "$server"; wait "$server" 2>/dev/null || true

csv="$work/sales.csv"
python3 - "$rows" "$customers" "$csv" <<'PY'
import random, sys, datetime
rows, customers, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(42)
start = datetime.date.today() - datetime.timedelta(days=3 * 365)
with open(path, "w", buffering=1 << 20) as f:
    f.write("customer_external_ref,occurred_at,amount,currency,store_code,sale_ref\n")
    for i in range(rows):
        day = start + datetime.timedelta(days=rng.randrange(3 * 365))
        f.write(f"C{rng.randrange(customers)},{day.isoformat()},{rng.randrange(100, 20000) / 100:.2f},USD,IMP,R{i}\n")
PY
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; backend $backend; $rows rows ($(du -h "$csv" | cut -f1)), $customers customers"

run() {
    local label="$1" samples="$work/rss-$1.txt"
    : > "$samples"
    local t0; t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/maxrss" "$bin" import sales "$csv" --tenant "$tenant" --create-customers \
        > "$work/summary-$label.json" 2> "$work/stderr-$label.txt" &
    local pid=$!
    sleep 0.5
    local child; child="$(pgrep -P "$pid" -n || echo "$pid")"
    while kill -0 "$pid" 2>/dev/null; do
        awk '/VmRSS/ {print $2}' "/proc/$child/status" 2>/dev/null >> "$samples" || true
        sleep 2
    done
    wait "$pid"
    local t1; t1=$(date +%s.%N)
    python3 - "$label" "$t0" "$t1" "$rows" "$samples" "$work/maxrss" "$work/summary-$label.json" <<'PY'
import json, sys
label, t0, t1, rows, samples, maxrss, summary = sys.argv[1:]
secs = float(t1) - float(t0)
rss = [int(x) for x in open(samples).read().split()]
n = len(rss)
q = lambda f: rss[min(n - 1, int(f * n))] // 1024 if n else 0
s = json.loads(open(summary).read().strip().splitlines()[-1])
print(f"{label}: {secs:.1f} s, {int(rows) / secs:,.0f} rows/s; summary {json.dumps(s)}")
print(f"  resident memory MB at 10/50/90/100 % of the run: {q(0.1)} / {q(0.5)} / {q(0.9)} / {q(0.999)}; peak {int(open(maxrss).read()) // 1024} MB")
PY
}
run first
run again
