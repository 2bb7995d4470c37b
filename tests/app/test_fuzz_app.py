"""Fuzz the app: the webhook receiver, the search and filter parameters, and every form.

Whatever arrives, the app answers below 500, and a request it refuses changes no stored data
(a digest of every table the request could touch is compared before and after).
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient
from hypothesis import example, given
from hypothesis import strategies as st

from b2brouter import webhooks as signatures
from b2binvoice.clients.models import Client
from b2binvoice.companies.models import Company, Membership, PaymentMethod, Tax, UnitMapping
from b2binvoice.einvoicing.models import (
    B2BrouterIntegration,
    DirectoryCheck,
    InvoiceEvent,
    InvoiceLink,
    ProbeRun,
    WebhookEvent,
)
from b2binvoice.einvoicing.webhook_guard import KNOWN_STATES, WebhookSignatureFailures
from b2binvoice.invoices.models import Invoice, InvoiceAdjustment, InvoiceLine, InvoiceTax
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
    bank,
    company,
    contact_for,
    customer,
    integration,
    make_invoice,
    sim,
    user,
    vat,
    web,
)
from tests.app.test_einvoicing_webhooks import linked, register  # noqa: F401 (fixtures)
from tests.fuzzing import FUZZ, deep, dumps, fingerprint, form_fields, form_text, json_value, raw_body

pytestmark = pytest.mark.django_db

APP_TABLES = (
    Company, Membership, Client, Client.default_taxes.through, Tax, PaymentMethod, UnitMapping, Invoice,
    InvoiceLine, InvoiceTax, InvoiceAdjustment, B2BrouterIntegration, InvoiceLink, InvoiceEvent, WebhookEvent,
    DirectoryCheck, ProbeRun, get_user_model(),
)
FEW = FUZZ.__class__(FUZZ, max_examples=max(8, FUZZ.max_examples // 4))


def assert_refused_without_change(response: Any, before: str, where: str, *, tables: tuple[Any, ...] = APP_TABLES,
                                  success: tuple[int, ...] = (302,)) -> None:
    assert response.status_code < 500, f"{where} -> {response.status_code}"
    if response.status_code not in success:
        assert fingerprint(*tables) == before, f"{where} -> {response.status_code} changed stored data"


@pytest.fixture(autouse=True)
def _no_rate_limit(settings: Any) -> None:
    # The fuzzer sends more deliveries than B2Brouter would; the limit has its own tests.
    settings.B2BROUTER_WEBHOOK_RATE_LIMIT = 0


@pytest.fixture
def registered(web: HttpClient, integration: B2BrouterIntegration) -> B2BrouterIntegration:
    return register(web, integration)


# --- The webhook receiver -----------------------------------------------------------------------

RICH_FIELDS = ["total", "subtotal", "taxes", "number", "currency", "date", "errors", "refuse_reason", "contact_id",
               "contact", "state_updated_at", "id"]
LINKED = "<the linked invoice's B2Brouter id>"


def _event(**data: Any) -> dict[str, Any]:
    return {"code": "issued_invoice.state_change", "triggered_at": int(time.time()),
            "data": {"invoice_id": LINKED, "state": "sent"} | data}


# Events shaped like B2Brouter's (the linked invoice's id stands in for LINKED), some with a whole
# invoice, some anything at all, and raw bodies.
_ids = st.one_of(st.just(LINKED), st.sampled_from([0, -1, 10**30, 2**63, 2**63 - 1]), json_value)
_times = st.one_of(st.just(int(time.time())), st.sampled_from([0, -1, 10**12, 2**40, 253402300800]), json_value)
_states = st.one_of(st.sampled_from(sorted(KNOWN_STATES)), st.just("x" * 10_000), json_value)
_data = st.fixed_dictionaries(
    {"invoice_id": _ids, "state": _states},
    optional={"event_id": _ids, "notes": json_value,
              **{name: st.one_of(json_value, st.just("12.50"), st.just([{"amount": "1"}])) for name in RICH_FIELDS}},
)
_events = st.fixed_dictionaries(
    {"code": st.one_of(st.just("issued_invoice.state_change"), json_value), "data": st.one_of(_data, json_value)},
    optional={"triggered_at": _times},
)
webhook_bodies = st.one_of(_events, _events, json_value, raw_body)


def _body(payload: Any, b2brouter_id: int) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
        payload = {**payload, "data": {key: b2brouter_id if value == LINKED else value
                                       for key, value in payload["data"].items()}}
    return dumps(payload)


@FUZZ
@given(payload=webhook_bodies)
@example(payload=_event(event_id=10**30))
@example(payload=_event(invoice_id=10**30))
@example(payload=_event() | {"triggered_at": 10**12})
@example(payload=_event(state="x" * 10_000))
@example(payload=_event(notes="\x00"))
@example(payload=_event(total="1e30", subtotal=[], taxes={"a": 1}))
@example(payload=deep(100_000))
def test_signed_webhook_payloads(registered: B2BrouterIntegration, linked: InvoiceLink, payload: Any) -> None:
    raw = _body(payload, linked.b2brouter_id)
    header = signatures.sign(raw, registered.webhook_secret, int(time.time()))
    tables = (InvoiceLink, InvoiceEvent, WebhookEvent, Invoice, B2BrouterIntegration)
    before = fingerprint(*tables)
    response = HttpClient().post(f"/webhooks/b2brouter/{registered.webhook_token}/", data=raw,
                                 content_type="application/json", HTTP_X_B2BROUTER_SIGNATURE=header)
    assert_refused_without_change(response, before, f"webhook {raw[:300]!r}", tables=tables, success=(200,))
    assert "received" in json.loads(response.content)


@FUZZ
@given(header=form_text, token=form_text, raw=st.one_of(json_value.map(dumps), raw_body))
@example(header="", token="00000#", raw=b"")  # a "#" in the token once made the path end early (301)
def test_unsigned_webhook_deliveries(registered: B2BrouterIntegration, linked: InvoiceLink, header: str, token: str,
                                     raw: bytes) -> None:
    before = fingerprint(*APP_TABLES)
    # The token is URL-quoted as any client sends it ("#" would otherwise end the path: a fragment).
    path = f"/webhooks/b2brouter/{registered.webhook_token if len(token) % 2 else quote(token, safe='') or 'x'}/"
    response = HttpClient().post(path, data=raw, content_type="application/json", HTTP_X_B2BROUTER_SIGNATURE=header)
    assert response.status_code in (400, 404, 413), (path, header, response.status_code)
    assert fingerprint(*APP_TABLES) == before
    assert WebhookSignatureFailures.objects.count() <= 1


# --- Search and filter parameters -----------------------------------------------------------------


@pytest.fixture
def pages(web: HttpClient, company: Company, customer: Client, vat: Tax, bank: PaymentMethod,
          integration: B2BrouterIntegration) -> dict[str, Any]:
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    return {"invoice": invoice, "client": customer}


SEARCHES = [
    ("/invoices/", ["q", "status", "page"]), ("/clients/", ["q", "page"]), ("/invoices/new/", ["client"]),
    ("/settings/units/new/", ["label"]), ("/invoices/{invoice}/b2brouter/link/", ["number"]),
    ("/clients/{client}/b2brouter/contacts/", ["q", "next"]), ("/settings/taxes/", ["q"]),
    ("/settings/payment-methods/", ["page"]), ("/", ["next"]), ("/login/", ["next"]),
]
searches = st.sampled_from(SEARCHES).flatmap(lambda search: st.tuples(st.just(search[0]), st.dictionaries(
    st.one_of(st.sampled_from(search[1]), form_text), st.lists(form_text, min_size=1, max_size=2), max_size=3)))


@FUZZ
@given(search=searches)
@example(search=("/invoices/", {"q": ["\x00"]}))
@example(search=("/clients/", {"q": ["\x00"]}))
@example(search=("/invoices/", {"status": ["\x00"], "page": ["9" * 30]}))
def test_search_and_filter_parameters(web: HttpClient, pages: dict[str, Any], search: tuple[str, Any]) -> None:
    url, query = search
    url = url.format(invoice=pages["invoice"].pk, client=pages["client"].pk)
    before = fingerprint(*APP_TABLES)
    response = web.get(url, query)
    assert response.status_code < 500, (url, query, response.status_code)
    assert fingerprint(*APP_TABLES) == before, (url, query)


# --- Every form -------------------------------------------------------------------------------------


@pytest.fixture
def objects(web: HttpClient, company: Company, customer: Client, vat: Tax, bank: PaymentMethod) -> dict[str, int]:
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    unit = UnitMapping.objects.create(company=company, label="Seiten", key="seiten", code=1)
    return {"invoice": invoice.pk, "client": customer.pk, "tax": vat.pk, "method": bank.pk, "unit": unit.pk}


# (page showing the form, the form's action, or "" for the page itself)
FORMS = [
    ("/invoices/new/", ""), ("/invoices/{invoice}/edit/", ""), ("/clients/new/", ""), ("/clients/{client}/edit/", ""),
    ("/settings/company/", ""), ("/settings/taxes/new/", ""), ("/settings/taxes/{tax}/edit/", ""),
    ("/settings/units/new/", ""), ("/settings/units/{unit}/edit/", ""), ("/settings/payment-methods/new/", ""),
    ("/settings/payment-methods/{method}/edit/", ""), ("/settings/integrations/b2brouter/", ""),
    ("/settings/integrations/b2brouter/", "/settings/integrations/b2brouter/webhook/secret/"),
    ("/account/password/", "/account/password/"), ("/account/two-factor/", "/account/two-factor/"),
]


# The field names of each form as first shown: a form may show other fields after a change (a tax's
# amount or rate), but what the fuzzer draws from must not depend on the database's state.
_FIELD_NAMES: dict[tuple[str, str], list[str]] = {}


def mutated(fields: dict[str, list[str]], known: list[str]) -> st.SearchStrategy[dict[str, list[str]]]:
    """The form as shown, with up to three fields given other values (or left out)."""
    names = st.one_of(st.sampled_from(known), form_text) if known else form_text
    values = st.one_of(st.lists(form_text, min_size=1, max_size=2), st.just([]))
    return st.dictionaries(names, values, max_size=3).map(lambda changes: {
        name: value for name, value in ({**fields, **changes}).items() if value})


@FEW
@pytest.mark.parametrize("url,action", FORMS)
@given(data=st.data())
def test_every_form(request: pytest.FixtureRequest, web: HttpClient, objects: dict[str, int], url: str, action: str,
                    data: st.DataObject) -> None:
    if "integrations" in url:
        request.getfixturevalue("integration")  # connected to the simulator, so the webhook form shows
    page = url.format(**objects)
    shown = web.get(page)
    assert shown.status_code == 200, page
    fields = form_fields(shown.content.decode(), action)
    known = _FIELD_NAMES.setdefault((url, action), sorted(fields))
    fields = data.draw(mutated(fields, known))
    before = fingerprint(*APP_TABLES)
    response = web.post(action or page, fields)
    assert_refused_without_change(response, before, f"POST {action or page} {fields!r:.400}")


BUTTONS = [("/invoices/{invoice}/b2brouter/link/", "b2brouter_id"), ("/clients/{client}/b2brouter/contacts/", "b2brouter_id"),
           ("/settings/company/switch/", "company")]
ids = st.one_of(form_text, st.sampled_from(["1", "0", "-1", "9" * 30, str(2**63), str(2**63 - 1)]))


@FEW
@given(button=st.sampled_from(BUTTONS), value=ids, extra=st.dictionaries(st.sampled_from(["next", "x"]), form_text,
                                                                           max_size=2))
@example(button=BUTTONS[0], value="9" * 30, extra={})
def test_buttons_with_ids(web: HttpClient, objects: dict[str, int], integration: B2BrouterIntegration,
                          button: tuple[str, str], value: str, extra: dict[str, str]) -> None:
    """The forms that post one id: link an invoice, choose a contact, switch company."""
    url, name = button
    url = url.format(**objects)
    before = fingerprint(*APP_TABLES)
    response = web.post(url, {name: value, **extra})
    assert response.status_code < 500, (url, value, extra)
    if not (value.isascii() and value.isdigit() and 0 < int(value) < 2**63):
        assert fingerprint(*APP_TABLES) == before, (url, value)


def test_the_invoice_form_takes_the_decimal_extremes_it_shows(web: HttpClient, objects: dict[str, int]) -> None:
    """A sanity check of the fuzzer's premise: the form as shown is valid and saves."""
    page = f"/invoices/{objects['invoice']}/edit/"
    fields = form_fields(web.get(page).content.decode())
    assert web.post(page, fields).status_code == 302
    assert Invoice.objects.get(pk=objects["invoice"]).lines.first().quantity == Decimal("1234")
