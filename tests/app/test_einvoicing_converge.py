"""Uncertain outcomes converge: a create or send B2Brouter applies late, a lost answer, a crash, all settle by themselves.

The simulator's "apply later" fault holds a create or send back while its answer times out, so
for a while B2Brouter has nothing to find; these tests drive the app through HTTP, the task
functions, the worker and the sync command, and check that the attempt is never forgotten, never
repeated, and ends in the true state.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from b2binvoice.einvoicing import actions
from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink, LinkStatus
from b2binvoice.einvoicing.tasks import settle_attempt
from b2binvoice.invoices.models import Invoice
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
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
from tests.app.test_einvoicing_webhooks import deliver, event, register, run_worker

pytestmark = pytest.mark.django_db

UNCONFIRMED = "B2Brouter has not confirmed the outcome yet; we are checking."
# make_invoice's one line: 1234 x 0.085 = 104.89, IVA 21% 22.03, total 126.92.
TOTAL = Decimal("126.92")


def create(web, invoice):
    return confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")


def shown(web, invoice) -> str:
    """Return the invoice's B2Brouter section without its history (which keeps every past message)."""
    return section(web, invoice).split('<details class="b2b-events"')[0]


def deferred(sim, account) -> list[dict[str, Any]]:
    data, key = account
    return sim.api("GET", f"/_control/accounts/{data['id']}/deferred", key)["deferred"]


def time_passes(sim, account) -> None:
    """Let the simulator apply what the "apply later" fault held back, as if its delay were over."""
    data, key = account
    sim.api("POST", f"/_control/accounts/{data['id']}/deferred/apply", key)


def history(invoice) -> list[str]:
    return list(InvoiceEvent.objects.filter(invoice=invoice).order_by("pk").values_list("type", flat=True))


def apply_later(sim, account, *, operations: list[str], delay: int = 600) -> None:
    data, key = account
    sim.set_faults(data["id"], key, apply_later_rate="1", apply_later_delay=delay, apply_later_operations=operations,
                   no_answer_delay=0)


@pytest.fixture
def ready(web, company, account, integration, customer, vat, sim) -> Invoice:
    """A draft invoice whose client is already matched to its B2Brouter contact."""
    contact_for(sim, account, customer)
    web.post(f"/clients/{customer.pk}/b2brouter/match/")
    return make_invoice(company, customer, taxes=[vat])


@pytest.fixture
def created_unsent(web, ready, integration, sim, account) -> InvoiceLink:
    """The invoice created in B2Brouter and left new (sending after create off)."""
    integration.send_after_create = False
    integration.save()
    create(web, ready)
    link = InvoiceLink.objects.get(invoice=ready)
    assert link.state == "new" and ready.status == "draft"
    return link


# --- A create B2Brouter applies late ------------------------------------------------------------------------------


def test_a_create_applied_late_is_checked_not_failed_then_linked_once(web, ready, sim, account):
    data, key = account
    # B2Brouter applies the create only when the test says so (not after a delay a loaded machine overruns).
    apply_later(sim, account, operations=["create"])
    assert create(web, ready).status_code == 302
    page = shown(web, ready)
    # The answer timed out and the lookup found nothing: being checked, never "failed".
    assert UNCONFIRMED in page and "b2b-flash-error" not in page
    assert "Create B2Brouter invoice" not in page and "Link existing B2Brouter invoice" not in page
    assert "create invoice INV-0001" in page and "126.92" in page
    link = InvoiceLink.objects.get(invoice=ready)
    # The attempt is kept with what it asked for.
    assert link.status == LinkStatus.PENDING and link.attempt_kind == "create"
    assert (link.number, link.attempt_total) == ("INV-0001", TOTAL) and link.contact_id is not None
    assert history(ready) == ["create_attempted", "create_uncertain"]

    # The scheduled check, before B2Brouter applies it: nothing found, the attempt stays.
    assert settle_attempt.call(link.pk) == "checking"
    link.refresh_from_db()
    assert link.status == LinkStatus.PENDING and link.attempt_checks == 1
    assert link.attempt_next_check_at > timezone.now()
    # Another click creates nothing: one request ever reached B2Brouter.
    create(web, ready)
    assert UNCONFIRMED in shown(web, ready)
    assert len(deferred(sim, account)) == 1 and sim.invoices(data["id"], key) == []

    time_passes(sim, account)
    # The next scheduled check, after B2Brouter applied it: found by number, linked and compared.
    assert settle_attempt.call(link.pk) == "settled"
    remote = sim.invoices(data["id"], key)
    assert len(remote) == 1 and remote[0]["state"] == "new"  # found late, so not sent without a click
    link.refresh_from_db()
    assert link.status == LinkStatus.LINKED and link.b2brouter_id == remote[0]["id"] and link.total == TOTAL
    assert link.attempt_kind == "" and link.attempt_next_check_at is None
    page = shown(web, ready)
    assert UNCONFIRMED not in page and "✗ differs" not in page and "Send</button>" in page
    assert history(ready)[-1] == "reconciled"
    assert len(sim.invoices(data["id"], key)) == 1


