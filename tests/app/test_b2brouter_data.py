"""The data B2Brouter needs, entered through the app's pages: tax types, units, payer IBAN, references.

And the checklist that stops an invoice before anything is sent when that data is missing.
"""

from __future__ import annotations

import pytest

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import Company, PaymentMethod, PaymentMethodType, Tax, UnitMapping
from b2binvoice.einvoicing.models import InvoiceLink
from b2binvoice.invoices.models import Invoice, InvoiceTax
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
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
    user,
    vat,
    web,
)
from tests.app.test_forms_validation import field_error

pytestmark = pytest.mark.django_db


def new_tax(web, **data):
    return web.post("/settings/taxes/new/", {"kind": "percentage", "is_active": "on", **data})


# Taxes -------------------------------------------------------------------------------------------------------------

def test_a_new_tax_offers_the_country_s_tax_type_and_explains_it(web, company):
    page = web.get("/settings/taxes/new/").content.decode()
    assert '<option value="IVA" selected>' in page
    assert "B2Brouter tax type" in page and "Several taxes may share a type" in page
    assert "Automatic – from B2Brouter&#x27;s table for your country" in page
    company.country = "DE"
    company.save()
    assert '<option value="MwSt" selected>' in web.get("/settings/taxes/new/").content.decode()


def test_the_tax_types_offered_are_those_of_the_company_s_country(web, company):
    page = web.get("/settings/taxes/new/").content.decode()
    for name in ("IVA", "IGIC", "IPSI", "IRPF", "IRNR"):
        assert f'<option value="{name}"' in page, name
    assert '<option value="TVA"' not in page and '<option value="MwSt"' not in page
    response = new_tax(web, name="TVA 20%", tax_type="TVA", rate="20", category="")
    assert "Select a valid choice" in field_error(response, "tax_type")
    company.country = "US"  # no table: every documented name
    company.save()
    page = web.get("/settings/taxes/new/").content.decode()
    assert '<option value="VAT" selected>' in page and '<option value="GST"' in page and '<option value="IVA"' in page


def test_two_taxes_of_one_type_each_get_the_category_of_the_country_table(web, company):
    assert new_tax(web, name="IVA 21%", tax_type="IVA", rate="21", category="").status_code == 302
    assert new_tax(web, name="IVA 10%", tax_type="IVA", rate="10", category="").status_code == 302
    assert new_tax(web, name="IVA 4%", tax_type="IVA", rate="4", category="").status_code == 302
    assert new_tax(web, name="IVA 7,5% (old rate)", tax_type="IVA", rate="7.5", category="").status_code == 302
    taxes = {t.name: (t.tax_type, t.category) for t in Tax.objects.filter(company=company)}
    assert taxes == {"IVA 21%": ("IVA", "S"), "IVA 10%": ("IVA", "AA"), "IVA 4%": ("IVA", "AAA"),
                     "IVA 7,5% (old rate)": ("IVA", "S")}
    listed = web.get("/settings/taxes/").content.decode()
    assert listed.count("<td>IVA</td>") == 4


def test_a_category_against_the_country_table_is_refused(web, company):
    response = new_tax(web, name="IVA 10%", tax_type="IVA", rate="10", category="S")
    assert "B2Brouter&#x27;s table for ES gives IVA at 10 % the category AA: choose AA." in field_error(response,
                                                                                                       "category")
    assert not Tax.objects.filter(company=company).exists()


def test_withholdings_are_negative_and_only_withholdings_are(web, company):
    response = new_tax(web, name="IRPF 15%", tax_type="IRPF", rate="15", category="")
    assert "IRPF is a withholding: enter its rate as a negative number (e.g. -15)." in field_error(response, "rate")
    response = new_tax(web, name="Descuento", tax_type="IVA", rate="-5", category="")
    assert "Only withholdings (IRPF, IRNR, IRPEF) have a negative rate" in field_error(response, "rate")
    response = new_tax(web, name="IRPF -15%", tax_type="IRPF", rate="-15", category="")
    assert response.status_code == 302
    assert Tax.objects.get(company=company, name="IRPF -15%").category == "S"


def test_a_zero_rate_needs_its_reason_and_category(web, company):
    response = new_tax(web, name="IVA 0%", tax_type="IVA", rate="0", category="")
    assert "A 0 % tax needs its category chosen" in field_error(response, "category")
    response = new_tax(web, name="Inversión del sujeto pasivo", tax_type="IVA", rate="0", category="AE")
    assert "Category AE needs the reason printed on the invoice" in field_error(response, "exemption_reason")
    response = new_tax(web, name="Inversión del sujeto pasivo", tax_type="IVA", rate="0", category="AE",
                       exemption_reason="Inversión del sujeto pasivo (art. 84.Uno.2º LIVA)")
    assert response.status_code == 302


