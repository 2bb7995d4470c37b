"""Inline rows are bound to their invoice: a line or adjustment id of another invoice is an error, never a new row."""

from __future__ import annotations

from decimal import Decimal

import pytest

from b2binvoice.invoices.models import Invoice, InvoiceAdjustment, InvoiceLine, InvoiceStatus

pytestmark = pytest.mark.django_db

LINE_ERROR = "This line does not belong to this invoice."
ADJUSTMENT_ERROR = "This discount or charge does not belong to this invoice."


def _draft(company, number: str) -> Invoice:
    """A draft of ``company`` with one line and one discount, made from its first client."""
    invoice = Invoice.objects.create(company=company, client=company.clients.order_by("pk").first(), number=number,
                                     issue_date="2026-11-02", due_date="2026-12-02", currency="EUR",
                                     status=InvoiceStatus.DRAFT)
    InvoiceLine.objects.create(invoice=invoice, position=0, description=f"{number} line", quantity=Decimal("2"),
                               unit="h", unit_price=Decimal("40"))
    InvoiceAdjustment.objects.create(invoice=invoice, kind="discount", mode="percentage", value=Decimal("5"),
                                     reason=f"{number} discount")
    return invoice


def _post(invoice: Invoice, *, line_id: str | None = None, adjustment_id: str | None = None,
          extra_line_id: str | None = None) -> dict:
    """The edit form of ``invoice`` as its page sends it, with the row ids replaced where given."""
    line = invoice.lines.get()
    adjustment = invoice.adjustments.get()
    data = {"number": invoice.number, "client": str(invoice.client_id), "issue_date": "2026-11-02",
            "due_date": "2026-12-02", "currency": "EUR", "status": "draft", "note": "", "payment_method": "",
            "buyer_reference": "", "purchase_order": "", "project_reference": "",
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1",
            "lines-0-id": str(line.pk) if line_id is None else line_id, "lines-0-invoice": str(invoice.pk),
            "lines-0-description": "Edited line", "lines-0-quantity": "3", "lines-0-unit": "h",
            "lines-0-unit_price": "41",
            "adjustments-TOTAL_FORMS": "1", "adjustments-INITIAL_FORMS": "1",
            "adjustments-0-id": str(adjustment.pk) if adjustment_id is None else adjustment_id,
            "adjustments-0-invoice": str(invoice.pk), "adjustments-0-kind": "charge",
            "adjustments-0-mode": "absolute", "adjustments-0-value": "7", "adjustments-0-reason": "Edited"}
    if extra_line_id is not None:
        data.update({"lines-TOTAL_FORMS": "2", "lines-1-id": extra_line_id, "lines-1-invoice": str(invoice.pk),
                     "lines-1-description": "Sneaked", "lines-1-quantity": "1", "lines-1-unit": "h",
                     "lines-1-unit_price": "1"})
    return data


def _snapshot(invoice: Invoice) -> tuple:
    invoice.refresh_from_db()
    return (invoice.number, list(invoice.lines.values_list("pk", "description", "quantity", "unit_price")),
            list(invoice.adjustments.values_list("pk", "kind", "mode", "value", "reason")))


@pytest.fixture
def drafts(lingua, other_company):
    return {"mine": _draft(lingua, "ROW-0001"), "sibling": _draft(lingua, "ROW-0002"),
            "foreign": _draft(other_company, "OT-ROW-1")}


def _refused(demo_web, drafts, error: str, **ids: str) -> None:
    mine = drafts["mine"]
    before = {name: _snapshot(invoice) for name, invoice in drafts.items()}
    counts = (InvoiceLine.objects.count(), InvoiceAdjustment.objects.count())
    response = demo_web.post(f"/invoices/{mine.pk}/edit/", _post(mine, **ids))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert (InvoiceLine.objects.count(), InvoiceAdjustment.objects.count()) == counts
    assert {name: _snapshot(invoice) for name, invoice in drafts.items()} == before


def test_own_ids_save_the_edit(demo_web, drafts):
    mine = drafts["mine"]
    response = demo_web.post(f"/invoices/{mine.pk}/edit/", _post(mine))
    assert response.status_code == 302
    assert list(mine.lines.values_list("description", "quantity")) == [("Edited line", Decimal("3"))]
    assert list(mine.adjustments.values_list("kind", "value")) == [("charge", Decimal("7"))]


@pytest.mark.parametrize("whose", ["sibling", "foreign"])
def test_a_line_id_of_another_invoice_is_refused(demo_web, drafts, whose):
    _refused(demo_web, drafts, LINE_ERROR, line_id=str(drafts[whose].lines.get().pk))


@pytest.mark.parametrize("whose", ["sibling", "foreign"])
def test_an_adjustment_id_of_another_invoice_is_refused(demo_web, drafts, whose):
    _refused(demo_web, drafts, ADJUSTMENT_ERROR, adjustment_id=str(drafts[whose].adjustments.get().pk))


@pytest.mark.parametrize("bad", ["999999", "abc", "", "-1", "1e3"])
def test_a_nonexistent_or_malformed_line_id_is_refused(demo_web, drafts, bad):
    _refused(demo_web, drafts, LINE_ERROR, line_id=bad)


@pytest.mark.parametrize("bad", ["999999", "x"])
def test_a_nonexistent_or_malformed_adjustment_id_is_refused(demo_web, drafts, bad):
    _refused(demo_web, drafts, ADJUSTMENT_ERROR, adjustment_id=bad)


@pytest.mark.parametrize("whose", ["mine", "foreign"])
def test_an_added_row_carrying_an_id_is_refused(demo_web, drafts, whose):
    _refused(demo_web, drafts, LINE_ERROR, extra_line_id=str(drafts[whose].lines.get().pk))
