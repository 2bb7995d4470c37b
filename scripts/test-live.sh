#!/usr/bin/env bash
# `make test-live`: the client's contract tests (tests/live) against a real B2Brouter environment.
# Needs B2BROUTER_LIVE_API_KEY and B2BROUTER_LIVE_ACCOUNT_ID (B2BROUTER_LIVE_BASE_URL for staging;
# production's host otherwise, where a test_ key is the sandbox); without them it skips, exit 0.
# `make test` runs the same tests against the simulator; only this script selects B2Brouter.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${B2BROUTER_LIVE_API_KEY:-}" ] || [ -z "${B2BROUTER_LIVE_ACCOUNT_ID:-}" ]; then
  echo "live contract suite skipped: set B2BROUTER_LIVE_API_KEY and B2BROUTER_LIVE_ACCOUNT_ID (and B2BROUTER_LIVE_BASE_URL for staging)"
  exit 0
fi
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=test PYTHON="$PYTHON" VENV="$VENV" bash scripts/venv.sh
export PYTHONDONTWRITEBYTECODE=1
echo "=== Live contract suite against ${B2BROUTER_LIVE_BASE_URL:-https://api.b2brouter.net} (account ${B2BROUTER_LIVE_ACCOUNT_ID}) ==="
B2BROUTER_LIVE_SUITE=1 "$VENV/bin/python" -m pytest tests/live -p no:randomly "$@"
