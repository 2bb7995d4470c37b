"""Domain operations of the simulator and the invoice state machine; raises typed SimErrors."""

from __future__ import annotations

import base64
import binascii
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
    InvalidQuery,
    MissingApiVersion,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from .models import SimAccount, SimContact, SimDirectoryEntry, SimEvent, SimInvoice, hash_api_key

SUPPORTED_VERSIONS = ("2025-10-13", "2026-03-02", "2026-04-20")
EDITABLE_STATES = {"new", "error"}
SENDABLE_STATES = {"new", "error"}
# mark_as reference: the states an issued (or issued simplified) invoice may be marked as.
MARKABLE_STATES = {
    "IssuedInvoice": {"new", "sent", "accepted", "registered", "refused", "paid", "closed"},
    "IssuedSimplifiedInvoice": {"new", "sent", "paid", "downloaded", "accepted", "refused", "registered", "closed"},
}
INVOICE_TYPES = tuple(MARKABLE_STATES)
# Types a list's `type` filter knows: our two, credit notes, and received invoices (none here).
LIST_TYPES = {"IssuedInvoice", "Invoice", "IssuedSimplifiedInvoice", "IssuedCreditNote", "ReceivedInvoice"}
ALL_STATES = ["new", "sending", "sent", "error", "registered", "accepted", "refused", "paid", "closed", "downloaded"]
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
    "postalcode", "province", "phone", "website", "transport_type_code", "document_type_code", "language",
    "currency", "integration_code", "scenario",
]
# Account fields PUT /accounts/{id} may change (besides the calculation settings).
ACCOUNT_TEXT_FIELDS = ["email", "phone", "website", "address", "city", "postalcode", "province"]
# Account `query` (Ransack `field=value [AND ...]`): the fields it may compare.
ACCOUNT_QUERY_FIELDS = {"name", "tin_value", "tin_scheme", "country", "currency", "email"}
INVOICE_QUERY_FIELDS = {"tin_value", "number", "state", "currency", "contact_id"}
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
    minimal_answers: bool = False,
    document_delay_seconds: int = 0,
    api_key: str | None = None,
    **details: str,
) -> tuple[SimAccount, str]:
    """Create an account and return it with its API key (shown only this once).

    `details` are the account's text fields (phone, address, city, postalcode, province, ...).
    """
    key = api_key or new_api_key()
    account = SimAccount(
        name=name,
        tin_value=tin_value,
        tin_scheme="9920" if country.lower() == "es" else "",
        country=v.country(country),
        currency=v.currency(currency),
        email=email,
        rounding_method=v.rounding_method(rounding_method),
        round_before_sum=round_before_sum,
        apply_taxes_per_line=apply_taxes_per_line,
        minimal_answers=minimal_answers,
        document_delay_seconds=document_delay_seconds,
        api_key_hash=hash_api_key(key),
    )
    for field, value in details.items():
        if field not in ACCOUNT_TEXT_FIELDS:
            raise TypeError(f"create_account() got an unexpected keyword argument {field!r}")
        setattr(account, field, value)
    account.save()
    return account, key


def set_options(account: SimAccount, data: dict[str, Any]) -> SimAccount:
    """Change the account's simulator options (minimal_answers, document_delay_seconds)."""
    unknown = sorted(set(data) - {"minimal_answers", "document_delay_seconds"})
    if unknown:
        raise ValidationFailed(
            f"Unknown option {unknown[0]!r}; options are minimal_answers and document_delay_seconds", param=unknown[0]
        )
    if "minimal_answers" in data:
        account.minimal_answers = v.boolean(data["minimal_answers"], "minimal_answers")
    if "document_delay_seconds" in data:
        account.document_delay_seconds = v.seconds(data["document_delay_seconds"], "document_delay_seconds")
    account.save()
    return account


def options_of(account: SimAccount) -> dict[str, Any]:
    """Return the account's simulator options as the control surface shows them."""
    return {"minimal_answers": account.minimal_answers, "document_delay_seconds": account.document_delay_seconds}


