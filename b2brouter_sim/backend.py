"""Domain operations of the simulator and the invoice state machine; raises typed SimErrors."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import validation as v
from .calculations import Settings, compute_totals, money
from .exceptions import (
    BadRequest,
    Conflict,
    InvalidApiVersion,
    MissingApiVersion,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from .models import SimAccount, SimContact, SimEvent, SimInvoice, hash_api_key

SUPPORTED_VERSIONS = ("2025-10-13", "2026-03-02", "2026-04-20")
EDITABLE_STATES = {"new", "error"}
SENDABLE_STATES = {"new", "error"}
MARKABLE_STATES = {"sent", "accepted", "refused", "paid", "closed", "registered"}
ALL_STATES = ["new", "sending", "sent", "error", "registered", "accepted", "refused", "paid", "closed"]
# Invoice list state flags; `allegedly_paid` is the list's name for the `paid` state.
STATE_FLAGS = {s: s for s in ALL_STATES} | {"allegedly_paid": "paid"}

# What happens after `send`, per contact scenario (docs/simulator.md, "Scenarios").
SCENARIOS: dict[str, list[str]] = {
    "accept": ["sent", "accepted"],
    "register": ["sent", "registered"],
    "refuse": ["sent", "refused"],
    "register_refuse": ["sent", "registered", "refused"],
    "pay": ["sent", "accepted", "paid"],
    "fail": ["error"],
    "stay": ["sent"],
}
DEFAULT_SCENARIO = "accept"
REFUSE_REASON = "Refused by the simulated recipient: the purchase order reference is missing"
FAIL_ERROR = "Simulated delivery failure: the recipient's access point rejected the document"

CONTACT_TEXT_FIELDS = [
    "name", "email", "tin_value", "tin_scheme", "cin_value", "cin_scheme", "country", "address", "city",
    "postalcode", "province", "language", "currency", "integration_code", "scenario",
]
CONTACT_BOOL_FIELDS = ["is_client", "is_provider"]


# --- accounts -------------------------------------------------------------------------------


def new_api_key() -> str:
    """Return a fresh random API key."""
    return "sim_" + secrets.token_urlsafe(24)


def create_account(
    *,
    name: str = "Simulated Company S.L.",
    tin_value: str = "ESB12345674",
    country: str = "es",
    currency: str = "EUR",
    email: str = "",
    rounding_method: str = "half_up",
    round_before_sum: bool = True,
    apply_taxes_per_line: bool = False,
    api_key: str | None = None,
) -> tuple[SimAccount, str]:
    """Create an account and return it with its API key (shown only this once)."""
    key = api_key or new_api_key()
    account = SimAccount.objects.create(
        name=name,
        tin_value=tin_value,
        tin_scheme="9920" if country.lower() == "es" else "",
        country=country.lower(),
        currency=v.currency(currency),
        email=email,
        rounding_method=v.rounding_method(rounding_method),
        round_before_sum=round_before_sum,
        apply_taxes_per_line=apply_taxes_per_line,
        api_key_hash=hash_api_key(key),
    )
    return account, key


def check_version(version: str | None) -> None:
    """Reject a missing or unknown X-B2B-API-Version."""
    accepted = ", ".join(SUPPORTED_VERSIONS)
    if not version:
        raise MissingApiVersion(f"Send the X-B2B-API-Version header (one of {accepted})", param="X-B2B-API-Version")
    if version not in SUPPORTED_VERSIONS:
        raise InvalidApiVersion(
            f"API version {version!r} is not supported; use one of {accepted}", param="X-B2B-API-Version"
        )


def authenticate(key: str | None) -> SimAccount:
    """Return the account owning the API key, or raise Unauthorized."""
    if key:
        account = SimAccount.objects.filter(api_key_hash=hash_api_key(key)).first()
        if account is not None:
            return account
    raise Unauthorized("Invalid or missing API key: send X-B2B-API-Key")


def get_account(caller: SimAccount, account_id: Any) -> SimAccount:
    """Return the caller's own account by id; any other id is 404."""
    if str(account_id) != str(caller.pk):
        raise NotFound("Account not found")
    return caller


