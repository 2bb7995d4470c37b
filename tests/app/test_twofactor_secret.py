"""The authenticator app's secret is encrypted at rest, shown only while turning two-factor login on."""

from __future__ import annotations

import base64
import binascii
import io
import logging
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client as HttpClient
from django_otp.oath import hotp

PASSWORD = "a-long-enough-passphrase"
TABLE = "core_authenticatordevice"
LEGACY_TABLE = "otp_totp_totpdevice"


def _code(key: bytes, steps_ahead: int = 0) -> str:
    return f"{hotp(key, int(time.time()) // 30 + steps_ahead):06d}"


def _forms_of(key: bytes) -> list[str]:
    """The ways the secret could be written down: hex (either case), base32 (padded or not), base64."""
    b32 = base64.b32encode(key).decode()
    return [binascii.hexlify(key).decode(), binascii.hexlify(key).decode().upper(), b32, b32.rstrip("="),
            b32.lower().rstrip("="), base64.b64encode(key).decode()]


def _table_text(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a fixed name
        return repr(cursor.fetchall())


def _secret_from(page: str) -> bytes:
    match = re.search(r"<code data-secret>([A-Z2-7 ]+)</code>", page)
    assert match, "the secret is not shown"
    secret = match.group(1).replace(" ", "")
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", email="alice.wonderland@example.com", password=PASSWORD)


def test_the_secret_is_encrypted_in_the_database_and_never_shown_or_logged_once_on(alice, caplog):
    caplog.set_level(logging.DEBUG)
    browser = HttpClient()
    browser.post("/login/", {"username": "alice", "password": PASSWORD})
    key = _secret_from(browser.get("/account/two-factor/").content.decode())
    # Even the device waiting for its first code keeps the secret encrypted.
    pending = _table_text(TABLE)
    assert "alice" not in pending and pending != "[]"
    assert not any(form in pending for form in _forms_of(key))
    assert browser.post("/account/two-factor/", {"action": "enable", "code": _code(key)}).status_code == 302

    stored = _table_text(TABLE)
    assert stored != "[]"
    assert not any(form in stored for form in _forms_of(key)), "the secret is readable in the database"
    assert _table_text(LEGACY_TABLE) == "[]"
    # Once on, no page shows the secret again (not even the QR code).
    for path in ("/account/two-factor/", "/account/"):
        page = browser.get(path).content.decode()
        assert "data-secret" not in page and "data:image/svg" not in page
        assert not any(form in page for form in _forms_of(key)), path

    # Logging in with a code works from the encrypted secret, and nothing logged carries it.
    browser.post("/logout/")
    browser.post("/login/", {"username": "alice", "password": PASSWORD})
    assert browser.post("/login/verify/", {"code": _code(key, 1), "next": "/account/"})["Location"] == "/account/"
    logged = "\n".join(record.getMessage() + repr(record.args) for record in caplog.records)
    assert not any(form in logged for form in _forms_of(key))


def test_the_admin_lists_authenticator_apps_without_their_secret(alice, admin_client):
    browser = HttpClient()
    browser.post("/login/", {"username": "alice", "password": PASSWORD})
    key = _secret_from(browser.get("/account/two-factor/").content.decode())
    browser.post("/account/two-factor/", {"action": "enable", "code": _code(key)})
    listing = admin_client.get("/admin/core/authenticatordevice/")
    assert listing.status_code == 200 and "alice" in listing.content.decode()
    device_url = re.search(r'href="(/admin/core/authenticatordevice/\d+/change/)"', listing.content.decode())
    assert device_url
    page = admin_client.get(device_url.group(1)).content.decode()
    assert not any(form in page for form in _forms_of(key))
    assert admin_client.get("/admin/core/authenticatordevice/add/").status_code == 403
    # django-otp's plain-text devices are not offered.
    assert admin_client.get("/admin/otp_totp/totpdevice/").status_code == 404


# --- existing devices are migrated ---

BEFORE = [("core", "0002_userpreference"), ("otp_totp", "0003_add_timestamps")]
AFTER = [("core", "0003_authenticatordevice")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_existing_devices_move_to_the_encrypted_table_and_back():
    apps = _migrate(BEFORE)
    user_model = apps.get_model("auth", "User")
    legacy = apps.get_model("otp_totp", "TOTPDevice")
    bob = user_model.objects.create(username="bob", password="!")
    carol = user_model.objects.create(username="carol", password="!")
    bob_key, carol_key = "3132333435363738393031323334353637383930", "00112233445566778899aabbccddeeff00112233"
    legacy.objects.create(user=bob, name="Authenticator app", confirmed=True, key=bob_key, last_t=42,
                          throttling_failure_count=2)
    legacy.objects.create(user=carol, name="Authenticator app", confirmed=False, key=carol_key)
    assert bob_key in _table_text(LEGACY_TABLE)

    apps = _migrate(AFTER)
    stored = _table_text(TABLE)
    assert _table_text(LEGACY_TABLE) == "[]"
    for key in (bob_key, carol_key):
        assert not any(form in stored for form in _forms_of(binascii.unhexlify(key)))
    device = apps.get_model("core", "AuthenticatorDevice")
    moved = {d.user.username: d for d in device.objects.select_related("user")}
    assert moved["bob"].key == bob_key and moved["bob"].confirmed and moved["bob"].last_t == 42
    assert moved["bob"].throttling_failure_count == 2
    assert moved["carol"].key == carol_key and not moved["carol"].confirmed

    apps = _migrate(BEFORE)  # reversed: the devices are back in django-otp's table, the new one is gone
    assert TABLE not in connection.introspection.table_names()
    back = {d.user.username: d.key for d in apps.get_model("otp_totp", "TOTPDevice").objects.select_related("user")}
    assert back == {"bob": bob_key, "carol": carol_key}


@pytest.mark.django_db
def test_a_device_with_a_known_secret_logs_in_and_the_command_turns_it_off():
    from b2binvoice.core.models import AuthenticatorDevice

    user = get_user_model().objects.create_user("dave", password=PASSWORD)
    key = binascii.unhexlify("3132333435363738393031323334353637383930")
    AuthenticatorDevice.objects.create(user=user, name="Authenticator app", confirmed=True, key=key.hex())
    browser = HttpClient()
    browser.post("/login/", {"username": "dave", "password": PASSWORD})
    assert browser.get("/account/")["Location"].startswith("/login/verify/")
    assert browser.post("/login/verify/", {"code": _code(key)}).status_code == 302
    assert browser.get("/account/").status_code == 200
    out = io.StringIO()
    call_command("twofactor_disable", "dave", stdout=out)
    assert "Two-factor login turned off for dave." in out.getvalue()
    assert not AuthenticatorDevice.objects.exists()
