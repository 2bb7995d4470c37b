"""Creating and editing invoices through the pages; numbering; the invoice page and list."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import transaction

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import Tax
from b2binvoice.invoices.actions import next_invoice_number
from b2binvoice.invoices.models import Invoice, InvoiceTax

pytestmark = pytest.mark.django_db


def client_named(company, prefix: str) -> Client:
    return Client.objects.get(company=company, name__startswith=prefix)


def tax_named(company, name: str) -> Tax:
    return Tax.objects.get(company=company, name=name)


def invoice_post(client: Client, *, lines, taxes=(), adjustments=(), **fields) -> dict:
    """Build the POST of the invoice form, as the browser sends it."""
    data = {"number": "", "client": client.pk, "issue_date": "2026-12-01", "due_date": "2026-12-31",
            "currency": "EUR", "status": "draft", "note": "", "payment_method": "", "taxes": [t.pk for t in taxes],
            "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0",
            "adjustments-TOTAL_FORMS": str(len(adjustments)), "adjustments-INITIAL_FORMS": "0"}
    for i, (description, quantity, unit, price) in enumerate(lines):
        data.update({f"lines-{i}-description": description, f"lines-{i}-quantity": quantity,
                     f"lines-{i}-unit": unit, f"lines-{i}-unit_price": price})
    for i, (kind, mode, value, reason) in enumerate(adjustments):
        data.update({f"adjustments-{i}-kind": kind, f"adjustments-{i}-mode": mode,
                     f"adjustments-{i}-value": value, f"adjustments-{i}-reason": reason})
    data.update(fields)
    return data


def edit_post(response) -> dict:
    """Turn a rendered edit form back into the POST the browser would send unchanged."""
    data: dict = {}
    form, lines, adjustments = (response.context[k] for k in ("form", "lines", "adjustments"))
    for bound in (form, lines.management_form, *lines.forms, adjustments.management_form, *adjustments.forms):
        for field in bound:
            value = field.value()
            if value is None or value is False:
                continue
            if isinstance(value, list):
                data[field.html_name] = [str(v) for v in value]
            elif hasattr(value, "isoformat"):
                data[field.html_name] = value.isoformat()
            else:
                data[field.html_name] = "on" if value is True else str(value)
    return data


def test_creating_an_invoice_allocates_the_next_number_and_shows_the_totals(demo_web, lingua):
    nordlicht = client_named(lingua, "Nordlicht")
    response = demo_web.post("/invoices/new/", invoice_post(
        nordlicht, lines=[("Translation DE>ES", "1234", "words", "0.085"), ("Terminology", "1.5", "hours", "40"),
                          ("", "", "", "")],
        taxes=[tax_named(lingua, "IVA 21%")], adjustments=[("discount", "percentage", "5", "Volume")]))
    invoice = Invoice.objects.get(company=lingua, number="LD-0011")  # the demo seeded LD-0001..LD-0010
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    assert [line.description for line in invoice.lines.all()] == ["Translation DE>ES", "Terminology"]
    page = demo_web.get(response["Location"]).content.decode()
    # 104.89 + 60.00 = 164.89; -5 % = 8.24; base 156.65; IVA 32.90; total 189.55
    for text in ("LD-0011", "Nordlicht Übersetzungen GmbH", "ESA28017895", "104.89", "164.89", "8.24", "156.65",
                 "32.90", "189.55", "Linked B2Brouter invoice details", "Invoice LD-0011 saved."):
        assert text in page, text
    lingua.refresh_from_db()
    assert lingua.invoice_next_number == 12


def test_numbers_are_sequential_and_skip_numbers_typed_by_hand(demo_web, lingua):
    nordlicht = client_named(lingua, "Nordlicht")
    line = [("Proofreading", "1", "hour", "30")]
    demo_web.post("/invoices/new/", invoice_post(nordlicht, lines=line, number="LD-0012"))
    demo_web.post("/invoices/new/", invoice_post(nordlicht, lines=line))
    demo_web.post("/invoices/new/", invoice_post(nordlicht, lines=line))
    numbers = sorted(Invoice.objects.filter(company=lingua).values_list("number", flat=True))[-3:]
    assert numbers == ["LD-0011", "LD-0012", "LD-0013"]


def test_allocating_in_separate_transactions_never_repeats_a_number(lingua):
    numbers = []
    for _ in range(5):
        with transaction.atomic():
            numbers.append(next_invoice_number(lingua))
    assert numbers == ["LD-0011", "LD-0012", "LD-0013", "LD-0014", "LD-0015"]
    # A rolled-back transaction gives its number back: the sequence has no gap.
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_invoice_number(lingua) == "LD-0016"
        raise RuntimeError("rolled back")
    with transaction.atomic():
        assert next_invoice_number(lingua) == "LD-0016"


@pytest.mark.django_db(transaction=True)
def test_allocating_outside_a_transaction_is_a_programming_error():
    from b2binvoice.companies.models import Company

    company = Company.objects.create(name="Autocommit Ltd")
    with pytest.raises(RuntimeError, match="transaction.atomic"):
        company.allocate_invoice_number()
    company.refresh_from_db()
    assert company.invoice_next_number == 1


def test_new_invoice_prefills_the_clients_defaults(demo_web, lingua):
    sol = client_named(lingua, "Editorial Sol y Mar")
    response = demo_web.get(f"/invoices/new/?client={sol.pk}")
    form = response.context["form"]
    assert form["client"].value() == sol.pk
    assert sorted(form["taxes"].value()) == sorted([tax_named(lingua, "IVA 21%").pk, tax_named(lingua, "IRPF -15%").pk])
    assert form["payment_method"].value() == sol.default_payment_method_id
    assert form["currency"].value() == "EUR"
    html = response.content.decode()
    assert re.search(rf'<input type="checkbox" name="taxes" value="{tax_named(lingua, "IRPF -15%").pk}"[^>]*checked', html)
    # Another company's client id is ignored.
    foreign = Client.objects.exclude(company=lingua).first()
    assert demo_web.get(f"/invoices/new/?client={foreign.pk}").context["form"]["client"].value() is None


def test_changing_the_client_refreshes_its_defaults_with_htmx(demo_web, lingua):
    sol = client_named(lingua, "Editorial Sol y Mar")
    response = demo_web.get(f"/invoices/new/?client={sol.pk}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="client-defaults")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="client-defaults"')
    assert "IRPF -15%" in html and "<html" not in html
    page = demo_web.get("/invoices/new/").content.decode()
    assert 'hx-get="/invoices/new/"' in page and 'hx-target="#client-defaults"' in page


def test_editing_keeps_tax_copies_of_taxes_still_selected(demo_web, lingua):
    invoice = Invoice.objects.get(company=lingua, number="LD-0001")
    Invoice.objects.filter(pk=invoice.pk).update(status="draft")  # an issued invoice's taxes are locked
    vat = tax_named(lingua, "IVA 21%")
    old_copy = invoice.taxes.get()
    # The company raises its VAT after LD-0001 was drafted.
    vat.rate = Decimal("22")
    vat.save()
    response = demo_web.get(f"/invoices/{invoice.pk}/edit/")
    data = edit_post(response)
    assert data["taxes"] == [str(vat.pk)]
    data["note"] = "Thank you!"
    data["taxes"] = [str(vat.pk), str(tax_named(lingua, "Stamp duty 1.50 EUR").pk)]
    response = demo_web.post(f"/invoices/{invoice.pk}/edit/", data)
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.note == "Thank you!"
    copies = list(invoice.taxes.all())
    assert copies[0].pk == old_copy.pk and copies[0].rate == Decimal("21")
    assert copies[1].name == "Stamp duty 1.50 EUR" and copies[1].amount == Decimal("1.50")
    page = demo_web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "214.20" in page and "1,235.70" in page  # 1020 + 214.20 (still 21 %) + 1.50
    # Unselecting a tax removes its copy.
    data["taxes"] = [str(tax_named(lingua, "Stamp duty 1.50 EUR").pk)]
    demo_web.post(f"/invoices/{invoice.pk}/edit/", data)
    assert list(InvoiceTax.objects.filter(invoice=invoice).values_list("name", flat=True)) == ["Stamp duty 1.50 EUR"]


def test_editing_lines_changes_deletes_and_adds(demo_web, lingua):
    invoice = Invoice.objects.get(company=lingua, number="LD-0002")
    Invoice.objects.filter(pk=invoice.pk).update(status="draft")  # an issued invoice's lines are locked
    data = edit_post(demo_web.get(f"/invoices/{invoice.pk}/edit/"))
    assert data["lines-TOTAL_FORMS"] == "3"  # two lines and one empty row
    data["lines-0-quantity"] = "3500"
    data["lines-1-DELETE"] = "on"
    data.update({"lines-2-description": "Rush fee", "lines-2-quantity": "1", "lines-2-unit_price": "25"})
    data.update({"adjustments-0-kind": "charge", "adjustments-0-mode": "absolute", "adjustments-0-value": "10",
                 "adjustments-0-reason": "Courier"})
    response = demo_web.post(f"/invoices/{invoice.pk}/edit/", data)
    assert response.status_code == 302, response.context and response.context["lines"].errors
    lines = list(invoice.lines.all())
    assert [(line.description, line.quantity, line.position) for line in lines] == [
        ("Translation FR>ES, marketing brochure", Decimal("3500"), 0), ("Rush fee", Decimal("1"), 1)]
    page = demo_web.get(f"/invoices/{invoice.pk}/").content.decode()
    # 3500 x 0.09 = 315.00 + 25.00 = 340.00; +10 charge = 350.00; IVA 73.50; total 423.50
    for text in ("340.00", "Courier", "350.00", "73.50", "423.50"):
        assert text in page, text


def test_editing_the_number_to_a_free_one_is_allowed(demo_web, lingua):
    invoice = Invoice.objects.get(company=lingua, number="LD-0006")
    data = edit_post(demo_web.get(f"/invoices/{invoice.pk}/edit/"))
    data["number"] = "LD-0006-R"
    assert demo_web.post(f"/invoices/{invoice.pk}/edit/", data).status_code == 302
    invoice.refresh_from_db()
    assert invoice.number == "LD-0006-R"
    data["number"] = ""
    response = demo_web.post(f"/invoices/{invoice.pk}/edit/", data)
    assert response.status_code == 200 and "This field is required." in response.content.decode()


def test_invoice_page_prints_cleanly_with_the_currency_decimals(demo_web, lingua):
    jpy = Invoice.objects.get(company=lingua, number="LD-0010")
    page = demo_web.get(f"/invoices/{jpy.pk}/").content.decode()
    assert "40,000 JPY" in page and "40,000.00" not in page
    css = demo_web.get("/static/b2binvoice/app.css")
    body = b"".join(css.streaming_content).decode() if css.streaming else css.content.decode()
    assert "@media print" in body and ".no-print" in body
    assert 'class="site-header no-print"' in page


def test_invoice_list_search_filter_and_pagination(demo_web, lingua):
    page = demo_web.get("/invoices/?q=nordlicht").context["page"]
    assert {i.number for i in page} == {"LD-0001", "LD-0010"}
    page = demo_web.get("/invoices/?q=LD-0003").context["page"]
    assert [i.number for i in page] == ["LD-0003"]
    page = demo_web.get("/invoices/?status=paid").context["page"]
    assert [i.number for i in page] == ["LD-0003"]
    nordlicht = client_named(lingua, "Nordlicht")
    base = Invoice.objects.get(company=lingua, number="LD-0001")
    for n in range(30):
        Invoice.objects.create(company=lingua, number=f"BULK-{n:03d}", client=nordlicht, issue_date=base.issue_date)
    first = demo_web.get("/invoices/")
    assert len(first.context["rows"]) == 25 and first.context["page"].previous_url is None
    second = demo_web.get("/invoices/" + first.context["page"].next_url)
    assert len(second.context["rows"]) == 15 and second.context["page"].next_url is None


def test_invoice_list_queries_do_not_grow_with_the_number_of_invoices(demo_web, lingua, django_assert_max_num_queries):
    demo_web.get("/invoices/")  # warm up the session and caches
    with django_assert_max_num_queries(15) as few:
        demo_web.get("/invoices/?status=draft")
    nordlicht = client_named(lingua, "Nordlicht")
    source = Invoice.objects.get(company=lingua, number="LD-0002")
    for n in range(15):
        copy = Invoice.objects.create(company=lingua, number=f"X-{n}", client=nordlicht, issue_date=source.issue_date)
        for line in source.lines.all():
            line.pk, line.invoice = None, copy
            line.save()
    with django_assert_max_num_queries(len(few.captured_queries)):
        demo_web.get("/invoices/?status=draft")
