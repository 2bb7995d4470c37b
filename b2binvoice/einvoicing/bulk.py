"""Bulk push and bulk refresh: many invoices through the single-invoice actions, several at a time.

A run (:class:`~.models.BulkRun`) holds one item per invoice. :func:`run_bulk` works through the
items still waiting with up to ``B2BROUTER_BULK_CONCURRENCY`` workers (default 4), each with its
own database connection, closed when the worker ends. Every invoice goes through the ordinary
actions (``create_invoice``, ``send_invoice``, ``refresh_invoice``), so the guards of one invoice
hold in bulk too: the pending attempt of a create makes a second create of the same invoice fail
before any request leaves, and an invoice already linked is skipped, never created again.

When B2Brouter answers 429 every worker pauses for the Retry-After it asked (one shared back-off),
then the invoice is tried again (a 429 means the request was not applied).

SQLite: the workers run as threads of one process and write through their own connections.
With WAL and IMMEDIATE transactions (settings.py) concurrent writes wait for each other instead
of failing. An in-memory database, or a run started inside a transaction (the test suite's),
cannot be shared between connections: the run then uses one worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import Count, Q
from django.utils import timezone

from b2binvoice.core.texts import clip, join
from b2binvoice.core.texts import gettext as _

from . import actions
from .models import (
    BulkAction,
    BulkOutcome,
    BulkRun,
    BulkRunItem,
    BulkStatus,
    InvoiceLink,
    LinkStatus,
)
from .readiness import check_readiness
from .remote import Remote, observing_rate_limits

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 4
#: Times one invoice is tried again after a 429 before it is reported as failed.
MAX_RATE_LIMIT_RETRIES = 8
#: The pause when B2Brouter answers 429 without a Retry-After, and the longest one honoured.
DEFAULT_PAUSE = 5.0
MAX_PAUSE = 120.0
SENT_STATES = frozenset({"sending", "sent", "registered", "accepted", "paid", "allegedly_paid", "closed"})


def configured_concurrency() -> int:
    """Return ``B2BROUTER_BULK_CONCURRENCY`` (at least 1)."""
    return max(1, int(getattr(settings, "B2BROUTER_BULK_CONCURRENCY", DEFAULT_CONCURRENCY)))


def effective_concurrency(requested: int | None = None) -> int:
    """Return how many workers a run may use here (1 where connections cannot share the data)."""
    wanted = max(1, requested or configured_concurrency())
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict.get("NAME") or "")
        if connection.in_atomic_block or not name or ":memory:" in name or "mode=memory" in name:
            return 1
    elif connection.in_atomic_block:
        return 1  # other connections would not see the run's rows before the transaction commits
    return wanted


# --- choosing the invoices -------------------------------------------------------------------

def filtered_invoices(company: Any, params: Any = None) -> Any:
    """Return the company's invoices matching the invoice list's filter (search, status, state, client, dates)."""
    from b2binvoice.invoices.views import InvoiceFilter  # noqa: PLC0415 (the list's own filter, not a copy)

    return InvoiceFilter(company=company, params=params if params is not None else {}).queryset()


def unlinked(invoices: Any) -> Any:
    """Return the invoices with no B2Brouter link (nor a pending attempt), never cancelled."""
    from b2binvoice.invoices.models import InvoiceStatus  # noqa: PLC0415

    return invoices.exclude(b2brouter_link__isnull=False).exclude(status=InvoiceStatus.CANCELLED)


def linked(invoices: Any) -> Any:
    """Return the invoices linked to a B2Brouter invoice."""
    return invoices.filter(b2brouter_link__status=LinkStatus.LINKED)


def locally_ready(invoice: Any, integration: Any) -> tuple[bool, list[str]]:
    """Check ``invoice`` without asking B2Brouter; a contact not looked up yet is left to the run."""
    readiness = check_readiness(invoice, integration)
    problems = [item.problem for item in readiness.items if not item.ok and item.key != "contact"]
    return not problems, problems


def ready_invoices(company: Any, invoices: Any) -> list[Any]:
    """Return those of ``invoices`` a push would create: unlinked and ready as far as we can tell here."""
    integration = actions.get_integration(company)
    candidates = unlinked(invoices).select_related("client", "company", "payment_method").prefetch_related("taxes")
    return [invoice for invoice in candidates.order_by("issue_date", "number") if
            locally_ready(invoice, integration)[0]]


@dataclass
class LeftOut:
    """A chosen invoice a run would not process, and why (the confirmation lists each one)."""

    invoice: Any
    kind: str  # "linked", "pending", "cancelled", "not_linked" or "not_ready"
    reason: str


def left_out_labels() -> dict[str, str]:
    """Name each kind of left-out invoice, as the confirmation counts them for a whole filter."""
    return {
        "linked": _("already linked to a B2Brouter invoice"),
        "pending": _("being created in B2Brouter (attempt not settled)"),
        "cancelled": _("cancelled"),
        "not_linked": _("not linked to B2Brouter"),
        "not_ready": _("not ready"),
    }


def classify(invoices: Iterable[Any], action: str, integration: Any) -> tuple[list[Any], list[LeftOut]]:
    """Sort chosen invoices into those a run of ``action`` processes and those it leaves out, with why.

    Every invoice given ends in one of the two lists: a push takes unlinked, uncancelled invoices
    that are ready as far as can be told without asking B2Brouter; a refresh takes linked ones.
    The invoices should come with ``b2brouter_link`` selected.
    """
    from b2binvoice.invoices.models import InvoiceStatus  # noqa: PLC0415

    going: list[Any] = []
    left_out: list[LeftOut] = []
    for invoice in invoices:
        link = _selected_link(invoice)
        if action == BulkAction.REFRESH:
            if link is not None and link.is_linked:
                going.append(invoice)
            elif link is not None:
                left_out.append(LeftOut(invoice, "pending", _("Being created in B2Brouter: the attempt is not settled "
                                                              "yet, so there is nothing to refresh.")))
            else:
                left_out.append(LeftOut(invoice, "not_linked", _("Not linked to a B2Brouter invoice: nothing to "
                                                                 "refresh.")))
            continue
        if link is not None and link.is_pending:
            left_out.append(LeftOut(invoice, "pending", _("Being created in B2Brouter already: the attempt is not "
                                                          "settled yet, so it is not created again.")))
        elif link is not None:
            left_out.append(LeftOut(invoice, "linked", _("Already linked to B2Brouter invoice #%(id)s: it is not "
                                                         "created again.") % {"id": link.b2brouter_id}))
        elif invoice.status == InvoiceStatus.CANCELLED:
            left_out.append(LeftOut(invoice, "cancelled", _("Cancelled: a cancelled invoice is not sent.")))
        else:
            ok, problems = locally_ready(invoice, integration)
            if ok:
                going.append(invoice)
            else:
                left_out.append(LeftOut(invoice, "not_ready", _("Not ready: %(problems)s") % {
                    "problems": " ".join(str(problem) for problem in problems)}))
    return going, left_out


def count_left_out(left_out: Iterable[LeftOut], counted: dict[str, int] | None = None) -> list[tuple[str, int]]:
    """Count the left-out invoices per kind (adding ``counted``), in the order of :func:`left_out_labels`."""
    counts: dict[str, int] = defaultdict(int, counted or {})
    for item in left_out:
        counts[item.kind] += 1
    return [(label, counts[kind]) for kind, label in left_out_labels().items() if counts[kind]]


def classify_filter(invoices: Any, action: str, integration: Any) -> tuple[list[Any], list[tuple[str, int]]]:
    """Like :func:`classify` for every invoice of a list filter: those going, and how many are left out per kind.

    A filter may hold many invoices: the linked, pending and cancelled ones are counted in SQL, and
    only the candidates are read (and checked, for a push).
    """
    from b2binvoice.invoices.models import InvoiceStatus  # noqa: PLC0415

    if action == BulkAction.REFRESH:
        candidates = linked(invoices)
        counted = {"not_linked": invoices.filter(b2brouter_link__isnull=True).count(),
                   "pending": invoices.filter(b2brouter_link__status=LinkStatus.PENDING).count()}
    else:
        candidates = unlinked(invoices)
        counted = {"linked": invoices.filter(b2brouter_link__status=LinkStatus.LINKED).count(),
                   "pending": invoices.filter(b2brouter_link__status=LinkStatus.PENDING).count(),
                   "cancelled": invoices.filter(b2brouter_link__isnull=True, status=InvoiceStatus.CANCELLED).count()}
    going, left_out = classify(candidates.order_by("issue_date", "number"), action, integration)
    return going, count_left_out(left_out, counted)


def _selected_link(invoice: Any) -> InvoiceLink | None:
    """The invoice's link, read with the invoice (``select_related("b2brouter_link")``); None without one."""
    try:
        return invoice.b2brouter_link  # type: ignore[no-any-return]
    except InvoiceLink.DoesNotExist:
        return None


