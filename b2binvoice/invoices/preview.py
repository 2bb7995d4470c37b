"""The running total of the invoice form: what the typed rows would add up to once saved.

It reads the form as posted (by htmx as the user types), keeps the rows whose numbers are
valid and leaves the others out with a hint, and computes with :func:`calculations.calculate`,
the code the saved invoice's totals come from. Taxes are those the save would keep: the
invoice's own copy of a tax still selected, the company's tax for one newly selected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from b2binvoice.companies.models import Company, Tax

from .calculations import AdjustmentInput, InvoiceTotals, LineInput, TaxInput, calculate
from .forms import InvoiceForm, adjustment_formset, check_absolute_adjustments, line_formset
from .models import Invoice


@dataclass
class Preview:
    """The totals of the rows that count, and a hint for each row left out."""

    totals: InvoiceTotals
    counted_lines: int
    hints: list[str] = field(default_factory=list)


def _first_error(error: ValidationError) -> str:
    return next(iter(error.messages), "")


def preview(*, company: Company, data: Any, invoice: Invoice | None) -> Preview:
    """Compute the running total of the posted invoice form (never raises on bad input)."""
    instance = invoice or Invoice(company=company)
    form = InvoiceForm(data, instance=instance, company=company)
    currency = data.get("currency") or ""
    if currency not in dict(form.fields["currency"].choices):
        currency = invoice.currency if invoice is not None else company.default_currency
    hints: list[str] = []
    lines = _lines(data, instance, hints)
    adjustments = _adjustments(data, instance, currency, hints)
    taxes = _taxes(form, data, invoice)
    return Preview(totals=calculate(lines, adjustments, taxes, currency), counted_lines=len(lines), hints=hints)


def _lines(data: Any, instance: Invoice, hints: list[str]) -> list[LineInput]:
    formset = line_formset(extra=0)(data, instance=instance, prefix="lines")
    counted = []
    for number, form in enumerate(formset.forms, start=1):
        raw = {name: form[name].data for name in ("description", "quantity", "unit_price")}
        if form["DELETE"].data or not any(str(v or "").strip() for v in raw.values()):
            continue  # removed, or an empty row
        try:
            quantity = form.fields["quantity"].clean(raw["quantity"])
            price = form.fields["unit_price"].clean(raw["unit_price"])
        except ValidationError as exc:
            hints.append(_("Line %(number)s is not counted yet: %(error)s") % {
                "number": number, "error": _first_error(exc)})
            continue
        counted.append(LineInput(quantity=quantity, unit_price=price))
    return counted


def _adjustments(data: Any, instance: Invoice, currency: str, hints: list[str]) -> list[AdjustmentInput]:
    formset = adjustment_formset(extra=0)(data, instance=instance, prefix="adjustments")
    typed = [(number, form) for number, form in enumerate(formset.forms, start=1)
             if not form["DELETE"].data and str(form["value"].data or "").strip()]
    for _number, form in typed:
        form.is_valid()
    check_absolute_adjustments(formset, currency)
    kept = []
    for number, form in typed:
        errors = [message for name in ("kind", "mode", "value") for message in form.errors.get(name, [])]
        if errors:
            hints.append(_("Discount or charge %(number)s is not counted yet: %(error)s") % {
                "number": number, "error": errors[0]})
            continue
        cleaned = form.cleaned_data
        kept.append(AdjustmentInput(kind=cleaned["kind"], mode=cleaned["mode"], value=cleaned["value"]))
    return kept


def _taxes(form: InvoiceForm, data: Any, invoice: Invoice | None) -> list[TaxInput]:
    try:
        selected: list[Tax] = list(form.fields["taxes"].clean(data.getlist("taxes")))
    except ValidationError:
        selected = []
    copies = {copy.tax_id: copy for copy in invoice.taxes.all()} if invoice is not None else {}
    rows: list[Any] = [copies.get(tax.pk, tax) for tax in selected]
    if invoice is not None:
        # The copy of a tax since deleted stays on the invoice when saved (actions.sync_taxes).
        rows += [copy for copy in invoice.taxes.all() if copy.tax_id is None]
    return [TaxInput(name=row.name, kind=row.kind, rate=row.rate, amount=row.amount, category=row.category)
            for row in rows]