def test_a_percentage_tax_needs_a_type_an_absolute_one_does_not(web, company):
    response = new_tax(web, name="Tasa local", tax_type="", rate="2", category="")
    assert "Choose the B2Brouter tax type" in field_error(response, "tax_type")
    response = web.post("/settings/taxes/new/", {"name": "Timbre", "kind": "absolute", "amount": "1.50",
                                                 "tax_type": "", "category": "", "is_active": "on"})
    assert response.status_code == 302
    assert Tax.objects.get(company=company, name="Timbre").tax_type == ""


# Units -------------------------------------------------------------------------------------------------------------

def test_units_page_lists_the_built_in_units_and_the_company_s_own(web, company):
    page = web.get("/settings/units/").content.decode()
    assert "No units of your own yet" in page and "<td>horas</td><td>2 – hours</td>" in page
    response = web.post("/settings/units/new/", {"label": "Folios", "code": "1"})
    assert response.status_code == 302 and response["Location"] == "/settings/units/"
    response = web.post("/settings/units/new/", {"label": "Horas", "code": ""})  # override: no unit for hours
    assert response.status_code == 302
    page = web.get("/settings/units/").content.decode()
    assert "Folios" in page and "1 – units" in page and "not sent" in page
    assert "<td>horas</td>" not in page  # the built-in row is replaced by the company's
    assert {(m.label, m.code) for m in UnitMapping.objects.filter(company=company)} == {("Folios", 1), ("Horas", None)}


def test_a_unit_is_matched_ignoring_case_and_accents_so_duplicates_are_refused(web, company):
    web.post("/settings/units/new/", {"label": "Páginas", "code": "1"})
    response = web.post("/settings/units/new/", {"label": "PAGINAS", "code": "5"})
    assert "There is already a mapping for “Páginas”: edit that one." in field_error(response, "label")
    mapping = UnitMapping.objects.get(company=company)
    assert web.post(f"/settings/units/{mapping.pk}/edit/", {"label": "páginas", "code": "5"}).status_code == 302
    mapping.refresh_from_db()
    assert (mapping.label, mapping.code) == ("páginas", 5)
    assert web.post(f"/settings/units/{mapping.pk}/delete/").status_code == 302
    assert not UnitMapping.objects.filter(company=company).exists()


def test_units_of_another_company_are_out_of_reach(web, company):
    other = Company.objects.create(name="Other S.L.", country="ES")
    theirs = UnitMapping.objects.create(company=other, label="sesiones", code=2)
    assert web.get(f"/settings/units/{theirs.pk}/edit/").status_code == 404
    assert web.post(f"/settings/units/{theirs.pk}/delete/").status_code == 404
    assert "sesiones" not in web.get("/settings/units/").content.decode()
    assert UnitMapping.objects.filter(pk=theirs.pk).exists()


# Clients and invoices ----------------------------------------------------------------------------------------------

def test_client_iban_is_validated_and_stored_compact(web, company):
    response = web.post("/clients/new/", {"name": "Cliente Domiciliado", "country": "ES", "language": "es",
                                          "iban": "ES91 2100 0418 4502 0005 1331"})
    assert "Enter a valid IBAN" in field_error(response, "iban")
    response = web.post("/clients/new/", {"name": "Cliente Domiciliado", "country": "ES", "language": "es",
                                          "iban": "es91 2100 0418 4502 0005 1332"})
    client = Client.objects.get(company=company, name="Cliente Domiciliado")
    assert response.status_code == 302 and client.iban == "ES9121000418450200051332"
    assert "ES9121000418450200051332" in web.get(f"/clients/{client.pk}/").content.decode()


def test_a_peppol_address_needs_scheme_and_id(web, company):
    data = {"name": "Vertalingen BV", "country": "BE", "language": "nl", "peppol_scheme": "0208", "peppol_id": ""}
    assert "both a scheme and an ID" in field_error(web.post("/clients/new/", data), "peppol_id")
    data.update(peppol_scheme="208", peppol_id="0403019261")
    assert "4-digit scheme" in field_error(web.post("/clients/new/", data), "peppol_scheme")
    data.update(peppol_scheme="0208")
    assert web.post("/clients/new/", data).status_code == 302
    client = Client.objects.get(company=company, name="Vertalingen BV")
    assert "0208:0403019261" in web.get(f"/clients/{client.pk}/").content.decode()


