"""Keep linked invoices current from B2Brouter without a click: the read after a notification, and the sync.

The webhook receiver (``webhooks.py``) records a state at once and queues :func:`refresh_link` for
the rest (totals, errors, refusal reason). :func:`sync_integration` is the fallback for when
notifications cannot reach the app: it lists the invoices B2Brouter changed since the last sync.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

import b2brouter
from b2binvoice.core.texts import gettext as _
from b2binvoice.core.texts import join

from . import attempts, events
from .actions import Result, link_fields, settle
from .errors import describe
from b2binvoice.invoices.models import InvoiceStatus

from .models import (
    AttemptKind,
    B2BrouterIntegration,
    EventType,
    InvoiceEvent,
    InvoiceLink,
    LinkStatus,
    Outcome,
    SyncPass,
    SyncTrigger,
    WebhookEvent,
)
from .remote import Remote

logger = logging.getLogger(__name__)

#: Listing starts this much before the last sync, so an invoice changed while the previous sync ran,
#: or a clock slightly ahead of B2Brouter's, is not missed. Re-reading an unchanged invoice changes nothing.
SYNC_OVERLAP = dt.timedelta(minutes=2)
#: Links are looked up for this many listed invoices at a time.
BATCH = 200

# Which link fields each key of a B2Brouter invoice feeds; a key absent from an answer (a list
# row may be shorter than a read) leaves its fields as they are.
_SOURCES: dict[str, tuple[str, ...]] = {
    "number": ("number",),
    "state": ("state", "state_event_id"),
    "state_updated_at": ("state_updated_at",),
    "date": ("date",),
    "currency": ("currency",),
    "subtotal": ("subtotal",),
    "total": ("total",),
    "taxes": ("taxes", "tax_total"),
    "errors": ("errors",),
    "refuse_reason": ("refuse_reason",),
    "contact_id": ("contact_id",),
    "contact": ("contact_id",),
}
#: The fields whose change a user would notice, in the order a change is described.
WATCHED = ("state", "subtotal", "tax_total", "total", "errors", "refuse_reason", "number")
_STATE_FIELDS = ("state", "state_updated_at", "state_event_id")


def present_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Return the link fields that ``data`` (a B2Brouter invoice) actually carries, plus refreshed_at."""
    fields = link_fields(data)
    names = {name for key, targets in _SOURCES.items() if key in data for name in targets}
    chosen = {name: value for name, value in fields.items() if name in names}
    if chosen.get("state_updated_at") is None:
        chosen.pop("state_updated_at", None)
    chosen["refreshed_at"] = fields["refreshed_at"]
    return chosen


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return old == new  # 241.390000 from the database equals 241.39 from B2Brouter
    return bool(old == new)


def update_link_from(link: InvoiceLink, data: dict[str, Any], *, by: str = "", user: Any = None) -> list[str]:
    """Store what B2Brouter says about the link's invoice; return the watched fields that changed.

    A read never replaces a state that a notification reported as newer than the read's own
    ``state_updated_at`` (a notification may overtake a read that was already on its way). What
    the state settles (the invoice issued, an uncertain send confirmed) is drawn at once; ``by``
    names the read in the history.
    """
    fields = present_fields(data)
    with transaction.atomic():
        current = InvoiceLink.objects.select_for_update().filter(pk=link.pk).first()
        if current is None:
            return []  # unlinked meanwhile
        read_at = fields.get("state_updated_at")
        if (current.state_updated_at is not None and read_at is not None
                and read_at < current.state_updated_at.replace(microsecond=0)):
            for name in _STATE_FIELDS:
                fields.pop(name, None)
        changed = [name for name in WATCHED if name in fields and not _same(getattr(current, name), fields[name])]
        InvoiceLink.objects.filter(pk=link.pk).update(**fields)
        for name in ("attempt_kind", "attempt_started_at", "state", "state_updated_at", "errors"):
            setattr(link, name, getattr(current, name))
    for name, value in fields.items():
        setattr(link, name, value)
    attempts.observe(link, by=by or _("a read from B2Brouter"), user=user)
    if data.get("tax_report_ids"):
        from . import tax_records  # noqa: PLC0415 (tax_records imports actions, as this module does)

        tax_records.follow(link, data.get("tax_report_ids"))
    return changed


