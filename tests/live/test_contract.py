"""The client's contract with B2Brouter, checked on the simulator (always) and on B2Brouter (make test-live).

Each test uses only what B2Brouter documents (see docs/client.md, "Live contract suite"):
a documented tax name (IVA, category S), no ``unit``, no payment method, unsent invoices. The
amounts are chosen so that no rounding rule can change them: a difference is a real one.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import pytest
from stdnum.es import cif

from b2brouter import (
    AuthenticationError,
    B2BRouter,
    Contact,
    Invoice,
    InvalidRequestError,
    NotFoundError,
    reachable_on_peppol,
    same_tin,
)

from .conftest import ACCOUNT_VAR, KEY_VAR, LIVE_FLAG, PREFIX, Backend, live_selected

# Downloads right after creation may answer 404 while B2Brouter generates the document.
GENERATION_RETRIES = 5


def random_cif() -> str:
    """Return a valid Spanish CIF of a company (letter B), new on every call."""
    body = "B" + "".join(secrets.choice("0123456789") for _ in range(7))
    return "ES" + body + cif.calc_check_digits(body)[0]


def unique(label: str) -> str:
    return f"{PREFIX}-{label}-{secrets.token_hex(2).upper()}"


def make_contact(backend: Backend, **fields: Any) -> Contact:
    data: dict[str, Any] = {
        "name": unique("CONTACT"),
        "tin_value": random_cif(),
        "tin_scheme": "9920",  # ISO 6523 scheme of a Spanish NIF, as in B2Brouter's examples
        "country": "es",
        "email": "billing@example.com",
        "is_client": True,
        **fields,
    }
    contact = backend.client.contacts.create(backend.account_id, data)  # type: ignore[arg-type]
    backend.contacts.append(contact["id"])
    return contact


def make_invoice(backend: Backend, contact: Contact, number: str | None = None) -> Invoice:
    invoice = backend.client.invoices.create(backend.account_id, {
        "number": number or unique("INV"),
        "date": dt.date.today(),
        "currency": "EUR",
        "contact_id": contact["id"],
        "invoice_lines_attributes": [{
            "description": f"{PREFIX} contract test line",
            "quantity": Decimal("2"),
            "price": Decimal("50.00"),
            "taxes_attributes": [{"name": "IVA", "category": "S", "percent": Decimal("21")}],
        }],
    })
    backend.invoices.append(invoice["id"])
    return invoice


def tax_group(invoice: Invoice, name: str, percent: Decimal) -> dict[str, Any]:
    """Return the invoice's tax group of ``name`` at ``percent`` (``category`` may be absent)."""
    groups = [t for t in invoice.get("taxes") or [] if t.get("name") == name and Decimal(t["percent"]) == percent]
    assert len(groups) == 1, invoice.get("taxes")
    return dict(groups[0])


def test_the_account_is_readable(backend):
    account = backend.client.accounts.retrieve(backend.account_id)

    assert account["id"] == backend.account_id
    assert isinstance(account.get("name"), str) and account["name"]
    assert any(a["id"] == backend.account_id for a in backend.client.accounts.list())


def test_a_contact_round_trip(backend):
    client = backend.client
    tin = random_cif()
    contact = make_contact(backend, tin_value=tin)
    assert contact["name"].startswith(PREFIX) and isinstance(contact["id"], int)

    got = client.contacts.retrieve(contact["id"])
    assert got["id"] == contact["id"] and got["name"] == contact["name"]
    assert same_tin(got["tin_value"], tin)  # stored with or without the ES prefix

    changed = client.contacts.update(contact["id"], {"email": "invoices@example.com"})
    assert changed["email"] == "invoices@example.com"
    found = client.contacts.find_by_tin(backend.account_id, tin)
    assert found is not None and found["id"] == contact["id"]

    client.contacts.delete(contact["id"])
    with pytest.raises(NotFoundError) as caught:
        client.contacts.retrieve(contact["id"])
    assert caught.value.code == "resource_missing"


def test_contacts_page_across_offsets(backend):
    label = unique("PAGE")
    ids = {make_contact(backend, name=f"{label} {n}")["id"] for n in range(3)}

    page = backend.client.contacts.list(backend.account_id, name=label, limit=2)

    assert page.limit == 2 and len(page.data) == 2
    assert page.total_count in (None, 3)
    assert {c["id"] for c in page} == ids  # the iterator fetched the next page by offset