def update_account(account: SimAccount, data: dict[str, Any]) -> SimAccount:
    """Update name, email and the three calculation settings; tin_value cannot change."""
    if "tin_value" in data and v.normalise_tin(str(data["tin_value"] or "")) != v.normalise_tin(account.tin_value):
        raise ValidationFailed("Tin value cannot be changed", code="parameter_cannot_change", param="tin_value")
    if "name" in data:
        if not str(data["name"] or "").strip():
            raise ValidationFailed("Name can't be blank", code="parameter_blank", param="name")
        account.name = str(data["name"])
    if "email" in data:
        account.email = str(data["email"] or "")
    if "rounding_method" in data:
        account.rounding_method = v.rounding_method(data["rounding_method"])
    for flag in ("round_before_sum", "apply_taxes_per_line"):
        if flag in data:
            setattr(account, flag, v.boolean(data[flag], flag))
    if "currency" in data:
        account.currency = v.currency(data["currency"])
    account.save()
    return account


def settings_of(account: SimAccount) -> Settings:
    """Return the account's calculation settings."""
    return Settings(account.rounding_method, account.round_before_sum, account.apply_taxes_per_line)


# --- contacts -------------------------------------------------------------------------------


def get_contact(account: SimAccount, contact_id: Any) -> SimContact:
    """Return a contact of the account, or raise NotFound."""
    contact = SimContact.objects.filter(account=account, pk=_int_or_none(contact_id)).first()
    if contact is None:
        raise NotFound("Contact not found")
    return contact


def _apply_contact_fields(contact: SimContact, data: dict[str, Any], prefix: str = "") -> None:
    for name in CONTACT_TEXT_FIELDS:
        if name in data:
            value = "" if data[name] is None else str(data[name])
            if name == "tin_scheme" or name == "cin_scheme":
                value = value.zfill(4) if value else ""
            if name == "country":
                value = value.lower()
            if name == "currency" and value:
                value = v.currency(value, f"{prefix}currency")
            if name == "scenario" and value and scenario_name(value) is None:
                raise ValidationFailed(
                    f"Scenario is not included in the list ({', '.join(SCENARIOS)})",
                    code="parameter_inclusion",
                    param=f"{prefix}scenario",
                )
            setattr(contact, name, value)
    for name in CONTACT_BOOL_FIELDS:
        if name in data:
            setattr(contact, name, v.boolean(data[name], f"{prefix}{name}"))
    if not contact.name.strip():
        raise ValidationFailed("Name can't be blank", code="parameter_blank", param=f"{prefix}name")
    contact.tin_key = v.normalise_tin(contact.tin_value)


def _save_contact(contact: SimContact, prefix: str = "") -> SimContact:
    if contact.tin_key:
        clash = SimContact.objects.filter(account=contact.account, tin_key=contact.tin_key).exclude(pk=contact.pk)
        if clash.exists():
            raise ValidationFailed("Tin value has already been taken", code="parameter_taken", param=f"{prefix}tin_value")
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise ValidationFailed(
            "Tin value has already been taken", code="parameter_taken", param=f"{prefix}tin_value"
        ) from None
    return contact


def create_contact(account: SimAccount, data: dict[str, Any]) -> SimContact:
    """Create a contact; its normalised TIN must be unique in the account."""
    contact = SimContact(account=account)
    _apply_contact_fields(contact, data)
    return _save_contact(contact)


def update_contact(contact: SimContact, data: dict[str, Any]) -> SimContact:
    """Update a contact's fields."""
    _apply_contact_fields(contact, data)
    return _save_contact(contact)


def delete_contact(contact: SimContact) -> None:
    """Delete a contact that no invoice refers to."""
    if contact.invoices.exists():
        raise Conflict("Contact has invoices and cannot be deleted")
    contact.delete()


def list_contacts(account: SimAccount, params: dict[str, str]) -> QuerySet[SimContact]:
    """Return the account's contacts filtered by name (name or TIN), client/provider flags, code."""
    qs = SimContact.objects.filter(account=account)
    name = params.get("name")
    if name:
        cond = Q(name__icontains=name) | Q(tin_value__icontains=name)
        key = v.normalise_tin(name)
        if key:
            cond |= Q(tin_key__icontains=key)
        qs = qs.filter(cond)
    for flag in CONTACT_BOOL_FIELDS:
        if params.get(flag) not in (None, ""):
            qs = qs.filter(**{flag: _flag(params[flag], flag)})
    if params.get("integration_code") not in (None, ""):
        qs = qs.filter(integration_code=params["integration_code"])
    return qs.order_by("id")


