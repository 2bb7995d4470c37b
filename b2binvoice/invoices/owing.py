"""What is still owed on an invoice, and which invoices are overdue: one rule for the home page and the list.

An invoice is *owed* while it is issued (not a credit note) and its total, less what its issued
credit notes credit, less the payments recorded, is above zero; it is *overdue* when it is owed
and its due date has passed. :func:`amount_due` applies the rule in Python to a loaded invoice;
:func:`amount_due_sql` and :func:`totals_ctes` in SQL, where the home page sums it for every
invoice (``b2binvoice.home.owed``); :func:`overdue` filters a list (the invoice list's overdue
filter, the home page's overdue invoices) with the Python rule.

Nothing stores an invoice's total, so the SQL computes it with the arithmetic of
``invoices.calculations`` (each line rounded half up to the currency's minor unit, percentage
discounts and charges rounded on the subtotal, percentage taxes rounded on the tax-exclusive base).
PostgreSQL computes in exact decimals and ``round`` rounds half away from zero, as
``ROUND_HALF_UP`` does. SQLite stores decimals as floating point: a value on a half-cent boundary
is nudged by 1e-9 away from zero before rounding so that, e.g., 2.675 (stored as 2.67499...) still
rounds to 2.68.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from django.db import connection
from django.db.models import Case, IntegerField, QuerySet, Value, When

from b2binvoice.core.money import currency_codes, minor_units, round_money

from .calculations import InvoiceTotals, calculate_invoice
from .models import Invoice, InvoiceAdjustment, InvoiceKind, InvoiceLine, InvoiceStatus, InvoiceTax, Payment

ZERO = Decimal(0)

#: The statuses in which a credit note counts against the invoice it corrects (as credit_notes.credit_summary).
CREDITING = (InvoiceStatus.ISSUED, InvoiceStatus.PAID)


def amount_due(invoice: Invoice, totals: InvoiceTotals) -> Decimal:
    """Return what the client still owes on an issued ``invoice``, as ``invoices.payments.balance`` does.

    The total, less what its issued credit notes credit, less the payments recorded, never below
    zero; nothing on a credit note or an invoice that is not issued. Reads ``payments`` and
    ``credit_notes`` (with their lines, taxes and adjustments) through ``.all()``: prefetch them.
    """
    if invoice.status != InvoiceStatus.ISSUED or invoice.is_credit_note:
        return ZERO
    credited = sum((-calculate_invoice(note).total for note in invoice.credit_notes.all()
                    if note.status in CREDITING), ZERO)
    paid = round_money(sum((p.amount for p in invoice.payments.all()), ZERO), totals.currency)
    return max(totals.total - credited - paid, ZERO)


def amount_due_sql(totals: str, invoice: str) -> str:
    """Return the SQL of what is still owed on an invoice: the same rule as :func:`amount_due`.

    ``<totals>.total`` is the invoice's total, ``<invoice>`` its scope row, and the query's
    ``credits`` and ``paid`` rows (joined as ``c`` and ``p``) what its credit notes and payments take off.
    """
    due = f"{totals}.total - COALESCE(c.credited, 0) - COALESCE(p.paid, 0)"
    return (f"CASE WHEN {invoice}.kind = '{InvoiceKind.CREDIT_NOTE.value}' THEN 0 "
            f"WHEN {due} > 0 THEN {due} ELSE 0 END")


@lru_cache(maxsize=1)
def _minor_groups() -> dict[int, tuple[str, ...]]:
    groups: dict[int, list[str]] = {}
    for code in currency_codes():
        groups.setdefault(minor_units(code), []).append(code)
    return {units: tuple(codes) for units, codes in groups.items() if units != 2}


def minor_case() -> Case:
    """Return the SQL CASE giving an invoice's currency's minor units (2 unless the currency says otherwise)."""
    whens = [When(currency__in=codes, then=Value(units)) for units, codes in sorted(_minor_groups().items())]
    return Case(*whens, default=Value(2), output_field=IntegerField())


def _round(expression: str) -> str:
    """Return SQL rounding ``expression`` half away from zero to the invoice's minor units (``s.minor``)."""
    if connection.vendor == "sqlite":
        return f"ROUND(({expression}) + (CASE WHEN ({expression}) < 0 THEN -1e-9 ELSE 1e-9 END), s.minor)"
    return f"ROUND(({expression}), s.minor)"


