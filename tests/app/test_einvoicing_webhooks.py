"""State updates without clicks: the webhook receiver, its registration from the settings page, and the sync."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import logging
import re
import time
from typing import Any
from unittest import mock

import httpx
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from b2brouter import webhooks as signatures
from b2brouter_sim import webhooks as sim_webhooks
from b2binvoice.companies.models import Company
from b2binvoice.einvoicing.models import B2BrouterIntegration, InvoiceEvent, InvoiceLink, WebhookEvent
from b2binvoice.einvoicing.remote import Remote
from b2binvoice.einvoicing.tasks import sync_b2brouter
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
    bank,
    company,
    confirmed,
    contact_for,
    customer,
    integration,
    make_invoice,
    section,
    sim,
    user,
    vat,
    web,
)
from tests.app.test_einvoicing_settings import answering, b2brouter_error
from tests.support import inprocess_transport

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/settings/integrations/b2brouter/"


def run_worker() -> None:
    """Run every due task with the real database worker, inside the test's transaction."""
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


def register(web: HttpClient, integration: B2BrouterIntegration) -> B2BrouterIntegration:
    """Press "Register webhook in B2Brouter" on the settings page."""
    response = web.post(f"{SETTINGS_URL}webhook/")
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.webhook_registered, web.get(SETTINGS_URL).content.decode()[:3000]
    return integration


@pytest.fixture
def registered(web, integration) -> B2BrouterIntegration:
    return register(web, integration)


@pytest.fixture
def linked(web, company, account, integration, customer, vat, bank, sim) -> InvoiceLink:
    """An invoice created (and sent) in the simulator through the app: its link is in state sending."""
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    assert confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/").status_code == 302
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.state == "sending"
    return link


def event(link_or_id: Any, *, event_id: int | None = 9001, state: str = "sent", notes: Any = None,
          triggered_at: int | None = None) -> dict[str, Any]:
    """Build a notification; ``event_id=None`` leaves it out, as B2Brouter's documented payload does."""
    invoice_id = link_or_id.b2brouter_id if isinstance(link_or_id, InvoiceLink) else link_or_id
    data: dict[str, Any] = {"invoice_id": invoice_id, "state": state, "notes": notes}
    if event_id is not None:
        data["event_id"] = event_id
    return {"code": "issued_invoice.state_change", "triggered_at": triggered_at or int(time.time()), "data": data}


def deliver(integration: B2BrouterIntegration, payload: Any, *, secret: str | None = None,
            timestamp: int | None = None, header: str | None = None, body: bytes | None = None,
            token: str | None = None) -> Any:
    """POST a notification the way B2Brouter does: JSON body, signature over the raw bytes."""
    raw = json.dumps(payload, separators=(",", ":")).encode() if body is None else body
    if header is None:
        header = signatures.sign(raw, secret or integration.webhook_secret, timestamp or int(time.time()))
    return HttpClient().post(f"/webhooks/b2brouter/{token or integration.webhook_token}/", data=raw,
                             content_type="application/json", HTTP_X_B2BROUTER_SIGNATURE=header)


def history(link: InvoiceLink) -> list[str]:
    return list(InvoiceEvent.objects.filter(invoice_id=link.invoice_id).order_by("pk").values_list("type", flat=True))


def refreshes_queued() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="refresh_link").count()


# --- The receiver -----------------------------------------------------------------------------


def test_valid_signed_event_updates_the_state_and_logs_it(web, registered, linked):
    before = history(linked)
    response = deliver(registered, event(linked, state="sent"))
    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "applied"}
    linked.refresh_from_db()
    assert linked.state == "sent" and linked.state_updated_at is not None and linked.state_event_id == 9001
    assert history(linked) == [*before, "state_notified"]
    assert WebhookEvent.objects.get(event_id=9001).invoice_id == linked.invoice_id
    registered.refresh_from_db()
    assert registered.webhook_last_received_at is not None
    # The totals behind the state come from a read, queued rather than done in the request.
    assert refreshes_queued() == 1
    page = section(web, linked.invoice)
    assert "State change notified by B2Brouter" in page and "State: sent" in page


