#!/usr/bin/env bash
# The console's stories in a real headless Chromium, on SQLite and on
# PostgreSQL (tests/console/stories.py). Installs Debian's chromium and
# chromium-driver when missing (one source version: they never drift apart)
# and Selenium from PyPI into target/console-venv; nothing downloads a browser.
#
#   bash tests/console/run.sh                 # both backends; pictures in target/console-shots/
#   bash tests/console/run.sh --screenshots   # also renews the pictures in docs/console/
set -euo pipefail
cd "$(dirname "$0")/../.."

shots=""
[ "${1:-}" = "--screenshots" ] && shots="docs/console"

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "installing chromium and chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
venv="${GOODWILL_CONSOLE_VENV:-target/console-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    }
fi
"$venv/bin/pip" install -q "selenium==4.51.0"
cargo build -q --bin goodwill
"$venv/bin/python" tests/console/stories.py --binary target/debug/goodwill --backend sqlite ${shots:+--screenshots "$shots"}
"$venv/bin/python" tests/console/stories.py --binary target/debug/goodwill --backend postgres
