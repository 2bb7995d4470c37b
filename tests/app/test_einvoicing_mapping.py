"""What the app sends to B2Brouter, and that B2Brouter's totals then agree with ours."""

from __future__ import annotations

from decimal import Decimal

import pytest

from b2binvoice.companies.models import PaymentMethod, PaymentMethodType, Tax
from b2binvoice.einvoicing.mapping import invoice_payload
from b2binvoice.einvoicing.models import InvoiceLink, LinkStatus
from b2binvoice.invoices.models import InvoiceAdjustment
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    VALID_IBAN,
    _b2brouter_settings,
    account,
    bank,
    company,
    contact_for,
    customer,
    integration,
    make_invoice,
    section,
    sim,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db


def test_payload_carries_taxes_adjustments_payment_and_references(company, customer, vat, bank):
    irpf = Tax.objects.create(company=company, name="IRPF -15%", rate=Decimal("-15"), category="S")
    invoice = make_invoice(company, customer, taxes=[vat, irpf], payment_method=bank)
    invoice.note = "Thank you"
    invoice.save()
    InvoiceAdjustment.objects.create(invoice=invoice, kind="discount", mode="percentage", value=Decimal("10"),
                                     reason="Loyalty")
    InvoiceAdjustment.objects.create(invoice=invoice, kind="charge", mode="absolute", value=Decimal("5.00"))
    payload = invoice_payload(invoice, contact_id=42)
    assert payload["contact_id"] == 42 and payload["number"] == "INV-0001"
    assert payload["date"] == "2026-11-02" and payload["due_date"] == "2026-12-02" and payload["currency"] == "EUR"
    assert payload["file_reference"] == str(invoice.pk) and payload["extra_info"] == "Thank you"
    line = payload["invoice_lines_attributes"][0]
    assert line["quantity"] == Decimal("1234") and line["price"] == Decimal("0.085")
    assert line["taxes_attributes"] == [{"name": "IVA 21%", "category": "S", "percent": Decimal("21")},
                                        {"name": "IRPF -15%", "category": "S", "percent": Decimal("-15")}]
    assert payload["allowance_charges_attributes"] == [
        {"allowance_charge_indicator": "allowance", "reason": "Loyalty", "percentage": Decimal("10")},
        {"allowance_charge_indicator": "charge", "reason": "Charge", "amount": Decimal("5")}]
    assert payload["payment_method"] == 58
    assert payload["bank_account"] == {"type": "iban", "iban": VALID_IBAN, "bic": "CAIXESBBXXX"}


def test_other_payment_methods_map_to_their_codes(company, customer):
    invoice = make_invoice(company, customer)
    for kind, code in ((PaymentMethodType.CASH, 1), (PaymentMethodType.CARD, 19),
                       (PaymentMethodType.DIRECT_DEBIT, 2), (PaymentMethodType.PAYPAL, 13)):
        method = PaymentMethod.objects.create(company=company, name=f"Via {kind}", type=kind,
                                              details="paypal.me/lingua" if kind == "paypal" else "")
        invoice.payment_method = method
        payload = invoice_payload(invoice, contact_id=1)
        assert payload["payment_method"] == code
        assert "bank_account" not in payload
    assert payload["payment_method_text"] == "paypal.me/lingua"


@pytest.mark.parametrize("case", ["discount_and_irpf", "exempt", "usd_transfer", "per_word"])
def test_b2brouter_totals_agree_with_ours(case, web, company, account, integration, customer, vat, bank, sim):
    contact_for(sim, account, customer)
    taxes, lines, currency = [vat], [("1234", "0.085"), ("2", "19.99")], "EUR"
    if case == "exempt":
        taxes = [Tax.objects.create(company=company, name="IVA 0% exempt", rate=0, category="E",
                                    exemption_reason="Exempt under article 20 LIVA")]
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
    web.post(f"/invoices/{invoice.pk}/b2brouter/create/")
    link = InvoiceLink.objects.get(invoice=invoice)
    page = section(web, invoice)
    assert link.status == LinkStatus.LINKED and link.currency == currency
    assert "✗ differs" not in page, page
    assert link.state in ("sending", "sent")


def test_an_absolute_adjustment_is_sent_as_the_rounded_amount_we_computed(web, company, account, integration,
                                                                            customer, vat, bank, sim):
    # Data from before the form limited decimals: 3.333 EUR is 3.33 in our arithmetic, so send 3.33.
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    InvoiceAdjustment.objects.create(invoice=invoice, kind="charge", mode="absolute", value=Decimal("3.333"))
    InvoiceAdjustment.objects.create(invoice=invoice, kind="discount", mode="absolute", value=Decimal("10.005"))
    amounts = [entry["amount"] for entry in invoice_payload(invoice, contact_id=1)["allowance_charges_attributes"]]
    assert amounts == [Decimal("3.33"), Decimal("10.01")]
    web.post(f"/invoices/{invoice.pk}/b2brouter/create/")
    assert "✗ differs" not in section(web, invoice)
    assert InvoiceLink.objects.get(invoice=invoice).state in ("sending", "sent")
