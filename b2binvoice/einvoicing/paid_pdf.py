"""Tell B2Brouter what happens here after a create: the invoice was paid (or is not any more), and our PDF.

All are follow-ups: a failure never undoes what succeeded here (the payment stays recorded,
or deleted; the link stays), it is recorded in the invoice's B2Brouter history and told to
the user with B2Brouter's words.

A deleted payment can leave something due on an invoice B2Brouter holds as paid. ``mark_as``
accepts the earlier states again (contract §4: sent, accepted, registered, ...), so the
invoice's page offers to put back the state it had before it was marked paid
(:func:`mark_unpaid`); only the state B2Brouter answers (or a read of it) says it worked.

Our PDF is attached once per B2Brouter invoice: ``InvoiceLink.pdf_attached_to`` is claimed
before the upload leaves, so the create's answer, the check of an uncertain create and the
background check cannot attach it twice.
"""

from __future__ import annotations

import logging
from typing import Any


import b2brouter
from b2binvoice.core.texts import gettext as _

from . import events
from .actions import Result, _linked_remote, _uncertain
from .errors import describe
from .models import EventType, InvoiceEvent, InvoiceLink, LinkStatus
from .remote import Remote, web_invoice_url

logger = logging.getLogger(__name__)

#: The states an invoice B2Brouter holds as paid may be put back to (``mark_as`` accepts them; ``new``
#: is left out: it would make a sent invoice editable and sendable again).
UNPAID_STATES = ("sent", "accepted", "registered")
#: The states in which B2Brouter takes our PDF as the invoice's PDF view: before it is sent, or just sent
#: (the attachments guide names no state; after acceptance or payment the recipient has long had it).
ATTACHABLE_STATES = frozenset({"new", "error", "sending", "sent"})


def _linked(invoice: Any) -> InvoiceLink | None:
    return InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.LINKED).first()


def mark_paid(*, invoice: Any, user: Any) -> Result | None:
    """Mark the linked B2Brouter invoice paid; None when the invoice has no B2Brouter invoice."""
    from .sync import update_link_from  # noqa: PLC0415 (sync imports actions)

    link = _linked(invoice)
    if link is None:
        return None
    _integration, remote, problem = _linked_remote(invoice, link)
    if problem is not None or remote is None:
        text = problem.text if problem is not None else ""
        events.mark_paid_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text)
        return Result("error", _("B2Brouter was not updated: %(error)s") % {"error": text})
    before = str(link.state or "")
    try:
        data = remote.mark_as(int(link.b2brouter_id or 0), "paid")
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        events.mark_paid_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=described.text,
                                remote_message=described.remote_message, request_id=described.request_id)
        return Result("error", _("B2Brouter was not updated: invoice #%(id)s is not marked paid there. %(error)s") % {
            "id": link.b2brouter_id, "error": described.text}, described.remote_message, described.request_id)
    events.marked_paid(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id)
    if before in UNPAID_STATES:  # offered back if a deleted payment un-pays the invoice
        InvoiceLink.objects.filter(pk=link.pk).update(state_before_paid=before)
    if data:
        update_link_from(link, data, by=_("Mark paid"), user=user)
    else:
        InvoiceLink.objects.filter(pk=link.pk).update(state="paid")
    return Result("success", _("B2Brouter invoice #%(id)s is marked paid.") % {"id": link.b2brouter_id})


def _read_back(link: InvoiceLink, remote: Remote, *, by: str, user: Any) -> bool:
    """Read the linked invoice again and store what B2Brouter says; False when it could not be read."""
    from .sync import update_link_from  # noqa: PLC0415 (sync imports actions)

    try:
        data = remote.invoice(int(link.b2brouter_id or 0))
    except b2brouter.B2BRouterError:
        return False
    update_link_from(link, data, by=by, user=user)
    return True


def mark_unpaid(*, invoice: Any, user: Any, state: str) -> Result | None:
    """Put the linked B2Brouter invoice, held as paid, back to ``state``; None when it has no B2Brouter invoice.

    Success is told only when B2Brouter's answer (or a read after an answer that never came)
    shows the invoice no longer paid. ``mark_as`` sets a state, so trying again is harmless.
    """
    from .sync import update_link_from  # noqa: PLC0415 (sync imports actions)

    link = _linked(invoice)
    if link is None:
        return None
    if state not in UNPAID_STATES:
        return Result("error", _("Choose the state to put back: sent, accepted or registered."))
    _integration, remote, problem = _linked_remote(invoice, link)
    if problem is not None or remote is None:
        text = problem.text if problem is not None else ""
        events.mark_unpaid_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text)
        return Result("error", _("B2Brouter was not updated: %(error)s") % {"error": text})
    by = _("Mark %(state)s again") % {"state": state}
    try:
        data = remote.mark_as(int(link.b2brouter_id or 0), state)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        # An answer that never came may hide a change B2Brouter made: its state tells.
        if not (_uncertain(exc) and _read_back(link, remote, by=by, user=user) and link.state != "paid"):
            text = _("B2Brouter did not confirm that invoice #%(id)s is %(state)s again: it still shows as paid "
                     "here. %(error)s") % {"id": link.b2brouter_id, "state": state, "error": described.text}
            events.mark_unpaid_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text,
                                      remote_message=described.remote_message, request_id=described.request_id)
            return Result("error", text, described.remote_message, described.request_id)
    else:
        if data and data.get("state"):
            update_link_from(link, data, by=by, user=user)
        else:
            _read_back(link, remote, by=by, user=user)
        if link.state == "paid" or not link.state:
            text = _("B2Brouter did not confirm that invoice #%(id)s is %(state)s again: it still shows as paid "
                     "here. %(error)s") % {"id": link.b2brouter_id, "state": state,
                                           "error": _("Refresh it, or try again.")}
            events.mark_unpaid_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text)
            return Result("error", text)
    InvoiceLink.objects.filter(pk=link.pk).update(state_before_paid="")
    events.marked_unpaid(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, state=str(link.state))
    return Result("success", _("B2Brouter invoice #%(id)s is %(state)s again: it no longer shows as paid.") % {
        "id": link.b2brouter_id, "state": link.state})


