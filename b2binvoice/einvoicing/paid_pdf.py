"""Tell B2Brouter what happens here after a create: the invoice was paid, and our own PDF.

Both are follow-ups: a failure never undoes what succeeded here (the payment stays
recorded, the link stays), it is recorded in the invoice's B2Brouter history and told to
the user with B2Brouter's words.
"""

from __future__ import annotations

import logging
from typing import Any


import b2brouter
from b2binvoice.core.texts import gettext as _

from . import events
from .actions import Result, _linked_remote
from .errors import describe
from .models import InvoiceLink, LinkStatus

logger = logging.getLogger(__name__)


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
    try:
        data = remote.mark_as(int(link.b2brouter_id or 0), "paid")
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        events.mark_paid_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=described.text,
                                remote_message=described.remote_message, request_id=described.request_id)
        return Result("error", _("B2Brouter was not updated: invoice #%(id)s is not marked paid there. %(error)s") % {
            "id": link.b2brouter_id, "error": described.text}, described.remote_message, described.request_id)
    events.marked_paid(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id)
    if data:
        update_link_from(link, data, by=_("Mark paid"), user=user)
    else:
        InvoiceLink.objects.filter(pk=link.pk).update(state="paid")
    return Result("success", _("B2Brouter invoice #%(id)s is marked paid.") % {"id": link.b2brouter_id})


def attach_pdf(*, invoice: Any, user: Any, link: InvoiceLink, remote: Any) -> Result:
    """Upload our PDF of ``invoice`` to its B2Brouter invoice as the PDF view."""
    from b2binvoice.invoices.pdf import pdf_filename, render_invoice_pdf  # noqa: PLC0415

    filename = pdf_filename(invoice)
    try:
        content = render_invoice_pdf(invoice)
    except Exception:  # noqa: BLE001 (the create succeeded: a PDF we cannot draw must not hide it)
        logger.exception("Could not render the PDF of invoice %s for B2Brouter", invoice.pk)
        text = _("Our PDF could not be drawn, so it was not attached in B2Brouter (the invoice is created and "
                 "linked).")
        events.pdf_attach_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text)
        return Result("warning", text)
    try:
        remote.add_attachment(int(link.b2brouter_id or 0), content, filename=filename, use_as_pdf_view=True)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        events.pdf_attach_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=described.text,
                                 remote_message=described.remote_message, request_id=described.request_id)
        return Result("warning", _("Our PDF was not attached in B2Brouter (the invoice is created and linked). "
                                   "%(error)s") % {"error": described.text},
                      described.remote_message, described.request_id)
    events.pdf_attached(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=filename)
    return Result("success", _("Our PDF %(file)s is attached in B2Brouter.") % {"file": filename})
