"""The web app under /sim/app/ lists every simulated account: it requires a user logged in to the host app.

The API under /sim/ keeps authenticating with the account's key, and /sim/_control/ (the tests'
development surface) with nothing or the account's key, as before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from b2brouter_sim.models import SimWebhook
from tests.sim.conftest import Account, Sim


@pytest.fixture
def pages(account: Account) -> list[str]:
    invoice = account.invoice()
    return [
        "/sim/app/",
        f"/sim/app/accounts/{account.id}",
        f"/sim/app/accounts/{account.id}/developers/webhooks",
        f"/sim/app/invoices/{invoice['id']}",
        f"/sim/app/invoices/{invoice['id']}/pdf",
        "/sim/app/no-such-page",
    ]


def test_every_page_sends_an_anonymous_visitor_to_the_login_page(pages: list[str], account: Account) -> None:
    anonymous = Client()
    for url in pages:
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/login/?next={quote(url)}", url
        assert response["X-B2B-API-Request-Id"].startswith("req_")
        assert b"Test Co S.L." not in response.content
    # Nothing is shown, and nothing can be changed, without a login.
    hooks = f"/sim/app/accounts/{account.id}/developers/webhooks"
    assert anonymous.post(hooks, {"url": "https://evil.example/hook", "events": ["*"]}).status_code == 302
    assert not SimWebhook.objects.exists()


def test_a_logged_in_user_of_the_app_uses_them(pages: list[str], signed_in: Sim, account: Account) -> None:
    for url in pages[:-1]:
        assert signed_in.client.get(url).status_code == 200, url
    assert signed_in.client.get(pages[-1]).status_code == 404
    created = signed_in.client.post(f"/sim/app/accounts/{account.id}/developers/webhooks",
                                    {"url": "https://receiver.example/hook", "events": ["issued_invoice.state_change"]})
    assert created.status_code == 302
    assert SimWebhook.objects.filter(account_id=account.id).count() == 1


def test_the_api_and_the_control_surface_need_no_login(sim: Sim, account: Account, settings: Any) -> None:
    anonymous = Client()
    listed = anonymous.get(f"/sim/accounts/{account.id}/invoices", HTTP_X_B2B_API_KEY=account.key,
                           HTTP_X_B2B_API_VERSION="2026-03-02")
    assert listed.status_code == 200
    assert anonymous.get("/sim/accounts", HTTP_X_B2B_API_VERSION="2026-03-02").status_code == 401
    created = anonymous.post("/sim/_control/accounts", "{}", content_type="application/json")
    assert created.status_code == 201
