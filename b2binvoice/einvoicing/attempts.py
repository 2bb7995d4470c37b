"""Attempts whose outcome B2Brouter has not confirmed: when to check them, and what a known state settles.

A create or a send that got no usable answer (a timeout, a lost or cut answer, a 5xx, a crash of
our process between the request and recording its answer) is kept on its ``InvoiceLink`` as an
*attempt* and never reported as failed. It is settled by whichever reads B2Brouter first: the
check right after the missing answer, the ``settle_attempt`` task (with backoff), a "Check
B2Brouter" click, a Refresh, the sync, or a webhook notification. See docs/architecture.md, "How
uncertain outcomes converge".

This module holds the policy (schedule, window, which states mean "sent") and what any read of
an invoice's state settles (:func:`observe`); the lookups themselves are in ``actions.py``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from b2binvoice.invoices.history import record_status_change
from b2binvoice.invoices.models import Invoice, InvoiceStatus
from b2binvoice.core.texts import gettext as _

from . import events
from .models import AttemptKind, InvoiceLink, LinkStatus

logger = logging.getLogger(__name__)

#: Seconds between the first checks of an unresolved attempt, then every ``INTERVAL``.
DEFAULT_BACKOFF: tuple[float, ...] = (10, 30, 60, 120, 300, 600)
DEFAULT_INTERVAL = 30 * 60
#: How long an attempt is checked before "nothing found" means "not applied" (48 hours).
DEFAULT_WINDOW = 48 * 60 * 60

#: B2Brouter states that mean the invoice has left: it was sent, whatever followed.
SENT_STATES = frozenset({"sending", "sent", "registered", "accepted", "refused", "paid", "allegedly_paid", "closed",
                         "downloaded"})

#: Fields that say "no attempt is waiting" on a link.
CLEARED: dict[str, Any] = {"attempt_kind": AttemptKind.NONE, "attempt_next_check_at": None, "attempt_error": "",
                           "needs_check": False}


def backoff() -> tuple[float, ...]:
    """Return the pauses between the first checks (``B2BROUTER_SETTLE_BACKOFF``, seconds)."""
    return tuple(float(s) for s in getattr(settings, "B2BROUTER_SETTLE_BACKOFF", DEFAULT_BACKOFF))


def interval() -> float:
    """Return the pause between later checks (``B2BROUTER_SETTLE_INTERVAL``, seconds)."""
    return float(getattr(settings, "B2BROUTER_SETTLE_INTERVAL", DEFAULT_INTERVAL))


def window() -> dt.timedelta:
    """Return how long an attempt is checked (``B2BROUTER_SETTLE_WINDOW``, seconds)."""
    return dt.timedelta(seconds=float(getattr(settings, "B2BROUTER_SETTLE_WINDOW", DEFAULT_WINDOW)))


def started(link: InvoiceLink) -> dt.datetime:
    """Return when the attempt started (its row's creation for rows older than the field)."""
    return link.attempt_started_at or link.created_at or timezone.now()


def deadline(link: InvoiceLink) -> dt.datetime:
    """Return the time after which an attempt still not seen in B2Brouter is called not applied."""
    return started(link) + window()


def delay_after(checks: int) -> dt.timedelta:
    """Return the pause after the ``checks``-th check (0: after the attempt started)."""
    steps = backoff()
    return dt.timedelta(seconds=steps[checks] if checks < len(steps) else interval())


def first_check(now: dt.datetime) -> dt.datetime:
    """Return when a new attempt is first checked."""
    return now + delay_after(0)


def plan_next(link: InvoiceLink, now: dt.datetime | None = None) -> dt.datetime:
    """Count a scheduled check of ``link`` and store when the one after it is due; answer that time.

    The last check falls on the deadline; a check at or after it settles the attempt, and the
    time answered then only guards against that check dying half-way.
    """
    now = now or timezone.now()
    checks = link.attempt_checks + 1
    limit = deadline(link)
    nxt = min(now + delay_after(checks), limit) if now < limit else now + delay_after(checks)
    InvoiceLink.objects.filter(pk=link.pk).update(attempt_checks=checks, attempt_next_check_at=nxt)
    link.attempt_checks, link.attempt_next_check_at = checks, nxt
    return nxt


def checked(link: InvoiceLink, *, error: str = "") -> None:
    """Record that ``link``'s attempt was looked at now, and why it could not tell (if it could not)."""
    now = timezone.now()
    InvoiceLink.objects.filter(pk=link.pk).update(attempt_checked_at=now, attempt_error=error, needs_check=True)
    link.attempt_checked_at, link.attempt_error, link.needs_check = now, error, True


def schedule(link: InvoiceLink) -> bool:
    """Queue the next check of ``link`` at ``attempt_next_check_at``; answer whether it was queued.

    Only a backend that can run a task later gets it (the database queue, RQ with its scheduler);
    the immediate backend would look B2Brouter up before the request has even left. Without a
    queued check the sync settles the attempt. With the database queue the task row commits with
    the attempt, so a crash right after leaves both.
    """
    from django_tasks.backends.immediate import ImmediateBackend  # noqa: PLC0415

    from .tasks import settle_attempt  # noqa: PLC0415

    backend = settle_attempt.get_backend()
    if isinstance(backend, ImmediateBackend) or not backend.supports_defer:
        return False
    when = link.attempt_next_check_at or timezone.now()
    try:
        settle_attempt.using(run_after=when).enqueue(link.pk)
    except Exception:  # noqa: BLE001 (a queue outage must not fail the request; the sync checks it)
        logger.exception("Could not queue the check of B2Brouter link %s", link.pk)
        return False
    return True


def unresolved() -> Any:
    """Return the links that wait for B2Brouter to confirm an attempt."""
    from django.db.models import Q  # noqa: PLC0415

    return InvoiceLink.objects.filter(Q(status=LinkStatus.PENDING)
                                      | Q(status=LinkStatus.LINKED, attempt_kind=AttemptKind.SEND))


def mark_issued(invoice: Any) -> bool:
    """A draft sent through B2Brouter has been issued: say so here too (other statuses stay).

    Every path that learns of the send (its answer, Refresh, the sync, a notification, the settle
    task) comes here, so the invoice's history records the change once, made by B2Brouter.
    """
    if Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.DRAFT).update(status=InvoiceStatus.ISSUED):
        invoice.status = InvoiceStatus.ISSUED
        record_status_change(invoice, old=InvoiceStatus.DRAFT, new=InvoiceStatus.ISSUED, via="B2Brouter")
        return True
    return False


