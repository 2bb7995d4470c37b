"""The functions that change the integration's state: settings, contacts, create, link, send, unlink."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import b2brouter
from b2binvoice.companies.audit import record_integration
from b2binvoice.core.localformats import format_price, local_date
from b2binvoice.core.texts import concat, join
from b2binvoice.core.texts import gettext as _
from b2binvoice.invoices import verifactu

from . import attempts, directory, events, tasks
from .comparison import Comparison, compare, link_figures
from .errors import describe, is_no_account_group, no_account_group_text
from .mapping import contact_payload, invoice_payload
from .models import (
    REQUIRED_CALCULATION_SETTINGS,
    AttemptKind,
    B2BrouterIntegration,
    DirectoryOutcome,
    Environment,
    InvoiceLink,
    LinkStatus,
    WebhookSetup,
)
from .readiness import Readiness, check_readiness, store_contact
from .remote import Remote, api_base_url, to_decimal

logger = logging.getLogger(__name__)

#: The one event the integration subscribes to.
STATE_CHANGE_EVENT = "issued_invoice.state_change"
#: A Verifactu/TicketBAI record changed state (see tax_records.py).
TAX_REPORT_EVENT = "tax_report.state_change"


@dataclass
class Result:
    """What an action did, as the user is told: level, our text, B2Brouter's words and request id."""

    level: str
    text: str
    remote_message: str = ""
    request_id: str = ""
    # The outcome is not known yet (B2Brouter has not confirmed a create or send): never a failure.
    uncertain: bool = False

    @property
    def ok(self) -> bool:
        return self.level in ("success", "info")

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "text": str(self.text), "remote_message": self.remote_message,
                "request_id": self.request_id, "uncertain": self.uncertain}


def _error(text: str, exc: Exception | None = None) -> Result:
    if exc is None:
        return Result("error", text)
    described = describe(exc)
    return Result("error", concat(text, described.text), described.remote_message, described.request_id)


def get_integration(company: Any) -> B2BrouterIntegration | None:
    """Return the company's integration settings, or None when never configured."""
    return B2BrouterIntegration.objects.filter(company=company).first()


# --- Settings ---------------------------------------------------------------------------------


def _store_account(integration: B2BrouterIntegration, account: dict[str, Any]) -> None:
    """Copy what the account says into the integration (not saved)."""
    integration.account_name = str(account.get("name") or "")[:255]
    integration.account_tin = str(account.get("tin_value") or "")[:64]
    integration.rounding_method = str(account.get("rounding_method") or "")[:20]
    integration.round_before_sum = account.get("round_before_sum")
    integration.apply_taxes_per_line = account.get("apply_taxes_per_line")
    integration.transactions_count = account.get("transactions_count")
    integration.transactions_limit = account.get("transactions_limit")
    integration.settings_checked_at = timezone.now()


def _verification_error(exc: Exception, *, environment: str, account_id: str) -> Result:
    kept = _("The previous settings were kept.")
    described = describe(exc)
    if isinstance(exc, b2brouter.AuthenticationError):
        text = _("B2Brouter refused this API key (401). Check that you copied the whole key and that it "
                 "belongs to the %(environment)s environment. %(kept)s") % {
            "environment": Environment(environment).label, "kept": kept}
    elif is_no_account_group(exc):
        text = concat(no_account_group_text(), kept)
    elif isinstance(exc, (b2brouter.NotFoundError, b2brouter.PermissionDeniedError)):
        text = _("The API key was accepted, but account %(account)s is not reachable with it (%(status)s). "
                 "Check the account ID in B2Brouter. %(kept)s") % {
            "account": account_id, "status": getattr(exc, "status_code", ""), "kept": kept}
    elif isinstance(exc, b2brouter.APIConnectionError):
        text = _("Could not reach B2Brouter at %(url)s: the host did not answer. Check the environment and "
                 "your network, then try again. %(kept)s") % {"url": api_base_url(environment), "kept": kept}
    else:
        text = concat(described.text, kept)
    return Result("error", text, described.remote_message, described.request_id)


def save_settings(*, company: Any, enabled: bool, environment: str, api_key: str, account_id: str,
                  send_after_create: bool, attach_pdf: bool | None = None) -> Result:
    """Verify the credentials by reading the account, then save; keep the old settings on failure.

    A blank ``api_key`` keeps the stored one; ``attach_pdf`` None keeps the stored choice.
    """
    integration = get_integration(company) or B2BrouterIntegration(company=company)
    if attach_pdf is not None:
        integration.attach_pdf = attach_pdf
    key = api_key.strip() or integration.api_key
    account_id = account_id.strip()
    credentials_changed = (key != integration.api_key or account_id != integration.account_id
                           or environment != integration.environment)
    if not key or not account_id:
        if enabled:
            return Result("error", _("Enter the API key and the account ID to enable the integration."))
        integration.enabled = False
        integration.send_after_create = send_after_create
        if integration.pk is not None:
            record_integration(integration)
            integration.save(update_fields=["enabled", "send_after_create", "attach_pdf", "updated_at"])
        return Result("info", _("The integration is disabled."))
    if not enabled and not credentials_changed:
        integration.enabled = False
        integration.send_after_create = send_after_create
        record_integration(integration)
        integration.save()
        return Result("info", _("The integration is disabled; the stored credentials were kept."))
    try:
        account = Remote(api_key=key, environment=environment, account_id=account_id).account()
    except b2brouter.B2BRouterError as exc:
        return _verification_error(exc, environment=environment, account_id=account_id)
    if integration.pk is not None and (account_id != integration.account_id
                                       or environment != integration.environment):
        # The webhook and the sync position belong to the old account: start over with the new one.
        _forget_webhook(integration)
        integration.last_synced_at = None
    integration.enabled = enabled
    integration.environment = environment
    integration.api_key = key
    integration.account_id = account_id
    integration.send_after_create = send_after_create
    integration.verified_at = timezone.now()
    _store_account(integration, account)
    record_integration(integration)
    integration.save()
    return Result("success", _("Connected to B2Brouter account %(name)s (%(tin)s).") % {
        "name": integration.account_name or account_id, "tin": integration.account_tin or "-"})


def check_settings(integration: B2BrouterIntegration) -> Result:
    """Read the account again and store its calculation settings."""
    try:
        account = Remote.for_integration(integration).account()
    except b2brouter.B2BRouterError as exc:
        return _error(_("Could not read the account's settings."), exc)
    _store_account(integration, account)
    integration.save()
    if integration.settings_match:
        return Result("success", _("The calculation settings match the required values."))
    return Result("warning", _("The calculation settings still differ from the required values."))


def recheck_settings_if_stale(integration: B2BrouterIntegration | None) -> None:
    """Read the calculation settings again when the last reading is older than B2BROUTER_SETTINGS_MAX_AGE.

    Someone may change them in B2Brouter's web app at any time; a plate must not keep saying they
    match for hours. At most one attempt per integration per period (a cache key), so an unreachable
    B2Brouter does not slow every page down; a failed reading keeps the last one.
    """
    max_age = float(getattr(settings, "B2BROUTER_SETTINGS_MAX_AGE", 300))
    if integration is None or not integration.is_ready or max_age <= 0:
        return
    checked = integration.settings_checked_at
    if checked is not None and timezone.now() - checked < dt.timedelta(seconds=max_age):
        return
    from django.core.cache import cache  # noqa: PLC0415

    stamp = checked.isoformat() if checked else "never"
    if not cache.add(f"einvoicing:settings-recheck:{integration.pk}:{integration.account_id}:{stamp}", 1,
                     timeout=max_age):
        return
    check_settings(integration)


