"""Issued means locked: what may change on an issued or sent invoice, deletion, and the history of every change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from b2binvoice.einvoicing.models import InvoiceLink
from b2binvoice.invoices.calculations import calculate_invoice
from b2binvoice.invoices.models import Invoice, InvoiceChange
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

pytestmark = pytest.mark.django_db


def full_post(invoice: Invoice, **changes: str) -> dict:
    """The whole invoice form of ``invoice`` as its edit page used to send it, with ``changes`` applied."""
    data = {"number": invoice.number, "client": str(invoice.client_id), "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat() if invoice.due_date else "", "currency": invoice.currency,
            "status": invoice.status, "note": invoice.note, "payment_method": str(invoice.payment_method_id or ""),
            "buyer_reference": "", "purchase_order": "", "project_reference": "",
            "taxes": [str(t.tax_id) for t in invoice.taxes.all() if t.tax_id],
            "adjustments-TOTAL_FORMS": "0", "adjustments-INITIAL_FORMS": "0"}
    lines = list(invoice.lines.all())
    data.update({"lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": str(len(lines))})
    for i, line in enumerate(lines):
        data.update({f"lines-{i}-id": str(line.pk), f"lines-{i}-invoice": str(invoice.pk),
                     f"lines-{i}-description": line.description, f"lines-{i}-quantity": str(line.quantity),
                     f"lines-{i}-unit": line.unit, f"lines-{i}-unit_price": str(line.unit_price)})
    data.update(changes)
    return data


def send_through_b2brouter(web, sim, account, invoice: Invoice, *, state: str = "accepted") -> InvoiceLink:
    """Create and send the invoice through the B2Brouter section, then let B2Brouter move it to ``state``."""
    response = confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert response.status_code == 302
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.state in ("sending", "sent"), link.state
    data, key = account
    sim.api("POST", f"/invoices/{link.b2brouter_id}/mark_as", key, {"state": state})
    web.post(f"/invoices/{invoice.pk}/b2brouter/refresh/")
    link.refresh_from_db()
    assert link.state == state
    return link


def total(invoice: Invoice) -> Decimal:
    return calculate_invoice(Invoice.objects.get(pk=invoice.pk)).total


def actions(invoice: Invoice) -> list[str]:
    return list(InvoiceChange.objects.filter(invoice=invoice).order_by("at", "pk").values_list("action", flat=True))


# --- The measured bug: an accepted invoice's number and lines were edited (10.81 -> 1232.97) ---------------


def test_an_accepted_invoice_refuses_a_direct_post_changing_number_and_lines(web, company, account, integration,
                                                                            customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, number="INV-0042", taxes=[vat], lines=[("1", "8.93")])
    assert total(invoice) == Decimal("10.81")
    send_through_b2brouter(web, sim, account, invoice, state="accepted")

    post = full_post(invoice, number="INV-0042-B", **{"lines-0-quantity": "114", "lines-0-unit_price": "8.93"})
    response = web.post(f"/invoices/{invoice.pk}/edit/", post)

    assert response.status_code == 403
    page = response.content.decode()
    assert "Nothing was saved" in page and "can only be corrected by a credit note" in page
    invoice.refresh_from_db()
    assert invoice.number == "INV-0042"
    assert [(line.quantity, line.unit_price) for line in invoice.lines.all()] == [(Decimal("1"), Decimal("8.93"))]
    assert total(invoice) == Decimal("10.81")
    # The B2Brouter section still finds our figures equal to B2Brouter's: nothing claims they differ.
    assert 'class="differs"' not in section(web, invoice)
    # The refused attempt is in the history, with what it tried to change.
    refused = InvoiceChange.objects.get(invoice=invoice, action="edit_refused")
    assert {"number", "lines"} <= set(refused.changes["attempted"])
    history = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Change refused: the invoice is locked" in history and "Fields in the refused request" in history


def test_a_sent_invoice_changes_only_its_status_and_the_page_says_a_credit_note_corrects_it(
        web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    send_through_b2brouter(web, sim, account, invoice, state="sent")
    invoice.refresh_from_db()
    assert invoice.status == "issued"

    page = web.get(f"/invoices/{invoice.pk}/edit/").content.decode()
    assert "was sent through B2Brouter (state: sent)" in page
    assert "It can only be corrected by a credit note." in page
    assert f'href="/invoices/{invoice.pk}/credit-note/"' in page
    assert 'name="lines-0-quantity"' not in page and 'name="number"' not in page and 'name="note"' not in page

    # The note goes out in the e-invoice: once sent it is fixed too.
    response = web.post(f"/invoices/{invoice.pk}/edit/", {"status": "issued", "note": "Changed afterwards"})
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.note == ""
    # Payment is still tracked.
    response = web.post(f"/invoices/{invoice.pk}/edit/", {"status": "paid"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    # The send marked it issued (by B2Brouter), then the user marked it paid.
    entries = list(InvoiceChange.objects.filter(invoice=invoice, action="status").order_by("at", "pk"))
    assert [(e.via, e.user, e.changes["fields"][0]["new"]) for e in entries] == [
        ("B2Brouter", None, "issued"), ("", invoice.company.memberships.get().user, "paid")]
    detail = web.get(f"/invoices/{invoice.pk}/").content.decode()
    history = detail[detail.index('id="history"'):]
    assert "B2Brouter" in history and "Status: Draft → Issued" in history and "Status: Issued → Paid" in history


def test_a_draft_whose_b2brouter_invoice_is_new_stays_editable(web, company, account, integration, customer, vat,
                                                              sim):
    integration.send_after_create = False
    integration.save()
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert InvoiceLink.objects.get(invoice=invoice).state == "new"
    page = web.get(f"/invoices/{invoice.pk}/edit/").content.decode()
    assert 'name="lines-0-quantity"' in page and "Locked" not in page


def test_a_creation_attempt_in_flight_locks_the_content(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    InvoiceLink.objects.create(invoice=invoice, status="pending", account_id="1", number=invoice.number)
    page = web.get(f"/invoices/{invoice.pk}/edit/").content.decode()
    assert "is being created in B2Brouter" in page
    response = web.post(f"/invoices/{invoice.pk}/edit/", full_post(invoice, **{"lines-0-quantity": "1"}))
    assert response.status_code == 403
    assert invoice.lines.get().quantity == Decimal("1234")


# --- Issued here, not sent -----------------------------------------------------------------------------


def test_an_issued_invoice_keeps_its_fiscal_content_but_its_due_date_and_note_may_change(web, company, customer, vat,
                                                                                       bank):
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    Invoice.objects.filter(pk=invoice.pk).update(status="issued")
    invoice.refresh_from_db()

    page = web.get(f"/invoices/{invoice.pk}/edit/").content.decode()
    assert "is issued: its number, date, client, currency, lines, taxes" in page
    assert 'name="due_date"' in page and 'name="note"' in page and 'name="number"' not in page

    for field, value in [("number", "INV-9999"), ("issue_date", "2026-01-01"), ("client", str(customer.pk)),
                         ("currency", "USD"), ("payment_method", ""), ("taxes", ""), ("lines-0-quantity", "2"),
                         ("adjustments-0-value", "10")]:
        response = web.post(f"/invoices/{invoice.pk}/edit/", {"status": "issued", field: value})
        assert response.status_code == 403, field
    invoice.refresh_from_db()
    assert (invoice.number, invoice.issue_date, invoice.currency, invoice.payment_method_id) == (
        "INV-0001", dt.date(2026, 11, 2), "EUR", bank.pk)
    assert invoice.taxes.count() == 1 and invoice.adjustments.count() == 0

    response = web.post(f"/invoices/{invoice.pk}/edit/", {"status": "issued", "due_date": "2027-01-15",
                                                          "note": "Paid by transfer, thanks", "buyer_reference": "",
                                                          "purchase_order": "PO-7", "project_reference": ""})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.due_date, invoice.note, invoice.purchase_order) == (
        dt.date(2027, 1, 15), "Paid by transfer, thanks", "PO-7")
    edit = InvoiceChange.objects.get(invoice=invoice, action="edited")
    assert {f["field"]: (f["old"], f["new"]) for f in edit.changes["fields"]} == {
        "due_date": ("2026-12-02", "2027-01-15"), "note": ("", "Paid by transfer, thanks"), "purchase_order": ("", "PO-7")}
    assert edit.user.username == "member"


def test_an_issued_invoice_cannot_go_back_to_draft_or_be_cancelled(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    Invoice.objects.filter(pk=invoice.pk).update(status="issued")
    for status in ("draft", "cancelled"):
        response = web.post(f"/invoices/{invoice.pk}/edit/", {"status": status})
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
        invoice.refresh_from_db()
        assert invoice.status == "issued"


def test_a_draft_is_fully_editable(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    response = web.post(f"/invoices/{invoice.pk}/edit/", full_post(invoice, number="INV-0001-B",
                                                                     **{"lines-0-quantity": "1000"}))
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.number == "INV-0001-B" and invoice.lines.get().quantity == Decimal("1000")


# --- Deletion ------------------------------------------------------------------------------------------


def test_a_draft_can_be_deleted_and_its_history_keeps_the_deletion(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert f'href="/invoices/{invoice.pk}/delete/"' in page
    assert "Delete the draft INV-0001" in web.get(f"/invoices/{invoice.pk}/delete/").content.decode()
    response = web.post(f"/invoices/{invoice.pk}/delete/")
    assert response.status_code == 302
    assert not Invoice.objects.filter(pk=invoice.pk).exists()
    deleted = InvoiceChange.objects.get(number="INV-0001", action="deleted")
    assert deleted.invoice is None and deleted.changes["total"]["old"] == "126.92"


def test_an_issued_invoice_cannot_be_deleted(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    Invoice.objects.filter(pk=invoice.pk).update(status="issued")
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert f'/invoices/{invoice.pk}/delete/' not in page
    response = web.get(f"/invoices/{invoice.pk}/delete/")
    assert response.status_code == 403 and "an issued invoice cannot be deleted" in response.content.decode()
    response = web.post(f"/invoices/{invoice.pk}/delete/")
    assert response.status_code == 403
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    assert actions(invoice) == ["delete_refused"]
    assert "Deletion refused: the invoice is locked" in web.get(f"/invoices/{invoice.pk}/").content.decode()


def test_a_draft_with_a_b2brouter_invoice_is_not_deleted_here(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    InvoiceLink.objects.create(invoice=invoice, status="linked", account_id="1", b2brouter_id=7, state="new")
    response = web.post(f"/invoices/{invoice.pk}/delete/")
    assert response.status_code == 403 and "Delete it in B2Brouter or unlink it first" in response.content.decode()
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_another_company_cannot_delete_or_edit(web, company, customer, vat):
    from django.contrib.auth import get_user_model
    from django.test import Client as HttpClient

    from b2binvoice.companies.models import Company, Membership

    invoice = make_invoice(company, customer, taxes=[vat])
    other = Company.objects.create(name="Other", country="ES")
    outsider = get_user_model().objects.create_user("outsider", password="pw-outsider-1")
    Membership.objects.create(user=outsider, company=other)
    browser = HttpClient()
    browser.force_login(outsider)
    assert browser.post(f"/invoices/{invoice.pk}/delete/").status_code == 404
    assert browser.get(f"/invoices/{invoice.pk}/credit-note/").status_code == 404
    assert Invoice.objects.filter(pk=invoice.pk).exists()


# --- History -------------------------------------------------------------------------------------------


def test_creation_and_edits_are_recorded_field_by_field_and_shown(web, company, customer, vat):
    post = {"number": "", "client": str(customer.pk), "issue_date": "2026-12-01", "due_date": "2026-12-31",
            "currency": "EUR", "status": "draft", "note": "", "payment_method": "", "taxes": [str(vat.pk)],
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-description": "Proofreading",
            "lines-0-quantity": "2", "lines-0-unit": "hours", "lines-0-unit_price": "30",
            "adjustments-TOTAL_FORMS": "0", "adjustments-INITIAL_FORMS": "0"}
    response = web.post("/invoices/new/", post)
    assert response.status_code == 302
    invoice = Invoice.objects.get(company=company)
    response = web.post(f"/invoices/{invoice.pk}/edit/", full_post(
        invoice, note="Rush job", **{"lines-0-quantity": "3", "adjustments-TOTAL_FORMS": "1",
                                      "adjustments-0-kind": "discount", "adjustments-0-mode": "percentage",
                                      "adjustments-0-value": "10", "adjustments-0-reason": "Loyal"}))
    assert response.status_code == 302
    assert actions(invoice) == ["created", "edited"]
    edit = InvoiceChange.objects.get(invoice=invoice, action="edited")
    assert edit.changes["lines"] == {"removed": ["Proofreading · 2 hours × 30"], "added": ["Proofreading · 3 hours × 30"]}
    # The kind is stored untranslated (shown in the reader's language), the rest as typed.
    assert edit.changes["adjustments"] == {"removed": [], "added": [
        {"concat": [{"msgid": "Discount"}, " 10 % · Loyal"], "sep": ""}]}
    assert edit.changes["total"] == {"old": "72.60", "new": "98.01"}
    assert edit.changes["fields"] == [{"field": "note", "old": "", "new": "Rush job"}]

    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    history = page[page.index('id="history"'):]
    for text in ("Created", "Edited", "member", "Lines: removed Proofreading · 2 hours × 30",
                 "Lines: added Proofreading · 3 hours × 30", "Discounts and charges: added Discount 10 % · Loyal",
                 "Total: 72.60 → 98.01", "Note: — → Rush job"):
        assert text in history, text
    spanish = web.get(f"/invoices/{invoice.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Descuento 10 % · Loyal" in spanish[spanish.index('id="history"'):]  # the kind in the reader's language
    # An unchanged save records nothing.
    web.post(f"/invoices/{invoice.pk}/edit/", full_post(Invoice.objects.get(pk=invoice.pk)) | {
        "adjustments-TOTAL_FORMS": "1", "adjustments-INITIAL_FORMS": "1",
        "adjustments-0-id": str(invoice.adjustments.get().pk), "adjustments-0-invoice": str(invoice.pk),
        "adjustments-0-kind": "discount", "adjustments-0-mode": "percentage", "adjustments-0-value": "10",
        "adjustments-0-reason": "Loyal"})
    assert actions(invoice) == ["created", "edited"]


def test_history_text_is_escaped(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    web.post(f"/invoices/{invoice.pk}/edit/", full_post(invoice, note="<script>alert(1)</script>"))
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
