"""The B2Brouter simulator is a development tool: production settings leave it unmounted.

Production mode is decided when the settings are imported (``SECRET_KEY`` set), so those checks
run in a subprocess with the documented production environment (see test_security_defaults.py).
In development (the demo, the tests) it is mounted, and its web pages require a login.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.test import Client as HttpClient

from tests.app.test_security_defaults import ROOT, production_env, run_b2binvoice

_PROBE = r"""
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "b2binvoice.settings")
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import Resolver404, resolve
from b2binvoice.einvoicing.forms import environment_choices
setup_test_environment()
paths = ["/sim/app/", "/sim/app/accounts/1", "/sim/accounts", "/sim/_control/accounts", "/sim/openapi.yaml"]
out = {"enabled": settings.SIMULATOR_ENABLED, "installed": "b2brouter_sim" in settings.INSTALLED_APPS,
       "environments": [value for value, _ in environment_choices()], "resolved": {}, "status": {}}
for path in paths:
    try:
        out["resolved"][path] = resolve(path).view_name
    except Resolver404:
        out["resolved"][path] = None
    # GET only: no database is needed to be refused (404) or sent to the login page (302).
    response = Client().get(path, secure=True, HTTP_HOST="invoices.example.com")
    out["status"][path] = [response.status_code, response.get("Location")]
print("PROBE" + json.dumps(out))
"""


def probe(env: dict[str, str]) -> dict:
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE"))
    return json.loads(line[len("PROBE"):])


def test_production_settings_do_not_mount_the_simulator(tmp_path):
    seen = probe(production_env(tmp_path))
    assert seen["enabled"] is False and seen["installed"] is False
    assert "simulator" not in seen["environments"]  # the settings page offers no "Local simulator"
    for path, view in seen["resolved"].items():
        assert view is None, path
        assert seen["status"][path][0] == 404, path
    # Nor are its commands there.
    unknown = run_b2binvoice(production_env(tmp_path), "sim_account", "--json")
    assert unknown.returncode != 0
    assert "Unknown command" in unknown.stderr


def test_production_mounts_it_only_when_asked_and_still_behind_a_login(tmp_path):
    seen = probe(production_env(tmp_path, SIMULATOR_ENABLED="true"))
    assert seen["enabled"] is True and seen["installed"] is True
    assert seen["resolved"]["/sim/app/"] == "b2brouter_sim:app-accounts"
    assert seen["status"]["/sim/app/"] == [302, "/login/?next=/sim/app/"]
    assert seen["status"]["/sim/app/accounts/1"] == [302, "/login/?next=/sim/app/accounts/1"]


@pytest.mark.django_db
def test_the_demo_mounts_it_and_the_demo_user_opens_its_pages(demo_web: HttpClient, settings) -> None:
    assert settings.SIMULATOR_ENABLED is True
    assert HttpClient().get("/sim/app/")["Location"] == "/login/?next=/sim/app/"
    listing = demo_web.get("/sim/app/")
    assert listing.status_code == 200
    assert b"B2Brouter" in listing.content