def apply_required_settings(integration: B2BrouterIntegration) -> Result:
    """Write the required calculation settings to the B2Brouter account and read them back."""
    remote = Remote.for_integration(integration)
    try:
        remote.update_account(dict(REQUIRED_CALCULATION_SETTINGS))
        account = remote.account()
    except b2brouter.B2BRouterError as exc:
        return _error(_("B2Brouter did not apply the settings."), exc)
    _store_account(integration, account)
    record_integration(integration)
    integration.save()
    if integration.settings_match:
        return Result("success", _("The required calculation settings were applied in B2Brouter."))
    return Result("warning", _("B2Brouter accepted the change but still reports different settings: "
                               "change them in B2Brouter's account settings."))


# --- Webhook ----------------------------------------------------------------------------------


def new_webhook_token() -> str:
    """Return an unguessable token for a receiver URL."""
    return secrets.token_urlsafe(32)


def ensure_webhook_token(integration: B2BrouterIntegration) -> str:
    """Return the token of the integration's receiver URL, making one the first time it is needed.

    The URL must exist before any secret does: the user pastes it into B2Brouter (Developers ->
    Webhooks) first, and only then gets the signing secret to paste back.
    """
    if not integration.webhook_token:
        # Conditional, so two pages opened at once agree on one token.
        B2BrouterIntegration.objects.filter(pk=integration.pk, webhook_token__isnull=True).update(
            webhook_token=new_webhook_token())
        integration.webhook_token = (B2BrouterIntegration.objects.filter(pk=integration.pk)
                                     .values_list("webhook_token", flat=True).get())
    return str(integration.webhook_token)


def _forget_webhook(integration: B2BrouterIntegration) -> None:
    """Clear the webhook setup (not saved); B2Brouter's old endpoint then answers 404."""
    integration.webhook_token = None
    integration.webhook_secret = ""
    integration.webhook_setup = ""
    integration.webhook_remote_id = ""
    integration.webhook_url = ""
    integration.webhook_registered_at = None
    integration.webhook_last_received_at = None


def save_webhook_secret(integration: B2BrouterIntegration, *, secret: str, build_url: Callable[[str], str]) -> Result:
    """Keep the signing secret B2Brouter showed for the endpoint the user added by hand.

    The receiver URL stays the one shown on the settings page (``build_url`` turns its token into
    the absolute URL); the secret is stored encrypted and never shown again.
    """
    token = ensure_webhook_token(integration)
    url = build_url(token)
    integration.webhook_secret = secret
    integration.webhook_setup = WebhookSetup.MANUAL
    integration.webhook_url = url[:500]
    integration.webhook_registered_at = timezone.now()
    integration.webhook_last_received_at = None
    record_integration(integration)
    integration.save(update_fields=["webhook_secret", "webhook_setup", "webhook_url", "webhook_registered_at",
                                    "webhook_last_received_at", "updated_at"])
    return Result("success", _("Signing secret saved: notifications B2Brouter sends to %(url)s are now checked with "
                               "it.") % {"url": url})


def manual_webhook_steps() -> str:
    """Say what to do where B2Brouter offers no registration through the API."""
    return _("This B2Brouter environment does not offer webhook registration through the API: add the endpoint in "
             "B2Brouter under Developers -> Webhooks with the receiver URL shown below (event "
             "issued_invoice.state_change), and paste the signing secret B2Brouter shows there into “Signing "
             "secret” here.")


def _registration_unavailable(exc: Exception) -> bool:
    """Tell whether B2Brouter answered that it has no webhook registration API (404, 405 or 501)."""
    status = getattr(exc, "status_code", None)
    return isinstance(exc, b2brouter.APIStatusError) and status in (404, 405, 501)


def register_webhook(integration: B2BrouterIntegration, *, build_url: Callable[[str], str]) -> Result:
    """Register a fresh receiver URL in B2Brouter for state changes and keep its signing secret.

    ``build_url`` turns a token into the receiver's absolute URL. A new token and secret replace
    the old ones only once B2Brouter has accepted the endpoint; the old endpoint is then removed
    in B2Brouter (best effort: if that fails, its deliveries get 404 here). Where B2Brouter has no
    such API (404, 405, or the simulator's 501 ``not_simulated``), nothing changes and the answer
    points to the manual steps, which B2Brouter documents.
    """
    token = new_webhook_token()
    url = build_url(token)
    remote = Remote.for_integration(integration)
    try:
        hook = remote.register_webhook(url=url, events=[STATE_CHANGE_EVENT, TAX_REPORT_EVENT])
    except b2brouter.B2BRouterError as exc:
        if _registration_unavailable(exc):
            ensure_webhook_token(integration)
            described = describe(exc)
            return Result("warning", manual_webhook_steps(), described.remote_message, described.request_id)
        return _error(_("B2Brouter did not register the webhook."), exc)
    secret = str(hook.get("signing_secret") or "")
    if not secret:
        return Result("error", _("B2Brouter registered the webhook but sent no signing secret, so its notifications "
                                 "could not be checked. Nothing was changed here: try again."))
    old_remote_id = integration.webhook_remote_id
    integration.webhook_token = token
    integration.webhook_secret = secret
    integration.webhook_setup = WebhookSetup.API
    integration.webhook_remote_id = str(hook.get("id") or "")[:64]
    integration.webhook_url = url[:500]
    integration.webhook_registered_at = timezone.now()
    integration.webhook_last_received_at = None
    record_integration(integration)
    integration.save()
    if old_remote_id and old_remote_id != integration.webhook_remote_id:
        try:
            remote.delete_webhook(old_remote_id)
        except b2brouter.B2BRouterError:
            logger.info("Could not remove the previous B2Brouter webhook of company %s", integration.company_id)
    return Result("success", _("B2Brouter will notify state changes to %(url)s.") % {"url": url})


# --- Contacts ---------------------------------------------------------------------------------


def _ready_remote(company: Any) -> tuple[B2BrouterIntegration | None, Remote | None]:
    integration = get_integration(company)
    if integration is None or not integration.is_ready:
        return integration, None
    return integration, Remote.for_integration(integration)


def _linked_remote(invoice: Any, link: InvoiceLink) -> tuple[Any, Remote | None, Result | None]:
    """Return the integration and client for acting on ``link``, or why that is impossible."""
    integration, remote = _ready_remote(invoice.company)
    if remote is None or integration is None:
        return integration, None, Result("error", str(NOT_READY))
    if link.account_id != str(integration.account_id):
        return integration, None, Result("error", _(
            "This invoice is linked to an invoice of B2Brouter account %(old)s, but the integration now uses account "
            "%(new)s. Unlink it, or switch the settings back to account %(old)s.") % {
            "old": link.account_id, "new": integration.account_id})
    return integration, remote, None


NOT_READY = _("The B2Brouter integration is not enabled with working credentials: open Settings → "
              "Integrations → B2Brouter.")


