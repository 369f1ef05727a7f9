#!/usr/bin/env bash
# The load harness: the service against PostgreSQL's own limit on this machine,
# in one run. Figures and how to read them: docs/BENCHMARKS.md.
#
#   bash benches/load/run.sh [--duration 30] [--connections 32] [--customers 10000]
#                            [--gestures 100000] [--sqlite] [--scaling] [--profile] [--out FILE]
#                            [--binary PATH]
#
# 1. Builds the release binary (or takes the one --binary names, to compare
#    two builds with the same harness); installs wrk when it is missing.
# 2. Starts a throwaway PostgreSQL cluster (tests/support/pgcluster.sh: default
#    settings, its own port and log), makes a fresh database, migrates it, and
#    seeds a tenant with `goodwill dev seed` (10,000 customers and their history).
# 3. Captures, from PostgreSQL's statement log, the statements the service
#    executes for one request of (a) a deferred payment and (b) a customer
#    summary, and turns each into a pgbench script (pgbench_script.py).
# 4. Serves the release build on 127.0.0.1 and drives it with wrk at N
#    connections for the duration through (a) write.lua, (b) summary.lua,
#    (c) mix.lua; runs pgbench with the captured statements at the same
#    concurrency, and then the limits: write-limit.sql (the least durable work
#    of one deferred payment) and read-limit.sql (one customer's figures by
#    primary key in one statement); prints requests/s, p50, p99, errors, the
#    service's peak RSS, round trips and CPU per request on each side, and the
#    ratios service / replay and service / limit.
# 5. With --scaling: summary latency for customers with 10 / 1,000 / 100,000
#    entries; list pages 1 and 1,000 of a 100,000-item list; write throughput
#    with one and with two instances on the one database.
# With --sqlite, the scenarios also run against a fresh SQLite file (no pgbench
# counterpart). During every PostgreSQL scenario, what the database's backends
# wait on is sampled from pg_stat_activity (printed as a profile); with
# --profile, `perf` also samples the service's CPU during (a) and (b).
# Only 127.0.0.1 is used; every step is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

duration=30 conns=32 customers=10000 gestures=100000 sqlite=0 scaling=0 profile=0 out="" binary=""
while [ $# -gt 0 ]; do
    case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) conns="$2"; shift 2 ;;
    --customers) customers="$2"; shift 2 ;;
    --gestures) gestures="$2"; shift 2 ;;
    --sqlite) sqlite=1; shift ;;
    --scaling) scaling=1; shift ;;
    --profile) profile=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --binary) binary="$(realpath "$2")"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done

log() { printf '== %s\n' "$*" >&2; }

command -v wrk >/dev/null || {
    log "installing wrk"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
}
command -v pgbench >/dev/null || { echo "pgbench is missing (postgresql-client)" >&2; exit 1; }
if [ -n "$binary" ]; then
    bin="$binary"
else
    log "release build"
    cargo build -q --release --bin goodwill
    bin="$root/target/release/goodwill"
fi

work="$(mktemp -d /tmp/goodwill-load.XXXXXX)"
chmod 755 "$work"
pgport=$((30000 + RANDOM % 10000))
servers=()
cleanup() {
    for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    bash "$root/tests/support/pgcluster.sh" stop "$work/pg"
    rm -rf "$work"
}
trap cleanup EXIT

log "PostgreSQL cluster on 127.0.0.1:$pgport"
bash "$root/tests/support/pgcluster.sh" start "$work/pg" "$pgport"
pgbase="postgres://postgres@127.0.0.1:$pgport"
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql "$pgbase/postgres" -c "CREATE DATABASE goodwill"
url="$pgbase/goodwill?sslmode=disable"
pglog="$work/pg/postgres.log"
export GOODWILL_JWT_SECRET="load-bench-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export GOODWILL_LOG=warn

