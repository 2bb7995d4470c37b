"""What is owed: issued, due and overdue amounts per currency, and the last 12 months, computed in the database.

Nothing stores an invoice's total, so one query computes every invoice's total in SQL and sums them
per currency, status and month, with what is still owed by the rule of ``invoices.owing`` (which
the invoice list's overdue filter applies too). The number of queries does not grow with the number
of invoices. ``tests/app/test_home.py`` checks the SQL against the Python arithmetic.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from b2binvoice.core.money import round_money
from b2binvoice.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from b2binvoice.invoices.owing import CREDITING, amount_due, amount_due_sql, minor_case, totals_ctes

__all__ = ["CREDITING", "Owed", "CurrencySummary", "amount_due", "owed"]

ZERO = Decimal(0)
MONTHS = 12


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
        .annotate(minor=minor_case(), month=TruncMonth("issue_date"),
                  late=Case(When(status=InvoiceStatus.ISSUED, due_date__lt=today, then=Value(1)), default=Value(0),
                            output_field=IntegerField()))
        .order_by()
        .values_list("id", "currency", "status", "month", "minor", "late", "kind", "corrected_invoice_id")
    )
    scope_sql, params = scope.query.sql_with_params()
    # The invoices' totals and what credit notes and payments take off them: the rule of invoices.owing.
    sql = f"""
WITH scope (id, currency, status, month, minor, late, kind, corrected_id) AS ({scope_sql}),{totals_ctes()}
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
