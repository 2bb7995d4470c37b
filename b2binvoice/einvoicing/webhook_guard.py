"""What the webhook receiver refuses before and after the signature check, and what it counts.

Before anything is parsed or looked up (:func:`screen`): a token that cannot be one (404), more
than ``B2BROUTER_WEBHOOK_RATE_LIMIT`` deliveries per ``B2BROUTER_WEBHOOK_RATE_PERIOD`` seconds to
one token (429 with ``Retry-After``, counted in the Django cache, so per database with the default
cache), a body larger than :data:`MAX_BODY_BYTES` (413) and JSON nested deeper than
:data:`MAX_NESTING` levels (400, found by a scan that stops at the first level too many).

After the signature (:func:`event_problem`): only the invoice states B2Brouter documents, ids that
fit a database integer, a ``triggered_at`` that is a time, and text and numbers every database can
store; anything else is 400 and nothing is stored (docs/security.md, "Forged B2Brouter
notifications").

Deliveries with a bad signature are counted per integration (:class:`WebhookSignatureFailures`,
shown on the settings page) and logged once per ``B2BROUTER_WEBHOOK_WARNING_INTERVAL`` seconds
per integration rather than once each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
import time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import B2BrouterIntegration, InvoiceLink

logger = logging.getLogger("b2binvoice.einvoicing.webhooks")

#: The states a B2Brouter invoice can be in: the mark_as reference (issued and simplified
#: invoices), the list's state filters (sending, error, allegedly_paid), annulled and cancelled.
KNOWN_STATES = frozenset({
    "new", "sending", "sent", "error", "accepted", "registered", "refused", "paid", "allegedly_paid", "closed",
    "downloaded", "annulled", "cancelled",
})
STATE_CHANGE_EVENT = "issued_invoice.state_change"
#: A Verifactu/TicketBAI record's notification and the states it may carry (docs/api-evidence.md 10.3, 10.5).
TAX_REPORT_EVENT = "tax_report.state_change"
TAX_REPORT_STATES = frozenset({"processing", "registered", "registered_with_errors", "error", "annulled"})
#: A documented notification is about 150 bytes; one with a whole invoice a few kilobytes.
MAX_BODY_BYTES = 256 * 1024
#: A documented notification is 2 levels deep, one carrying an invoice's taxes 4.
MAX_NESTING = 32
MAX_BIGINT = 2**63 - 1
#: triggered_at may be this far ahead of our clock (B2Brouter's clock may run fast).
FUTURE_TOLERANCE = dt.timedelta(days=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_JSON_TOKENS = re.compile(rb'[\\"\[\]{}]')
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class WebhookSignatureFailures(models.Model):
    """How many deliveries to an integration's receiver failed the signature check, since when.

    The count starts again when a new signing secret is saved or registered (``secret_set_at``
    follows the integration's ``webhook_registered_at``).
    """

    integration = models.OneToOneField(B2BrouterIntegration, on_delete=models.CASCADE,
                                       related_name="webhook_signature_failures")
    secret_set_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveBigIntegerField(default=0)
    first_at = models.DateTimeField(null=True, blank=True)
    last_at = models.DateTimeField(null=True, blank=True)
    # Why the last one failed (no header, a stale timestamp, a signature that does not match):
    # the client's words, which never contain the secret or the signature.
    last_reason = models.CharField(max_length=200, blank=True)
    logged_at = models.DateTimeField(null=True, blank=True)
    logged_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "einvoicing"
        verbose_name = _("webhook signature failures")

    def __str__(self) -> str:
        return f"{self.count} bad signatures for integration {self.integration_id}"


# --- Before the signature check -----------------------------------------------------------------


def _refused(status: int, outcome: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"received": False, "outcome": outcome}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def plausible_token(token: str) -> bool:
    """Tell whether ``token`` could be a receiver token (url-safe, at most 64 characters)."""
    return bool(_TOKEN.fullmatch(token))


def _rate_limit() -> tuple[int, int]:
    limit = int(getattr(settings, "B2BROUTER_WEBHOOK_RATE_LIMIT", 60))
    period = max(1, int(getattr(settings, "B2BROUTER_WEBHOOK_RATE_PERIOD", 60)))
    return limit, period


def retry_after(token: str) -> int | None:
    """Count one delivery to ``token``; return the seconds to wait when over the limit, else None.

    A fixed window per token in the Django cache. Should the cache fail, deliveries are let through
    (and the failure logged): state updates matter more than the limit.
    """
    limit, period = _rate_limit()
    if limit <= 0:
        return None
    now = time.time()
    window = int(now // period)
    # The token is a credential of sorts: the cache key carries only its digest.
    key = "b2binvoice:webhook-deliveries:" + hashlib.sha256(token.encode()).hexdigest()[:40] + f":{window}"
    try:
        cache.add(key, 0, timeout=period * 2)
        count = cache.incr(key)
    except Exception:  # any cache backend's error: the limit is a protection, not a dependency
        logger.warning("The webhook rate limit could not be counted (cache unavailable)", exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * period - now))


def too_deep(raw: bytes, limit: int = MAX_NESTING) -> bool:
    """Tell whether JSON text nests arrays and objects more than ``limit`` levels deep.

    Scans the bytes without recursion and stops at the first level too many; brackets inside
    strings do not count.
    """
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_TOKENS.finditer(raw):
        token, at = match.group(), match.start()
        if at == escaped_at:
            continue
        if in_string:
            if token == b"\\":
                escaped_at = at + 1
            elif token == b'"':
                in_string = False
        elif token == b'"':
            in_string = True
        elif token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def screen(request: Any, token: str) -> JsonResponse | None:
    """Refuse a delivery before it is looked at: unknown-looking token, rate, size, nesting."""
    if not plausible_token(token):
        return _refused(404, "unknown endpoint")
    wait = retry_after(token)
    if wait is not None:
        return _refused(429, "rate limited", Retry_After=str(wait))
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return _refused(413, "too large")
    if too_deep(request.body):
        return _refused(400, "nested too deeply")
    return None


# --- After the signature check ------------------------------------------------------------------


def _unstorable(value: Any) -> str | None:
    """Return what in a parsed payload no database can store, walking it without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if _UNSTORABLE.search(item):
                return "text with a NUL character or an unpaired surrogate"
        elif isinstance(item, float) and not math.isfinite(item):
            return "a number that is not finite"
    return None


def _id_problem(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_BIGINT:
        return f"{key} is out of range"
    return None


def event_problem(event: dict[str, Any], *, now: dt.datetime | None = None) -> str | None:
    """Say why a correctly signed event cannot be recorded, or return None when it can."""
    code = event.get("code")
    if not isinstance(code, str) or not 0 < len(code) <= 100:
        return "code is not an event code"
    data = event.get("data")
    if not isinstance(data, dict):
        return "data is not an object"
    problem = _unstorable(event)
    if problem:
        return problem
    for key in ("event_id", "invoice_id", "tax_report_id"):
        problem = _id_problem(data, key)
        if problem:
            return problem
    triggered_at = event.get("triggered_at")
    if triggered_at is not None:
        latest = (now or timezone.now()) + FUTURE_TOLERANCE
        if (isinstance(triggered_at, bool) or not isinstance(triggered_at, int)
                or not 0 <= triggered_at <= latest.timestamp()):
            return "triggered_at is not a Unix time up to now"
    state = data.get("state")
    if code == STATE_CHANGE_EVENT:
        if data.get("invoice_id") is None or not isinstance(data.get("invoice_id"), int):
            return "invoice_id is missing or not an integer"
        if state is None:
            return "state is missing"
    if code == TAX_REPORT_EVENT:
        if not isinstance(data.get("tax_report_id"), int) or isinstance(data.get("tax_report_id"), bool):
            return "tax_report_id is missing or not an integer"
        if not isinstance(state, str) or state not in TAX_REPORT_STATES:
            return "state is not a tax report state"
        return None
    if state is not None and (not isinstance(state, str) or state not in KNOWN_STATES):
        return "state is not a B2Brouter invoice state"
    return None


def storable_link_fields(fields: dict[str, Any]) -> bool:
    """Tell whether every value of ``fields`` fits its InvoiceLink column (digits, lengths, ranges)."""
    for name, value in fields.items():
        if value is None:
            continue
        field = InvoiceLink._meta.get_field(name)
        try:
            if isinstance(field, models.DecimalField) and not (isinstance(value, Decimal) and value.is_finite()):
                return False
            field.run_validators(value)
            if isinstance(field, models.CharField) and field.max_length and len(str(value)) > field.max_length:
                return False
        except (ValidationError, TypeError, ValueError):
            return False
    return True


# --- Bad signatures -------------------------------------------------------------------------------


def _warning_interval() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "B2BROUTER_WEBHOOK_WARNING_INTERVAL", 300)))


