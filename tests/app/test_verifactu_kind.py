"""Spain's kind of invoice through B2Brouter: exemption codes on taxes, simplified invoices, corrective codes."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import Tax
from b2binvoice.einvoicing.models import InvoiceLink
from b2binvoice.invoices.models import Invoice
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


# --- Simplified invoices: a Spanish company's client without a tax id --------------------------------------


@pytest.fixture
def walk_in(company):
    """A client with no tax id (a consumer)."""
    return Client.objects.create(company=company, name="Marta Puig", country="ES", email="marta@example.com",
                                 address="Carrer Gran 3", city="Girona", postal_code="17001")


def test_a_client_without_tax_id_gets_a_simplified_invoice(web, company, account, integration, walk_in, vat, bank,
                                                           sim, wire):
    invoice = make_invoice(company, walk_in, taxes=[vat], payment_method=bank)  # 104.89 + 21 % = 126.92 EUR
    page = html.unescape(section(web, invoice))
    assert "The right kind of invoice for Spain: Simplified invoice (F2)" in page
    assert "no B2Brouter contact needed" in page
    asked = html.unescape(web.post(f"/invoices/{invoice.pk}/b2brouter/create/").content.decode())
    assert "<strong>Marta Puig</strong> · ES <span class=\"muted\">(simplified invoice: the client is named on it, " \
           "without tax id)" in asked
    assert "B2Brouter will send it to Marta Puig right away" in asked
    link = create(web, invoice)
    sent = wire.invoice()
    assert sent["type"] == "IssuedSimplifiedInvoice" and "contact_id" not in sent
    assert sent["contact"] == {"name": "Marta Puig", "country": "es", "email": "marta@example.com",
                               "address": "Carrer Gran 3", "city": "Girona", "postalcode": "17001"}
    link.refresh_from_db()
    assert link.is_linked and link.state in ("sending", "sent")
    data, key = account
    remote = next(i for i in sim.invoices(data["id"], key) if i["id"] == link.b2brouter_id)
    assert remote["type"] == "IssuedSimplifiedInvoice"
    detail = html.unescape(web.get(f"/invoices/{invoice.pk}/").content.decode())
    assert "Simplified invoice (F2)" in detail
    # Created as simplified, it stays so on its page even once the client gets a tax id.
    walk_in.tin = "12345678Z"
    walk_in.save()
    assert "Simplified invoice (F2)" in html.unescape(web.get(f"/invoices/{invoice.pk}/").content.decode())


def test_above_400_eur_a_client_without_tax_id_blocks_the_invoice_with_what_to_fix(web, company, account,
                                                                                   integration, walk_in, vat, bank,
                                                                                   sim, wire):
    invoice = make_invoice(company, walk_in, taxes=[vat], payment_method=bank, lines=[("5000", "0.10")])  # 605 EUR
    page = html.unescape(section(web, invoice))
    assert ("Client Marta Puig has no tax id, so invoice INV-0001 can only be a simplified invoice, which Spanish "
            "rules allow up to 400 EUR including VAT; this one is 605.00 EUR: add the client's tax id") in page
    assert f"/clients/{walk_in.pk}/edit/" in page
    web.post(f"/invoices/{invoice.pk}/b2brouter/create/")
    assert wire.bodies("POST", "/invoices") == [] and not InvoiceLink.objects.filter(invoice=invoice).exists()
    # With the tax id it is a full invoice, addressed to the client's contact.
    walk_in.tin = "12345678Z"
    walk_in.save()
    contact = contact_for(sim, account, walk_in)
    assert "The right kind of invoice for Spain: Full invoice (F1)" in html.unescape(section(web, invoice))
    create(web, invoice)
    sent = wire.invoice()
    assert sent["contact_id"] == contact["id"] and "type" not in sent and "contact" not in sent
    assert "Full invoice (F1)" in html.unescape(web.get(f"/invoices/{invoice.pk}/").content.decode())


def company_settings(company, **changes):
    data = {"name": company.name, "tin": company.tin, "country": company.country, "default_currency": "EUR",
            "invoice_prefix": company.invoice_prefix, "invoice_next_number": company.invoice_next_number,
            "invoice_number_digits": company.invoice_number_digits, "credit_note_prefix": company.credit_note_prefix,
            "credit_note_next_number": company.credit_note_next_number,
            "credit_note_number_digits": company.credit_note_number_digits}
    return {**data, **changes}


def test_a_sector_that_allows_it_issues_simplified_invoices_up_to_3000_eur(web, company, account, integration,
                                                                           walk_in, vat, bank, sim, wire):
    invoice = make_invoice(company, walk_in, taxes=[vat], payment_method=bank, lines=[("5000", "0.10")])  # 605 EUR
    page = html.unescape(section(web, invoice))
    # Without a sector the 400 EUR limit holds, and the message says where the 3,000 EUR one is chosen.
    assert "allow up to 400 EUR including VAT; this one is 605.00 EUR" in page
    assert "choose it under Settings → Company instead" in page

    response = web.post("/settings/company/", company_settings(company, simplified_invoice_sector="hospitality"))
    assert response.status_code == 302, response.content.decode()
    page = html.unescape(section(web, invoice))
    assert "The right kind of invoice for Spain: Simplified invoice (F2)" in page and "605.00 EUR" not in page
    create(web, invoice)
    assert wire.invoice()["type"] == "IssuedSimplifiedInvoice"
    history = html.unescape(web.get("/settings/history/").content.decode())
    assert "simplified invoices up to 3,000 EUR (Spain)" in history and "Hospitality and restaurants" in history

    big = make_invoice(company, walk_in, number="INV-0002", taxes=[vat], payment_method=bank,
                       lines=[("30000", "0.10")])  # 3,630 EUR
    page = html.unescape(section(web, big))
    assert ("which Spanish rules allow up to 3000 EUR including VAT for your company's sector (Hospitality and "
            "restaurants") in page and "this one is 3630.00 EUR: add the client's tax id" in page
    web.post(f"/invoices/{big.pk}/b2brouter/create/")
    assert not InvoiceLink.objects.filter(invoice=big).exists()


def test_an_unknown_sector_is_refused(web, company):
    response = web.post("/settings/company/", company_settings(company, simplified_invoice_sector="bakery"))
    assert response.status_code == 200 and "bakery is not one of the available choices" in response.content.decode()
    company.refresh_from_db()
    assert company.simplified_invoice_sector == ""


def test_a_foreign_company_has_no_spanish_kinds(web, company, walk_in, vat):
    company.country = "NL"
    company.save()
    invoice = make_invoice(company, walk_in, taxes=[vat])
    assert "Kind of invoice" not in web.get(f"/invoices/{invoice.pk}/").content.decode()


# --- Credit notes: R1-R4 for full invoices, R5 for simplified ones ------------------------------------------


def credit(web, invoice, reason: str):
    return web.post(f"/invoices/{invoice.pk}/credit-note/", {
        "scope": "full", "corrective_reason": reason, "correction_reason": "Returned", "issue_date": "2026-12-01"})


def test_a_simplified_invoice_is_corrected_with_r5_and_a_full_one_never(web, company, account, integration, walk_in,
                                                                       customer, vat, bank, sim, wire):
    ticket = make_invoice(company, walk_in, taxes=[vat], payment_method=bank)
    create(web, ticket)
    Invoice.objects.filter(pk=ticket.pk).update(status="issued")
    form = web.get(f"/invoices/{ticket.pk}/credit-note/").content.decode()
    assert '<option value="R5" selected>' in form
    response = credit(web, ticket, "R1")
    assert response.status_code == 200
    assert "Invoice INV-0001 is a simplified invoice: its correction takes the code R5." in html.unescape(
        response.content.decode())
    response = credit(web, ticket, "R5")
    assert response.status_code == 302
    note = Invoice.objects.get(corrected_invoice=ticket)
    create(web, note)
    sent = wire.invoice()
    assert (sent["type"], sent["is_credit_note"], sent["amended_number"], sent["amend_reason"]) == (
        "IssuedSimplifiedInvoice", True, "INV-0001", "R5")
    assert "Corrective of a simplified invoice (R5)" in html.unescape(web.get(f"/invoices/{note.pk}/").content.decode())

    contact_for(sim, account, customer)
    full = make_invoice(company, customer, number="INV-0002", taxes=[vat], payment_method=bank)
    Invoice.objects.filter(pk=full.pk).update(status="issued")
    response = credit(web, full, "R5")
    assert "R5 corrects simplified invoices only" in html.unescape(response.content.decode())
    assert created_r(credit(web, full, "R2")).corrective_reason == "R2"


def created_r(response) -> Invoice:
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Invoice.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def test_a_simplified_invoice_in_another_currency_is_blocked(web, company, account, integration, walk_in, vat, bank,
                                                            sim, wire):
    invoice = make_invoice(company, walk_in, taxes=[vat], payment_method=bank)
    invoice.currency = "USD"
    invoice.save()
    page = html.unescape(section(web, invoice))
    assert ("its limit is set in euros while this invoice is in USD: add the client's tax id") in page
    web.post(f"/invoices/{invoice.pk}/b2brouter/create/")
    assert wire.bodies("POST", "/invoices") == []