# --- invoices -------------------------------------------------------------------------------


def get_invoice(account: SimAccount, invoice_id: Any) -> SimInvoice:
    """Return an invoice of the account, or raise NotFound("Invoice not found")."""
    invoice = SimInvoice.objects.filter(account=account, pk=_int_or_none(invoice_id)).select_related("contact").first()
    if invoice is None:
        raise NotFound("Invoice not found")
    return invoice


def _resolve_contact(account: SimAccount, data: dict[str, Any]) -> SimContact:
    if data.get("contact_id") not in (None, ""):
        contact = SimContact.objects.filter(account=account, pk=_int_or_none(data["contact_id"])).first()
        if contact is None:
            raise ValidationFailed(
                "Contact not found in this account", code="parameter_inclusion", param="contact_id"
            )
        return contact
    inline = data.get("contact")
    if not isinstance(inline, dict):
        raise ValidationFailed("Contact can't be blank: give contact_id or contact", code="parameter_blank", param="contact_id")
    if not str(inline.get("tin_value") or "").strip() and not str(inline.get("cin_value") or "").strip():
        raise ValidationFailed(
            "Contact tin_value or cin_value can't be blank", code="parameter_blank", param="contact.tin_value"
        )
    key = v.normalise_tin(str(inline.get("tin_value") or ""))
    existing = SimContact.objects.filter(account=account, tin_key=key).first() if key else None
    if existing is not None:
        return existing
    contact = SimContact(account=account, is_client=True)
    _apply_contact_fields(contact, inline, prefix="contact.")
    return _save_contact(contact, prefix="contact.")


