"""What the app sends to B2Brouter (captured on the wire), and that B2Brouter's totals then agree with ours."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import PaymentMethod, PaymentMethodType, Tax, UnitMapping
from b2binvoice.einvoicing.models import InvoiceLink, LinkStatus
from b2binvoice.invoices.models import InvoiceAdjustment, InvoiceLine
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    VALID_IBAN,
    _b2brouter_settings,
    account,
    bank,
    company,
    confirmed,
    contact_for,
    customer,
    integration,
    make_invoice,
    section,
    sim,
    simulator_transport,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db

Rewrite = Callable[[httpx.Request, Any], Any]


class Recorder(httpx.BaseTransport):
    """The simulator transport, keeping every JSON body the app sends and optionally rewriting the answers."""

    def __init__(self, sent: list[tuple[str, str, Any]], rewrite: Rewrite | None) -> None:
        self.inner = simulator_transport()
        self.sent = sent
        self.rewrite = rewrite

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.sent.append((request.method, request.url.path, json.loads(body) if body else None))
        response = self.inner.handle_request(request)
        if self.rewrite is None or "json" not in response.headers.get("content-type", ""):
            return response
        data = self.rewrite(request, json.loads(response.read()))
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return httpx.Response(response.status_code, headers=headers, content=json.dumps(data).encode())


class Wire:
    """What went over the wire to B2Brouter in a test."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.rewrite: Rewrite | None = None

    def transport(self) -> httpx.BaseTransport:
        return Recorder(self.sent, self.rewrite)

    def bodies(self, method: str, path_end: str) -> list[Any]:
        return [body for m, path, body in self.sent if m == method and path.endswith(path_end)]

    def invoice(self) -> dict[str, Any]:
        """Return the last invoice the app created."""
        return self.bodies("POST", "/invoices")[-1]["invoice"]


@pytest.fixture
def wire(settings: Any, _b2brouter_settings: None) -> Wire:  # noqa: F811
    recorder = Wire()
    settings.B2BROUTER_TRANSPORT_FACTORY = recorder.transport
    return recorder


def create(web: Any, invoice: Any) -> InvoiceLink:
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    return InvoiceLink.objects.get(invoice=invoice)


def without_categories(_request: httpx.Request, data: Any) -> Any:
    """Answer like B2Brouter documents it: tax groups with name, percent, base and amount only."""
    if isinstance(data, dict):
        return {key: ([{k: v for k, v in t.items() if k != "category"} for t in value]
                      if key == "taxes" and isinstance(value, list) else without_categories(_request, value))
                for key, value in data.items()}
    if isinstance(data, list):
        return [without_categories(_request, item) for item in data]
    return data


def numbers(item: dict[str, Any]) -> dict[str, Any]:
    return {k: (Decimal(str(v)) if k == "percent" else v) for k, v in item.items()}


def test_taxes_go_by_their_b2brouter_name_never_by_our_label(web, company, account, integration, customer, vat, bank,
                                                             sim, wire):
    contact_for(sim, account, customer)
    irpf = Tax.objects.create(company=company, name="Retención profesional 15%", tax_type="IRPF",
                              rate=Decimal("-15"), category="S")
    invoice = make_invoice(company, customer, taxes=[vat, irpf], payment_method=bank)
    link = create(web, invoice)
    taxes = [numbers(t) for t in wire.invoice()["invoice_lines_attributes"][0]["taxes_attributes"]]
    assert taxes == [{"name": "IVA", "category": "S", "percent": Decimal("21")},
                     {"name": "IRPF", "category": "S", "percent": Decimal("-15")}]
    # The labels stay ours, on our invoice page.
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Retención profesional 15%" in page and "IVA 21%" in page
    assert link.status == LinkStatus.LINKED and "✗ differs" not in section(web, invoice)


def test_two_rates_of_one_type_and_an_exempt_tax_are_sent_with_their_categories(web, company, account, integration,
                                                                                 customer, bank, sim, wire):
    contact_for(sim, account, customer)
    reduced = Tax.objects.create(company=company, name="IVA reducido", tax_type="IVA", rate=Decimal("10"),
                                 category="AA")
    exempt = Tax.objects.create(company=company, name="Exento", tax_type="IVA", rate=Decimal("0"), category="E",
                                exemption_reason="Exento art. 20.Uno.18 LIVA", exemption_code="E1")
    first = make_invoice(company, customer, number="INV-0001", taxes=[reduced], payment_method=bank)
    second = make_invoice(company, customer, number="INV-0002", taxes=[exempt], payment_method=bank)
    create(web, first)
    assert [numbers(t) for t in wire.invoice()["invoice_lines_attributes"][0]["taxes_attributes"]] == [
        {"name": "IVA", "category": "AA", "percent": Decimal("10")}]
    create(web, second)
    assert [numbers(t) for t in wire.invoice()["invoice_lines_attributes"][0]["taxes_attributes"]] == [
        {"name": "IVA", "category": "E", "percent": Decimal("0"), "comment": "E1"}]
    for invoice in (first, second):
        assert InvoiceLink.objects.get(invoice=invoice).state in ("sending", "sent")