def test_notes_from_b2brouter_are_shown_escaped(web, registered, linked):
    notes = "<b>PO missing</b><script>alert(1)</script>"
    assert deliver(registered, event(linked, state="refused", notes=notes)).status_code == 200
    linked.refresh_from_db()
    assert linked.state == "refused" and linked.refuse_reason == notes
    page = section(web, linked.invoice)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;b&gt;PO missing&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _tampered(integration, payload):
    raw = json.dumps(payload).encode()
    header = signatures.sign(raw, integration.webhook_secret, int(time.time()))
    return {"body": raw.replace(b'"sent"', b'"paid"'), "header": header}


@pytest.mark.parametrize("how", ["tampered body", "wrong secret", "stale timestamp", "future timestamp",
                                 "malformed header", "missing header", "not json"])
def test_bad_signatures_are_rejected_and_change_nothing(registered, linked, how):
    payload = event(linked, state="sent")
    kwargs: dict[str, Any] = {
        "tampered body": _tampered(registered, payload),
        "wrong secret": {"secret": "whsec_" + "0" * 48},
        "stale timestamp": {"timestamp": int(time.time()) - 400},
        "future timestamp": {"timestamp": int(time.time()) + 400},  # clear of the 300 s tolerance on a slow run
        "malformed header": {"header": "sha256=deadbeef"},
        "missing header": {"header": ""},
        "not json": {"body": b"state=sent"},
    }[how]
    if how == "not json":
        kwargs["header"] = signatures.sign(kwargs["body"], registered.webhook_secret, int(time.time()))
    before, stamped = history(linked), linked.state_updated_at
    response = deliver(registered, payload, **kwargs)
    assert response.status_code == 400
    linked.refresh_from_db()
    assert linked.state == "sending" and linked.state_updated_at == stamped
    assert history(linked) == before
    assert not WebhookEvent.objects.exists()
    assert refreshes_queued() == 0
    registered.refresh_from_db()
    assert registered.webhook_last_received_at is None


def test_a_delivery_without_event_id_is_applied_once(registered, linked):
    now = int(time.time())
    payload = event(linked, event_id=None, state="sent", triggered_at=now + 1)
    first = deliver(registered, payload)
    # A retry is the same delivery signed again, a few seconds later.
    again = deliver(registered, payload, timestamp=now + 30)
    assert [r.status_code for r in (first, again)] == [200, 200]
    assert first.json()["outcome"] == "applied" and again.json()["outcome"] == "duplicate"
    linked.refresh_from_db()
    assert linked.state == "sent" and linked.state_event_id is None
    assert int(linked.state_updated_at.timestamp()) == now + 1
    [recorded] = WebhookEvent.objects.all()
    assert recorded.event_id is None and recorded.state == "sent" and recorded.b2brouter_invoice_id == linked.b2brouter_id
    assert history(linked).count("state_notified") == 1
    assert refreshes_queued() == 1


def test_deliveries_without_event_id_at_different_times_are_both_recorded(registered, linked):
    now = int(time.time())
    first = deliver(registered, event(linked, event_id=None, state="sent", triggered_at=now + 1))
    second = deliver(registered, event(linked, event_id=None, state="sent", triggered_at=now + 4))
    assert [first.json()["outcome"], second.json()["outcome"]] == ["applied", "applied"]
    assert sorted(int(e.triggered_at.timestamp()) for e in WebhookEvent.objects.all()) == [now + 1, now + 4]
    assert history(linked).count("state_notified") == 2
    # Another state at the same time is another change, not a retry.
    accepted = deliver(registered, event(linked, event_id=None, state="accepted", triggered_at=now + 4))
    assert accepted.json()["outcome"] == "applied"
    linked.refresh_from_db()
    assert linked.state == "accepted" and WebhookEvent.objects.count() == 3


def test_a_delivery_without_event_id_keeps_the_newer_state(registered, linked):
    now = int(time.time())
    assert deliver(registered, event(linked, event_id=None, state="accepted", triggered_at=now + 1)).status_code == 200
    late = deliver(registered, event(linked, event_id=None, state="sent", triggered_at=now - 60))
    assert late.json()["outcome"] == "stale"
    linked.refresh_from_db()
    assert linked.state == "accepted"


def test_a_delivery_with_neither_event_id_nor_time_is_rejected(registered, linked):
    payload = event(linked, event_id=None)
    del payload["triggered_at"]
    assert deliver(registered, payload).status_code == 400
    linked.refresh_from_db()
    assert linked.state == "sending" and not WebhookEvent.objects.exists()


