"""Functions that change invoices: numbering and saving an edited invoice with its lines and taxes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from b2binvoice.companies.models import Company, Tax

from . import history
from .models import (
    ChangeAction,
    Invoice,
    InvoiceAdjustment,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
)

# A company that typed many numbers by hand ahead of its sequence could make allocation
# skip a long run; beyond this the sequence is clearly misconfigured.
MAX_SKIPPED_NUMBERS = 10_000


def next_invoice_number(company: Company) -> str:
    """Allocate the next number of ``company``'s sequence not already used by an invoice (in a transaction)."""
    for _attempt in range(MAX_SKIPPED_NUMBERS):
        number = company.allocate_invoice_number()
        if not Invoice.objects.filter(company=company, number=number).exists():
            return number
    raise RuntimeError(f"{company}: {MAX_SKIPPED_NUMBERS} invoice numbers in a row are taken; fix the sequence")


def sync_taxes(invoice: Invoice, selected: Iterable[Tax]) -> None:
    """Make ``invoice``'s tax copies match ``selected``, keeping copies of taxes still selected as they were."""
    wanted = {tax.pk: tax for tax in selected}
    kept: set[int] = set()
    for copy in list(invoice.taxes.all()):
        if copy.tax_id is None:
            continue  # its company tax was deleted; the copy is all that is left of it
        if copy.tax_id in wanted and copy.tax_id not in kept:
            kept.add(copy.tax_id)
        else:
            copy.delete()
    for pk, tax in wanted.items():
        if pk not in kept:
            InvoiceTax.copy_of(tax, invoice).save()


def _save_rows(formset: Any, invoice: Invoice, *, ordered: bool) -> None:
    position = 0
    for form in formset.forms:
        if not form.has_changed() and form.instance.pk is None:
            continue  # an empty extra row
        if formset.can_delete and formset._should_delete_form(form):
            if form.instance.pk is not None:
                form.instance.delete()
            continue
        row = form.instance
        row.invoice = invoice
        if ordered:
            row.position = position
            position += 1
        row.save()


def next_credit_note_number(company: Company) -> str:
    """Allocate the next number of ``company``'s credit note series not already used (in a transaction)."""
    for _attempt in range(MAX_SKIPPED_NUMBERS):
        number = company.allocate_credit_note_number()
        if not Invoice.objects.filter(company=company, number=number).exists():
            return number
    raise RuntimeError(f"{company}: {MAX_SKIPPED_NUMBERS} credit note numbers in a row are taken; fix the sequence")


def save_invoice(*, company: Company, form: Any, lines: Any, adjustments: Any, user: Any = None) -> Invoice:
    """Save a validated invoice form with its line and adjustment formsets, numbering a new invoice.

    The change is recorded in the invoice's history (creation, or the fields and rows that changed).
    """
    with transaction.atomic():
        invoice: Invoice = form.save(commit=False)
        creating = invoice.pk is None
        before = None if creating else history.snapshot(invoice)
        invoice.company = company
        if not invoice.number:
            invoice.number = next_invoice_number(company)
        invoice.save()
        _save_rows(lines, invoice, ordered=True)
        _save_rows(adjustments, invoice, ordered=False)
        sync_taxes(invoice, form.cleaned_data.get("taxes") or [])
        _record_save(invoice, before, user)
    return invoice


def save_header(*, form: Any, user: Any = None) -> Invoice:
    """Save a form of some header fields only (a locked invoice or a draft credit note), recording the change."""
    with transaction.atomic():
        invoice: Invoice = form.save(commit=False)
        before = history.snapshot(invoice)
        invoice.save()
        _record_save(invoice, before, user)
    return invoice


def _record_save(invoice: Invoice, before: dict[str, Any] | None, user: Any, *, duplicated_from: str = "") -> None:
    after = history.snapshot(invoice)
    if before is None:
        changes = {
            "fields": [{"field": name, "old": "", "new": after["fields"][name]}
                       for name in ("number", "client", "issue_date", "currency", "status") if after["fields"][name]],
            "lines": {"removed": [], "added": after["lines"]}, "total": {"old": "", "new": after["total"]}}
        if duplicated_from:
            changes["duplicated_from"] = duplicated_from
        history.record(invoice, ChangeAction.CREATED, user=user, changes=changes)
        return
    changes = history.diff(before, after)
    if not changes:
        return
    only_status = history.changed_fields(changes) == {"status"}
    history.record(invoice, ChangeAction.STATUS if only_status else ChangeAction.EDITED, user=user, changes=changes)


def delete_draft(invoice: Invoice, *, user: Any = None) -> None:
    """Delete a draft (the caller checked :func:`lock.deletion_refusal`); its history keeps the deletion."""
    with transaction.atomic():
        content = history.snapshot(invoice)
        history.record(invoice, ChangeAction.DELETED, user=user, changes={
            "fields": [{"field": "number", "old": content["fields"]["number"], "new": ""}],
            "total": {"old": content["total"], "new": ""}})
        invoice.delete()


#: The header fields a duplicate takes from its original; everything else starts afresh.
DUPLICATED_FIELDS = ("client", "currency", "payment_method", "note", "buyer_reference", "purchase_order",
                     "project_reference")


def duplicate_invoice(original: Invoice, *, issue_date: Any, user: Any = None) -> Invoice:
    """Create a draft copy of ``original`` dated ``issue_date``, with the next number of the sequence.

    The copy has the original's client, lines, taxes, discounts and charges, references and note,
    and the same payment term; never its B2Brouter link, lock, payments or credit-note fields (a
    copy is always an invoice, even of a credit note it would be wrong to re-issue as such). A tax
    whose company tax still exists is copied from it as it is now, as adding it again would.
    """
    with transaction.atomic():
        company = original.company
        copy = Invoice(company=company, kind=InvoiceKind.INVOICE, status=InvoiceStatus.DRAFT, issue_date=issue_date,
                       **{name: getattr(original, name) for name in DUPLICATED_FIELDS})
        if original.due_date:
            copy.due_date = issue_date + (original.due_date - original.issue_date)
        copy.number = next_invoice_number(company)
        copy.save()
        for position, line in enumerate(original.lines.all()):
            InvoiceLine.objects.create(invoice=copy, position=position, description=line.description,
                                       quantity=line.quantity, unit=line.unit, unit_price=line.unit_price)
        for adjustment in original.adjustments.all():
            InvoiceAdjustment.objects.create(invoice=copy, kind=adjustment.kind, mode=adjustment.mode,
                                             value=adjustment.value, reason=adjustment.reason)
        for tax_copy in original.taxes.select_related("tax"):
            if tax_copy.tax is not None:
                InvoiceTax.copy_of(tax_copy.tax, copy).save()
            else:
                InvoiceTax.objects.create(
                    invoice=copy, name=tax_copy.name, tax_type=tax_copy.tax_type, kind=tax_copy.kind,
                    rate=tax_copy.rate, amount=tax_copy.amount, category=tax_copy.category,
                    exemption_reason=tax_copy.exemption_reason, exemption_code=tax_copy.exemption_code)
        _record_save(copy, None, user, duplicated_from=original.number)
    return copy