@dataclass
class Summary:
    """What the confirmation page shows before a run starts."""

    count: int = 0
    clients: list[tuple[str, int]] = field(default_factory=list)
    totals: list[tuple[str, Decimal]] = field(default_factory=list)


def summarise(invoices: Iterable[Any]) -> Summary:
    """Count the invoices, their recipients (most invoices first) and their totals per currency."""
    from b2binvoice.invoices.calculations import calculate_invoice  # noqa: PLC0415

    clients: dict[str, int] = defaultdict(int)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    count = 0
    for invoice in invoices:
        count += 1
        clients[invoice.client.name] += 1
        figures = calculate_invoice(invoice)
        totals[figures.currency] += figures.total
    return Summary(count, sorted(clients.items(), key=lambda kv: (-kv[1], kv[0])), sorted(totals.items()))


def start_run(*, company: Any, user: Any, action: str, invoices: Iterable[Any],
              concurrency: int | None = None) -> BulkRun:
    """Record a run with one item per invoice (in the order given); it waits to be worked."""
    invoices = list(invoices)
    run = BulkRun.objects.create(company=company, user=user if getattr(user, "is_authenticated", False) else None,
                                 action=BulkAction(action), total=len(invoices),
                                 concurrency=max(1, concurrency or configured_concurrency()))
    BulkRunItem.objects.bulk_create([BulkRunItem(run=run, invoice=invoice, position=n)
                                     for n, invoice in enumerate(invoices)], batch_size=500)
    return run


