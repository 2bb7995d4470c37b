"""Who an e-invoice goes to, and what leaves: the recipient check, the confirmation, and deleting unsent invoices.

An invoice is addressed to a B2Brouter contact, not to a client: the client remembers its
contact, and B2Brouter sends to whatever that contact holds. So the app

- shows the contact an invoice goes to (name, tax id, country, as B2Brouter has it);
- refuses to take another company's contact (a different normalised tax id) as a client's;
- remembers what the contact was matched against (``Client.b2brouter_contact_basis``) and holds
  creating and sending back once the client's name, tax id, address or country changed, until the
  contact is updated in B2Brouter (``PUT /contacts/{id}``) or confirmed as still right;
- asks before a legal document leaves: Create and Send show the number, the recipient, the total
  and whether B2Brouter sends it right away, and act only on a token that fingerprints what was
  shown (a crafted POST without it, or with a token for other figures, is shown the confirmation);
- deletes an unsent B2Brouter invoice (``DELETE /invoices/{id}``, allowed in ``new`` and
  ``error``) and removes the link, so the invoice can be created again; a sent one is corrected
  by a credit note.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy

import b2brouter
from b2binvoice.core.validators import compact_tin
from b2binvoice.core.texts import gettext as _
from b2binvoice.core.texts import join

from . import directory, events
from .actions import NOT_READY, Result, get_integration, link_fields
from .comparison import compare, link_figures
from .errors import describe
from .mapping import contact_payload
from .models import B2BrouterIntegration, InvoiceLink, LinkStatus
from .readiness import Item, client_url, store_contact
from .remote import Remote

if TYPE_CHECKING:
    from b2binvoice.clients.models import Client
    from b2binvoice.invoices.models import Invoice

    from .readiness import Readiness

#: The client data a contact is matched against, in the order a change is told.
BASIS_FIELDS = {
    "name": gettext_lazy("name"),
    "tin": gettext_lazy("tax id"),
    "country": gettext_lazy("country"),
    "address": gettext_lazy("address"),
    "city": gettext_lazy("city"),
    "postal_code": gettext_lazy("postal code"),
    "province": gettext_lazy("province"),
}
#: The contact fields that hold the address: sent blank on an update so a removed line is removed.
ADDRESS_FIELDS = ("address", "city", "postalcode", "province")
#: B2Brouter states in which an invoice may be deleted (contract section 4).
DELETABLE_STATES = frozenset({"new", "error"})
CONFIRM_FIELD = "confirm"


# --- What the contact was matched against -----------------------------------------------------


def client_basis(client: Client) -> dict[str, str]:
    """Return the client data its contact is matched against (tax id compacted, country upper-cased)."""
    return {
        "name": client.name.strip(),
        "tin": compact_tin(client.tin),
        "country": (client.country or "").upper(),
        "address": client.address.strip(),
        "city": client.city.strip(),
        "postal_code": client.postal_code.strip(),
        "province": client.province.strip(),
    }


def contact_view(contact: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return what the app shows of a B2Brouter contact: id, name, tax id, country."""
    if not contact:
        return {}
    return {"id": int(contact["id"]) if contact.get("id") else None, "name": str(contact.get("name") or ""),
            "tin_value": str(contact.get("tin_value") or ""), "country": str(contact.get("country") or "").upper()}


