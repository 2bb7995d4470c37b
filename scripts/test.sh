#!/usr/bin/env bash
# `make test`: install what the tests need, run the suite on SQLite, then on PostgreSQL.
# PostgreSQL comes from DATABASE_URL, else the local server on 127.0.0.1:5432; under
# CI (CI=true) it is required, elsewhere its absence only skips that pass.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
ONLY=${ONLY:-}
EXTRAS="test,e2e,postgres,redis" PYTHON="$PYTHON" VENV="$VENV" bash scripts/venv.sh
PY="$VENV/bin/python"

# Browser tests drive Debian's chromium; install it when missing and apt-get can.
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the browser tests ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core) >/dev/null 2>&1 \
      || echo "warning: could not install chromium; browser tests will be skipped" >&2
  else
    echo "warning: chromium not found and apt-get unavailable; browser tests will be skipped" >&2
  fi
fi
if [ "${CI:-}" = "true" ] && ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  echo "CI requires chromium for the browser tests." >&2
  exit 1
fi

export PYTHONDONTWRITEBYTECODE=1
unset SECRET_KEY  # tests run in development mode with the simulator on
status=0

if [ -z "$ONLY" ] || [ "$ONLY" = sqlite ]; then
  echo "=== Test suite on SQLite ==="
  mkdir -p data
  DATABASE_URL="sqlite:///$(pwd)/data/test-default.sqlite3" SQLITE_TEST_NAME="$(pwd)/data/test.sqlite3" "$PY" -m pytest "$@" || status=$?
fi

if [ -z "$ONLY" ] || [ "$ONLY" = postgres ]; then
  PG_URL=${POSTGRES_URL:-}
  if [ -z "$PG_URL" ] && [[ "${DATABASE_URL:-}" == postgres* ]]; then PG_URL=$DATABASE_URL; fi
  if [ -z "$PG_URL" ]; then PG_URL="postgres://postgres@127.0.0.1:5432/b2binvoice"; fi
  if "$PY" - "$PG_URL" <<'PYEOF'
import sys, psycopg, dj_database_url
cfg = dj_database_url.parse(sys.argv[1])
try:
    psycopg.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                    password=cfg["PASSWORD"] or None, dbname="postgres", connect_timeout=5).close()
except Exception as exc:
    print(f"PostgreSQL not reachable: {exc}", file=sys.stderr)
    sys.exit(1)
PYEOF
  then
    echo "=== Test suite on PostgreSQL ==="
    DATABASE_URL="$PG_URL" "$PY" -m pytest "$@" || status=$?
  elif [ "${CI:-}" = "true" ]; then
    echo "CI requires PostgreSQL (set DATABASE_URL or run it on 127.0.0.1:5432)." >&2
    status=1
  else
    echo "PostgreSQL not reachable: skipping the PostgreSQL pass."
  fi
fi
exit $status