ACCOUNT = {"type": "iban", "iban": VALID_IBAN, "bic": "CAIXESBBXXX"}


@pytest.mark.parametrize(("kind", "currency", "expected"), [
    # A euro transfer is 4 like any other (never 58, which the guide does not list).
    (PaymentMethodType.BANK_TRANSFER, "EUR", {"payment_method": 4, "bank_account": ACCOUNT}),
    (PaymentMethodType.BANK_TRANSFER, "USD", {"payment_method": 4, "bank_account": ACCOUNT}),
    (PaymentMethodType.CASH, "EUR", {"payment_method": 1}),
    (PaymentMethodType.CHEQUE, "EUR", {"payment_method": 11}),
    (PaymentMethodType.CARD, "EUR", {"payment_method": 13, "payment_method_text": "Visa or Mastercard"}),
    (PaymentMethodType.PAYPAL, "EUR", {"payment_method": 13, "payment_method_text": "paypal.me/lingua"}),
    (PaymentMethodType.DIRECT_DEBIT, "EUR", {"payment_method": 2, "contact_iban": "DE89370400440532013000",
                                             "mandate_reference": "MANDATE-0042"}),
])
def test_payment_methods_are_sent_as_documented_codes(kind, currency, expected, web, company, account, integration,
                                                      customer, vat, sim, wire):
    contact_for(sim, account, customer)
    customer.iban, customer.mandate_reference = "DE89370400440532013000", "MANDATE-0042"
    customer.save()
    details = {PaymentMethodType.CARD: "Visa or Mastercard", PaymentMethodType.PAYPAL: "paypal.me/lingua"}
    method = PaymentMethod.objects.create(company=company, name=f"Via {kind}", type=kind, details=details.get(kind, ""),
                                          iban=VALID_IBAN if kind == PaymentMethodType.BANK_TRANSFER else "",
                                          bic="CAIXESBBXXX" if kind == PaymentMethodType.BANK_TRANSFER else "")
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=method)
    invoice.currency = currency
    invoice.save()
    link = create(web, invoice)
    sent = wire.invoice()
    assert {k: sent[k] for k in sent if k in ("payment_method", "payment_method_text", "bank_account",
                                              "contact_iban", "mandate_reference")} == expected
    assert link.status == LinkStatus.LINKED


def test_units_are_sent_as_codes_from_the_built_in_and_the_company_table(web, company, account, integration, customer,
                                                                         vat, bank, sim, wire):
    contact_for(sim, account, customer)
    UnitMapping.objects.create(company=company, label="Folios", code=1)
    UnitMapping.objects.create(company=company, label="Jornadas", code=None)  # known, but sent without a unit
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank,
                           lines=[("2", "30"), ("1500", "0.08"), ("3", "40"), ("3", "12"), ("1", "300"), ("4", "2")])
    for line, unit in zip(invoice.lines.all(), ["Horas", "PALABRAS", "páginas", "FOLIOS ", "jornadas", "minutes"],
                          strict=True):
        InvoiceLine.objects.filter(pk=line.pk).update(unit=unit)
    link = create(web, invoice)
    assert [line.get("unit") for line in wire.invoice()["invoice_lines_attributes"]] == [2, 1, 1, 1, None, None]
    assert all("unit" not in line for line in wire.invoice()["invoice_lines_attributes"][4:])
    assert link.status == LinkStatus.LINKED and "✗ differs" not in section(web, invoice)


def test_references_are_what_the_customer_sees_never_our_database_id(web, company, account, integration, customer,
                                                                     vat, bank, sim, wire):
    contact_for(sim, account, customer)
    plain = make_invoice(company, customer, number="INV-0001", taxes=[vat], payment_method=bank)
    create(web, plain)
    sent = wire.invoice()
    assert not {"file_reference", "buyer_reference", "ponumber"} & set(sent)

    referenced = make_invoice(company, customer, number="INV-0002", taxes=[vat], payment_method=bank)
    referenced.buyer_reference, referenced.purchase_order = "DIR3 L01080193", "PO-2026-118"
    referenced.project_reference = "Manual translation 2026"
    referenced.save()
    create(web, referenced)
    sent = wire.invoice()
    assert (sent["buyer_reference"], sent["ponumber"], sent["file_reference"]) == (
        "DIR3 L01080193", "PO-2026-118", "Manual translation 2026")


