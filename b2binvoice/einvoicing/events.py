"""The append-only B2Brouter history of an invoice: one function per event."""

from __future__ import annotations

from typing import Any


from b2binvoice.core.texts import gettext as _
from b2binvoice.core.texts import join

from .models import EventType, InvoiceEvent, Outcome


def _user(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _record(invoice: Any, type: str, outcome: str, *, user: Any = None, message: str = "",
            remote_message: str = "", request_id: str | None = "", b2brouter_id: int | None = None) -> InvoiceEvent:
    return InvoiceEvent.objects.create(
        invoice=invoice, type=type, outcome=outcome, user=_user(user), message=message or "",
        remote_message=remote_message or "", request_id=request_id or "", b2brouter_id=b2brouter_id)


def create_blocked(*, invoice: Any, user: Any, problems: list[str]) -> InvoiceEvent:
    """Record that the readiness check stopped a create."""
    return _record(invoice, EventType.CREATE_BLOCKED, Outcome.FAILURE, user=user, message=join("; ", problems))


def create_attempted(*, invoice: Any, user: Any, number: str) -> InvoiceEvent:
    """Record that a create request is about to leave."""
    return _record(invoice, EventType.CREATE_ATTEMPTED, Outcome.INFO, user=user, message=number)


def created(*, invoice: Any, user: Any, b2brouter_id: int, request_id: str | None = None) -> InvoiceEvent:
    """Record that B2Brouter created the invoice."""
    return _record(invoice, EventType.CREATED, Outcome.SUCCESS, user=user, b2brouter_id=b2brouter_id,
                   request_id=request_id)


def create_failed(*, invoice: Any, user: Any, message: str, remote_message: str = "",
                  request_id: str | None = None) -> InvoiceEvent:
    """Record that B2Brouter refused or never received the create."""
    return _record(invoice, EventType.CREATE_FAILED, Outcome.FAILURE, user=user, message=message,
                   remote_message=remote_message, request_id=request_id)


def create_refused(*, invoice: Any, user: Any, message: str) -> InvoiceEvent:
    """Record a create refused because another attempt or a link already exists."""
    return _record(invoice, EventType.CREATE_REFUSED, Outcome.FAILURE, user=user, message=message)


def create_uncertain(*, invoice: Any, user: Any, message: str, remote_message: str = "",
                     request_id: str | None = None) -> InvoiceEvent:
    """Record a create whose outcome is unknown (timeout, dropped connection, 5xx)."""
    return _record(invoice, EventType.CREATE_UNCERTAIN, Outcome.INFO, user=user, message=message,
                   remote_message=remote_message, request_id=request_id)


def create_not_applied(*, invoice: Any, user: Any, message: str) -> InvoiceEvent:
    """Record that an uncertain create was never seen in B2Brouter within the checking window."""
    return _record(invoice, EventType.CREATE_NOT_APPLIED, Outcome.FAILURE, user=user, message=message)


def reconciled(*, invoice: Any, user: Any, b2brouter_id: int, message: str = "") -> InvoiceEvent:
    """Record that the invoice was found in B2Brouter by number and linked."""
    return _record(invoice, EventType.RECONCILED, Outcome.SUCCESS, user=user, b2brouter_id=b2brouter_id,
                   message=message)


def reconcile_failed(*, invoice: Any, user: Any, message: str, remote_message: str = "",
                     request_id: str | None = None, b2brouter_id: int | None = None) -> InvoiceEvent:
    """Record that looking the invoice up in B2Brouter did not settle the attempt."""
    return _record(invoice, EventType.RECONCILE_FAILED, Outcome.FAILURE, user=user, message=message,
                   remote_message=remote_message, request_id=request_id, b2brouter_id=b2brouter_id)


def totals_mismatch(*, invoice: Any, user: Any, b2brouter_id: int, message: str) -> InvoiceEvent:
    """Record that B2Brouter's totals differ from ours, so the invoice was kept unsent."""
    return _record(invoice, EventType.TOTALS_MISMATCH, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message)


def sent(*, invoice: Any, user: Any, b2brouter_id: int, request_id: str | None = None,
         message: str = "") -> InvoiceEvent:
    """Record that B2Brouter accepted the send (or, with ``message``, how an uncertain send was confirmed)."""
    return _record(invoice, EventType.SENT, Outcome.SUCCESS, user=user, b2brouter_id=b2brouter_id,
                   request_id=request_id, message=message)


def send_uncertain(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str, remote_message: str = "",
                   request_id: str | None = None) -> InvoiceEvent:
    """Record a send whose outcome is unknown (timeout, dropped connection, 5xx)."""
    return _record(invoice, EventType.SEND_UNCERTAIN, Outcome.INFO, user=user, b2brouter_id=b2brouter_id,
                   message=message, remote_message=remote_message, request_id=request_id)


def send_not_applied(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str) -> InvoiceEvent:
    """Record that an uncertain send left the invoice new in B2Brouter for the whole checking window."""
    return _record(invoice, EventType.SEND_NOT_APPLIED, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message)


def send_failed(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str, remote_message: str = "",
                request_id: str | None = None) -> InvoiceEvent:
    """Record that the send failed."""
    return _record(invoice, EventType.SEND_FAILED, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message, remote_message=remote_message, request_id=request_id)


def linked(*, invoice: Any, user: Any, b2brouter_id: int) -> InvoiceEvent:
    """Record a link to an existing B2Brouter invoice."""
    return _record(invoice, EventType.LINKED, Outcome.SUCCESS, user=user, b2brouter_id=b2brouter_id)


def link_refused(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str) -> InvoiceEvent:
    """Record a refused link."""
    return _record(invoice, EventType.LINK_REFUSED, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message)


def unlinked(*, invoice: Any, user: Any, b2brouter_id: int | None) -> InvoiceEvent:
    """Record an unlink (nothing was deleted in B2Brouter)."""
    return _record(invoice, EventType.UNLINKED, Outcome.INFO, user=user, b2brouter_id=b2brouter_id)


def refreshed(*, invoice: Any, user: Any, b2brouter_id: int, message: str = "") -> InvoiceEvent:
    """Record a refresh from B2Brouter."""
    return _record(invoice, EventType.REFRESHED, Outcome.SUCCESS, user=user, b2brouter_id=b2brouter_id,
                   message=message)


def refresh_failed(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str, remote_message: str = "",
                   request_id: str | None = None) -> InvoiceEvent:
    """Record a failed refresh."""
    return _record(invoice, EventType.REFRESH_FAILED, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message, remote_message=remote_message, request_id=request_id)


def deleted_remote(*, invoice: Any, user: Any, b2brouter_id: int) -> InvoiceEvent:
    """Record that the linked invoice was deleted in B2Brouter (to be created again)."""
    return _record(invoice, EventType.DELETED_REMOTE, Outcome.SUCCESS, user=user, b2brouter_id=b2brouter_id)


def delete_failed(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str, remote_message: str = "",
                  request_id: str | None = None) -> InvoiceEvent:
    """Record a failed delete in B2Brouter."""
    return _record(invoice, EventType.DELETE_FAILED, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message, remote_message=remote_message, request_id=request_id)


def download_failed(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str, remote_message: str = "",
                    request_id: str | None = None) -> InvoiceEvent:
    """Record a failed document download."""
    return _record(invoice, EventType.DOWNLOAD_FAILED, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message, remote_message=remote_message, request_id=request_id)


def state_notified(*, invoice: Any, b2brouter_id: int, state: str, notes: str = "") -> InvoiceEvent:
    """Record a state change B2Brouter notified through the webhook (B2Brouter's notes kept verbatim)."""
    return _record(invoice, EventType.STATE_NOTIFIED, Outcome.INFO, b2brouter_id=b2brouter_id,
                   message=_("State: %(state)s") % {"state": state}, remote_message=notes)


def state_notification_ignored(*, invoice: Any, b2brouter_id: int, state: str, current: str) -> InvoiceEvent:
    """Record a notification older than the state already known, so it changed nothing."""
    return _record(invoice, EventType.STATE_NOTIFICATION_IGNORED, Outcome.INFO, b2brouter_id=b2brouter_id,
                   message=_("Notified state %(state)s is older than the known state %(current)s: kept %(current)s.")
                   % {"state": state, "current": current or "-"})


def synced(*, invoice: Any, b2brouter_id: int, message: str) -> InvoiceEvent:
    """Record that a background read (after a notification, or the periodic sync) changed the link."""
    return _record(invoice, EventType.SYNCED, Outcome.INFO, b2brouter_id=b2brouter_id, message=message)


def marked_paid(*, invoice: Any, user: Any, b2brouter_id: int | None, request_id: str | None = None) -> InvoiceEvent:
    """Record that B2Brouter now holds the invoice as paid."""
    return _record(invoice, EventType.MARKED_PAID, Outcome.SUCCESS, user=user, b2brouter_id=b2brouter_id,
                   request_id=request_id)


def mark_paid_failed(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str, remote_message: str = "",
                     request_id: str | None = None) -> InvoiceEvent:
    """Record that B2Brouter was not told the invoice is paid."""
    return _record(invoice, EventType.MARK_PAID_FAILED, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message, remote_message=remote_message, request_id=request_id)


def marked_unpaid(*, invoice: Any, user: Any, b2brouter_id: int | None, state: str) -> InvoiceEvent:
    """Record that B2Brouter no longer holds the invoice as paid (it confirmed ``state``)."""
    return _record(invoice, EventType.MARKED_UNPAID, Outcome.SUCCESS, user=user, b2brouter_id=b2brouter_id,
                   message=_("State: %(state)s") % {"state": state})


def mark_unpaid_failed(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str, remote_message: str = "",
                       request_id: str | None = None) -> InvoiceEvent:
    """Record that B2Brouter still holds the invoice as paid after an attempt to take that back."""
    return _record(invoice, EventType.MARK_UNPAID_FAILED, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message, remote_message=remote_message, request_id=request_id)


def pdf_attached(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str = "") -> InvoiceEvent:
    """Record that our PDF was attached to the B2Brouter invoice."""
    return _record(invoice, EventType.PDF_ATTACHED, Outcome.SUCCESS, user=user, b2brouter_id=b2brouter_id,
                   message=message)


def pdf_attach_failed(*, invoice: Any, user: Any, b2brouter_id: int | None, message: str, remote_message: str = "",
                      request_id: str | None = None) -> InvoiceEvent:
    """Record that our PDF could not be attached to the B2Brouter invoice."""
    return _record(invoice, EventType.PDF_ATTACH_FAILED, Outcome.FAILURE, user=user, b2brouter_id=b2brouter_id,
                   message=message, remote_message=remote_message, request_id=request_id)