def test_nothing_found_for_the_whole_window_is_not_created_and_can_be_created_again(web, ready, sim, account):
    data, key = account
    apply_later(sim, account, operations=["create"])
    create(web, ready)
    link = InvoiceLink.objects.get(invoice=ready)
    # Two days later B2Brouter still has nothing under this number.
    InvoiceLink.objects.filter(pk=link.pk).update(attempt_started_at=timezone.now() - dt.timedelta(hours=48, minutes=1))
    assert settle_attempt.call(link.pk) == "not applied"
    assert not InvoiceLink.objects.filter(invoice=ready).exists()
    page = shown(web, ready)
    assert "B2Brouter never showed invoice INV-0001" in page and "it was not created. You can create it again." in page
    assert "Create B2Brouter invoice" in page
    assert history(ready)[-1] == "create_not_applied"
    # Created again; the first request, should B2Brouter still apply it, cannot make a second invoice.
    sim.set_faults(data["id"], key)
    create(web, ready)
    assert InvoiceLink.objects.get(invoice=ready).status == LinkStatus.LINKED
    time_passes(sim, account)
    assert deferred(sim, account)[0]["result"]["code"] == "parameter_taken"
    assert len(sim.invoices(data["id"], key)) == 1


def test_the_number_cannot_change_while_a_create_is_unconfirmed(web, ready, sim, account, vat):
    apply_later(sim, account, operations=["create"])
    create(web, ready)
    line = ready.lines.get()
    form = {"number": "INV-0099", "client": ready.client_id, "issue_date": "2026-11-02", "due_date": "2026-12-02",
            "currency": "EUR", "status": "draft", "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1",
            "lines-0-id": line.pk, "lines-0-description": line.description, "lines-0-quantity": "999",
            "lines-0-unit": "words", "lines-0-unit_price": "0.085", "adjustments-TOTAL_FORMS": "0",
            "adjustments-INITIAL_FORMS": "0", "taxes": [vat.pk]}
    response = web.post(f"/invoices/{ready.pk}/edit/", form)
    # An unconfirmed create locks the invoice's fiscal content, the number included: B2Brouter may
    # hold it as it was sent.
    assert response.status_code == 403
    ready.refresh_from_db()
    assert ready.number == "INV-0001"
    assert ready.lines.get().quantity != 999


def test_the_sync_command_settles_an_unconfirmed_create(web, ready, sim, account, company):
    data, key = account
    apply_later(sim, account, operations=["create"])
    create(web, ready)
    time_passes(sim, account)
    out = io.StringIO()
    call_command("b2brouter_sync", "--company", str(company.pk), stdout=out)
    output = out.getvalue()
    assert "1 unconfirmed attempt(s) checked" in output and "INV-0001" in output and "linked" in output
    link = InvoiceLink.objects.get(invoice=ready)
    assert link.status == LinkStatus.LINKED and link.b2brouter_id == sim.invoices(data["id"], key)[0]["id"]


# --- A send whose answer is lost ----------------------------------------------------------------------------------


def confirm_by(how: str, *, web, link: InvoiceLink, company, integration) -> None:
    """Let one of the four paths read B2Brouter's state of the invoice."""
    if how == "task":
        assert settle_attempt.call(link.pk) == "settled"
    elif how == "refresh":
        web.post(f"/invoices/{link.invoice_id}/b2brouter/refresh/")
    elif how == "sync":
        call_command("b2brouter_sync", "--company", str(company.pk), stdout=io.StringIO())
    else:
        registered = register(web, integration)
        assert deliver(registered, event(link, state="sending", event_id=None)).json()["outcome"] == "applied"


@pytest.mark.parametrize("how", ["task", "refresh", "sync", "webhook"])
def test_a_send_applied_late_issues_the_invoice_whichever_path_confirms_it(how, web, created_unsent, sim, account,
                                                                          company, integration):
    link, invoice = created_unsent, created_unsent.invoice
    data, key = account
    apply_later(sim, account, operations=["send"])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/send/")
    page = shown(web, invoice)
    # No answer and B2Brouter still shows it new: being checked, not failed, and not offered again.
    assert UNCONFIRMED in page and "b2b-flash-error" not in page and "Send</button>" not in page
    link.refresh_from_db()
    assert link.attempt_kind == "send" and link.state == "new"
    invoice.refresh_from_db()
    assert invoice.status == "draft"
    assert "send_uncertain" in history(invoice) and "send_failed" not in history(invoice)
    # A second click sends nothing.
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/send/")
    assert UNCONFIRMED in shown(web, invoice)
    assert len(deferred(sim, account)) == 1
    # Nor can the link, and with it the send, be forgotten meanwhile.
    web.post(f"/invoices/{invoice.pk}/b2brouter/unlink/")
    assert "Unlink it once that is settled." in shown(web, invoice)
    assert InvoiceLink.objects.filter(pk=link.pk).exists()

    time_passes(sim, account)  # B2Brouter applies the send: the invoice is sending
    confirm_by(how, web=web, link=link, company=company, integration=integration)

    invoice.refresh_from_db()
    link.refresh_from_db()
    assert invoice.status == "issued"
    assert link.state == "sending" and link.attempt_kind == ""
    page = shown(web, invoice)
    assert UNCONFIRMED not in page and "Send</button>" not in page
    sent_events = InvoiceEvent.objects.filter(invoice=invoice, type="sent")
    assert sent_events.count() == 1 and "Confirmed through" in sent_events.get().message
    assert sim.api("GET", f"/accounts/{data['id']}", key)["account"]["transactions_count"] == 1  # sent once


