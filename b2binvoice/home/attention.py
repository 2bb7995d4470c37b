"""The invoices that need attention: overdue, blocked or failed in B2Brouter. A fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Exists, OuterRef

from b2binvoice.invoices.calculations import calculate_invoice
from b2binvoice.invoices.models import Invoice, InvoiceStatus
from b2binvoice.invoices.owing import overdue as overdue_invoices

from .owed import amount_due

#: How many invoices each list shows; the rest are one link away (the invoice list's filter).
SHOWN = 8
#: B2Brouter states in which an invoice needs someone to look at it.
FAILED_STATES = ("error", "refused")


@dataclass
class Row:
    """One invoice of an attention list, with what is wrong."""

    invoice: Invoice
    amount: Decimal | None = None
    currency: str = ""
    days: int = 0
    problem: str = ""
    state: str = ""


@dataclass
class Section:
    rows: list[Row]
    more: bool


def overdue(company: Any, today: dt.date) -> Section:
    """Return the issued invoices whose due date has passed, oldest due first, with what is still owed."""
    found = list(overdue_invoices(Invoice.objects.filter(company=company), today)
                 .select_related("client").prefetch_related(
                     "lines", "taxes", "adjustments", "payments", "credit_notes__lines", "credit_notes__taxes",
                     "credit_notes__adjustments")
                 .order_by("due_date", "pk")[:SHOWN + 1])
    rows = []
    for invoice in found[:SHOWN]:
        totals = calculate_invoice(invoice)
        rows.append(Row(invoice, amount_due(invoice, totals), totals.currency, (today - invoice.due_date).days))
    return Section(rows, len(found) > SHOWN)


def b2brouter_problems(company: Any) -> tuple[Section, Section]:
    """Return the invoices a push left unlinked (blocked by the checklist, or failed) and those B2Brouter refused.

    An unlinked invoice is listed while the last thing that happened to it in B2Brouter's history
    is the blocked or failed create; a linked one while its B2Brouter state is error or refused.
    """
    if not apps.is_installed("b2binvoice.einvoicing"):
        return Section([], False), Section([], False)
    from b2binvoice.einvoicing.models import EventType, InvoiceEvent, InvoiceLink, LinkStatus  # noqa: PLC0415

    later = InvoiceEvent.objects.filter(invoice=OuterRef("invoice"), pk__gt=OuterRef("pk"))
    events = list(
        InvoiceEvent.objects.filter(invoice__company=company, invoice__b2brouter_link__isnull=True,
                                    type__in=[EventType.CREATE_BLOCKED, EventType.CREATE_FAILED,
                                              EventType.CREATE_NOT_APPLIED])
        .exclude(invoice__status=InvoiceStatus.CANCELLED)
        .filter(~Exists(later)).select_related("invoice__client").order_by("-pk")[:SHOWN + 1])
    blocked = Section([Row(event.invoice, problem=event.message or event.remote_message,
                           state="blocked" if event.type == EventType.CREATE_BLOCKED else "failed")
                       for event in events[:SHOWN]], len(events) > SHOWN)
    links = list(InvoiceLink.objects.filter(invoice__company=company, status=LinkStatus.LINKED, state__in=FAILED_STATES)
                 .select_related("invoice__client").order_by("-state_updated_at", "-pk")[:SHOWN + 1])
    failed = Section([Row(link.invoice, state=link.state, problem=link.refuse_reason or _errors(link.errors))
                      for link in links[:SHOWN]], len(links) > SHOWN)
    return blocked, failed


def _errors(errors: Any) -> str:
    if not isinstance(errors, list):
        return ""
    return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors[:3])
