"""Webhook endpoints, signing and delivery with retries (contract section 6).

The simulator signs with its own HMAC code, so the client's verifier is tested against an
independent implementation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from . import validation as v
from .exceptions import ValidationFailed
from .models import SimAccount, SimEvent, SimTaxReportEvent, SimWebhook, SimWebhookDelivery

STATE_CHANGE = "issued_invoice.state_change"
TAX_REPORT_STATE_CHANGE = "tax_report.state_change"
# The events an endpoint can subscribe to (the web app's choices; "*" is every event).
EVENTS = [(STATE_CHANGE, "Issued invoice: state change"), (TAX_REPORT_STATE_CHANGE, "Tax report: state change")]
MAX_ATTEMPTS = 6
# Tests (or a demo) may set a transport here, e.g. httpx.MockTransport or a WSGITransport.
TRANSPORT: httpx.BaseTransport | None = None
TIMEOUT = 10.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the X-B2Brouter-Signature header value for `body` sent at `timestamp`."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def backoff(attempts: int) -> float:
    """Return the delay before the next attempt after `attempts` failures (doubling, capped)."""
    base = float(getattr(settings, "B2BROUTER_SIM_WEBHOOK_BACKOFF", 2.0))
    return min(base * 2 ** (attempts - 1), 300.0)


def create_webhook(account: SimAccount, data: dict[str, Any], *, secret_shown: bool = True) -> SimWebhook:
    """Register an endpoint; its signing secret is returned by the caller only this once.

    `secret_shown` is False for an endpoint made in the web app, whose page shows the secret
    on the next visit only (the API shows it in the 201 answer).
    """
    url = v.text(data.get("url"), "url", v.max_length(SimWebhook, "url")).strip()
    if not url:
        raise ValidationFailed("Url can't be blank", code="parameter_blank", param="url")
    if not url.startswith(("http://", "https://")):
        raise ValidationFailed("Url must be an http(s) URL", param="url")
    events = data.get("events") or [STATE_CHANGE]
    if not isinstance(events, list) or not all(isinstance(e, str) and len(e) <= 100 for e in events):
        raise ValidationFailed("Events must be a list of event codes", param="events")
    return SimWebhook.objects.create(
        account=account,
        url=url,
        events=events,
        description=v.text(data.get("description"), "description", v.max_length(SimWebhook, "description")),
        enabled=v.boolean(data.get("enabled", True), "enabled"),
        signing_secret="whsec_" + secrets.token_hex(24),
        secret_shown=secret_shown,
    )


def queue_deliveries(event: SimEvent) -> None:
    """Create a delivery of a state-change event for each subscribed endpoint and enqueue it."""
    from .tasks import deliver_webhook, enqueue_later

    account = event.invoice.account
    hooks = [h for h in SimWebhook.objects.filter(account=account) if h.wants(STATE_CHANGE)]
    if not hooks:
        return
    data: dict[str, Any] = {"invoice_id": event.invoice_id, "event_id": event.pk, "state": event.state, "notes": event.notes}
    if account.minimal_answers:
        # `event_id` is not in B2Brouter's webhook reference: receivers must cope without it.
        del data["event_id"]
    payload = json.dumps(
        {"code": STATE_CHANGE, "triggered_at": event.triggered_at, "data": data},
        separators=(",", ":"),
    )
    for hook in hooks:
        delivery = SimWebhookDelivery.objects.create(webhook=hook, event=event, payload=payload)
        enqueue_later(deliver_webhook, delivery.pk, delay=0)


def queue_tax_report_deliveries(event: SimTaxReportEvent) -> None:
    """Create a delivery of a ``tax_report.state_change`` event for each subscribed endpoint."""
    from .tasks import deliver_webhook, enqueue_later

    report = event.tax_report
    hooks = [h for h in SimWebhook.objects.filter(account_id=report.account_id) if h.wants(TAX_REPORT_STATE_CHANGE)]
    if not hooks:
        return
    data: dict[str, Any] = {
        "tax_report_id": report.pk,
        "invoice_id": report.invoice_id,
        "event_id": event.pk,
        "state": event.state,
        "notes": event.notes,
    }
    if report.account.minimal_answers:
        del data["event_id"]
    payload = json.dumps(
        {"code": TAX_REPORT_STATE_CHANGE, "triggered_at": event.triggered_at, "data": data},
        separators=(",", ":"),
    )
    for hook in hooks:
        delivery = SimWebhookDelivery.objects.create(webhook=hook, tax_report_event=event, payload=payload)
        enqueue_later(deliver_webhook, delivery.pk, delay=0)


def attempt_delivery(delivery_id: int, *, transport: httpx.BaseTransport | None = None) -> SimWebhookDelivery | None:
    """POST one pending delivery; on failure record it and schedule a retry with backoff."""
    from .tasks import deliver_webhook, enqueue_later

    delivery = SimWebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != "pending":
        return delivery
    hook = delivery.webhook
    body = delivery.payload.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "b2brouter-sim-webhooks/1",
        "X-B2Brouter-Signature": sign(hook.signing_secret, int(time.time()), body),
    }
    status_code: int | None = None
    error = ""
    try:
        with httpx.Client(transport=transport or TRANSPORT, timeout=TIMEOUT) as client:
            response = client.post(hook.url, content=body, headers=headers)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"Endpoint answered HTTP {status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    delivery.attempts += 1
    delivery.status_code = status_code
    delivery.last_error = error
    now = timezone.now()
    if not error:
        delivery.status = "delivered"
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = "failed"
        delivery.next_attempt_at = None
    else:
        delay = backoff(delivery.attempts)
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
    delivery.save()
    if delivery.status == "pending":
        enqueue_later(deliver_webhook, delivery.pk, delay=backoff(delivery.attempts))
    return delivery
