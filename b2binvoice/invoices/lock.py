"""When an invoice's content is fixed, and what may still change.

An invoice is *locked* once it is issued (any status but draft) or once it has reached
B2Brouter beyond ``new``: its fiscal content (number, date, client, currency, lines,
taxes, discounts and charges, payment method) can then only be corrected by a credit
note. What may still change depends on how far it went:

- issued here but not sent through B2Brouter: the status (issued or paid), the due date,
  the note and the references;
- sent through B2Brouter (any state but ``new``: sending, sent, accepted, registered,
  refused, paid, closed, error, ...) or with a creation attempt whose outcome is not known
  yet: the status only, since the recipient (or B2Brouter) may already hold the rest.
  ``error`` counts as sent: B2Brouter tried to deliver it, so it may have been received or
  registered; ``new`` (created in B2Brouter, not sent) stays editable.

A draft credit note keeps the lines, taxes, client and currency it was created with (they
come from the invoice it corrects, within what is left to credit); its number, dates,
reason, note and references may change until it is issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from b2binvoice.core.texts import gettext as _
from b2binvoice.core.texts import label

from .models import InvoiceStatus

# The B2Brouter state in which the invoice's content may still change.
REMOTE_EDITABLE_STATES = frozenset({"new"})

# The form fields of the invoice page; "taxes", "lines" and "adjustments" stand for the tax
# checkboxes and the two formsets.
FISCAL_FIELDS = ("number", "client", "issue_date", "currency", "payment_method", "taxes", "lines", "adjustments")
HEADER_FIELDS = ("due_date", "buyer_reference", "purchase_order", "project_reference", "note")
CREDIT_NOTE_FIELDS = ("corrective_reason", "correction_reason")
ALL_FIELDS = (*FISCAL_FIELDS, "status", *HEADER_FIELDS, *CREDIT_NOTE_FIELDS)


def b2brouter_link(invoice: Any) -> Any | None:
    """Return the invoice's B2Brouter link (read only), or None when it has none."""
    try:
        return invoice.b2brouter_link
    except (AttributeError, ObjectDoesNotExist):
        return None


@dataclass(frozen=True)
class Lock:
    """Whether an invoice is locked, why, and the fields of the invoice page that may still change."""

    locked: bool
    sent: bool
    reason: str
    editable: tuple[str, ...]
    statuses: tuple[str, ...]

    @property
    def full_edit(self) -> bool:
        """Return whether the whole invoice form (lines included) may be used."""
        return "lines" in self.editable


def remote_state(invoice: Any) -> tuple[str, str] | None:
    """Return (link status, B2Brouter state) of the invoice's link, or None when it has none."""
    link = b2brouter_link(invoice)
    if link is None:
        return None
    return str(link.status), str(link.state or "")


def invoice_lock(invoice: Any) -> Lock:
    """Return the lock of ``invoice`` (see the module's docstring)."""
    if invoice.pk is None:
        return Lock(False, False, "", ALL_FIELDS, tuple(InvoiceStatus.values))
    remote = remote_state(invoice)
    pending = remote is not None and remote[0] == "pending"
    sent = remote is not None and remote[0] != "pending" and remote[1] not in REMOTE_EDITABLE_STATES
    # An invoice with credit notes stays fixed whatever its status says (they credit its lines as they are).
    issued = invoice.status != InvoiceStatus.DRAFT or (not invoice.is_credit_note and invoice.credit_notes.exists())
    what = _("Credit note") if invoice.is_credit_note else _("Invoice")
    if not (issued or sent or pending):
        if invoice.is_credit_note:
            return Lock(False, False, _("The lines of a credit note come from the invoice it corrects: to change "
                                        "them, delete this draft and create another credit note."),
                        ("number", "issue_date", "status", *HEADER_FIELDS, *CREDIT_NOTE_FIELDS),
                        tuple(InvoiceStatus.values))
        return Lock(False, False, "", ALL_FIELDS, tuple(InvoiceStatus.values))
    if invoice.status == InvoiceStatus.CANCELLED:
        statuses: tuple[str, ...] = (InvoiceStatus.CANCELLED,)
    else:
        # Payment is tracked (issued <-> paid); going back to draft would unlock it, and an issued
        # invoice is cancelled by a credit note, not by a status.
        statuses = tuple(dict.fromkeys([invoice.status, InvoiceStatus.ISSUED, InvoiceStatus.PAID]))
    correction = (_("It can only be corrected by a credit note.") if not invoice.is_credit_note
                  else _("A credit note is corrected by issuing a new invoice."))
    if pending:
        reason = _("%(what)s %(number)s is being created in B2Brouter and the outcome is not known yet: its content "
                   "cannot change meanwhile, since B2Brouter may already hold it.") % {
                       "what": what, "number": invoice.number}
        return Lock(True, True, reason, ("status",), statuses)
    if sent:
        state = remote[1] if remote else ""
        reason = _("%(what)s %(number)s was sent through B2Brouter (state: %(state)s): its content is fixed and only "
                   "its payment status can change. %(correction)s") % {
                       "what": what, "number": invoice.number, "state": state or "?", "correction": correction}
        return Lock(True, True, reason, ("status",), statuses)
    reason = _("%(what)s %(number)s is %(status)s: its number, date, client, currency, lines, taxes, discounts and "
               "charges and payment method cannot change. %(correction)s") % {
                   "what": what, "number": invoice.number,
                   "status": label(InvoiceStatus(invoice.status).label, lowercase=True),
                   "correction": correction}
    return Lock(True, False, reason, ("status", *HEADER_FIELDS), statuses)


def posted_fields(data: Any) -> set[str]:
    """Return the invoice page fields a POST carries ("lines" for any lines-* key, and so on)."""
    found = set()
    for key in data:
        name = key.split("-", 1)[0] if key.startswith(("lines-", "adjustments-")) else key
        if name in ALL_FIELDS:
            found.add(name)
    return found


def deletion_refusal(invoice: Any) -> str | None:
    """Return why ``invoice`` cannot be deleted, or None for a draft that can."""
    if invoice.status != InvoiceStatus.DRAFT:
        return _("%(number)s is %(status)s: an issued invoice cannot be deleted. Correct it with a credit note.") % {
            "number": invoice.number, "status": label(InvoiceStatus(invoice.status).label, lowercase=True)}
    if b2brouter_link(invoice) is not None:
        return _("%(number)s has a B2Brouter invoice (or a creation attempt): it cannot be deleted here. Delete it "
                 "in B2Brouter or unlink it first.") % {"number": invoice.number}
    if invoice.credit_notes.exists():
        return _("%(number)s has credit notes: it cannot be deleted.") % {"number": invoice.number}
    return None