def list_accounts(caller: SimAccount, params: dict[str, str]) -> QuerySet[SimAccount]:
    """Return the accounts the key sees (its own), filtered by a Ransack-style `query`."""
    qs = SimAccount.objects.filter(pk=caller.pk)
    for field, value in _ransack(params.get("query"), ACCOUNT_QUERY_FIELDS):
        if field == "tin_value":
            # Compared like contacts' TINs: the country prefix and separators do not matter.
            qs = qs.filter(pk__in=[a.pk for a in qs if v.normalise_tin(a.tin_value) == v.normalise_tin(value)])
        elif field in {"country", "currency", "email"}:
            qs = qs.filter(**{f"{field}__iexact": value})
        elif field == "tin_scheme":
            qs = qs.filter(tin_scheme=value.zfill(4))
        else:
            qs = qs.filter(**{field: value})
    return qs


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
    """Update name, contact and address fields and the calculation settings; tin_value cannot change."""
    if "tin_value" in data and v.normalise_tin(_text(SimAccount, data, "tin_value")) != v.normalise_tin(account.tin_value):
        raise ValidationFailed("Tin value cannot be changed", code="parameter_cannot_change", param="tin_value")
    if "name" in data:
        name = _text(SimAccount, data, "name")
        if not name.strip():
            raise ValidationFailed("Name can't be blank", code="parameter_blank", param="name")
        account.name = name
    for field in ACCOUNT_TEXT_FIELDS:
        if field in data:
            setattr(account, field, _text(SimAccount, data, field))
    if "country" in data:
        account.country = v.country(data["country"])
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
    contact = SimContact.objects.filter(account=account, pk=int_or_none(contact_id)).first()
    if contact is None:
        raise NotFound("Contact not found")
    return contact


def _apply_contact_fields(contact: SimContact, data: dict[str, Any], prefix: str = "") -> None:
    for name in CONTACT_TEXT_FIELDS:
        if name in data:
            value = _text(SimContact, data, name, prefix)
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
    """Create a contact; its normalised TIN must be unique in the account.

    Without transport_type_code / document_type_code, the directory's codes are used when the
    contact is listed there (as B2Brouter assigns them at contact creation).
    """
    contact = SimContact(account=account)
    _apply_contact_fields(contact, data)
    _codes_from_directory(contact)
    return _save_contact(contact)


def _codes_from_directory(contact: SimContact) -> None:
    if contact.transport_type_code or not contact.tin_value:
        return
    if contact.tin_scheme:
        entry = find_participant(contact.country, contact.tin_scheme, contact.tin_value)
    else:
        # Without a scheme the country and the TIN decide (the first listing wins).
        entry = SimDirectoryEntry.objects.filter(
            country=contact.country.lower(), identifier_key=v.normalise_tin(contact.tin_value)
        ).first()
    if entry is not None:
        contact.transport_type_code = entry.transport_type_code
        contact.document_type_code = contact.document_type_code or entry.document_type_code


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
    invoice = SimInvoice.objects.filter(account=account, pk=int_or_none(invoice_id)).select_related("contact", "account").first()
    if invoice is None:
        raise NotFound("Invoice not found")
    return invoice


def _resolve_contact(account: SimAccount, data: dict[str, Any], invoice_type: str) -> SimContact:
    if invoice_type == "IssuedSimplifiedInvoice":
        # Simplified invoices ignore contact_id and take the inline contact, which needs no TIN.
        inline = data.get("contact")
        if not isinstance(inline, dict) or not str(inline.get("name") or "").strip():
            raise ValidationFailed(
                "Contact name can't be blank: a simplified invoice takes an inline contact",
                code="parameter_blank",
                param="contact.name",
            )
        key = v.normalise_tin(str(inline.get("tin_value") or ""))
        existing = SimContact.objects.filter(account=account, tin_key=key).first() if key else None
        if existing is not None:
            return existing
        contact = SimContact(account=account, is_client=True)
        _apply_contact_fields(contact, inline, prefix="contact.")
        return _save_contact(contact, prefix="contact.")
    if data.get("contact_id") not in (None, ""):
        contact = SimContact.objects.filter(account=account, pk=int_or_none(data["contact_id"])).first()
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


