"""The B2Brouter integration: per-company settings, invoice links and the invoice event log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from b2binvoice.companies.models import Company
from b2binvoice.core.fields import EncryptedTextField, mask_secret
from b2binvoice.core.texts import MessageField
from b2binvoice.invoices.models import Invoice

# The calculation settings b2binvoice's own arithmetic equals (shared/b2brouter-api.md section 7).
REQUIRED_CALCULATION_SETTINGS: dict[str, Any] = {
    "rounding_method": "half_up",
    "round_before_sum": True,
    "apply_taxes_per_line": False,
}


class Environment(models.TextChoices):
    PRODUCTION = "production", _("Production")
    STAGING = "staging", _("Staging")
    SIMULATOR = "simulator", _("Local simulator")


class WebhookSetup(models.TextChoices):
    API = "api", _("Registered through the API")
    MANUAL = "manual", _("Added in B2Brouter by hand")


class B2BrouterIntegration(models.Model):
    """A company's connection to one B2Brouter account."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="b2brouter_integration")
    enabled = models.BooleanField(_("enabled"), default=False)
    environment = models.CharField(_("environment"), max_length=12, choices=Environment.choices,
                                   default=Environment.PRODUCTION)
    api_key = EncryptedTextField(_("API key"), blank=True)
    account_id = models.CharField(_("account ID"), max_length=64, blank=True)
    send_after_create = models.BooleanField(
        _("send after create"), default=True,
        help_text=_("Send the invoice through B2Brouter as soon as its totals are confirmed to match ours."))
    attach_pdf = models.BooleanField(
        _("attach our PDF"), default=False,
        help_text=_("Upload our own PDF of the invoice to B2Brouter after creating it there, as the invoice's PDF "
                    "view."))
    # What the last successful verification read from the account.
    account_name = models.CharField(max_length=255, blank=True)
    account_tin = models.CharField(max_length=64, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    rounding_method = models.CharField(max_length=20, blank=True)
    round_before_sum = models.BooleanField(null=True, blank=True)
    apply_taxes_per_line = models.BooleanField(null=True, blank=True)
    settings_checked_at = models.DateTimeField(null=True, blank=True)
    transactions_count = models.BigIntegerField(null=True, blank=True)
    transactions_limit = models.BigIntegerField(null=True, blank=True)
    # State updates pushed by B2Brouter (see docs/architecture.md, "State updates"). The token makes
    # the receiver's URL unguessable; the signing secret, shown by B2Brouter once (in its web app under
    # Developers -> Webhooks, or in the answer of a registration), is encrypted like the key.
    webhook_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    webhook_secret = EncryptedTextField(blank=True, editable=False)
    webhook_setup = models.CharField(max_length=10, choices=WebhookSetup.choices, blank=True)
    webhook_remote_id = models.CharField(max_length=64, blank=True)
    webhook_url = models.CharField(max_length=500, blank=True)
    webhook_registered_at = models.DateTimeField(null=True, blank=True)
    webhook_last_received_at = models.DateTimeField(null=True, blank=True)
    # The fallback sync lists the invoices B2Brouter changed since this time.
    last_synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("B2Brouter integration")
        verbose_name_plural = _("B2Brouter integrations")

    def __str__(self) -> str:
        return f"B2Brouter {self.environment} {self.account_id or '-'} ({self.company})"

    def __repr__(self) -> str:
        # Never let the key reach a traceback or a log line.
        return (f"<B2BrouterIntegration company={self.company_id} account={self.account_id!r} "
                f"key={self.masked_key!r} webhook_secret={self.masked_webhook_secret!r}>")

    @property
    def masked_key(self) -> str:
        """Return the API key with all but its last four characters hidden."""
        return mask_secret(self.api_key)

    @property
    def masked_webhook_secret(self) -> str:
        """Return the webhook signing secret with all but its last four characters hidden."""
        return mask_secret(self.webhook_secret)

    @property
    def has_credentials(self) -> bool:
        """Return whether a key and an account have been verified against B2Brouter."""
        return bool(self.api_key and self.account_id and self.verified_at)

    @property
    def webhook_registered(self) -> bool:
        """Return whether B2Brouter has been given this integration's receiver and secret."""
        return bool(self.webhook_token and self.webhook_secret and self.webhook_registered_at)

    @property
    def is_ready(self) -> bool:
        """Return whether invoices can be pushed through this integration."""
        return self.enabled and self.has_credentials

    @property
    def calculation_settings(self) -> dict[str, Any]:
        """Return the account's calculation settings as last read."""
        return {
            "rounding_method": self.rounding_method or None,
            "round_before_sum": self.round_before_sum,
            "apply_taxes_per_line": self.apply_taxes_per_line,
        }

    @property
    def settings_known(self) -> bool:
        """Return whether the calculation settings have been read at least once."""
        return self.settings_checked_at is not None

    def settings_mismatches(self) -> list[dict[str, Any]]:
        """Return each calculation setting that differs from the required value."""
        current = self.calculation_settings
        return [
            {"name": name, "required": required, "current": current[name]}
            for name, required in REQUIRED_CALCULATION_SETTINGS.items()
            if current[name] != required
        ]

    @property
    def settings_match(self) -> bool:
        """Return whether the last read calculation settings equal the required ones."""
        return self.settings_known and not self.settings_mismatches()


class LinkStatus(models.TextChoices):
    PENDING = "pending", _("Creation pending")
    LINKED = "linked", _("Linked")


class AttemptKind(models.TextChoices):
    """What an unresolved attempt asked B2Brouter to do (docs/architecture.md, "How uncertain outcomes converge")."""

    NONE = "", _("None")
    CREATE = "create", _("Create")
    SEND = "send", _("Send")


class InvoiceLink(models.Model):
    """The B2Brouter invoice a local invoice is linked to, or a creation attempt in flight.

    The row is committed as a *pending attempt* before the create request leaves,
    so the one-to-one constraint makes a second concurrent create impossible and a
    crash leaves a trace to reconcile instead of an orphan.
    """

    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="b2brouter_link")
    status = models.CharField(max_length=10, choices=LinkStatus.choices, default=LinkStatus.PENDING)
    environment = models.CharField(max_length=12, choices=Environment.choices, blank=True)
    account_id = models.CharField(max_length=64)
    b2brouter_id = models.BigIntegerField(null=True, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True)
    number = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=32, blank=True)
    # When B2Brouter says the state changed, and the webhook event that said so (None after a read),
    # so a late or repeated notification never replaces a newer state.
    state_updated_at = models.DateTimeField(null=True, blank=True)
    state_event_id = models.BigIntegerField(null=True, blank=True)
    date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    subtotal = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    tax_total = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    total = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    # [{"name", "category", "percent", "base", "amount"}] with amounts as strings (exact decimals).
    taxes = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    refuse_reason = models.TextField(blank=True)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    # Set when the create request has ended without settling the attempt (no answer and the
    # lookup failed too): nothing is in flight any more, so a check may run at once.
    needs_check = models.BooleanField(default=False)
    # The attempt whose outcome B2Brouter has not confirmed yet: a create (the row is pending) or a
    # send (the row is linked). It is kept, with what was asked, until a check settles it.
    attempt_kind = models.CharField(max_length=10, choices=AttemptKind.choices, blank=True, default="")
    attempt_total = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    attempt_file_reference = models.CharField(max_length=100, blank=True)
    attempt_checks = models.PositiveIntegerField(default=0)
    attempt_checked_at = models.DateTimeField(null=True, blank=True)
    attempt_next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Why the last check could not tell (B2Brouter unreachable, ...); empty when it could.
    attempt_error = MessageField(blank=True)
    # The state B2Brouter had before we marked the invoice paid: offered back when deleting a
    # payment leaves something due here while B2Brouter still holds the invoice as paid.
    state_before_paid = models.CharField(max_length=32, blank=True)
    # The B2Brouter invoice our PDF is attached to (set before the upload leaves, so it goes up
    # once whichever path confirms the create first; cleared again when B2Brouter refused it).
    pdf_attached_to = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("B2Brouter invoice link")
        constraints = [
            models.UniqueConstraint(
                fields=["account_id", "b2brouter_id"],
                condition=models.Q(b2brouter_id__isnull=False),
                name="einvoicing_one_local_invoice_per_b2brouter_invoice",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(b2brouter_id__isnull=False),
                name="einvoicing_linked_has_b2brouter_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} -> {self.b2brouter_id or 'pending'}"

    @property
    def is_linked(self) -> bool:
        return self.status == LinkStatus.LINKED

    @property
    def is_pending(self) -> bool:
        return self.status == LinkStatus.PENDING

    @property
    def send_uncertain(self) -> bool:
        """Return whether a send was asked for and B2Brouter has not confirmed its outcome yet."""
        return self.is_linked and self.attempt_kind == AttemptKind.SEND

    @property
    def is_uncertain(self) -> bool:
        """Return whether an attempt (a create, or a send) waits for B2Brouter to confirm its outcome."""
        return self.is_pending or self.send_uncertain

    @property
    def can_send(self) -> bool:
        """Return whether B2Brouter accepts a send in the current state and no earlier send is unresolved."""
        return self.is_linked and self.state in {"new", "error"} and not self.send_uncertain

    @property
    def settle_deadline(self) -> Any:
        """Return until when the attempt is checked before it is called not applied (None: no attempt)."""
        from .attempts import deadline  # noqa: PLC0415 (the policy reads settings; models stay import-light)

        return deadline(self) if self.is_uncertain else None

    @property
    def number_locked_reason(self) -> str | None:
        """Say why the invoice's number must not change now, or None (read by the invoice form)."""
        if self.is_pending:
            return str(_("Invoice %(number)s is being created in B2Brouter and the outcome is not confirmed yet: "
                         "B2Brouter may hold it under this number, so the number cannot change until that is "
                         "settled.") % {"number": self.number})
        return None


class EventType(models.TextChoices):
    CREATE_BLOCKED = "create_blocked", _("Create blocked by the readiness check")
    CREATE_ATTEMPTED = "create_attempted", _("Create attempted")
    CREATED = "created", _("Created in B2Brouter")
    CREATE_FAILED = "create_failed", _("Create failed")
    CREATE_REFUSED = "create_refused", _("Create refused: another attempt or link exists")
    CREATE_UNCERTAIN = "create_uncertain", _("Create outcome unknown")
    CREATE_NOT_APPLIED = "create_not_applied", _("Not created: B2Brouter never showed it")
    RECONCILED = "reconciled", _("Found in B2Brouter and linked")
    RECONCILE_FAILED = "reconcile_failed", _("Check in B2Brouter failed")
    TOTALS_MISMATCH = "totals_mismatch", _("Totals differ: not sent")
    SENT = "sent", _("Sent")
    SEND_FAILED = "send_failed", _("Send failed")
    SEND_UNCERTAIN = "send_uncertain", _("Send outcome unknown")
    SEND_NOT_APPLIED = "send_not_applied", _("Not sent: B2Brouter still shows it new")
    LINKED = "linked", _("Linked to an existing B2Brouter invoice")
    LINK_REFUSED = "link_refused", _("Link refused")
    UNLINKED = "unlinked", _("Unlinked")
    REFRESHED = "refreshed", _("Refreshed")
    REFRESH_FAILED = "refresh_failed", _("Refresh failed")
    DELETED_REMOTE = "deleted_remote", _("Deleted in B2Brouter")
    DELETE_FAILED = "delete_failed", _("Delete in B2Brouter failed")
    DOWNLOAD_FAILED = "download_failed", _("Download failed")
    STATE_NOTIFIED = "state_notified", _("State change notified by B2Brouter")
    STATE_NOTIFICATION_IGNORED = "state_notice_ignored", _("Older state notification ignored")
    SYNCED = "synced", _("Updated from B2Brouter in the background")
    MARKED_PAID = "marked_paid", _("Marked paid in B2Brouter")
    MARK_PAID_FAILED = "mark_paid_failed", _("Marking paid in B2Brouter failed")
    MARKED_UNPAID = "marked_unpaid", _("Paid state taken back in B2Brouter")
    MARK_UNPAID_FAILED = "mark_unpaid_failed", _("Taking back the paid state in B2Brouter failed")
    PDF_ATTACHED = "pdf_attached", _("Our PDF attached in B2Brouter")
    PDF_ATTACH_FAILED = "pdf_attach_failed", _("Attaching our PDF in B2Brouter failed")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    INFO = "info", _("Info")


class InvoiceEvent(models.Model):
    """One entry of an invoice's append-only B2Brouter history."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="b2brouter_events")
    type = models.CharField(max_length=32, choices=EventType.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # Our own explanation (what happened, what to do), shown in the reader's language (core/texts.py).
    message = MessageField(blank=True)
    # B2Brouter's own words, kept verbatim and escaped wherever shown.
    remote_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    b2brouter_id = models.BigIntegerField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("B2Brouter event")

    def __str__(self) -> str:
        return f"{self.get_type_display()} ({self.outcome})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("invoice events are append-only")
        super().save(*args, **kwargs)


class WebhookOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied to the linked invoice")
    STALE = "stale", _("Older than the known state: ignored")
    UNKNOWN_INVOICE = "unknown_invoice", _("No linked invoice: ignored")
    IGNORED = "ignored", _("Not a state change: ignored")


class WebhookEvent(models.Model):
    """One verified notification received from B2Brouter; its unique de-duplication key makes a retry a no-op.

    The key is the delivery's ``event_id`` when it carries one, else its (invoice_id, state,
    triggered_at): B2Brouter's documented payload does not promise an ``event_id``.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="b2brouter_webhook_events")
    dedup_key = models.CharField(max_length=120)
    event_id = models.BigIntegerField(null=True, blank=True)
    code = models.CharField(max_length=100)
    b2brouter_invoice_id = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=32, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=20, choices=WebhookOutcome.choices)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("B2Brouter notification")
        constraints = [
            models.UniqueConstraint(fields=["company", "dedup_key"], name="einvoicing_webhook_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.dedup_key} ({self.outcome})"


class DirectoryOutcome(models.TextChoices):
    PEPPOL = "peppol", _("Reachable on Peppol")
    LISTED = "listed", _("Listed in B2Brouter's directory")
    UNLISTED = "unlisted", _("Not in B2Brouter's directory")
    NOT_CHECKABLE = "not_checkable", _("No identifier to look up")
    ERROR = "error", _("Could not check")


class DirectoryCheck(models.Model):
    """What B2Brouter's directory said, when last asked, about how a client receives invoices.

    Kept beside the client's contact link so a page shows it without asking B2Brouter again;
    "Check again" replaces it. The lookup key (country, scheme, identifier) is the one the
    contact is sent with, so a result for an older tax id or another environment is not shown.
    """

    client = models.OneToOneField("clients.Client", on_delete=models.CASCADE, related_name="b2brouter_directory")
    environment = models.CharField(max_length=12, choices=Environment.choices)
    country = models.CharField(max_length=2, blank=True)
    scheme = models.CharField(max_length=8, blank=True)
    identifier = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=DirectoryOutcome.choices)
    # What the directory answered (B2Brouter's words, escaped wherever shown).
    entity_name = models.CharField(max_length=255, blank=True)
    transport_type_code = models.CharField(max_length=64, blank=True)
    document_type_code = models.CharField(max_length=128, blank=True)
    # Our explanation of an error, B2Brouter's own words and its request id.
    error = MessageField(blank=True)
    remote_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("B2Brouter directory check")

    def __str__(self) -> str:
        return f"directory {self.country}/{self.scheme}/{self.identifier}: {self.outcome}"


class ProbeOutcome(models.TextChoices):
    RUNNING = "running", _("Running")
    VERIFIED = "verified", _("Totals match")
    MISMATCH = "mismatch", _("Totals differ")
    ERROR = "error", _("Could not finish")


class ProbeRun(models.Model):
    """One run of the calculation probe (see ``probe.py``): unsent probe invoices created, compared, deleted."""

    integration = models.ForeignKey(B2BrouterIntegration, on_delete=models.CASCADE, related_name="probe_runs")
    environment = models.CharField(max_length=12, choices=Environment.choices)
    account_id = models.CharField(max_length=64)
    outcome = models.CharField(max_length=10, choices=ProbeOutcome.choices, default=ProbeOutcome.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    # The three calculation settings as the account reported them when the run started.
    account_settings = models.JSONField(default=dict, blank=True)
    # One entry per probe invoice: position, key, number, b2brouter_id, settings, equal and
    # rows [{"label", "ours", "theirs", "equal"}] with amounts as exact decimal strings.
    cases = models.JSONField(default=list, blank=True)
    # Every probe invoice B2Brouter has ({"id", "number"}), saved as they are created so that an
    # interrupted run still names them; and those (or the contact) that could not be deleted.
    created = models.JSONField(default=list, blank=True)
    undeleted = models.JSONField(default=list, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True)
    # Our explanation of an error, B2Brouter's own words (escaped wherever shown) and its request id.
    error = MessageField(blank=True)
    remote_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("B2Brouter calculation probe")

    def __str__(self) -> str:
        return f"probe {self.account_id} {self.started_at:%Y-%m-%d %H:%M} ({self.outcome})"

    @property
    def differences(self) -> list[dict[str, Any]]:
        """Return every figure that differed, with the probe invoice and the setting it points to."""
        from .probe import differences  # noqa: PLC0415 (probe imports this module)

        return differences(self)

    @property
    def summary(self) -> str:
        """Return the run's result as one paragraph."""
        from .probe import summary  # noqa: PLC0415

        return summary(self)[1]

    @property
    def interrupted(self) -> bool:
        """Return whether the run never finished (the process stopped while it was creating invoices)."""
        from django.utils import timezone  # noqa: PLC0415 (kept beside its one use)

        from .probe import RUNNING_TIMEOUT  # noqa: PLC0415

        return (self.outcome == ProbeOutcome.RUNNING
                and self.started_at < timezone.now() - RUNNING_TIMEOUT)


class BulkAction(models.TextChoices):
    SEND = "send", _("Send to B2Brouter")
    REFRESH = "refresh", _("Refresh from B2Brouter")


class BulkStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Stopped by an error")


class BulkOutcome(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    SENT = "sent", _("Sent")
    CREATED = "created", _("Created, not sent")
    UNCERTAIN = "uncertain", _("Being confirmed")
    REFRESHED = "refreshed", _("Refreshed")
    BLOCKED = "blocked", _("Blocked")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class BulkRun(models.Model):
    """One bulk push (or refresh) of many invoices, run in the background (see ``bulk.py``)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="b2brouter_bulk_runs")
    action = models.CharField(max_length=10, choices=BulkAction.choices)
    status = models.CharField(max_length=10, choices=BulkStatus.choices, default=BulkStatus.QUEUED)
    concurrency = models.PositiveSmallIntegerField(default=1)
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # How many times the run paused because B2Brouter answered 429, and for how long in all.
    rate_limited = models.PositiveIntegerField(default=0)
    paused_seconds = models.FloatField(default=0)
    error = MessageField(blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("B2Brouter bulk run")

    def __str__(self) -> str:
        return f"bulk {self.action} {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (BulkStatus.DONE, BulkStatus.FAILED)


class BulkRunItem(models.Model):
    """One invoice of a bulk run and what happened to it."""

    run = models.ForeignKey(BulkRun, on_delete=models.CASCADE, related_name="items")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=BulkOutcome.choices, default=BulkOutcome.WAITING)
    # Our text, B2Brouter's own words (escaped wherever shown) and its request id.
    message = MessageField(blank=True)
    remote_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "invoice"], name="einvoicing_bulk_item_once")]
        indexes = [models.Index(fields=["run", "outcome"], name="einvoicing_bulk_item_outcome")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.invoice_id}: {self.outcome}"


class SyncTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("schedule")
    MANUAL = "manual", _("Sync now")
    COMMAND = "command", _("command")


class SyncPass(models.Model):
    """One sync of one integration: when it ran, what started it, what it read and wrote, how it ended."""

    integration = models.ForeignKey(B2BrouterIntegration, on_delete=models.CASCADE, related_name="sync_passes")
    trigger = models.CharField(max_length=10, choices=SyncTrigger.choices, default=SyncTrigger.COMMAND)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    requests = models.PositiveIntegerField(default=0)
    listed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    checked = models.PositiveIntegerField(default=0)
    error = MessageField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["integration", "-started_at"], name="einvoicing_syncpass_recent")]
        verbose_name = _("B2Brouter sync pass")

    def __str__(self) -> str:
        return f"sync {self.integration_id} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self) -> bool:
        return self.finished_at is not None and not self.error


class SchedulerState(models.Model):
    """When the embedded scheduler queues a job next; one row per job, shared by every worker process."""

    name = models.CharField(max_length=64, unique=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class ContactLookup(models.Model):
    """A remembered answer to "which contact of the account has this tax id" (contact_id None: none has).

    Kept until the client's name, tax id or country changes or the user asks B2Brouter again, so
    showing an invoice never asks B2Brouter.
    """

    integration = models.ForeignKey(B2BrouterIntegration, on_delete=models.CASCADE, related_name="contact_lookups")
    account_id = models.CharField(max_length=64)
    tin = models.CharField(max_length=64)
    country = models.CharField(max_length=2, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "account_id", "tin", "country"],
                                               name="einvoicing_one_contact_lookup")]

    def __str__(self) -> str:
        return f"{self.tin} -> {self.contact_id or 'none'}"


class TaxRecordKind(models.TextChoices):
    ALTA = "alta", _("Registration")
    CORRECTION = "correction", _("Correction")
    ANNULLATION = "annullation", _("Cancellation (anulación)")


class TaxRecord(models.Model):
    """One Verifactu or TicketBAI record B2Brouter made of a local invoice (a *tax report*), as last read.

    Rows come from the invoice's ``tax_report_ids`` (read after a create, send, refresh or sync), from
    ``tax_report.state_change`` notifications and from the corrections and cancellations the user
    asks for. The QR image is not kept: it is drawn again from ``identifier`` (see ``tax_records.py``).
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="tax_records")
    account_id = models.CharField(max_length=64)
    remote_id = models.BigIntegerField()
    # "Verifactu" or "TicketBai", as B2Brouter names the record's type.
    type = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=12, choices=TaxRecordKind.choices, default=TaxRecordKind.ALTA)
    state = models.CharField(max_length=32, blank=True)
    invoice_type_code = models.CharField(max_length=4, blank=True)
    # The record it corrects or cancels (B2Brouter's id), for corrections and cancellations.
    corrected_remote_id = models.BigIntegerField(null=True, blank=True)
    # [{"code", "message"}] as the authority answered (remote text: escaped wherever shown).
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # The verification URL (AEAT's ValidarQR for Verifactu, the TBAI identifier for TicketBAI).
    identifier = models.CharField(max_length=1000, blank=True)
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    # When a notification said the state changed (a read never replaces a newer notified state).
    state_updated_at = models.DateTimeField(null=True, blank=True)
    # Polling while the record is processing: how many reads so far, and when the next is due.
    checks = models.PositiveIntegerField(default=0)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    read_error = MessageField(blank=True)
    # When the user asked for a correction or cancellation of this record: set before the request
    # leaves (so a second click sends nothing), cleared again if B2Brouter refused it.
    action_started_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["remote_id"]
        verbose_name = _("Verifactu/TicketBAI record")
        constraints = [
            models.UniqueConstraint(fields=["account_id", "remote_id"], name="einvoicing_one_tax_record_per_report"),
        ]
        indexes = [models.Index(fields=["invoice", "state"], name="einvoicing_taxrecord_state")]

    def __str__(self) -> str:
        return f"tax report {self.remote_id} ({self.kind}, {self.state})"

    @property
    def is_verifactu(self) -> bool:
        return self.type.lower() != "ticketbai"

    @property
    def system_label(self) -> str:
        return "Verifactu" if self.is_verifactu else "TicketBAI"


# The receiver's count of deliveries with a bad signature lives beside the rest of its guard.
from .webhook_guard import WebhookSignatureFailures  # noqa: E402, F401