def match_contact(*, client: Any) -> Result:
    """Find the client's contact in B2Brouter by normalised TIN and remember it."""
    integration, remote = _ready_remote(client.company)
    if remote is None or integration is None:
        return Result("error", str(NOT_READY))
    if not client.tin:
        return Result("error", _("%(client)s has no tax id to look it up by: add one, or create or choose the "
                                 "contact.") % {"client": client.name})
    try:
        found = remote.find_contact_by_tin(client.tin, client.country or None, fresh=True)
    except b2brouter.B2BRouterError as exc:
        return _error(_("Could not search B2Brouter's contacts."), exc)
    if not found or not found.get("id"):
        return Result("warning", _("No contact in B2Brouter has the tax id %(tin)s: create it from this client "
                                   "or choose an existing one.") % {"tin": client.tin})
    store_contact(client, integration, int(found["id"]), contact=found)
    return Result("success", _("Matched B2Brouter contact %(name)s (#%(id)s).") % {
        "name": found.get("name") or "", "id": found["id"]})


def create_contact(*, client: Any) -> Result:
    """Create the client as a contact in B2Brouter (integration_code = client id) and remember it."""
    integration, remote = _ready_remote(client.company)
    if remote is None or integration is None:
        return Result("error", str(NOT_READY))
    if not client.tin:
        return Result("error", _("B2Brouter needs the client's tax id to create a contact: add it to %(client)s "
                                 "first.") % {"client": client.name})
    try:
        existing = remote.find_contact_by_tin(client.tin, client.country or None, fresh=True)
        contact = existing or remote.create_contact(contact_payload(client))
    except b2brouter.B2BRouterError as exc:
        return _error(_("B2Brouter did not create the contact."), exc)
    store_contact(client, integration, int(contact["id"]), contact=contact)
    # Tell how invoices will reach the contact. Information only: a failed lookup is remembered and
    # shown, never allowed to undo or block the contact.
    directory.check_directory(client, integration, remote)
    if existing:
        return Result("success", _("B2Brouter already had this client as contact #%(id)s: it is now linked.") % {
            "id": contact["id"]})
    return Result("success", _("Created contact #%(id)s in B2Brouter from this client.") % {"id": contact["id"]})


def check_directory(*, client: Any) -> Result:
    """Look the client up in B2Brouter's directory again and remember the answer."""
    integration, remote = _ready_remote(client.company)
    if remote is None or integration is None:
        return Result("error", str(NOT_READY))
    check = directory.check_directory(client, integration, remote)
    # The answer itself is shown where the client's delivery is shown; the flash only says it is fresh.
    level = "warning" if check.outcome == DirectoryOutcome.ERROR else "info"
    return Result(level, _("B2Brouter's directory was asked again at %(when)s.") % {
        "when": timezone.localtime(check.checked_at)})


def search_contacts(*, company: Any, query: str) -> tuple[list[dict[str, Any]], Result | None]:
    """Search the account's contacts by name or tax id."""
    integration, remote = _ready_remote(company)
    if remote is None:
        return [], Result("error", str(NOT_READY))
    try:
        filters: dict[str, Any] = {"limit": 100}
        if query.strip():
            filters["name"] = query.strip()
        return remote.contacts(**filters)[:100], None
    except b2brouter.B2BRouterError as exc:
        return [], _error(_("Could not search B2Brouter's contacts."), exc)


def choose_contact(*, client: Any, contact_id: int, confirmed: bool = False) -> Result:
    """Remember an existing B2Brouter contact as the client's, after checking it exists and has the client's tax id.

    A client without a tax id cannot be checked: its choice is taken only ``confirmed``.
    """
    from .recipient import choice_refusal  # noqa: PLC0415 (recipient imports this module)

    integration, remote = _ready_remote(client.company)
    if remote is None or integration is None:
        return Result("error", str(NOT_READY))
    try:
        contact = remote.contact(contact_id)
    except b2brouter.B2BRouterError as exc:
        return _error(_("That contact could not be read from B2Brouter."), exc)
    refusal = choice_refusal(client, {"id": contact_id, **contact}, confirmed=confirmed)
    if refusal is not None:
        return refusal
    store_contact(client, integration, int(contact.get("id") or contact_id), contact=contact)
    return Result("success", _("Linked B2Brouter contact %(name)s (#%(id)s) to this client.") % {
        "name": contact.get("name") or "", "id": contact_id})


def forget_contact(*, client: Any) -> Result:
    """Forget the client's B2Brouter contact (nothing changes in B2Brouter)."""
    client.b2brouter_contact_id = None
    client.b2brouter_account_id = ""
    type(client).objects.filter(pk=client.pk).update(b2brouter_contact_id=None, b2brouter_account_id="")
    return Result("info", _("The client is no longer matched to a B2Brouter contact (nothing was deleted)."))


# --- Invoices ---------------------------------------------------------------------------------


def _parse_date(value: Any) -> dt.date | None:
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _json_amounts(taxes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for tax in taxes or []:
        rows.append({
            "name": str(tax.get("name") or ""), "category": str(tax.get("category") or ""),
            "percent": str(to_decimal(tax.get("percent")) if tax.get("percent") is not None else ""),
            "base": str(to_decimal(tax.get("base")) if tax.get("base") is not None else ""),
            "amount": str(to_decimal(tax.get("amount")) if tax.get("amount") is not None else ""),
        })
    return rows


def _parse_datetime(value: Any) -> dt.datetime | None:
    if not value:
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.timezone.utc)


