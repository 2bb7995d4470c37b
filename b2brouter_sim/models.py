"""The simulator's own tables: accounts, contacts, invoices, events and webhooks."""

from __future__ import annotations

import hashlib

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


def hash_api_key(key: str) -> str:
    """Return the stored form of an API key (its SHA-256 hex digest)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class SimAccount(models.Model):
    """A B2Brouter account (the issuing company) with its calculation settings and faults."""

    ROUNDING_METHODS = [("half_up", "half_up"), ("bankers", "bankers"), ("truncate", "truncate")]

    name = models.CharField(max_length=200)
    tin_value = models.CharField(max_length=40)
    tin_scheme = models.CharField(max_length=4, blank=True, default="")
    country = models.CharField(max_length=2, default="es")
    currency = models.CharField(max_length=3, default="EUR")
    email = models.CharField(max_length=200, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    website = models.CharField(max_length=200, blank=True, default="")
    address = models.CharField(max_length=300, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    postalcode = models.CharField(max_length=20, blank=True, default="")
    province = models.CharField(max_length=100, blank=True, default="")
    rounding_method = models.CharField(max_length=10, choices=ROUNDING_METHODS, default="half_up")
    round_before_sum = models.BooleanField(default=True)
    apply_taxes_per_line = models.BooleanField(default=False)
    transactions_count = models.PositiveIntegerField(default=0)
    transactions_limit = models.PositiveIntegerField(default=1000)
    # Simulator options (docs/simulator.md, "Account options"): answers without the fields the
    # docs do not promise, and documents that take a while to be generated after a change.
    minimal_answers = models.BooleanField(default=False)
    document_delay_seconds = models.PositiveIntegerField(default=0)
    # Only the digest is kept, so the key never sits in the database in clear text.
    api_key_hash = models.CharField(max_length=64, unique=True)
    faults = models.JSONField(default=dict, blank=True)
    # Counts requests that went through fault injection: seed + counter drives random.Random.
    fault_counter = models.PositiveBigIntegerField(default=0)
    rate_window_start = models.FloatField(default=0)
    rate_window_count = models.PositiveIntegerField(default=0)
    # When the earliest operation held back by the "apply later" fault is due (None: none is).
    next_deferred_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"


class SimContact(models.Model):
    """A contact (client or provider) of an account."""

    account = models.ForeignKey(SimAccount, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=200, blank=True, default="")
    tin_value = models.CharField(max_length=40, blank=True, default="")
    # Normalised TIN (upper case, no separators, no country prefix): the uniqueness key.
    tin_key = models.CharField(max_length=40, blank=True, default="")
    tin_scheme = models.CharField(max_length=4, blank=True, default="")
    cin_value = models.CharField(max_length=40, blank=True, default="")
    cin_scheme = models.CharField(max_length=4, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")
    address = models.CharField(max_length=300, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    postalcode = models.CharField(max_length=20, blank=True, default="")
    province = models.CharField(max_length=100, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    website = models.CharField(max_length=200, blank=True, default="")
    transport_type_code = models.CharField(max_length=40, blank=True, default="")
    document_type_code = models.CharField(max_length=60, blank=True, default="")
    language = models.CharField(max_length=5, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    is_client = models.BooleanField(default=True)
    is_provider = models.BooleanField(default=False)
    integration_code = models.CharField(max_length=100, blank=True, default="")
    # Simulator extension: what happens to invoices sent to this contact (see docs/simulator.md).
    scenario = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "tin_key"],
                condition=~models.Q(tin_key=""),
                name="b2brouter_sim_contact_unique_tin",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SimInvoice(models.Model):
    """An issued invoice: the request as sent, the computed totals and the state."""

    account = models.ForeignKey(SimAccount, on_delete=models.CASCADE, related_name="invoices")
    contact = models.ForeignKey(SimContact, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=100)
    # IssuedInvoice or IssuedSimplifiedInvoice (the request's `type`).
    type = models.CharField(max_length=40, default="IssuedInvoice")
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    is_credit_note = models.BooleanField(default=False)
    # The request body exactly as accepted (merged over updates): returned by `as/original`.
    request = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # Computed by calculations.compute_totals, amounts as strings with the currency's decimals.
    totals = models.JSONField(default=dict)
    state = models.CharField(max_length=20, default="new")
    errors = models.JSONField(default=list, blank=True)
    refuse_reason = models.CharField(max_length=500, blank=True, default="")
    # The states still to come after `send`, from the contact's scenario; emptied by mark_as.
    pending_states = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField()
    state_updated_at = models.DateTimeField()
    # Documents are generated asynchronously: downloads answer 404 until this moment.
    documents_ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="b2brouter_sim_invoice_unique_number")
        ]

    def __str__(self) -> str:
        return self.number


class SimEvent(models.Model):
    """One state change of an invoice; its id is the webhook's `event_id`."""

    invoice = models.ForeignKey(SimInvoice, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(max_length=20)
    notes = models.CharField(max_length=500, blank=True, null=True)
    # The webhook's `triggered_at` (unix seconds): never shared by two events of one invoice with
    # one state, so (invoice_id, state, triggered_at) identifies an event without `event_id`.
    triggered_at = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class SimWebhook(models.Model):
    """An endpoint registered by an account to receive state changes."""

    account = models.ForeignKey(SimAccount, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    signing_secret = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True, default="")
    # False until the web app has shown the secret once (POST /web_hooks shows it in its 201).
    secret_shown = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def wants(self, code: str) -> bool:
        """Tell whether this endpoint subscribes to the event `code`."""
        return self.enabled and (not self.events or code in self.events or "*" in self.events)


class SimWebhookDelivery(models.Model):
    """The delivery log of one event to one webhook, with its retries."""

    webhook = models.ForeignKey(SimWebhook, on_delete=models.CASCADE, related_name="deliveries")
    # An invoice's state change, or (tax_report.state_change) a tax report's: one of the two.
    event = models.ForeignKey(SimEvent, on_delete=models.CASCADE, related_name="deliveries", null=True, blank=True)
    tax_report_event = models.ForeignKey(
        "SimTaxReportEvent", on_delete=models.CASCADE, related_name="deliveries", null=True, blank=True
    )
    payload = models.TextField()
    status = models.CharField(max_length=12, default="pending")  # pending, delivered, failed
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]


