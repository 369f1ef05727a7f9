#!/usr/bin/env bash
# Schemathesis against our own contract: the service (debug build unless
# GOODWILL_BIN says otherwise) on 127.0.0.1 with a fresh SQLite database, a
# tenant with a store and a customer, and tokens for an admin and a clerk; all
# checks, every phase (examples, coverage, fuzzing, stateful over the links of
# api-spec/openapi.json), bounded in examples and time. Exits 0 only when
# Schemathesis finds nothing: no 5xx, every response conforms to the contract,
# every documented status is real.
#   bash tests/contract/run.sh [--max-examples 25] [--max-time 300]
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
max_examples=25 max_time=300
while [ $# -gt 0 ]; do
    case "$1" in
    --max-examples) max_examples="$2"; shift 2 ;;
    --max-time) max_time="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done
venv="${GOODWILL_SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==4.32.5" "hypothesis==6.170.17"
fi
bin="${GOODWILL_BIN:-$root/target/debug/goodwill}"
[ -x "$bin" ] || cargo build -q --bin goodwill

work="$(mktemp -d)"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
export GOODWILL_DATABASE_URL="$work/contract.db"
export GOODWILL_JWT_SECRET="contract-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export GOODWILL_LOG=warn
# Fuzzed webhook endpoints must never be called: this instance delivers nothing.
export GOODWILL_WEBHOOKS_WORKER=false
unset GOODWILL_RATE_LIMIT_PER_SECOND
"$bin" migrate 2>/dev/null
tenant="$("$bin" tenant create --name contract 2>/dev/null | tail -1)"
admin="$("$bin" token --tenant "$tenant" --sub contract-admin --role admin --ttl 8h | tail -1)"
clerk="$("$bin" token --tenant "$tenant" --sub contract-clerk --role clerk --ttl 8h | tail -1)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$bin" serve --bind "127.0.0.1:$port" --no-migrate >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
curl -fs -X POST "$base/v1/stores" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"name":"Contract","code":"CT","currency":"USD"}' >/dev/null
curl -fs -X POST "$base/v1/customers" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"external_ref":"CT-1","name":"Ann"}' >/dev/null

status=0
for who in admin clerk; do
    token="$admin"; [ "$who" = clerk ] && token="$clerk"
    echo "== schemathesis as $who (max $max_examples examples per operation, $max_time s)"
    SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$root/tests/contract" \
    "$venv/bin/schemathesis" --config-file "$root/tests/contract/schemathesis.toml" run \
        "$root/api-spec/openapi.json" --url "$base" \
        -H "Authorization: Bearer $token" \
        --checks all --phases examples,coverage,fuzzing,stateful \
        --max-examples "$max_examples" --max-time "$max_time" --seed 42 \
        --workers 2 --request-timeout 10 --no-color \
        --report junit --report-dir "$root/target/schemathesis-$who" || status=1
done
if grep -q "panicked" "$work/server.log"; then
    echo "the server panicked:" >&2
    grep -A5 panicked "$work/server.log" >&2
    status=1
fi
exit "$status"
