"""Contract tests: the client against the simulator, in-process (no port, no real B2Brouter).

The same scenarios as the unit tests, but against the simulator's behaviour: envelopes, status
codes and error bodies, request ids, pagination, Decimal totals, TIN search, states, and the
retry policy under injected faults (429 with Retry-After, 500s, answers that never arrive).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.conf import settings

from b2brouter import (
    APITimeoutError,
    AuthenticationError,
    B2BRouter,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    webhooks,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("b2brouter_sim" not in settings.INSTALLED_APPS, reason="the simulator is not enabled"),
]

BASE_URL = "http://testserver/sim"


class SocketLikeTransport(httpx.BaseTransport):
    """Make the simulator's no-answer faults look like they do over a real socket.

    In-process, a withheld answer arrives with ``X-Sim-Fault: no-answer`` and a dropped one
    raises ConnectionResetError; a socket client would see a read timeout and a read error.
    """

    def __init__(self) -> None:
        from tests.support import inprocess_transport

        self.inner = inprocess_transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self.inner.handle_request(request)
            response.read()
        except ConnectionResetError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        if response.headers.get("X-Sim-Fault") == "no-answer":
            raise httpx.ReadTimeout("simulated: the answer never arrived", request=request)
        return response


def control(method: str, path: str, body: Any = None, key: str | None = None) -> httpx.Response:
    headers = {"X-B2B-API-Key": key} if key else {}
    with httpx.Client(transport=SocketLikeTransport(), base_url=BASE_URL) as http:
        return http.request(method, path, json=body, headers=headers)


class SimAccount:
    def __init__(self, **options: Any) -> None:
        response = control("POST", "/_control/accounts", options)
        assert response.status_code == 201, response.text
        body = response.json()
        self.id: int = body["account"]["id"]
        self.key: str = body["api_key"]

    def faults(self, **faults: Any) -> None:
        response = control("PUT", f"/_control/accounts/{self.id}/faults", {"faults": faults}, key=self.key)
        assert response.status_code == 200, response.text


@pytest.fixture
def account() -> SimAccount:
    return SimAccount(name="Traducciones Contract S.L.", tin_value="ESB12345674")


@pytest.fixture
def client(account: SimAccount, sleeps: list[float]) -> Iterator[B2BRouter]:
    with B2BRouter(account.key, base_url=BASE_URL, transport=SocketLikeTransport()) as client:
        yield client


def line(description: str = "Translation", quantity: str = "1", price: str = "100", percent: str = "21") -> dict[str, Any]:
    return {
        "description": description,
        "quantity": Decimal(quantity),
        "price": Decimal(price),
        "taxes_attributes": [{"name": "IVA", "category": "S", "percent": Decimal(percent)}],
    }


def new_invoice(client: B2BRouter, account: SimAccount, number: str = "F-1", **fields: Any) -> dict[str, Any]:
    contact = client.contacts.find_by_tin(account.id, "DE136695976") or client.contacts.create(
        account.id, {"name": "Acme GmbH", "tin_value": "DE136695976", "country": "de", "is_client": True}
    )
    data = {"number": number, "date": "2026-03-02", "contact_id": contact["id"], "invoice_lines_attributes": [line()]}
    return dict(client.invoices.create(account.id, {**data, **fields}))


def test_account_settings_round_trip(client, account):
    got = client.accounts.retrieve(account.id)
    assert got["id"] == account.id and got["tin_value"] == "ESB12345674"
    assert got["rounding_method"] == "half_up" and got["round_before_sum"] is True
    assert got["apply_taxes_per_line"] is False
    assert isinstance(got["transactions_count"], int)

    updated = client.accounts.update(account.id, {"apply_taxes_per_line": True, "rounding_method": "bankers"})
    assert updated["apply_taxes_per_line"] is True and updated["rounding_method"] == "bankers"
    assert [a["id"] for a in client.accounts.list()] == [account.id]


def test_tin_value_cannot_change(client, account):
    with pytest.raises(InvalidRequestError) as caught:
        client.accounts.update(account.id, {"tin_value": "ESA28017895"})
    assert caught.value.status_code == 422 and caught.value.code == "parameter_cannot_change"


def test_wrong_key_is_an_authentication_error_with_a_request_id(account):
    with B2BRouter("sim_wrong-key", base_url=BASE_URL, transport=SocketLikeTransport()) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.accounts.retrieve(account.id)
    err = caught.value
    assert err.code == "unauthorized"
    assert err.request_id and err.request_id in str(err)


def test_unknown_api_version_is_an_invalid_request(account):
    with B2BRouter(account.key, base_url=BASE_URL, api_version="1999-01-01", transport=SocketLikeTransport()) as client:
        with pytest.raises(InvalidRequestError) as caught:
            client.accounts.retrieve(account.id)
    assert caught.value.code == "invalid_api_version"


def test_contacts_lifecycle_and_find_by_tin(client, account):
    created = client.contacts.create(
        account.id, {"name": "Cliente SA", "tin_value": "ESA28017895", "country": "es", "is_client": True,
                     "integration_code": "C-7"}
    )
    client.contacts.create(account.id, {"name": "Proveedor", "tin_value": "DE136695976", "country": "de",
                                        "is_client": False, "is_provider": True})

    for search in ("ESA28017895", "a-28.017.895", "es a28017895"):
        found = client.contacts.find_by_tin(account.id, search)
        assert found is not None and found["id"] == created["id"], search
    assert client.contacts.find_by_tin(account.id, "A28017895", country="ES")["id"] == created["id"]
    assert client.contacts.find_by_tin(account.id, "A28017895", country="FR") is None
    assert client.contacts.find_by_tin(account.id, "ESB99999999") is None

    assert [c["id"] for c in client.contacts.list(account.id, integration_code="C-7")] == [created["id"]]
    assert [c["name"] for c in client.contacts.list(account.id, is_provider=True)] == ["Proveedor"]

    assert client.contacts.update(created["id"], {"email": "facturas@cliente.example"})["email"] == "facturas@cliente.example"
    client.contacts.delete(created["id"])
    with pytest.raises(NotFoundError) as caught:
        client.contacts.retrieve(created["id"])
    assert caught.value.code == "resource_missing" and caught.value.request_id


def test_invoice_totals_are_exact_decimals(client, account):
    invoice = new_invoice(
        client, account, "F-DEC",
        invoice_lines_attributes=[line("a", "1", "0.333", "10"), line("b", "1", "0.333", "10"),
                                  line("c", "1", "0.333", "10")],
    )

    # round_before_sum: each line is 0.33, subtotal 0.99, tax R(0.099) = 0.10 (contract section 7).
    assert invoice["subtotal"] == Decimal("0.99")
    assert invoice["taxes"][0]["base"] == Decimal("0.99") and invoice["taxes"][0]["amount"] == Decimal("0.10")
    assert invoice["total"] == Decimal("1.09")
    assert all(isinstance(invoice[k], Decimal) for k in ("subtotal", "total"))
    assert isinstance(invoice["taxes"][0]["percent"], Decimal)


def test_tax_per_line_setting_changes_the_tax(client, account):
    lines = [line("a", "1", "7886.64"), line("b", "1", "818.44")]
    assert new_invoice(client, account, "F-A", invoice_lines_attributes=lines)["taxes"][0]["amount"] == Decimal("1828.07")
    client.accounts.update(account.id, {"apply_taxes_per_line": True})
    assert new_invoice(client, account, "F-B", invoice_lines_attributes=lines)["taxes"][0]["amount"] == Decimal("1828.06")


def test_duplicate_number_is_parameter_taken(client, account):
    new_invoice(client, account, "F-DUP")
    with pytest.raises(InvalidRequestError) as caught:
        new_invoice(client, account, "F-DUP")
    err = caught.value
    assert err.status_code == 422 and err.code == "parameter_taken"
    assert err.maybe_applied is False
    assert err.messages and err.request_id in str(err)


def test_invoice_lifecycle(client, account):
    invoice = new_invoice(client, account, "F-LIFE")
    assert invoice["state"] == "new"
    assert client.invoices.list(account.id, number="F-LIFE").data[0]["id"] == invoice["id"]
    assert client.invoices.find_by_number(account.id, "F-LIFE")["id"] == invoice["id"]

    assert client.invoices.update(invoice["id"], {"extra_info": "PO 4711"})["extra_info"] == "PO 4711"
    validation = client.invoices.validate(invoice["id"])
    assert validation["valid"] is True and validation["errors"] == []

    pdf = client.invoices.download(invoice["id"], "pdf.invoice")
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")

    sent = client.invoices.send(invoice["id"])
    assert sent["id"] == invoice["id"] and sent["state"] in ("sending", "sent")
    with pytest.raises(ConflictError) as caught:
        client.invoices.update(invoice["id"], {"extra_info": "too late"})
    assert caught.value.code == "conflict"
    with pytest.raises(ConflictError):
        client.invoices.delete(invoice["id"])
    assert client.invoices.list(account.id, new=True).data == []


def test_delete_an_unsent_invoice(client, account):
    invoice = new_invoice(client, account, "F-DEL")
    client.invoices.delete(invoice["id"])
    with pytest.raises(NotFoundError):
        client.invoices.retrieve(invoice["id"])


def test_mark_as(client, account):
    invoice = new_invoice(client, account, "F-MARK")
    client.invoices.send(invoice["id"])
    assert client.invoices.mark_as(invoice["id"], "paid")["state"] == "paid"


def test_pagination_across_pages(client, account):
    for n in range(7):
        client.contacts.create(account.id, {"name": f"Contact {n}", "integration_code": f"P-{n}"})
    page = client.contacts.list(account.id, limit=3)
    assert page.total_count == 7 and len(page.data) == 3 and page.limit == 3
    assert len({c["id"] for c in page}) == 7


def test_429_is_retried_after_retry_after(client, account, monkeypatch):
    import time
    import types

    from b2brouter_sim import faults

    # The backoff "sleeps" on a fake clock that the simulator's rate limiter reads.
    clock = {"now": time.time()}
    waits: list[float] = []
    monkeypatch.setattr(faults, "time", types.SimpleNamespace(time=lambda: clock["now"], sleep=time.sleep))

    def fake_sleep(self, seconds):
        waits.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(B2BRouter, "_sleep", fake_sleep)
    account.faults(rate_limit={"requests": 1, "per_seconds": 5})

    client.accounts.retrieve(account.id)
    assert client.accounts.retrieve(account.id)["id"] == account.id  # 429, waits Retry-After, retried

    assert len(waits) == 1 and 1 <= waits[0] <= 5


def test_injected_500_on_post_is_not_retried(client, account):
    account.faults(error_rate=1)
    with pytest.raises(ServerError) as caught:
        client.contacts.create(account.id, {"name": "Lost", "tin_value": "DE136695976"})
    assert caught.value.maybe_applied is True
    assert caught.value.code == "internal_error"


def test_create_whose_answer_never_arrives_is_reconciled_by_number(client, account, sleeps):
    contact = client.contacts.create(account.id, {"name": "Acme GmbH", "tin_value": "DE136695976", "country": "de"})
    account.faults(no_answer_rate=1, no_answer_delay=0)
    data = {"number": "F-LOST", "date": "2026-03-02", "contact_id": contact["id"], "invoice_lines_attributes": [line()]}

    with pytest.raises(APITimeoutError) as caught:
        client.invoices.create(account.id, data)

    assert caught.value.maybe_applied is True
    assert sleeps == []  # not retried
    account.faults()
    found = client.invoices.find_by_number(account.id, "F-LOST")
    assert found is not None and found["total"] == Decimal("121.00")
    assert client.invoices.list(account.id).total_count == 1  # exactly one, no duplicate


def test_dropped_answers_to_reads_are_retried(client, account, sleeps):
    account.faults(no_answer_rate="0.5", no_answer_mode="drop", seed=3)
    for _ in range(6):
        assert client.accounts.retrieve(account.id)["id"] == account.id
    assert sleeps  # some answers were cut short and the reads were repeated


def test_the_simulators_webhook_signature_verifies():
    from b2brouter_sim.webhooks import sign as sim_sign

    body = json.dumps({"code": "issued_invoice.state_change", "triggered_at": 1_780_000_000,
                       "data": {"invoice_id": 1, "event_id": 2, "state": "sent", "notes": None}}).encode()
    header = sim_sign("whsec_contract", 1_780_000_000, body)
    event = webhooks.verify(body, header, "whsec_contract", now=1_780_000_000)
    assert event["data"]["event_id"] == 2


# Scenarios added by the client audit ---------------------------------------------------------


def test_send_after_import_creates_and_sends(client, account):
    contact = client.contacts.create(account.id, {"name": "Acme GmbH", "tin_value": "DE136695976", "country": "de"})
    data = {"number": "F-SAI", "date": "2026-03-02", "contact_id": contact["id"], "invoice_lines_attributes": [line()]}

    invoice = client.invoices.create(account.id, data, True)  # send_after_import, positionally

    assert invoice["state"] in ("sending", "sent")


def test_validation_error_names_the_param_and_is_not_maybe_applied(client, account):
    with pytest.raises(InvalidRequestError) as caught:
        new_invoice(client, account, "F-IBAN", payment_method=4,
                    bank_account={"type": "iban", "iban": "ES00 0000 0000 0000 0000 0000"})
    err = caught.value
    assert (err.status, err.param) == (422, "bank_account.iban")
    assert err.message == "Validation failed: Iban is invalid" and err.messages == [err.message]
    assert err.maybe_applied is False and err.request_id and err.request_id in str(err)
    assert client.invoices.find_by_number(account.id, "F-IBAN") is None


def test_mark_as_an_unknown_state_is_an_invalid_request(client, account):
    invoice = new_invoice(client, account, "F-BADSTATE")
    with pytest.raises(InvalidRequestError) as caught:
        client.invoices.mark_as(invoice["id"], "lost")  # type: ignore[arg-type]
    assert caught.value.code == "parameter_inclusion" and caught.value.param == "state"


def test_missing_invoice_is_not_found(client, account):
    with pytest.raises(NotFoundError) as caught:
        client.invoices.retrieve(987654321)
    assert caught.value.code == "resource_missing" and caught.value.request_id in str(caught.value)


def test_documents_download_as_bytes(client, account):
    invoice = new_invoice(client, account, "F-DOCS")
    ubl = client.invoices.download(invoice["id"], "xml.ubl.invoice.bis3")
    assert isinstance(ubl, bytes) and b"F-DOCS" in ubl and ubl.lstrip().startswith(b"<")
    original = client.invoices.download(invoice["id"], "original")
    assert json.loads(original)["invoice"]["number"] == "F-DOCS"


def test_list_filters_reach_the_simulator(client, account):
    import datetime as dt

    first = new_invoice(client, account, "F-FILTER-1")
    new_invoice(client, account, "F-FILTER-2")
    client.invoices.send(first["id"])

    assert [i["number"] for i in client.invoices.list(account.id, number="F-FILTER-2")] == ["F-FILTER-2"]
    assert [i["number"] for i in client.invoices.list(account.id, new=True)] == ["F-FILTER-2"]
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert client.invoices.list(account.id, updated_at_from=future).data == []
    past = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    assert client.invoices.list(account.id, updated_at_from=past).total_count == 2


def test_amounts_sent_as_decimal_or_string_stay_exact(client, account):
    invoice = new_invoice(client, account, "F-EXACT",
                          invoice_lines_attributes=[line("a", "3", "0.1", "21"), line("b", "1", "0.2", "21")])
    invoice_from_strings = new_invoice(client, account, "F-EXACT-S", invoice_lines_attributes=[
        {**line("a", "3", "0.1", "21"), "quantity": "3", "price": "0.1"}, {**line("b", "1", "0.2", "21"), "price": "0.2"},
    ])
    # The tax is R(0.50 x 0.21) = R(0.105) = 0.11 half up; through float 0.105 would round to 0.10.
    for got in (invoice, invoice_from_strings):
        assert got["subtotal"] == Decimal("0.50") and got["taxes"][0]["amount"] == Decimal("0.11")
        assert got["total"] == Decimal("0.61")


def test_rate_limit_beyond_the_retries_raises_with_retry_after(account):
    account.faults(rate_limit={"requests": 1, "per_seconds": 30})
    with B2BRouter(account.key, base_url=BASE_URL, max_retries=0, transport=SocketLikeTransport()) as client:
        client.accounts.retrieve(account.id)
        with pytest.raises(RateLimitError) as caught:
            client.accounts.retrieve(account.id)
    err = caught.value
    assert err.status == 429 and err.maybe_applied is False
    assert err.retry_after is not None and 0 < err.retry_after <= 30


def test_injected_500_on_get_is_raised_at_once_and_not_maybe_applied(client, account, sleeps):
    account.faults(error_rate=1)
    with pytest.raises(ServerError) as caught:
        client.accounts.retrieve(account.id)
    assert caught.value.maybe_applied is False and sleeps == []


def test_web_hook_lifecycle(client, account):
    hook = client.web_hooks.create("https://app.example/b2brouter/webhooks/contract")

    assert hook["signing_secret"].startswith("whsec_")
    assert hook["events"] == ["issued_invoice.state_change"] and hook["enabled"] is True

    listed = client.web_hooks.list()
    assert [h["id"] for h in listed] == [hook["id"]]
    assert listed.total_count == 1
    assert "signing_secret" not in listed.data[0]  # shown once, at creation

    got = client.web_hooks.retrieve(hook["id"])
    assert got["url"] == hook["url"] and got["deliveries"] == []
    assert "signing_secret" not in got

    assert client.web_hooks.delete(hook["id"]) is None
    assert list(client.web_hooks.list()) == []
    with pytest.raises(NotFoundError):
        client.web_hooks.delete(hook["id"])


def test_web_hook_events_and_enabled_reach_the_simulator(client, account):
    hook = client.web_hooks.create("https://app.example/all", events=["*"], enabled=False)

    got = client.web_hooks.retrieve(hook["id"])
    assert got["events"] == ["*"] and got["enabled"] is False


def test_web_hook_secret_verifies_the_simulators_deliveries(client, account):
    from b2brouter_sim.models import SimWebhookDelivery
    from b2brouter_sim.webhooks import attempt_delivery

    hook = client.web_hooks.create("https://app.example/hook")
    invoice = new_invoice(client, account, "F-HOOK")
    client.invoices.send(invoice["id"])  # new -> sending: one state change, one delivery queued
    delivery = SimWebhookDelivery.objects.filter(webhook_id=hook["id"]).first()
    assert delivery is not None
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    attempt_delivery(delivery.pk, transport=httpx.MockTransport(receiver))

    assert [str(r.url) for r in received] == [hook["url"]]
    event = webhooks.verify(received[0].content, received[0].headers[webhooks.SIGNATURE_HEADER],
                            hook["signing_secret"])
    assert event["data"]["invoice_id"] == invoice["id"] and event["data"]["state"] == "sending"
    log = client.web_hooks.retrieve(hook["id"])["deliveries"]
    assert [(d["status"], d["status_code"]) for d in log] == [("delivered", 200)]


def test_web_hook_with_a_bad_url_is_an_invalid_request(client, account):
    with pytest.raises(InvalidRequestError) as caught:
        client.web_hooks.create("ftp://app.example/hook")
    assert caught.value.param == "url" and caught.value.maybe_applied is False


def test_web_hooks_page_across_pages(client, account):
    for n in range(5):
        client.web_hooks.create(f"https://app.example/hook/{n}")
    page = client.web_hooks.list(limit=2)
    assert page.total_count == 5 and len(page.data) == 2
    assert [h["url"] for h in page] == [f"https://app.example/hook/{n}" for n in range(5)]


def test_web_hooks_of_another_account_are_not_found(client, account):
    other = SimAccount(name="Other S.L.")
    with B2BRouter(other.key, base_url=BASE_URL, transport=SocketLikeTransport()) as other_client:
        hook = other_client.web_hooks.create("https://other.example/hook")
    with pytest.raises(NotFoundError):
        client.web_hooks.retrieve(hook["id"])
    assert list(client.web_hooks.list()) == []


def test_directory_lookup_against_the_simulator(client, account):
    from b2brouter import reachable_on_peppol

    assert client.directory.lookup("de", "9930", "DE136695976") is None
    listed = control("PUT", "/_control/directory/de/9930/DE136695976", {"name": "Nordlicht GmbH"})
    assert listed.status_code in (200, 201), listed.text

    entry = client.directory.lookup("DE", "9930", "DE136695976")

    assert entry is not None and entry["name"] == "Nordlicht GmbH"
    assert reachable_on_peppol(entry) is True
