"""Receive B2Brouter's signed state-change notifications (contract section 6).

The request path verifies, records and updates the database only; anything that needs B2Brouter
(the totals, errors and refusal reason behind a new state) is queued as a task.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

import b2brouter
from b2brouter import webhooks as signatures
from b2binvoice.core.texts import gettext as _

from . import attempts, events, webhook_guard
from .actions import STATE_CHANGE_EVENT, TAX_REPORT_EVENT
from .models import B2BrouterIntegration, InvoiceLink, LinkStatus, WebhookEvent, WebhookOutcome
from .sync import present_fields

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = signatures.SIGNATURE_HEADER


@dataclass
class Received:
    """The receiver's answer: HTTP status and a short word for the sender and the tests."""

    status: int
    outcome: str
    link_id: int | None = None
    needs_refresh: bool = False


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _triggered_at(event: dict[str, Any]) -> dt.datetime | None:
    value = _integer(event.get("triggered_at"))
    if value is None:
        return None
    return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)


def dedup_key(*, event_id: int | None, invoice_id: int | None, state: str, triggered_at: int) -> str:
    """Return what makes a delivery unique: its event id, else (invoice_id, state, triggered_at).

    B2Brouter's documented payload carries no ``event_id`` (only third-party code shows one), so a
    retried delivery without it is recognised by the invoice, the state and the event's own time.
    """
    if event_id is not None:
        return f"event:{event_id}"
    return f"state:{invoice_id if invoice_id is not None else '-'}:{state}:{triggered_at}"


def _is_stale(link: InvoiceLink, triggered_at: dt.datetime, event_id: int | None) -> bool:
    """Tell whether the link already holds a state newer than this notification's."""
    if link.state_updated_at is None:
        return False
    known = link.state_updated_at.replace(microsecond=0)  # notifications carry whole seconds
    if triggered_at != known:
        return triggered_at < known
    # Within one second only event ids can order two notifications; without them, the later arrival wins.
    return event_id is not None and link.state_event_id is not None and event_id < link.state_event_id


def find_integration(token: str) -> B2BrouterIntegration | None:
    """Return the integration whose receiver URL carries ``token`` and that can check signatures."""
    if not token or not webhook_guard.plausible_token(token):
        return None
    integration = B2BrouterIntegration.objects.filter(webhook_token=token).first()
    if integration is None or not integration.webhook_secret:
        return None
    return integration


