"""Webhook signing and verification (pure functions)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from b2brouter import webhooks
from b2brouter.webhooks import WebhookSignatureError, parse_event, sign, verify

SECRET = "whsec_test_0123456789"
NOW = 1_780_000_000
PAYLOAD = json.dumps(
    {
        "code": "issued_invoice.state_change",
        "triggered_at": NOW,
        "data": {"invoice_id": 123, "event_id": 456, "state": "sent", "notes": None},
    }
).encode()


def test_sign_matches_the_documented_scheme():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + PAYLOAD, hashlib.sha256).hexdigest()

    assert sign(PAYLOAD, SECRET, NOW) == f"t={NOW},s={expected}"


def test_valid_signature_returns_the_event():
    event = verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW), SECRET, now=NOW + 10)

    assert event["code"] == "issued_invoice.state_change"
    assert event["triggered_at"] == NOW
    assert event["data"] == {"invoice_id": 123, "event_id": 456, "state": "sent", "notes": None}


def test_header_with_spaces_uppercase_hex_and_extra_keys_is_accepted():
    header = sign(PAYLOAD, SECRET, NOW)
    t, s = header.split(",")
    assert verify(PAYLOAD, f" {s.upper().replace('S=', 's=')} , v=2, {t} ", SECRET, now=NOW)


def test_one_matching_signature_among_several_is_enough():
    header = sign(PAYLOAD, SECRET, NOW) + ",s=" + "0" * 64
    assert verify(PAYLOAD, header, SECRET, now=NOW)


def test_tampered_body_is_rejected():
    header = sign(PAYLOAD, SECRET, NOW)
    tampered = PAYLOAD.replace(b'"sent"', b'"paid"')

    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(tampered, header, SECRET, now=NOW)


def test_wrong_secret_is_rejected():
    with pytest.raises(WebhookSignatureError):
        verify(PAYLOAD, sign(PAYLOAD, "another-secret", NOW), SECRET, now=NOW)


def test_replayed_header_with_another_timestamp_is_rejected():
    signature = sign(PAYLOAD, SECRET, NOW).split(",")[1]
    with pytest.raises(WebhookSignatureError):
        verify(PAYLOAD, f"t={NOW + 1},{signature}", SECRET, now=NOW)


@pytest.mark.parametrize("offset", [-301, 301, -10_000])
def test_stale_or_future_timestamps_are_rejected(offset):
    header = sign(PAYLOAD, SECRET, NOW + offset)

    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify(PAYLOAD, header, SECRET, now=NOW)


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_within_tolerance_are_accepted(offset):
    assert verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW + offset), SECRET, now=NOW)


def test_tolerance_is_configurable():
    header = sign(PAYLOAD, SECRET, NOW - 100)
    with pytest.raises(WebhookSignatureError):
        verify(PAYLOAD, header, SECRET, tolerance=60, now=NOW)


def test_default_now_is_the_current_time():
    import time

    assert verify(PAYLOAD, sign(PAYLOAD, SECRET, int(time.time())), SECRET)
    with pytest.raises(WebhookSignatureError):
        verify(PAYLOAD, sign(PAYLOAD, SECRET, int(time.time()) - 3600), SECRET)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "   ",
        "garbage",
        f"t={NOW}",
        "s=abcdef",
        "t=,s=abc",
        f"t={NOW},s=",
        f"t=abc,s=abcdef",
        f"t=-{NOW},s=abcdef",
        f"t={NOW},t={NOW},s=abcdef",
        f"t={NOW};s=abcdef",
        f"t={NOW},s=é",
    ],
)
def test_malformed_headers_are_rejected(header):
    with pytest.raises(WebhookSignatureError):
        verify(PAYLOAD, header, SECRET, now=NOW)


def test_none_header_is_rejected():
    with pytest.raises(WebhookSignatureError):
        verify(PAYLOAD, None, SECRET, now=NOW)  # type: ignore[arg-type]


def test_empty_secret_is_a_programming_error():
    with pytest.raises(ValueError):
        verify(PAYLOAD, sign(PAYLOAD, "x", NOW), "", now=NOW)


def test_signed_payload_that_is_not_an_event_raises_value_error():
    payload = b"[1, 2]"
    with pytest.raises(ValueError, match="not an event"):
        verify(payload, sign(payload, SECRET, NOW), SECRET, now=NOW)


def test_parse_event_tolerates_string_ids_and_missing_data():
    event = parse_event('{"code": "x", "triggered_at": "1780000000", "data": {"invoice_id": "5", "event_id": "6"}}')
    assert event == {"code": "x", "triggered_at": 1780000000, "data": {"invoice_id": 5, "event_id": 6}}
    assert parse_event(b'{"code": "x"}')["data"] == {}


@pytest.mark.parametrize("payload", [b"not json", b'{"data": {}}', b'{"code": "x", "data": [1]}'])
def test_parse_event_rejects_what_is_not_an_event(payload):
    with pytest.raises(ValueError):
        parse_event(payload)


def test_signature_header_name():
    assert webhooks.SIGNATURE_HEADER == "X-B2Brouter-Signature"


def test_verification_uses_a_constant_time_compare(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW), SECRET, now=NOW)
    assert calls