def basis_for(client: Client, contact: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the record of a match made now: the client's data, and the contact as B2Brouter showed it."""
    return {"client": client_basis(client), "contact": contact_view(contact), "at": timezone.now().isoformat()}


@dataclass
class Change:
    """One piece of client data that changed since its contact was matched."""

    field: str
    label: str
    before: str
    after: str

    def __str__(self) -> str:
        return _("%(field)s %(before)s → %(after)s") % {
            "field": self.label, "before": self.before or "—", "after": self.after or "—"}


def changes_since_match(client: Client) -> list[Change]:
    """Return what changed in the client's name, tax id, address or country since its contact was matched."""
    matched = (client.b2brouter_contact_basis or {}).get("client")
    if not client.b2brouter_contact_id or not isinstance(matched, dict):
        return []
    now = client_basis(client)
    return [Change(name, str(label), str(matched.get(name) or ""), now[name])
            for name, label in BASIS_FIELDS.items() if str(matched.get(name) or "") != now[name]]


def changes_text(changes: list[Change]) -> str:
    """Say what changed, e.g. "tax id ESB58378431 → ESA58818501; address Calle Mayor 1 → Calle Nueva 2"."""
    return "; ".join(str(change) for change in changes)


# --- The contact's tax id ---------------------------------------------------------------------


def same_tax_id(client: Client, contact: Mapping[str, Any]) -> bool:
    """Tell whether the contact has the client's tax id (normalised; the country prefix is optional)."""
    theirs = str(contact.get("tin_value") or "")
    if not client.tin or not theirs:
        return False
    return b2brouter.same_tin(client.tin, theirs, country_a=client.country or None,
                              country_b=str(contact.get("country") or "") or None)


def tax_id_conflict(client: Client, contact: Mapping[str, Any]) -> str:
    """Explain why the contact cannot be the client's (another tax id, or none); blank when it can or cannot be told."""
    if not client.tin or same_tax_id(client, contact):
        return ""
    who = _("Contact #%(id)s %(name)s") % {"id": contact.get("id"), "name": contact.get("name") or ""}
    if not contact.get("tin_value"):
        return _("%(who)s has no tax id in B2Brouter, so it cannot be checked to be %(client)s (tax id %(ours)s). "
                 "Add the tax id to the contact in B2Brouter, or create the contact from this client.") % {
            "who": who, "client": client.name, "ours": client.tin}
    return _("%(who)s has tax id %(theirs)s, but %(client)s has tax id %(ours)s: it is another company's contact, "
             "and an invoice addressed to it would go to that company. Choose the contact with tax id %(ours)s, or "
             "create the contact from this client.") % {
        "who": who, "theirs": contact.get("tin_value"), "client": client.name, "ours": client.tin}


def choice_refusal(client: Client, contact: Mapping[str, Any], *, confirmed: bool) -> Result | None:
    """Say why ``contact`` may not be taken as the client's, or None when it may.

    A client with a tax id takes only a contact with the same (normalised) tax id. A client
    without one cannot be checked: the choice is taken once the user has confirmed it.
    """
    conflict = tax_id_conflict(client, contact)
    if conflict:
        return Result("error", _("Not linked: %(why)s") % {"why": conflict})
    if not client.tin and not confirmed:
        return Result("warning", no_tax_id_warning(client, contact))
    return None


def no_tax_id_warning(client: Client, contact: Mapping[str, Any]) -> str:
    """Warn that a client without a tax id cannot be checked against the contact chosen for it."""
    return _("%(client)s has no tax id, so b2binvoice cannot check that contact #%(id)s %(name)s (tax id %(tin)s, "
             "%(country)s) is this client. Invoices of %(client)s will be addressed to this contact: confirm only if "
             "it is this client.") % {
        "client": client.name, "id": contact.get("id"), "name": contact.get("name") or "",
        "tin": contact.get("tin_value") or "—", "country": str(contact.get("country") or "").upper() or "—"}


# --- The recipient ----------------------------------------------------------------------------


@dataclass
class Recipient:
    """The B2Brouter contact an invoice goes to, as B2Brouter has it (or as last seen)."""

    contact_id: int
    name: str = ""
    tin: str = ""
    country: str = ""
    # Read from B2Brouter for this page (False: as remembered when the contact was matched).
    read: bool = False
    # B2Brouter has no such contact (404), or it could not be read (and why).
    missing: bool = False
    error: str = ""
    remote_message: str = ""
    request_id: str = ""

    @property
    def known(self) -> bool:
        return bool(self.name or self.tin)

    @property
    def label(self) -> str:
        """Return "name · tax id X · country" (what is known of it)."""
        if not self.known:
            return _("contact #%(id)s") % {"id": self.contact_id}
        return _("%(name)s · tax id %(tin)s · %(country)s") % {
            "name": self.name or "—", "tin": self.tin or "—", "country": self.country or "—"}

    def as_contact(self) -> dict[str, Any]:
        return {"id": self.contact_id, "name": self.name, "tin_value": self.tin, "country": self.country}


def _remembered(client: Client, contact_id: int) -> Recipient:
    seen = (client.b2brouter_contact_basis or {}).get("contact") or {}
    if client.b2brouter_contact_id == contact_id and seen.get("id") == contact_id:
        return Recipient(contact_id, seen.get("name", ""), seen.get("tin_value", ""), seen.get("country", ""))
    return Recipient(contact_id)


def read_recipient(contact_id: int, remote: Remote | None, client: Client) -> Recipient:
    """Read the contact from B2Brouter (or, without a connection, answer what was remembered of it)."""
    if remote is None:
        return _remembered(client, contact_id)
    try:
        contact = remote.contact(contact_id)
    except b2brouter.NotFoundError as exc:
        described = describe(exc)
        return Recipient(contact_id, missing=True, remote_message=described.remote_message,
                         request_id=described.request_id)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        found = _remembered(client, contact_id)
        found.error, found.remote_message, found.request_id = (
            described.text, described.remote_message, described.request_id)
        return found
    seen = contact_view(contact)
    return Recipient(contact_id, seen["name"], seen["tin_value"], seen["country"], read=True)


def remembered_contact(client: Client) -> Recipient | None:
    """Return the client's contact as B2Brouter showed it when it was matched (no call)."""
    if not client.b2brouter_contact_id:
        return None
    return _remembered(client, int(client.b2brouter_contact_id))


def linked_recipient(invoice: Invoice, link: InvoiceLink, integration: B2BrouterIntegration | None) -> Recipient | None:
    """Return the contact a linked invoice is addressed to: as remembered, else read from B2Brouter."""
    if not link.contact_id:
        return None
    found = _remembered(invoice.client, int(link.contact_id))
    if found.known or integration is None or not integration.is_ready \
            or link.account_id != str(integration.account_id):
        return found
    return read_recipient(int(link.contact_id), Remote.for_integration(integration), invoice.client)


def recipient_problem(client: Client, recipient: Recipient, *, out_of_date: bool) -> str:
    """Say why the invoice must not go to ``recipient`` (gone, unreadable, another tax id); blank when it may."""
    if recipient.missing:
        return _("B2Brouter has no contact #%(id)s any more (404): it may have been deleted there. Forget it, then "
                 "create the contact from %(client)s or choose the right one.") % {
            "id": recipient.contact_id, "client": client.name}
    if out_of_date or not (recipient.read or recipient.known):
        return ""  # the out-of-date line says what to do; with nothing read there is nothing to compare
    # A contact that could not be read just now (B2Brouter failing) is checked as last seen: a
    # passing failure does not block, and the create or send meets the failure itself if it lasts.
    return tax_id_conflict(client, recipient.as_contact())


def out_of_date_problem(client: Client, changes: list[Change]) -> str:
    """Say that the contact is out of date, what changed, and the two ways out."""
    return _("The B2Brouter contact is out of date: %(client)s changed since contact #%(id)s was matched or created "
             "(%(changes)s). Update the contact in B2Brouter with the client's data, or confirm that the contact "
             "is still right.") % {"client": client.name, "id": client.b2brouter_contact_id,
                                   "changes": changes_text(changes)}


def checklist_items(client: Client, contact_id: int, remote: Remote | None) -> tuple[list[Item], Recipient]:
    """Return the checklist's recipient lines (who it goes to; whether the contact is current) and the recipient."""
    recipient = read_recipient(contact_id, remote, client)
    changes = changes_since_match(client) if client.b2brouter_contact_id == contact_id else []
    problem = recipient_problem(client, recipient, out_of_date=bool(changes))
    label = _("Goes to B2Brouter contact #%(id)s: %(who)s") % {"id": contact_id, "who": recipient.label}
    if recipient.error:
        label = _("%(label)s (as last seen: B2Brouter did not answer just now)") % {"label": label}
    if not client.tin:
        label = _("%(label)s (the client has no tax id to check it by)") % {"label": label}
    items = [
        Item("recipient", label, not problem, problem, client_url(client),
             _("Open client %(client)s") % {"client": client.name}),
        Item("contact_current", _("The B2Brouter contact is up to date with the client"), not changes,
             out_of_date_problem(client, changes) if changes else "", client_url(client),
             _("Open client %(client)s") % {"client": client.name}),
    ]
    return items, recipient


# --- Contact actions --------------------------------------------------------------------------


def _ready_remote(company: Any) -> tuple[B2BrouterIntegration | None, Remote | None]:
    integration = get_integration(company)
    if integration is None or not integration.is_ready:
        return integration, None
    return integration, Remote.for_integration(integration)


def _mapped(client: Client, integration: B2BrouterIntegration) -> bool:
    return bool(client.b2brouter_contact_id and client.b2brouter_account_id == str(integration.account_id))


def update_contact(*, client: Client) -> Result:
    """Write the client's current data to its B2Brouter contact (``PUT /contacts/{id}``) and remember it."""
    integration, remote = _ready_remote(client.company)
    if remote is None or integration is None:
        return Result("error", str(NOT_READY))
    if not _mapped(client, integration):
        return Result("error", _("%(client)s has no B2Brouter contact to update: create or choose one.") % {
            "client": client.name})
    contact_id = int(client.b2brouter_contact_id)
    payload = contact_payload(client)
    for name in ADDRESS_FIELDS:
        payload.setdefault(name, "")  # a line removed here is removed in B2Brouter too
    try:
        contact = remote.update_contact(contact_id, payload)
    except b2brouter.NotFoundError as exc:
        described = describe(exc)
        return Result("error", _("B2Brouter has no contact #%(id)s any more: forget it, then create the contact from "
                                 "this client or choose the right one.") % {"id": contact_id},
                      described.remote_message, described.request_id)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        text = _("B2Brouter did not update contact #%(id)s. %(error)s") % {"id": contact_id, "error": described.text}
        if getattr(exc, "code", None) == "parameter_taken":
            text = _("B2Brouter did not update contact #%(id)s: another of its contacts already has tax id %(tin)s. "
                     "Forget this contact and choose that one (Choose an existing contact).") % {
                "id": contact_id, "tin": payload.get("tin_value") or client.tin}
        return Result("error", text, described.remote_message, described.request_id)
    store_contact(client, integration, contact_id, contact=contact or {"id": contact_id, **payload})
    # How B2Brouter delivers may change with the tax id or country: look it up again (information only).
    directory.check_directory(client, integration, remote)
    return Result("success", _("Updated contact #%(id)s in B2Brouter with the name, tax id, address and country of "
                               "%(client)s.") % {"id": contact_id, "client": client.name})


def confirm_contact(*, client: Client) -> Result:
    """Take the contact as still right for the client as it is now (refused when the tax ids differ)."""
    integration, remote = _ready_remote(client.company)
    if remote is None or integration is None:
        return Result("error", str(NOT_READY))
    if not _mapped(client, integration):
        return Result("error", _("%(client)s has no B2Brouter contact to confirm.") % {"client": client.name})
    recipient = read_recipient(int(client.b2brouter_contact_id), remote, client)
    problem = recipient_problem(client, recipient, out_of_date=False)
    if problem:
        return Result("error", _("The contact cannot be confirmed as still right: %(why)s Update it in B2Brouter "
                                 "instead, or forget it and choose the right one.") % {"why": problem},
                      recipient.remote_message, recipient.request_id)
    store_contact(client, integration, recipient.contact_id, contact=recipient.as_contact())
    return Result("success", _("Contact #%(id)s (%(who)s) is confirmed as the contact of %(client)s as it is now.") % {
        "id": recipient.contact_id, "who": recipient.label, "client": client.name})


# --- What leaves: the confirmation ------------------------------------------------------------


@dataclass
class Outgoing:
    """What a Create or a Send would hand to B2Brouter, as the confirmation shows it."""

    action: str  # "create", "recreate" or "send"
    invoice: Invoice
    recipient: Recipient | None
    total: Decimal | None
    currency: str
    sends_now: bool
    b2brouter_id: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def simplified(self) -> bool:
        """Return whether the invoice goes as a Spanish simplified invoice (its client inline, no contact)."""
        from b2binvoice.invoices import verifactu  # noqa: PLC0415

        return verifactu.is_simplified(verifactu.computed_type_code(self.invoice))

    def fingerprint(self) -> str:
        """Return everything the confirmation states, so a token is valid for exactly that."""
        recipient = self.recipient
        return json.dumps([
            self.action, self.invoice.pk, self.invoice.number, str(self.invoice.issue_date), self.currency,
            str(self.total), self.sends_now, self.b2brouter_id,
            [recipient.contact_id, recipient.name, recipient.tin, recipient.country] if recipient else None,
            [self.invoice.client.name, self.invoice.client.country] if self.simplified else None,
        ])

    @property
    def token(self) -> str:
        """Return the confirmation token of what is shown (an HMAC under the site's secret key)."""
        return salted_hmac("b2binvoice.einvoicing.recipient.confirm", self.fingerprint()).hexdigest()

    def confirmed_by(self, token: str | None) -> bool:
        """Tell whether ``token`` confirms exactly what would leave now."""
        return bool(token) and constant_time_compare(str(token), self.token)

    @property
    def recipient_name(self) -> str:
        if self.recipient is None:
            return self.invoice.client.name if self.simplified else "—"
        return self.recipient.name or _("contact #%(id)s") % {"id": self.recipient.contact_id}

    @property
    def consequence(self) -> str:
        """Say whether the invoice leaves now, and to whom."""
        if self.sends_now:
            return _("B2Brouter will send it to %(recipient)s right away: it is a legal invoice once sent, and only a "
                     "credit note can correct it then.") % {"recipient": self.recipient_name}
        return _("It is created unsent in B2Brouter (Send after create is off): you send it after checking it, with "
                 "Send.")


def _our_total(invoice: Invoice) -> Decimal:
    from b2binvoice.invoices.calculations import calculate_invoice  # noqa: PLC0415 (kept beside its use)

    return calculate_invoice(invoice).total


def prepare_create(invoice: Invoice, integration: B2BrouterIntegration | None, readiness: Readiness,
                   *, action: str = "create") -> Outgoing:
    """Return what creating the invoice would send (and whether it would be sent right away)."""
    return Outgoing(action, invoice, readiness.recipient, _our_total(invoice), invoice.currency,
                    bool(integration and integration.send_after_create), problems=list(readiness.problems))


def send_problems(invoice: Invoice, link: InvoiceLink, integration: B2BrouterIntegration | None,
                  recipient: Recipient | None) -> list[str]:
    """Say what stops the linked invoice from being sent now: its state, its figures, or its recipient."""
    problems = []
    client = invoice.client
    if integration is None or not integration.is_ready:
        return [str(NOT_READY)]
    if link.account_id != str(integration.account_id):
        problems.append(_("This invoice is linked to an invoice of B2Brouter account %(old)s, but the integration now "
                          "uses account %(new)s.") % {"old": link.account_id, "new": integration.account_id})
    if not link.can_send:
        problems.append(_("B2Brouter invoice #%(id)s is %(state)s: only new or failed invoices can be sent.") % {
            "id": link.b2brouter_id, "state": link.state or "-"})
    if not compare(invoice, link_figures(link)).equal:
        problems.append(_("B2Brouter's figures differ from this invoice's (see the comparison): it is not sent."))
    current = client.b2brouter_contact_id if _mapped(client, integration) else None
    if link.contact_id and current and int(link.contact_id) != int(current):
        problems.append(_("B2Brouter invoice #%(id)s is addressed to contact #%(old)s, but the contact of %(client)s "
                          "is now #%(new)s: delete it in B2Brouter and create it again.") % {
            "id": link.b2brouter_id, "old": link.contact_id, "client": client.name, "new": current})
    elif link.contact_id and current:
        changes = changes_since_match(client)
        if changes:
            problems.append(out_of_date_problem(client, changes))
    if recipient is not None:
        problem = recipient_problem(client, recipient, out_of_date=bool(problems))
        if problem:
            problems.append(problem)
    return problems


def prepare_send(invoice: Invoice, link: InvoiceLink, integration: B2BrouterIntegration | None,
                 remote: Remote | None) -> Outgoing:
    """Return what sending the linked invoice would hand to B2Brouter, and what stops it."""
    recipient = read_recipient(int(link.contact_id), remote, invoice.client) if link.contact_id else None
    return Outgoing("send", invoice, recipient, _our_total(invoice), invoice.currency, True,
                    b2brouter_id=link.b2brouter_id,
                    problems=send_problems(invoice, link, integration, recipient))


def refuse_create(*, invoice: Invoice, user: Any, problems: list[str]) -> Result:
    """Record and say that a create was blocked (nothing leaves)."""
    events.create_blocked(invoice=invoice, user=user, problems=problems)
    return Result("error", _("Nothing was sent to B2Brouter: %(problems)s") % {"problems": join(" ", problems)})


def refuse_existing(*, invoice: Invoice, user: Any) -> Result:
    """Record and say that a create was refused because a link or an attempt exists (nothing leaves)."""
    text = _("This invoice already has a B2Brouter invoice or a creation attempt in progress: nothing was sent "
             "again.")
    events.create_refused(invoice=invoice, user=user, message=text)
    return Result("error", text)


def refuse_send(*, invoice: Invoice, user: Any, link: InvoiceLink, problems: list[str]) -> Result:
    """Record and say that a send was refused (nothing leaves)."""
    text = _("Not sent: %(problems)s") % {"problems": join(" ", problems)}
    events.send_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text)
    return Result("error", text)


