"""Validation errors over HTTP: each shown next to its field, with what was typed kept."""

from __future__ import annotations

import pytest

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import PaymentMethod, Tax
from b2binvoice.invoices.models import Invoice

pytestmark = pytest.mark.django_db


def field_error(response, field: str) -> str:
    """Return the error paragraph rendered for ``field`` (empty when there is none)."""
    html = response.content.decode()
    marker = f'id="id_{field}_error"'
    if marker not in html:
        return ""
    start = html.index(marker)
    return html[start:html.index("</p>", start)]


def test_client_with_an_invalid_vat_number_is_refused_and_the_form_keeps_what_was_typed(demo_web):
    response = demo_web.post("/clients/new/", {
        "name": "Übersetzungsbüro Falsch", "tin": "DE136695977", "country": "DE", "city": "München", "language": "de"})
    assert response.status_code == 200
    assert "is not a valid VAT number" in field_error(response, "tin")
    html = response.content.decode()
    assert 'value="Übersetzungsbüro Falsch"' in html and 'value="DE136695977"' in html and 'value="München"' in html
    assert not Client.objects.filter(name="Übersetzungsbüro Falsch").exists()


def test_client_vat_number_is_checked_with_the_country_prefix_and_stored_compact(demo_web, lingua):
    response = demo_web.post("/clients/new/", {"name": "Estudio Nuevo", "tin": "b-58378431", "country": "es",
                                               "language": "es"})
    client = Client.objects.get(company=lingua, name="Estudio Nuevo")
    assert response.status_code == 302 and response["Location"] == f"/clients/{client.pk}/"
    assert (client.tin, client.country) == ("B58378431", "ES")
    # A client without a TIN is fine.
    demo_web.post("/clients/new/", {"name": "Particular", "tin": "", "country": "ES", "language": "es"})
    assert Client.objects.filter(company=lingua, name="Particular", tin="").exists()


def test_payment_method_with_an_invalid_iban_is_refused(demo_web):
    response = demo_web.post("/settings/payment-methods/new/", {
        "name": "Sabadell", "type": "bank_transfer", "iban": "ES91 2100 0418 4502 0005 1331", "bic": "BSABESBB"})
    assert response.status_code == 200
    assert "Enter a valid IBAN" in field_error(response, "iban")
    assert 'value="ES91 2100 0418 4502 0005 1331"' in response.content.decode()
    assert not PaymentMethod.objects.filter(name="Sabadell").exists()


def test_bank_transfer_needs_an_iban_and_a_valid_bic(demo_web):
    response = demo_web.post("/settings/payment-methods/new/", {"name": "Bank", "type": "bank_transfer",
                                                               "iban": "", "bic": "NOTABIC!"})
    assert "needs the IBAN" in field_error(response, "iban")
    assert "Enter a valid BIC" in field_error(response, "bic")


def test_valid_payment_method_is_saved_compact(demo_web, lingua):
    response = demo_web.post("/settings/payment-methods/new/", {
        "name": "Sabadell", "type": "bank_transfer", "iban": "es91 2100 0418 4502 0005 1332", "bic": "caixesbbxxx",
        "is_active": "on"})
    assert response.status_code == 302
    method = PaymentMethod.objects.get(company=lingua, name="Sabadell")
    assert (method.iban, method.bic) == ("ES9121000418450200051332", "CAIXESBBXXX")
    assert "Sabadell" in demo_web.get("/settings/payment-methods/").content.decode()


def test_percentage_tax_without_rate_is_refused(demo_web):
    response = demo_web.post("/settings/taxes/new/", {"name": "IGIC 7%", "kind": "percentage", "rate": "",
                                                     "category": "S"})
    assert response.status_code == 200
    assert "Enter the rate of a percentage tax." in field_error(response, "rate")
    assert 'value="IGIC 7%"' in response.content.decode()


def test_exempt_tax_without_reason_is_refused(demo_web):
    response = demo_web.post("/settings/taxes/new/", {"name": "Exento", "kind": "percentage", "rate": "0",
                                                     "category": "E", "exemption_reason": ""})
    assert "Category E needs the reason printed on the invoice" in field_error(response, "exemption_reason")