def totals_ctes() -> str:
    """Return the common table expressions ``subtotals, bases, totals, credits, paid`` over ``scope``.

    ``scope`` (defined before them) has the columns ``id, minor, kind, status, corrected_id`` at least:
    the invoices to total, and the credit notes that count against them. ``totals`` gives each
    one's total, ``credits`` what the crediting notes take off an invoice, ``paid`` its payments.
    Only table names from the models and fixed SQL are interpolated.
    """
    lines, adjustments, taxes, payments = (InvoiceLine._meta.db_table, InvoiceAdjustment._meta.db_table,
                                           InvoiceTax._meta.db_table, Payment._meta.db_table)
    credit_note, crediting = InvoiceKind.CREDIT_NOTE.value, ", ".join(f"'{status.value}'" for status in CREDITING)
    return f"""
subtotals AS (
  SELECT s.id, COALESCE(SUM({_round("l.quantity * l.unit_price")}), 0) AS subtotal
  FROM scope s LEFT JOIN {lines} l ON l.invoice_id = s.id GROUP BY s.id),
bases AS (
  SELECT t.id, t.subtotal + COALESCE(SUM(
    CASE WHEN a.kind = 'discount' THEN -1 ELSE 1 END *
    CASE WHEN a.mode = 'percentage' THEN {_round("t.subtotal * a.value / 100.0")} ELSE {_round("a.value")} END
  ), 0) AS base
  FROM subtotals t JOIN scope s ON s.id = t.id LEFT JOIN {adjustments} a ON a.invoice_id = t.id
  GROUP BY t.id, t.subtotal, s.minor),
totals AS (
  SELECT b.id, b.base + COALESCE(SUM(
    CASE WHEN x.kind = 'absolute' THEN {_round("COALESCE(x.amount, 0)")}
         ELSE {_round("b.base * COALESCE(x.rate, 0) / 100.0")} END
  ), 0) AS total
  FROM bases b JOIN scope s ON s.id = b.id LEFT JOIN {taxes} x ON x.invoice_id = b.id
  GROUP BY b.id, b.base, s.minor),
credits AS (
  SELECT s.corrected_id AS id, -SUM(t.total) AS credited FROM scope s JOIN totals t ON t.id = s.id
  WHERE s.kind = '{credit_note}' AND s.status IN ({crediting}) GROUP BY s.corrected_id),
paid AS (
  SELECT s.id, {_round("SUM(y.amount)")} AS paid FROM scope s JOIN {payments} y ON y.invoice_id = s.id
  GROUP BY s.id, s.minor)"""


def _crediting_notes() -> QuerySet[Invoice]:
    return Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, status__in=CREDITING)


def overdue(invoices: QuerySet[Invoice], today: dt.date) -> QuerySet[Invoice]:
    """Return the overdue ones of ``invoices``: issued, due before ``today``, and something still owed.

    The index on (company, status, due date) finds the issued invoices past their due date. Only
    those with a payment or a crediting credit note can owe less than their total: they are read
    here (one query, and a fixed number more to load their amounts when there are any) and the
    ones :func:`amount_due` finds covered are left out of the queryset returned.
    """
    late = invoices.filter(status=InvoiceStatus.ISSUED, due_date__lt=today).exclude(kind=InvoiceKind.CREDIT_NOTE)
    # Start from the payments and crediting notes (few) rather than from every late invoice (many).
    paid_ids = set(Payment.objects.filter(invoice__in=late).values_list("invoice_id", flat=True))
    credited_ids = set(_crediting_notes().filter(corrected_invoice__in=late)
                       .values_list("corrected_invoice_id", flat=True))
    ids = paid_ids | credited_ids
    if not ids:
        return late
    candidates = (Invoice.objects.filter(pk__in=ids).order_by()
                  .prefetch_related("lines", "taxes", "adjustments", "payments", "credit_notes__lines",
                                    "credit_notes__taxes", "credit_notes__adjustments"))
    covered = [invoice.pk for invoice in candidates if amount_due(invoice, calculate_invoice(invoice)) <= 0]
    return late.exclude(pk__in=covered) if covered else late
