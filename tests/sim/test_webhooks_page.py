"""Developers -> Webhooks in the simulator's web app: add an endpoint, copy its secret once, delete it."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from b2brouter_sim import webhooks as sim_webhooks
from tests.sim.conftest import Account, Sim
from tests.sim.test_states import run_worker, sent_invoice
from tests.sim.test_webhooks import Recorder

try:
    from b2brouter.webhooks import verify
except ImportError:  # pragma: no cover - the client package is written alongside
    verify = None

SECRET = re.compile(r'value="(whsec_[0-9a-f]+)"')


@pytest.fixture(autouse=True)
def _signed_in(signed_in: Sim) -> None:
    """The web app's pages require a user logged in to the host app."""


def page_url(account: Account) -> str:
    return f"/sim/app/accounts/{account.id}/developers/webhooks"


def create(account: Account, url: str = "https://receiver.example/b2brouter/webhook", **form: object) -> str:
    """Create an endpoint through the page and return the secret the next page shows."""
    data = {"url": url, "description": "Our app", "events": ["issued_invoice.state_change"]} | form
    response = account.sim.client.post(page_url(account), data)
    assert response.status_code == 302, response.content
    shown = account.sim.client.get(response["Location"])
    assert shown.status_code == 200
    match = SECRET.search(shown.content.decode())
    assert match, shown.content.decode()
    return match.group(1)


def test_the_account_page_links_to_webhooks(sim: Sim, account: Account) -> None:
    page = sim.client.get(f"/sim/app/accounts/{account.id}").content.decode()
    assert page_url(account) in page
    assert "Developers → Webhooks" in page


def test_the_secret_is_shown_once_then_masked(sim: Sim, account: Account) -> None:
    secret = create(account)
    page = sim.client.get(page_url(account)).content.decode()
    assert secret not in page
    assert "https://receiver.example/b2brouter/webhook" in page and "Our app" in page
    hook_id = account.call("GET", "web_hooks").json()["web_hooks"][0]["id"]
    # Coming back to the "just created" address does not show it again.
    again = sim.client.get(f"{page_url(account)}?created={hook_id}").content.decode()
    assert secret not in again
    # The API never shows a secret of an endpoint made in the web app either.
    assert "signing_secret" not in account.call("GET", f"web_hooks/{hook_id}").json()["web_hook"]


def test_the_page_is_scoped_to_its_account(sim: Sim, account: Account) -> None:
    data, key = sim.new_account(name="Other S.L.", tin_value="ESA28017895")
    other = Account(sim, data, key)
    create(account, "https://mine.example/hook")
    other_page = sim.client.get(page_url(other)).content.decode()
    assert "https://mine.example/hook" not in other_page
    hook_id = account.call("GET", "web_hooks").json()["web_hooks"][0]["id"]
    # Another account's page cannot reveal or delete it.
    assert "whsec_" not in sim.client.get(f"{page_url(other)}?created={hook_id}").content.decode()
    assert sim.client.post(f"{page_url(other)}/{hook_id}/delete").status_code == 404
    assert len(account.call("GET", "web_hooks").json()["web_hooks"]) == 1
    assert sim.client.get("/sim/app/accounts/999999/developers/webhooks").status_code == 404


@pytest.mark.parametrize("form,message", [
    ({"url": ""}, "Url can&#x27;t be blank"),
    ({"url": "ftp://files.example/x"}, "Url must be an http(s) URL"),
    ({"events": []}, "Choose at least one event"),
    ({"events": ["invoice.paid"]}, "Choose at least one event"),
])
def test_bad_input_is_shown_on_the_form(sim: Sim, account: Account, form: dict, message: str) -> None:
    data = {"url": "https://receiver.example/hook", "events": ["issued_invoice.state_change"]} | form
    response = sim.client.post(page_url(account), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert account.call("GET", "web_hooks").json()["meta"]["total_count"] == 0


def test_text_is_escaped(sim: Sim, account: Account) -> None:
    create(account, "https://receiver.example/hook?a=<b>", description="<script>alert(1)</script>")
    page = sim.client.get(page_url(account)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_an_endpoint_made_in_the_page_receives_signed_deliveries(
    sim: Sim, account: Account, monkeypatch: pytest.MonkeyPatch, instant_tasks: None
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(sim_webhooks, "TRANSPORT", httpx.MockTransport(recorder))
    secret = create(account)
    invoice = sent_invoice(account)
    run_worker()
    assert [json.loads(r.content)["data"]["state"] for r in recorder.requests] == ["sending", "sent", "accepted"]
    for request in recorder.requests:
        assert str(request.url) == "https://receiver.example/b2brouter/webhook"
        if verify is not None:
            event = verify(request.content, request.headers["X-B2Brouter-Signature"], secret)
            assert event["data"]["invoice_id"] == invoice["id"]
    # The delivery log is on the page.
    page = sim.client.get(page_url(account)).content.decode()
    assert page.count("delivered") == 3


def test_all_events_and_delete(sim: Sim, account: Account) -> None:
    create(account, events=["*"])
    hook = account.call("GET", "web_hooks").json()["web_hooks"][0]
    assert hook["events"] == ["*"]
    assert sim.client.get(f"{page_url(account)}/{hook['id']}/delete").status_code == 405
    deleted = sim.client.post(f"{page_url(account)}/{hook['id']}/delete")
    assert deleted.status_code == 302 and deleted["Location"] == page_url(account)
    assert account.call("GET", "web_hooks").json()["meta"]["total_count"] == 0
    assert "No endpoints yet." in sim.client.get(page_url(account)).content.decode()


def test_the_forms_carry_a_csrf_token(account: Account) -> None:
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    account.sim.sign_in()
    browser.cookies = account.sim.client.cookies  # the same logged-in browser, now checking CSRF
    page = browser.get(page_url(account)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    refused = browser.post(page_url(account), {"url": "https://r.example/h", "events": ["issued_invoice.state_change"]})
    assert refused.status_code == 403
    accepted = browser.post(page_url(account), {"url": "https://r.example/h", "events": ["issued_invoice.state_change"],
                                                "csrfmiddlewaretoken": token.group(1)})
    assert accepted.status_code == 302
