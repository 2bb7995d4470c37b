"""How a client receives invoices, as B2Brouter's directory says: looked up, remembered, told in plain words.

B2Brouter uses its directory to choose a contact's transport and document type
(developer.b2brouter.net/docs/directory). The app asks it with the identifier the contact is
sent with (country, ``tin_scheme``, ``tin_value``), when the contact is created and when the user
asks again, and keeps the answer in a :class:`DirectoryCheck` so pages show it without a call.
The result is information only: nothing is ever blocked by it, and a failed lookup never stops
the contact from being created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

import b2brouter
from b2binvoice.core.texts import gettext as _

from .errors import describe
from .mapping import contact_payload
from .models import B2BrouterIntegration, DirectoryCheck, DirectoryOutcome

if TYPE_CHECKING:
    from b2binvoice.clients.models import Client

    from .remote import Remote


def lookup_key(client: Client) -> tuple[str, str, str]:
    """Return (country, scheme, identifier) as the contact is sent to B2Brouter; blank parts when unknown."""
    payload = contact_payload(client)
    return (str(payload.get("country") or "").lower(), str(payload.get("tin_scheme") or ""),
            str(payload.get("tin_value") or ""))


def current_check(client: Client, integration: B2BrouterIntegration | None) -> DirectoryCheck | None:
    """Return the remembered check when it still applies: same environment and same identifier."""
    if integration is None:
        return None
    found = DirectoryCheck.objects.filter(client=client).first()
    if found is None or found.environment != integration.environment:
        return None
    if (found.country, found.scheme, found.identifier) != lookup_key(client):
        return None  # the client's country or tax id changed since: the old answer is about someone else
    return found


def _unavailable(exc: Exception) -> bool:
    """Tell whether B2Brouter answered that it has no directory lookup at this path."""
    return isinstance(exc, b2brouter.APIStatusError) and getattr(exc, "status_code", None) in (404, 405, 501)


def check_directory(client: Client, integration: B2BrouterIntegration, remote: Remote) -> DirectoryCheck:
    """Look the client up in B2Brouter's directory and remember the answer (an error is remembered too)."""
    country, scheme, identifier = lookup_key(client)
    fields: dict[str, Any] = {
        "environment": integration.environment, "country": country, "scheme": scheme, "identifier": identifier,
        "entity_name": "", "transport_type_code": "", "document_type_code": "", "error": "",
        "remote_message": "", "request_id": "", "checked_at": timezone.now()}
    if not (country and scheme and identifier):
        fields["outcome"] = DirectoryOutcome.NOT_CHECKABLE
    else:
        try:
            entry = remote.directory_entry(country, scheme, identifier)
        except b2brouter.B2BRouterError as exc:
            described = describe(exc)
            text = described.text
            if _unavailable(exc):
                text = _("This B2Brouter environment did not answer the directory lookup (%(status)s).") % {
                    "status": getattr(exc, "status_code", "")}
            fields.update(outcome=DirectoryOutcome.ERROR, error=text, remote_message=described.remote_message,
                          request_id=described.request_id)
        else:
            if entry is None:
                fields["outcome"] = DirectoryOutcome.UNLISTED
            else:
                document = b2brouter.directory_document(entry, "Invoice") or {}
                fields.update(
                    outcome=(DirectoryOutcome.PEPPOL if b2brouter.reachable_on_peppol(entry)
                             else DirectoryOutcome.LISTED),
                    entity_name=str(entry.get("name") or "")[:255],
                    transport_type_code=str(document.get("transport_type_code") or "")[:64],
                    document_type_code=str(document.get("document_type_code") or "")[:128])
    check, _created = DirectoryCheck.objects.update_or_create(client=client, defaults=fields)
    return check


@dataclass
class DirectoryNote:
    """A directory check as the user reads it: a level, our sentence, B2Brouter's words and request id."""

    level: str
    text: str
    remote_message: str = ""
    request_id: str = ""
    checked_at: Any = None
    entity_name: str = ""
    outcome: str = ""


def note(check: DirectoryCheck, client: Client) -> DirectoryNote:
    """Say in plain words what a directory check means for how invoices reach the client."""
    found = _note(check, client)
    found.checked_at, found.outcome = check.checked_at, str(check.outcome)
    return found


def _note(check: DirectoryCheck, client: Client) -> DirectoryNote:
    if check.outcome == DirectoryOutcome.PEPPOL:
        text = _("Reachable on Peppol: B2Brouter will deliver invoices through Peppol (document type %(document)s).") % {
            "document": check.document_type_code or _("not named")}
        return DirectoryNote("success", text, entity_name=check.entity_name)
    if check.outcome == DirectoryOutcome.LISTED:
        text = _("Listed in B2Brouter's directory: delivered by %(transport)s.") % {
            "transport": check.transport_type_code or _("a transport it does not name")}
        if check.document_type_code:
            text = f"{text} " + _("Document type %(document)s.") % {"document": check.document_type_code}
        return DirectoryNote("info", text, entity_name=check.entity_name)
    if check.outcome == DirectoryOutcome.UNLISTED:
        text = _("Not in B2Brouter's directory: B2Brouter will deliver by its default channel for this contact "
                 "(e.g. email or PDF); check the contact's email.")
        if client.email:
            text = f"{text} " + _("The client's email is %(email)s.") % {"email": client.email}
        else:
            text = f"{text} " + _("%(client)s has no email: add one.") % {"client": client.name}
        return DirectoryNote("info", text)
    if check.outcome == DirectoryOutcome.NOT_CHECKABLE:
        if not client.tin:
            text = _("Not looked up in B2Brouter's directory: %(client)s has no tax id.") % {"client": client.name}
        else:
            text = _("Not looked up in B2Brouter's directory: b2binvoice knows no identifier scheme for the tax ids "
                     "of %(country)s.") % {"country": (client.country or "").upper() or "-"}
        return DirectoryNote("info", text)
    return DirectoryNote("warning", _("Could not check B2Brouter's directory: %(error)s") % {"error": check.error},
                         check.remote_message, check.request_id)