def test_absolute_tax_needs_an_amount_and_names_are_unique(demo_web, lingua):
    response = demo_web.post("/settings/taxes/new/", {"name": "Tasa", "kind": "absolute", "category": "S"})
    assert "Enter the amount of an absolute tax." in field_error(response, "amount")
    response = demo_web.post("/settings/taxes/new/", {"name": "iva 21%", "kind": "percentage", "rate": "21",
                                                     "category": "S"})
    assert "already a tax called" in field_error(response, "name")
    response = demo_web.post("/settings/taxes/new/", {"name": "IGIC 7%", "tax_type": "IGIC", "kind": "percentage",
                                                     "rate": "7", "category": "S", "is_active": "on"})
    assert response.status_code == 302
    assert Tax.objects.get(company=lingua, name="IGIC 7%").rate == 7


def test_duplicate_invoice_number_is_refused_with_a_clear_error(demo_web, lingua):
    data = {
        "number": "LD-0002", "client": Client.objects.get(company=lingua, name__startswith="Nordlicht").pk,
        "issue_date": "2026-12-01", "due_date": "2026-12-31", "currency": "EUR", "status": "draft",
        "note": "Rush job",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Urgent translation", "lines-0-quantity": "250", "lines-0-unit": "words",
        "lines-0-unit_price": "0.12",
        "adjustments-TOTAL_FORMS": "0", "adjustments-INITIAL_FORMS": "0",
    }
    response = demo_web.post("/invoices/new/", data)
    assert response.status_code == 200
    assert "Invoice number LD-0002 is already used by another invoice" in field_error(response, "number")
    html = response.content.decode()
    assert 'value="Urgent translation"' in html and 'value="0.12"' in html and "Rush job" in html
    assert Invoice.objects.filter(company=lingua, number="LD-0002").count() == 1


def test_the_same_number_in_another_company_is_fine(other_web, other_company):
    client = other_company.clients.get()
    response = other_web.post("/invoices/new/", {
        "number": "LD-0001", "client": client.pk, "issue_date": "2026-12-01", "currency": "GBP", "status": "draft",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "lines-0-description": "x", "lines-0-quantity": "1", "lines-0-unit_price": "10",
        "adjustments-TOTAL_FORMS": "0", "adjustments-INITIAL_FORMS": "0"})
    assert response.status_code == 302
    assert Invoice.objects.filter(number="LD-0001").count() == 2


def test_invoice_line_errors_show_next_to_the_line(demo_web, lingua):
    client = Client.objects.get(company=lingua, name__startswith="Nordlicht")
    response = demo_web.post("/invoices/new/", {
        "number": "", "client": client.pk, "issue_date": "2026-12-10", "due_date": "2026-12-01", "currency": "EUR",
        "status": "draft",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Too precise", "lines-0-quantity": "1.23456", "lines-0-unit_price": "0.1234567",
        "adjustments-TOTAL_FORMS": "1", "adjustments-INITIAL_FORMS": "0",
        "adjustments-0-kind": "discount", "adjustments-0-mode": "percentage", "adjustments-0-value": "150"})
    assert response.status_code == 200
    lines = response.context["lines"]
    assert "no more than 4 decimal places" in str(lines.forms[0].errors["quantity"])
    assert "no more than 6 decimal places" in str(lines.forms[0].errors["unit_price"])
    assert "cannot exceed 100" in str(response.context["adjustments"].forms[0].errors["value"])
    assert "cannot be before the issue date" in field_error(response, "due_date")
    html = response.content.decode()
    assert 'value="1.23456"' in html and 'value="Too precise"' in html


