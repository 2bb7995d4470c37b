"""Spain's kind of invoice through B2Brouter: exemption codes on taxes, simplified invoices, corrective codes."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import Tax
from b2binvoice.einvoicing.models import InvoiceLink
from tests.app.test_einvoicing_mapping import create, numbers, wire  # noqa: F401 (fixture)
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
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
from tests.app.test_forms_validation import field_error

pytestmark = pytest.mark.django_db


def tax_data(**fields: str) -> dict[str, str]:
    data = {"name": "Exento", "tax_type": "IVA", "kind": "percentage", "rate": "0", "category": "E",
            "exemption_reason": "Exento de IVA (art. 20 LIVA)", "exemption_code": "", "is_active": "on"}
    data.update(fields)
    return data


def test_a_spanish_exempt_tax_needs_its_exemption_code(web, company):
    response = web.post("/settings/taxes/new/", tax_data())
    assert response.status_code == 200
    error = html.unescape(field_error(response, "exemption_code"))
    assert "needs its exemption code (E1–E6)" in error
    page = response.content.decode()
    assert 'value="Exento de IVA (art. 20 LIVA)"' in page  # what the user typed is kept
    assert not Tax.objects.filter(company=company, name="Exento").exists()


def test_an_exemption_code_must_fit_the_category(web, company):
    response = web.post("/settings/taxes/new/", tax_data(exemption_code="N2"))
    assert "N2 is a not-subject code" in html.unescape(field_error(response, "exemption_code"))
    response = web.post("/settings/taxes/new/", tax_data(name="No sujeto", category="NS", exemption_code="E1",
                                                         exemption_reason="No sujeto (art. 69 LIVA)"))
    assert "E1 is an exemption code" in html.unescape(field_error(response, "exemption_code"))
    response = web.post("/settings/taxes/new/", tax_data(name="IVA 21%", rate="21", category="S",
                                                         exemption_reason="", exemption_code="E1"))
    assert "Only exempt (E, K, G) and not-subject (NS, O) taxes" in html.unescape(
        field_error(response, "exemption_code"))


def test_the_form_offers_the_codes_in_plain_words_and_saves_them(web, company):
    form = web.get("/settings/taxes/new/").content.decode()
    assert "N2 – Not subject in Spain by the place-of-supply rules" in html.unescape(form)
    assert "E5 – Exempt under art. 25 LIVA" in html.unescape(form)
    response = web.post("/settings/taxes/new/", tax_data(name="No sujeto UE", category="NS", exemption_code="N2",
                                                         exemption_reason="Operación no sujeta (art. 69 LIVA)"))
    assert response.status_code == 302
    assert Tax.objects.get(company=company, name="No sujeto UE").exemption_code == "N2"


def test_a_foreign_company_may_leave_the_code_empty(web, company):
    company.country = "NL"
    company.save()
    response = web.post("/settings/taxes/new/", tax_data(tax_type="BTW", exemption_reason="Exempt, art. 11 Wet OB"))
    assert response.status_code == 302, html.unescape(field_error(response, "exemption_code"))


def test_the_not_subject_code_is_sent_as_the_tax_comment(web, company, account, integration, customer, bank, sim,
                                                         wire):
    contact_for(sim, account, customer)
    services = Tax.objects.create(company=company, name="No sujeto (servicios UE)", tax_type="IVA", rate=0,
                                  category="NS", exemption_reason="Operación no sujeta, art. 69 LIVA",
                                  exemption_code="N2")
    invoice = make_invoice(company, customer, taxes=[services], payment_method=bank)
    link = create(web, invoice)
    assert [numbers(t) for t in wire.invoice()["invoice_lines_attributes"][0]["taxes_attributes"]] == [
        {"name": "IVA", "category": "NS", "percent": Decimal("0"), "comment": "N2"}]
    assert link.b2brouter_id


def test_an_exempt_tax_without_code_blocks_the_invoice_until_the_tax_gets_one(web, company, account, integration,
                                                                             customer, bank, sim, wire):
    contact_for(sim, account, customer)
    # A tax saved before codes existed (no form, no validation).
    old = Tax.objects.create(company=company, name="Exento antiguo", tax_type="IVA", rate=0, category="E",
                             exemption_reason="Exento art. 20 LIVA")
    invoice = make_invoice(company, customer, taxes=[old], payment_method=bank)
    page = html.unescape(section(web, invoice))
    assert "Exento antiguo bears no VAT but does not say why in the tax agency's terms" in page
    assert f"/settings/taxes/{old.pk}/" in page
    web.post(f"/invoices/{invoice.pk}/b2brouter/create/")
    assert wire.bodies("POST", "/invoices") == [] and not InvoiceLink.objects.filter(invoice=invoice).exists()
    # Fixing the tax fixes the invoice that copied it.
    response = web.post(f"/settings/taxes/{old.pk}/edit/", tax_data(name="Exento antiguo", exemption_code="E1",
                                                                    exemption_reason="Exento art. 20 LIVA"))
    assert response.status_code == 302
    create(web, invoice)
    assert wire.invoice()["invoice_lines_attributes"][0]["taxes_attributes"][0]["comment"] == "E1"