# --- Deleting an unsent invoice in B2Brouter --------------------------------------------------


def deletion_refusal(invoice: Invoice, link: InvoiceLink) -> Result | None:
    """Say why the linked invoice cannot be deleted in B2Brouter, or None when it can."""
    if link.status != LinkStatus.LINKED:
        return Result("error", _("This invoice is not linked to a B2Brouter invoice."))
    if link.send_uncertain:
        # B2Brouter may be sending it right now: wait until the send's outcome is known.
        return Result("error", _("A send of this invoice has not been confirmed by B2Brouter yet: it cannot be "
                                 "deleted until its outcome is known."))
    if link.state in DELETABLE_STATES:
        return None
    return Result("error", sent_cannot_be_deleted(invoice, link))


def sent_cannot_be_deleted(invoice: Invoice, link: InvoiceLink) -> str:
    """Say that a sent invoice is corrected by a credit note, not deleted."""
    return _("B2Brouter invoice #%(id)s is %(state)s. Sent invoices cannot be deleted: correct it with a credit note "
             "(from invoice %(number)s).") % {"id": link.b2brouter_id, "state": link.state or "-",
                                              "number": invoice.number}


def delete_remote_invoice(*, invoice: Invoice, user: Any) -> Result:
    """Delete the linked, unsent invoice in B2Brouter and forget the link, so it can be created again."""
    link = InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.LINKED).first()
    if link is None:
        return Result("error", _("This invoice is not linked to a B2Brouter invoice."))
    refusal = deletion_refusal(invoice, link)
    if refusal is not None:
        return refusal
    integration, remote = _ready_remote(invoice.company)
    if remote is None or integration is None:
        return Result("error", str(NOT_READY))
    if link.account_id != str(integration.account_id):
        return Result("error", _("This invoice is linked to an invoice of B2Brouter account %(old)s, but the "
                                 "integration now uses account %(new)s: nothing was deleted.") % {
            "old": link.account_id, "new": integration.account_id})
    b2brouter_id = int(link.b2brouter_id)
    # The state shown may be old (a send from elsewhere, a notification not yet received): ask first.
    try:
        data = remote.invoice(b2brouter_id)
    except b2brouter.NotFoundError:
        link.delete()
        events.unlinked(invoice=invoice, user=user, b2brouter_id=b2brouter_id)
        return Result("info", _("B2Brouter no longer has invoice #%(id)s: the link was removed, and this invoice can "
                                "be created again.") % {"id": b2brouter_id})
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        return Result("error", _("Could not read B2Brouter invoice #%(id)s, so nothing was deleted. %(error)s") % {
            "id": b2brouter_id, "error": described.text}, described.remote_message, described.request_id)
    fields = link_fields(data)
    fields.pop("b2brouter_id")
    InvoiceLink.objects.filter(pk=link.pk).update(**fields)
    for name, value in fields.items():
        setattr(link, name, value)
    refusal = deletion_refusal(invoice, link)
    if refusal is not None:
        events.delete_failed(invoice=invoice, user=user, b2brouter_id=b2brouter_id, message=refusal.text)
        return refusal
    try:
        remote.delete_invoice(b2brouter_id)
    except b2brouter.NotFoundError:
        pass  # gone meanwhile: nothing left to delete
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        events.delete_failed(invoice=invoice, user=user, b2brouter_id=b2brouter_id, message=described.text,
                             remote_message=described.remote_message, request_id=described.request_id)
        return Result("error", _("B2Brouter did not delete invoice #%(id)s. %(error)s") % {
            "id": b2brouter_id, "error": described.text}, described.remote_message, described.request_id)
    with transaction.atomic():
        events.deleted_remote(invoice=invoice, user=user, b2brouter_id=b2brouter_id)
        InvoiceLink.objects.filter(pk=link.pk).delete()
    return Result("success", _("Deleted invoice #%(id)s in B2Brouter. Invoice %(number)s is no longer linked and can "
                               "be created again.") % {"id": b2brouter_id, "number": invoice.number})
