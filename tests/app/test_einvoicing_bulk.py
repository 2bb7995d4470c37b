"""Bulk push and bulk refresh: the invoice list's form, the confirmation, the run page and the CLI."""

from __future__ import annotations

import re
import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from b2binvoice.companies.models import UnitMapping

from b2binvoice.einvoicing import bulk
from b2binvoice.einvoicing.models import BulkOutcome, BulkRun, BulkStatus, InvoiceLink, LinkStatus
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    Counting,
    _b2brouter_settings,
    account,
    bank,
    company,
    contact_for,
    customer,
    integration,
    make_invoice,
    sim,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def invoices(company, customer, vat, bank, count, *, start=1):
    return [make_invoice(company, customer, number=f"INV-{n:04d}", taxes=[vat], payment_method=bank)
            for n in range(start, start + count)]


def confirm(web, *, ids=(), scope="", action="send", q="", status=""):
    data: dict[str, Any] = {"action": action, "q": q, "status": status, "invoice": [str(i) for i in ids]}
    if scope:
        data["scope"] = scope
    return web.post("/invoices/b2brouter/bulk/", data)


def start(web, page: str, action="send"):
    ids = re.findall(r'name="invoice" value="(\d+)"', page)
    return web.post("/invoices/b2brouter/bulk/start/", {"action": action, "confirm": "yes", "invoice": ids})


def run_page(web, response) -> tuple[BulkRun, str]:
    assert response.status_code == 302, response.content.decode()[:2000]
    run = BulkRun.objects.latest("pk")
    page = web.get(response["Location"])
    assert page.status_code == 200
    return run, page.content.decode()


def test_list_offers_selection_and_bulk_buttons(web, company, customer, vat, bank):
    invoices(company, customer, vat, bank, 2)
    page = web.get("/invoices/").content.decode()
    assert page.count('form="bulk-b2brouter"') == 2
    assert "Send to B2Brouter" in page and "Refresh from B2Brouter" in page
    assert "All ready invoices in this filter" in page


def test_selected_invoices_are_confirmed_then_pushed_with_a_result_each(web, company, account, integration, customer,
                                                                         vat, bank, sim):
    contact_for(sim, account, customer)
    chosen = invoices(company, customer, vat, bank, 3)
    page = confirm(web, ids=[i.pk for i in chosen]).content.decode()
    # The confirmation: how many, to whom, how much per currency; nothing has left yet.
    assert "3 invoices will be processed" in page
    assert "Übersetzungen Kunde S.A. (3)" in page
    assert "EUR" in page and "Confirm: 3 invoices" in page
    assert sim.invoices(account[0]["id"], account[1]) == []

    run, page = run_page(web, start(web, page))
    assert run.status == BulkStatus.DONE and run.total == 3
    assert list(run.items.values_list("outcome", flat=True)) == [BulkOutcome.SENT] * 3
    assert "100 %" in page and 'value="3" max="3"' in page
    for invoice in chosen:
        assert f'data-invoice="{invoice.number}"' in page
    assert 'hx-trigger="every 2s"' not in page  # finished: no more polling
    remote = sim.invoices(account[0]["id"], account[1])
    assert sorted(r["number"] for r in remote) == ["INV-0001", "INV-0002", "INV-0003"]
    assert all(r["state"] in ("sending", "sent", "accepted") for r in remote)


def test_rerun_skips_linked_invoices_and_never_duplicates(web, company, account, integration, customer, vat, bank,
                                                          sim):
    contact_for(sim, account, customer)
    chosen = invoices(company, customer, vat, bank, 2)
    first = start(web, confirm(web, ids=[i.pk for i in chosen]).content.decode())
    run_page(web, first)
    # The list's form asked again for the same invoices: the confirmation leaves them out...
    page = confirm(web, ids=[i.pk for i in chosen]).content.decode()
    assert "None of the chosen invoices can be sent" in page
    # ...and a run started for them anyway (a second tab, a replayed form) skips them.
    response = web.post("/invoices/b2brouter/bulk/start/", {"action": "send", "confirm": "yes",
                                                            "invoice": [str(i.pk) for i in chosen]})
    run, page = run_page(web, response)
    assert list(run.items.values_list("outcome", flat=True)) == [BulkOutcome.SKIPPED] * 2
    assert "Already linked to B2Brouter invoice" in page
    assert len(sim.invoices(account[0]["id"], account[1])) == 2


def test_all_ready_in_filter_excludes_linked_and_not_ready(web, company, account, integration, customer, vat, bank,
                                                           sim):
    contact_for(sim, account, customer)
    ready = invoices(company, customer, vat, bank, 2)
    no_tax = make_invoice(company, customer, number="INV-0100", payment_method=bank)
    other = make_invoice(company, customer, number="X-0001", taxes=[vat], payment_method=bank)
    page = confirm(web, scope="filter", q="INV-").content.decode()
    assert "2 invoices will be processed" in page
    ids = set(map(int, re.findall(r'name="invoice" value="(\d+)"', page)))
    assert ids == {i.pk for i in ready}
    assert no_tax.pk not in ids and other.pk not in ids


