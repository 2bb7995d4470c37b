"""What the client puts on the wire, and what each service calls."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal

import httpx
import pytest

import b2brouter
from b2brouter import PRODUCTION, STAGING, B2BRouter, Environment

from .conftest import API_KEY, BASE_URL, json_response

INVOICE = {"id": 77, "number": "F-1", "state": "new", "subtotal": "100.00", "total": 121.0, "taxes": []}


def body_of(request: httpx.Request) -> object:
    return json.loads(request.content, parse_float=Decimal)


def test_headers_of_a_read_have_no_content_type(make_client):
    client, script = make_client(json_response(200, {"account": {"id": 1}}))

    client.accounts.retrieve(1)

    headers = script.last.headers
    assert headers["X-B2B-API-Key"] == API_KEY
    assert headers["X-B2B-API-Version"] == "2026-03-02"
    assert headers["Accept"] == "application/json"
    assert "content-type" not in headers
    assert headers["User-Agent"].startswith("b2brouter-python/")


def test_headers_of_a_write_declare_json(make_client):
    client, script = make_client(json_response(201, {"invoice": INVOICE}))

    client.invoices.create(1, {"number": "F-1"})

    assert script.last.headers["Content-Type"] == "application/json"
    assert script.last.headers["Accept"] == "application/json"


def test_post_without_body_sends_no_content_type(make_client):
    client, script = make_client(json_response(200, {"invoice": {**INVOICE, "state": "sending"}}))

    invoice = client.invoices.send(77)

    assert script.last.method == "POST"
    assert script.last.url.path == "/invoices/send_invoice/77"
    assert script.last.content == b""
    assert "content-type" not in script.last.headers
    assert invoice["state"] == "sending"


def test_api_version_and_app_info_are_configurable(make_client):
    client, script = make_client(json_response(200, {"accounts": []}), api_version="2026-04-20", app_info="b2binvoice/0.1")

    client.accounts.list()

    assert script.last.headers["X-B2B-API-Version"] == "2026-04-20"
    assert script.last.headers["User-Agent"].endswith(" b2binvoice/0.1")


def test_base_url_with_a_path_prefix_is_kept(make_client):
    client, script = make_client(json_response(200, {"invoice": INVOICE}), base_url="http://testserver/sim/")

    client.invoices.retrieve(77)

    assert str(script.last.url) == "http://testserver/sim/invoices/77"


def test_environment_can_be_given_as_base_url(make_client):
    client, script = make_client(json_response(200, {"invoice": INVOICE}), base_url=STAGING)

    client.invoices.retrieve(77)

    assert str(script.last.url) == "https://api-staging.b2brouter.net/invoices/77"


def test_named_environments():
    assert B2BRouter("k").base_url == "https://api.b2brouter.net"
    assert (PRODUCTION.api_base, PRODUCTION.web_base) == ("https://api.b2brouter.net", "https://app.b2brouter.net")
    assert (STAGING.api_base, STAGING.web_base) == (
        "https://api-staging.b2brouter.net",
        "https://app-staging.b2brouter.net",
    )
    assert b2brouter.PRODUCTION_BASE_URL == PRODUCTION.api_base
    assert b2brouter.STAGING_BASE_URL == STAGING.api_base
    assert PRODUCTION.invoice_url(123) == "https://app.b2brouter.net/invoices/123"
    sim = Environment.simulator("http://127.0.0.1:8000/sim/")
    assert sim.invoice_url(5) == "http://127.0.0.1:8000/sim/app/invoices/5"


def test_repr_masks_the_key():
    client = B2BRouter(API_KEY, base_url=BASE_URL)
    text = repr(client)
    assert API_KEY not in text
    assert API_KEY[:8] not in text
    assert "****" in text and BASE_URL in text
    assert "test_****" in repr(B2BRouter("test_" + "x" * 30))


def test_logs_name_the_request_but_never_the_key(make_client, caplog):
    client, _ = make_client(json_response(200, {"invoice": INVOICE}, request_id="req_log"))

    with caplog.at_level(logging.DEBUG, logger="b2brouter"):
        client.invoices.retrieve(77)

    records = [r for r in caplog.records if r.name == "b2brouter"]
    assert records
    line = records[-1].getMessage()
    assert "GET /invoices/77 -> 200" in line and "req_log" in line and " ms" in line
    assert all(API_KEY not in r.getMessage() for r in caplog.records)


def test_missing_api_key_is_refused():
    with pytest.raises(ValueError):
        B2BRouter("")


def test_context_manager_closes_the_transport():
    closed = []

    class Transport(httpx.MockTransport):
        def close(self) -> None:
            closed.append(True)

    with B2BRouter("k", transport=Transport(lambda r: httpx.Response(200))) as client:
        assert isinstance(client, B2BRouter)
    assert closed == [True]


# Accounts -------------------------------------------------------------------------------------


def test_account_retrieve_and_update(make_client):
    account = {
        "id": 1, "name": "Acme", "tin_value": "ESB12345678", "rounding_method": "half_up",
        "round_before_sum": True, "apply_taxes_per_line": False, "transactions_count": 3,
        "transactions_limit": 100,
    }
    client, script = make_client(
        json_response(200, {"account": account}),
        json_response(200, {"account": {**account, "round_before_sum": False}}),
    )

    got = client.accounts.retrieve(1)
    assert got == account
    assert script.requests[0].url.path == "/accounts/1"

    updated = client.accounts.update(1, {"round_before_sum": False})
    assert script.last.method == "PUT" and script.last.url.path == "/accounts/1"
    assert body_of(script.last) == {"account": {"round_before_sum": False}}
    assert updated["round_before_sum"] is False


# Contacts -------------------------------------------------------------------------------------


def test_contact_calls(make_client):
    contact = {"id": 9, "name": "Client SL", "tin_value": "B12345678"}
    client, script = make_client(
        json_response(201, {"contact": contact}),
        json_response(200, {"contact": contact}),
        json_response(200, {"contact": {**contact, "email": "a@b.c"}}),
        json_response(200, {"contact": contact}),
        json_response(200, {"contacts": [contact], "meta": {"total_count": 1, "offset": 0, "limit": 25}}),
    )

    assert client.contacts.create(1, {"name": "Client SL", "tin_value": "B12345678", "is_client": True}) == contact
    assert (script.last.method, script.last.url.path) == ("POST", "/accounts/1/contacts")
    assert body_of(script.last) == {"contact": {"name": "Client SL", "tin_value": "B12345678", "is_client": True}}

    client.contacts.retrieve(9)
    assert (script.last.method, script.last.url.path) == ("GET", "/contacts/9")

    client.contacts.update(9, {"email": "a@b.c"})
    assert (script.last.method, script.last.url.path) == ("PUT", "/contacts/9")
    assert body_of(script.last) == {"contact": {"email": "a@b.c"}}

    assert client.contacts.delete(9) is None
    assert (script.last.method, script.last.url.path) == ("DELETE", "/contacts/9")

    page = client.contacts.list(1, is_client=True, is_provider=False, integration_code="C-1", name="Client")
    assert script.last.url.path == "/accounts/1/contacts"
    assert dict(script.last.url.params) == {
        "is_client": "1", "is_provider": "0", "integration_code": "C-1", "name": "Client",
    }
    assert page.data == [contact] and page.total_count == 1


# Invoices -------------------------------------------------------------------------------------


def test_invoice_create_body_puts_send_after_import_beside_the_invoice(make_client):
    client, script = make_client(json_response(201, {"invoice": INVOICE}), json_response(201, {"invoice": INVOICE}))

    invoice = client.invoices.create(
        1,
        {
            "number": "F-1",
            "date": dt.date(2026, 3, 2),
            "contact_id": 9,
            "invoice_lines_attributes": [
                {"description": "Translation", "quantity": Decimal("3"), "price": Decimal("0.10"),
                 "taxes_attributes": [{"name": "IVA", "category": "S", "percent": Decimal("21")}]},
            ],
        },
    )

    assert (script.last.method, script.last.url.path) == ("POST", "/accounts/1/invoices")
    assert script.last.content == (
        b'{"invoice": {"number": "F-1", "date": "2026-03-02", "contact_id": 9, "invoice_lines_attributes": '
        b'[{"description": "Translation", "quantity": 3, "price": 0.10, "taxes_attributes": '
        b'[{"name": "IVA", "category": "S", "percent": 21}]}]}, "send_after_import": false}'
    )
    assert invoice["subtotal"] == Decimal("100.00") and invoice["total"] == Decimal("121.0")

    client.invoices.create(1, {"number": "F-2"}, send_after_import=True)
    assert body_of(script.last) == {"invoice": {"number": "F-2"}, "send_after_import": True}


def test_service_signatures_follow_the_issue():
    """The argument names and order of issue 3: positional calls must keep working."""
    import inspect

    def params(method: object) -> list[str]:
        return [
            f"{p.name}={p.default!r}" if p.default is not p.empty else p.name
            for p in inspect.signature(method).parameters.values()  # type: ignore[arg-type]
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]

    client = B2BRouter(API_KEY, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    assert params(client.invoices.create) == ["account", "invoice", "send_after_import=False"]
    assert params(client.invoices.download) == ["invoice_id", "document_type"]
    assert params(client.invoices.mark_as) == ["invoice_id", "state"]
    assert params(client.contacts.find_by_tin) == ["account", "tin", "country=None"]
    client.close()


def test_send_after_import_can_be_given_positionally(make_client):
    client, script = make_client(json_response(201, {"invoice": INVOICE}))

    client.invoices.create(1, {"number": "F-3"}, True)

    assert body_of(script.last) == {"invoice": {"number": "F-3"}, "send_after_import": True}


def test_invoice_list_sends_every_filter(make_client):
    client, script = make_client(json_response(200, {"invoices": [], "meta": {"total_count": 0}}))

    client.invoices.list(
        1,
        offset=0, limit=500, number="F-1", date_from=dt.date(2026, 1, 1), date_to="2026-12-31",
        due_date_from="2026-01-01", due_date_to="2026-02-01", type="IssuedInvoice",
        new=True, sending=False, sent=True, error=False, refused=True, accepted=False,
        registered=True, closed=False, allegedly_paid=True, query="tin_value=ESB12345678",
        updated_at_from=dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc),
    )

    assert script.last.url.path == "/accounts/1/invoices"
    assert dict(script.last.url.params) == {
        "offset": "0", "limit": "500", "number": "F-1", "date_from": "2026-01-01", "date_to": "2026-12-31",
        "due_date_from": "2026-01-01", "due_date_to": "2026-02-01", "type": "IssuedInvoice",
        "new": "1", "sending": "0", "sent": "1", "error": "0", "refused": "1", "accepted": "0",
        "registered": "1", "closed": "0", "allegedly_paid": "1", "query": "tin_value=ESB12345678",
        "updated_at_from": "2026-03-01T12:00:00+00:00",
    }


def test_invoice_calls(make_client):
    client, script = make_client(
        json_response(200, {"invoice": INVOICE}),
        json_response(200, {"invoice": {**INVOICE, "extra_info": "x"}}),
        json_response(200, {"invoice": INVOICE}),
        json_response(200, {"valid": False, "errors": ["Iban is invalid"], "invoice": INVOICE}),
        json_response(200, {"invoice": {**INVOICE, "state": "paid"}}),
    )

    assert client.invoices.retrieve(77)["id"] == 77
    assert (script.last.method, script.last.url.path) == ("GET", "/invoices/77")

    client.invoices.update(77, {"extra_info": "x"})
    assert (script.last.method, script.last.url.path) == ("PUT", "/invoices/77")
    assert body_of(script.last) == {"invoice": {"extra_info": "x"}}

    assert client.invoices.delete(77) is None
    assert (script.last.method, script.last.url.path) == ("DELETE", "/invoices/77")

    validation = client.invoices.validate(77)
    assert (script.last.method, script.last.url.path) == ("GET", "/invoices/77/validate")
    assert validation["valid"] is False and validation["errors"] == ["Iban is invalid"]
    assert validation["invoice"]["subtotal"] == Decimal("100.00")

    assert client.invoices.mark_as(77, "paid")["state"] == "paid"
    assert (script.last.method, script.last.url.path) == ("POST", "/invoices/77/mark_as")
    assert body_of(script.last) == {"state": "paid"}


@pytest.mark.parametrize(
    ("document_type", "accept"),
    [("pdf.invoice", "application/pdf"), ("xml.ubl.invoice.bis3", "application/xml"), ("original", "*/*")],
)
def test_download_returns_bytes(make_client, document_type, accept):
    client, script = make_client(httpx.Response(200, content=b"%PDF-1.7\x00\xff", headers={"Content-Type": "application/pdf"}))

    data = client.invoices.download(77, document_type)

    assert data == b"%PDF-1.7\x00\xff"
    assert script.last.url.path == f"/invoices/77/as/{document_type}"
    assert script.last.headers["Accept"] == accept


def test_download_errors_are_typed(make_client):
    client, _ = make_client(json_response(404, {"error": {"code": "resource_missing", "message": "Invoice not found"}}))

    with pytest.raises(b2brouter.NotFoundError):
        client.invoices.download(1, "pdf.invoice")


def test_ids_are_quoted_and_required(make_client):
    client, script = make_client(json_response(200, {"account": {"id": "a/b"}}))

    client.accounts.retrieve("a/b")
    assert script.last.url.raw_path == b"/accounts/a%2Fb"

    with pytest.raises(ValueError):
        client.invoices.retrieve("")


def test_find_by_number_reconciles_a_create(make_client):
    client, script = make_client(
        json_response(200, {"invoices": [{**INVOICE, "number": "F-10"}, INVOICE], "meta": {"total_count": 2}}),
        json_response(200, {"invoices": [], "meta": {"total_count": 0}}),
    )

    assert client.invoices.find_by_number(1, "F-1") == {**INVOICE, "subtotal": Decimal("100.00"), "total": Decimal("121.0")}
    assert script.last.url.params["number"] == "F-1"
    assert client.invoices.find_by_number(1, "F-2") is None


def test_raw_request_escape_hatch(make_client):
    client, script = make_client(json_response(200, {"tax_reports": [], "total": 1.5}))

    body = client.request("GET", "/accounts/1/tax_reports", params={"limit": 5, "skip": None})

    assert body == {"tax_reports": [], "total": Decimal("1.5")}
    assert str(script.last.url) == f"{BASE_URL}/accounts/1/tax_reports?limit=5"