def describe_change(link: InvoiceLink, changed: list[str], old_state: str) -> str:
    """Say in one line what a background read changed."""
    parts = []
    if "state" in changed:
        parts.append(_("state %(old)s → %(new)s") % {"old": old_state or "-", "new": link.state or "-"})
    figures = [name for name in changed if name in ("subtotal", "tax_total", "total")]
    if figures:
        parts.append(_("figures updated (total %(total)s)") % {"total": link.total})
    if "errors" in changed and link.errors:
        parts.append(_("errors reported"))
    if "refuse_reason" in changed and link.refuse_reason:
        parts.append(_("refusal reason given"))
    if "number" in changed:
        parts.append(_("number %(number)s") % {"number": link.number})
    return join("; ", parts) if parts else _("details updated")


def _ready_integration_for(link: InvoiceLink) -> B2BrouterIntegration | None:
    integration = B2BrouterIntegration.objects.filter(company_id=link.invoice.company_id).first()
    if integration is None or not integration.is_ready or str(integration.account_id) != link.account_id:
        return None
    return integration


def refresh_link(link_id: int) -> str:
    """Read a linked invoice from B2Brouter in the background; answer what happened."""
    link = InvoiceLink.objects.select_related("invoice").filter(pk=link_id, status=LinkStatus.LINKED).first()
    if link is None:
        return "unlinked"
    integration = _ready_integration_for(link)
    if integration is None:
        return "not ready"
    old_state = link.state
    try:
        data = Remote.for_integration(integration).invoice(int(link.b2brouter_id or 0))
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        events.refresh_failed(invoice=link.invoice, user=None, b2brouter_id=link.b2brouter_id,
                              message=_("Reading the invoice after a notification failed. %(error)s")
                              % {"error": described.text},
                              remote_message=described.remote_message, request_id=described.request_id)
        return "failed"
    changed = update_link_from(link, data, by=_("the read after a notification"))
    if changed:
        events.synced(invoice=link.invoice, b2brouter_id=int(link.b2brouter_id or 0),
                      message=describe_change(link, changed, old_state))
    return "changed" if changed else "unchanged"


@dataclass
class SyncedLink:
    """One link the sync changed."""

    invoice_id: int
    invoice_number: str
    b2brouter_id: int
    old_state: str
    new_state: str
    total: Decimal | None
    changes: str


@dataclass
class CheckedAttempt:
    """One uncertain attempt the sync checked, and what became of it."""

    invoice_id: int
    invoice_number: str
    kind: str
    outcome: str
    text: str


