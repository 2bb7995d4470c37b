#!/usr/bin/env bash
# `make run`: install, migrate, seed the demo, start the task worker and the web server
# on http://127.0.0.1:$PORT; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
export PORT=${PORT:-8000}
EXTRAS="" PYTHON="$PYTHON" VENV="$VENV" bash scripts/venv.sh
PY="$VENV/bin/python"

"$PY" -m b2binvoice migrate --no-input -v 0
"$PY" -m b2binvoice seed_demo
SIM_INFO=""
if "$PY" -m b2binvoice help sim_seed_demo >/dev/null 2>&1; then
  SIM_INFO=$("$PY" -m b2binvoice sim_seed_demo --base-url "http://127.0.0.1:$PORT/sim")
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "Stopping ..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

"$PY" -m b2binvoice db_worker --queue-name '*' --interval 0.5 --no-reload --no-startup-delay &
pids+=($!)
"$PY" -m b2binvoice runserver "127.0.0.1:$PORT" --noreload --skip-checks &
pids+=($!)

sleep 1
cat <<MSG

  b2binvoice is running at http://127.0.0.1:$PORT/
  Log in as: demo / demo
$SIM_INFO
  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}" || true