def test_an_unsent_invoice_round_trip(backend):
    client = backend.client
    invoice = make_invoice(backend, make_contact(backend))

    assert invoice["state"] == "new" and invoice["number"].startswith(PREFIX)
    # 2 x 50.00 at 21 %: the same under every rounding method and tax-per-line setting.
    assert invoice["subtotal"] == Decimal("100.00") and isinstance(invoice["subtotal"], Decimal)
    assert invoice["total"] == Decimal("121.00")
    iva = tax_group(invoice, "IVA", Decimal("21"))
    assert Decimal(iva["base"]) == Decimal("100.00") and Decimal(iva["amount"]) == Decimal("21.00")

    assert client.invoices.retrieve(invoice["id"])["total"] == Decimal("121.00")
    assert client.invoices.find_by_number(backend.account_id, invoice["number"])["id"] == invoice["id"]
    assert [i["id"] for i in client.invoices.list(backend.account_id, number=invoice["number"])] == [invoice["id"]]

    changed = client.invoices.update(invoice["id"], {"extra_info": f"{PREFIX} note"})
    assert changed["extra_info"] == f"{PREFIX} note" and changed["state"] == "new"

    client.invoices.delete(invoice["id"])
    with pytest.raises(NotFoundError):
        client.invoices.retrieve(invoice["id"])


def test_documents_download_once_generated(backend):
    client = backend.client
    invoice = make_invoice(backend, make_contact(backend))

    pdf = client.invoices.download(invoice["id"], "pdf.invoice", wait_for_generation=GENERATION_RETRIES)
    assert pdf.startswith(b"%PDF")

    named = client.invoices.download(invoice["id"], "pdf.invoice", disposition="attachment",
                                     filename=f"{invoice['number']}.pdf", wait_for_generation=GENERATION_RETRIES)
    assert named.startswith(b"%PDF")

    ubl = client.invoices.download(invoice["id"], "xml.ubl.invoice.bis3", wait_for_generation=GENERATION_RETRIES)
    assert ubl.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<") and invoice["number"].encode() in ubl


def test_a_duplicate_number_is_refused_and_not_applied(backend):
    contact = make_contact(backend)
    first = make_invoice(backend, contact)

    with pytest.raises(InvalidRequestError) as caught:
        make_invoice(backend, contact, number=first["number"])

    err = caught.value
    assert err.status_code == 422 and err.code == "parameter_taken"
    assert err.maybe_applied is False and err.messages
    assert err.request_id and err.request_id in str(err)


def test_a_missing_invoice_is_not_found_with_a_request_id(backend):
    with pytest.raises(NotFoundError) as caught:
        backend.client.invoices.retrieve(2_000_000_000 + secrets.randbelow(100_000_000))

    err = caught.value
    assert err.code == "resource_missing"
    assert err.request_id and f"request id: {err.request_id}" in str(err)


def test_a_wrong_key_is_an_authentication_error(backend):
    wrong = ("test_" if backend.api_key.startswith("test_") else "") + "b2binvoice-wrong-" + secrets.token_hex(12)
    with backend.new_client(wrong) as client, pytest.raises(AuthenticationError) as caught:
        client.accounts.retrieve(backend.account_id)

    err = caught.value
    assert err.status_code == 401
    assert err.code in ("unauthorized", "invalid_api_key", "missing_api_key", "expired_api_key")
    assert backend.api_key not in str(err) and wrong not in str(err)


def test_the_directory_answers_a_lookup(backend):
    # Path inferred (docs/client.md): a receiver that is not listed answers None, not an error.
    entry = backend.client.directory.lookup("es", "9920", random_cif())

    assert entry is None or isinstance(entry, dict)
    assert reachable_on_peppol(entry) in (True, False)


def test_credentials_alone_never_select_a_real_b2brouter(request, monkeypatch):
    # CI may well have the variables set: only make test-live (B2BROUTER_LIVE_SUITE=1) goes live.
    if live_selected():
        pytest.skip("make test-live chose the real backend on purpose")
    monkeypatch.setenv(KEY_VAR, "test_" + "x" * 30)
    monkeypatch.setenv(ACCOUNT_VAR, "1234")
    monkeypatch.delenv(LIVE_FLAG, raising=False)

    backend = request.getfixturevalue("backend")

    assert backend.name == "simulator" and backend.base_url.startswith("http://testserver/")
    assert backend.client.accounts.retrieve(backend.account_id)["id"] == backend.account_id