@dataclass
class SyncReport:
    """What one integration's sync did."""

    company: str
    company_id: int
    listed: int = 0
    changed: list[SyncedLink] = field(default_factory=list)
    attempts: list[CheckedAttempt] = field(default_factory=list)
    error: Result | None = None
    since: dt.datetime | None = None
    written: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (a task's result)."""
        return {
            "company_id": self.company_id, "listed": self.listed, "written": self.written, "since": self.since.isoformat() if self.since else None,
            "changed": [{"invoice": s.invoice_number, "b2brouter_id": s.b2brouter_id, "old_state": s.old_state,
                         "new_state": s.new_state, "changes": s.changes} for s in self.changed],
            "attempts": [{"invoice": a.invoice_number, "kind": a.kind, "outcome": a.outcome, "text": a.text}
                         for a in self.attempts],
            "error": self.error.as_dict() if self.error else None,
        }


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _differs(current: InvoiceLink, fields: dict[str, Any]) -> bool:
    return any(not _same(getattr(current, name), value) for name, value in fields.items() if name != "refreshed_at")


def _write_links(links: list[InvoiceLink], names_by_link: dict[int, tuple[str, ...]]) -> None:
    """Write each link's changed fields: one ``UPDATE ... WHERE id = %s`` run with executemany per set of fields.

    Rows of a listing carry the same keys, so a batch is usually one statement. Unlike
    ``bulk_update`` (one CASE per field over the whole batch) its cost stays linear in the rows.
    """
    connection = connections[InvoiceLink.objects.db]
    quote = connection.ops.quote_name
    meta = InvoiceLink._meta
    groups: dict[tuple[str, ...], list[InvoiceLink]] = {}
    for link in links:
        groups.setdefault(names_by_link[link.pk], []).append(link)
    with connection.cursor() as cursor:
        for names, members in groups.items():
            fields = [meta.get_field(name) for name in names]
            sql = (f"UPDATE {quote(meta.db_table)} SET "
                   + ", ".join(f"{quote(field.column)} = %s" for field in fields)  # type: ignore[union-attr]
                   + f" WHERE {quote(meta.pk.column)} = %s")  # type: ignore[union-attr]
            cursor.executemany(sql, [
                [field.get_db_prep_save(getattr(link, field.attname), connection) for field in fields]  # type: ignore[union-attr]
                + [link.pk] for link in members])


def _apply_batch(links: Any, rows: dict[int, dict[str, Any]], report: SyncReport) -> None:
    """Write what changed of one batch of listed invoices: one read, one bulk write, one bulk insert of events.

    Unchanged links cost nothing (not even ``refreshed_at``), so overlapping passes re-read without
    rewriting. The rows are locked while they are compared and written, like a single read does, so a
    notification arriving meanwhile is not overwritten by an older listing.
    """
    changed_links: list[InvoiceLink] = []
    written_by_link: dict[int, tuple[str, ...]] = {}
    new_events: list[InvoiceEvent] = []
    to_observe: list[InvoiceLink] = []
    by = _("the sync")
    with transaction.atomic():
        batch = list(links.filter(b2brouter_id__in=list(rows)).select_for_update(of=("self",)).order_by("pk"))
        for link in batch:
            fields = present_fields(rows[int(link.b2brouter_id or 0)])
            read_at = fields.get("state_updated_at")
            if (link.state_updated_at is not None and read_at is not None
                    and read_at < link.state_updated_at.replace(microsecond=0)):
                for name in _STATE_FIELDS:
                    fields.pop(name, None)
            if not _differs(link, fields):
                continue
            old_state = link.state
            changed = [name for name in WATCHED if name in fields and not _same(getattr(link, name), fields[name])]
            for name, value in fields.items():
                setattr(link, name, value)
            written_by_link[link.pk] = tuple(sorted(fields))
            changed_links.append(link)
            if link.attempt_kind == AttemptKind.SEND or (
                    link.state in attempts.SENT_STATES and link.invoice.status == InvoiceStatus.DRAFT):
                to_observe.append(link)
            if not changed:
                continue
            text = describe_change(link, changed, old_state)
            new_events.append(InvoiceEvent(invoice_id=link.invoice_id, type=EventType.SYNCED, outcome=Outcome.INFO,
                                           b2brouter_id=link.b2brouter_id, message=text))
            report.changed.append(SyncedLink(
                invoice_id=link.invoice_id, invoice_number=link.invoice.number,
                b2brouter_id=int(link.b2brouter_id or 0), old_state=old_state, new_state=link.state,
                total=link.total, changes=text))
        if changed_links:
            _write_links(changed_links, written_by_link)
            InvoiceEvent.objects.bulk_create(new_events, batch_size=BATCH)
    report.written += len(changed_links)
    for link in to_observe:
        attempts.observe(link, by=by)
    _follow_tax_reports(links, rows)


def _follow_tax_reports(links: Any, rows: dict[int, dict[str, Any]]) -> None:
    """Read the Verifactu/TicketBAI records the listed invoices name that are new or still processing."""
    from . import tax_records  # noqa: PLC0415

    named = {b2b_id: row["tax_report_ids"] for b2b_id, row in rows.items() if row.get("tax_report_ids")}
    if not named:
        return
    for link in links.filter(b2brouter_id__in=list(named)):
        tax_records.follow(link, named[int(link.b2brouter_id or 0)])


def sync_integration(integration: B2BrouterIntegration, *, trigger: str = SyncTrigger.COMMAND) -> SyncReport:
    """Update the company's links from the invoices B2Brouter changed since the last sync.

    The sync position advances only when the whole listing was read, so a failure repeats the
    same window next time. Every pass is recorded (:class:`SyncPass`) for the health panel, and the
    account's transaction quota is read again at its end.
    """
    report = SyncReport(company=str(integration.company), company_id=integration.company_id)
    if not integration.is_ready:
        report.error = Result("error", _("The integration is not enabled with working credentials."))
        return report
    started = timezone.now()
    record = SyncPass.objects.create(integration=integration, trigger=trigger, started_at=started)
    filters: dict[str, Any] = {"limit": b2brouter.MAX_PAGE_SIZE}
    if integration.last_synced_at is not None:
        report.since = integration.last_synced_at - SYNC_OVERLAP
        filters["updated_at_from"] = report.since
    remote = Remote.for_integration(integration)
    links = InvoiceLink.objects.select_related("invoice").filter(
        status=LinkStatus.LINKED, account_id=str(integration.account_id), invoice__company_id=integration.company_id)
    try:
        for batch in _batches(remote.iter_invoices(**filters), BATCH):
            report.listed += len(batch)
            rows = {int(row["id"]): row for row in batch if str(row.get("id") or "").isdigit()}
            if rows:
                _apply_batch(links, rows, report)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        report.error = Result("error", _("Could not list B2Brouter's invoices. %(error)s") % {"error": described.text},
                              described.remote_message, described.request_id)
        logger.warning("B2Brouter sync of company %s failed: %s (request %s)", integration.company_id,
                       described.text, described.request_id or "-")
        _finish(record, report)
        return report
    B2BrouterIntegration.objects.filter(pk=integration.pk).update(last_synced_at=started)
    integration.last_synced_at = started
    report.attempts = check_attempts(integration)
    _poll_tax_records(integration)
    refresh_quota(integration, remote)
    _finish(record, report)
    return report


def _poll_tax_records(integration: B2BrouterIntegration) -> None:
    """Read the records still processing whose next read is due, and those a notification moved."""
    from . import tax_records  # noqa: PLC0415

    try:
        tax_records.poll_due(integration)
        tax_records.poll_notified(integration)
    except Exception:  # noqa: BLE001 (the records are read again next time; the sync itself succeeded)
        logger.exception("Reading the tax reports of company %s failed", integration.company_id)


def _finish(record: SyncPass, report: SyncReport) -> None:
    record.finished_at = timezone.now()
    record.listed = report.listed
    record.changed = report.written
    record.checked = len(report.attempts)
    record.error = report.error.text if report.error else ""
    record.save(update_fields=["finished_at", "listed", "changed", "checked", "error"])


def refresh_quota(integration: B2BrouterIntegration, remote: Remote | None = None) -> bool:
    """Read the account's transaction count and limit again, as B2Brouter reports them; answer whether it worked."""
    try:
        account = (remote or Remote.for_integration(integration)).account()
    except b2brouter.B2BRouterError as exc:
        logger.info("Could not read B2Brouter account %s: %s", integration.account_id, describe(exc).text)
        return False
    integration.transactions_count = account.get("transactions_count")
    integration.transactions_limit = account.get("transactions_limit")
    B2BrouterIntegration.objects.filter(pk=integration.pk).update(
        transactions_count=integration.transactions_count, transactions_limit=integration.transactions_limit)
    return True


def check_attempts(integration: B2BrouterIntegration) -> list[CheckedAttempt]:
    """Check every attempt of the integration whose outcome is unknown, due or not (one read each).

    A send the listing just confirmed is no longer unresolved and costs nothing here.
    """
    checked = []
    pending = (attempts.unresolved().select_related("invoice", "invoice__company", "invoice__client")
               .filter(account_id=str(integration.account_id), invoice__company_id=integration.company_id)
               .order_by("pk"))
    for link in pending:
        kind = "send" if link.send_uncertain else "create"
        result = settle(link, by=_("the sync"))
        after = InvoiceLink.objects.filter(pk=link.pk).first()
        if after is None:
            outcome = "not created"
        elif after.is_uncertain:
            outcome = "checking"
        elif kind == "create":
            outcome = "linked"
        else:
            outcome = "sent" if after.state in attempts.SENT_STATES else ("failed" if after.state == "error" else "not sent")
        checked.append(CheckedAttempt(invoice_id=link.invoice_id, invoice_number=link.invoice.number, kind=kind,
                                      outcome=outcome, text=str(result.text)))
    return checked


def prune_webhook_events(company_id: int | None = None) -> int:
    """Forget received notifications older than ``B2BROUTER_WEBHOOK_EVENTS_DAYS``; answer how many.

    They serve only to de-duplicate retried deliveries, which stop long before that.
    """
    days = int(getattr(settings, "B2BROUTER_WEBHOOK_EVENTS_DAYS", 90))
    old = WebhookEvent.objects.filter(received_at__lt=timezone.now() - dt.timedelta(days=days))
    if company_id is not None:
        old = old.filter(company_id=company_id)
    deleted, _ = old.delete()
    return deleted


def sync_all(company_id: int | None = None, *, trigger: str = SyncTrigger.COMMAND) -> list[SyncReport]:
    """Sync every enabled integration, or only the given company's; prune old notifications."""
    integrations = B2BrouterIntegration.objects.select_related("company").order_by("company__name", "pk")
    if company_id is not None:
        integrations = integrations.filter(company_id=company_id)
    else:
        integrations = integrations.filter(enabled=True)
    reports = [sync_integration(integration, trigger=trigger) for integration in integrations]
    prune_webhook_events(company_id)
    return reports
