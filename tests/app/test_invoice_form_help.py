"""The friendlier invoice form: running total, error summary, client search, duplicating an invoice."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from b2binvoice.clients.models import Client
from b2binvoice.einvoicing.models import InvoiceLink
from b2binvoice.invoices.calculations import calculate_invoice
from b2binvoice.invoices.models import ChangeAction, Invoice, InvoiceChange
from tests.app.test_invoice_flows import client_named, invoice_post, tax_named
from tests.app.test_local_formats import speaking

pytestmark = pytest.mark.django_db


def total_cell(html: str, name: str) -> str:
    match = re.search(rf'data-total="{name}">(?:<strong>)?([^<]*)<', html)
    assert match, (name, html)
    return match.group(1)


# --- Running total ------------------------------------------------------------------------------


def test_the_running_total_is_the_saved_invoices_total(demo_web, lingua):
    nordlicht = client_named(lingua, "Nordlicht")
    data = invoice_post(
        nordlicht, lines=[("Translation DE>ES", "1234", "words", "0.085"), ("Terminology", "1.5", "hours", "40"),
                          ("", "", "", "")],
        taxes=[tax_named(lingua, "IVA 21%"), tax_named(lingua, "IRPF -15%")],
        adjustments=[("discount", "percentage", "5", "Volume"), ("charge", "absolute", "3.10", "Rush")])
    fragment = demo_web.post("/invoices/new/totals/", data, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html
    saved = demo_web.post("/invoices/new/", data)
    totals = calculate_invoice(Invoice.objects.get(pk=saved["Location"].split("/")[2]))
    assert total_cell(html, "subtotal") == "€164.89" == f"€{totals.subtotal}"
    assert total_cell(html, "total") == f"€{totals.total}"
    assert "IVA 21%" in html and "IRPF -15%" in html


def test_the_running_total_in_spanish_reads_decimal_commas_and_shows_euros_the_spanish_way(demo_web, lingua):
    speaking(demo_web, "es")
    data = invoice_post(client_named(lingua, "Nordlicht"), lines=[("Words", "1.000", "words", "45,50")],
                        taxes=[tax_named(lingua, "IVA 21%")])
    html = demo_web.post("/invoices/new/totals/", data).content.decode()
    assert total_cell(html, "subtotal") == "45.500,00\xa0€"
    assert total_cell(html, "total") == "55.055,00\xa0€"


def test_rows_that_are_not_numbers_yet_are_left_out_with_a_hint_never_an_error(demo_web, lingua):
    data = invoice_post(client_named(lingua, "Nordlicht"),
                        lines=[("Words", "2", "", "10"), ("Pages", "3", "", "12,3,4"), ("Typing", "4", "", "")],
                        adjustments=[("discount", "percentage", "250", ""), ("charge", "absolute", "1.005", "")])
    response = demo_web.post("/invoices/new/totals/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert total_cell(html, "subtotal") == "€20.00" and total_cell(html, "total") == "€20.00"
    hints = re.findall(r'<li class="help">([^<]*)</li>', html)
    assert len(hints) == 4, hints
    assert "Line 2" in hints[0] and "Line 3" in hints[1]


@pytest.mark.parametrize("data", [
    {},
    {"lines-TOTAL_FORMS": "x", "currency": "XXX"},
    {"lines-TOTAL_FORMS": "99999999", "lines-INITIAL_FORMS": "5", "taxes": ["abc", "-1"], "currency": "EUR"},
    {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-quantity": "1" * 500,
     "lines-0-unit_price": "9" * 40, "adjustments-TOTAL_FORMS": "1", "adjustments-INITIAL_FORMS": "0",
     "adjustments-0-kind": "nope", "adjustments-0-value": "1"},
])
def test_the_running_total_survives_any_post(demo_web, data):
    response = demo_web.post("/invoices/new/totals/", data)
    assert response.status_code == 200
    assert "data-total=\"total\"" in response.content.decode()


def test_the_running_total_of_an_edited_invoice_keeps_its_tax_copies_and_is_only_for_the_company(
        demo_web, other_web, lingua):
    invoice = Invoice.objects.filter(company=lingua, status="draft", taxes__isnull=False).order_by("number").first()
    tax = invoice.taxes.exclude(tax=None).first()
    tax.tax.rate = Decimal("99")  # the company changed the tax after it was copied into the invoice
    tax.tax.save()
    data = {"currency": invoice.currency, "taxes": [tax.tax_id], "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
            "lines-0-description": "x", "lines-0-quantity": "1", "lines-0-unit_price": "100",
            "adjustments-TOTAL_FORMS": "0", "adjustments-INITIAL_FORMS": "0"}
    html = demo_web.post(f"/invoices/{invoice.pk}/totals/", data).content.decode()
    expected = Decimal(100) + Decimal(100) * tax.rate / 100
    assert total_cell(html, "total").endswith(f"{expected:.2f}")
    assert other_web.post(f"/invoices/{invoice.pk}/totals/", data).status_code == 404
    assert demo_web.get("/invoices/new/totals/").status_code == 405


def test_the_form_asks_for_the_running_total_as_the_user_types(demo_web, lingua):
    html = demo_web.get("/invoices/new/").content.decode()
    assert 'hx-post="/invoices/new/totals/"' in html and "input changed delay:300ms" in html
    assert 'id="running-total"' in html
    invoice = Invoice.objects.filter(company=lingua, status="draft", currency="EUR").first()
    page = demo_web.get(f"/invoices/{invoice.pk}/edit/").content.decode()
    assert f'hx-post="/invoices/{invoice.pk}/totals/"' in page
    assert total_cell(page, "total") == f"€{calculate_invoice(invoice).total:,}"


# --- Error summary ------------------------------------------------------------------------------


def test_every_error_is_listed_at_the_top_and_links_to_its_field(demo_web, lingua):
    data = invoice_post(client_named(lingua, "Nordlicht"),
                        lines=[("Words", "abc", "", "10"), ("", "2", "", "5")],
                        adjustments=[("discount", "percentage", "120", "")], due_date="2026-11-01")
    data["client"] = ""
    response = demo_web.post("/invoices/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    summary = re.search(r'<ul class="error-summary">(.*?)</ul>', html, re.S).group(1)
    links = re.findall(r'<a href="#([^"]+)">', summary)
    assert links == ["id_client", "id_due_date", "id_lines-0-quantity", "id_lines-1-description",
                     "id_adjustments-0-value"]
    for anchor in links:
        assert f'id="{anchor}"' in html  # each link reaches its field
    assert "Line 2" in summary and "Discount or charge 1" in summary
    # The errors beside the fields are still there (and as the running total's hint), what was typed is kept.
    assert 'value="abc"' in html and html.count("A percentage cannot exceed 100.") == 3


def test_a_form_without_lines_says_so_in_the_summary(demo_web, lingua):
    data = invoice_post(client_named(lingua, "Nordlicht"), lines=[("", "", "", "")])
    html = demo_web.post("/invoices/new/", data).content.decode()
    summary = re.search(r'<ul class="error-summary">(.*?)</ul>', html, re.S).group(1)
    assert '<a href="#lines-table">' in summary and "Add at least one line." in summary
    assert 'id="lines-table"' in html


def test_other_forms_list_their_errors_with_links_too(demo_web):
    html = demo_web.post("/clients/new/", {"name": "", "country": "ES"}).content.decode()
    summary = re.search(r'<ul class="error-summary">(.*?)</ul>', html, re.S).group(1)
    assert '<a href="#id_name">' in summary


# --- Client search ------------------------------------------------------------------------------


def test_the_client_search_returns_only_the_companys_matching_clients(demo_web, lingua, other_company):
    html = demo_web.get("/invoices/clients/", {"client_q": "nordl"}).content.decode()
    names = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', html)
    assert [name for _pk, name in names] == ["Nordlicht Übersetzungen GmbH"]
    everyone = demo_web.get("/invoices/clients/").content.decode()
    own = set(Client.objects.filter(company=lingua).values_list("pk", flat=True))
    assert {int(pk) for pk in re.findall(r'<option value="(\d+)"', everyone)} == own
    # Another company's client is never offered, even when named as the current choice.
    foreign = Client.objects.filter(company=other_company).first()
    html = demo_web.get("/invoices/clients/", {"client_q": foreign.name[:5], "client": foreign.pk}).content.decode()
    assert foreign.name not in html and f'value="{foreign.pk}"' not in html


@pytest.mark.parametrize("current", ["\u00b2", "\u0663", "12a", "-1", ""])
def test_the_client_search_ignores_a_current_choice_that_is_not_an_id(demo_web, lingua, current):
    response = demo_web.get("/invoices/clients/", {"client_q": "nordl", "client": current})
    assert response.status_code == 200 and "Nordlicht" in response.content.decode()


def test_the_client_search_keeps_the_current_choice_and_the_form_offers_it(demo_web, lingua):
    sol = client_named(lingua, "Editorial Sol y Mar")
    html = demo_web.get("/invoices/clients/", {"client_q": "nordlicht", "client": sol.pk}).content.decode()
    assert re.search(rf'<option value="{sol.pk}" selected>', html)
    page = demo_web.get("/invoices/new/").content.decode()
    assert 'hx-get="/invoices/clients/"' in page and 'hx-target="#id_client"' in page
    assert re.search(r'<select name="client"[^>]*id="id_client"', page)  # a plain select without JS


# --- Duplicate ----------------------------------------------------------------------------------


def test_duplicating_an_issued_linked_invoice_makes_a_fresh_draft_of_the_same_content(demo_web, lingua):
    original = Invoice.objects.get(company=lingua, number="LD-0001")
    InvoiceLink.objects.create(invoice=original, status="confirmed", account_id="1", number=original.number,
                               b2brouter_id=4242, state="sent")
    response = demo_web.post(f"/invoices/{original.pk}/duplicate/")
    copy = Invoice.objects.get(company=lingua, number="LD-0011")
    assert response.status_code == 302 and response["Location"] == f"/invoices/{copy.pk}/edit/"
    assert copy.status == "draft" and copy.kind == "invoice" and copy.issue_date == timezone.localdate()
    assert copy.due_date - copy.issue_date == original.due_date - original.issue_date
    assert copy.client_id == original.client_id and copy.note == original.note
    assert not InvoiceLink.objects.filter(invoice=copy).exists()
    assert copy.corrected_invoice_id is None and copy.amended_number == "" and copy.corrective_reason == ""

    def rows(invoice):
        return ([(line.description, line.quantity, line.unit, line.unit_price) for line in invoice.lines.all()],
                [(a.kind, a.mode, a.value, a.reason) for a in invoice.adjustments.all()],
                [(t.name, t.rate, t.amount) for t in invoice.taxes.all()])

    assert rows(copy) == rows(original)
    assert calculate_invoice(copy).total == calculate_invoice(original).total
    created = InvoiceChange.objects.get(invoice=copy)
    assert created.action == ChangeAction.CREATED and created.changes["duplicated_from"] == "LD-0001"
    # The copy opens as an editable draft; the original is untouched.
    edit = demo_web.get(response["Location"])
    assert "lines" in edit.context
    assert "LD-0001" in demo_web.get(f"/invoices/{copy.pk}/").content.decode()
    original.refresh_from_db()
    assert original.status == "issued" and original.b2brouter_link.b2brouter_id == 4242


def test_duplicate_is_a_post_of_the_companys_own_invoices_only(demo_web, other_web, lingua):
    original = Invoice.objects.get(company=lingua, number="LD-0002")
    page = demo_web.get(f"/invoices/{original.pk}/").content.decode()
    assert f'action="/invoices/{original.pk}/duplicate/"' in page
    assert demo_web.get(f"/invoices/{original.pk}/duplicate/").status_code == 405
    assert other_web.post(f"/invoices/{original.pk}/duplicate/").status_code == 404
    assert Invoice.objects.filter(company=lingua).count() == 10


def test_duplicate_needs_the_csrf_token(lingua, demo_user):
    from django.test import Client as HttpClient

    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(demo_user)
    original = Invoice.objects.get(company=lingua, number="LD-0002")
    assert browser.post(f"/invoices/{original.pk}/duplicate/").status_code == 403
    assert Invoice.objects.filter(company=lingua).count() == 10


def test_a_credit_note_is_not_duplicated(demo_web, lingua, demo_user):
    from b2binvoice.invoices.credit_notes import create_credit_note

    original = Invoice.objects.get(company=lingua, number="LD-0001")
    note = create_credit_note(original=original, user=demo_user, reason_code="R1", reason="Wrong count",
                              issue_date=timezone.localdate(),
                              quantities={line.pk: line.quantity for line in original.lines.all()})
    page = demo_web.get(f"/invoices/{note.pk}/").content.decode()
    assert f'action="/invoices/{note.pk}/duplicate/"' not in page
    count = Invoice.objects.filter(company=lingua).count()
    response = demo_web.post(f"/invoices/{note.pk}/duplicate/")
    assert response.status_code == 302 and response["Location"] == f"/invoices/{note.pk}/"
    assert Invoice.objects.filter(company=lingua).count() == count
