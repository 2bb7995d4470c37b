"""Logins resist guessing: throttling per account and address, password rules, the demo user."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client as HttpClient
from django.test import override_settings
from django_otp.oath import hotp

PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", email="alice.wonderland@example.com", password=PASSWORD)


def _login(browser: HttpClient, username: str, password: str):
    return browser.post("/login/", {"username": username, "password": password})


def _logged_in(browser: HttpClient) -> bool:
    return browser.get("/account/password/").status_code == 200


def test_five_wrong_passwords_lock_the_account_from_that_address_with_a_clear_message(alice):
    browser = HttpClient(REMOTE_ADDR="198.51.100.7")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        response = _login(browser, "alice", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    locked = _login(browser, "alice", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins for this account from your network address." in page
    assert "Logins are refused for 15 more minutes: try again after " in page
    retry_after = int(locked["Retry-After"])
    assert 14 * 60 < retry_after <= 15 * 60

    # The right password does not help while the lock lasts, and logs nobody in.
    refused = _login(browser, "alice", PASSWORD)
    assert refused.status_code == 429
    assert not _logged_in(browser)

    # The owner, from another address, still gets in.
    elsewhere = HttpClient(REMOTE_ADDR="203.0.113.9")
    assert _login(elsewhere, "alice", PASSWORD).status_code == 302
    assert _logged_in(elsewhere)


def test_attempts_during_a_lockout_do_not_extend_it_and_it_ends_after_the_cool_off(alice):
    browser = HttpClient(REMOTE_ADDR="198.51.100.8")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _login(browser, "alice", "wrong")
    for _ in range(10):
        assert _login(browser, "alice", "wrong").status_code == 429
    attempt = AccessAttempt.objects.get(username="alice", ip_address="198.51.100.8")
    assert attempt.failures_since_start == settings.LOGIN_FAILURE_LIMIT

    # Sixteen minutes later (the failures aged by the cool-off and one minute) the lock is over.
    AccessAttempt.objects.update(attempt_time=attempt.attempt_time - dt.timedelta(minutes=16))
    assert _login(browser, "alice", PASSWORD).status_code == 302
    assert _logged_in(browser)


def test_many_accounts_guessed_from_one_address_lock_the_address(alice):
    sprayer = HttpClient(REMOTE_ADDR="192.0.2.50")
    for number in range(settings.LOGIN_IP_FAILURE_LIMIT - 1):
        assert _login(sprayer, f"user{number}", "Winter2026!").status_code == 200
    locked = _login(sprayer, "someone-else", "Winter2026!")
    assert locked.status_code == 429
    assert "Too many failed logins from your network address." in locked.content.decode()

    # Even an account that never failed cannot log in from that address now...
    assert _login(sprayer, "alice", PASSWORD).status_code == 429
    # ...but can from its own.
    assert _login(HttpClient(REMOTE_ADDR="192.0.2.51"), "alice", PASSWORD).status_code == 302


def test_a_successful_login_forgets_that_accounts_failures(alice):
    browser = HttpClient(REMOTE_ADDR="198.51.100.9")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        _login(browser, "alice", "wrong")
    assert _login(browser, "alice", PASSWORD).status_code == 302
    browser.post("/logout/")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert _login(browser, "alice", "wrong").status_code == 200
    assert _login(browser, "alice", PASSWORD).status_code == 302


@override_settings(LOGIN_IP_FAILURE_LIMIT=8)  # the default (20) is walked above; fewer logins here
def test_a_successful_login_does_not_forget_other_accounts_failures_from_the_address(alice):
    browser = HttpClient(REMOTE_ADDR="192.0.2.60")
    for number in range(settings.LOGIN_IP_FAILURE_LIMIT - 1):
        _login(browser, f"user{number}", "guess")
    assert _login(browser, "alice", PASSWORD).status_code == 302
    browser.post("/logout/")
    assert _login(browser, "user-next", "guess").status_code == 429


@override_settings(LOGIN_IP_FAILURE_LIMIT=8)
def test_the_documented_commands_lift_a_lockout(alice):
    browser = HttpClient(REMOTE_ADDR="198.51.100.10")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _login(browser, "alice", "wrong")
    assert _login(browser, "alice", PASSWORD).status_code == 429

    out = io.StringIO()
    call_command("axes_reset_username", "alice", stdout=out)
    assert "attempts removed" in out.getvalue()
    assert _login(browser, "alice", PASSWORD).status_code == 302

    sprayer = HttpClient(REMOTE_ADDR="192.0.2.70")
    for number in range(settings.LOGIN_IP_FAILURE_LIMIT):
        _login(sprayer, f"user{number}", "guess")
    assert _login(sprayer, "alice", PASSWORD).status_code == 429
    call_command("axes_reset_ip", "192.0.2.70", stdout=io.StringIO())
    assert _login(sprayer, "alice", PASSWORD).status_code == 302


def test_x_forwarded_for_is_ignored_unless_proxies_are_configured(alice):
    # Without TRUSTED_PROXY_COUNT a client cannot dodge the limit by sending its own X-Forwarded-For.
    browser = HttpClient(REMOTE_ADDR="198.51.100.11")
    for number in range(settings.LOGIN_FAILURE_LIMIT):
        browser.post("/login/", {"username": "alice", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")
    assert _login(browser, "alice", PASSWORD).status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_configured_proxy_the_forwarded_address_is_counted(alice):
    proxy = HttpClient(REMOTE_ADDR="10.0.0.1")  # every request comes from the proxy
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        proxy.post("/login/", {"username": "alice", "password": "wrong"}, HTTP_X_FORWARDED_FOR="198.51.100.12")
    assert AccessAttempt.objects.get(username="alice").ip_address == "198.51.100.12"
    refused = proxy.post("/login/", {"username": "alice", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.12")
    assert refused.status_code == 429
    # A client's own prefix is not trusted: the proxy appends the address it saw, the last one counts.
    forged = proxy.post("/login/", {"username": "alice", "password": PASSWORD},
                        HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.12")
    assert forged.status_code == 429
    other = proxy.post("/login/", {"username": "alice", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.13")
    assert other.status_code == 302


def test_failed_logins_are_logged_without_the_password(alice, caplog):
    with caplog.at_level("WARNING"):
        _login(HttpClient(REMOTE_ADDR="198.51.100.14"), "alice", "secret-guess-4711")
    assert any("login failure" in record.getMessage() for record in caplog.records)
    assert "secret-guess-4711" not in caplog.text
    assert not AccessAttempt.objects.filter(post_data__contains="secret-guess-4711").exists()


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("short-pw", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("736492018374", "This password is entirely numeric."),
        ("wonderland12", "The password is too similar to the email address."),
    ],
)
def test_the_password_change_page_applies_the_standard_validators(alice, new_password, message):
    browser = HttpClient()
    assert _login(browser, "alice", PASSWORD).status_code == 302
    response = browser.post("/account/password/", {
        "old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password,
    })
    assert response.status_code == 200
    assert message in re.sub(r"\s+", " ", response.content.decode().replace("&#x27;", "'"))
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_strong_password_is_accepted_and_the_old_one_stops_working(alice):
    browser = HttpClient()
    _login(browser, "alice", PASSWORD)
    response = browser.post("/account/password/", {
        "old_password": PASSWORD, "new_password1": "violet tractor harbour", "new_password2": "violet tractor harbour",
    })
    assert response.status_code == 302
    assert response["Location"] == "/account/password/done/"
    assert "Password changed" in browser.get(response["Location"]).content.decode()
    assert _login(HttpClient(), "alice", PASSWORD).status_code == 200
    assert _login(HttpClient(), "alice", "violet tractor harbour").status_code == 302


def test_the_demo_user_keeps_demo_demo_only_because_the_seed_creates_it(seeded):
    # The seeded demo database lets demo/demo in...
    assert _login(HttpClient(), "demo", "demo").status_code == 302
    # ...but nobody could choose that password through the app.
    browser = HttpClient()
    _login(browser, "demo", "demo")
    response = browser.post("/account/password/", {"old_password": "demo", "new_password1": "demo", "new_password2": "demo"})
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()


# --- optional two-factor login (TOTP) ---

def _secret_from(page: str) -> bytes:
    match = re.search(r"<code data-secret>([A-Z2-7 ]+)</code>", page)
    assert match, "the secret is not shown"
    secret = match.group(1).replace(" ", "")
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _code(key: bytes, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` periods of 30 s later)."""
    return f"{hotp(key, int(time.time()) // 30 + steps_ahead):06d}"


