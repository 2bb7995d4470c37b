"""Bulk push walked in a browser: select, confirm, watch the progress reach 100 %, read each result.

The app reaches the simulator over HTTP (the live server hosts both). The run is queued in the
database queue and worked by ``db_worker --batch`` started in a thread after the confirmation, so
the page is seen polling before the progress reaches 100 %. The simulator answers 429 (with
Retry-After) past three requests in two seconds (one invoice needs four): the run pauses and still sends every invoice, once.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from b2binvoice.einvoicing.models import BulkOutcome, BulkRun, InvoiceLink
from tests.e2e.test_demo_walkthrough import Demo, app, connected, demo, sim_over_http  # noqa: F401 (fixtures)

expect.set_options(timeout=30_000)


@pytest.fixture(autouse=True)
def _worker_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signal handlers can only be installed by the main thread: the worker thread leaves them alone."""
    from django_tasks_db.management.commands.db_worker import Worker

    monkeypatch.setattr(Worker, "configure_signals", lambda self: None)


def work_queue() -> threading.Thread:
    """Work the queued tasks that are due (the bulk run), in a thread with its own DB connection."""

    def work() -> None:
        from django.db import connections

        try:
            call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_bulk_push_select_confirm_progress_results_and_no_duplicate(app: Page, connected: Demo,
                                                                    screenshot: Any) -> None:
    demo = connected
    # The demo account holds a B2Brouter twin of LD-0001 already (the walkthrough links it): a push
    # must link that one, never create a second LD-0001.
    before = {r["number"] for r in demo.remote_invoices()}
    demo.api("PUT", f"/_control/accounts/{demo.account_id}/faults",
             {"faults": {"rate_limit": {"requests": 6, "per_seconds": 2}}})

    app.goto(f"{demo.url}/invoices/")
    numbers = ["LD-0001", "LD-0002", "LD-0004"]
    for number in numbers:
        app.get_by_label(f"Select {number}").check()
    screenshot("bulk-select")
    app.get_by_role("button", name="Send to B2Brouter").click()

    # The confirmation: count, recipients and total per currency, before anything leaves.
    expect(app.get_by_role("heading", name="Send to B2Brouter")).to_be_visible()
    expect(app.locator(".b2b-bulk-count")).to_contain_text("3 invoices will be processed")
    expect(app.locator(".b2b-bulk-totals li")).not_to_have_count(0)
    screenshot("bulk-confirm")
    assert {r["number"] for r in demo.remote_invoices()} == before
    app.get_by_role("button", name="Confirm: 3 invoices").click()

    # Queued: the page polls (htmx) and shows 0 % until a worker takes the run.
    progress = app.locator("#bulk-progress")
    expect(progress).to_have_attribute("data-status", "queued")
    expect(app.locator("progress")).to_have_attribute("max", "3")
    worker = work_queue()
    expect(progress).to_have_attribute("data-status", "done")
    expect(app.locator(".b2b-bulk-percent")).to_have_text("100 %")
    expect(app.locator("progress")).to_have_attribute("value", "3")
    rows = app.locator("table.b2b-bulk-items tbody tr")
    expect(rows).to_have_count(3)
    for number in numbers:
        expect(app.locator(f'tr[data-invoice="{number}"] td').nth(2)).not_to_have_text("Waiting")
    screenshot("bulk-done")
    worker.join(timeout=60)

    run = BulkRun.objects.get()
    outcomes = dict(run.items.values_list("invoice__number", "outcome"))
    sent = [n for n, outcome in outcomes.items() if outcome == BulkOutcome.SENT]
    assert sent, list(run.items.values_list("invoice__number", "outcome", "message"))
    for number, outcome in outcomes.items():
        row = app.locator(f'tr[data-invoice="{number}"]')
        expect(row).to_have_class(f"outcome-{outcome}")
    assert run.rate_limited >= 1 and run.paused_seconds > 0
    expect(progress).to_contain_text("B2Brouter asked to slow down")
    demo.api("PUT", f"/_control/accounts/{demo.account_id}/faults", {"faults": {}})  # the checks below may read
    remote = sorted(r["number"] for r in demo.remote_invoices())
    for number in numbers:
        assert remote.count(number) <= 1, (number, remote)
        if InvoiceLink.objects.filter(invoice__number=number).exists():
            assert remote.count(number) == 1, (number, remote, outcomes)

    # Again, for the same invoices: those linked are left out of the confirmation; nothing is duplicated.
    app.goto(f"{demo.url}/invoices/")
    for number in numbers:
        app.get_by_label(f"Select {number}").check()
    app.get_by_role("button", name="Send to B2Brouter").click()
    if app.get_by_role("button", name="Confirm", exact=False).count():
        app.get_by_role("button", name="Confirm", exact=False).click()
        worker = work_queue()
        expect(app.locator("#bulk-progress")).to_have_attribute("data-status", "done")
        worker.join(timeout=60)
    else:
        expect(app.get_by_text("None of the chosen invoices can be sent")).to_be_visible()
    assert sorted(r["number"] for r in demo.remote_invoices()) == remote
