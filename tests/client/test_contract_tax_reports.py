"""Contract tests of ``client.tax_report_settings`` and ``client.tax_reports`` against the simulator."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from b2brouter import FINAL_TAX_REPORT_STATES, B2BRouter, ConflictError, InvalidRequestError, NotFoundError

from .test_contract_sim import BASE_URL, SimAccount, SocketLikeTransport, control, line

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("b2brouter_sim" not in settings.INSTALLED_APPS, reason="the simulator is not enabled"),
]


@pytest.fixture
def account() -> SimAccount:
    return SimAccount(name="Verifactu Contract S.L.", tin_value="ESB12345674")


@pytest.fixture
def client(account: SimAccount, sleeps: list[float]) -> Iterator[B2BRouter]:
    with B2BRouter(account.key, base_url=BASE_URL, transport=SocketLikeTransport()) as client:
        yield client


def issue(client: B2BRouter, account: SimAccount, number: str = "F-1", tin: str = "ESB76543210") -> dict[str, Any]:
    contact = client.contacts.find_by_tin(account.id, tin) or client.contacts.create(
        account.id, {"name": "Cliente S.L.", "tin_value": tin, "country": "es", "is_client": True}
    )
    data = {"number": number, "date": "2027-01-04", "contact_id": contact["id"], "invoice_lines_attributes": [line()]}
    return dict(client.invoices.create(account.id, data, send_after_import=True))


def answer(report_id: int) -> None:
    """Let the simulated AEAT answer the record now (the task queue would, a moment later)."""
    response = control("POST", f"/_control/tax_reports/{report_id}/advance")
    assert response.status_code == 200, response.text


def test_switching_verifactu_on_and_off(client, account):
    with pytest.raises(NotFoundError):
        client.tax_report_settings.retrieve(account.id, "verifactu")

    created = client.tax_report_settings.create(account.id, {"code": "verifactu", "start_date": "2027-01-01"})
    assert created["code"] == "verifactu" and created["start_date"] == "2027-01-01"
    assert client.tax_report_settings.retrieve(account.id, "verifactu")["start_date"] == "2027-01-01"
    assert [s["code"] for s in client.tax_report_settings.list(account.id)] == ["verifactu"]

    updated = client.tax_report_settings.update(account.id, "verifactu", {"credit_note_code": "R4"})
    assert updated["credit_note_code"] == "R4"
    with pytest.raises(InvalidRequestError) as caught:
        client.tax_report_settings.create(account.id, {"code": "verifactu"})
    assert caught.value.status_code == 422 and caught.value.param == "code"

    client.tax_report_settings.delete(account.id, "verifactu")
    with pytest.raises(NotFoundError):
        client.tax_report_settings.retrieve(account.id, "verifactu")


def test_ticketbai_setting_carries_its_delegation(client, account):
    created = client.tax_report_settings.create(account.id, {"code": "tbai", "delegation": "gipuzkoa"})
    assert created["delegation"] == "gipuzkoa"
    with pytest.raises(InvalidRequestError) as caught:
        client.tax_report_settings.update(account.id, "tbai", {"delegation": "madrid"})
    assert caught.value.param == "delegation"


def test_an_issued_invoice_is_registered_with_qr_and_identifier(client, account):
    client.tax_report_settings.create(account.id, {"code": "verifactu", "start_date": "2027-01-01"})
    invoice = issue(client, account)
    [report_id] = invoice["tax_report_ids"]

    report = client.tax_reports.retrieve(report_id)
    assert report["state"] == "processing"
    assert report["tax_inclusive_amount"] == Decimal("121.00")
    assert base64.b64decode(report["qr"]).startswith(b"\x89PNG")
    assert parse_qs(urlsplit(report["identifier"]).query)["fecha"] == ["04-01-2027"]

    answer(report_id)
    report = client.tax_reports.retrieve(report_id)
    assert report["state"] == "registered" and report["state"] in FINAL_TAX_REPORT_STATES
    xml = client.tax_reports.download(report_id)
    huella = re.search(rb"<sum1:Huella>([0-9A-F]{64})</sum1:Huella>\s*</sum1:RegistroAlta>", xml)
    assert huella is not None and huella.group(1).decode() == report["fingerprint"]


def test_listing_walks_every_page_with_filters(client, account):
    client.tax_report_settings.create(account.id, {"code": "verifactu", "start_date": "2027-01-01"})
    invoices = [issue(client, account, f"F-{n}", tin) for n, tin in enumerate(["ESB76543210", "ESA58818501", "ESB65410011"])]

    page = client.tax_reports.list(account.id, limit=2)
    assert page.total_count == 3 and len(page.data) == 2
    assert [r["invoice_number"] for r in page] == ["F-0", "F-1", "F-2"]
    only = list(client.tax_reports.list(account.id, invoice_id=invoices[1]["id"]))
    assert [r["id"] for r in only] == invoices[1]["tax_report_ids"]


def test_rejection_then_correction_then_cancellation(client, account):
    client.tax_report_settings.create(account.id, {"code": "verifactu", "start_date": "2027-01-01"})
    account.faults(aeat_reject_rate=1, aeat_reject_code="1100", aeat_reject_message="Valor o tipo incorrecto del campo")
    [report_id] = issue(client, account)["tax_report_ids"]
    answer(report_id)
    rejected = client.tax_reports.retrieve(report_id)
    assert rejected["state"] == "error"
    assert rejected["errors"] == [{"code": "1100", "message": "Valor o tipo incorrecto del campo"}]
    with pytest.raises(ConflictError):
        client.tax_reports.delete(report_id)  # nothing registered to cancel

    account.faults()
    correction = client.tax_reports.update(report_id, {"customer_party_tax_id": "B76543210"})
    assert correction["correction"] is True and correction["id"] != report_id
    answer(correction["id"])
    assert client.tax_reports.retrieve(correction["id"])["state"] == "registered"

    annulment = client.tax_reports.delete(correction["id"])
    assert annulment["annullation"] is True
    answer(annulment["id"])
    assert client.tax_reports.retrieve(annulment["id"])["state"] == "annulled"
    assert client.tax_reports.retrieve(correction["id"])["state"] == "annulled"


def test_a_record_created_directly_chains_on_the_last_one(client, account):
    client.tax_report_settings.create(account.id, {"code": "verifactu", "start_date": "2027-01-01"})
    [first_id] = issue(client, account)["tax_report_ids"]
    first = client.tax_reports.retrieve(first_id)
    direct = client.tax_reports.create(account.id, {
        "type": "Verifactu", "invoice_number": "TPV-1", "invoice_date": "2027-01-05", "invoice_type_code": "F2",
        "description": "Venta en tienda", "tax_inclusive_amount": Decimal("12.10"), "tax_amount": Decimal("2.10"),
        "currency": "EUR",
        "tax_breakdowns": [{"category": "S", "non_exemption_code": "S1", "percent": Decimal("21"),
                            "taxable_base": Decimal("10.00"), "tax_amount": Decimal("2.10")}],
    })
    assert direct["previous_fingerprint"] == first["fingerprint"]
    xml = client.tax_reports.download(direct["id"]).decode()
    stamp = re.search(r"<sum1:FechaHoraHusoGenRegistro>([^<]+)<", xml)
    assert stamp is not None
    text = (f"IDEmisorFactura=B12345674&NumSerieFactura=TPV-1&FechaExpedicionFactura=05-01-2027&TipoFactura=F2"
            f"&CuotaTotal=2.10&ImporteTotal=12.10&Huella={first['fingerprint']}&FechaHoraHusoGenRegistro={stamp.group(1)}")
    assert hashlib.sha256(text.encode()).hexdigest().upper() == direct["fingerprint"]