class SimDirectoryEntry(models.Model):
    """A participant of the simulated B2Brouter directory: who can receive what, and how."""

    country = models.CharField(max_length=2)
    scheme = models.CharField(max_length=4)
    # The identifier as registered, and its comparable form (see validation.normalise_tin).
    identifier = models.CharField(max_length=60)
    identifier_key = models.CharField(max_length=60)
    name = models.CharField(max_length=200, blank=True, default="")
    transport_type_code = models.CharField(max_length=40, default="peppol")
    document_type_code = models.CharField(max_length=60, default="xml.ubl.invoice.bis3")
    other_document_type_codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "scheme", "identifier_key"], name="b2brouter_sim_directory_unique_participant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.country}/{self.scheme}/{self.identifier}"


class SimDeferredOperation(models.Model):
    """A create or send held back by the "apply later" fault, applied once ``due_at`` has passed.

    The request was validated when it arrived and its answer was lost; nothing of it exists until
    it is applied (docs/simulator.md, "Faults").
    """

    KINDS = [("create", "create"), ("send", "send")]
    STATUSES = [("pending", "pending"), ("applied", "applied"), ("failed", "failed")]

    account = models.ForeignKey(SimAccount, on_delete=models.CASCADE, related_name="deferred_operations")
    kind = models.CharField(max_length=10, choices=KINDS)
    # The path's id: the account of a create, the invoice of a send.
    target = models.CharField(max_length=64)
    # The request body exactly as received.
    body = models.TextField(blank=True, default="")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=STATUSES, default="pending")
    # What applying it did: {"invoice_id", "state"} or the error B2Brouter would have answered then.
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["account", "status", "due_at"], name="b2brouter_sim_deferred_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} ({self.status})"


class SimTaxReportSetting(models.Model):
    """An account's tax report setting: Verifactu (``verifactu``) or TicketBAI (``tbai``)."""

    account = models.ForeignKey(SimAccount, on_delete=models.CASCADE, related_name="tax_report_settings")
    code = models.CharField(max_length=20)
    delegation = models.CharField(max_length=20, blank=True, default="")
    start_date = models.DateField()
    auto_generate = models.BooleanField(default=True)
    auto_send = models.BooleanField(default=True)
    special_regime_key = models.CharField(max_length=4, blank=True, default="01")
    special_regime_key_igic = models.CharField(max_length=4, blank=True, default="")
    reason_vat_exempt = models.CharField(max_length=4, blank=True, default="")
    reason_no_subject = models.CharField(max_length=4, blank=True, default="")
    credit_note_code = models.CharField(max_length=4, blank=True, default="R1")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "code"], name="b2brouter_sim_tax_report_setting_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.account_id})"


class SimTaxReport(models.Model):
    """A record sent to the tax authority: an invoice's registration, a correction or a cancellation.

    Records of one account and type form a chain: ``fingerprint`` is the SHA-256 over the
    record's AEAT fields and ``previous_fingerprint``, the fingerprint of the record before it.
    """

    account = models.ForeignKey(SimAccount, on_delete=models.CASCADE, related_name="tax_reports")
    invoice = models.ForeignKey(
        SimInvoice, on_delete=models.SET_NULL, related_name="tax_reports", null=True, blank=True
    )
    type = models.CharField(max_length=20, default="Verifactu")
    state = models.CharField(max_length=30, default="processing")
    invoice_number = models.CharField(max_length=100)
    invoice_series_code = models.CharField(max_length=60, blank=True, default="")
    invoice_date = models.DateField()
    invoice_type_code = models.CharField(max_length=4, default="F1")
    description = models.CharField(max_length=500, blank=True, default="")
    customer_party_name = models.CharField(max_length=200, blank=True, default="")
    customer_party_tax_id = models.CharField(max_length=40, blank=True, default="")
    customer_party_country = models.CharField(max_length=2, blank=True, default="")
    currency = models.CharField(max_length=3, default="EUR")
    # Amounts as strings with two decimals, as the API answers them.
    tax_inclusive_amount = models.CharField(max_length=40, default="0.00")
    tax_amount = models.CharField(max_length=40, default="0.00")
    tax_breakdowns = models.JSONField(default=list, blank=True)
    correction = models.BooleanField(default=False)
    annullation = models.BooleanField(default=False)
    # The record a correction or a cancellation refers to.
    corrected = models.ForeignKey(
        "self", on_delete=models.SET_NULL, related_name="followers", null=True, blank=True
    )
    generated_at = models.DateTimeField()
    fingerprint = models.CharField(max_length=64)
    previous_fingerprint = models.CharField(max_length=64, blank=True, default="")
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # The states still to come (the simulated AEAT's answer), applied by the task queue.
    pending_states = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} {self.invoice_number} ({self.state})"


class SimTaxReportEvent(models.Model):
    """One state change of a tax report; its id is the webhook's ``event_id``."""

    tax_report = models.ForeignKey(SimTaxReport, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(max_length=30)
    notes = models.CharField(max_length=500, blank=True, null=True)
    triggered_at = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