def link_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Return the InvoiceLink fields for a B2Brouter invoice."""
    taxes = data.get("taxes") or []
    tax_total = sum((to_decimal(t.get("amount")) or Decimal(0) for t in taxes), Decimal(0))
    contact_id = data.get("contact_id") or (data.get("contact") or {}).get("id")
    errors = data.get("errors") or []
    return {
        "b2brouter_id": int(data["id"]),
        "number": str(data.get("number") or "")[:64],
        "state": str(data.get("state") or "")[:32],
        "date": _parse_date(data.get("date")),
        "currency": str(data.get("currency") or "")[:3],
        "subtotal": to_decimal(data.get("subtotal")),
        "tax_total": tax_total,
        "total": to_decimal(data.get("total")),
        "taxes": _json_amounts(taxes),
        "errors": [str(e) for e in errors] if isinstance(errors, list) else [str(errors)],
        "refuse_reason": str(data.get("refuse_reason") or ""),
        "contact_id": int(contact_id) if contact_id else None,
        "state_updated_at": _parse_datetime(data.get("state_updated_at")),
        "state_event_id": None,
        "refreshed_at": timezone.now(),
    }


def _other_link(account_id: str, b2brouter_id: int, invoice: Any) -> InvoiceLink | None:
    return (InvoiceLink.objects.select_related("invoice")
            .filter(account_id=account_id, b2brouter_id=b2brouter_id).exclude(invoice=invoice).first())


def _already_linked(other: InvoiceLink, b2brouter_id: int) -> Result:
    return Result("error", _("B2Brouter invoice #%(id)s is already linked to invoice %(number)s: a B2Brouter "
                             "invoice can be linked to one local invoice only.") % {
        "id": b2brouter_id, "number": other.invoice.number})


def _attach(link: InvoiceLink, data: dict[str, Any]) -> Result | None:
    """Turn a pending link into a linked one; answer an error when the B2Brouter invoice is taken."""
    fields = link_fields(data)
    try:
        with transaction.atomic():
            updated = InvoiceLink.objects.filter(pk=link.pk).update(status=LinkStatus.LINKED, **attempts.CLEARED,
                                                                    **fields)
            if not updated:  # the pending row was settled meanwhile: record the link afresh
                InvoiceLink.objects.create(
                    invoice=link.invoice, status=LinkStatus.LINKED, environment=link.environment,
                    account_id=link.account_id, created_by=link.created_by, **fields)
    except IntegrityError:
        other = _other_link(link.account_id, fields["b2brouter_id"], link.invoice)
        InvoiceLink.objects.filter(pk=link.pk, status=LinkStatus.PENDING).delete()
        if other is not None:
            return _already_linked(other, fields["b2brouter_id"])
        return Result("error", _("This invoice was linked by another request meanwhile: reload the page."))
    for name, value in {**attempts.CLEARED, **fields}.items():
        setattr(link, name, value)
    link.status = LinkStatus.LINKED
    return None


def _comparison(invoice: Any, link: InvoiceLink) -> Comparison:
    return compare(invoice, link_figures(link))


def _after_link(*, invoice: Any, link: InvoiceLink, integration: B2BrouterIntegration, remote: Remote,
                user: Any, how: str, send: bool = True) -> Result:
    """Compare the linked invoice's totals with ours and send it when they agree (and ``send`` allows)."""
    comparison = _comparison(invoice, link)
    if not comparison.equal:
        events.totals_mismatch(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id,
                               message=comparison.summary())
        # The settings may have changed in B2Brouter since they were last read: read them again
        # so the plate beside the figures tells the truth. A failure here changes nothing.
        check_settings(integration)
        return Result("warning", _("%(how)s as B2Brouter invoice #%(id)s, but B2Brouter's totals differ from ours, "
                                   "so it was NOT sent. Compare the figures below, fix the account's calculation "
                                   "settings, then delete it in B2Brouter and create it again.") % {
            "how": how, "id": link.b2brouter_id})
    if not send:
        # Found after the user's request had ended: a legal document leaves only on a click.
        return Result("success", _("%(how)s as B2Brouter invoice #%(id)s; totals match. It was not sent: press "
                                   "Send when it is right.") % {"how": how, "id": link.b2brouter_id})
    if not integration.send_after_create:
        return Result("success", _("%(how)s as B2Brouter invoice #%(id)s; totals match. It was not sent "
                                   "(sending after create is off).") % {"how": how, "id": link.b2brouter_id})
    sent = send_invoice(invoice=invoice, user=user, link=link, integration=integration, remote=remote)
    if sent.uncertain:
        return Result(sent.level, _("%(how)s as B2Brouter invoice #%(id)s; totals match. %(send)s") % {
            "how": how, "id": link.b2brouter_id, "send": sent.text}, sent.remote_message, sent.request_id,
            uncertain=True)
    if not sent.ok:
        return sent
    return Result("success", _("%(how)s as B2Brouter invoice #%(id)s; totals match and it was sent.") % {
        "how": how, "id": link.b2brouter_id})


def _same_invoice(candidate: dict[str, Any], *, number: str, contact_id: int | None, total: Decimal,
                  file_reference: str = "") -> bool:
    """Tell whether a B2Brouter invoice is the one an attempt asked for (number, contact, total, reference)."""
    if str(candidate.get("number") or "") != number:
        return False
    theirs = str(candidate.get("file_reference") or "")
    if file_reference and theirs and theirs != file_reference:
        return False
    candidate_contact = candidate.get("contact_id") or (candidate.get("contact") or {}).get("id")
    return (contact_id is None or candidate_contact is None or int(candidate_contact) == int(contact_id)) \
        and to_decimal(candidate.get("total")) == total


def _when(value: dt.datetime | None) -> dt.datetime | str:
    return timezone.localtime(value) if value else "-"


UNCONFIRMED = _("B2Brouter has not confirmed the outcome yet; we are checking.")


def unconfirmed_text(link: InvoiceLink) -> str:
    """Say that an attempt's outcome is being checked, what is kept, and until when."""
    if link.send_uncertain:
        detail = _("The send of B2Brouter invoice #%(id)s is kept: its state is read again at %(next)s and until "
                   "%(deadline)s. It is not sent twice meanwhile.") % {
            "id": link.b2brouter_id, "next": _when(link.attempt_next_check_at), "deadline": _when(attempts.deadline(link))}
    else:
        detail = _("The create of invoice %(number)s is kept: it is looked up in B2Brouter again at %(next)s and "
                   "until %(deadline)s before it is called not created. Nothing is created twice meanwhile.") % {
            "number": link.number, "next": _when(link.attempt_next_check_at),
            "deadline": _when(attempts.deadline(link))}
    return concat(_("B2Brouter has not confirmed the outcome yet; we are checking."), detail)


def _release(link: InvoiceLink) -> None:
    InvoiceLink.objects.filter(pk=link.pk, status=LinkStatus.PENDING).delete()


def settle_create(link: InvoiceLink, *, invoice: Any, user: Any, integration: B2BrouterIntegration, remote: Remote,
                  cause: Exception | None = None, conclusive: bool = False, in_request: bool = False) -> Result:
    """Look an uncertain create up in B2Brouter by its number (and file reference) and settle it if it can.

    Found -> linked and compared (and sent only ``in_request``, where the user asked for it just now).
    The number held by another invoice -> released, with what to do. Nothing found -> kept until the
    window ends, then released as not created; ``conclusive`` (B2Brouter answered that the number is
    taken) releases at once.
    """
    from b2binvoice.invoices.calculations import calculate_invoice  # noqa: PLC0415

    number = link.number or invoice.number
    cause_text = describe(cause) if cause is not None else None
    remote_message = cause_text.remote_message if cause_text else ""
    request_id = cause_text.request_id if cause_text else ""
    try:
        candidates = [c for c in remote.invoices(number=number) if str(c.get("number") or "") == number]
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        attempts.checked(link, error=described.text)
        if user is not None:
            events.reconcile_failed(invoice=invoice, user=user, message=described.text,
                                    remote_message=described.remote_message, request_id=described.request_id)
        return Result("info", _("%(unconfirmed)s Could not check whether B2Brouter created invoice %(number)s just "
                                "now: %(error)s") % {"unconfirmed": unconfirmed_text(link), "number": number,
                                                      "error": described.text},
                      described.remote_message, described.request_id, uncertain=True)
    total = link.attempt_total if link.attempt_total is not None else calculate_invoice(invoice).total
    same = [c for c in candidates if _same_invoice(c, number=number, contact_id=link.contact_id, total=total,
                                                   file_reference=link.attempt_file_reference)]
    if same:
        found = same[0]
        # The number search returns summaries; read the invoice itself for its full totals.
        try:
            found = remote.invoice(int(found["id"]))
        except b2brouter.B2BRouterError:
            pass
        problem = _attach(link, found)
        if problem is not None:
            events.reconcile_failed(invoice=invoice, user=user, message=problem.text, b2brouter_id=int(found["id"]))
            return problem
        events.reconciled(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id,
                          message=_("Found under number %(number)s.") % {"number": number})
        attempts.observe(link, by=_("the check of the create"), user=user)
        from .paid_pdf import attach_pdf_once, with_attachment  # noqa: PLC0415 (paid_pdf imports this module)

        # Created by us after all: our PDF goes up as on a plain create, before any send (once).
        attached = attach_pdf_once(invoice=invoice, user=user, link=link, remote=remote, integration=integration)
        return with_attachment(_after_link(invoice=invoice, link=link, integration=integration, remote=remote,
                                           user=user, how=_("Found in B2Brouter and linked"), send=in_request),
                               attached)
    if candidates:
        _release(link)
        other = candidates[0]
        text = _("B2Brouter already has an invoice numbered %(number)s (#%(id)s), but it is not this one: its "
                 "client or total differ. Nothing was created or linked. Check that invoice in B2Brouter; if it "
                 "is this one, use \"Link existing B2Brouter invoice\", otherwise change this invoice's number.") % {
            "number": number, "id": other.get("id")}
        events.reconcile_failed(invoice=invoice, user=user, message=text, b2brouter_id=other.get("id"),
                                remote_message=remote_message, request_id=request_id)
        return Result("error", text, remote_message, request_id)
    now = timezone.now()
    if conclusive or now >= attempts.deadline(link):
        _release(link)
        if conclusive:
            text = _("B2Brouter has no invoice numbered %(number)s: it was not created. You can create it "
                     "again.") % {"number": number}
        else:
            text = _("B2Brouter never showed invoice %(number)s: checked from %(start)s until %(end)s, it was not "
                     "created. You can create it again.") % {
                "number": number, "start": _when(attempts.started(link)), "end": _when(now)}
        events.create_not_applied(invoice=invoice, user=user, message=text)
        return Result("error", text, remote_message, request_id)
    attempts.checked(link)
    return Result("info", unconfirmed_text(link), remote_message, request_id, uncertain=True)


