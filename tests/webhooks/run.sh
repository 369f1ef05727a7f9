#!/usr/bin/env bash
# Real deliveries verified by the standardwebhooks package from PyPI (in
# target/webhooks-venv), on SQLite and on PostgreSQL (tests/webhooks/verify.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${GOODWILL_WEBHOOKS_VENV:-target/webhooks-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    }
fi
"$venv/bin/pip" install -q "standardwebhooks==1.3.0"
cargo build -q --bin goodwill
"$venv/bin/python" tests/webhooks/verify.py --binary target/debug/goodwill --backend sqlite
"$venv/bin/python" tests/webhooks/verify.py --binary target/debug/goodwill --backend postgres