def test_blocked_invoice_says_why_and_failure_carries_b2brouters_message(web, company, account, integration, customer,
                                                                          vat, bank, sim):
    # No contact in B2Brouter for this client: blocked by readiness, nothing created.
    blocked = make_invoice(company, customer, number="INV-0001", taxes=[vat], payment_method=bank)
    run = bulk.start_run(company=company, user=None, action="send", invoices=[blocked])
    run = bulk.run_bulk(run.pk)
    item = run.items.get()
    assert item.outcome == BulkOutcome.BLOCKED
    assert "no contact has the tax id" in item.message
    assert not InvoiceLink.objects.filter(invoice=blocked).exists()

    # B2Brouter refuses it (a unit code it does not know, written past the form's checks): failed,
    # with its words and request id.
    contact_for(sim, account, customer)
    # The lookup above remembered "no contact"; the user asks B2Brouter again ("Match by tax id").
    web.post(f"/clients/{customer.pk}/b2brouter/match/")
    UnitMapping.objects.create(company=company, label="words", key="words", code=99)
    run = bulk.run_bulk(bulk.start_run(company=company, user=None, action="send", invoices=[blocked]).pk)
    item = run.items.get()
    assert item.outcome == BulkOutcome.FAILED, (item.outcome, item.message)
    assert item.remote_message and item.request_id.startswith("req_")
    page = web.get(f"/invoices/b2brouter/bulk/{run.pk}/").content.decode()
    assert item.request_id in page
    assert not InvoiceLink.objects.filter(invoice=blocked).exists()


def test_a_429_burst_pauses_everyone_and_every_invoice_gets_through(web, company, account, integration, customer, vat,
                                                                     bank, sim):
    contact_for(sim, account, customer)
    chosen = invoices(company, customer, vat, bank, 5)
    # Four requests a second: each invoice needs about three, so the run meets 429s with Retry-After.
    sim.set_faults(account[0]["id"], account[1], rate_limit={"requests": 4, "per_seconds": 1})
    run = bulk.run_bulk(bulk.start_run(company=company, user=None, action="send", invoices=chosen).pk)
    assert run.rate_limited >= 1 and run.paused_seconds > 0, "B2Brouter's 429 must pause the run"
    assert list(run.items.values_list("outcome", flat=True)) == [BulkOutcome.SENT] * 5
    time.sleep(1.1)  # the test's own reads are rate limited too: let the window pass, then lift the limit
    sim.set_faults(account[0]["id"], account[1])
    remote = sim.invoices(account[0]["id"], account[1])
    assert sorted(r["number"] for r in remote) == [i.number for i in chosen]  # no duplicate
    page = web.get(f"/invoices/b2brouter/bulk/{run.pk}/").content.decode()
    assert "B2Brouter asked to slow down" in page


def test_a_pushed_invoice_reads_its_recipient_once(web, company, account, integration, customer, vat, bank, sim,
                                                  settings):
    contact = contact_for(sim, account, customer)
    chosen = invoices(company, customer, vat, bank, 2)
    transport = Counting()
    settings.B2BROUTER_TRANSPORT_FACTORY = lambda: transport
    run = bulk.run_bulk(bulk.start_run(company=company, user=None, action="send", invoices=chosen).pk)
    assert list(run.items.values_list("outcome", flat=True)) == [BulkOutcome.SENT] * 2
    # One read per invoice: the check before the create, which the create then relies on.
    assert transport.reads_of(contact["id"]) == 2


def test_bulk_refresh_reads_linked_invoices(web, company, account, integration, customer, vat, bank, sim):
    contact_for(sim, account, customer)
    chosen = invoices(company, customer, vat, bank, 2)
    unlinked = make_invoice(company, customer, number="INV-0900", taxes=[vat], payment_method=bank)
    run_page(web, start(web, confirm(web, ids=[i.pk for i in chosen]).content.decode()))
    page = confirm(web, ids=[i.pk for i in chosen] + [unlinked.pk], action="refresh").content.decode()
    assert "2 invoices will be processed" in page
    run, page = run_page(web, start(web, page, action="refresh"))
    assert list(run.items.values_list("outcome", flat=True)) == [BulkOutcome.REFRESHED] * 2
    assert "Refreshed: B2Brouter invoice" in page