serve() { # serve URL PORT [extra args...]: starts an instance, waits for /readyz
    local u="$1" port="$2"; shift 2
    GOODWILL_DATABASE_URL="$u" "$bin" serve --bind "127.0.0.1:$port" --no-migrate "$@" \
        >>"$work/server.log" 2>&1 &
    servers+=($!)
    for _ in $(seq 1 100); do
        curl -fs "127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the service did not become ready on port $port" >&2
    exit 1
}
stop_servers() {
    for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${servers[@]}"; do wait "$p" 2>/dev/null || true; done
    servers=()
}

prepare() { # prepare URL: migrate, tenant, seed, tokens, picks.tsv, promises.tsv
    local u="$1"
    export GOODWILL_DATABASE_URL="$u"
    "$bin" migrate 2>/dev/null
    tenant="$("$bin" tenant create --name load | tail -1)"
    log "seeding $customers customers, $gestures gestures"
    "$bin" dev seed --tenant "$tenant" --customers "$customers" --gestures "$gestures" \
        --stores 20 --months 12 >/dev/null
    token="$("$bin" token --tenant "$tenant" --sub load-pos --role pos --ttl 8h | tail -1)"
    admin="$("$bin" token --tenant "$tenant" --sub load-admin --role admin --ttl 8h | tail -1)"
    unset GOODWILL_DATABASE_URL
}

pg_picks() { # the (customer, store) pairs both wrk and pgbench pick from
    psql "$pgbase/goodwill" <<SQL
CREATE TABLE load_pick (n int PRIMARY KEY, customer_id uuid NOT NULL, store_id uuid NOT NULL);
INSERT INTO load_pick
SELECT c.n, c.id, s.id
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM customers WHERE tenant_id = '$tenant') c
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM stores WHERE tenant_id = '$tenant') s
  ON s.k = c.n % 20;
VACUUM ANALYZE;
SQL
    psql "$pgbase/goodwill" -At -F $'\t' -c "SELECT n, customer_id, store_id FROM load_pick ORDER BY n" \
        > "$work/picks.tsv"
    psql "$pgbase/goodwill" -At -c "SELECT id FROM gestures WHERE tenant_id = '$tenant'
        AND kind = 'deferred_payment' AND status = 'approved' ORDER BY id LIMIT 5000" \
        > "$work/promises.tsv"
}