def settle_send(link: InvoiceLink, *, invoice: Any, user: Any, remote: Remote, by: str) -> Result:
    """Read the invoice of an uncertain send: a state past new confirms it; new until the window ends means not sent."""
    from .sync import update_link_from  # noqa: PLC0415 (sync imports this module)

    try:
        data = remote.invoice(int(link.b2brouter_id or 0))
    except b2brouter.NotFoundError as exc:
        described = describe(exc)
        InvoiceLink.objects.filter(pk=link.pk).update(**attempts.CLEARED)
        text = _("B2Brouter has no invoice #%(id)s any more (404): it may have been deleted there. Unlink this "
                 "invoice, or link it to the right one.") % {"id": link.b2brouter_id}
        events.send_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text,
                           remote_message=described.remote_message, request_id=described.request_id)
        return Result("error", text, described.remote_message, described.request_id)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        attempts.checked(link, error=described.text)
        return Result("info", _("%(unconfirmed)s Reading it just now failed: %(error)s") % {
            "unconfirmed": unconfirmed_text(link), "error": described.text},
            described.remote_message, described.request_id, uncertain=True)
    update_link_from(link, data, by=by)
    if not link.send_uncertain:  # settled by what was just read
        if link.state == "error":
            return Result("warning", _("B2Brouter tried to send invoice #%(id)s and failed.") % {
                "id": link.b2brouter_id}, "; ".join(link.errors or []))
        return Result("success", _("B2Brouter confirms it: invoice #%(id)s is %(state)s, so it was sent.") % {
            "id": link.b2brouter_id, "state": link.state})
    now = timezone.now()
    if now >= attempts.deadline(link):
        if InvoiceLink.objects.filter(pk=link.pk, attempt_kind=AttemptKind.SEND).update(**attempts.CLEARED):
            for name, value in attempts.CLEARED.items():
                setattr(link, name, value)
            text = _("B2Brouter did not send invoice #%(id)s: checked from %(start)s until %(end)s, it is still "
                     "%(state)s. You can send it again.") % {
                "id": link.b2brouter_id, "start": _when(attempts.started(link)), "end": _when(now),
                "state": link.state or "-"}
            events.send_not_applied(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=text)
            return Result("warning", text)
        return Result("info", _("This send was settled meanwhile: reload the page."))
    attempts.checked(link)
    return Result("info", unconfirmed_text(link), uncertain=True)


def settle(link: InvoiceLink, *, user: Any = None, by: str = "") -> Result:
    """Check ``link``'s unresolved attempt (a create or a send) in B2Brouter once."""
    invoice = link.invoice
    integration, remote = _ready_remote(invoice.company)
    if remote is None or integration is None:
        attempts.checked(link, error=NOT_READY)
        return Result("error", str(NOT_READY))
    if link.account_id != str(integration.account_id):
        text = _("The attempt was made in B2Brouter account %(old)s, but the integration now uses account %(new)s: "
                 "it can only be checked once the settings point at account %(old)s again.") % {
            "old": link.account_id, "new": integration.account_id}
        attempts.checked(link, error=text)
        return Result("error", text)
    if link.is_pending:
        return settle_create(link, invoice=invoice, user=user, integration=integration, remote=remote)
    if link.send_uncertain:
        return settle_send(link, invoice=invoice, user=user, remote=remote, by=by or _("a check"))
    return Result("info", _("There is no pending attempt to check."))


def settle_in_background(link_id: int) -> str:
    """One scheduled check of an attempt (the task ``settle_attempt``); answer what became of it.

    The next check is queued before this one talks to B2Brouter, so a worker that dies half-way
    leaves the attempt with its next check planned.
    """
    link = (InvoiceLink.objects.select_related("invoice", "invoice__company", "invoice__client")
            .filter(pk=link_id).first())
    if link is None or not link.is_uncertain:
        return "settled"
    attempts.plan_next(link)
    attempts.schedule(link)
    result = settle(link, by=_("the background check"))
    link = InvoiceLink.objects.filter(pk=link_id).first()
    if link is None:
        return "not applied" if result.level == "error" else "released"
    return "checking" if link.is_uncertain else "settled"


def reconcile(*, invoice: Any, user: Any) -> Result:
    """Check the invoice's unresolved attempt now ("Check B2Brouter")."""
    link = attempts.unresolved().select_related("invoice").filter(invoice=invoice).first()
    if link is None:
        return Result("info", _("There is no pending attempt to check."))
    return settle(link, user=user, by=_("“Check B2Brouter”"))


def _uncertain(exc: Exception) -> bool:
    """Return whether a failed create or send may have been applied by B2Brouter all the same."""
    if isinstance(exc, b2brouter.APIConnectionError):
        return bool(getattr(exc, "maybe_applied", True))
    if isinstance(exc, (b2brouter.ServerError, b2brouter.UnexpectedResponseError)):
        return True  # a 5xx may come after the work; a 2xx we could not read did the work
    return False


def _number_taken(exc: Exception) -> bool:
    return isinstance(exc, b2brouter.InvalidRequestError) and getattr(exc, "code", None) == "parameter_taken"