def test_a_repeated_event_is_processed_once(registered, linked):
    first = deliver(registered, event(linked, event_id=77, state="sent"))
    again = deliver(registered, event(linked, event_id=77, state="sent"))
    # A replay of the same event id with other content (signed anew) changes nothing either.
    forged = deliver(registered, event(linked, event_id=77, state="refused", notes="replayed"))
    assert [r.status_code for r in (first, again, forged)] == [200, 200, 200]
    assert again.json()["outcome"] == "duplicate" and forged.json()["outcome"] == "duplicate"
    linked.refresh_from_db()
    assert linked.state == "sent" and linked.refuse_reason == ""
    assert WebhookEvent.objects.count() == 1
    assert history(linked).count("state_notified") == 1
    assert refreshes_queued() == 1


def test_an_older_notification_does_not_replace_a_newer_state(registered, linked):
    now = int(time.time())
    assert deliver(registered, event(linked, event_id=11, state="accepted", triggered_at=now)).status_code == 200
    late = deliver(registered, event(linked, event_id=10, state="sent", triggered_at=now - 60))
    assert late.status_code == 200 and late.json()["outcome"] == "stale"
    linked.refresh_from_db()
    assert linked.state == "accepted"
    assert history(linked)[-2:] == ["state_notified", "state_notice_ignored"]


def test_an_unknown_invoice_is_recorded_and_ignored(registered, linked):
    response = deliver(registered, event(987654, event_id=5))
    assert response.status_code == 200 and response.json()["outcome"] == "unknown_invoice"
    recorded = WebhookEvent.objects.get(event_id=5)
    assert recorded.invoice_id is None and recorded.b2brouter_invoice_id == 987654
    linked.refresh_from_db()
    assert linked.state == "sending"
    assert refreshes_queued() == 0


@pytest.fixture
def other_integration(db) -> B2BrouterIntegration:
    """Another company with its own registered receiver (and another B2Brouter account)."""
    other = Company.objects.create(name="Other Company B.V.", tin="NL004495445B01", country="NL")
    return B2BrouterIntegration.objects.create(
        company=other, enabled=True, environment="simulator", api_key="sim_other_key_0000", account_id="999",
        webhook_token="other-company-token-" + "x" * 24, webhook_secret="whsec_other_" + "1" * 40,
        webhook_registered_at="2026-01-01T00:00:00Z")


def test_another_companys_receiver_never_touches_this_company(registered, linked, other_integration):
    # Signed correctly for the other company, naming this company's invoice: not theirs, so ignored.
    response = deliver(other_integration, event(linked, event_id=1, state="refused"))
    assert response.status_code == 200 and response.json()["outcome"] == "unknown_invoice"
    # This company's URL with the other company's secret: the signature does not verify.
    forged = deliver(registered, event(linked, event_id=2, state="refused"), secret=other_integration.webhook_secret)
    assert forged.status_code == 400
    linked.refresh_from_db()
    assert linked.state == "sending"
    assert "state_notified" not in history(linked)
    assert list(WebhookEvent.objects.values_list("company_id", flat=True)) == [other_integration.company_id]


def test_the_same_event_id_counts_once_per_company(registered, linked, other_integration):
    assert deliver(other_integration, event(linked, event_id=3)).json()["outcome"] == "unknown_invoice"
    assert deliver(registered, event(linked, event_id=3)).json()["outcome"] == "applied"


def test_unknown_token_is_404_and_get_is_405(registered, linked):
    assert deliver(registered, event(linked), token="no-such-token").status_code == 404
    response = HttpClient().get(f"/webhooks/b2brouter/{registered.webhook_token}/")
    assert response.status_code == 405
    linked.refresh_from_db()
    assert linked.state == "sending" and not WebhookEvent.objects.exists()


def test_the_receiver_needs_no_csrf_token(registered, linked):
    raw = json.dumps(event(linked)).encode()
    http = HttpClient(enforce_csrf_checks=True)
    response = http.post(f"/webhooks/b2brouter/{registered.webhook_token}/", data=raw, content_type="application/json",
                         HTTP_X_B2BROUTER_SIGNATURE=signatures.sign(raw, registered.webhook_secret, int(time.time())))
    assert response.status_code == 200