rss_of() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }
# CPU time in clock ticks (1/100 s): a process's own, and the throwaway
# cluster's (the postmaster, what it reaped from exited backends, and the live
# backends), so each scenario can say where the machine's CPU went per request.
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_cpu() {
    local pm t c
    pm="$(head -1 "$work/pg/data/postmaster.pid")"
    t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
    for c in $(pgrep -P "$pm"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}

run_wrk() { # run_wrk SCENARIO PORT CONNS -> prints the WRKJSON line
    local scenario="$1" port="$2" c="$3"
    LOAD_TOKEN="$token" LOAD_DIR="$work" LOAD_LUA="$root/benches/load" LOAD_RUN="$RANDOM$RANDOM" \
        wrk -t2 -c"$c" -d"${duration}s" --timeout 10s -s "$root/benches/load/$scenario.lua" \
        "http://127.0.0.1:$port" | grep '^WRKJSON' | sed 's/^WRKJSON //'
}

sample_waits() { # sample_waits NAME: what the database's busy backends wait on, every 0.2 s
    local out="$work/waits-$1.txt" n=$(( (duration - 2) * 5 ))
    : > "$out"
    for _ in $(seq 1 "$n"); do
        command psql -X -At -F ' ' "$pgbase/postgres" -c "SELECT COALESCE(wait_event_type, 'CPU'),
            COALESCE(wait_event, '-') FROM pg_stat_activity WHERE datname = 'goodwill'
            AND state = 'active' AND pid <> pg_backend_pid()" >> "$out" 2>/dev/null || true
        sleep 0.2
    done
}
perf_service() { # perf_service NAME PID: the service's CPU profile for 10 s
    [ "$profile" = 1 ] && command -v perf >/dev/null || return 0
    perf record -q -F 199 -g -p "$2" -o "$work/perf-$1.data" -- sleep 10 >/dev/null 2>&1 || return 0
    perf report -i "$work/perf-$1.data" --no-children --percent-limit 1.5 --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -25 > "$root/target/load/perf-$1.txt" || true
}

wal_lsn() { command psql -X -At "$pgbase/postgres" -c "SELECT pg_current_wal_lsn()"; }
wal_bytes() { command psql -X -At "$pgbase/postgres" -c "SELECT pg_wal_lsn_diff('$2', '$1')::bigint"; }

results="$work/results.jsonl"
: > "$results"
record() { echo "$1" >> "$results"; }

# --- PostgreSQL -------------------------------------------------------------
prepare "$url"
pg_picks

log "capturing the service's statements for one request of each path"
psql "$pgbase/postgres" -c "ALTER DATABASE goodwill SET log_statement = 'all'"
port=$((40000 + RANDOM % 10000))
# Without the webhook worker: its polls would share the one connection and
# count as the request's statements.
GOODWILL_WEBHOOKS_WORKER=false serve "$url" "$port" --workers 1 --pool-size 1
IFS=$'\t' read -r _ cid sid < <(head -1 "$work/picks.tsv")
due="$(date -u -d '+7 days' +%F)"
write_once() {
    curl -fs -o /dev/null -X POST "127.0.0.1:$port/v1/customers/$cid/gestures" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -H "Idempotency-Key: $1" \
        -d "{\"kind\":\"deferred_payment\",\"store_id\":\"$sid\",\"reason_code\":\"closing_time\",\"story\":\"load test: pay tomorrow\",\"amount\":{\"amount\":\"1.00\",\"currency\":\"USD\"},\"due_on\":\"$due\"}"
}
read_once() {
    curl -fs -o /dev/null "127.0.0.1:$port/v1/customers/$cid/summary" -H "Authorization: Bearer $token"
}
for i in 1 2 3; do write_once "warm-$i-$RANDOM"; read_once; done
capture() { # capture NAME COMMAND...: the log lines the command caused
    local from; from=$(stat -c %s "$pglog")
    "${@:2}"
    sleep 0.5
    tail -c +$((from + 1)) "$pglog" > "$work/$1.log"
}
key="capture-$(cat /proc/sys/kernel/random/uuid)"
lsn_before="$(command psql -X -At "$pgbase/postgres" -c "SELECT pg_current_wal_lsn()")"
capture write write_once "$key"
lsn_after="$(command psql -X -At "$pgbase/postgres" -c "SELECT pg_current_wal_lsn()")"
# What one write request puts in the WAL, by record type (full-page images
# included): the write path's physical cost.
waldump="$(dirname "$(command -v pg_ctl 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")/pg_waldump"
[ -x "$waldump" ] || waldump="$(ls -d /usr/lib/postgresql/*/bin/pg_waldump | sort -V | tail -1)"
mkdir -p "$root/target/load"
"$waldump" -p "$work/pg/data/pg_wal" -s "$lsn_before" -e "$lsn_after" --stats=record \
    > "$root/target/load/wal-write.txt" 2>&1 || true
capture summary read_once
stop_servers
psql "$pgbase/postgres" -c "ALTER DATABASE goodwill RESET log_statement"
picks=$(wc -l < "$work/picks.tsv")
python3 "$root/benches/load/pgbench_script.py" "$work/write.log" --customer "$cid" --store "$sid" \
    --key "$key" --picks "$picks" > "$work/write.sql"
python3 "$root/benches/load/pgbench_script.py" "$work/summary.log" --customer "$cid" --store "$sid" \
    --picks "$picks" > "$work/summary.sql"
# Round trips the service made for each request, as PostgreSQL logged them.
write_statements=$(grep -cE 'LOG:  (statement|execute [^:]*):' "$work/write.log")
summary_statements=$(grep -cE 'LOG:  (statement|execute [^:]*):' "$work/summary.log")
mkdir -p "$root/target/load"
cp "$work/write.sql" "$work/summary.sql" "$work/write.log" "$work/summary.log" "$root/target/load/"

wait_helpers() { # waits for the samplers of the scenario that just ended
    local p
    for p in $(jobs -p); do
        printf '%s\n' "${servers[@]}" | grep -qx "$p" || wait "$p" 2>/dev/null || true
    done
}

pgbench_run() { # pgbench_run NAME [SCRIPT]: tps, p50, p99 from the per-transaction log
    local name="$1" script="${2:-$work/$1.sql}" dir="$work/pgbench-$1"
    mkdir -p "$dir"
    sample_waits "pgbench-$name" &
    local lsn0 c0; lsn0="$(wal_lsn)"; c0="$(pg_cpu)"
    (cd "$dir" && pgbench -n -M prepared -c "$conns" -j 2 -T "$duration" -l \
        -D tenant="$tenant" -D picks="$picks" \
        -f "$script" "$pgbase/goodwill" > "$dir/out.txt" 2>&1) || {
        cat "$dir/out.txt" >&2
        echo "pgbench failed on $name" >&2
        exit 1
    }
    sleep 0.3 # the postmaster reaps the clients' backends, adding their CPU to its own
    local wal pgt; pgt=$(( $(pg_cpu) - c0 )); wal="$(wal_bytes "$lsn0" "$(wal_lsn)")"
    # Round trips per transaction: the script's SQL commands (a `\gset`
    # query and BEGIN/COMMIT count; pgbench's own `\set` lines do not).
    local trips; trips=$(python3 -c 'import re, sys
t = re.sub(r"(?m)^\s*(--|\\set ).*$", "", open(sys.argv[1]).read())
print(len([c for c in re.split(r";|\\gset", t) if c.strip()]))' "$script")
    python3 - "$dir" "$name" "$wal" "$pgt" "$trips" <<'PY'
import glob, json, re, sys
d, name, wal, pgt, trips = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
out = open(f"{d}/out.txt").read()
tps = float(re.search(r"tps = ([\d.]+) \(without initial", out).group(1))
failed = int(re.search(r"number of failed transactions: (\d+)", out).group(1))
lat = sorted(int(l.split()[2]) for f in glob.glob(f"{d}/pgbench_log.*") for l in open(f))
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(json.dumps({"scenario": name, "target": "pgbench", "rps": tps, "p50_us": q(0.5),
                  "p99_us": q(0.99), "errors": failed, "requests": len(lat),
                  "wal_per_request": wal // max(1, len(lat)),
                  "pg_cpu_ms": pgt * 10 / max(1, len(lat)), "round_trips": trips}))
PY
    wait_helpers
}

scenario() { # scenario BACKEND NAME PORT PID
    local backend="$1" name="$2" p="$3" pid="$4"
    log "$backend: $name, $conns connections, ${duration}s"
    if [ "$backend" = postgres ]; then
        sample_waits "service-$name" &
        perf_service "$name" "$pid" &
    fi
    local lsn0="" wal=0 c0=0 pgt=0 s0
    [ "$backend" = postgres ] && { lsn0="$(wal_lsn)"; c0="$(pg_cpu)"; }
    s0="$(cpu_of "$pid")"
    local j; j="$(run_wrk "$name" "$p" "$conns")"
    local st=$(( $(cpu_of "$pid") - s0 ))
    [ "$backend" = postgres ] && { pgt=$(( $(pg_cpu) - c0 )); wal="$(wal_bytes "$lsn0" "$(wal_lsn)")"; }
    wait_helpers
    local trips=""
    [ "$backend" = postgres ] && [ "$name" = write ] && trips="$write_statements"
    [ "$backend" = postgres ] && [ "$name" = summary ] && trips="$summary_statements"
    python3 - "$backend" "$name" "$(rss_of "$pid")" "$j" "$wal" "$st" "$pgt" "$trips" <<'PY' >> "$results"
import json, sys
backend, name, rss, j, wal = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]), int(sys.argv[5])
st, pgt, trips = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
ok = sum(n for s, n in j["status"].items() if s.startswith("2"))
print(json.dumps({"scenario": name, "target": backend, "rps": j["requests"] / (j["duration_us"] / 1e6),
                  "p50_us": j["p50_us"], "p99_us": j["p99_us"],
                  "errors": j["requests"] - ok + j["socket_errors"], "status": j["status"],
                  "requests": j["requests"], "peak_rss_mb": rss,
                  "wal_per_request": wal // max(1, j["requests"]),
                  "service_cpu_ms": st * 10 / max(1, j["requests"]),
                  "pg_cpu_ms": pgt * 10 / max(1, j["requests"]) if backend == "postgres" else None,
                  "round_trips": int(trips) if trips else None}))
PY
}

# Each service scenario is followed at once by pgbench on the same statements,
# both after a CHECKPOINT and a warm-up, so background work (autovacuum of the
# seed, checkpoints) cannot favour whichever runs later.
settle() {
    command psql -X -q "$pgbase/goodwill" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
}
port=$((40000 + RANDOM % 10000))
serve "$url" "$port"
pid="${servers[0]}"
settle
log "warm-up: 10 s of the mix"
(duration=10; run_wrk mix "$port" "$conns" >/dev/null)
for s in write summary mix; do
    settle
    scenario postgres "$s" "$port" "$pid"
    if [ "$s" != mix ]; then
        settle
        log "pgbench: the same statements as $s, $conns clients, ${duration}s"
        pgbench_run "$s" >> "$results"
        limit=write-limit
        [ "$s" = summary ] && limit=read-limit
        settle
        log "pgbench: the $limit, $conns clients, ${duration}s"
        pgbench_run "$limit" "$root/benches/load/$limit.sql" >> "$results"
    fi
done
stop_servers

# --- scaling curves (PostgreSQL) ---------------------------------------------
if [ "$scaling" = 1 ]; then
    log "scaling: seeding customers with 10, 1,000 and 100,000 entries"
    export GOODWILL_DATABASE_URL="$url"
    for g in 6 600 60000; do
        # History without open items: the summary reads maintained totals and
        # open items, so its cost must not grow with closed history.
        "$bin" dev seed --tenant "$tenant" --customers 1 --gestures "$g" --stores 1 --months 12 \
            --seed "$g" --closed-only >/dev/null
    done
    unset GOODWILL_DATABASE_URL
    psql "$pgbase/goodwill" -c "VACUUM ANALYZE"
    psql "$pgbase/goodwill" -At -F $'\t' -c "
        SELECT c.id, (SELECT count(*) FROM entries e
                      WHERE e.tenant_id = c.tenant_id AND e.customer_id = c.id)
        FROM customers c WHERE c.tenant_id = '$tenant' AND c.external_ref LIKE 'SEED-%-0'
        ORDER BY 2" > "$work/sized.tsv"
    port=$((40000 + RANDOM % 10000))
    serve "$url" "$port"
    latency() { # latency URL: p50 and p99 of one connection for 10 s
        LOAD_TOKEN="$token" LOAD_DIR="$work" LOAD_LUA="$root/benches/load" LOAD_URL="$1" \
            wrk -t1 -c1 -d10s -s "$root/benches/load/get.lua" "http://127.0.0.1:$port" |
            grep '^WRKJSON' | sed 's/^WRKJSON //'
    }
    while IFS=$'\t' read -r c n; do
        j="$(latency "/v1/customers/$c/summary")"
        record "$(python3 -c 'import json,sys; j=json.loads(sys.argv[2]); print(json.dumps({"curve":"summary","entries":int(sys.argv[1]),"p50_us":j["p50_us"],"p99_us":j["p99_us"],"requests":j["requests"]}))' "$n" "$j")"
    done < "$work/sized.tsv"
    big="$(tail -1 "$work/sized.tsv" | cut -f1)"
    # Page 1 and page 1,000 (or the last page, if the list is shorter) of
    # 100-item pages, each timed alone for 10 s.
    for list in "/v1/customers/$big/entries" "/v1/gestures"; do
        cursor="" page=1 last_q="limit=100"
        while [ "$page" -le 1000 ]; do
            q="limit=100${cursor:+&starting_after=$cursor}"
            last_q="$q"
            [ "$page" = 1 ] && {
                j="$(latency "$list?$q")"
                record "$(python3 -c 'import json,sys; j=json.loads(sys.argv[3]); print(json.dumps({"curve":"list","list":sys.argv[1],"page":int(sys.argv[2]),"p50_us":j["p50_us"],"p99_us":j["p99_us"],"requests":j["requests"]}))' "$list" 1 "$j")"
            }
            next="$(curl -fs "127.0.0.1:$port$list?$q" -H "Authorization: Bearer $admin" |
                python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"] or "")')"
            [ -n "$next" ] || break
            cursor="$next"
            page=$((page + 1))
        done
        j="$(latency "$list?$last_q")"
        record "$(python3 -c 'import json,sys; j=json.loads(sys.argv[3]); print(json.dumps({"curve":"list","list":sys.argv[1],"page":int(sys.argv[2]),"p50_us":j["p50_us"],"p99_us":j["p99_us"],"requests":j["requests"]}))' "$list" "$page" "$j")"
    done
    stop_servers
    log "scaling: write throughput with one and with two instances"
    for n in 1 2; do
        ports=()
        for i in $(seq 1 "$n"); do
            p=$((40000 + RANDOM % 10000)); serve "$url" "$p"; ports+=("$p")
        done
        tmp="$work/scale-$n"; mkdir -p "$tmp"
        for p in "${ports[@]}"; do run_wrk write "$p" $((conns / n)) > "$tmp/$p.json" & done
        wait_for=$(jobs -p | grep -v -F -x -f <(printf '%s\n' "${servers[@]}") || true)
        for j in $wait_for; do wait "$j"; done
        record "$(python3 - "$n" "$tmp" <<'PY'
import glob, json, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
runs = [json.loads(open(f).read()) for f in glob.glob(f"{tmp}/*.json")]
rps = sum(r["requests"] / (r["duration_us"] / 1e6) for r in runs)
ok = sum(v for r in runs for s, v in r["status"].items() if s.startswith("2"))
print(json.dumps({"curve": "instances", "instances": n, "rps": rps,
                  "errors": sum(r["requests"] for r in runs) - ok,
                  "p99_us": max(r["p99_us"] for r in runs)}))
PY
)"
        stop_servers
    done