def create_invoice(*, invoice: Any, user: Any, readiness: Readiness | None = None) -> Result:
    """Create the invoice in B2Brouter unsent, link it, compare totals, and send it when they agree.

    ``readiness`` is the checklist the caller made of the invoice in this same request (its contact
    read from B2Brouter once); without it the invoice is checked here.
    """
    from b2binvoice.invoices.calculations import calculate_invoice  # noqa: PLC0415

    integration, remote = _ready_remote(invoice.company)
    if readiness is None:
        readiness = check_readiness(invoice, integration, remote=remote)
    if not readiness.ok or remote is None or integration is None or (
            readiness.contact_id is None and not readiness.simplified):
        events.create_blocked(invoice=invoice, user=user, problems=readiness.problems)
        return Result("error", _("Nothing was sent to B2Brouter: %(problems)s") % {
            "problems": join(" ", readiness.problems)})
    # Commit the attempt, with what it asks for and its first check, before the request leaves:
    # the one-to-one row makes a second concurrent create fail here, and a crash leaves a row the
    # check settles.
    now = timezone.now()
    try:
        with transaction.atomic():
            link = InvoiceLink.objects.create(
                invoice=invoice, status=LinkStatus.PENDING, environment=integration.environment,
                account_id=str(integration.account_id), number=invoice.number, contact_id=readiness.contact_id,
                attempt_kind=AttemptKind.CREATE, attempt_total=calculate_invoice(invoice).total,
                attempt_file_reference=(invoice.project_reference or "")[:100], attempt_started_at=now,
                attempt_next_check_at=attempts.first_check(now),
                created_by=user if getattr(user, "is_authenticated", False) else None)
            attempts.schedule(link)
    except IntegrityError:
        existing = InvoiceLink.objects.filter(invoice=invoice).first()
        if existing is not None and existing.is_pending and pending_is_stale(existing):
            text = concat(unconfirmed_text(existing), _("Nothing was sent again."))
        else:
            text = _("This invoice already has a B2Brouter invoice or a creation attempt in progress: nothing was "
                     "sent again.")
        events.create_refused(invoice=invoice, user=user, message=text)
        return Result("error", text)
    events.create_attempted(invoice=invoice, user=user, number=invoice.number)
    kind = verifactu.computed_type_code(invoice)
    if kind != invoice.verifactu_kind:  # the kind it is created as (Spain), shown on its page from now on
        invoice.verifactu_kind = kind
        type(invoice).objects.filter(pk=invoice.pk).update(verifactu_kind=kind)
    try:
        data = remote.create_invoice(invoice_payload(invoice, contact_id=readiness.contact_id))
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        if _uncertain(exc) or _number_taken(exc):
            events.create_uncertain(invoice=invoice, user=user, message=described.text,
                                    remote_message=described.remote_message, request_id=described.request_id)
            return settle_create(link, invoice=invoice, user=user, integration=integration, remote=remote, cause=exc,
                                 conclusive=_number_taken(exc), in_request=True)
        _release(link)
        events.create_failed(invoice=invoice, user=user, message=described.text,
                             remote_message=described.remote_message, request_id=described.request_id)
        return Result("error", _("B2Brouter did not create the invoice. %(error)s") % {"error": described.text},
                      described.remote_message, described.request_id)
    problem = _attach(link, data)
    if problem is not None:
        events.create_failed(invoice=invoice, user=user, message=problem.text)
        return problem
    events.created(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id)
    # Our PDF goes up before the send, so the recipient gets it as the invoice's PDF view.
    attached = None
    if integration.attach_pdf:
        from .paid_pdf import attach_pdf  # noqa: PLC0415 (paid_pdf imports this module)

        attached = attach_pdf(invoice=invoice, user=user, link=link, remote=remote)
    result = _after_link(invoice=invoice, link=link, integration=integration, remote=remote, user=user,
                         how=_("Created"))
    if attached is None or attached.ok:
        return result
    level = result.level if result.level == "error" else "warning"
    return Result(level, concat(result.text, attached.text), result.remote_message or attached.remote_message,
                  result.request_id or attached.request_id, uncertain=result.uncertain)


def pending_is_stale(link: InvoiceLink) -> bool:
    """Return whether a pending attempt is older than any request could still be running."""
    if link.needs_check or link.attempt_started_at is None:
        return True
    timeout = float(getattr(settings, "B2BROUTER_TIMEOUT", 20))
    retries = int(getattr(settings, "B2BROUTER_MAX_RETRIES", 2))
    # Generous: the create plus the lookups, each with their retries, and some slack.
    grace = dt.timedelta(seconds=timeout * (retries + 2) + 30)
    return timezone.now() - link.attempt_started_at > grace


def send_invoice(*, invoice: Any, user: Any, link: InvoiceLink | None = None, integration: Any = None,
                 remote: Remote | None = None) -> Result:
    """Send the linked invoice, after checking again that its totals agree with ours.

    The send is recorded as an attempt before the request leaves; an answer that never came (or
    a 5xx) leaves it to be settled by reading the invoice's state, never by sending again.
    """
    link = link or InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.LINKED).first()
    if link is None:
        return Result("error", _("This invoice is not linked to a B2Brouter invoice."))
    if remote is None or integration is None:
        integration, remote, problem = _linked_remote(invoice, link)
        if problem is not None or remote is None:
            return problem or Result("error", str(NOT_READY))
    if link.send_uncertain:
        return Result("info", concat(unconfirmed_text(link), _("Nothing was sent again.")), uncertain=True)
    if link.state not in ("new", "error"):
        return Result("error", _("B2Brouter invoice #%(id)s is in state %(state)s: only new or failed invoices can "
                                 "be sent.") % {"id": link.b2brouter_id, "state": link.state})
    comparison = _comparison(invoice, link)
    if not comparison.equal:
        events.send_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id,
                           message=_("Not sent: totals differ (%(diff)s).") % {"diff": comparison.summary()})
        return Result("error", _("Not sent: B2Brouter's totals differ from ours (both are shown below). Once the "
                                 "cause is fixed, delete it in B2Brouter and create it again."))
    now = timezone.now()
    # Conditional, so two Send clicks at once make one request.
    if not InvoiceLink.objects.filter(pk=link.pk, attempt_kind=AttemptKind.NONE).update(
            attempt_kind=AttemptKind.SEND, attempt_started_at=now, attempt_checks=0, attempt_checked_at=None,
            attempt_next_check_at=attempts.first_check(now), attempt_error="", needs_check=False):
        return Result("info", _("Another request is sending this invoice: reload the page."), uncertain=True)
    link.attempt_kind, link.attempt_started_at, link.attempt_checks = AttemptKind.SEND, now, 0
    link.attempt_checked_at, link.attempt_next_check_at = None, attempts.first_check(now)
    link.attempt_error, link.needs_check = "", False
    attempts.schedule(link)
    try:
        remote.send_invoice(link.b2brouter_id)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        conflict = isinstance(exc, b2brouter.ConflictError)
        if _uncertain(exc) or conflict:
            # No answer, or "not sendable any more" (sent meanwhile?): its state tells.
            events.send_uncertain(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=described.text,
                                  remote_message=described.remote_message, request_id=described.request_id)
            InvoiceLink.objects.filter(pk=link.pk, attempt_kind=AttemptKind.SEND).update(needs_check=True)
            link.needs_check = True
            settled = settle_send(link, invoice=invoice, user=user, remote=remote, by=_("the check after Send"))
            if not (conflict and link.send_uncertain):
                return settled
            # B2Brouter answered that it will not send it, and its state says it was not sent: a refusal.
        InvoiceLink.objects.filter(pk=link.pk, attempt_kind=AttemptKind.SEND).update(**attempts.CLEARED)
        for name, value in attempts.CLEARED.items():
            setattr(link, name, value)
        events.send_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=described.text,
                           remote_message=described.remote_message, request_id=described.request_id)
        return Result("error", _("B2Brouter did not send the invoice. %(error)s") % {"error": described.text},
                      described.remote_message, described.request_id)
    if InvoiceLink.objects.filter(pk=link.pk, attempt_kind=AttemptKind.SEND).update(**attempts.CLEARED):
        events.sent(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id)
    for name, value in attempts.CLEARED.items():
        setattr(link, name, value)
    _mark_issued(invoice)
    _refresh_quietly(link, remote)
    tasks.queue_quota_refresh(invoice.company_id)  # a send counts against the account's quota
    return Result("success", _("B2Brouter invoice #%(id)s was sent.") % {"id": link.b2brouter_id})


