"""Numbers and dates typed and shown in the user's language; stored values and B2Brouter payloads unchanged."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import translation
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from b2binvoice.core.localformats import format_number, parse_number
from b2binvoice.einvoicing.mapping import invoice_payload
from b2binvoice.invoices.models import Invoice
from tests.app.test_invoice_flows import client_named, edit_post, invoice_post, tax_named

pytestmark = pytest.mark.django_db


def speaking(browser, language: str):
    """Make ``browser`` ask for ``language`` (Django's language cookie), as the switcher does."""
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return browser


def created(company) -> Invoice:
    return Invoice.objects.filter(company=company).order_by("-pk").first()


def value_attribute(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match, name
    found = re.search(r'value="([^"]*)"', match.group(0))
    return found.group(1) if found else ""


def test_spanish_decimal_commas_and_thousands_dots_are_accepted_and_stored_as_decimals(demo_web, lingua):
    speaking(demo_web, "es")
    nordlicht = client_named(lingua, "Nordlicht")
    response = demo_web.post("/invoices/new/", invoice_post(
        nordlicht, lines=[("Translation", "1.234", "words", "0,085"), ("Terminology", "45,50", "hours", "1.234,56")],
        adjustments=[("discount", "percentage", "2,5", "Volume")], taxes=[tax_named(lingua, "IVA 21%")]))
    assert response.status_code == 302, response.content.decode()[:2000]
    invoice = created(lingua)
    assert [(line.quantity, line.unit_price) for line in invoice.lines.all()] == [
        (Decimal("1234"), Decimal("0.085")), (Decimal("45.5"), Decimal("1234.56"))]
    assert invoice.adjustments.get().value == Decimal("2.5")


def test_spanish_page_shows_amounts_and_dates_the_spanish_way_and_english_keeps_its_own(demo_web, lingua):
    nordlicht = client_named(lingua, "Nordlicht")
    # In English "617,28" is refused: a comma groups thousands there, and 617,28 is not grouped by three.
    refused = speaking(demo_web, "en").post("/invoices/new/", invoice_post(
        nordlicht, lines=[("Terminology", "2", "hours", "617,28")]))
    assert refused.status_code == 200 and created(lingua).number == "LD-0010"
    response = speaking(demo_web, "es").post("/invoices/new/", invoice_post(
        nordlicht, lines=[("Terminology", "2", "hours", "617,28")], issue_date="2026-12-01", due_date="2026-12-31"))
    invoice = created(lingua)
    assert response.status_code == 302 and invoice.lines.get().unit_price == Decimal("617.28")
    spanish = demo_web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "1.234,56" in spanish and "617,28" in spanish and "01/12/2026" in spanish
    english = speaking(demo_web, "en").get(f"/invoices/{invoice.pk}/").content.decode()
    assert "1,234.56" in english and "617.28" in english and "2026-12-01" in english
    assert "1.234,56" not in english


def test_ambiguous_or_garbled_numbers_are_refused_and_what_was_typed_is_kept(demo_web, lingua):
    speaking(demo_web, "es")
    nordlicht = client_named(lingua, "Nordlicht")
    for typed in ("45.50", "1,234.56", "12,3,4", "1e5", "4 5", "abc", "NaN"):
        response = demo_web.post("/invoices/new/", invoice_post(nordlicht, lines=[("Terminology", "1", "h", typed)]))
        assert response.status_code == 200, typed
        html = response.content.decode()
        assert value_attribute(html, "lines-0-unit_price") == typed, typed
        # The error shows how to write a number in Spanish, beside the field and in the summary.
        assert html.count("1.234,56") >= 2, typed
        assert 'href="#id_lines-0-unit_price"' in html, typed
    assert created(lingua).number == "LD-0010"


def test_one_thousand_two_hundred_thirty_four_in_spanish_is_one_point_two_three_four_in_english(demo_web, lingua):
    nordlicht = client_named(lingua, "Nordlicht")
    demo_web.post("/invoices/new/", invoice_post(nordlicht, lines=[("Words", "1.234", "words", "1")]))
    assert created(lingua).lines.get().quantity == Decimal("1.234")
    speaking(demo_web, "es").post("/invoices/new/", invoice_post(nordlicht, lines=[("Words", "1.234", "words", "1")]))
    assert created(lingua).lines.get().quantity == Decimal("1234")


def test_a_spanish_edit_form_shows_stored_numbers_with_commas_and_saving_it_unchanged_changes_nothing(demo_web, lingua):
    speaking(demo_web, "es")
    invoice = Invoice.objects.filter(company=lingua, status="draft").order_by("number").first()
    before = [(line.quantity, line.unit_price) for line in invoice.lines.all()]
    response = demo_web.get(f"/invoices/{invoice.pk}/edit/")
    html = response.content.decode()
    first = invoice.lines.first()
    shown = value_attribute(html, "lines-0-unit_price")
    assert "." not in shown and parse_number_in("es", shown) == first.unit_price
    saved = demo_web.post(f"/invoices/{invoice.pk}/edit/", edit_post(response))
    assert saved.status_code == 302
    assert [(line.quantity, line.unit_price) for line in invoice.lines.all()] == before


def parse_number_in(language: str, text: str) -> Decimal:
    with translation.override(language):
        return parse_number(text)


def test_a_date_typed_the_spanish_way_is_accepted_where_a_text_input_is_used(demo_web, lingua):
    speaking(demo_web, "es")
    nordlicht = client_named(lingua, "Nordlicht")
    response = demo_web.post("/invoices/new/", invoice_post(nordlicht, lines=[("Words", "1", "", "10")],
                                                            issue_date="15/12/2026", due_date="2027-01-14"))
    assert response.status_code == 302
    invoice = created(lingua)
    assert invoice.issue_date.isoformat() == "2026-12-15" and invoice.due_date.isoformat() == "2027-01-14"


def test_tax_percent_is_typed_with_a_comma_in_spanish(demo_web, lingua):
    speaking(demo_web, "es")
    response = demo_web.post("/settings/taxes/new/", {
        "name": "IVA 10,5%", "tax_type": "IVA", "kind": "percentage", "rate": "10,5", "amount": "", "category": "",
        "exemption_reason": "", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert tax_named(lingua, "IVA 10,5%").rate == Decimal("10.5")


def test_the_b2brouter_payload_is_the_same_whatever_the_language_the_invoice_was_typed_in(demo_web, lingua):
    nordlicht = client_named(lingua, "Nordlicht")
    lines = {"en": [("Translation", "1234", "words", "0.085"), ("Review", "1.5", "hours", "1,234.56")],
             "es": [("Translation", "1.234", "words", "0,085"), ("Review", "1,5", "hours", "1.234,56")]}
    payloads = {}
    for language in ("en", "es"):
        response = speaking(demo_web, language).post("/invoices/new/", invoice_post(
            nordlicht, lines=lines[language], taxes=[tax_named(lingua, "IVA 21%")],
            adjustments=[("discount", "absolute", "10,25" if language == "es" else "10.25", "")]))
        assert response.status_code == 302
        invoice = created(lingua)
        for active in ("en", "es", "ca"):
            with translation.override(active):
                payload = invoice_payload(Invoice.objects.get(pk=invoice.pk), contact_id=7)
            payload.pop("number")
            payloads[(language, active)] = payload
    first = payloads[("en", "en")]
    assert first["invoice_lines_attributes"][1]["price"] == Decimal("1234.56")
    assert all(payload == first for payload in payloads.values())


DECIMALS = st.decimals(min_value=Decimal("-999999999999.999999"), max_value=Decimal("999999999999.999999"),
                       places=6, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("language", ["en", "es", "ca"])
@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=DECIMALS)
def test_formatting_then_parsing_a_decimal_gives_it_back(language: str, number: Decimal) -> None:
    with translation.override(language):
        assert parse_number(format_number(number)) == number
        assert parse_number(format_number(number, grouping=False)) == number


def test_texts_the_app_adds_to_the_payload_are_in_the_clients_language(demo_web, lingua):
    nordlicht = client_named(lingua, "Nordlicht")
    nordlicht.language = "es"
    nordlicht.save()
    response = speaking(demo_web, "en").post("/invoices/new/", invoice_post(
        nordlicht, lines=[("Words", "1", "", "10")], taxes=[tax_named(lingua, "IVA 21%")],
        adjustments=[("discount", "absolute", "1.00", "")]))
    assert response.status_code == 302
    invoice = created(lingua)
    for active in ("en", "ca"):
        with translation.override(active):
            payload = invoice_payload(Invoice.objects.get(pk=invoice.pk), contact_id=7)
        assert payload["allowance_charges_attributes"][0]["reason"] == "Descuento"


def test_spanish_invoice_page_shows_unit_prices_and_quantities_like_its_amounts(demo_web, lingua):
    speaking(demo_web, "es")
    nordlicht = client_named(lingua, "Nordlicht")
    response = demo_web.post("/invoices/new/", invoice_post(
        nordlicht, lines=[("Translation", "12.000", "words", "0,085"), ("Terminology", "2", "hours", "45,5"),
                          ("Review", "1,5", "hours", "1.234,56")]))
    assert response.status_code == 302, response.content.decode()[:2000]
    page = demo_web.get(f"/invoices/{created(lingua).pk}/").content.decode()
    cells = re.findall(r'<td class="num">([^<]*)</td>', page.split('class="lines"')[1].split("</table>")[0])
    # quantity, unit price, amount of each line: a price has the currency's decimals at least, none dropped.
    assert cells == ["12.000", "0,085", "1.020,00", "2", "45,50", "91,00", "1,5", "1.234,56", "1.851,84"]
    english = speaking(demo_web, "en").get(f"/invoices/{created(lingua).pk}/").content.decode()
    assert "12,000" in english and "45.50" in english and "1,234.56" in english
