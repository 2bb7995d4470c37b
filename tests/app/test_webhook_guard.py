"""The webhook receiver under abuse: malformed but signed events, floods, and forged signatures.

Each refused delivery answers 4xx and stores nothing; B2Brouter's documented events still pass.
"""

from __future__ import annotations

import json
import logging
import re
import time
import pytest
from django.test import Client as HttpClient

from b2binvoice.einvoicing.models import InvoiceLink, WebhookEvent
from b2binvoice.einvoicing.webhook_guard import KNOWN_STATES, WebhookSignatureFailures
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
    bank,
    company,
    customer,
    integration,
    sim,
    user,
    vat,
    web,
)
from tests.app.test_einvoicing_webhooks import (  # noqa: F401 (fixtures)
    SETTINGS_URL,
    deliver,
    event,
    history,
    linked,
    other_integration,
    paste_secret,
    refreshes_queued,
    registered,
)

pytestmark = pytest.mark.django_db


def unchanged(link: InvoiceLink, before: list[str]) -> None:
    """Assert a refused delivery left no trace: no event recorded, the link and its history as they were."""
    assert WebhookEvent.objects.count() == 0
    link_now = InvoiceLink.objects.get(pk=link.pk)
    assert (link_now.state, link_now.state_updated_at, link_now.state_event_id) == (
        link.state, link.state_updated_at, link.state_event_id)
    assert history(link) == before


# --- Signed, but not a usable event ----------------------------------------------------------------


@pytest.mark.parametrize("field,value", [
    ("event_id", 10**30), ("invoice_id", 10**30), ("event_id", 2**63), ("invoice_id", -1),
])
def test_ids_that_fit_no_database_integer_are_refused(registered, linked, field, value):
    before = history(linked)
    payload = event(linked)
    payload["data"][field] = value
    response = deliver(registered, payload)
    assert response.status_code == 400
    assert response.json() == {"received": False, "outcome": f"{field} is out of range"}
    unchanged(linked, before)


@pytest.mark.parametrize("triggered_at", [10**12, -1, int(time.time()) + 3 * 86400, "soon", 1.5])
def test_a_triggered_at_that_is_no_time_is_refused(registered, linked, triggered_at):
    before = history(linked)
    payload = event(linked) | {"triggered_at": triggered_at}
    response = deliver(registered, payload)
    assert response.status_code == 400
    assert response.json()["outcome"] == "triggered_at is not a Unix time up to now"
    unchanged(linked, before)


@pytest.mark.parametrize("opener,depth", [("[", 100_000), ('{"a":', 40_000)])  # both under the 256 KB limit
def test_deep_nesting_is_refused_at_once(registered, linked, opener, depth):
    before = history(linked)
    closer = "]" if opener == "[" else "}"
    body = (opener * depth + "1" + closer * depth).encode()
    started = time.monotonic()
    response = deliver(registered, None, body=body)
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert response.json() == {"received": False, "outcome": "nested too deeply"}
    # Refused by a scan that stops at level 33, not by a parser exhausting its recursion.
    assert elapsed < 2, elapsed
    unchanged(linked, before)


def test_brackets_inside_strings_do_not_count_as_nesting(registered, linked):
    response = deliver(registered, event(linked, notes="[" * 1000 + '\\"{' * 100))
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"


@pytest.mark.parametrize("state", ["shipped", "SENT", "x" * 10_000, ["sent"], {"s": 1}, 3, ""])
def test_only_the_states_b2brouter_documents_are_accepted(registered, linked, state):
    before = history(linked)
    response = deliver(registered, event(linked, state=state))
    assert response.status_code == 400
    assert response.json()["outcome"] == "state is not a B2Brouter invoice state"
    unchanged(linked, before)


def test_a_state_change_needs_its_state_and_invoice(registered, linked):
    before = history(linked)
    without_state = event(linked)
    del without_state["data"]["state"]
    assert deliver(registered, without_state).json()["outcome"] == "state is missing"
    without_invoice = event(linked)
    del without_invoice["data"]["invoice_id"]
    assert deliver(registered, without_invoice).json()["outcome"] == "invoice_id is missing or not an integer"
    unchanged(linked, before)


@pytest.mark.parametrize("state", sorted(KNOWN_STATES))
def test_every_documented_state_is_applied(registered, linked, state):
    response = deliver(registered, event(linked, state=state, event_id=None))
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "applied"
    assert InvoiceLink.objects.get(pk=linked.pk).state == state


@pytest.mark.parametrize("notes", ["before\x00after", "\ud800"])
def test_text_no_database_can_store_is_refused(registered, linked, notes):
    before = history(linked)
    raw = json.dumps(event(linked, notes=notes)).encode()  # escaped as \u0000 and \ud800
    response = deliver(registered, None, body=raw)
    assert response.status_code == 400
    assert response.json()["outcome"] == "text with a NUL character or an unpaired surrogate"
    unchanged(linked, before)


def test_a_body_over_256_kb_is_refused(registered, linked):
    before = history(linked)
    response = deliver(registered, event(linked, notes="x" * 300_000))
    assert response.status_code == 413
    unchanged(linked, before)