fi

# --- SQLite -----------------------------------------------------------------
if [ "$sqlite" = 1 ]; then
    sq="$work/load.db"
    prepare "$sq"
    python3 - "$sq" "$tenant" "$work" <<'PY'
import sqlite3, sys
db, tenant, work = sys.argv[1:]
con = sqlite3.connect(db)
cs = [r[0] for r in con.execute("SELECT id FROM customers WHERE tenant_id = ? ORDER BY id", (tenant,))]
ss = [r[0] for r in con.execute("SELECT id FROM stores WHERE tenant_id = ? ORDER BY id", (tenant,))]
with open(f"{work}/picks.tsv", "w") as f:
    for n, c in enumerate(cs, 1):
        f.write(f"{n}\t{c}\t{ss[n % len(ss)]}\n")
with open(f"{work}/promises.tsv", "w") as f:
    for (g,) in con.execute("SELECT id FROM gestures WHERE tenant_id = ? AND kind = 'deferred_payment' "
                            "AND status = 'approved' ORDER BY id LIMIT 5000", (tenant,)):
        f.write(f"{g}\n")
PY
    # As PostgreSQL gets its CHECKPOINT and warm-up: the seed leaves a large
    # WAL, and the first commit to check it in would stall every writer
    # queued behind it for seconds (it did: a write p99 of 3.7 s).
    sq_checkpoint() {
        python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$sq"
    }
    sq_checkpoint
    port=$((40000 + RANDOM % 10000))
    serve "$sq" "$port"
    pid="${servers[0]}"
    log "sqlite warm-up: 10 s of the mix"
    (duration=10; run_wrk mix "$port" "$conns" >/dev/null)
    for s in write summary mix; do
        sq_checkpoint
        scenario sqlite "$s" "$port" "$pid"
    done
    stop_servers