def send_answered(link: InvoiceLink) -> bool:
    """Tell whether the link's state answers its send attempt: the invoice left, or its sending failed since."""
    if link.state in SENT_STATES:
        return True
    if link.state == "error" and link.state_updated_at is not None:
        # An error from before this send says nothing about it.
        return link.state_updated_at >= started(link).replace(microsecond=0)
    return False


def observe(link: InvoiceLink, *, by: str, user: Any = None) -> str | None:
    """After any read or notification of ``link``'s state: draw what it settles.

    A state past ``new`` marks the local invoice issued, whichever path brought it; it also settles
    an unresolved send (recorded once, whoever sees it first). Answers "sent", "failed" (the send
    ended in ``error``) or None when no send attempt was settled.
    """
    if not link.is_linked:
        return None
    if link.state in SENT_STATES:
        mark_issued(link.invoice)
    if link.attempt_kind != AttemptKind.SEND or not send_answered(link):
        return None
    if not InvoiceLink.objects.filter(pk=link.pk, attempt_kind=AttemptKind.SEND).update(**CLEARED):
        return None  # another path settled it first
    for name, value in CLEARED.items():
        setattr(link, name, value)
    if link.state == "error":
        events.send_failed(invoice=link.invoice, user=user, b2brouter_id=link.b2brouter_id,
                           message=_("B2Brouter tried to send it and failed (seen through %(by)s).") % {"by": by},
                           remote_message="; ".join(link.errors or []))
        return "failed"
    events.sent(invoice=link.invoice, user=user, b2brouter_id=int(link.b2brouter_id or 0),
                message=_("Confirmed through %(by)s: B2Brouter reports it %(state)s.") % {"by": by, "state": link.state})
    return "sent"