def test_the_queued_refresh_brings_totals_and_reason(registered, linked, sim, account):
    data, key = account
    sim.api("POST", f"/invoices/{linked.b2brouter_id}/mark_as", key, {"state": "refused", "reason": "Wrong PO"})
    InvoiceLink.objects.filter(pk=linked.pk).update(total=None)
    assert deliver(registered, event(linked, state="refused")).status_code == 200
    run_worker()
    linked.refresh_from_db()
    assert linked.state == "refused" and linked.refuse_reason == "Wrong PO"
    assert linked.total is not None


# --- Registration from the settings page ------------------------------------------------------


def test_registration_stores_the_secret_encrypted_and_never_shows_it(web, integration, sim, account):
    page = web.get(SETTINGS_URL).content.decode()
    assert "State updates are not received." in page and "Register webhook in B2Brouter" in page
    integration = register(web, integration)
    secret = integration.webhook_secret
    assert secret.startswith("whsec_")
    url = f"http://testserver/webhooks/b2brouter/{integration.webhook_token}/"
    assert integration.webhook_url == url
    data, key = account
    hooks = sim.api("GET", "/web_hooks", key)["web_hooks"]
    assert [(h["url"], h["events"]) for h in hooks] == [(url, ["issued_invoice.state_change", "tax_report.state_change"])]
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM einvoicing_b2brouterintegration WHERE id = %s", [integration.pk])
        (stored,) = cursor.fetchone()
    assert stored and secret not in stored
    page = web.get(SETTINGS_URL).content.decode()
    assert secret not in page and secret[-8:] not in page
    assert url in page and "Registered; no notification received yet." in page


def test_registering_again_replaces_the_endpoint(web, registered, linked, sim, account):
    old_token, old_secret = registered.webhook_token, registered.webhook_secret
    renewed = register(web, registered)
    assert renewed.webhook_token != old_token and renewed.webhook_secret != old_secret
    data, key = account
    assert [h["url"] for h in sim.api("GET", "/web_hooks", key)["web_hooks"]] == [renewed.webhook_url]
    assert deliver(renewed, event(linked), token=old_token, secret=old_secret).status_code == 404
    assert deliver(renewed, event(linked)).status_code == 200


def test_registration_errors_are_shown_with_the_request_id(web, integration, sim, account):
    data, key = account
    sim.set_faults(data["id"], key, error_rate=1)
    response = web.post(f"{SETTINGS_URL}webhook/", follow=True)
    page = response.content.decode()
    assert "B2Brouter did not register the webhook." in page and "Request id:" in page
    integration.refresh_from_db()
    assert not integration.webhook_registered and integration.webhook_secret == ""


def test_registration_needs_post_and_a_member(web, integration, db):
    assert web.get(f"{SETTINGS_URL}webhook/").status_code == 405
    csrf_checked = HttpClient(enforce_csrf_checks=True)
    csrf_checked.force_login(integration.company.memberships.first().user)
    assert csrf_checked.post(f"{SETTINGS_URL}webhook/").status_code == 403
    assert HttpClient().post(f"{SETTINGS_URL}webhook/").status_code == 302  # to the login page
    integration.refresh_from_db()
    assert not integration.webhook_registered


# --- Set up by hand, the way B2Brouter documents it (Developers -> Webhooks) ----------------------

MANUAL_STEPS = ("This B2Brouter environment does not offer webhook registration through the API: add the endpoint in "
                "B2Brouter under Developers -&gt; Webhooks")
A_SECRET = "whsec_pasted_" + "7f3a9c" * 6 + "Q4zT"


def receiver_url_on(page: str) -> str:
    """Return the receiver URL the settings page offers to copy into B2Brouter."""
    found = re.search(r'<code class="b2b-receiver-url" id="b2b-receiver-url">([^<]+)</code>', page)
    assert found, page[:3000]
    return html.unescape(found[1])


def paste_secret(web: HttpClient, secret: str) -> Any:
    return web.post(f"{SETTINGS_URL}webhook/secret/", {"signing_secret": secret})


def test_the_settings_page_shows_the_receiver_url_before_any_secret(web, integration):
    page = web.get(SETTINGS_URL).content.decode()
    assert "Developers → Webhooks" in page and "issued_invoice.state_change" in page
    url = receiver_url_on(page)
    integration.refresh_from_db()
    assert url == f"http://testserver/webhooks/b2brouter/{integration.webhook_token}/"
    assert 'data-copy-target="b2b-receiver-url"' in page and ">Copy</button>" in page
    assert 'name="signing_secret"' in page and "Save signing secret" in page
    assert "State updates are not received." in page
    # The URL stays the same until a secret is pasted: it is the one the user copied.
    assert receiver_url_on(web.get(SETTINGS_URL).content.decode()) == url
    # Without a secret nothing could be verified: the receiver does not exist yet.
    payload = json.dumps(event(1)).encode()
    assert HttpClient().post(url.removeprefix("http://testserver"), data=payload, content_type="application/json",
                             HTTP_X_B2BROUTER_SIGNATURE=signatures.sign(payload, "anything", int(time.time()))
                             ).status_code == 404