def test_run_page_polls_while_running_and_is_private(web, company, customer, vat, bank):
    from django.contrib.auth import get_user_model
    from django.test import Client as HttpClient

    from b2binvoice.companies.models import Company, Membership

    chosen = invoices(company, customer, vat, bank, 1)
    run = bulk.start_run(company=company, user=None, action="send", invoices=chosen)
    page = web.get(f"/invoices/b2brouter/bulk/{run.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and 'value="0" max="1"' in page and "0 %" in page
    fragment = web.get(f"/invoices/b2brouter/bulk/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith("\n<div id=\"bulk-progress\"") or fragment.lstrip().startswith('<div id="bulk-progress"')
    assert "<html" not in fragment and "style=" not in fragment and "<script" not in fragment
    other = Company.objects.create(name="Other S.L.", tin="ESA58818501", country="ES")
    outsider = get_user_model().objects.create_user("outsider", password="pw-outsider-1")
    Membership.objects.create(user=outsider, company=other)
    stranger = HttpClient()
    stranger.force_login(outsider)
    assert stranger.get(f"/invoices/b2brouter/bulk/{run.pk}/").status_code == 404


def test_start_requires_confirmation(web, company, customer, vat, bank):
    chosen = invoices(company, customer, vat, bank, 1)
    response = web.post("/invoices/b2brouter/bulk/start/", {"action": "send", "invoice": [chosen[0].pk]})
    assert response.status_code == 404
    assert not BulkRun.objects.exists()


def test_command_pushes_ready_invoices_and_reruns_safely(company, account, integration, customer, vat, bank, sim):
    contact_for(sim, account, customer)
    invoices(company, customer, vat, bank, 3)
    out = StringIO()
    call_command("b2brouter_push", "--company", str(company.pk), "--ready", "--dry-run", stdout=out)
    assert "3 invoices" in out.getvalue() and "dry run" in out.getvalue().lower()
    assert sim.invoices(account[0]["id"], account[1]) == []

    out = StringIO()
    call_command("b2brouter_push", "--company", str(company.pk), "--ready", stdout=out)
    assert out.getvalue().count("Sent") >= 3
    assert len(sim.invoices(account[0]["id"], account[1])) == 3

    out = StringIO()
    call_command("b2brouter_push", "--company", str(company.pk), "INV-0001", "INV-0002", stdout=out)
    assert out.getvalue().count("Skipped") >= 2
    assert len(sim.invoices(account[0]["id"], account[1])) == 3
    assert InvoiceLink.objects.filter(status=LinkStatus.LINKED).count() == 3


def test_command_exits_non_zero_when_any_failed(company, account, integration, customer, vat, bank, sim):
    make_invoice(company, customer, number="INV-0001", taxes=[vat], payment_method=bank)
    contact_for(sim, account, customer)
    UnitMapping.objects.create(company=company, label="words", key="words", code=99)  # B2Brouter refuses it
    with pytest.raises(CommandError):
        call_command("b2brouter_push", "--company", str(company.pk), "INV-0001", stdout=StringIO())


def test_every_chosen_invoice_is_going_or_left_out_with_its_reason(web, company, account, integration, customer, vat,
                                                                    bank, sim):
    from b2binvoice.invoices.models import Invoice

    contact_for(sim, account, customer)
    chosen = invoices(company, customer, vat, bank, 9)
    # One already linked (pushed before), one being created, one cancelled, one without a tax.
    run_page(web, start(web, confirm(web, ids=[chosen[0].pk]).content.decode()))
    InvoiceLink.objects.create(invoice=chosen[1], status=LinkStatus.PENDING, number=chosen[1].number)
    Invoice.objects.filter(pk=chosen[2].pk).update(status="cancelled")
    chosen[3].taxes.all().delete()
    page = confirm(web, ids=[i.pk for i in chosen]).content.decode()
    assert "5 invoices will be processed" in page
    assert "Chosen: 9 · to process: 5 · left out: 4 (see below)." in page
    going = set(map(int, re.findall(r'name="invoice" value="(\d+)"', page)))
    assert going == {i.pk for i in chosen[4:]}
    link = InvoiceLink.objects.get(invoice=chosen[0])
    rows = dict(re.findall(r'<tr data-invoice="([^"]+)" data-left-out="([^"]+)">', page))
    assert rows == {"INV-0001": "linked", "INV-0002": "pending", "INV-0003": "cancelled", "INV-0004": "not_ready"}
    assert f"Already linked to B2Brouter invoice #{link.b2brouter_id}: it is not created again." in page
    assert "Being created in B2Brouter already" in page and "Cancelled: a cancelled invoice is not sent." in page
    assert "Not ready: " in page
    for label in ("already linked to a B2Brouter invoice: 1", "being created in B2Brouter (attempt not settled): 1",
                  "cancelled: 1", "not ready: 1"):
        assert f"<li>{label}</li>" in page

    # A refresh of the same choice: the linked one goes, the others are not linked (or not yet).
    page = confirm(web, ids=[i.pk for i in chosen], action="refresh").content.decode()
    assert "1 invoice will be processed" in page and "Chosen: 9 · to process: 1 · left out: 8" in page
    assert "<li>not linked to B2Brouter: 7</li>" in page

    # All ready invoices of a filter: the others are counted per kind.
    page = confirm(web, scope="filter", q="INV-").content.decode()
    assert "5 invoices will be processed" in page and "Chosen: 9 · to process: 5 · left out: 4" in page
    assert "<li>already linked to a B2Brouter invoice: 1</li>" in page and "<li>not ready: 1</li>" in page