def _mark_issued(invoice: Any) -> None:
    """A draft sent through B2Brouter has been issued: say so here too (other statuses stay)."""
    attempts.mark_issued(invoice)


def _refresh_quietly(link: InvoiceLink, remote: Remote) -> None:
    from .sync import update_link_from  # noqa: PLC0415 (sync imports this module)

    try:
        data = remote.invoice(link.b2brouter_id)
    except b2brouter.B2BRouterError:
        return  # the send succeeded; a later refresh shows the state
    update_link_from(link, data, by=_("the read after Send"))


#: B2Brouter states that need the user's attention after a refresh.
TROUBLED_STATES = frozenset({"refused", "error", "annulled", "cancelled"})


def refresh_invoice(*, invoice: Any, user: Any) -> Result:
    """Read the linked invoice from B2Brouter again (which also settles an uncertain send)."""
    from .sync import update_link_from  # noqa: PLC0415 (sync imports this module)

    link = InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.LINKED).first()
    if link is None:
        return Result("error", _("This invoice is not linked to a B2Brouter invoice."))
    integration, remote, problem = _linked_remote(invoice, link)
    if problem is not None or remote is None:
        return problem or Result("error", str(NOT_READY))
    try:
        data = remote.invoice(link.b2brouter_id)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        events.refresh_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=described.text,
                              remote_message=described.remote_message, request_id=described.request_id)
        return Result("error", _("Could not refresh from B2Brouter. %(error)s") % {"error": described.text},
                      described.remote_message, described.request_id)
    link.invoice = invoice
    update_link_from(link, data, by=_("Refresh"), user=user)
    events.refreshed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id,
                     message=_("State: %(state)s") % {"state": link.state})
    text = _("Refreshed: B2Brouter invoice #%(id)s is %(state)s.") % {
        "id": link.b2brouter_id, "state": link.state or "-"}
    if link.send_uncertain:
        return Result("info", concat(text, unconfirmed_text(link)), uncertain=True)
    if link.state in TROUBLED_STATES:
        # A refusal or a delivery error is news the user must act on, not a success.
        reason = link.refuse_reason or "; ".join(link.errors or [])
        return Result("warning", text, reason)
    return Result("success", text)


def unlink_invoice(*, invoice: Any, user: Any) -> Result:
    """Forget the link to the B2Brouter invoice; nothing is deleted in B2Brouter."""
    link = InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.LINKED).first()
    if link is None:
        return Result("error", _("This invoice is not linked to a B2Brouter invoice."))
    if link.send_uncertain:
        # Forgetting it would forget the send too: B2Brouter may still send it.
        return Result("error", concat(unconfirmed_text(link), _("Unlink it once that is settled.")), uncertain=True)
    b2brouter_id = link.b2brouter_id
    link.delete()
    events.unlinked(invoice=invoice, user=user, b2brouter_id=b2brouter_id)
    return Result("info", _("Unlinked from B2Brouter invoice #%(id)s. Nothing was deleted in B2Brouter.") % {
        "id": b2brouter_id})


def recreate_refusal(link: InvoiceLink) -> Result | None:
    """Say why the linked invoice cannot be deleted and created again, or None when it can."""
    if link.send_uncertain:
        return Result("error", concat(unconfirmed_text(link),
                                      _("It cannot be deleted while its send may still happen.")), uncertain=True)
    if link.state in ("new", "error"):
        return None
    return Result("error", _("B2Brouter invoice #%(id)s is %(state)s: only new or failed invoices can be "
                             "deleted.") % {"id": link.b2brouter_id, "state": link.state})


def delete_and_recreate(*, invoice: Any, user: Any) -> Result:
    """Delete the linked (unsent) invoice in B2Brouter and create it again with the current data."""
    link = InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.LINKED).first()
    if link is None:
        return Result("error", _("This invoice is not linked to a B2Brouter invoice."))
    refusal = recreate_refusal(link)
    if refusal is not None:
        return refusal
    integration, remote, problem = _linked_remote(invoice, link)
    if problem is not None:
        return problem
    # Check before deleting, so a still-blocked invoice is not left with nothing in B2Brouter.
    readiness = check_readiness(invoice, integration, remote=remote)
    if not readiness.ok or remote is None:
        events.create_blocked(invoice=invoice, user=user, problems=readiness.problems)
        return Result("error", _("Nothing was deleted: fix these first. %(problems)s") % {
            "problems": join(" ", readiness.problems)})
    try:
        remote.delete_invoice(link.b2brouter_id)
    except b2brouter.NotFoundError:
        pass  # already gone in B2Brouter: nothing left to delete
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        events.delete_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=described.text,
                             remote_message=described.remote_message, request_id=described.request_id)
        return Result("error", _("B2Brouter did not delete the invoice. %(error)s") % {"error": described.text},
                      described.remote_message, described.request_id)
    events.deleted_remote(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id)
    link.delete()
    return create_invoice(invoice=invoice, user=user, readiness=readiness)


@dataclass
class Candidate:
    """A B2Brouter invoice that may be the local one, with how it differs."""

    data: dict[str, Any]
    score: int
    differences: list[str]
    linked_to: Any = None

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def date(self) -> dt.date | None:
        """B2Brouter's issue date, read (None when it sent none or an unreadable one)."""
        return _parse_date(self.data.get("date"))


