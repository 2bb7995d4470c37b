"""The integration's health panel walked in a browser: what needs a look, the quota, Sync now.

An invoice is created and sent from its page; B2Brouter leaves it in ``sending``. With the "stuck"
threshold at zero the panel lists it, with a link to the invoice. The recipient then accepts it in
B2Brouter; "Sync now" queues a pass, the database worker runs it, and the panel shows the pass, the
quota B2Brouter reports and an empty "stuck" list.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from b2binvoice.einvoicing.models import SyncPass
from tests.e2e.test_bulk_push import _worker_in_a_thread, work_queue  # noqa: F401 (fixture)
from tests.e2e.test_demo_walkthrough import (  # noqa: F401 (fixtures)
    Demo,
    app,
    confirm_create,
    connected,
    demo,
    section,
    sim_over_http,
)

expect.set_options(timeout=30_000)

INTEGRATION = "/settings/integrations/b2brouter/"


@pytest.mark.django_db(transaction=True)
def test_health_panel_lists_what_needs_a_look_and_sync_now_updates_it(app: Page, connected: Demo, settings: Any,
                                                                      screenshot: Any) -> None:
    demo = connected
    settings.B2BROUTER_STUCK_AFTER = 0  # any invoice in "sending" counts as stuck
    app.goto(demo.invoice_page("LD-0002"))
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(app)
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("it was sent.")
    [remote] = [r for r in demo.remote_invoices() if r["number"] == "LD-0002"]

    app.goto(f"{demo.url}{INTEGRATION}")
    health = app.locator("#health")
    expect(health.get_by_role("heading", name="Health")).to_be_visible()
    expect(health.locator('[data-fact="webhook"]')).to_have_text("never")
    stuck = health.locator('.b2b-health-list[data-kind="stuck"]')
    expect(stuck.locator(".b2b-count")).to_have_text("1")
    expect(stuck.get_by_role("link", name="LD-0002")).to_be_visible()
    expect(health.locator('.b2b-health-list[data-kind="failed"] .b2b-count')).to_have_text("0")
    expect(health.locator('[data-fact="quota"]')).to_have_text(re.compile(r"\d+ of \d+ used"))
    screenshot("health-stuck")

    # The recipient accepts it in B2Brouter; Sync now reads the change.
    for _ in range(2):
        httpx.post(f"{demo.sim_url}/_control/invoices/{remote['id']}/advance", timeout=10).raise_for_status()
    health.get_by_role("button", name="Sync now").click()
    expect(app.locator(".b2b-flash-success, .b2b-flash-info").first).to_be_visible()
    work_queue().join(timeout=60)
    assert SyncPass.objects.filter(trigger="manual", finished_at__isnull=False).exists()
    app.reload()
    health = app.locator("#health")
    expect(health.locator('[data-fact="sync"]')).to_contain_text("(Sync now)")
    expect(health.locator('[data-fact="sync"]')).to_contain_text(re.compile(r"\d+ changed in B2Brouter, 1 updated here"))
    expect(health.locator('.b2b-health-list[data-kind="stuck"] .b2b-count')).to_have_text("0")
    # The send counted against the account's quota: the panel shows B2Brouter's figure, not a stale 0.
    used = demo.api("GET", f"/accounts/{demo.account_id}")["account"]["transactions_count"]
    assert used >= 1
    expect(health.locator('[data-fact="quota"]')).to_contain_text(f"{used} of 1000 used")
    screenshot("health-synced")

    # The link in the panel led to the invoice, which now shows the accepted state.
    app.goto(demo.invoice_page("LD-0002"))
    expect(section(app).locator("dl.b2b-facts .b2b-badge")).to_have_text("accepted")
