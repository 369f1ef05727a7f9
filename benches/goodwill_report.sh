#!/usr/bin/env bash
# The finance reports over a large tenant on PostgreSQL (127.0.0.1 only):
# seeds GESTURES gestures over 36 months into a fresh database (once; rerun with
# SEEDED=1 to reuse it), serves the release build, and times the goodwill report
# of one month (JSON and CSV) and the month's journal CSV, with the server's
# resident memory before and after streaming.
#
#   bash benches/goodwill_report.sh            # 1,000,000 gestures
#   GESTURES=100000 bash benches/goodwill_report.sh
#
# Needs: a release build (cargo build --release), PostgreSQL at 127.0.0.1:5432
# (user postgres, trust), curl. Stops by itself; drops nothing it did not create.
set -euo pipefail
cd "$(dirname "$0")/.."

GESTURES="${GESTURES:-1000000}"
PG="${GOODWILL_BENCH_PG_BASE:-postgres://postgres@127.0.0.1:5432}"
DB="gw_bench_report"
URL="$PG/$DB?sslmode=disable"
BIN=target/release/goodwill
PORT="${PORT:-18089}"
RUNS="${RUNS:-5}"

[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }

if [ "${SEEDED:-0}" != 1 ]; then
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
    psql "$PG/postgres" -qc "CREATE DATABASE $DB"
    "$BIN" --database-url "$URL" migrate >/dev/null
    TENANT=$("$BIN" --database-url "$URL" tenant create --name bench 2>/dev/null | tail -1)
    echo "seeding $GESTURES gestures into tenant $TENANT"
    start=$(date +%s.%N)
    "$BIN" --database-url "$URL" dev seed --tenant "$TENANT" --gestures "$GESTURES" \
        --months 36 --stores 50 >/dev/null
    end=$(date +%s.%N)
    printf 'seed: %.1f s\n' "$(echo "$end - $start" | bc)"
    psql "$URL" -qc "VACUUM ANALYZE"
fi
"$BIN" --database-url "$URL" migrate >/dev/null
TENANT=$("$BIN" --database-url "$URL" tenant list 2>/dev/null | awk '$2 == "bench" {print $1; exit}')

GOODWILL_LOG=warn "$BIN" --database-url "$URL" serve --bind "127.0.0.1:$PORT" --no-migrate \
    >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break
    sleep 0.2
done
# The signing secret exists once the service has run.
TOKEN=$("$BIN" --database-url "$URL" token --tenant "$TENANT" --sub bench --role finance 2>/dev/null | tail -1)

month=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
from="$month-01"
to=$(date -u -d "$from +1 month -1 day" +%Y-%m-%d)
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }

time_it() {
    local name="$1" url="$2" accept="$3"
    local times=()
    for _ in $(seq 1 "$RUNS"); do
        times+=("$(curl -fs -o /tmp/gw_bench_out -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
            -H "Accept: $accept" "http://127.0.0.1:$PORT$url")")
    done
    local sorted
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    printf '%-36s p50 %s s  max %s s  (%s bytes)\n' "$name" \
        "$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")" "$(echo "$sorted" | tail -1)" \
        "$(stat -c %s /tmp/gw_bench_out)"
}

echo "month $month of $(psql "$URL" -qAtc "SELECT count(*) FROM gestures") gestures"
echo "server RSS before: $(rss) kB"
time_it "goodwill report JSON (store,kind)" \
    "/v1/finance/reports/goodwill?from=$from&to=$to&group_by=store,kind" "application/json"
time_it "goodwill report CSV (store,kind)" \
    "/v1/finance/reports/goodwill?from=$from&to=$to&group_by=store,kind&format=csv" "text/csv"
time_it "goodwill report JSON (3 years, kind)" \
    "/v1/finance/reports/goodwill?from=$(date -u -d "$to -1095 days" +%Y-%m-%d)&to=$to&group_by=kind" \
    "application/json"
time_it "journal CSV (one month)" "/v1/finance/journal?period=$month&format=csv" "text/csv"
echo "server RSS after:  $(rss) kB"
