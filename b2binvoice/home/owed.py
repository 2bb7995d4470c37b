"""What is owed: issued, due and overdue amounts per currency, and the last 12 months, computed in the database.

Nothing stores an invoice's total, so one query computes every invoice's total with the arithmetic of
``invoices.calculations`` written in SQL (each line rounded half up to the currency's minor unit,
percentage discounts and charges rounded on the subtotal, percentage taxes rounded on the
tax-exclusive base) and sums them per currency, status and month. The number of queries does not
grow with the number of invoices. ``tests/app/test_home.py`` checks the SQL against the Python
arithmetic.

PostgreSQL computes in exact decimals and ``round`` rounds half away from zero, as ``ROUND_HALF_UP``
does. SQLite stores decimals as floating point: a value on a half-cent boundary is nudged by 1e-9
away from zero before rounding so that, e.g., 2.675 (stored as 2.67499...) still rounds to 2.68.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from b2binvoice.core.money import currency_codes, minor_units, round_money
from b2binvoice.invoices.calculations import InvoiceTotals, calculate_invoice
from b2binvoice.invoices.models import (
    Invoice,
    InvoiceAdjustment,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
    Payment,
)

ZERO = Decimal(0)
MONTHS = 12


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


def _minor_case() -> Case:
    """Return the SQL CASE giving an invoice's currency's minor units (2 unless the currency says otherwise)."""
    whens = [When(currency__in=codes, then=Value(units)) for units, codes in sorted(_minor_groups().items())]
    return Case(*whens, default=Value(2), output_field=IntegerField())


def _round(expression: str) -> str:
    """Return SQL rounding ``expression`` half away from zero to the invoice's minor units (``s.minor``)."""
    if connection.vendor == "sqlite":
        return f"ROUND(({expression}) + (CASE WHEN ({expression}) < 0 THEN -1e-9 ELSE 1e-9 END), s.minor)"
    return f"ROUND(({expression}), s.minor)"


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass
class CurrencySummary:
    """The amounts of one currency: issued this year, still due, overdue (due date passed)."""

    currency: str
    issued: Decimal = ZERO
    issued_count: int = 0
    due: Decimal = ZERO
    due_count: int = 0
    overdue: Decimal = ZERO
    overdue_count: int = 0


@dataclass
class Owed:
    """The home page's figures: a summary per currency and the invoiced amount per month and currency."""

    today: dt.date
    months: list[dt.date]
    currencies: list[CurrencySummary] = field(default_factory=list)
    monthly: dict[str, list[Decimal]] = field(default_factory=dict)


def owed(company: Any, *, today: dt.date | None = None) -> Owed:
    """Compute the company's issued, due and overdue amounts and monthly invoiced amounts in one query."""
    today = today or timezone.localdate()
    months = [_month_start(today, back) for back in range(MONTHS - 1, -1, -1)]
    year_start = dt.date(today.year, 1, 1)
    window = min(year_start, months[0])
    issued = [InvoiceStatus.ISSUED, InvoiceStatus.PAID]
    scope = (
        Invoice.objects.filter(company=company)
        # What is due, what was issued in the window, and the credit notes of what is due (they reduce it).
        .filter(Q(status=InvoiceStatus.ISSUED) | Q(status__in=issued, issue_date__gte=window)
                | Q(kind=InvoiceKind.CREDIT_NOTE, status__in=CREDITING, corrected_invoice__status=InvoiceStatus.ISSUED))
        .annotate(minor=_minor_case(), month=TruncMonth("issue_date"),
                  late=Case(When(status=InvoiceStatus.ISSUED, due_date__lt=today, then=Value(1)), default=Value(0),
                            output_field=IntegerField()))
        .order_by()
        .values_list("id", "currency", "status", "month", "minor", "late", "kind", "corrected_invoice_id")
    )
    scope_sql, params = scope.query.sql_with_params()
    lines, adjustments, taxes, payments = (InvoiceLine._meta.db_table, InvoiceAdjustment._meta.db_table,
                                           InvoiceTax._meta.db_table, Payment._meta.db_table)
    credit_note, crediting = InvoiceKind.CREDIT_NOTE.value, ", ".join(f"'{status.value}'" for status in CREDITING)
    # Only table names from the models and fixed SQL are interpolated; every value is a bound parameter.
    sql = f"""
WITH scope (id, currency, status, month, minor, late, kind, corrected_id) AS ({scope_sql}),
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
  GROUP BY s.id, s.minor)
SELECT s.currency, s.status, s.month, s.late, s.kind, SUM(t.total), SUM({amount_due_sql("t", "s")}), COUNT(*),
       SUM(CASE WHEN {amount_due_sql("t", "s")} > 0 THEN 1 ELSE 0 END)
FROM scope s JOIN totals t ON t.id = s.id LEFT JOIN credits c ON c.id = s.id LEFT JOIN paid p ON p.id = s.id
GROUP BY s.currency, s.status, s.month, s.late, s.kind
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _summarise(rows, today=today, months=months, year_start=year_start)


def _decimal(value: Any, currency: str) -> Decimal:
    return round_money(Decimal(str(value or 0)), currency)


def _month(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    return dt.date.fromisoformat(str(value)[:10]).replace(day=1)


def _summarise(rows: list[tuple[Any, ...]], *, today: dt.date, months: list[dt.date], year_start: dt.date) -> Owed:
    result = Owed(today=today, months=months)
    summaries: dict[str, CurrencySummary] = {}
    position = {month: i for i, month in enumerate(months)}
    for currency, status, month_value, late, kind, total_value, due_value, count, owing in rows:
        summary = summaries.setdefault(currency, CurrencySummary(currency))
        total, due, month = _decimal(total_value, currency), _decimal(due_value, currency), _month(month_value)
        if month is not None and month.year == year_start.year:  # issued this year (not a later one)
            summary.issued += total
            summary.issued_count += count
        if month in position:
            result.monthly.setdefault(currency, [ZERO] * len(months))[position[month]] += total
        if status == InvoiceStatus.ISSUED and kind != InvoiceKind.CREDIT_NOTE:  # a credit note is not owed
            # An invoice its credit notes and payments cover is not counted as due (nor overdue).
            summary.due += due
            summary.due_count += int(owing or 0)
            if late:
                summary.overdue += due
                summary.overdue_count += int(owing or 0)
    result.currencies = sorted(summaries.values(), key=lambda s: (-s.issued_count - s.due_count, s.currency))
    return result