def test_a_pasted_secret_is_encrypted_masked_and_checks_the_deliveries(web, integration, linked, sim, account,
                                                                       caplog):
    caplog.set_level(logging.DEBUG)
    url = receiver_url_on(web.get(SETTINGS_URL).content.decode())
    response = paste_secret(web, f"  {A_SECRET}\n")  # as copied, with stray blanks around it
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.webhook_secret == A_SECRET and integration.webhook_setup == "manual"
    assert integration.webhook_registered and integration.webhook_url == url
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM einvoicing_b2brouterintegration WHERE id = %s", [integration.pk])
        (stored,) = cursor.fetchone()
    assert stored and A_SECRET not in stored and A_SECRET[-12:] not in stored
    page = web.get(SETTINGS_URL).content.decode()
    assert A_SECRET not in page and A_SECRET[-8:] not in page
    assert "Stored secret: ••••" + A_SECRET[-4:] in page
    assert f"Signing secret saved: notifications B2Brouter sends to {url} are now checked with it." in page
    assert "Signing secret saved; no notification received yet." in page
    assert receiver_url_on(page) == url  # pasting changes no URL
    data, key = account
    assert sim.api("GET", "/web_hooks", key)["web_hooks"] == []  # nothing was registered through the API

    assert deliver(integration, event(linked, state="sent")).json()["outcome"] == "applied"
    assert deliver(integration, event(linked, state="accepted"), secret="whsec_" + "0" * 40).status_code == 400
    linked.refresh_from_db()
    assert linked.state == "sent"
    assert "State updates are received." in web.get(SETTINGS_URL).content.decode()
    assert A_SECRET not in caplog.text and A_SECRET[-8:] not in caplog.text
    assert A_SECRET not in repr(integration)


@pytest.mark.parametrize(("typed", "reason"), [
    ("", "Paste the signing secret B2Brouter shows for the endpoint."),
    ("whsec_two words_abcdef", "A signing secret has no spaces or line breaks: copy it again from B2Brouter."),
    ("abc123", "This is too short to be a signing secret: copy the whole secret from B2Brouter."),
])
def test_a_secret_that_cannot_be_one_is_refused_and_not_echoed(web, integration, typed, reason):
    response = paste_secret(web, typed)
    page = response.content.decode()
    assert response.status_code == 200
    assert html.escape(reason) in page
    if typed:
        assert typed not in page and html.escape(typed) not in page
    integration.refresh_from_db()
    assert integration.webhook_secret == "" and not integration.webhook_registered


def test_pasting_a_secret_needs_post_csrf_and_a_working_integration(web, integration, company, db):
    assert web.get(f"{SETTINGS_URL}webhook/secret/").status_code == 405
    csrf_checked = HttpClient(enforce_csrf_checks=True)
    csrf_checked.force_login(company.memberships.first().user)
    assert csrf_checked.post(f"{SETTINGS_URL}webhook/secret/", {"signing_secret": A_SECRET}).status_code == 403
    assert HttpClient().post(f"{SETTINGS_URL}webhook/secret/", {"signing_secret": A_SECRET}).status_code == 302
    integration.refresh_from_db()
    assert integration.webhook_secret == ""
    B2BrouterIntegration.objects.filter(pk=integration.pk).update(verified_at=None)
    page = web.post(f"{SETTINGS_URL}webhook/secret/", {"signing_secret": A_SECRET}, follow=True).content.decode()
    assert "Save a working API key and account ID first." in page
    integration.refresh_from_db()
    assert integration.webhook_secret == ""