def test_an_invoice_needs_at_least_one_line(demo_web, lingua):
    client = Client.objects.get(company=lingua, name__startswith="Nordlicht")
    response = demo_web.post("/invoices/new/", {
        "client": client.pk, "issue_date": "2026-12-10", "currency": "EUR", "status": "draft",
        "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0",
        "adjustments-TOTAL_FORMS": "0", "adjustments-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert "Add at least one line." in response.content.decode()


def test_vat_numbers_outside_the_eu_are_checked_with_their_countrys_rules(demo_web, lingua):
    response = demo_web.post("/clients/new/", {"name": "Wrong UK Ltd", "tin": "GB123456789", "country": "GB",
                                               "language": "en"})
    assert response.status_code == 200
    assert "GB123456789 is not a valid VAT number" in field_error(response, "tin")
    assert 'value="Wrong UK Ltd"' in response.content.decode()
    response = demo_web.post("/clients/new/", {"name": "Falsch AG", "tin": "CHE-123.456.789 MWST", "country": "CH",
                                               "language": "de"})
    assert "is not a valid VAT number" in field_error(response, "tin")
    assert not Client.objects.filter(company=lingua, name__in=["Wrong UK Ltd", "Falsch AG"]).exists()
    # Valid numbers pass; a country python-stdnum has no VAT rules for is taken as typed.
    for name, tin, country in (("Right UK Ltd", "GB 980 7806 84", "GB"), ("Richtig AG", "CHE-116.281.710 MWST", "CH"),
                               ("Words Inc.", "12-3456789", "US")):
        response = demo_web.post("/clients/new/", {"name": name, "tin": tin, "country": country, "language": "en"})
        assert response.status_code == 302, (name, field_error(response, "tin"))
    assert Client.objects.get(company=lingua, name="Right UK Ltd").tin == "GB980780684"


def absolute_discount_post(client: Client, currency: str, value: str) -> dict:
    return {
        "number": "", "client": client.pk, "issue_date": "2026-12-01", "due_date": "2026-12-31",
        "currency": currency, "status": "draft",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Labels", "lines-0-quantity": "3", "lines-0-unit_price": "1000",
        "adjustments-TOTAL_FORMS": "2", "adjustments-INITIAL_FORMS": "0",
        "adjustments-0-kind": "discount", "adjustments-0-mode": "absolute", "adjustments-0-value": value,
        "adjustments-1-kind": "charge", "adjustments-1-mode": "percentage", "adjustments-1-value": "3.333"}


def test_an_absolute_discount_has_no_more_decimals_than_the_currency(demo_web, lingua):
    # B2Brouter takes a fixed discount as given: 0.5 JPY would total 3100 there and 3099 here.
    client = Client.objects.get(company=lingua, name__startswith="Nordlicht")
    before = Invoice.objects.filter(company=lingua).count()
    for currency, value in (("JPY", "0.5"), ("EUR", "10.005")):
        response = demo_web.post("/invoices/new/", absolute_discount_post(client, currency, value))
        assert response.status_code == 200
        errors = str(response.context["adjustments"].forms[0].errors["value"])
        assert f"A {currency} amount has at most" in errors
        assert f'value="{value}"' in response.content.decode()
    assert Invoice.objects.filter(company=lingua).count() == before
    # Whole minor units are fine, and a percentage may have more decimals than the currency.
    for currency, value in (("JPY", "1"), ("EUR", "10.50")):
        response = demo_web.post("/invoices/new/", absolute_discount_post(client, currency, value))
        assert response.status_code == 302, currency


def test_the_numbering_must_fit_the_invoice_number(demo_web, lingua):
    data = {"name": "Lingua Demo S.L.", "tin": "ESA28017895", "country": "ES", "default_currency": "EUR",
            "invoice_prefix": "LD-", "invoice_next_number": "11", "invoice_number_digits": "60"}
    response = demo_web.post("/settings/company/", data)
    assert response.status_code == 200
    assert "Invoice numbers would be 63 characters long" in field_error(response, "invoice_number_digits")
    lingua.refresh_from_db()
    assert lingua.invoice_number_digits == 4
    response = demo_web.post("/settings/company/", {**data, "invoice_number_digits": "6"})
    assert response.status_code == 302
    lingua.refresh_from_db()
    assert lingua.invoice_number_digits == 6
