"""Logins resist guessing: throttling per account and address, password rules, the demo user."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client as HttpClient
from django.test import override_settings

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
