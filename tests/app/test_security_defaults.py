"""Secure by default: production settings pass ``check --deploy``; headers, cookies, CSP and sessions.

Production mode is decided when the settings are imported (``SECRET_KEY`` set), so the production
tests run the app in a subprocess with the documented production environment (docs/deploy.md).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client as HttpClient
from django.test import override_settings

from b2binvoice.core.sessions import LAST_SEEN_KEY

ROOT = Path(__file__).resolve().parents[2]
# Variables of the developer's environment that would change what is tested.
_CLEARED = {
    "SECRET_KEY", "DEBUG", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL",
    "SIMULATOR_ENABLED", "SECURE_COOKIES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "TRUST_X_FORWARDED_PROTO", "TRUSTED_PROXY_COUNT", "SESSION_IDLE_SECONDS",
    "TASKS_BACKEND", "B2BINVOICE_DATA_DIR", "STATIC_ROOT", "DJANGO_SETTINGS_MODULE", "SQLITE_TEST_NAME",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the test suite for the browser tests; never in production
}


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The documented production environment, with a throwaway SQLite database."""
    env = {key: value for key, value in os.environ.items() if key not in _CLEARED}
    env.update({
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "invoices.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://invoices.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "B2BINVOICE_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def run_b2binvoice(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "b2binvoice", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = run_b2binvoice(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_warns_when_https_protections_are_turned_off(tmp_path):
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")
    result = run_b2binvoice(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # HSTS
    assert "security.W008" in result.stderr + result.stdout  # SSL redirect


# Runs inside the production-mode subprocess: migrates the throwaway database, then drives the app
# through Django's test client and prints what it saw as JSON.
_PROBE = r"""
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "b2binvoice.settings")
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
from django.contrib.auth import get_user_model
from django.conf import settings
setup_test_environment()
call_command("migrate", verbosity=0)
get_user_model().objects.create_user("owner", password="a-long-enough-passphrase")
host = {"HTTP_HOST": "invoices.example.com"}
out = {"debug": settings.DEBUG}
plain = Client().get("/login/", **host)
out["plain"] = [plain.status_code, plain.get("Location")]
forwarded = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https", **host)
out["forwarded"] = [forwarded.status_code, forwarded.get("Location")]
health = Client().get("/healthz", **host)
out["healthz_plain"] = health.status_code
browser = Client()
page = browser.get("/login/", secure=True, **host)
out["login"] = {"status": page.status_code, "headers": dict(page.headers)}
login = browser.post("/login/", {"username": "owner", "password": "a-long-enough-passphrase"}, secure=True, **host)
out["after_login"] = [login.status_code, login.get("Location")]
out["cookies"] = {name: {key: str(morsel[key]) for key in ("secure", "httponly", "samesite", "expires", "max-age")}
                  for name, morsel in {**page.cookies, **login.cookies}.items()}
print("PROBE" + json.dumps(out))
"""


def probe(env: dict[str, str]) -> dict:
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE"))
    return json.loads(line[len("PROBE"):])


def test_production_mode_forces_https_and_sends_hsts_csp_and_secure_cookies(tmp_path):
    seen = probe(production_env(tmp_path))
    assert seen["debug"] is False
    # Plain HTTP is redirected to HTTPS; X-Forwarded-Proto is not trusted unless configured.
    assert seen["plain"] == [301, "https://invoices.example.com/login/"]
    assert seen["forwarded"] == [301, "https://invoices.example.com/login/"]
    # Load balancers probe the health endpoint over plain HTTP.
    assert seen["healthz_plain"] == 200

    assert seen["login"]["status"] == 200
    headers = seen["login"]["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csp = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) if " " in part.strip() else (part.strip(), "")
                      for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "upgrade-insecure-requests" in directives
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"

    assert seen["after_login"] == [302, "/invoices/"]
    session, csrf = seen["cookies"]["sessionid"], seen["cookies"]["csrftoken"]
    assert session["secure"] is True or session["secure"] == "True"
    assert session["httponly"] == "True"
    assert session["samesite"] == "Lax"
    assert session["expires"] == "" and session["max-age"] == ""  # ends with the browser
    assert csrf["secure"] == "True"


def test_x_forwarded_proto_is_trusted_only_when_configured(tmp_path):
    seen = probe(production_env(tmp_path, TRUST_X_FORWARDED_PROTO="true"))
    assert seen["plain"] == [301, "https://invoices.example.com/login/"]
    assert seen["forwarded"] == [200, None]


def test_hsts_lifetime_and_subdomains_are_configurable(tmp_path):
    seen = probe(production_env(tmp_path, SECURE_HSTS_SECONDS="600", SECURE_HSTS_INCLUDE_SUBDOMAINS="false"))
    assert seen["login"]["headers"]["Strict-Transport-Security"] == "max-age=600"


# --- development mode (this process): the same CSP, and pages that work under it ---

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_HANDLER_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_STYLE = re.compile(r"<style\b|<[^>]*\sstyle\s*=", re.IGNORECASE)
_JS_URL = re.compile(r"""(href|action|src)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def _pages(lingua) -> list[str]:
    from b2binvoice.clients.models import Client
    from b2binvoice.invoices.models import Invoice

    invoice = Invoice.objects.filter(company=lingua).order_by("number").first()
    client = Client.objects.filter(company=lingua).order_by("name").first()
    return [
        "/invoices/", f"/invoices/{invoice.pk}/", f"/invoices/{invoice.pk}/edit/", "/invoices/new/",
        "/clients/", f"/clients/{client.pk}/", "/settings/company/", "/settings/taxes/", "/settings/payment-methods/",
        "/settings/integrations/b2brouter/", "/account/password/", "/account/", "/account/two-factor/",
    ]


def test_every_page_carries_the_csp_and_needs_no_inline_script_or_style(demo_web, lingua):
    checked = 0
    for url in _pages(lingua):
        response = demo_web.get(url)
        if response.status_code == 404:  # a page another version of the app names differently
            continue
        assert response.status_code == 200, url
        checked += 1
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe" not in policy, url
        html = response.content.decode()
        assert not _INLINE_SCRIPT.search(html), (url, _INLINE_SCRIPT.search(html).group(0))
        assert not _HANDLER_ATTRIBUTE.search(html), (url, _HANDLER_ATTRIBUTE.search(html).group(0))
        assert not _STYLE.search(html), (url, _STYLE.search(html).group(0))
        assert not _JS_URL.search(html), url
    assert checked >= 8
    login = HttpClient().get("/login/")
    assert "Content-Security-Policy" in login
    assert not _INLINE_SCRIPT.search(login.content.decode())


def test_htmx_is_told_not_to_eval_nor_inject_styles(demo_web):
    html = demo_web.get("/invoices/").content.decode()
    match = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", html)
    assert match, "htmx-config meta missing"
    assert json.loads(match.group(1)) == {"allowEval": False, "includeIndicatorStyles": False}


# --- sessions ---


def test_the_session_cookie_ends_with_the_browser(seeded):
    browser = HttpClient()
    response = browser.post("/login/", {"username": "demo", "password": "demo"})
    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert cookie["httponly"]


def test_an_idle_session_is_logged_out_and_an_active_one_kept(demo_web):
    from django.conf import settings
    from django.contrib.sessions.models import Session

    assert settings.SESSION_IDLE_SECONDS == 8 * 3600
    assert demo_web.get("/invoices/").status_code == 200
    session_key = demo_web.cookies["sessionid"].value
    expiry = Session.objects.get(session_key=session_key).expire_date
    assert 8 * 3600 - 120 < (expiry.timestamp() - time.time()) <= 8 * 3600

    # Seven hours without a request: still logged in, and the expiry moves on.
    session = demo_web.session
    session[LAST_SEEN_KEY] = int(time.time()) - 7 * 3600
    session.save()
    assert demo_web.get("/invoices/").status_code == 200
    assert demo_web.session[LAST_SEEN_KEY] >= int(time.time()) - 5

    # Eight hours and a minute: logged out, and the login page asks again.
    session = demo_web.session
    session[LAST_SEEN_KEY] = int(time.time()) - 8 * 3600 - 60
    session.save()
    response = demo_web.get("/invoices/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not Session.objects.filter(session_key=session_key).exists()
    assert "You were logged out after 8 hours without activity." in demo_web.get(response["Location"]).content.decode()


@override_settings(SESSION_IDLE_SECONDS=300)
def test_the_idle_time_is_configurable(demo_web):
    session = demo_web.session
    session[LAST_SEEN_KEY] = int(time.time()) - 301
    session.save()
    response = demo_web.get("/invoices/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")
    assert "You were logged out after 5 minutes without activity." in response.content.decode()


def test_an_anonymous_request_creates_no_session(db):
    response = HttpClient().get("/healthz")
    assert response.status_code == 200
    assert not response.cookies


@pytest.mark.parametrize("path", ["/login/", "/invoices/"])
def test_pages_cannot_be_framed(db, path):
    response = HttpClient().get(path, follow=True)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