def signature_failed(integration: B2BrouterIntegration, reason: str) -> None:
    """Count a delivery whose signature failed; log a warning at most once per interval."""
    now = timezone.now()
    with transaction.atomic():
        row, _ = WebhookSignatureFailures.objects.select_for_update().get_or_create(
            integration=integration, defaults={"secret_set_at": integration.webhook_registered_at})
        if row.secret_set_at != integration.webhook_registered_at:
            # Another secret since the last count: start again.
            row.secret_set_at = integration.webhook_registered_at
            row.count = row.logged_count = 0
            row.first_at = row.logged_at = None
        row.count += 1
        row.first_at = row.first_at or now
        row.last_at = now
        row.last_reason = reason[:200]
        log = row.logged_at is None or now - row.logged_at >= _warning_interval()
        unlogged = row.count - row.logged_count
        if log:
            row.logged_at = now
            row.logged_count = row.count
        row.save()
    if log:
        # The reason names what failed (header, time, match), never the secret or the signature.
        logger.warning(
            "Rejected %d B2Brouter notification(s) with a bad signature for company %s (%d since %s; the last: %s). "
            "Check the signing secret; further rejections are counted on the settings page and logged at most "
            "every %d s.", unlogged, integration.company_id, row.count, row.first_at.isoformat(), reason,
            int(_warning_interval().total_seconds()))


def signature_failures(integration: B2BrouterIntegration | None) -> WebhookSignatureFailures | None:
    """Return the bad-signature count of the integration's current secret, or None when there is none."""
    if integration is None or integration.pk is None:
        return None
    row = WebhookSignatureFailures.objects.filter(integration=integration).first()
    if row is None or not row.count or row.secret_set_at != integration.webhook_registered_at:
        return None
    return row