@pytest.mark.parametrize("refusal", [
    b2brouter_error(404, "resource_missing", "Not found"),
    httpx.Response(405, headers={"Allow": "GET"}),
    b2brouter_error(501, "not_simulated", "POST /web_hooks is not simulated"),
], ids=["404", "405", "501 not_simulated"])
def test_without_a_registration_api_the_page_falls_back_to_the_manual_steps(web, integration, linked, settings,
                                                                            refusal):
    calls = answering(settings, lambda request: refusal if request.url.path.endswith("/web_hooks") else None)
    before = receiver_url_on(web.get(SETTINGS_URL).content.decode())
    response = web.post(f"{SETTINGS_URL}webhook/", follow=True)
    page = response.content.decode()
    assert "POST /sim/web_hooks" in calls
    assert "b2b-flash-warning" in page and MANUAL_STEPS in page
    assert "paste the signing secret B2Brouter shows there into “Signing secret” here." in page
    assert "B2Brouter did not register the webhook." not in page
    integration.refresh_from_db()
    assert not integration.webhook_registered and integration.webhook_secret == ""
    # The manual steps are right there, with the same URL; following them works.
    assert receiver_url_on(page) == before
    assert paste_secret(web, A_SECRET).status_code == 302
    integration.refresh_from_db()
    assert deliver(integration, event(linked, state="sent")).json()["outcome"] == "applied"


def test_the_manual_path_with_the_simulators_own_deliveries(instant_sim, web, company, account, integration, customer,
                                                            vat, bank, sim, monkeypatch):
    monkeypatch.setattr(sim_webhooks, "TRANSPORT", inprocess_transport())
    url = receiver_url_on(web.get(SETTINGS_URL).content.decode())
    # What the user does in B2Brouter's web app (here through the simulator's API): add the endpoint.
    data, key = account
    hook = sim.api("POST", "/web_hooks", key, {"web_hook": {"url": url, "events": ["issued_invoice.state_change"]}})
    assert paste_secret(web, hook["web_hook"]["signing_secret"]).status_code == 302
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    assert confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/").status_code == 302
    run_worker()
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.state == "accepted"
    log = sim.api("GET", f"/web_hooks/{hook['web_hook']['id']}", key)["web_hook"]["deliveries"]
    assert [(d["state"], d["status_code"]) for d in log] == [("sending", 200), ("sent", 200), ("accepted", 200)]
    assert set(WebhookEvent.objects.values_list("outcome", flat=True)) == {"applied"}


# --- End to end: the simulator's own deliveries ------------------------------------------------


@pytest.fixture
def instant_sim(settings) -> None:
    """Make the simulated recipient's steps and the webhook retries due at once."""
    settings.B2BROUTER_SIM_STEP_DELAY = 0
    settings.B2BROUTER_SIM_WEBHOOK_BACKOFF = 0


def test_the_simulators_deliveries_reach_the_receiver(instant_sim, web, registered, linked, monkeypatch, sim,
                                                      account):
    # The simulator POSTs with httpx; its test hook routes that to this process's app.
    monkeypatch.setattr(sim_webhooks, "TRANSPORT", inprocess_transport())
    run_worker()  # the simulated recipient: sending -> sent -> accepted, each notified and then read
    linked.refresh_from_db()
    assert linked.state == "accepted"
    data, key = account
    assert sim.api("GET", f"/invoices/{linked.b2brouter_id}", key)["invoice"]["state"] == "accepted"
    notified = [m for t, m in InvoiceEvent.objects.filter(invoice_id=linked.invoice_id).order_by("pk")
                .values_list("type", "message") if t == "state_notified"]
    assert notified == ["State: sending", "State: sent", "State: accepted"]
    assert set(WebhookEvent.objects.values_list("outcome", flat=True)) == {"applied"}
    hook = sim.api("GET", "/web_hooks", key)["web_hooks"][0]
    log = sim.api("GET", f"/web_hooks/{hook['id']}", key)["web_hook"]["deliveries"]
    assert [(d["state"], d["status"], d["status_code"]) for d in log] == [
        ("sending", "delivered", 200), ("sent", "delivered", 200), ("accepted", "delivered", 200)]
    page = web.get(SETTINGS_URL).content.decode()
    assert "State updates are received." in page


# --- The fallback sync ------------------------------------------------------------------------