def unpaid_correction(invoice: Any) -> dict[str, Any] | None:
    """Return what the invoice's page offers when B2Brouter holds it as paid but something is due here.

    None otherwise. The offer names the state the invoice had before we marked it paid (``sent``
    when that is not known) and the last failed attempt, if the last attempt failed.
    """
    from b2binvoice.invoices.payments import remote_unpaid_pending  # noqa: PLC0415 (invoices is below us)

    if not remote_unpaid_pending(invoice):
        return None
    link = invoice.b2brouter_link
    last = (InvoiceEvent.objects.filter(invoice=invoice, type__in=(
        EventType.MARKED_PAID, EventType.MARKED_UNPAID, EventType.MARK_UNPAID_FAILED)).order_by("-created_at", "-pk")
        .first())
    before = link.state_before_paid if link.state_before_paid in UNPAID_STATES else "sent"
    return {"link": link, "states": UNPAID_STATES, "before": before,
            "failure": last if last is not None and last.type == EventType.MARK_UNPAID_FAILED else None,
            "open_url": web_invoice_url(link.environment, link.b2brouter_id)}


def with_attachment(result: Result, attached: Result | None) -> Result:
    """Return ``result`` told together with a failed attachment of our PDF (a success adds nothing)."""
    if attached is None or attached.ok:
        return result
    level = result.level if result.level == "error" else "warning"
    return Result(level, f"{result.text} {attached.text}", result.remote_message or attached.remote_message,
                  result.request_id or attached.request_id, uncertain=result.uncertain)


def _claim_attachment(link: InvoiceLink) -> bool:
    """Claim the upload of our PDF to the link's B2Brouter invoice; False when it was attached (or is going up)."""
    b2brouter_id = int(link.b2brouter_id or 0)
    return bool(InvoiceLink.objects.filter(pk=link.pk, status=LinkStatus.LINKED, b2brouter_id=b2brouter_id)
                .exclude(pdf_attached_to=b2brouter_id).update(pdf_attached_to=b2brouter_id))


def _release_attachment(link: InvoiceLink) -> None:
    InvoiceLink.objects.filter(pk=link.pk, pdf_attached_to=link.b2brouter_id).update(pdf_attached_to=None)


def attach_pdf_once(*, invoice: Any, user: Any, link: InvoiceLink, remote: Any,
                    integration: Any) -> Result | None:
    """Attach our PDF to a B2Brouter invoice just confirmed created, unless the integration does not ask for it.

    None when nothing was to do: attaching is off, the invoice is past the states that take it, or
    the PDF is already attached (or going up in another request).
    """
    if not getattr(integration, "attach_pdf", False) or link.state not in ATTACHABLE_STATES:
        return None
    return attach_pdf(invoice=invoice, user=user, link=link, remote=remote)


def attach_pdf(*, invoice: Any, user: Any, link: InvoiceLink, remote: Any) -> Result | None:
    """Upload our PDF of ``invoice`` to its B2Brouter invoice as the PDF view, once (None: already attached).

    A refusal (or a PDF we cannot draw) releases the claim; an answer that never came keeps it,
    since the file may be there: it is not uploaded a second time.
    """
    from b2binvoice.invoices.pdf import pdf_filename, render_invoice_pdf  # noqa: PLC0415

    if not _claim_attachment(link):
        return None
    filename = pdf_filename(invoice)
    try:
        content = render_invoice_pdf(invoice)
    except Exception:  # noqa: BLE001 (the create succeeded: a PDF we cannot draw must not hide it)
        logger.exception("Could not render the PDF of invoice %s for B2Brouter", invoice.pk)
        _release_attachment(link)
        text = _("Our PDF could not be drawn, so it was not attached in B2Brouter (the invoice is created and "
                 "linked).")
        events.pdf_attach_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text)
        return Result("warning", text)
    try:
        remote.add_attachment(int(link.b2brouter_id or 0), content, filename=filename, use_as_pdf_view=True)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        if _uncertain(exc):
            text = _("B2Brouter did not confirm that our PDF was attached (the invoice is created and linked). It "
                     "is not uploaded again, so as not to attach it twice: check the invoice's attachments in "
                     "B2Brouter. %(error)s") % {"error": described.text}
            events.pdf_attach_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text,
                                     remote_message=described.remote_message, request_id=described.request_id)
            return Result("warning", text, described.remote_message, described.request_id)
        _release_attachment(link)
        events.pdf_attach_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=described.text,
                                 remote_message=described.remote_message, request_id=described.request_id)
        return Result("warning", _("Our PDF was not attached in B2Brouter (the invoice is created and linked). "
                                   "%(error)s") % {"error": described.text},
                      described.remote_message, described.request_id)
    events.pdf_attached(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=filename)
    return Result("success", _("Our PDF %(file)s is attached in B2Brouter.") % {"file": filename})