def test_a_contact_carries_its_tin_scheme_and_a_peppol_address_when_known(web, company, account, integration, sim,
                                                                          wire):
    spanish = Client.objects.create(company=company, name="Cliente Nacional S.L.", tin="B58378431", country="ES")
    belgian = Client.objects.create(company=company, name="Vertalingen BV", tin="BE0403019261", country="BE",
                                    peppol_scheme="0208", peppol_id="0403019261")
    web.post(f"/clients/{spanish.pk}/b2brouter/contact/")
    web.post(f"/clients/{belgian.pk}/b2brouter/contact/")
    first, second = (body["contact"] for body in wire.bodies("POST", "/contacts"))
    assert (first["tin_scheme"], first["tin_value"], first["country"]) == ("9920", "ESB58378431", "es")
    assert not {"transport_type_code", "document_type_code", "pin_scheme"} & set(first)
    assert (second["tin_scheme"], second["tin_value"]) == ("9925", "BE0403019261")
    assert (second["transport_type_code"], second["pin_scheme"], second["pin_value"]) == ("peppol", "0208",
                                                                                         "0403019261")
    spanish.refresh_from_db()
    belgian.refresh_from_db()
    assert spanish.b2brouter_contact_id and belgian.b2brouter_contact_id


@pytest.mark.parametrize("case", ["discount_and_irpf", "exempt", "usd_transfer", "per_word"])
def test_b2brouter_totals_agree_with_ours(case, web, company, account, integration, customer, vat, bank, sim):
    contact_for(sim, account, customer)
    taxes, lines, currency = [vat], [("1234", "0.085"), ("2", "19.99")], "EUR"
    if case == "exempt":
        taxes = [Tax.objects.create(company=company, name="IVA 0% exempt", rate=0, category="E",
                                    exemption_reason="Exempt under article 20 LIVA", exemption_code="E1")]
    if case == "discount_and_irpf":
        taxes.append(Tax.objects.create(company=company, name="IRPF -15%", rate=Decimal("-15"), category="S"))
    if case == "per_word":
        lines = [("1234", "0.085"), ("987.5", "0.0725"), ("3", "0.333333")]
    invoice = make_invoice(company, customer, taxes=taxes, payment_method=bank, lines=lines)
    if case == "usd_transfer":
        currency = invoice.currency = "USD"
        invoice.save()
    if case == "discount_and_irpf":
        InvoiceAdjustment.objects.create(invoice=invoice, kind="discount", mode="percentage", value=Decimal("7.5"))
        InvoiceAdjustment.objects.create(invoice=invoice, kind="charge", mode="absolute", value=Decimal("3.10"))
    link = create(web, invoice)
    page = section(web, invoice)
    assert link.status == LinkStatus.LINKED and link.currency == currency
    assert "✗ differs" not in page, page
    assert link.state in ("sending", "sent")


def test_totals_compare_without_categories_in_b2brouter_answers(web, company, account, integration, customer, vat,
                                                                bank, sim, wire):
    """B2Brouter documents taxes[] as name, percent, base, amount: groups are then matched by name and percent."""
    wire.rewrite = without_categories
    contact_for(sim, account, customer)
    irpf = Tax.objects.create(company=company, name="IRPF -15%", rate=Decimal("-15"), category="S")
    invoice = make_invoice(company, customer, taxes=[vat, irpf], payment_method=bank,
                           lines=[("8200", "0.07")])
    link = create(web, invoice)
    assert link.taxes and not any(tax["category"] for tax in link.taxes)
    page = section(web, invoice)
    assert "✗ differs" not in page, page
    assert "IVA (21 %)" in page and "IRPF (-15 %)" in page
    assert link.state in ("sending", "sent")


def test_without_categories_a_group_that_differs_is_still_caught(web, company, account, integration, customer, vat,
                                                                 bank, sim, wire):
    def swapped(request: httpx.Request, data: Any) -> Any:
        # Same tax total, but the amounts of the two groups changed places: only a per-group match sees it.
        data = without_categories(request, data)
        invoice = data.get("invoice") if isinstance(data, dict) else None
        if isinstance(invoice, dict) and len(invoice.get("taxes") or []) == 2:
            first, second = invoice["taxes"]
            first["amount"], second["amount"] = second["amount"], first["amount"]
        return data

    wire.rewrite = swapped
    contact_for(sim, account, customer)
    irpf = Tax.objects.create(company=company, name="IRPF -15%", rate=Decimal("-15"), category="S")
    invoice = make_invoice(company, customer, taxes=[vat, irpf], payment_method=bank, lines=[("8200", "0.07")])
    link = create(web, invoice)
    page = section(web, invoice)
    assert "✗ differs" in page
    assert link.state == "new"  # not sent
    assert not wire.bodies("POST", f"/invoices/send_invoice/{link.b2brouter_id}")


def test_an_absolute_adjustment_is_sent_as_the_rounded_amount_we_computed(web, company, account, integration,
                                                                            customer, vat, bank, sim, wire):
    # Data from before the form limited decimals: 3.333 EUR is 3.33 in our arithmetic, so send 3.33.
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    InvoiceAdjustment.objects.create(invoice=invoice, kind="charge", mode="absolute", value=Decimal("3.333"))
    InvoiceAdjustment.objects.create(invoice=invoice, kind="discount", mode="absolute", value=Decimal("10.005"))
    link = create(web, invoice)
    amounts = [Decimal(str(entry["amount"])) for entry in wire.invoice()["allowance_charges_attributes"]]
    assert amounts == [Decimal("3.33"), Decimal("10.01")]
    assert "✗ differs" not in section(web, invoice)
    assert link.state in ("sending", "sent")