def test_a_lost_send_answer_is_confirmed_by_the_read_right_after_it(web, created_unsent, sim, account):
    invoice = created_unsent.invoice
    data, key = account
    # B2Brouter sends it at once, but the answer never arrives.
    sim.set_faults(data["id"], key, no_answer_rate="1", no_answer_delay=0)
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/send/")
    sim.set_faults(data["id"], key)
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    page = shown(web, invoice)
    assert "B2Brouter confirms it" in page and "Send</button>" not in page and UNCONFIRMED not in page
    assert history(invoice)[-2:] == ["send_uncertain", "sent"]


def test_a_state_past_new_from_anywhere_issues_the_invoice_and_ends_send(web, created_unsent, sim, account,
                                                                       integration):
    invoice = created_unsent.invoice
    data, key = account
    # Sent and accepted from B2Brouter's own web app, behind the app's back; B2Brouter notifies it.
    sim.api("POST", f"/invoices/{created_unsent.b2brouter_id}/mark_as", key, {"state": "accepted"})
    registered = register(web, integration)
    deliver(registered, event(created_unsent, state="accepted", event_id=None))
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert "Send</button>" not in shown(web, invoice)
    assert "sent" not in history(invoice)  # no send of ours was waiting: nothing to confirm


def test_a_send_still_new_after_the_window_is_not_sent_and_offered_again(web, created_unsent, sim, account):
    link, invoice = created_unsent, created_unsent.invoice
    apply_later(sim, account, operations=["send"])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/send/")
    InvoiceLink.objects.filter(pk=link.pk).update(attempt_started_at=timezone.now() - dt.timedelta(hours=49))
    assert settle_attempt.call(link.pk) == "settled"
    page = shown(web, invoice)
    assert "B2Brouter did not send invoice" in page and "You can send it again." in page
    assert "Send</button>" in page
    assert history(invoice)[-1] == "send_not_applied"
    invoice.refresh_from_db()
    assert invoice.status == "draft"


# --- Crashes ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_crash_of_the_web_process_after_the_create_left_is_settled(web, ready, sim, account, settings,
                                                                     monkeypatch):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("needs a database file or server (make test sets SQLITE_TEST_NAME)")
    data, key = account
    settings.B2BROUTER_SETTLE_BACKOFF = (0, 3600)  # the first check is due at once, the next in an hour
    real_attach = actions._attach

    def dies_while_recording(link, answer):
        with transaction.atomic():
            real_attach(link, answer)
            raise RuntimeError("the web process died before its transaction committed")

    monkeypatch.setattr(actions, "_attach", dies_while_recording)
    with pytest.raises(RuntimeError):
        create(web, ready)
    monkeypatch.undo()
    # B2Brouter created it; our record of the answer was rolled back, but not the attempt written before.
    remote = sim.invoices(data["id"], key)
    assert len(remote) == 1
    link = InvoiceLink.objects.get(invoice=ready)
    assert link.status == LinkStatus.PENDING and link.attempt_kind == "create" and link.attempt_total == TOTAL
    assert "being created in B2Brouter" in shown(web, ready)
    # The check queued with the attempt runs in the worker and finds it.
    run_worker()
    link.refresh_from_db()
    assert link.status == LinkStatus.LINKED and link.b2brouter_id == remote[0]["id"]
    assert len(sim.invoices(data["id"], key)) == 1


def test_a_crash_of_the_worker_mid_check_leaves_the_attempt_for_the_next_run(web, ready, sim, account, settings,
                                                                              monkeypatch):
    data, key = account
    settings.B2BROUTER_SETTLE_BACKOFF = (0, 3600)
    apply_later(sim, account, operations=["create"])
    create(web, ready)
    time_passes(sim, account)  # B2Brouter has it now; the check has yet to find it
    link = InvoiceLink.objects.get(invoice=ready)

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the worker died half-way through the check")

    monkeypatch.setattr(actions, "settle_create", dies)
    run_worker()
    monkeypatch.undo()
    checks = DBTaskResult.objects.filter(task_path__endswith="settle_attempt").order_by("enqueued_at", "pk")
    assert [c.status for c in checks] == ["FAILED", "READY"]
    link.refresh_from_db()
    assert link.status == LinkStatus.PENDING and link.attempt_checks == 1
    # The next run was queued before the check began; it is due in an hour. An hour passes.
    assert checks[1].run_after > timezone.now() + dt.timedelta(minutes=59)
    checks.filter(status="READY").update(run_after=timezone.now())
    run_worker()
    link.refresh_from_db()
    assert link.status == LinkStatus.LINKED
    assert len(sim.invoices(data["id"], key)) == 1
