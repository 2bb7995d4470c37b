"""Settings -> Integrations -> B2Brouter: verification, write-only key, the calculation-settings plate."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test import Client as HttpClient

from b2binvoice.einvoicing.models import B2BrouterIntegration
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    SimulatorTransport,
    _b2brouter_settings,
    account,
    company,
    confirmed,
    integration,
    sim,
    user,
    web,
)

URL = "/settings/integrations/b2brouter/"

pytestmark = pytest.mark.django_db


def b2brouter_error(status: int, code: str, message: str, request_id: str = "req_mocked_0001") -> httpx.Response:
    """Answer the way B2Brouter does when it refuses a request."""
    body = {"error": {"code": code, "message": message, "type": "invalid_request_error"}}
    return httpx.Response(status, content=json.dumps(body).encode(),
                          headers={"Content-Type": "application/json", "X-B2B-API-Request-Id": request_id})


def answering(settings: Any, answer: Callable[[httpx.Request], httpx.Response | None]) -> list[str]:
    """Route the app's B2Brouter calls through ``answer`` first; None passes the call on to the simulator.

    Returns the list of "METHOD path" the app called, in order.
    """
    calls: list[str] = []

    def factory() -> httpx.BaseTransport:
        simulator = SimulatorTransport()

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append(f"{request.method} {request.url.path}")
            response = answer(request)
            if response is not None:
                return response
            passed = simulator.handle_request(request)
            passed.read()
            return httpx.Response(passed.status_code, headers=passed.headers, content=passed.content)

        return httpx.MockTransport(handler)

    settings.B2BROUTER_TRANSPORT_FACTORY = factory
    return calls


def post_settings(web: HttpClient, *, key: str, account_id: str, environment: str = "simulator", enabled: bool = True):
    data = {"environment": environment, "api_key": key, "account_id": account_id, "send_after_create": "on"}
    if enabled:
        data["enabled"] = "on"
    return web.post(URL, data)


def test_wrong_key_is_refused_then_right_key_connects(web, company, account):
    data, key = account
    response = post_settings(web, key="sk_wrong_" + "x" * 20, account_id=str(data["id"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "refused this API key (401)" in page
    assert not B2BrouterIntegration.objects.filter(company=company).exists()

    response = post_settings(web, key=key, account_id=str(data["id"]))
    assert response.status_code == 302
    page = web.get(URL).content.decode()
    assert "Connected to B2Brouter account Lingua Test S.L. (ESB12345674)" in page
    assert "ESB12345674" in page
    integration = B2BrouterIntegration.objects.get(company=company)
    assert integration.enabled and integration.api_key == key and integration.verified_at is not None


def test_wrong_account_id_gets_its_own_message_and_keeps_old_credentials(web, company, account, integration):
    data, key = account
    response = post_settings(web, key="", account_id="999999")
    page = response.content.decode()
    assert "account 999999 is not reachable with it (404)" in page
    integration.refresh_from_db()
    assert integration.account_id == str(data["id"]) and integration.api_key == key


def test_a_key_that_cannot_travel_in_a_header_is_a_form_error(web, company, account, integration):
    """A pasted key with a non-ASCII character once answered 500 (httpx cannot encode the header)."""
    data, key = account
    response = post_settings(web, key="\x80sim_key", account_id=str(data["id"]))
    assert response.status_code == 200
    assert "An API key has only letters, digits and punctuation" in response.content.decode()
    integration.refresh_from_db()
    assert integration.api_key == key


NO_ACCOUNT_GROUP_TEXT = ("This API key is valid but not yet enabled for the API in this environment (B2Brouter code "
                         "no_account_group). Ask B2Brouter support to enable API access for your account group.")


def test_a_key_not_yet_enabled_says_so_and_what_to_do(web, company, account, settings):
    data, key = account
    answering(settings, lambda request: b2brouter_error(
        403, "no_account_group", "The API key has no account group assigned", "req_staging_403"))
    response = post_settings(web, key="staging_key_not_enabled_1234", account_id=str(data["id"]), environment="staging")
    page = response.content.decode()
    assert response.status_code == 200
    assert NO_ACCOUNT_GROUP_TEXT in page
    assert "The previous settings were kept." in page
    assert "not reachable" not in page
    assert "req_staging_403" in page and "The API key has no account group assigned" in page
    assert not B2BrouterIntegration.objects.filter(company=company).exists()


def test_a_key_disabled_later_says_the_same_on_check_again(web, integration, settings):
    answering(settings, lambda request: b2brouter_error(403, "no_account_group", "No account group"))
    page = web.post(URL + "check/", follow=True).content.decode()
    assert "Could not read the account&#x27;s settings." in page
    assert NO_ACCOUNT_GROUP_TEXT.replace("'", "&#x27;") in page


def test_another_403_still_points_at_the_account_id(web, company, account, integration, settings):
    data, key = account
    answering(settings, lambda request: b2brouter_error(403, "forbidden", "Not your account"))
    page = post_settings(web, key="", account_id="424242").content.decode()
    assert "account 424242 is not reachable with it (403)" in page
    assert "no_account_group" not in page


def test_unreachable_host_keeps_previous_credentials(web, company, account, integration, settings):
    data, key = account
    settings.SIMULATOR_BASE_URL = "http://127.0.0.1:9/sim"  # a closed loopback port: connect refused
    settings.B2BROUTER_TRANSPORT_FACTORY = None
    response = post_settings(web, key="another-key-1234567890", account_id=str(data["id"]))
    page = response.content.decode()
    assert "Could not reach B2Brouter at http://127.0.0.1:9/sim" in page
    assert "The previous settings were kept." in page
    integration.refresh_from_db()
    assert integration.api_key == key and integration.enabled


def test_key_is_write_only_masked_and_encrypted_at_rest(web, company, account, integration):
    data, key = account
    page = web.get(URL).content.decode()
    assert key not in page
    assert "••••" + key[-4:] in page
    # A blank key on edit keeps the stored one.
    response = post_settings(web, key="", account_id=str(data["id"]))
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.api_key == key
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM einvoicing_b2brouterintegration WHERE id = %s", [integration.pk])
        stored = cursor.fetchone()[0]
    assert key not in stored
    assert key not in repr(integration)


def test_disabling_keeps_credentials_without_a_call(web, company, account, integration):
    data, key = account
    response = post_settings(web, key="", account_id=str(data["id"]), enabled=False)
    assert response.status_code == 302
    integration.refresh_from_db()
    assert not integration.enabled and integration.api_key == key
    assert "Disabled" in web.get(URL).content.decode()


def test_simulator_is_offered_only_when_enabled(web, settings):
    assert 'value="simulator"' in web.get(URL).content.decode()
    settings.SIMULATOR_ENABLED = False
    assert 'value="simulator"' not in web.get(URL).content.decode()


def test_blue_plate_when_settings_match(web, integration):
    page = web.get(URL).content.decode()
    assert "plate plate-ok" in page
    assert "plate plate-warn" not in page


def test_orange_plate_lists_mismatches_then_apply_turns_it_blue(web, company, sim):
    data, key = sim.create_account(name="Mismatched S.L.", tin_value="ESB12345674", rounding_method="bankers",
                                   round_before_sum=False, apply_taxes_per_line=True)
    post_settings(web, key=key, account_id=str(data["id"]))
    page = web.get(URL).content.decode()
    assert "plate plate-warn" in page
    for name, required, current in (("rounding_method", "half_up", "bankers"),
                                    ("round_before_sum", "true", "false"),
                                    ("apply_taxes_per_line", "false", "true")):
        assert f"<td><code>{name}</code></td><td class=\"required\">{required}</td><td class=\"current\">{current}</td>" in page
    assert "Apply required settings in B2Brouter" in page and "Check again" in page

    confirm = web.get(URL + "apply/").content.decode()
    assert "every integration" in confirm
    response = web.post(URL + "apply/")
    assert response.status_code == 302
    page = web.get(URL).content.decode()
    assert "plate plate-ok" in page and "plate plate-warn" not in page
    assert sim.api("GET", f"/accounts/{data['id']}", key)["account"]["rounding_method"] == "half_up"


def test_check_again_sees_a_change_made_in_b2brouter(web, account, integration, sim):
    data, key = account
    sim.update_account(data["id"], key, apply_taxes_per_line=True)
    assert "plate plate-ok" in web.get(URL).content.decode()  # not read again yet
    web.post(URL + "check/")
    page = web.get(URL).content.decode()
    assert "plate plate-warn" in page and "apply_taxes_per_line" in page


def test_transactions_usage_is_shown(web, integration):
    assert "Transactions used: 0 of 1000." in web.get(URL).content.decode()


def test_mismatched_settings_block_invoices_with_the_plate(web, company, sim):
    from tests.app.test_einvoicing_support import CLIENT_TIN, make_invoice
    from b2binvoice.clients.models import Client
    from b2binvoice.companies.models import Tax

    data, key = sim.create_account(rounding_method="truncate", round_before_sum=True, apply_taxes_per_line=False)
    post_settings(web, key=key, account_id=str(data["id"]))
    customer = Client.objects.create(company=company, name="Kunde", tin=CLIENT_TIN, country="ES")
    sim.create_contact(data["id"], key, name="Kunde", tin_value=CLIENT_TIN, country="es")
    vat = Tax.objects.create(company=company, name="IVA 21%", rate=21, category="S")
    invoice = make_invoice(company, customer, taxes=[vat])
    page = web.get(f"/invoices/{invoice.pk}/b2brouter/").content.decode()
    assert "The account&#x27;s calculation settings differ from the required ones: rounding_method." in page
    assert "plate plate-warn" in page
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert sim.invoices(data["id"], key) == []