fi

# --- the table ----------------------------------------------------------------
python3 - "$results" "$conns" "$duration" "$write_statements" "$summary_statements" <<'PY' | tee "${out:-/dev/null}"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
conns, duration, ws, ss = sys.argv[2:]
base = {r["scenario"]: r for r in rows if r.get("target") == "pgbench"}
limit = {"write": base.get("write-limit"), "summary": base.get("read-limit"), "mix": None}
ms = lambda us: f"{us / 1000:.1f}"
print(f"{conns} connections, {duration} s per scenario. pgbench runs (a) the service's own statements "
      f"as PostgreSQL logged them (round trips per request: write {ws}, summary {ss}; the replay adds "
      f"one to fetch its ids) and (b) the limits: write-limit.sql, the least durable work of one "
      f"deferred payment, and read-limit.sql, one customer's figures by primary key\n")
print("| scenario | target | requests/s | p50 ms | p99 ms | errors | peak RSS MB | WAL bytes/request "
      "| round trips/request | CPU ms/request: service | CPU ms/request: PostgreSQL "
      "| service / replay | service / limit |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
cpu = lambda v: "" if v is None else f"{v:.3f}"
for r in rows:
    if "scenario" not in r:
        continue
    ratio = lim = ""
    if r["target"] == "postgres" and r["scenario"] in base:
        ratio = f"{r['rps'] / base[r['scenario']]['rps']:.2f}"
    if r["target"] == "postgres" and limit.get(r["scenario"]):
        lim = f"{r['rps'] / limit[r['scenario']]['rps']:.2f}"
    trips = r.get("round_trips")
    print(f"| {r['scenario']} | {r['target']} | {r['rps']:,.0f} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | "
          f"{r['errors']} | {r.get('peak_rss_mb', '')} | {r.get('wal_per_request', '')} | "
          f"{'' if trips is None else trips} | "
          f"{cpu(r.get('service_cpu_ms'))} | {cpu(r.get('pg_cpu_ms'))} | {ratio} | {lim} |")
import collections, glob, os
waits = sorted(glob.glob(os.path.join(os.path.dirname(sys.argv[1]), "waits-*.txt")))
if waits:
    print("\nWhat PostgreSQL's busy backends were doing (share of samples, top 5):\n")
    print("| run | samples | top wait events |")
    print("|---|---|---|")
    for w in waits:
        lines = [l.strip() for l in open(w) if l.strip()]
        c = collections.Counter(lines)
        top = ", ".join(f"{k} {100 * n / len(lines):.0f} %" for k, n in c.most_common(5)) if lines else ""
        print(f"| {os.path.basename(w)[6:-4]} | {len(lines)} | {top} |")
curves = [r for r in rows if "curve" in r]
if curves:
    print("\n| curve | case | p50 ms | p99 ms | requests/s |")
    print("|---|---|---|---|---|")
    for r in curves:
        case = {"summary": lambda: f"{r.get('entries')} entries",
                "list": lambda: f"{r.get('list')} page {r.get('page')}",
                "instances": lambda: f"{r.get('instances')} instance(s), errors {r.get('errors')}"}[r["curve"]]()
        rps = f"{r['rps']:,.0f}" if "rps" in r else ""
        print(f"| {r['curve']} | {case} | {ms(r.get('p50_us', 0)) if 'p50_us' in r else ''} | {ms(r['p99_us'])} | {rps} |")
PY