# --- the shared back-off ---------------------------------------------------------------------

class Backoff:
    """One pause all workers honour: set when B2Brouter answers 429, waited for before each invoice."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._lock = threading.Lock()
        self._until = 0.0
        self._sleep = sleep
        self.hits = 0
        self.paused = 0.0

    def rate_limited(self, retry_after: float | None) -> None:
        seconds = DEFAULT_PAUSE if retry_after is None else min(max(retry_after, 0.0), MAX_PAUSE)
        with self._lock:
            self.hits += 1
            until = time.monotonic() + seconds
            if until > self._until:
                self.paused += until - max(self._until, time.monotonic())
                self._until = until

    def wait(self) -> None:
        while True:
            with self._lock:
                left = self._until - time.monotonic()
            if left <= 0:
                return
            self._sleep(left)


# --- working one invoice ---------------------------------------------------------------------

@dataclass
class Outcome:
    outcome: str
    message: str = ""
    remote_message: str = ""
    request_id: str = ""


def _link(invoice: Any) -> InvoiceLink | None:
    return InvoiceLink.objects.filter(invoice=invoice).first()


def _classify_push(invoice: Any, result: actions.Result) -> Outcome:
    link = _link(invoice)
    integration = actions.get_integration(invoice.company)
    # With sending after create on, a create that went well ends sent (even if the read after it failed).
    sends = integration is not None and integration.send_after_create
    text = result.text
    if link is not None and link.is_uncertain or result.uncertain:
        return Outcome(BulkOutcome.UNCERTAIN, text, result.remote_message, result.request_id)
    if link is not None and link.is_linked:
        if link.state in SENT_STATES or (result.ok and sends):
            return Outcome(BulkOutcome.SENT, text, result.remote_message, result.request_id)
        if result.ok:
            return Outcome(BulkOutcome.CREATED, text, result.remote_message, result.request_id)
    return Outcome(BulkOutcome.FAILED, text, result.remote_message, result.request_id)


def push_one(invoice: Any, user: Any) -> Outcome:
    """Create (and send, as the settings say) one invoice, unless it is linked, pending or blocked."""
    existing = _link(invoice)
    if existing is not None:
        if existing.is_pending:
            return Outcome(BulkOutcome.SKIPPED, _("A creation attempt is in progress: nothing was sent again."))
        return Outcome(BulkOutcome.SKIPPED, _("Already linked to B2Brouter invoice #%(id)s: nothing was sent "
                                              "again.") % {"id": existing.b2brouter_id})
    integration = actions.get_integration(invoice.company)
    remote = Remote.for_integration(integration) if integration is not None and integration.is_ready else None
    readiness = check_readiness(invoice, integration, remote=remote)
    if not readiness.ok:
        return Outcome(BulkOutcome.BLOCKED, join(" ", readiness.problems))
    return _classify_push(invoice, actions.create_invoice(invoice=invoice, user=user, readiness=readiness))


def resend_one(invoice: Any, user: Any) -> Outcome | None:
    """After a 429 on the send that followed a create: send the linked, unsent invoice (None: nothing to do)."""
    link = _link(invoice)
    if link is None or not link.is_linked or not link.can_send or link.state != "new":
        return None
    integration = actions.get_integration(invoice.company)
    if integration is None or not integration.send_after_create:
        return None
    return _classify_push(invoice, actions.send_invoice(invoice=invoice, user=user, link=link))


def refresh_one(invoice: Any, user: Any) -> Outcome:
    """Read one linked invoice from B2Brouter again."""
    link = _link(invoice)
    if link is None or not link.is_linked:
        return Outcome(BulkOutcome.SKIPPED, _("Not linked to a B2Brouter invoice: nothing to refresh."))
    result = actions.refresh_invoice(invoice=invoice, user=user)
    outcome = BulkOutcome.REFRESHED if result.level in ("success", "info", "warning") else BulkOutcome.FAILED
    return Outcome(outcome, result.text, result.remote_message, result.request_id)


class _Seen:
    """Counts the 429s of the current worker's calls (the observer is per context)."""

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self.count = 0

    def __call__(self, retry_after: float | None) -> None:
        self.count += 1
        self.backoff.rate_limited(retry_after)


