#!/usr/bin/env bash
# `make run`: install, migrate, seed the demo, collect the static files, start the task worker and
# the web server (gunicorn with WhiteNoise) on http://127.0.0.1:$PORT; Ctrl-C stops everything.
# DATABASE_URL=postgres://... make run uses PostgreSQL (psycopg is a base dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
export PORT=${PORT:-8000}
EXTRAS="" PYTHON="$PYTHON" VENV="$VENV" bash scripts/venv.sh
PY="$VENV/bin/python"

"$PY" -m b2binvoice migrate --no-input -v 0
"$PY" -m b2binvoice collectstatic --no-input -v 0
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

# Job control puts each service in a process group of its own: Ctrl-C reaches only this script,
# whose cleanup stops them gracefully (SIGTERM), instead of interrupting them mid-request.
set -m
"$PY" -m b2binvoice db_worker --queue-name '*' --interval 0.5 --no-reload --no-startup-delay &
pids+=($!)
# The production server, as in docs/deploy.md. The app calls the simulator it hosts over HTTP on
# this same port, so one request can wait for another: threads (2 workers x 8) keep both served.
"$PY" -m gunicorn b2binvoice.wsgi:application --bind "127.0.0.1:$PORT" \
  --worker-class gthread --workers "${WEB_WORKERS:-2}" --threads "${WEB_THREADS:-8}" \
  --graceful-timeout 5 --no-control-socket --log-level warning &
pids+=($!)

sleep 1
cat <<MSG

  b2binvoice is running at http://127.0.0.1:$PORT/
  Log in as: demo / demo
$SIM_INFO
  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}" || true