def test_a_richer_notification_whose_figures_cannot_be_stored_applies_the_state_and_reads_again(registered, linked):
    queued = refreshes_queued()
    payload = event(linked, state="accepted")
    payload["data"].update(total="1" + "0" * 40, subtotal=[], taxes="none", currency="EURO", contact_id="x")
    response = deliver(registered, payload)
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    link = InvoiceLink.objects.get(pk=linked.pk)
    assert link.state == "accepted"
    assert link.total == linked.total  # not taken from the notification
    assert refreshes_queued() == queued + 1  # the figures come from a read instead


# --- Rate limit ---------------------------------------------------------------------------------


def test_deliveries_beyond_the_limit_get_429_with_retry_after(registered, linked, other_integration, settings):
    settings.B2BROUTER_WEBHOOK_RATE_LIMIT = 3
    settings.B2BROUTER_WEBHOOK_RATE_PERIOD = 60
    answers = [deliver(registered, event(linked, event_id=9000 + n)).status_code for n in range(3)]
    assert answers == [200, 200, 200]
    limited = deliver(registered, event(linked, event_id=9100, state="accepted"))
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json() == {"received": False, "outcome": "rate limited"}
    assert not WebhookEvent.objects.filter(event_id=9100).exists()
    assert InvoiceLink.objects.get(pk=linked.pk).state == "sent"
    # Forged deliveries count too, and the limit is per receiver URL: another company's still answers.
    assert deliver(registered, event(linked), secret="whsec_wrong_secret").status_code == 429
    assert deliver(other_integration, event(123)).status_code == 200


def test_the_limit_can_be_turned_off(registered, linked, settings):
    settings.B2BROUTER_WEBHOOK_RATE_LIMIT = 0
    assert all(deliver(registered, event(linked, event_id=n)).status_code == 200 for n in range(1, 70))


def test_a_token_that_cannot_be_one_is_404_before_anything_is_counted(registered, linked, settings):
    settings.B2BROUTER_WEBHOOK_RATE_LIMIT = 1
    for token in ["a" * 65, "bad token", "%00", "..", "ä"]:
        assert deliver(registered, event(linked), token=token).status_code == 404
    assert deliver(registered, event(linked)).status_code == 200


# --- Forged signatures ------------------------------------------------------------------------------


def test_forged_deliveries_are_counted_shown_and_logged_once(web, registered, linked, settings, caplog):
    settings.B2BROUTER_WEBHOOK_RATE_LIMIT = 0
    caplog.set_level(logging.INFO, logger="b2binvoice.einvoicing.webhooks")
    answers = {deliver(registered, event(linked, event_id=n), secret="whsec_forged_secret").status_code
               for n in range(200)}
    assert answers == {400}
    assert WebhookEvent.objects.count() == 0
    warnings = [r for r in caplog.records if r.name == "b2binvoice.einvoicing.webhooks" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "bad signature" in warnings[0].getMessage() and "Check the signing secret" in warnings[0].getMessage()
    assert registered.webhook_secret not in caplog.text and "whsec_forged_secret" not in caplog.text

    failures = WebhookSignatureFailures.objects.get(integration=registered)
    assert failures.count == 200
    page = web.get(SETTINGS_URL).content.decode()
    notice = re.search(r'<div class="b2b-flash b2b-flash-warning b2b-signature-failures".*?</div>', page, re.S)
    assert notice, page
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", notice.group(0))).strip()
    assert re.search(r"200 notifications with a bad signature since \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}; "
                     r"the last at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}: check the signing secret\.", text), text
    assert "The webhook signature does not match the payload and secret" in text


def test_the_next_warning_comes_after_the_interval(registered, linked, settings, caplog):
    settings.B2BROUTER_WEBHOOK_WARNING_INTERVAL = 0
    caplog.set_level(logging.WARNING, logger="b2binvoice.einvoicing.webhooks")
    for n in range(3):
        deliver(registered, event(linked, event_id=n), secret="whsec_forged_secret")
    assert len([r for r in caplog.records if "bad signature" in r.getMessage()]) == 3


def test_a_new_secret_starts_the_count_again(web, registered, linked):
    for n in range(2):
        deliver(registered, event(linked, event_id=n), secret="whsec_forged_secret")
    assert "2 notifications with a bad signature" in web.get(SETTINGS_URL).content.decode()
    assert paste_secret(web, "whsec_a_brand_new_secret_0123").status_code == 302
    page = web.get(SETTINGS_URL).content.decode()
    assert "bad signature" not in page
    deliver(registered, event(linked, event_id=5), secret="whsec_forged_secret")
    assert "1 notification with a bad signature" in web.get(SETTINGS_URL).content.decode()


def test_no_notice_while_every_signature_is_good(web, registered, linked):
    assert deliver(registered, event(linked)).status_code == 200
    assert "bad signature" not in web.get(SETTINGS_URL).content.decode()
    assert not WebhookSignatureFailures.objects.exists()


def test_the_receiver_still_needs_post(registered):
    assert HttpClient().get(f"/webhooks/b2brouter/{registered.webhook_token}/").status_code == 405
