"""The history of an invoice: snapshots of its content, their differences, and the entries shown on its page."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from b2binvoice.companies.models import PaymentMethodType
from b2binvoice.core import texts
from b2binvoice.core.localformats import format_money, local_date

from .calculations import calculate_invoice
from .models import AdjustmentKind, ChangeAction, Invoice, InvoiceChange, InvoiceStatus

SNAPSHOT_FIELDS = ("number", "client", "issue_date", "due_date", "currency", "payment_method", "status",
                   "buyer_reference", "purchase_order", "project_reference", "note", "corrective_reason",
                   "correction_reason")
ROW_GROUPS = ("lines", "taxes", "adjustments")
DATE_FIELDS = frozenset({"issue_date", "due_date"})


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


def _field_value(invoice: Invoice, name: str) -> str:
    value = getattr(invoice, name)
    if name == "client":
        return f"{value.name} ({value.tin})" if value.tin else value.name
    if name == "payment_method":
        return value.name if value is not None else ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else str(value)


def snapshot(invoice: Invoice) -> dict[str, Any]:
    """Return the invoice's content as plain text values, read from the database."""
    fresh = (Invoice.objects.select_related("client", "payment_method")
             .prefetch_related("lines", "taxes", "adjustments").get(pk=invoice.pk))
    lines = [f"{line.description} · {_plain(line.quantity)}{' ' + line.unit if line.unit else ''} × "
             f"{_plain(line.unit_price)}" for line in fresh.lines.all()]
    taxes = [f"{tax.name} ({_plain(tax.rate)} %)" if tax.kind == "percentage" else f"{tax.name} ({_plain(tax.amount)})"
             for tax in fresh.taxes.all()]
    # The kind is kept as a label, shown in the reader's language ("Discount 10 %" / "Descuento 10 %").
    adjustments = [texts.concat(texts.label(AdjustmentKind(a.kind).label),
                                f" {_plain(a.value)}{' %' if a.mode == 'percentage' else ''}"
                                f"{' · ' + a.reason if a.reason else ''}", separator="")
                   for a in fresh.adjustments.all()]
    return {
        "fields": {name: _field_value(fresh, name) for name in SNAPSHOT_FIELDS},
        "lines": lines, "taxes": taxes, "adjustments": adjustments,
        "total": str(calculate_invoice(fresh).total),  # with the currency's decimals (84.70)
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return what changed between two snapshots (empty when nothing did)."""
    changes: dict[str, Any] = {}
    fields = [{"field": name, "old": before["fields"].get(name, ""), "new": after["fields"].get(name, "")}
              for name in SNAPSHOT_FIELDS if before["fields"].get(name, "") != after["fields"].get(name, "")]
    if fields:
        changes["fields"] = fields
    for group in ROW_GROUPS:
        old, new = Counter(before[group]), Counter(after[group])
        removed, added = list((old - new).elements()), list((new - old).elements())
        if removed or added:
            changes[group] = {"removed": removed, "added": added}
    if before["total"] != after["total"]:
        changes["total"] = {"old": before["total"], "new": after["total"]}
    return changes


def changed_fields(changes: dict[str, Any]) -> set[str]:
    """Return the names of the fields and row groups a diff touches."""
    return {entry["field"] for entry in changes.get("fields", [])} | {g for g in ROW_GROUPS if g in changes}


def _stored(value: Any) -> Any:
    """Return ``value`` for the JSON column: texts (labels, reasons) kept untranslated (see core/texts.py)."""
    if isinstance(value, texts.Text):
        return texts.dump(value)
    if isinstance(value, dict):
        return {key: _stored(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stored(item) for item in value]
    return value


def record(invoice: Invoice, action: str, *, user: Any = None, changes: dict[str, Any] | None = None,
           via: str = "") -> InvoiceChange:
    """Append an entry to the invoice's history."""
    return InvoiceChange.objects.create(
        company_id=invoice.company_id, invoice=invoice if invoice.pk else None, number=invoice.number,
        user=user if getattr(user, "is_authenticated", False) else None, via=via, action=action,
        changes=_stored(changes or {}))


def record_status_change(invoice: Invoice, *, old: str, new: str, user: Any = None, via: str = "") -> InvoiceChange:
    """Record a status change made outside the invoice page (e.g. a send through B2Brouter)."""
    return record(invoice, ChangeAction.STATUS, user=user, via=via,
                  changes={"fields": [{"field": "status", "old": old, "new": new}]})


def _label(name: str) -> str:
    labels = {"lines": _("Lines"), "taxes": _("Taxes"), "adjustments": _("Discounts and charges")}
    if name in labels:
        return labels[name]
    try:
        return str(Invoice._meta.get_field(name).verbose_name).capitalize()
    except Exception:  # noqa: BLE001 (a field of an older version of the model)
        return name


def _date(value: Any) -> Any:
    """Return an ISO date as the reader's language writes it (anything else as it is)."""
    try:
        return local_date(dt.date.fromisoformat(value)) if isinstance(value, str) and value else value
    except ValueError:
        return value


def _amount(value: Any, currency: Any) -> Any:
    """Return an amount as the reader's language writes it (21,00 in Spanish), anything unreadable as it is."""
    try:
        return format_money(Decimal(str(value)), str(currency or "EUR"))
    except Exception:  # noqa: BLE001 (an entry written by an older version: shown as stored)
        return value


def describe(entry: InvoiceChange) -> list[str]:
    """Return the entry's changes as lines of plain text (escaped when shown), in the reader's language."""
    changes = entry.changes or {}
    text = []
    statuses = dict(InvoiceStatus.choices)
    for field in changes.get("fields", []):
        old, new = field["old"], field["new"]
        if field["field"] == "status":
            old, new = statuses.get(old, old), statuses.get(new, new)
        elif field["field"] in DATE_FIELDS:
            old, new = _date(old), _date(new)
        text.append(_("%(field)s: %(old)s → %(new)s") % {
            "field": _label(field["field"]), "old": old or "—", "new": new or "—"})
    for group in ROW_GROUPS:
        rows = changes.get(group)
        if not rows:
            continue
        for row in rows.get("removed", []):
            text.append(_("%(group)s: removed %(row)s") % {"group": _label(group), "row": texts.load(row)})
        for row in rows.get("added", []):
            text.append(_("%(group)s: added %(row)s") % {"group": _label(group), "row": texts.load(row)})
    if "total" in changes:
        text.append(_("Total: %(old)s → %(new)s") % changes["total"])
    if changes.get("attempted"):
        text.append(_("Fields in the refused request: %(fields)s") % {
            "fields": ", ".join(_label(name) for name in changes["attempted"])})
    if changes.get("credit_note"):
        text.append(_("Credit note %(number)s for %(total)s") % changes["credit_note"])
    if changes.get("duplicated_from"):
        text.append(_("Duplicate of invoice %(number)s") % {"number": changes["duplicated_from"]})
    if changes.get("corrects"):
        corrects = changes["corrects"]
        text.append(_("Corrects invoice %(number)s of %(date)s") % {**corrects, "date": _date(corrects.get("date"))})
    if changes.get("payment"):
        payment = changes["payment"]
        method = str(dict(PaymentMethodType.choices).get(payment.get("method"), payment.get("method") or ""))
        text.append(_("%(amount)s %(currency)s on %(date)s") % {
            **payment, "amount": _amount(payment.get("amount"), payment.get("currency")),
            "date": _date(payment.get("date"))} + (f" · {method}" if method else ""))
    if changes.get("reason"):
        text.append(str(texts.load(changes["reason"])))
    return text


def history_rows(invoice: Invoice) -> list[tuple[InvoiceChange, list[str]]]:
    """Return the invoice's history, newest first, each entry with its description."""
    return [(entry, describe(entry)) for entry in invoice.changes.select_related("user").all()]
