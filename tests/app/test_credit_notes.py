"""Credit notes (corrective invoices): full and partial, their series, the limits, the net amount due, B2Brouter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from b2binvoice.companies.models import Company
from b2binvoice.einvoicing.models import InvoiceLink
from b2binvoice.invoices.calculations import calculate_invoice
from b2binvoice.invoices.models import Invoice, InvoiceAdjustment, InvoiceChange
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
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
from tests.app.test_invoice_lock import send_through_b2brouter

pytestmark = pytest.mark.django_db


def credit(browser, invoice: Invoice, *, scope: str = "full", reason: str = "R1",
           text: str = "Wrong word count", date: str = "2026-12-01", **quantities: str):
    """POST the credit note form of ``invoice``; ``quantities`` are line_<pk>=quantity."""
    data = {"scope": scope, "corrective_reason": reason, "correction_reason": text, "issue_date": date}
    data.update(quantities)
    return browser.post(f"/invoices/{invoice.pk}/credit-note/", data)


def created_note(response) -> Invoice:
    assert response.status_code == 302, response.content.decode()[-3000:]
    return Invoice.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def total(invoice: Invoice) -> Decimal:
    return calculate_invoice(Invoice.objects.get(pk=invoice.pk)).total


def issue(browser, note: Invoice) -> None:
    response = browser.post(f"/invoices/{note.pk}/edit/", {
        "number": note.number, "issue_date": note.issue_date.isoformat(), "status": "issued",
        "corrective_reason": note.corrective_reason, "correction_reason": note.correction_reason})
    assert response.status_code == 302, response.content.decode()[-3000:]


def net_due(page: str) -> str:
    part = page[page.index("Net amount still due"):]
    return part[:part.index("</tr>")]


def test_a_full_credit_note_credits_everything_in_its_own_series(demo_web, lingua):
    original = Invoice.objects.get(company=lingua, number="LD-0001")  # issued, 1,234.20 EUR
    page = demo_web.get(f"/invoices/{original.pk}/").content.decode()
    assert f'href="/invoices/{original.pk}/credit-note/"' in page

    form = demo_web.get(f"/invoices/{original.pk}/credit-note/").content.decode()
    for label in ("R1 – Error founded in law (art. 80.1, 80.2 and 80.6 LIVA)", "R2 – Art. 80.3 LIVA",
                  "R3 – Art. 80.4 LIVA", "R4 – Other causes", "R5 – Correction of a simplified invoice"):
        assert label in form, label

    note = created_note(credit(demo_web, original))
    assert (note.kind, note.number, note.status) == ("credit_note", "LD-R-0001", "draft")
    assert (note.corrected_invoice_id, note.amended_number, note.amended_date) == (
        original.pk, "LD-0001", original.issue_date)
    assert (note.corrective_reason, note.correction_reason, note.client_id) == ("R1", "Wrong word count",
                                                                                  original.client_id)
    line = note.lines.get()
    assert (line.quantity, line.unit_price, line.credited_line_id) == (
        Decimal("12000"), Decimal("-0.085"), original.lines.get().pk)
    assert total(note) == Decimal("-1234.20")

    page = demo_web.get(f"/invoices/{note.pk}/").content.decode()
    assert "Credit note LD-R-0001" in page and "Corrects invoice" in page and "LD-0001" in page
    assert "Wrong word count" in page and "-1,234.20 EUR" in page
    # The original lists it; a draft credit note does not reduce what is due until it is issued.
    page = demo_web.get(f"/invoices/{original.pk}/").content.decode()
    assert "LD-R-0001" in page and "1,234.20" in net_due(page)
    issue(demo_web, note)
    page = demo_web.get(f"/invoices/{original.pk}/").content.decode()
    assert "0.00" in net_due(page)
    # Nothing is left to credit.
    response = demo_web.get(f"/invoices/{original.pk}/credit-note/")
    assert response.status_code == 403 and "already been credited" in response.content.decode()
    assert f'href="/invoices/{original.pk}/credit-note/"' not in demo_web.get(f"/invoices/{original.pk}/").content.decode()
    # Both histories say so.
    credited = InvoiceChange.objects.get(invoice=original, action="credited")
    assert credited.changes["credit_note"] == {"number": "LD-R-0001", "total": "-1234.20"}
    assert "Credit note LD-R-0001 for -1234.20" in demo_web.get(f"/invoices/{original.pk}/").content.decode()
    assert list(InvoiceChange.objects.filter(invoice=note).order_by("at", "pk").values_list("action", flat=True)) == [
        "created", "status"]


def test_partial_credit_notes_never_credit_more_than_each_line_has(demo_web, lingua):
    original = Invoice.objects.get(company=lingua, number="LD-0002")  # 3450 words x 0.09, 4 h x 35: 545.11
    words, hours = original.lines.all()
    assert total(original) == Decimal("545.11")

    first = created_note(credit(demo_web, original, scope="partial", reason="R4", text="Two hours not worked",
                               **{f"line_{words.pk}": "0", f"line_{hours.pk}": "2"}))
    assert [(line.description, line.quantity, line.unit_price) for line in first.lines.all()] == [
        ("Proofreading", Decimal("2"), Decimal("-35"))]
    assert total(first) == Decimal("-84.70")  # 70.00 + 21 % IVA
    issue(demo_web, first)
    assert "460.41" in net_due(demo_web.get(f"/invoices/{original.pk}/").content.decode())

    # 3 more hours would credit 5 of 4: refused, nothing created.
    response = credit(demo_web, original, scope="partial", **{f"line_{words.pk}": "0", f"line_{hours.pk}": "3"})
    assert response.status_code == 200
    assert "3 cannot be credited, only 2 is left (2 already credited)" in response.content.decode()
    assert original.credit_notes.count() == 1
    # Nothing chosen: refused too.
    response = credit(demo_web, original, scope="partial", **{f"line_{words.pk}": "0", f"line_{hours.pk}": "0"})
    assert "Choose at least one line" in response.content.decode() and original.credit_notes.count() == 1

    # "Everything left" credits what remains: 3450 words and 2 hours.
    second = created_note(credit(demo_web, original))
    assert second.number == "LD-R-0002"
    assert [(line.quantity, line.unit_price) for line in second.lines.all()] == [
        (Decimal("3450"), Decimal("-0.09")), (Decimal("2"), Decimal("-35"))]
    assert total(first) + total(second) == -total(original)


def test_a_credit_note_cannot_exceed_the_total_left(web, company, customer):
    # 100 + 50 - a fixed 140 discount = 10.00: crediting the 100 line alone would credit more than the invoice.
    original = make_invoice(company, customer, lines=[("1", "100"), ("1", "50")])
    InvoiceAdjustment.objects.create(invoice=original, kind="discount", mode="absolute", value=Decimal("140"))
    Invoice.objects.filter(pk=original.pk).update(status="issued")
    first, second = original.lines.all()
    response = credit(web, original, scope="partial", **{f"line_{first.pk}": "1", f"line_{second.pk}": "0"})
    assert response.status_code == 200
    assert "exceeds what is left to credit on INV-0001 (10.00)" in response.content.decode()
    assert not Invoice.objects.filter(kind="credit_note").exists()
    # The full credit note carries the fixed discount, negated, and credits exactly 10.00.
    note = created_note(credit(web, original))
    assert [(a.kind, a.mode, a.value) for a in note.adjustments.all()] == [("discount", "absolute", Decimal("-140"))]
    assert total(note) == Decimal("-10.00")


def test_only_issued_invoices_are_credited(web, company, customer, vat):
    draft = make_invoice(company, customer, taxes=[vat])
    response = web.get(f"/invoices/{draft.pk}/credit-note/")
    assert response.status_code == 403 and "is a draft" in response.content.decode()
    assert credit(web, draft).status_code == 403
    assert "/credit-note/" not in web.get(f"/invoices/{draft.pk}/").content.decode()
    Invoice.objects.filter(pk=draft.pk).update(status="issued")
    note = created_note(credit(web, draft))
    Invoice.objects.filter(pk=note.pk).update(status="issued")
    response = web.get(f"/invoices/{note.pk}/credit-note/")
    assert response.status_code == 403 and "is a credit note" in response.content.decode()


def test_a_credit_note_is_not_dated_before_its_invoice(web, company, customer, vat):
    original = make_invoice(company, customer, taxes=[vat])  # 2026-11-02
    Invoice.objects.filter(pk=original.pk).update(status="issued")
    response = credit(web, original, date="2026-11-01")
    assert response.status_code == 200 and "cannot be dated before the invoice it corrects" in response.content.decode()


def test_a_draft_credit_note_keeps_its_lines_and_can_be_deleted_to_free_them(web, company, customer, vat):
    original = make_invoice(company, customer, taxes=[vat])
    Invoice.objects.filter(pk=original.pk).update(status="issued")
    line = original.lines.get()
    note = created_note(credit(web, original, scope="partial", **{f"line_{line.pk}": "1000"}))
    page = web.get(f"/invoices/{note.pk}/edit/").content.decode()
    assert "delete this draft and create another credit note" in page
    assert 'name="corrective_reason"' in page and 'name="lines-0-quantity"' not in page
    response = web.post(f"/invoices/{note.pk}/edit/", {"number": note.number, "issue_date": "2026-12-01",
                                                       "status": "draft", "corrective_reason": "R4",
                                                       "correction_reason": "Wrong data", "lines-0-quantity": "9999"})
    assert response.status_code == 403
    assert note.lines.get().quantity == Decimal("1000")
    response = web.post(f"/invoices/{note.pk}/edit/", {"number": note.number, "issue_date": "2026-12-01",
                                                       "status": "draft", "corrective_reason": "R4",
                                                       "correction_reason": "Wrong data"})
    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.corrective_reason, note.correction_reason) == ("R4", "Wrong data")
    # 234 words are left; deleting the draft frees its 1000 again.
    assert "234" in web.get(f"/invoices/{original.pk}/credit-note/").content.decode()
    assert web.post(f"/invoices/{note.pk}/delete/").status_code == 302
    again = created_note(credit(web, original))
    assert again.lines.get().quantity == Decimal("1234")


def test_the_credit_note_series_is_configured_on_the_company_settings(demo_web, lingua):
    settings = {"name": "Lingua Demo S.L.", "tin": "ESA28017895", "country": "ES", "default_currency": "EUR",
                "invoice_prefix": "LD-", "invoice_next_number": "11", "invoice_number_digits": "4"}
    response = demo_web.post("/settings/company/", {**settings, "credit_note_prefix": "LD-",
                                                    "credit_note_next_number": "1", "credit_note_number_digits": "4"})
    assert response.status_code == 200 and "a series of their own" in response.content.decode()
    response = demo_web.post("/settings/company/", {**settings, "credit_note_prefix": "LD-CN-",
                                                    "credit_note_next_number": "7", "credit_note_number_digits": "3"})
    assert response.status_code == 302
    original = Invoice.objects.get(company=lingua, number="LD-0001")
    assert created_note(credit(demo_web, original)).number == "LD-CN-007"
    assert Company.objects.get(pk=lingua.pk).credit_note_next_number == 8


def test_a_credit_note_round_trip_through_b2brouter(web, company, account, integration, customer, vat, sim):
    """The corrective invoice goes through the same create, compare and send path, with its reference."""
    contact_for(sim, account, customer)
    original = make_invoice(company, customer, taxes=[vat], lines=[("1234", "0.085"), ("3", "45.50")])
    send_through_b2brouter(web, sim, account, original, state="accepted")
    original.refresh_from_db()
    assert original.status == "issued" and total(original) == Decimal("292.08")
    page = web.get(f"/invoices/{original.pk}/").content.decode()
    assert "It can only be corrected by a credit note." in page

    words, extra = original.lines.all()
    note = created_note(credit(web, original, scope="partial", reason="R1", text="One page was not translated",
                               **{f"line_{words.pk}": "0", f"line_{extra.pk}": "1"}))
    assert note.number == "INV-R-0001" and total(note) == Decimal("-55.06")

    response = confirmed(web, f"/invoices/{note.pk}/b2brouter/create/")
    assert response.status_code == 302, response.content.decode()[-3000:]
    link = InvoiceLink.objects.get(invoice=note)
    assert link.is_linked and link.state in ("sending", "sent")
    assert 'class="differs"' not in section(web, note)
    data, key = account
    remote = next(i for i in sim.invoices(data["id"], key) if i["id"] == link.b2brouter_id)
    assert (remote["is_credit_note"], remote["amended_number"], remote["amended_date"], remote["amend_reason"]) == (
        True, "INV-0001", "2026-11-02", "R1")
    assert [(line["quantity"], line["price"]) for line in remote["invoice_lines"]] == [("1", "-45.5")]
    assert remote["total"] == "-55.06"
    [sent_original] = [i for i in sim.invoices(data["id"], key) if i["number"] == "INV-0001"]
    assert (sent_original["is_credit_note"], sent_original["amended_number"]) == (False, None)
    note.refresh_from_db()
    assert note.status == "issued"

    page = web.get(f"/invoices/{original.pk}/").content.decode()
    credits = page[page.index('id="credit-notes"'):]
    assert "INV-R-0001" in credits and "-55.06 EUR" in credits and link.state in credits
    assert "237.02" in net_due(page)