def _check_invoice(account: SimAccount, data: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """Validate a full invoice request and return the parsed values the model needs."""
    number = str(data.get("number") or "").strip()
    if not number:
        raise ValidationFailed("Number can't be blank", code="parameter_blank", param="number")
    taken = SimInvoice.objects.filter(account=account, number=number)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationFailed("Number has already been taken", code="parameter_taken", param="number")
    lines = v.parse_lines(data.get("invoice_lines_attributes"))
    adjustments = v.parse_allowance_charges(data.get("allowance_charges_attributes"), "allowance_charges_attributes")
    currency = v.currency(data.get("currency") or account.currency)
    date = v.date(data.get("date"), "date") or timezone.localdate()
    due_date = v.date(data.get("due_date"), "due_date")
    if due_date is not None and due_date < date:
        raise ValidationFailed("Due date must be on or after the invoice date", param="due_date")
    v.check_payment(data)
    is_credit_note = v.boolean(data.get("is_credit_note", False), "is_credit_note")
    contact = _resolve_contact(account, data)
    totals = compute_totals(lines, adjustments, settings_of(account), currency)
    return {
        "number": number,
        "date": date,
        "due_date": due_date,
        "currency": currency,
        "is_credit_note": is_credit_note,
        "contact": contact,
        "totals": totals_json(totals, currency),
    }


def totals_json(totals: Any, currency: str) -> dict[str, Any]:
    """Return computed totals as stored and served: amounts as strings with the currency's decimals."""
    return {
        "line_amounts": [money(a, currency) for a in totals.line_amounts],
        "document_adjustments": [money(a, currency) for a in totals.document_adjustments],
        "subtotal": money(totals.subtotal, currency),
        "taxes": [
            {
                "name": g.name,
                "category": g.category,
                "percent": f"{g.percent:f}",
                "base": money(g.base, currency),
                "amount": money(g.amount, currency),
            }
            for g in totals.taxes
        ],
        "total": money(totals.total, currency),
    }


def create_invoice(account: SimAccount, data: dict[str, Any], *, send_after_import: bool = False) -> SimInvoice:
    """Validate and store a new invoice in state `new`; send it too when asked."""
    checked = _check_invoice(account, data)
    now = timezone.now()
    try:
        with transaction.atomic():
            invoice = SimInvoice.objects.create(
                account=account, request=data, state="new", created_at=now, updated_at=now, state_updated_at=now, **checked
            )
    except IntegrityError:
        # Two concurrent creates with one number: the unique constraint decides.
        raise ValidationFailed("Number has already been taken", code="parameter_taken", param="number") from None
    _record_event(invoice, "new", None)
    if send_after_import:
        send_invoice(invoice)
    return invoice


def update_invoice(invoice: SimInvoice, data: dict[str, Any]) -> SimInvoice:
    """Merge the given fields into an editable invoice and recompute its totals."""
    if invoice.state not in EDITABLE_STATES:
        raise Conflict(f"Invoice in state {invoice.state!r} cannot be modified (only new or error)")
    merged = dict(invoice.request) | data
    if "contact_id" in data:
        merged.pop("contact", None)
    elif "contact" in data:
        merged.pop("contact_id", None)
    checked = _check_invoice(invoice.account, merged, exclude_pk=invoice.pk)
    for name, value in checked.items():
        setattr(invoice, name, value)
    invoice.request = merged
    invoice.updated_at = timezone.now()
    invoice.save()
    return invoice


def delete_invoice(invoice: SimInvoice) -> None:
    """Delete an invoice in new or error."""
    if invoice.state not in EDITABLE_STATES:
        raise Conflict(f"Invoice in state {invoice.state!r} cannot be deleted (only new or error)")
    invoice.delete()


def list_invoices(account: SimAccount, params: dict[str, str]) -> QuerySet[SimInvoice]:
    """Return the account's invoices filtered like B2Brouter's list (contract section 2)."""
    qs = SimInvoice.objects.filter(account=account).select_related("contact")
    if params.get("number"):
        qs = qs.filter(number=params["number"])
    for name, lookup in (("date_from", "date__gte"), ("date_to", "date__lte"),
                         ("due_date_from", "due_date__gte"), ("due_date_to", "due_date__lte")):
        if params.get(name):
            qs = qs.filter(**{lookup: _query_date(params[name], name)})
    if params.get("type"):
        wanted = params["type"]
        if wanted in {"IssuedCreditNote"}:
            qs = qs.filter(is_credit_note=True)
        elif wanted not in {"IssuedInvoice", "Invoice"}:
            qs = qs.none()
    included = [state for flag, state in STATE_FLAGS.items() if params.get(flag) not in (None, "") and _flag(params[flag], flag)]
    excluded = [state for flag, state in STATE_FLAGS.items() if params.get(flag) not in (None, "") and not _flag(params[flag], flag)]
    if included:
        qs = qs.filter(state__in=included)
    if excluded:
        qs = qs.exclude(state__in=excluded)
    if params.get("query"):
        match = re.fullmatch(r"\s*tin_value\s*=\s*(\S+)\s*", params["query"])
        if match:
            qs = qs.filter(contact__tin_key=v.normalise_tin(match.group(1)))
        else:
            qs = qs.filter(Q(number__icontains=params["query"]) | Q(contact__name__icontains=params["query"]))
    if params.get("updated_at_from"):
        qs = qs.filter(updated_at__gte=_query_datetime(params["updated_at_from"], "updated_at_from"))
    return qs.order_by("id")


def validate_invoice(invoice: SimInvoice) -> list[str]:
    """Return what would stop the invoice from being delivered (empty when it can be sent)."""
    problems = []
    contact = invoice.contact
    if not contact.country:
        problems.append("Contact country can't be blank")
    if not contact.tin_value and not contact.cin_value:
        problems.append("Contact tin_value or cin_value can't be blank")
    if not contact.email and not contact.tin_value:
        problems.append("Contact needs an email or an electronic address")
    return problems


# --- state machine --------------------------------------------------------------------------


def scenario_name(value: str) -> str | None:
    """Return the canonical scenario name for `value`, or None when it names none."""
    key = value.strip().lower().replace("-", "_")
    return key if key in SCENARIOS else None


def scenario_for(contact: SimContact) -> str:
    """Pick a contact's scenario: the `scenario` field, else a marker in the email or name."""
    if contact.scenario and scenario_name(contact.scenario):
        return scenario_name(contact.scenario) or DEFAULT_SCENARIO
    for pattern, text in ((r"\+sim[-_]([a-z_-]+)@", contact.email.lower()), (r"\[sim:([a-z_-]+)\]", contact.name.lower())):
        match = re.search(pattern, text)
        if match and scenario_name(match.group(1)):
            return scenario_name(match.group(1)) or DEFAULT_SCENARIO
    return DEFAULT_SCENARIO


def send_invoice(invoice: SimInvoice) -> SimInvoice:
    """Start sending: new or error -> sending, then the scenario's states follow in tasks."""
    if invoice.state not in SENDABLE_STATES:
        raise Conflict(f"Invoice in state {invoice.state!r} cannot be sent (only new or error)")
    account = invoice.account
    account.transactions_count += 1
    account.save(update_fields=["transactions_count", "updated_at"])
    invoice.pending_states = list(SCENARIOS[scenario_for(invoice.contact)])
    invoice.errors = []
    invoice.refuse_reason = ""
    set_state(invoice, "sending")
    schedule_next(invoice)
    return invoice


def set_state(invoice: SimInvoice, state: str, notes: str | None = None) -> SimEvent:
    """Move the invoice to `state`, bump its timestamps and record (and deliver) the event."""
    now = timezone.now()
    invoice.state = state
    invoice.updated_at = now
    invoice.state_updated_at = now
    invoice.save()
    return _record_event(invoice, state, notes)


def _record_event(invoice: SimInvoice, state: str, notes: str | None) -> SimEvent:
    from .webhooks import queue_deliveries

    event = SimEvent.objects.create(invoice=invoice, state=state, notes=notes)
    if state != "new":
        queue_deliveries(event)
    return event


def advance(invoice: SimInvoice) -> SimInvoice:
    """Apply the next pending state of the scenario now; 409 when nothing is pending."""
    if not invoice.pending_states:
        raise Conflict(f"Invoice in state {invoice.state!r} has no pending transition")
    state, *rest = invoice.pending_states
    invoice.pending_states = rest
    notes = None
    if state == "refused":
        invoice.refuse_reason = REFUSE_REASON
        notes = REFUSE_REASON
    if state == "error":
        invoice.errors = [FAIL_ERROR]
        notes = FAIL_ERROR
    set_state(invoice, state, notes)
    return invoice


def schedule_next(invoice: SimInvoice) -> None:
    """Enqueue the task that applies the next pending state after a small delay."""
    if not invoice.pending_states:
        return
    from .tasks import advance_invoice, enqueue_later

    enqueue_later(advance_invoice, invoice.pk, invoice.state)


def mark_as(invoice: SimInvoice, state: Any, reason: str | None = None) -> SimInvoice:
    """Set the state by hand (sent, accepted, refused, paid, closed, registered)."""
    if state not in MARKABLE_STATES:
        raise ValidationFailed(
            f"State is not included in the list ({', '.join(sorted(MARKABLE_STATES))})",
            code="parameter_inclusion",
            param="state",
        )
    # A manual state ends the simulated recipient's automatic flow.
    invoice.pending_states = []
    if state == "refused":
        invoice.refuse_reason = reason or "Marked as refused"
    set_state(invoice, str(state), reason)
    return invoice


# --- helpers --------------------------------------------------------------------------------


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _flag(value: str, name: str) -> bool:
    if str(value).lower() in {"1", "true"}:
        return True
    if str(value).lower() in {"0", "false"}:
        return False
    raise BadRequest(f"{name} must be 0 or 1", param=name)


def _query_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} is not a date (YYYY-MM-DD)", param=name) from None


def page(params: dict[str, str]) -> tuple[int, int]:
    """Return (offset, limit) from the query: limit defaults to 25 and is capped at 500."""
    offset = _integer(params.get("offset"), "offset", default=0, minimum=0)
    limit = _integer(params.get("limit"), "limit", default=25, minimum=1)
    return offset, min(limit, 500)


def _integer(value: str | None, name: str, *, default: int, minimum: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", param=name) from None
    if number < minimum:
        raise BadRequest(f"{name} must be at least {minimum}", param=name)
    return number


def _query_datetime(value: str, name: str) -> dt.datetime:
    """Parse an ISO 8601 date-time of the query string; naive means UTC."""
    # An unencoded "+01:00" arrives as " 01:00" (a "+" in a query string is a space): restore it.
    text = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$", r"\1+\2", value.strip())
    try:
        since = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} is not an ISO 8601 date-time", param=name) from None
    if timezone.is_naive(since):
        since = timezone.make_aware(since, dt.timezone.utc)
    return since