def receive(integration: B2BrouterIntegration, *, body: bytes, header: str) -> Received:
    """Verify one delivery, record it once, and apply its state to the linked invoice."""
    try:
        event = signatures.verify(body, header, integration.webhook_secret)
    except b2brouter.WebhookSignatureError as exc:
        # Counted and shown on the settings page; logged once per interval, not once per delivery.
        webhook_guard.signature_failed(integration, str(exc))
        return Received(400, "invalid signature")
    except (ValueError, RecursionError) as exc:
        logger.warning("Rejected a B2Brouter notification for company %s: %s", integration.company_id,
                       str(exc)[:200])
        return Received(400, "not an event")
    problem = webhook_guard.event_problem(dict(event))
    if problem is not None:
        # Correctly signed but unusable: refused whole (400), so nothing half-read is stored.
        logger.warning("Rejected a B2Brouter notification for company %s: %s", integration.company_id, problem)
        return Received(400, problem)
    data: dict[str, Any] = dict(event.get("data") or {})
    event_id = _integer(data.get("event_id"))
    triggered_at = _triggered_at(dict(event))
    if triggered_at is None:
        if event_id is None:
            # The documented payload always carries triggered_at: without it and without an event id a
            # retried delivery could not be told from a new one.
            logger.warning("Rejected a B2Brouter notification for company %s: no event_id and no triggered_at",
                           integration.company_id)
            return Received(400, "no triggered_at")
        triggered_at = timezone.now().replace(microsecond=0)
    code = str(event.get("code") or "")
    invoice_id = _integer(data.get("invoice_id"))
    state = str(data.get("state") or "")
    notes = data.get("notes")
    notes = "" if notes is None else str(notes)
    key = dedup_key(event_id=event_id, invoice_id=invoice_id, state=state,
                    triggered_at=int(triggered_at.timestamp()))
    if code == TAX_REPORT_EVENT:
        # A record's events are numbered apart from the invoices' own: keyed by the record.
        key = f"tax:{data.get('tax_report_id')}:{event_id if event_id is not None else ''}:{state}:" \
              f"{int(triggered_at.timestamp())}"
    received = Received(200, WebhookOutcome.IGNORED)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = WebhookEvent.objects.create(
                    company_id=integration.company_id, dedup_key=key, event_id=event_id, code=code,
                    b2brouter_invoice_id=invoice_id, state=state, triggered_at=triggered_at,
                    outcome=WebhookOutcome.IGNORED, payload=dict(event))
        except IntegrityError:
            return Received(200, "duplicate")
        link = None
        if code == TAX_REPORT_EVENT:
            from . import tax_records  # noqa: PLC0415 (tax_records imports actions)

            outcome = tax_records.notified(integration, data, triggered_at=triggered_at)
            received.outcome = outcome if outcome in WebhookOutcome.values else WebhookOutcome.IGNORED
        elif code == STATE_CHANGE_EVENT and invoice_id is not None and state:
            link = (InvoiceLink.objects.select_for_update().select_related("invoice")
                    .filter(status=LinkStatus.LINKED, account_id=str(integration.account_id), b2brouter_id=invoice_id,
                            invoice__company_id=integration.company_id).first())
            if link is None:
                received.outcome = WebhookOutcome.UNKNOWN_INVOICE
            elif _is_stale(link, triggered_at, event_id):
                received.outcome = WebhookOutcome.STALE
                events.state_notification_ignored(invoice=link.invoice, b2brouter_id=invoice_id, state=state,
                                                  current=link.state)
            else:
                received.outcome = WebhookOutcome.APPLIED
                received.link_id = link.pk
                complete = _apply(link, data, invoice_id=invoice_id, state=state, notes=notes,
                                  triggered_at=triggered_at, event_id=event_id)
                events.state_notified(invoice=link.invoice, b2brouter_id=invoice_id, state=state, notes=notes)
                # A state past new issues the invoice here and confirms a send whose answer was lost.
                attempts.observe(link, by=_("a notification from B2Brouter"))
                # The notification names the state only; its totals, errors and reason come from a read.
                received.needs_refresh = not complete
        record.outcome = received.outcome
        record.invoice = link.invoice if link is not None else None
        record.save(update_fields=["outcome", "invoice"])
        B2BrouterIntegration.objects.filter(pk=integration.pk).update(webhook_last_received_at=timezone.now())
    return received


def _apply(link: InvoiceLink, data: dict[str, Any], *, invoice_id: int, state: str, notes: str,
           triggered_at: dt.datetime, event_id: int | None) -> bool:
    """Store the notified state; return whether the notification also carried the invoice's figures."""
    fields: dict[str, Any] = {}
    if "total" in data:
        # A richer notification than the documented one: take every field it carries, if all of them
        # can be read and stored; otherwise it counts as the documented one (the state, then a read).
        try:
            fields = present_fields({**data, "id": invoice_id})
        except (TypeError, ValueError, AttributeError, ArithmeticError, KeyError):
            fields = {}
        if not webhook_guard.storable_link_fields(fields):
            fields = {}
    complete = bool(fields)
    fields.update(state=state, state_updated_at=triggered_at, state_event_id=event_id)
    if state == "refused" and notes and "refuse_reason" not in fields:
        fields["refuse_reason"] = notes
    InvoiceLink.objects.filter(pk=link.pk).update(**fields)
    for name, value in fields.items():
        setattr(link, name, value)
    return complete
