"""Typed shapes of what the client sends and receives.

Responses are plain dicts described by ``TypedDict`` classes (``total=False``: B2Brouter may
omit a field, and fields it adds later are kept, untyped). Amounts, rates and quantities are
``Decimal``. Dates and timestamps stay ISO 8601 strings, as the API sends them.

Request ``...Params`` accept amounts as ``Decimal``, ``int`` or ``str``; the client writes them
as exact JSON numbers (see :mod:`b2brouter._money`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, TypeAlias, TypedDict

__all__ = [
    "Account",
    "AccountId",
    "AccountListParams",
    "AccountParams",
    "AllowanceCharge",
    "AllowanceChargeParams",
    "Amount",
    "BankAccount",
    "Contact",
    "ContactListParams",
    "ContactParams",
    "DirectoryDocument",
    "DirectoryEntry",
    "DocumentType",
    "Invoice",
    "InvoiceLine",
    "InvoiceLineParams",
    "InvoiceListParams",
    "InvoiceParams",
    "InvoiceState",
    "InvoiceValidation",
    "MarkAsState",
    "ResourceId",
    "Tax",
    "TaxBreakdown",
    "TaxParams",
    "TaxReport",
    "TaxReportBreakdown",
    "TaxReportBreakdownParams",
    "TaxReportLineParams",
    "TaxReportListParams",
    "TaxReportMessage",
    "TaxReportParams",
    "TaxReportSetting",
    "TaxReportSettingCode",
    "TaxReportSettingListParams",
    "TaxReportSettingParams",
    "TaxReportState",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEndpointListParams",
    "WebhookEndpointParams",
    "WebhookEvent",
    "WebhookEventData",
]

#: An account is addressed by its numeric id (or the identifier string B2Brouter shows).
AccountId: TypeAlias = int | str
#: Contacts and invoices are addressed by their numeric id.
ResourceId: TypeAlias = int | str
#: An amount in a request: never float, so no binary rounding can slip in.
Amount: TypeAlias = Decimal | int | str
DateLike: TypeAlias = dt.date | str

InvoiceState = Literal[
    "new", "sending", "sent", "registered", "accepted", "refused", "paid", "closed", "error"
]
MarkAsState = Literal["new", "sent", "accepted", "refused", "paid", "closed", "registered"]
DocumentType = Literal["pdf.invoice", "xml.ubl.invoice.bis3", "xml.facturae.3.2.2", "original"]
TaxReportState = Literal["processing", "registered", "registered_with_errors", "error", "annulled"]
#: ``verifactu`` (AEAT) or ``tbai`` (TicketBAI, with a ``delegation``).
TaxReportSettingCode = Literal["verifactu", "tbai"]


# Accounts -------------------------------------------------------------------------------------


class Account(TypedDict, total=False):
    """A B2Brouter account (the issuing company)."""

    id: int
    name: str
    tin_value: str
    tin_scheme: str
    country: str
    currency: str
    email: str
    rounding_method: str  # "half_up", "bankers" or "truncate"
    round_before_sum: bool
    apply_taxes_per_line: bool
    transactions_count: int
    transactions_limit: int | None
    created_at: str
    updated_at: str


class AccountParams(TypedDict, total=False):
    """Writable account fields for ``accounts.update`` (``tin_value`` cannot change)."""

    name: str
    email: str
    country: str
    currency: str
    rounding_method: str
    round_before_sum: bool
    apply_taxes_per_line: bool


class AccountListParams(TypedDict, total=False):
    """Filters of ``accounts.list``."""

    offset: int
    limit: int


# Contacts -------------------------------------------------------------------------------------


class ContactParams(TypedDict, total=False):
    """Fields of a contact to create or update (also an invoice's inline ``contact``)."""

    name: str
    email: str
    tin_value: str
    tin_scheme: str  # zero-padded, e.g. "9920" Spanish VAT
    cin_value: str
    cin_scheme: str
    country: str
    address: str
    city: str
    postalcode: str
    province: str
    language: str
    currency: str
    is_client: bool
    is_provider: bool
    integration_code: str
    phone: str
    website: str
    pin_scheme: str  # the Peppol endpoint's scheme, e.g. "0204" Leitweg-ID
    pin_value: str
    transport_type_code: str  # "b2brouter", "peppol", "email", ...; see client.directory
    document_type_code: str  # e.g. "xml.ubl.invoice.bis3", from /document_types


class Contact(ContactParams, total=False):
    """A contact (customer or provider) of an account."""

    id: int
    created_at: str
    updated_at: str


class ContactListParams(TypedDict, total=False):
    """Filters of ``contacts.list``; ``name`` also matches the contact's tax code."""

    name: str
    is_client: bool
    is_provider: bool
    integration_code: str
    offset: int
    limit: int


# Directory ------------------------------------------------------------------------------------


class DirectoryDocument(TypedDict, total=False):
    """How the directory says a receiver takes one kind of document (``Invoice``, ``Order``, ...)."""

    transport_type_code: str  # the transport most used to reach it, e.g. "peppol"
    document_type_code: str  # the most appropriate document type, e.g. "xml.ubl.invoice.bis3"
    other_document_type_codes: list[str]


class DirectoryEntry(TypedDict, total=False):
    """A receiver listed in B2Brouter's directory: basic details and one key per document.

    Only ``Invoice`` is typed; other documents (``Order``, ``Despatch Advice``, ...) are kept
    under their own keys: read them with :func:`b2brouter.directory_document`. The entity's
    detail fields are not documented; those below are the likely ones (inferred).
    """

    name: str
    country: str
    scheme: str
    id: str
    Invoice: DirectoryDocument


# Invoices -------------------------------------------------------------------------------------


class TaxParams(TypedDict, total=False):
    """A tax of a line: only these four fields are accepted (no amount, no base)."""

    name: str
    category: str  # S, AA, AAA, H, Z, E, AE, K, G, O, NS
    percent: Amount  # negative for withholdings (IRPF)
    comment: str  # the exemption reason for category E


class Tax(TypedDict, total=False):
    """A tax of a line, as answered."""

    name: str
    category: str
    percent: Decimal
    comment: str | None


class AllowanceChargeParams(TypedDict, total=False):
    """A discount or charge on a line or on the whole invoice: a ``percentage`` or an ``amount``."""

    allowance_charge_indicator: Literal["allowance", "charge"]
    percentage: Amount
    amount: Amount
    reason: str
    apply_taxes: bool


class AllowanceCharge(TypedDict, total=False):
    """A discount or charge, as answered."""

    allowance_charge_indicator: str
    percentage: Decimal | None
    amount: Decimal | None
    reason: str | None
    apply_taxes: bool


class InvoiceLineParams(TypedDict, total=False):
    """A line of an invoice to create or update. Line base = quantity x price / base_quantity."""

    id: int
    description: str
    quantity: Amount
    price: Amount
    base_quantity: Amount
    unit: str | int
    taxes_attributes: list[TaxParams]
    allowance_charges_attributes: list[AllowanceChargeParams]


class InvoiceLine(TypedDict, total=False):
    """A line of an invoice, as answered."""

    id: int
    description: str
    quantity: Decimal
    price: Decimal
    base_quantity: Decimal
    unit: str | int
    amount: Decimal
    taxes: list[Tax]
    allowance_charges: list[AllowanceCharge]


class BankAccount(TypedDict, total=False):
    """Where a credit transfer is paid: ``{"type": "iban", "iban": ..., "bic": ...}``."""

    type: str
    iban: str
    bic: str


class InvoiceParams(TypedDict, total=False):
    """An invoice to create or update. Give ``contact_id`` or an inline ``contact``."""

    number: str
    series_code: str
    date: DateLike
    due_date: DateLike
    currency: str
    language: str
    contact_id: int
    contact: ContactParams
    invoice_lines_attributes: list[InvoiceLineParams]
    allowance_charges_attributes: list[AllowanceChargeParams]
    payment_method: int
    payment_method_text: str
    bank_account: BankAccount
    contact_iban: str
    extra_info: str
    file_reference: str  # BT-11 project reference, shown to the customer
    buyer_reference: str  # BT-10, required by many public bodies
    ponumber: str  # BT-13 purchase order reference
    type: str  # "IssuedInvoice" (the default) or "IssuedSimplifiedInvoice"
    is_credit_note: bool


class TaxBreakdown(TypedDict, total=False):
    """One tax group of an invoice: its base and amount, as B2Brouter computed them."""

    name: str
    category: str
    percent: Decimal
    base: Decimal
    amount: Decimal


class Invoice(TypedDict, total=False):
    """An invoice, as answered. ``subtotal`` excludes taxes; ``total`` includes them."""

    id: int
    number: str
    series_code: str | None
    state: str  # see InvoiceState
    date: str
    due_date: str | None
    currency: str
    language: str
    contact_id: int
    contact: Contact
    invoice_lines: list[InvoiceLine]
    allowance_charges: list[AllowanceCharge]
    subtotal: Decimal
    taxes: list[TaxBreakdown]
    total: Decimal
    payment_method: int
    payment_method_text: str | None
    bank_account: BankAccount | None
    extra_info: str | None
    file_reference: str | None
    buyer_reference: str | None
    ponumber: str | None
    type: str
    is_credit_note: bool
    download_legal_url: str | None
    errors: list[str]
    refuse_reason: str | None
    created_at: str
    updated_at: str
    state_updated_at: str | None
    tax_report_ids: list[int]  # the Verifactu/TicketBAI records of the invoice, oldest first


class InvoiceValidation(TypedDict, total=False):
    """The answer of ``invoices.validate``: ``valid``, every problem in ``errors``, and the invoice."""

    valid: bool
    errors: list[str]
    invoice: Invoice


class InvoiceListParams(TypedDict, total=False):
    """Filters of ``invoices.list``. State flags select invoices in that state when true."""

    offset: int
    limit: int
    number: str
    date_from: DateLike
    date_to: DateLike
    due_date_from: DateLike
    due_date_to: DateLike
    type: str
    new: bool
    sending: bool
    sent: bool
    error: bool
    refused: bool
    accepted: bool
    registered: bool
    closed: bool
    allegedly_paid: bool
    query: str  # e.g. "tin_value=ESB12345678"
    updated_at_from: dt.datetime | str  # ISO 8601; the simulator's incremental-sync filter


# Tax reports (Verifactu, TicketBAI) -----------------------------------------------------------


class TaxReportSettingParams(TypedDict, total=False):
    """The body of ``tax_report_settings.create``/``update``, sent as ``{"tax_report_setting": {...}}``."""

    code: str  # "verifactu" or "tbai"
    start_date: DateLike  # reporting starts on this day; B2Brouter assumes today when absent
    auto_generate: bool
    auto_send: bool
    delegation: str  # TicketBAI only: "araba", "bizkaia" or "gipuzkoa"
    special_regime_key: str  # e.g. "01", the general regime
    special_regime_key_igic: str
    reason_vat_exempt: str  # default exemption cause, E1-E6
    reason_no_subject: str  # default not-subject cause, N1-N2
    credit_note_code: str  # default corrective type, R1-R5


class TaxReportSetting(TaxReportSettingParams, total=False):
    """An account's tax report setting, as answered."""

    type: str
    created_at: str
    updated_at: str


class TaxReportSettingListParams(TypedDict, total=False):
    """Paging of ``tax_report_settings.list``."""

    offset: int
    limit: int


class TaxReportBreakdownParams(TypedDict, total=False):
    """One tax rate's totals in a record (``tax_breakdowns``)."""

    name: str
    category: str  # S, E, NS, ...
    non_exemption_code: str  # S1 (subject) or S2 (reverse charge)
    exemption_code: str  # E1-E6
    non_subject_code: str  # N1-N2
    percent: Amount
    taxable_base: Amount
    tax_amount: Amount
    special_regime_key: str


class TaxReportBreakdown(TypedDict, total=False):
    """One tax rate's totals in a record, as answered."""

    name: str
    category: str
    non_exemption_code: str | None
    exemption_code: str | None
    non_subject_code: str | None
    percent: Decimal
    taxable_base: Decimal
    tax_amount: Decimal
    special_regime_key: str | None


class TaxReportLineParams(TypedDict, total=False):
    """A line of a TicketBAI record (``tax_report_lines``)."""

    quantity: Amount
    description: str
    price: Amount
    tax_inclusive_amount: Amount
    tax_exclusive_amount: Amount
    tax_amount: Amount


class TaxReportParams(TypedDict, total=False):
    """The body of ``tax_reports.create``/``update``, sent as ``{"tax_report": {...}}``."""

    type: str  # "Verifactu" or "TicketBai"
    invoice_date: DateLike
    invoice_number: str
    invoice_series_code: str
    description: str
    customer_party_name: str
    customer_party_tax_id: str
    customer_party_country: str
    customer_party_postalcode: str
    customer_party_address: str
    tax_inclusive_amount: Amount
    tax_amount: Amount
    invoice_type_code: str  # F1, F2 (simplified), R1-R5 (corrective)
    currency: str
    tax_breakdowns: list[TaxReportBreakdownParams]
    tax_report_lines: list[TaxReportLineParams]


class TaxReportMessage(TypedDict, total=False):
    """An error or warning the authority returned for a record."""

    code: str
    message: str


class TaxReport(TypedDict, total=False):
    """A Verifactu or TicketBAI record, as answered.

    ``qr`` is a base64 PNG; ``identifier`` the verification URL the QR encodes. ``errors``
    and ``warnings`` hold the authority's codes and messages (text, or ``{"code", "message"}``).
    """

    id: int
    type: str
    state: str  # see TaxReportState
    label: str
    invoice_id: int | None
    invoice_number: str
    invoice_series_code: str | None
    invoice_date: str
    invoice_type_code: str
    description: str
    customer_party_name: str | None
    customer_party_tax_id: str | None
    customer_party_country: str | None
    currency: str
    tax_inclusive_amount: Decimal
    tax_amount: Decimal
    tax_breakdowns: list[TaxReportBreakdown]
    qr: str | None
    identifier: str | None
    fingerprint: str | None
    previous_fingerprint: str | None
    correction: bool
    annullation: bool
    corrected_tax_report_id: int | None
    has_errors: bool
    errors: list[TaxReportMessage | str]
    warnings: list[TaxReportMessage | str]
    ledger_id: int | None
    sent_at: str | None
    created_at: str
    updated_at: str


class TaxReportListParams(TypedDict, total=False):
    """Filters of ``tax_reports.list``."""

    offset: int
    limit: int
    invoice_id: int
    sent_at_from: DateLike
    updated_at_from: dt.datetime | str
    updated_at_to: dt.datetime | str


# Webhooks -------------------------------------------------------------------------------------


class WebhookEventData(TypedDict, total=False):
    """The ``data`` of a webhook event."""

    invoice_id: int
    tax_report_id: int  # in ``tax_report.state_change`` events
    event_id: int
    state: str
    notes: str | None


class WebhookEvent(TypedDict, total=False):
    """A webhook event, e.g. ``issued_invoice.state_change``; ``triggered_at`` is a Unix time."""

    code: str
    triggered_at: int
    data: WebhookEventData


class WebhookEndpointParams(TypedDict, total=False):
    """The body of ``web_hooks.create``, sent as ``{"web_hook": {...}}``."""

    url: str  # http(s); B2Brouter POSTs the events here
    events: list[str]  # e.g. ["issued_invoice.state_change"]; "*" subscribes to every event
    enabled: bool


class WebhookDelivery(TypedDict, total=False):
    """One event's delivery to an endpoint, with its retries (``web_hooks.retrieve``)."""

    id: int
    event_id: int
    invoice_id: int
    state: str
    status: str  # "pending", "delivered" or "failed"
    attempts: int
    status_code: int | None  # the endpoint's last answer, None when none arrived
    last_error: str
    next_attempt_at: str | None
    delivered_at: str | None


class WebhookEndpoint(TypedDict, total=False):
    """A registered webhook endpoint.

    ``signing_secret`` is present only in the answer to ``web_hooks.create``; ``deliveries``
    only in the answer to ``web_hooks.retrieve``.
    """

    id: int
    url: str
    events: list[str]
    enabled: bool
    signing_secret: str
    created_at: str
    updated_at: str
    deliveries: list[WebhookDelivery]


class WebhookEndpointListParams(TypedDict, total=False):
    """Paging of ``web_hooks.list``."""

    offset: int
    limit: int
