#!/usr/bin/env bash
# `make bench`: install what the benchmarks need, then run them and print their figures.
# SQLite by default, in throwaway files under data/ (never the demo's database); with a
# PostgreSQL DATABASE_URL they run in a throwaway test_<name>_bench<pid> database beside it.
# Benchmarks measure and print; they assert no time. Pick some: bash scripts/bench.sh pages
# The lists at 100,000 invoices (lists) run on PostgreSQL only; on SQLite they print why they skip.
# The operations benchmark (ops) seeds BENCH_SYNC_INVOICES (10000) invoices; BENCH_POLL_SAMPLE (1000) are polled one by one.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=test PYTHON="$PYTHON" VENV="$VENV" bash scripts/venv.sh
PY="$VENV/bin/python"

export PYTHONDONTWRITEBYTECODE=1
unset SECRET_KEY  # development mode: the simulator is mounted at /sim/
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  echo "=== Benchmarks on PostgreSQL ==="
else
  unset DATABASE_URL  # the runner picks throwaway SQLite files under data/
  echo "=== Benchmarks on SQLite ==="
fi
# Bulk push (bench_bulk.py): 1,000 invoices in bulk vs a sample pressed one at a time, 100 ms latency.
export BENCH_BULK_INVOICES=${BENCH_BULK_INVOICES:-1000} BENCH_BULK_ONE_BY_ONE=${BENCH_BULK_ONE_BY_ONE:-60}
exec "$PY" -m tests.benchmarks.run "$@"