def _turn_on_two_factor(browser: HttpClient) -> bytes:
    page = browser.get("/account/two-factor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-two-factor="off"' in html
    assert re.search(r'<img class="qr" src="data:image/svg\+xml[;,]', html)
    key = _secret_from(html)
    response = browser.post("/account/two-factor/", {"action": "enable", "code": _code(key)})
    assert response.status_code == 302
    assert 'data-two-factor="on"' in browser.get("/account/two-factor/").content.decode()
    return key


def test_two_factor_login_once_turned_on_asks_for_a_code_after_the_password(alice):
    browser = HttpClient()
    _login(browser, "alice", PASSWORD)
    assert "Two-factor login</a>:\n    off" in browser.get("/account/").content.decode()
    # A wrong code does not turn it on.
    page = browser.get("/account/two-factor/").content.decode()
    key = _secret_from(page)
    wrong = browser.post("/account/two-factor/", {"action": "enable", "code": "000000" if _code(key) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "That code is not valid" in wrong.content.decode()
    time.sleep(1.1)  # django-otp's back-off after one wrong code
    assert _turn_on_two_factor(browser) == key
    browser.post("/logout/")

    # The password alone now leads to the code page, whatever page is asked for.
    assert _login(browser, "alice", PASSWORD).status_code == 302
    for path in ("/invoices/", "/clients/", "/account/", "/admin/"):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/verify/?next="), path
    htmx = browser.post("/invoices/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == "/login/verify/"

    verify = browser.get("/login/verify/?next=/account/")
    assert "Enter the code your authenticator app shows for alice" in verify.content.decode()
    wrong = browser.post("/login/verify/", {"code": "123456" if _code(key, 1) != "123456" else "654321", "next": "/account/"})
    assert wrong.status_code == 400
    # Straight after a wrong code even the right one waits (django-otp's back-off: 1 s, 2 s, 4 s, ...).
    throttled = browser.post("/login/verify/", {"code": _code(key, 1), "next": "/account/"})
    assert throttled.status_code == 429
    assert "Too many wrong codes: wait 1 seconds" in throttled.content.decode()
    time.sleep(1.1)
    code = _code(key, 1)  # the next period's code: the one used to turn it on cannot be used again
    accepted = browser.post("/login/verify/", {"code": code, "next": "/account/"})
    assert accepted.status_code == 302 and accepted["Location"] == "/account/"
    assert browser.get("/account/").status_code == 200

    # A code is accepted once: replayed in another session it is refused.
    other = HttpClient()
    _login(other, "alice", PASSWORD)
    assert other.post("/login/verify/", {"code": code}).status_code == 400
    assert other.get("/account/").status_code == 302


def test_the_code_page_never_redirects_to_another_site(alice):
    browser = HttpClient()
    _login(browser, "alice", PASSWORD)
    key = _turn_on_two_factor(browser)
    browser.post("/logout/")
    _login(browser, "alice", PASSWORD)
    response = browser.post("/login/verify/", {"code": _code(key, 1), "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/invoices/"


def test_two_factor_login_can_be_turned_off_with_a_code_or_by_an_administrator(alice):
    browser = HttpClient()
    _login(browser, "alice", PASSWORD)
    key = _turn_on_two_factor(browser)
    refused = browser.post("/account/two-factor/", {"action": "disable", "code": "12345x"})
    assert refused.status_code == 400
    turned_off = browser.post("/account/two-factor/", {"action": "disable", "code": _code(key, 1)})
    assert turned_off.status_code == 302
    assert 'data-two-factor="off"' in browser.get("/account/two-factor/").content.decode()

    _turn_on_two_factor(browser)
    out = io.StringIO()
    call_command("twofactor_disable", "alice", stdout=out)
    assert "Two-factor login turned off for alice." in out.getvalue()
    fresh = HttpClient()
    assert _login(fresh, "alice", PASSWORD).status_code == 302
    assert fresh.get("/account/").status_code == 200  # no code asked


def test_users_without_two_factor_log_in_with_the_password_alone(seeded):
    browser = HttpClient()
    assert _login(browser, "demo", "demo").status_code == 302
    assert browser.get("/invoices/").status_code == 200
    assert browser.get("/login/verify/").status_code == 302  # nothing to verify
