"""Credit notes (corrective invoices): what is left to credit on an invoice, and creating one.

A credit note credits quantities of the original's lines: each of its lines keeps the
original line's description, unit and the credited quantity (with the sign of the
original quantity) at the *negated* unit price, so its amounts and totals are negative.
That is how B2Brouter's Spanish rectificativa example writes one (PHP SDK,
docs/SPANISH_INVOICING.md, scenario 3: ``is_credit_note: true`` and a line with
``quantity: 1, price: -100.00``), and the same arithmetic then gives the same totals
here and in B2Brouter.

Percentage discounts, charges and taxes are copied to every credit note (they apply to
its negative subtotal). Fixed-amount discounts, charges and taxes cannot be split by
line: they are credited, negated, by the credit note that credits everything left.

Quantities of draft credit notes count as credited (a draft reserves them; deleting it
frees them); cancelled credit notes do not count. The net amount still due counts the
issued credit notes only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from . import history
from .actions import next_credit_note_number
from .calculations import InvoiceTotals, calculate_invoice
from .lock import b2brouter_link, invoice_lock
from .models import (
    AdjustmentMode,
    ChangeAction,
    CorrectiveReason,
    Invoice,
    InvoiceAdjustment,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
)

ZERO = Decimal(0)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class CreditableLine:
    """A line of the original with the quantity already credited and the quantity left (both >= 0)."""

    line: InvoiceLine
    credited: Decimal
    remaining: Decimal


@dataclass
class CreditSummary:
    """The credit notes of an invoice and what they leave due (amounts >= 0 unless the invoice's are not)."""

    total: Decimal
    credited: Decimal
    reserved: Decimal
    notes: list[tuple[Invoice, InvoiceTotals, str]] = field(default_factory=list)

    @property
    def net_due(self) -> Decimal:
        """Return the original total minus its issued credit notes."""
        return self.total - self.credited

    @property
    def remaining(self) -> Decimal:
        """Return what may still be credited (draft credit notes reserve their amount)."""
        return self.total - self.reserved


def counted_credit_notes(invoice: Invoice) -> QuerySet[Invoice]:
    """Return the credit notes of ``invoice`` that count (every status but cancelled)."""
    return invoice.credit_notes.filter(kind=InvoiceKind.CREDIT_NOTE).exclude(status=InvoiceStatus.CANCELLED)


def creditable_lines(invoice: Invoice) -> list[CreditableLine]:
    """Return each line of ``invoice`` with what its credit notes credited and what is left."""
    sums = dict(InvoiceLine.objects.filter(credited_line__invoice=invoice, invoice__kind=InvoiceKind.CREDIT_NOTE)
                .exclude(invoice__status=InvoiceStatus.CANCELLED)
                .values_list("credited_line").annotate(total=Sum("quantity")).values_list("credited_line", "total"))
    result = []
    for line in invoice.lines.all():
        credited = abs(sums.get(line.pk) or ZERO)
        result.append(CreditableLine(line, credited, max(abs(line.quantity) - credited, ZERO)))
    return result


def credit_summary(invoice: Invoice) -> CreditSummary:
    """Return the credit notes of ``invoice`` (number, totals, B2Brouter state) and the amounts they leave."""
    total = calculate_invoice(invoice).total
    summary = CreditSummary(total=total, credited=ZERO, reserved=ZERO)
    notes = (invoice.credit_notes.filter(kind=InvoiceKind.CREDIT_NOTE)
             .prefetch_related("lines", "taxes", "adjustments").order_by("issue_date", "number"))
    for note in notes:
        totals = calculate_invoice(note)
        link = b2brouter_link(note)
        summary.notes.append((note, totals, str(link.state or link.status) if link is not None else ""))
        if note.status == InvoiceStatus.CANCELLED:
            continue
        summary.reserved += -totals.total
        if note.status != InvoiceStatus.DRAFT:
            summary.credited += -totals.total
    return summary


def credit_refusal(invoice: Invoice) -> str | None:
    """Return why no credit note can be made for ``invoice`` now, or None when one can."""
    if invoice.is_credit_note:
        return _("%(number)s is a credit note: it cannot be credited.") % {"number": invoice.number}
    if invoice.status == InvoiceStatus.CANCELLED:
        return _("%(number)s is cancelled: there is nothing to credit.") % {"number": invoice.number}
    if not invoice_lock(invoice).locked:
        return _("%(number)s is a draft: correct it by editing it (or delete it); credit notes correct issued "
                 "invoices.") % {"number": invoice.number}
    if not any(row.remaining > 0 for row in creditable_lines(invoice)):
        return _("Everything on %(number)s has already been credited.") % {"number": invoice.number}
    return None


def _copy_rows(original: Invoice, note: Invoice, quantities: dict[int, Decimal], closing: bool) -> None:
    position = 0
    for line in original.lines.all():
        quantity = quantities.get(line.pk, ZERO)
        if quantity <= 0:
            continue
        InvoiceLine.objects.create(
            invoice=note, position=position, description=line.description,
            quantity=quantity if line.quantity >= 0 else -quantity, unit=line.unit, unit_price=-line.unit_price,
            credited_line=line)
        position += 1
    for tax in original.taxes.all():
        if tax.kind == "percentage":
            copy = InvoiceTax.objects.get(pk=tax.pk)
        elif closing:
            copy = InvoiceTax.objects.get(pk=tax.pk)
            copy.amount = -(tax.amount or ZERO)
        else:
            continue
        copy.pk = None
        copy.invoice = note
        copy.save()
    for adjustment in original.adjustments.all():
        if adjustment.mode == AdjustmentMode.PERCENTAGE or closing:
            InvoiceAdjustment.objects.create(
                invoice=note, kind=adjustment.kind, mode=adjustment.mode, reason=adjustment.reason,
                value=adjustment.value if adjustment.mode == AdjustmentMode.PERCENTAGE else -adjustment.value)


def create_credit_note(*, original: Invoice, user: Any, reason_code: str, reason: str, issue_date: dt.date,
                       quantities: dict[int, Decimal]) -> Invoice:
    """Create a draft credit note of ``original`` crediting ``quantities`` (line id -> quantity >= 0).

    Raises ValidationError (with a code) when the invoice cannot be credited or a quantity
    or the total exceeds what is left to credit; nothing is saved then.
    """
    if reason_code not in CorrectiveReason.values:
        raise ValidationError(_("Choose the reason code."), code="reason_code")
    with transaction.atomic():
        # One credit note at a time per invoice: the row lock serialises concurrent ones.
        # (No select_related: PostgreSQL cannot lock the nullable side of an outer join.)
        original = Invoice.objects.select_for_update().get(pk=original.pk)
        refusal = credit_refusal(original)
        if refusal:
            raise ValidationError(refusal, code="not_creditable")
        rows = creditable_lines(original)
        known = {row.line.pk for row in rows}
        unknown = [pk for pk in quantities if pk not in known]
        if unknown:
            raise ValidationError(_("A line to credit is not a line of %(number)s.") % {"number": original.number},
                                  code="unknown_line")
        for row in rows:
            quantity = quantities.get(row.line.pk, ZERO)
            if quantity < 0:
                raise ValidationError(_("Enter quantities to credit as positive numbers."), code="negative_quantity")
            if quantity > row.remaining:
                raise ValidationError(
                    _("Line “%(line)s”: %(quantity)s cannot be credited, only %(remaining)s is left (%(credited)s "
                      "already credited).") % {"line": row.line.description, "quantity": _plain(quantity),
                                               "remaining": _plain(row.remaining), "credited": _plain(row.credited)},
                    code="exceeds_line")
        if not any(quantities.get(row.line.pk, ZERO) > 0 for row in rows):
            raise ValidationError(_("Choose at least one line and a quantity to credit."), code="nothing_to_credit")
        closing = all(quantities.get(row.line.pk, ZERO) == row.remaining for row in rows)
        before = credit_summary(original)
        if before.total <= 0:
            raise ValidationError(_("%(number)s has no positive total to credit.") % {"number": original.number},
                                  code="nothing_to_credit")
        note = Invoice.objects.create(
            company=original.company, kind=InvoiceKind.CREDIT_NOTE, number=next_credit_note_number(original.company),
            client=original.client, issue_date=issue_date, due_date=None, currency=original.currency,
            payment_method=original.payment_method, buyer_reference=original.buyer_reference,
            purchase_order=original.purchase_order, project_reference=original.project_reference,
            status=InvoiceStatus.DRAFT, corrected_invoice=original, amended_number=original.number,
            amended_date=original.issue_date, corrective_reason=reason_code, correction_reason=reason.strip())
        _copy_rows(original, note, quantities, closing)
        amount = -calculate_invoice(note).total
        if amount > before.remaining:
            raise ValidationError(
                _("This credit note (%(amount)s) exceeds what is left to credit on %(number)s (%(remaining)s).") % {
                    "amount": amount, "number": original.number, "remaining": before.remaining},
                code="exceeds_total")
        content = history.snapshot(note)
        history.record(note, ChangeAction.CREATED, user=user, changes={
            "corrects": {"number": original.number, "date": original.issue_date.isoformat()},
            "lines": {"removed": [], "added": content["lines"]}, "total": {"old": "", "new": content["total"]},
            "reason": f"{reason_code}: {reason.strip()}"})
        history.record(original, ChangeAction.CREDITED, user=user, changes={
            "credit_note": {"number": note.number, "total": content["total"]}})
    return note
