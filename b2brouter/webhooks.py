"""Verify and read B2Brouter webhooks. Pure functions: no network, no framework.

B2Brouter signs each delivery with the header ``X-B2Brouter-Signature: t=<unix>,s=<hex>``
where ``s = hex(HMAC-SHA256(secret, f"{t}.{raw body}"))``. In a view::

    from b2brouter import webhooks

    try:
        event = webhooks.verify(request.body, request.headers.get(webhooks.SIGNATURE_HEADER, ""), secret)
    except webhooks.WebhookSignatureError:
        return HttpResponse(status=400)
    # de-duplicate on event["data"]["event_id"], then answer 200 fast

Verify the raw bytes exactly as received, before any JSON parsing or re-encoding.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, cast

from ._exceptions import WebhookSignatureError
from ._types import WebhookEvent, WebhookEventData

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "WebhookEvent",
    "WebhookEventData",
    "WebhookSignatureError",
    "compute_signature",
    "parse_event",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "X-B2Brouter-Signature"
#: Seconds a signature's timestamp may lie in the past or the future.
DEFAULT_TOLERANCE = 300


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def compute_signature(payload: bytes | str, secret: str | bytes, timestamp: int) -> str:
    """Return the hex HMAC-SHA256 of ``"<timestamp>.<payload>"`` under ``secret``."""
    message = str(int(timestamp)).encode("ascii") + b"." + _as_bytes(payload)
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def sign(payload: bytes | str, secret: str | bytes, timestamp: int) -> str:
    """Return the signature header value ``t=<timestamp>,s=<hex>`` for ``payload``."""
    return f"t={int(timestamp)},s={compute_signature(payload, secret, timestamp)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    if not isinstance(header, str) or not header.strip():
        raise WebhookSignatureError("The webhook has no signature header")
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise WebhookSignatureError("The webhook signature header is malformed: expected t=<unix>,s=<hex>")
        key, value = key.strip(), value.strip()
        if key == "t":
            timestamps.append(value)
        elif key == "s":
            signatures.append(value.lower())
        # Unknown keys are ignored so that B2Brouter can add a scheme without breaking receivers.
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        raise WebhookSignatureError("The webhook signature header has no valid timestamp (t=<unix seconds>)")
    if not signatures or not all(signatures):
        raise WebhookSignatureError("The webhook signature header has no signature (s=<hex>)")
    return int(timestamps[0]), signatures


def verify(
    payload: bytes | str,
    header: str,
    secret: str | bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> WebhookEvent:
    """Check the signature of a delivery and return its parsed event.

    Raise :class:`WebhookSignatureError` when the header is missing or malformed, when no
    signature matches (compared in constant time), or when the timestamp lies more than
    ``tolerance`` seconds before or after ``now`` (default: the current time). Raise
    ``ValueError`` when a correctly signed payload is not an event (see :func:`parse_event`).
    """
    if not secret:
        raise ValueError("The webhook secret is empty")
    timestamp, signatures = _parse_header(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookSignatureError(
            f"The webhook timestamp is {int(current - timestamp)} s away from now "
            f"(tolerance {tolerance} s): a replay or a wrong clock"
        )
    expected = compute_signature(payload, secret, timestamp).encode("ascii")
    # Check every candidate so the time taken does not depend on which one matches.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8"))
    if not matched:
        raise WebhookSignatureError("The webhook signature does not match the payload and secret")
    return parse_event(payload)


def parse_event(payload: bytes | str) -> WebhookEvent:
    """Parse a webhook body into an event; raise ValueError if it is not a JSON event object.

    Does not check the signature: call :func:`verify` on anything received from the network.
    """
    try:
        data: Any = json.loads(_as_bytes(payload))
    except ValueError as exc:
        raise ValueError(f"The webhook payload is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("code"), str):
        raise ValueError("The webhook payload is not an event: expected an object with a string 'code'")
    event_data = data.get("data")
    if event_data is None:
        data["data"] = {}
    elif not isinstance(event_data, dict):
        raise ValueError("The webhook event's 'data' is not an object")
    triggered_at = data.get("triggered_at")
    if isinstance(triggered_at, str) and triggered_at.isdigit():
        data["triggered_at"] = int(triggered_at)
    for key in ("invoice_id", "event_id", "tax_report_id"):
        value = data["data"].get(key)
        if isinstance(value, str) and value.isdigit():
            data["data"][key] = int(value)
    return cast(WebhookEvent, data)