def test_the_sync_command_updates_a_link_changed_in_b2brouter(linked, sim, account, company):
    data, key = account
    sim.api("POST", f"/invoices/{linked.b2brouter_id}/mark_as", key, {"state": "refused", "reason": "No PO"})
    out = io.StringIO()
    call_command("b2brouter_sync", "--company", str(company.pk), stdout=out)
    output = out.getvalue()
    linked.refresh_from_db()
    assert linked.state == "refused" and linked.refuse_reason == "No PO"
    assert "Refreshed links of Lingua Test S.L." in output
    assert linked.invoice.number in output and "sending → refused" in output
    assert history(linked)[-1] == "synced"
    integration = B2BrouterIntegration.objects.get(company=company)
    assert integration.last_synced_at is not None

    # Nothing changed since: the next run lists from the last sync and updates nothing.
    out = io.StringIO()
    call_command("b2brouter_sync", stdout=out)
    assert "0 linked invoice(s) updated" in out.getvalue()
    assert history(linked).count("synced") == 1


def test_the_sync_lists_only_invoices_changed_since_the_last_sync(linked, sim, account, company):
    call_command("b2brouter_sync", stdout=io.StringIO())
    integration = B2BrouterIntegration.objects.get(company=company)
    first = integration.last_synced_at
    seen: list[str] = []
    original = Remote.iter_invoices

    def spy(self, **filters):
        seen.append(str(filters.get("updated_at_from")))
        return original(self, **filters)

    with mock.patch.object(Remote, "iter_invoices", spy):
        call_command("b2brouter_sync", stdout=io.StringIO())
    assert seen and seen[0] != "None"
    integration.refresh_from_db()
    assert integration.last_synced_at > first


def test_a_failed_sync_keeps_its_position_and_says_why(linked, sim, account, company):
    call_command("b2brouter_sync", stdout=io.StringIO())
    integration = B2BrouterIntegration.objects.get(company=company)
    position = integration.last_synced_at
    data, key = account
    sim.set_faults(data["id"], key, error_rate=1)
    out = io.StringIO()
    with pytest.raises(Exception, match="could not be synced"):
        call_command("b2brouter_sync", stdout=out)
    assert "sync failed" in out.getvalue() and "Request id:" in out.getvalue()
    integration.refresh_from_db()
    assert integration.last_synced_at == position


def test_the_sync_task_does_the_same(linked, sim, account, company):
    data, key = account
    sim.api("POST", f"/invoices/{linked.b2brouter_id}/mark_as", key, {"state": "accepted"})
    sync_b2brouter.enqueue(company.pk)
    run_worker()
    linked.refresh_from_db()
    assert linked.state == "accepted"
    result = DBTaskResult.objects.get(task_path__endswith="sync_b2brouter")
    assert result.return_value[0]["changed"][0]["new_state"] == "accepted"


def test_switching_accounts_forgets_the_webhook_and_the_sync_position(web, registered, sim):
    B2BrouterIntegration.objects.filter(pk=registered.pk).update(last_synced_at="2026-01-01T00:00:00Z")
    old_token = registered.webhook_token
    other, key = sim.create_account(name="Second Account S.L.", tin_value="ESB87654323", country="es")
    response = web.post(SETTINGS_URL, {"enabled": "on", "environment": "simulator", "api_key": key,
                                       "account_id": str(other["id"]), "send_after_create": "on"})
    assert response.status_code == 302
    registered.refresh_from_db()
    assert registered.account_id == str(other["id"])
    assert not registered.webhook_registered and registered.webhook_secret == "" and registered.last_synced_at is None
    assert HttpClient().post(f"/webhooks/b2brouter/{old_token}/", data=b"{}",
                             content_type="application/json").status_code == 404
    assert "State updates are not received." in web.get(SETTINGS_URL).content.decode()


def test_the_receivers_token_stays_out_of_the_logs(registered, linked, caplog):
    caplog.set_level(logging.DEBUG)
    assert deliver(registered, event(linked), secret="wrong").status_code == 400
    assert deliver(registered, event(linked), token="no-such-token").status_code == 404
    assert "Bad Request: /webhooks/b2brouter/[redacted]/" in caplog.text
    assert registered.webhook_token not in caplog.text
    assert "no-such-token" not in caplog.text


def test_the_sync_forgets_notifications_older_than_the_retention(registered, linked, company, settings):
    settings.B2BROUTER_WEBHOOK_EVENTS_DAYS = 30
    assert deliver(registered, event(linked, event_id=1)).status_code == 200
    assert deliver(registered, event(linked, event_id=2, state="accepted")).status_code == 200
    WebhookEvent.objects.filter(event_id=1).update(received_at=timezone.now() - dt.timedelta(days=31))
    call_command("b2brouter_sync", "--company", str(company.pk), stdout=io.StringIO())
    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == [2]
