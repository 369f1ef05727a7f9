#!/usr/bin/env bash
# Fits BG/NBD and Gamma-Gamma on the same 1,000,000 customers' statistics with
# goodwill (release build, `goodwill value fit-file`) and with the `lifetimes`
# package, in the same run on this machine, and prints both times and their
# ratio (reading the statistics excluded on both sides). Figures:
# docs/BENCHMARKS.md.
#   CUSTOMERS=1000000 bash benches/value_vs_lifetimes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n="${CUSTOMERS:-1000000}"
venv="${GOODWILL_LIFETIMES_VENV:-target/lifetimes-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "setuptools<81" "lifetimes==0.11.3"
cargo build -q --release --bin goodwill
stats="$(mktemp -d)/stats.csv"
target/release/goodwill value simulate --customers "$n" --seed 42 > "$stats"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $n customers"
"$venv/bin/python" tests/value/compare_lifetimes.py --goodwill target/release/goodwill --time "$stats"
rm -f "$stats"