def next_number(account: SimAccount) -> str:
    """Return the next free automatic number of the account: "1", "2", ... skipping taken ones."""
    taken = set(SimInvoice.objects.filter(account=account).values_list("number", flat=True))
    n = len(taken) + 1
    while str(n) in taken:
        n += 1
    return str(n)


def _check_invoice(account: SimAccount, data: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """Validate a full invoice request and return the parsed values the model needs.

    Without a `number`, B2Brouter numbers the invoice itself (automatic numbering): the
    caller assigns one after the checks pass (see next_number).
    """
    number = _text(SimInvoice, data, "number").strip() if data.get("number") else ""
    if number:
        taken = SimInvoice.objects.filter(account=account, number=number)
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        if taken.exists():
            raise ValidationFailed("Number has already been taken", code="parameter_taken", param="number")
    invoice_type = data.get("type") or "IssuedInvoice"
    if not isinstance(invoice_type, str) or invoice_type not in INVOICE_TYPES:
        raise ValidationFailed(
            f"Type is not included in the list ({', '.join(INVOICE_TYPES)})", code="parameter_inclusion", param="type"
        )
    lines = v.parse_lines(data.get("invoice_lines_attributes"))
    adjustments = v.parse_allowance_charges(data.get("allowance_charges_attributes"), "allowance_charges_attributes")
    currency = v.currency(data.get("currency") or account.currency)
    date = v.date(data.get("date"), "date") or timezone.localdate()
    due_date = v.date(data.get("due_date"), "due_date")
    if due_date is not None and due_date < date:
        raise ValidationFailed("Due date must be on or after the invoice date", param="due_date")
    v.check_payment(data)
    is_credit_note = v.boolean(data.get("is_credit_note", False), "is_credit_note")
    v.check_corrective(data, is_credit_note)
    contact = _resolve_contact(account, data, invoice_type)
    try:
        totals = compute_totals(lines, adjustments, settings_of(account), currency)
        stored_totals = totals_json(totals, currency)
    except ArithmeticError:  # decimal.InvalidOperation, Overflow: beyond 28 significant digits
        raise ValidationFailed(
            "The invoice's amounts are too large to compute: check the quantities, prices and base quantities",
            param="invoice_lines_attributes",
        ) from None
    return {
        "number": number,
        "type": invoice_type,
        "date": date,
        "due_date": due_date,
        "currency": currency,
        "is_credit_note": is_credit_note,
        "contact": contact,
        "totals": stored_totals,
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


def _documents_ready_at(account: SimAccount, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=account.document_delay_seconds)


def create_invoice(account: SimAccount, data: dict[str, Any], *, send_after_import: bool = False) -> SimInvoice:
    """Validate and store a new invoice in state `new`; send it too when asked."""
    checked = _check_invoice(account, data)
    if not checked["number"]:
        checked["number"] = next_number(account)
    now = timezone.now()
    try:
        with transaction.atomic():
            invoice = SimInvoice.objects.create(
                account=account, request=data, state="new", created_at=now, updated_at=now, state_updated_at=now,
                documents_ready_at=_documents_ready_at(account, now), **checked
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
    # An automatically numbered invoice keeps the number it was given.
    checked["number"] = checked["number"] or invoice.number
    for name, value in checked.items():
        setattr(invoice, name, value)
    invoice.request = merged
    invoice.updated_at = timezone.now()
    # The documents are generated again from the new content.
    invoice.documents_ready_at = _documents_ready_at(invoice.account, invoice.updated_at)
    invoice.save()
    return invoice


def delete_invoice(invoice: SimInvoice) -> None:
    """Delete an invoice in new or error."""
    if invoice.state not in EDITABLE_STATES:
        raise Conflict(f"Invoice in state {invoice.state!r} cannot be deleted (only new or error)")
    invoice.delete()


def list_invoices(account: SimAccount, params: dict[str, str]) -> QuerySet[SimInvoice]:
    """Return the account's invoices filtered like B2Brouter's list (contract section 2)."""
    qs = SimInvoice.objects.filter(account=account).select_related("contact", "account").prefetch_related("tax_reports")
    if params.get("number"):
        qs = qs.filter(number=params["number"])
    for name, lookup in (("date_from", "date__gte"), ("date_to", "date__lte"),
                         ("due_date_from", "due_date__gte"), ("due_date_to", "due_date__lte")):
        if params.get(name):
            qs = qs.filter(**{lookup: _query_date(params[name], name)})
    if params.get("type"):
        wanted = params["type"]
        if wanted not in LIST_TYPES:
            raise InvalidQuery(f"Type {wanted!r} is not an invoice type ({', '.join(sorted(LIST_TYPES))})", param="type")
        if wanted == "IssuedCreditNote":
            qs = qs.filter(is_credit_note=True)
        elif wanted == "IssuedSimplifiedInvoice":
            qs = qs.filter(type="IssuedSimplifiedInvoice")
        elif wanted == "ReceivedInvoice":
            qs = qs.none()
    included = [state for flag, state in STATE_FLAGS.items() if params.get(flag) not in (None, "") and _flag(params[flag], flag)]
    excluded = [state for flag, state in STATE_FLAGS.items() if params.get(flag) not in (None, "") and not _flag(params[flag], flag)]
    if included:
        qs = qs.filter(state__in=included)
    if excluded:
        qs = qs.exclude(state__in=excluded)
    for field, value in _ransack(params.get("query"), INVOICE_QUERY_FIELDS):
        if field == "tin_value":
            qs = qs.filter(contact__tin_key=v.normalise_tin(value))
        elif field == "state":
            qs = qs.filter(state=STATE_FLAGS.get(value, value))
        elif field == "currency":
            qs = qs.filter(currency__iexact=value)
        elif field == "contact_id":
            qs = qs.filter(contact_id=int_or_none(value))
        else:
            qs = qs.filter(number=value)
    if params.get("updated_at_from"):
        qs = qs.filter(updated_at__gte=_query_datetime(params["updated_at_from"], "updated_at_from"))
    return qs.order_by("id")


def validate_invoice(invoice: SimInvoice) -> list[str]:
    """Return what would stop the invoice from being delivered (empty when it can be sent)."""
    problems = []
    contact = invoice.contact
    if not contact.country:
        problems.append("Contact country can't be blank")
    if invoice.type == "IssuedSimplifiedInvoice":
        # A simplified invoice does not identify its customer.
        return problems
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
    # With Verifactu or TicketBAI on, sending registers the invoice with the tax authority.
    from .tax_reports import generate_for_invoice

    generate_for_invoice(invoice)
    return invoice


def set_state(invoice: SimInvoice, state: str, notes: str | None = None) -> SimEvent:
    """Move the invoice to `state`, bump its timestamps and record (and deliver) the event."""
    now = timezone.now()
    invoice.state = state
    invoice.updated_at = now
    invoice.state_updated_at = now
    invoice.save()
    return _record_event(invoice, state, notes, deliver=True)


def _record_event(invoice: SimInvoice, state: str, notes: str | None, *, deliver: bool | None = None) -> SimEvent:
    from .webhooks import queue_deliveries

    triggered_at = int(timezone.now().timestamp())
    previous = (
        SimEvent.objects.filter(invoice=invoice, state=state, triggered_at__gte=triggered_at)
        .order_by("-triggered_at")
        .values_list("triggered_at", flat=True)
        .first()
    )
    if previous is not None:
        # The same state again within a second (fail, resend, fail): a later second, so that a
        # receiver de-duplicating on (invoice_id, state, triggered_at) keeps both events.
        triggered_at = previous + 1
    event = SimEvent.objects.create(invoice=invoice, state=state, notes=notes, triggered_at=triggered_at)
    # The creation (state new) is not a state change; every later state is, a return to new too.
    if deliver if deliver is not None else state != "new":
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
    """Set the state by hand (new, sent, accepted, registered, refused, paid, closed)."""
    allowed = MARKABLE_STATES.get(invoice.type, MARKABLE_STATES["IssuedInvoice"])
    if not isinstance(state, str) or state not in allowed:
        raise ValidationFailed(
            f"State is not included in the list ({', '.join(sorted(allowed))})",
            code="parameter_inclusion",
            param="state",
        )
    # A manual state ends the simulated recipient's automatic flow.
    invoice.pending_states = []
    if state == "refused":
        invoice.refuse_reason = reason or "Marked as refused"
    set_state(invoice, str(state), reason)
    return invoice


#: Where an invoice keeps its attachments inside ``SimInvoice.request`` (never part of what was sent:
#: ``as/original`` and updates leave it out). Each is {id, filename, content_type, size,
#: use_as_pdf_view, data (base64), created_at}.
ATTACHMENTS_KEY = "_sim_attachments"
#: The largest attachment the simulator keeps (B2Brouter documents no limit: inferred).
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def _decoded_upload(content: bytes) -> bytes:
    """Return the file of an upload: raw bytes, or a base64 / data-URI payload decoded (attachments guide)."""
    if content.startswith(b"data:") and b"," in content[:200]:
        header, _sep, payload = content.partition(b",")
        if header.endswith(b";base64"):
            try:
                return base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                raise ValidationFailed("The data URI is not valid base64", param="body") from None
        return payload
    if not content.startswith(b"%PDF"):
        try:
            decoded = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            return content
        if decoded.startswith(b"%PDF"):
            return decoded
    return content


def add_attachment(invoice: SimInvoice, *, filename: str, content: bytes, use_as_pdf_view: bool) -> dict[str, Any]:
    """Keep a file attached to the invoice; a PDF "used as PDF view" replaces the generated PDF."""
    data = _decoded_upload(content)
    if not data:
        raise ValidationFailed("The attachment is empty: send the file's bytes as the body", code="parameter_blank",
                               param="body")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(f"The attachment is too large (at most {MAX_ATTACHMENT_BYTES} bytes)", param="body")
    is_pdf = data.startswith(b"%PDF")
    if use_as_pdf_view and not is_pdf:
        raise ValidationFailed("use_as_pdf_view needs a PDF file", code="parameter_invalid", param="use_as_pdf_view")
    request = dict(invoice.request)
    attachments = [dict(a) for a in request.get(ATTACHMENTS_KEY) or []]
    if use_as_pdf_view:
        for previous in attachments:
            previous["use_as_pdf_view"] = False
    entry = {
        "id": max((int(a["id"]) for a in attachments), default=0) + 1,
        "filename": filename,
        "content_type": "application/pdf" if is_pdf else "application/octet-stream",
        "size": len(data),
        "use_as_pdf_view": use_as_pdf_view,
        "data": base64.b64encode(data).decode("ascii"),
        "created_at": timezone.now().isoformat(),
    }
    attachments.append(entry)
    request[ATTACHMENTS_KEY] = attachments
    invoice.request = request
    invoice.updated_at = timezone.now()
    invoice.save(update_fields=["request", "updated_at"])
    return entry


def attachments_of(invoice: SimInvoice) -> list[dict[str, Any]]:
    """Return the invoice's attachments (with their base64 data)."""
    return list(invoice.request.get(ATTACHMENTS_KEY) or [])


def pdf_view(invoice: SimInvoice) -> bytes | None:
    """Return the PDF attached "as PDF view", or None when B2Brouter generates the PDF."""
    for attachment in reversed(attachments_of(invoice)):
        if attachment.get("use_as_pdf_view"):
            return base64.b64decode(attachment["data"])
    return None


def sent_request(invoice: SimInvoice) -> dict[str, Any]:
    """Return the invoice's request as it was sent (without the simulator's attachment store)."""
    return {key: value for key, value in invoice.request.items() if key != ATTACHMENTS_KEY}


# --- directory ------------------------------------------------------------------------------


def find_participant(country: str, scheme: str, identifier: str) -> SimDirectoryEntry | None:
    """Return the directory entry of (country, scheme, identifier), or None when not listed."""
    key = v.normalise_tin(identifier)
    if not key:
        return None
    return SimDirectoryEntry.objects.filter(
        country=(country or "").lower(), scheme=(scheme or "").zfill(4), identifier_key=key
    ).first()


def lookup_participant(country: str, scheme: str, identifier: str) -> SimDirectoryEntry:
    """Return a listed participant or raise NotFound (the directory cannot be enumerated)."""
    entry = find_participant(country, scheme, identifier)
    if entry is None:
        raise NotFound("Entity not found in the directory")
    return entry


def register_participant(country: str, scheme: str, identifier: str, data: dict[str, Any]) -> SimDirectoryEntry:
    """Create or replace a directory entry (control surface)."""
    country = v.country(country)
    if not re.fullmatch(r"\d{1,4}", scheme or ""):
        raise ValidationFailed("Scheme must be an ISO 6523 ICD / EAS code such as 9920", code="parameter_inclusion",
                               param="scheme")
    key = v.normalise_tin(identifier)
    if not key:
        raise ValidationFailed("Id can't be blank", code="parameter_blank", param="id")
    v.text(identifier, "id", v.max_length(SimDirectoryEntry, "identifier"))
    others = data.get("other_document_type_codes", [])
    if not isinstance(others, list) or not all(isinstance(o, str) for o in others):
        raise ValidationFailed("other_document_type_codes must be a list of codes", param="other_document_type_codes")
    entry, _ = SimDirectoryEntry.objects.update_or_create(
        country=country,
        scheme=scheme.zfill(4),
        identifier_key=key,
        defaults={
            "identifier": identifier,
            "name": _text(SimDirectoryEntry, data, "name"),
            "transport_type_code": _text(SimDirectoryEntry, data, "transport_type_code") or "peppol",
            "document_type_code": _text(SimDirectoryEntry, data, "document_type_code") or "xml.ubl.invoice.bis3",
            "other_document_type_codes": others,
        },
    )
    return entry


def unregister_participant(country: str, scheme: str, identifier: str) -> None:
    """Remove a directory entry (control surface); 404 when it is not listed."""
    lookup_participant(country, scheme, identifier).delete()


# --- helpers --------------------------------------------------------------------------------


def _ransack(query: str | None, fields: set[str]) -> list[tuple[str, str]]:
    """Parse a Ransack-style `query` (`field=value [AND field=value ...]`) or raise InvalidQuery."""
    if query is None or not query.strip():
        return []
    conditions = []
    for part in re.split(r"\s+AND\s+", query.strip(), flags=re.IGNORECASE):
        match = re.fullmatch(r"\s*([a-z_]+)\s*=\s*([^=]*[^=\s])\s*", part)
        if match is None:
            raise InvalidQuery(f"Query {query!r} cannot be read: write field=value, joined with AND", param="query")
        field, value = match.group(1), match.group(2).strip("'\"")
        if field not in fields:
            raise InvalidQuery(f"Query field {field!r} is not supported here ({', '.join(sorted(fields))})", param="query")
        conditions.append((field, value))
    return conditions



def _text(model: type[Any], data: dict[str, Any], field: str, prefix: str = "") -> str:
    """Read ``data[field]`` as text that fits the column ``model.field`` (422 with the param otherwise)."""
    value = data.get(field)
    length = v.max_length(model, field)
    if field in ("tin_scheme", "cin_scheme") and isinstance(value, (str, int)) and len(str(value)) > length:
        raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} must be a scheme code of at most {length} "
                               "digits (9920, 0088, ...)", param=f"{prefix}{field}")
    return v.text(value, f"{prefix}{field}", length)


def int_or_none(value: Any) -> int | None:
    """Return value as an int, or None when it is not one (an id that cannot exist)."""
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
