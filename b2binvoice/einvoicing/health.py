"""What the health panel on the integration page shows: is the integration keeping up, and what needs a look.

Everything here is read from the database (no request to B2Brouter): the last notification received,
the last sync pass and its result, the invoices whose send is unconfirmed, failed or stuck, the errors
of the last day and the account's transaction quota as B2Brouter last reported it (read again after
every send and at the end of every sync pass).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from . import attempts
from .models import B2BrouterIntegration, EventType, InvoiceEvent, InvoiceLink, LinkStatus, Outcome, SyncPass

#: How many invoices each list of the panel shows (the count is always complete).
SHOWN = 10
#: States an invoice passes through; staying in one longer than ``stuck_after()`` is worth a look.
TRANSIENT_STATES = ("sending",)


#: A failed action, and the events that say the same action on the same invoice succeeded later. A failure
#: followed by one of them (a 429 that the bulk push's back-off retried, a send tried again by hand) was
#: overcome and is not counted among the errors of the last day; it stays in the invoice's history.
OVERCOME_BY = {
    EventType.CREATE_FAILED: (EventType.CREATED, EventType.RECONCILED),
    EventType.RECONCILE_FAILED: (EventType.RECONCILED,),
    EventType.SEND_FAILED: (EventType.SENT,),
    EventType.REFRESH_FAILED: (EventType.REFRESHED, EventType.SYNCED),
    EventType.DELETE_FAILED: (EventType.DELETED_REMOTE,),
    EventType.MARK_PAID_FAILED: (EventType.MARKED_PAID,),
    EventType.PDF_ATTACH_FAILED: (EventType.PDF_ATTACHED,),
}


def _not_overcome(failures: QuerySet[InvoiceEvent]) -> QuerySet[InvoiceEvent]:
    """Leave out the failures that a later success of the same action on the same invoice overcame."""
    overcome = Q()
    for failed, succeeded in OVERCOME_BY.items():
        later = InvoiceEvent.objects.filter(invoice_id=OuterRef("invoice_id"), pk__gt=OuterRef("pk"),
                                            type__in=succeeded).exclude(outcome=Outcome.FAILURE)
        overcome |= Q(type=failed) & Q(Exists(later))
    return failures.exclude(overcome)


def stuck_after() -> dt.timedelta:
    """Return after how long an invoice in a transient state counts as stuck (``B2BROUTER_STUCK_AFTER`` s, 1 h)."""
    return dt.timedelta(seconds=float(getattr(settings, "B2BROUTER_STUCK_AFTER", 3600)))


@dataclass
class InvoiceList:
    """A count and the first few links of one kind."""

    count: int = 0
    links: list[InvoiceLink] = field(default_factory=list)


@dataclass
class Health:
    """The health panel's content for one integration."""

    integration: B2BrouterIntegration
    last_webhook_at: dt.datetime | None
    last_pass: SyncPass | None
    last_good_pass: SyncPass | None
    uncertain: InvoiceList
    failed: InvoiceList
    stuck: InvoiceList
    errors: list[InvoiceEvent]
    errors_count: int
    stuck_after: dt.timedelta

    @property
    def quota_known(self) -> bool:
        return self.integration.transactions_count is not None or self.integration.transactions_limit is not None

    @property
    def quota_left(self) -> int | None:
        count, limit = self.integration.transactions_count, self.integration.transactions_limit
        return None if count is None or limit is None else max(limit - count, 0)

    @property
    def ok(self) -> bool:
        return (not self.failed.count and not self.stuck.count and not self.errors_count
                and (self.last_pass is None or self.last_pass.ok))


def _links(integration: B2BrouterIntegration) -> QuerySet[InvoiceLink]:
    return InvoiceLink.objects.filter(account_id=str(integration.account_id),
                                      invoice__company_id=integration.company_id)


def _listed(queryset: QuerySet[InvoiceLink], order: str) -> InvoiceList:
    rows = list(queryset.select_related("invoice").order_by(order, "pk")[:SHOWN + 1])
    count = len(rows) if len(rows) <= SHOWN else queryset.count()
    return InvoiceList(count=count, links=rows[:SHOWN])


def health(integration: B2BrouterIntegration, now: dt.datetime | None = None) -> Health:
    """Gather the panel's content (a bounded number of queries, whatever the number of invoices)."""
    now = now or timezone.now()
    links = _links(integration)
    unresolved = attempts.unresolved().filter(account_id=str(integration.account_id),
                                              invoice__company_id=integration.company_id)
    passes = SyncPass.objects.filter(integration=integration)
    since = now - dt.timedelta(hours=24)
    errors = _not_overcome(InvoiceEvent.objects.filter(invoice__company_id=integration.company_id,
                                                       outcome=Outcome.FAILURE, created_at__gte=since))
    threshold = stuck_after()
    stuck = links.filter(status=LinkStatus.LINKED, state__in=TRANSIENT_STATES).filter(
        Q(state_updated_at__lt=now - threshold) | Q(state_updated_at__isnull=True, created_at__lt=now - threshold))
    error_rows = list(errors.select_related("invoice").order_by("-created_at", "-pk")[:SHOWN + 1])
    return Health(
        integration=integration,
        last_webhook_at=integration.webhook_last_received_at,
        last_pass=passes.order_by("-started_at", "-pk").first(),
        last_good_pass=passes.filter(finished_at__isnull=False, error="").order_by("-started_at", "-pk").first(),
        uncertain=_listed(unresolved, "attempt_started_at"),
        failed=_listed(links.filter(status=LinkStatus.LINKED, state="error"), "-state_updated_at"),
        stuck=_listed(stuck, "state_updated_at"),
        errors=error_rows[:SHOWN],
        errors_count=len(error_rows) if len(error_rows) <= SHOWN else errors.count(),
        stuck_after=threshold,
    )


def for_company(company: Any) -> Health | None:
    """Return the company's panel, or None when it has no usable integration yet."""
    integration = B2BrouterIntegration.objects.filter(company=company).first()
    if integration is None or not integration.has_credentials:
        return None
    return health(integration)