def test_invoice_references_are_entered_on_the_form_and_shown_on_the_invoice(web, company, customer, vat):
    page = web.get("/invoices/new/").content.decode()
    for label in ("Buyer reference", "Purchase order", "Project reference", "BT-10"):
        assert label in page, label
    response = web.post("/invoices/new/", {
        "number": "", "client": customer.pk, "issue_date": "2026-12-01", "currency": "EUR", "status": "draft",
        "buyer_reference": "L01080193", "purchase_order": "PO-77", "project_reference": "Annual report 2026",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Translation", "lines-0-quantity": "1", "lines-0-unit_price": "100",
        "adjustments-TOTAL_FORMS": "0", "adjustments-INITIAL_FORMS": "0", "taxes": [vat.pk]})
    assert response.status_code == 302
    invoice = Invoice.objects.get(company=company)
    assert (invoice.buyer_reference, invoice.purchase_order, invoice.project_reference) == (
        "L01080193", "PO-77", "Annual report 2026")
    assert invoice.taxes.get().tax_type == "IVA"
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "L01080193" in page and "PO-77" in page and "Annual report 2026" in page


# The checklist before sending --------------------------------------------------------------------------------------

def check_item(page: str, key: str) -> str:
    start = page.index(f'data-check="{key}"')
    return page[page.rindex("<li", 0, start):page.index("</li>", start)]


def test_a_tax_without_a_b2brouter_type_blocks_and_says_what_to_fix(web, company, account, integration, customer, vat,
                                                                    bank, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    # Data from before tax types existed, which nothing could map.
    Tax.objects.filter(pk=vat.pk).update(tax_type="")
    InvoiceTax.objects.filter(invoice=invoice).update(tax_type="")
    item = check_item(section(web, invoice), "tax_type")
    assert 'class="fail"' in item
    assert "B2Brouter knows taxes by the names its guide lists (IVA, IRPF, VAT, ...), and IVA 21% has none" in item
    assert f"/settings/taxes/{vat.pk}/edit/" in item
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()
    assert sim.invoices(account[0]["id"], account[1]) == []

    # Choosing the type on the tax is enough: the invoice's copy uses it.
    response = web.post(f"/settings/taxes/{vat.pk}/edit/", {"name": "IVA 21%", "tax_type": "IVA", "kind": "percentage",
                                                            "rate": "21", "category": "S", "is_active": "on"})
    assert response.status_code == 302
    assert 'class="ok"' in check_item(section(web, invoice), "tax_type")
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert InvoiceLink.objects.get(invoice=invoice).state in ("sending", "sent")


def test_a_direct_debit_needs_the_client_s_valid_iban(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    debit = PaymentMethod.objects.create(company=company, name="Domiciliación", type=PaymentMethodType.DIRECT_DEBIT)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=debit)
    item = check_item(section(web, invoice), "payment")
    assert 'class="fail"' in item
    assert ("Invoice INV-0001 is paid by direct debit, but client Übersetzungen Kunde S.A. has no IBAN to debit: "
            "add the client&#x27;s IBAN.") in item
    assert f"/clients/{customer.pk}/edit/" in item
    Client.objects.filter(pk=customer.pk).update(iban="ES9121000418450200051331")  # stored before validation
    assert "The IBAN of client Übersetzungen Kunde S.A. is invalid (ES9121000418450200051331)" in \
        check_item(section(web, invoice), "payment")
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert sim.invoices(account[0]["id"], account[1]) == []
    Client.objects.filter(pk=customer.pk).update(iban="ES9121000418450200051332", mandate_reference="M-7")
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Debited from IBAN" in page and "ES9121000418450200051332" in page and "M-7" in page
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert InvoiceLink.objects.get(invoice=invoice).state in ("sending", "sent")



def test_a_tax_type_the_company_s_country_does_not_use_blocks_until_the_tax_is_corrected(web, company, account,
                                                                                       integration, customer, bank,
                                                                                       sim):
    contact_for(sim, account, customer)
    Company.objects.filter(pk=company.pk).update(country="DE")
    # Imported from an older tool: a German company's tax labelled "IVA", which the migration typed IVA.
    tax = Tax.objects.create(company=company, name="IVA 19%", tax_type="IVA", rate=19, category="S")
    invoice = make_invoice(company, customer, taxes=[tax], payment_method=bank)
    item = check_item(section(web, invoice), "tax_type")
    assert 'class="fail"' in item
    assert ("B2Brouter expects the taxes of a company in DE to be named MwSt, VAT, and IVA 19% is IVA: open the "
            "tax, choose its B2Brouter tax type and save it.") in item
    response = web.post(f"/settings/taxes/{tax.pk}/edit/", {"name": "MwSt 19%", "tax_type": "MwSt",
                                                            "kind": "percentage", "rate": "19", "category": "",
                                                            "is_active": "on"})
    assert response.status_code == 302
    assert 'class="ok"' in check_item(section(web, invoice), "tax_type")
