"""Serving for real: gunicorn with WhiteNoise, as `make run` and docs/deploy.md start it.

Each test migrates a throwaway SQLite database, starts gunicorn on a free 127.0.0.1 port in a
subprocess, talks HTTP to it and stops it; every step is bounded in time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.app.test_security_defaults import _CLEARED, ROOT, production_env, run_b2binvoice

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def development_env(tmp_path: Path) -> dict[str, str]:
    """`make run`'s environment: development mode, data in a folder of its own."""
    env = {key: value for key, value in os.environ.items() if key not in _CLEARED}
    env.update({"B2BINVOICE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})
    return env


@contextmanager
def gunicorn(env: dict[str, str], *, host: str | None = None, startup_seconds: float = 60) -> Iterator[str]:
    """Run gunicorn as scripts/run.sh does (gthread, 2 workers) and yield its base URL."""
    port = _free_port()
    env = {**env, "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "b2binvoice.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", "2", "--threads", "4", "--graceful-timeout", "5",
         "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}: {process.stdout.read()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2, headers={"Host": host} if host else None).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not answer /healthz in time")
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if process.stdout:
            process.stdout.close()


def _prepare(env: dict[str, str], *, collectstatic: bool) -> None:
    migrate = run_b2binvoice(env, "migrate", "--no-input", "-v", "0")
    assert migrate.returncode == 0, migrate.stderr
    if collectstatic:
        collect = run_b2binvoice(env, "collectstatic", "--no-input", "-v", "0")
        assert collect.returncode == 0, collect.stderr


def test_make_run_serves_the_demo_with_gunicorn_and_whitenoise(tmp_path):
    env = development_env(tmp_path)
    _prepare(env, collectstatic=True)  # as scripts/run.sh does
    with gunicorn(env) as base, httpx.Client(base_url=base, timeout=10) as http:
        health = http.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        assert health.headers["server"] == "gunicorn"
        # Kept-alive requests are answered on the same connection.
        for _ in range(3):
            assert http.get("/healthz").status_code == 200

        login = http.get("/login/")
        assert login.status_code == 200
        assert '<form method="post" action="/login/">' in login.text
        assert "Content-Security-Policy" in login.headers

        assert http.get("/readyz").json()["pending_migrations"] == 0
        script = http.get("/static/b2binvoice/app.js")
        assert script.status_code == 200
        assert "data-add-row" in script.text
        assert script.headers["content-type"].startswith("text/javascript")
        htmx = http.get("/static/django_htmx/htmx-2.min.js")
        assert htmx.status_code == 200


def test_production_serving_behind_a_tls_proxy(tmp_path):
    env = production_env(tmp_path, TRUST_X_FORWARDED_PROTO="true", STATIC_ROOT=str(tmp_path / "static"))
    _prepare(env, collectstatic=True)
    assert (tmp_path / "static" / "b2binvoice" / "app.css").is_file()
    host = {"Host": "invoices.example.com"}
    with gunicorn(env, host=host["Host"]) as base, httpx.Client(base_url=base, timeout=10, headers=host) as http:
        assert http.get("/healthz").status_code == 200  # plain HTTP, as a load balancer probes
        assert http.get("/readyz").status_code == 200

        redirected = http.get("/login/")
        assert redirected.status_code == 301
        assert redirected.headers["location"] == "https://invoices.example.com/login/"

        login = http.get("/login/", headers={"X-Forwarded-Proto": "https"})
        assert login.status_code == 200
        assert login.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert "script-src 'self'" in login.headers["content-security-policy"]
        assert "Secure" in login.headers["set-cookie"]  # the CSRF cookie

        # WhiteNoise serves the collected files, compressed when the browser accepts it.
        css = http.get("/static/b2binvoice/app.css", headers={"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"})
        assert css.status_code == 200
        assert css.headers.get("content-encoding") == "gzip"
        assert ".htmx-indicator" in css.text

        # Unknown hosts are refused (ALLOWED_HOSTS).
        assert http.get("/login/", headers={"Host": "evil.example", "X-Forwarded-Proto": "https"}).status_code == 400
        # The simulator is not mounted in production.
        assert http.get("/sim/app/", headers={"X-Forwarded-Proto": "https"}).status_code == 404