def work_item(item: BulkRunItem, *, action: str, user: Any, backoff: Backoff) -> Outcome:
    """Work one item: wait out any shared pause, act, and try again after a 429."""
    from b2binvoice.invoices.models import Invoice  # noqa: PLC0415

    invoice = Invoice.objects.select_related("company", "client", "payment_method").get(pk=item.invoice_id)
    seen = _Seen(backoff)
    with observing_rate_limits(seen):
        outcome: Outcome | None = None
        for _attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            backoff.wait()
            seen.count = 0
            if action == BulkAction.REFRESH:
                outcome = refresh_one(invoice, user)
            elif outcome is not None and outcome.outcome == BulkOutcome.FAILED and _link(invoice) is not None:
                outcome = resend_one(invoice, user) or outcome  # the create went through; its send met the 429
            else:
                outcome = push_one(invoice, user)
            if not seen.count or outcome.outcome not in (BulkOutcome.FAILED, BulkOutcome.BLOCKED):
                return outcome
        assert outcome is not None
        return outcome


def _record(item: BulkRunItem, outcome: Outcome) -> None:
    BulkRunItem.objects.filter(pk=item.pk).update(
        outcome=outcome.outcome, message=clip(outcome.message, 2000), remote_message=outcome.remote_message[:2000],
        request_id=outcome.request_id[:128], finished_at=timezone.now())


def _worker(items: list[BulkRunItem], *, action: str, user: Any, backoff: Backoff, lock: threading.Lock,
            on_done: Callable[[BulkRunItem, Outcome], None] | None, threaded: bool) -> None:
    try:
        while True:
            with lock:
                if not items:
                    return
                item = items.pop(0)
            try:
                outcome = work_item(item, action=action, user=user, backoff=backoff)
            except Exception as exc:  # noqa: BLE001 (one invoice's bug must not stop the others)
                logger.exception("Bulk %s of invoice %s failed", action, item.invoice_id)
                outcome = Outcome(BulkOutcome.FAILED, _("Unexpected error: %(error)s") % {"error": type(exc).__name__})
            _record(item, outcome)
            if on_done is not None:
                on_done(item, outcome)
    finally:
        if threaded:
            connections.close_all()  # this thread's connections, opened by its queries


def run_bulk(run_id: int, *, on_done: Callable[[BulkRunItem, Outcome], None] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> BulkRun:
    """Work the run's waiting items (all of them the first time; the rest after an interruption)."""
    run = BulkRun.objects.select_related("user").get(pk=run_id)
    workers = effective_concurrency(run.concurrency)
    BulkRun.objects.filter(pk=run.pk).update(status=BulkStatus.RUNNING, started_at=run.started_at or timezone.now(),
                                             concurrency=workers)
    items = list(run.items.filter(outcome=BulkOutcome.WAITING).order_by("position"))
    backoff = Backoff(sleep)
    lock = threading.Lock()
    status, error = BulkStatus.DONE, ""
    try:
        if workers == 1:
            _worker(items, action=run.action, user=run.user, backoff=backoff, lock=lock, on_done=on_done,
                    threaded=False)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"bulk-{run.pk}") as pool:
                futures = [pool.submit(_worker, items, action=run.action, user=run.user, backoff=backoff, lock=lock,
                                       on_done=on_done, threaded=True) for _ in range(workers)]
                for future in futures:
                    future.result()
    except Exception as exc:  # noqa: BLE001 (the run page must say it stopped)
        logger.exception("Bulk run %s stopped", run.pk)
        status, error = BulkStatus.FAILED, type(exc).__name__
    BulkRun.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now(), error=error,
                                             rate_limited=backoff.hits, paused_seconds=backoff.paused)
    run.refresh_from_db()
    return run


# --- reading a run ---------------------------------------------------------------------------

def progress(run: BulkRun) -> dict[str, Any]:
    """Return the run's counts per outcome, how many are done, and the percentage."""
    counts = {value: 0 for value in BulkOutcome.values}
    for row in run.items.values("outcome").order_by().annotate(n=Count("pk")):
        counts[row["outcome"]] = row["n"]
    done = run.total - counts[BulkOutcome.WAITING]
    percent = 100 if not run.total else (done * 100) // run.total
    return {"counts": counts, "done": done, "percent": percent,
            "labels": [(value, label, counts[value]) for value, label in BulkOutcome.choices
                       if value != BulkOutcome.WAITING and counts[value]]}