def find_candidates(*, invoice: Any, number: str, typed: bool = False) -> tuple[list[Candidate], Result | None]:
    """Search B2Brouter for invoices that may be this one, best first.

    ``typed``: the user typed ``number`` in the search box. Without an exact match, a typed search
    keeps the recent invoices whose number contains it; the first visit (the invoice's own number)
    shows the recent invoices ranked, as there is no search to honour yet.
    """
    from b2binvoice.core.search import fold  # noqa: PLC0415
    from b2binvoice.invoices.calculations import calculate_invoice  # noqa: PLC0415

    integration, remote = _ready_remote(invoice.company)
    if remote is None or integration is None:
        return [], Result("error", str(NOT_READY))
    number = number.strip()
    try:
        rows = remote.invoices(number=number) if number else []
        if not rows:
            # No exact number: fall back to the most recent invoices and let the ranking speak.
            rows = remote.invoices(limit=100)
            if typed and number:
                rows = [row for row in rows if fold(number) in fold(str(row.get("number") or ""))]
    except b2brouter.B2BRouterError as exc:
        return [], _error(_("Could not search B2Brouter's invoices."), exc)
    ours = calculate_invoice(invoice)
    client = invoice.client
    contact_id = client.b2brouter_contact_id if client.b2brouter_account_id == str(integration.account_id) else None
    linked = {link.b2brouter_id: link for link in InvoiceLink.objects.select_related("invoice").filter(
        account_id=str(integration.account_id), b2brouter_id__in=[r.get("id") for r in rows if r.get("id")])}
    candidates = []
    for row in rows:
        if not row.get("id"):
            continue
        score, diffs = 0, []
        if str(row.get("number") or "") == invoice.number:
            score += 8
        else:
            diffs.append(_("number %(theirs)s, ours %(ours)s") % {"theirs": row.get("number"), "ours": invoice.number})
        if _parse_date(row.get("date")) == invoice.issue_date:
            score += 2
        else:
            their_date = _parse_date(row.get("date"))
            diffs.append(_("date %(theirs)s, ours %(ours)s") % {
                "theirs": local_date(their_date) if their_date else row.get("date"), "ours": local_date(invoice.issue_date)})
        their_currency = str(row.get("currency") or "").upper()
        same_currency = not their_currency or their_currency == invoice.currency
        if not same_currency:
            diffs.append(_("currency %(theirs)s, ours %(ours)s") % {"theirs": their_currency, "ours": invoice.currency})
        if same_currency and to_decimal(row.get("total")) == ours.total:
            score += 4
        else:
            diffs.append(_("total %(theirs)s, ours %(ours)s") % {
                "theirs": format_price(row.get("total"), their_currency or invoice.currency),
                "ours": format_price(ours.total, invoice.currency)})
        row_contact = row.get("contact_id") or (row.get("contact") or {}).get("id")
        if contact_id and row_contact and int(row_contact) == int(contact_id):
            score += 1
        elif contact_id and row_contact:
            diffs.append(_("another contact (%(theirs)s, ours %(ours)s)") % {
                "theirs": _contact_name(row, int(row_contact), invoice.company, integration), "ours": client.name})
        other = linked.get(int(row["id"]))
        candidates.append(Candidate(row, score, diffs, other.invoice if other and other.invoice_id != invoice.pk
                                    else None))
    candidates.sort(key=lambda c: (-c.score, -c.id))
    return candidates[:20], None


def _contact_name(row: dict[str, Any], contact_id: int, company: Any, integration: B2BrouterIntegration) -> str:
    """Name a B2Brouter contact: as the invoice row names it, else as our client matched to it, else by its id."""
    from b2binvoice.clients.models import Client  # noqa: PLC0415

    name = str((row.get("contact") or {}).get("name") or "").strip()
    if name:
        return name
    client = Client.objects.filter(company=company, b2brouter_contact_id=contact_id,
                                   b2brouter_account_id=str(integration.account_id)).first()
    return client.name if client is not None else _("contact #%(id)s") % {"id": contact_id}


def link_existing(*, invoice: Any, user: Any, b2brouter_id: int) -> Result:
    """Link the invoice to an existing B2Brouter invoice (never one linked to another invoice)."""
    integration, remote = _ready_remote(invoice.company)
    if remote is None or integration is None:
        return Result("error", str(NOT_READY))
    if InvoiceLink.objects.filter(invoice=invoice).exists():
        text = _("This invoice is already linked (or being created): unlink it first.")
        events.link_refused(invoice=invoice, user=user, b2brouter_id=b2brouter_id, message=text)
        return Result("error", text)
    other = _other_link(str(integration.account_id), b2brouter_id, invoice)
    if other is not None:
        result = _already_linked(other, b2brouter_id)
        events.link_refused(invoice=invoice, user=user, b2brouter_id=b2brouter_id, message=result.text)
        return result
    try:
        data = remote.invoice(b2brouter_id)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        events.link_refused(invoice=invoice, user=user, b2brouter_id=b2brouter_id, message=described.text)
        return Result("error", _("Could not read B2Brouter invoice #%(id)s. %(error)s") % {
            "id": b2brouter_id, "error": described.text}, described.remote_message, described.request_id)
    try:
        with transaction.atomic():
            InvoiceLink.objects.create(invoice=invoice, status=LinkStatus.LINKED, environment=integration.environment,
                                       account_id=str(integration.account_id),
                                       created_by=user if getattr(user, "is_authenticated", False) else None,
                                       **link_fields(data))
    except IntegrityError:
        other = _other_link(str(integration.account_id), b2brouter_id, invoice)
        result = _already_linked(other, b2brouter_id) if other else Result(
            "error", _("This invoice was linked by another request meanwhile: reload the page."))
        events.link_refused(invoice=invoice, user=user, b2brouter_id=b2brouter_id, message=result.text)
        return result
    events.linked(invoice=invoice, user=user, b2brouter_id=b2brouter_id)
    link = InvoiceLink.objects.get(invoice=invoice)
    if not _comparison(invoice, link).equal:
        return Result("warning", _("Linked to B2Brouter invoice #%(id)s, but its figures differ from ours: see "
                                   "below.") % {"id": b2brouter_id})
    return Result("success", _("Linked to B2Brouter invoice #%(id)s.") % {"id": b2brouter_id})


#: Pauses, in seconds, between download attempts that B2Brouter answers 404: it renders an invoice's
#: documents after creating it, so right after a create the PDF or UBL may not exist yet. Capped
#: exponential backoff, 7.5 s in all, so the user waits a moment rather than a minute.
DOCUMENT_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


def pause(seconds: float) -> None:
    """Wait between download attempts (the one place tests neutralise)."""
    time.sleep(seconds)


def _download_when_ready(remote: Remote, invoice_id: int, document_type: str) -> bytes:
    """Download a document, retrying a 404 with backoff while B2Brouter may still be generating it."""
    for delay in DOCUMENT_RETRY_DELAYS:
        try:
            return remote.download(invoice_id, document_type)
        except b2brouter.NotFoundError:
            pause(delay)
    return remote.download(invoice_id, document_type)


def _invoice_exists(remote: Remote, invoice_id: int) -> bool:
    """Tell whether B2Brouter still has the invoice (a failed read other than 404 counts as yes)."""
    try:
        remote.invoice(invoice_id)
    except b2brouter.NotFoundError:
        return False
    except b2brouter.B2BRouterError:
        return True
    return True


def download(*, invoice: Any, user: Any, document_type: str) -> tuple[bytes | None, Result | None]:
    """Fetch a document of the linked invoice from B2Brouter, waiting a little while it is generated."""
    link = InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.LINKED).first()
    if link is None:
        return None, Result("error", _("This invoice is not linked to a B2Brouter invoice."))
    integration, remote, problem = _linked_remote(invoice, link)
    if problem is not None or remote is None:
        return None, problem or Result("error", str(NOT_READY))
    try:
        return _download_when_ready(remote, link.b2brouter_id, document_type), None
    except b2brouter.NotFoundError as exc:
        described = describe(exc)
        if _invoice_exists(remote, link.b2brouter_id):
            result = Result("warning", _("B2Brouter is still generating this document; try again in a minute."),
                            "", described.request_id)
        else:
            result = Result("error", _("B2Brouter has no invoice #%(id)s any more (404): it may have been deleted "
                                       "there. Unlink this invoice, or link it to the right one.") % {
                "id": link.b2brouter_id}, described.remote_message, described.request_id)
        events.download_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=result.text,
                               remote_message=result.remote_message, request_id=result.request_id)
        return None, result
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        events.download_failed(invoice=invoice, user=user, b2brouter_id=link.b2brouter_id, message=described.text,
                               remote_message=described.remote_message, request_id=described.request_id)
        return None, Result("error", _("Could not download the document. %(error)s") % {"error": described.text},
                            described.remote_message, described.request_id)
