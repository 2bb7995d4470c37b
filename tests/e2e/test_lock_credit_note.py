"""Issued means locked, credit notes and uncertain outcomes, walked in a browser (README step 11).

Same set-up as ``test_demo_walkthrough``: both demo seeds, the app reaching the simulator over
real HTTP on pytest-django's live server, a browser logged in as demo / demo.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from b2binvoice.invoices.models import Invoice, InvoiceChange
from tests.e2e.test_demo_walkthrough import (  # noqa: F401  (fixtures used by name)
    Demo,
    app,
    check,
    confirm_create,
    connected,
    demo,
    expect_figures,
    section,
    sim_over_http,
)

expect.set_options(timeout=10_000)


def create_and_send(page: Page, demo: Demo, number: str) -> dict[str, Any]:
    """Create the invoice in B2Brouter from its page (sent at once: the demo sends after create)."""
    page.goto(demo.invoice_page(number))
    section(page).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(page)
    expect(section(page).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")
    [remote] = [r for r in demo.remote_invoices() if r["number"] == number]
    return remote


def advance(demo: Demo, remote_id: int, steps: int) -> None:
    """Move the simulated recipient on (sending -> sent -> accepted)."""
    for _ in range(steps):
        httpx.post(f"{demo.sim_url}/_control/invoices/{remote_id}/advance", timeout=10).raise_for_status()


# --- Issued means locked ------------------------------------------------------------------------


def test_a_sent_invoice_is_locked_offers_a_credit_note_and_records_its_history(
        app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    remote = create_and_send(app, demo, "LD-0002")
    advance(demo, remote["id"], 2)
    section(app).get_by_role("button", name="Refresh").click()
    expect(section(app).locator("dl.b2b-facts .b2b-badge")).to_have_text("accepted")

    # The invoice page: locked, no Delete, the correction offered.
    app.reload()
    notice = app.locator(".lock-notice")
    expect(notice).to_contain_text("Locked — Invoice LD-0002 was sent through B2Brouter (state: accepted)")
    expect(app.get_by_role("link", name="Delete draft")).to_have_count(0)
    expect(app.get_by_role("link", name="Change status or notes")).to_be_visible()
    expect(app.get_by_role("link", name="Edit", exact=True)).to_have_count(0)

    # The edit page says why, shows the fixed content and offers only what may still change.
    app.get_by_role("link", name="Change status or notes").click()
    expect(app.get_by_role("heading", name="Edit invoice LD-0002")).to_be_visible()
    notice = app.locator(".lock-notice")
    expect(notice).to_contain_text("Locked — Invoice LD-0002 was sent through B2Brouter (state: accepted): its "
                                   "content is fixed and only its payment status can change.")
    expect(notice).to_contain_text("It can only be corrected by a credit note.")
    expect(notice.get_by_role("link", name="Create credit note")).to_be_visible()
    expect(app.get_by_role("heading", name="Fixed content")).to_be_visible()
    expect(app.locator("table.lines tbody tr")).to_have_count(2)
    for fixed in ("Number", "Issue date", "Quantity", "Unit price"):
        expect(app.get_by_label(fixed, exact=True)).to_have_count(0)
    expect(app.get_by_label("Status")).to_be_visible()
    screenshot("invoice-locked")

    # The one change left (the payment status) is saved and shows in the History section.
    app.get_by_label("Status").select_option("paid")
    app.get_by_role("button", name="Save").click()
    expect(app).to_have_url(demo.invoice_page("LD-0002"))
    expect(app.locator("h1 .status")).to_have_text("Paid")
    history = app.locator("#history")
    expect(history.get_by_role("heading", name="History")).to_be_visible()
    status_row = history.locator("tbody tr.history-status").first
    expect(status_row).to_contain_text("demo")
    expect(status_row).to_contain_text("Status changed")
    expect(status_row).to_contain_text("Paid")
    invoice = Invoice.objects.get(number="LD-0002")
    assert invoice.status == "paid"
    assert InvoiceChange.objects.filter(invoice=invoice, action="status", user__username="demo").exists()

    # The delete address, typed by hand, says why not; a hand-made POST is refused and recorded.
    delete_url = f"{demo.invoice_page('LD-0002')}delete/"
    response = app.goto(delete_url)
    assert response is not None and response.status == 403
    expect(app.get_by_role("alert")).to_be_visible()
    expect(app.get_by_role("button", name=re.compile("Delete"))).to_have_count(0)
    [csrf] = [c["value"] for c in app.context.cookies() if c["name"] == "csrftoken"]
    posted = app.request.post(delete_url, headers={"X-CSRFToken": csrf, "Referer": delete_url})
    assert posted.status == 403
    app.goto(demo.invoice_page("LD-0002"))
    expect(app.locator("#history tbody tr.history-delete_refused")).to_contain_text("Deletion refused")
    assert Invoice.objects.filter(number="LD-0002").exists()


# --- A credit note round trip -------------------------------------------------------------------


def test_a_partial_credit_note_round_trip(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    remote = create_and_send(app, demo, "LD-0002")
    advance(demo, remote["id"], 2)
    section(app).get_by_role("button", name="Refresh").click()
    expect(section(app).locator("dl.b2b-facts .b2b-badge")).to_have_text("accepted")
    app.reload()

    app.locator(".lock-notice").get_by_role("link", name="Create credit note").click()
    expect(app.get_by_role("heading", name="Credit note for invoice LD-0002")).to_be_visible()
    expect(app.locator("main, body").first).to_contain_text("Left to credit: 545.11 EUR")
    app.get_by_label("Reason code").select_option("R4")
    app.get_by_label("Reason", exact=True).fill("Two hours of proofreading were not done.")
    app.get_by_label("Only the lines and quantities below (partial credit note)").check()
    lines = app.locator("table.credit-lines tbody tr")
    lines.filter(has_text="Translation FR>ES").locator("input").fill("0")
    lines.filter(has_text="Proofreading").locator("input").fill("2")
    app.get_by_role("button", name="Create credit note").click()

    # A draft of its own series, referencing the original.
    note = Invoice.objects.get(corrected_invoice__number="LD-0002")
    assert note.number == "LD-R-0001"
    expect(app).to_have_url(demo.invoice_page("LD-R-0001"))
    expect(app.get_by_role("heading", name=re.compile(r"^Credit note LD-R-0001"))).to_be_visible()
    corrects = app.locator("section.corrects")
    expect(corrects).to_contain_text("Corrects invoice LD-0002 of 2026-11-04.")
    expect(corrects).to_contain_text("R4 – Other causes")
    expect(corrects).to_contain_text("Two hours of proofreading were not done.")
    expect(app.locator("table.lines tbody tr")).to_have_count(1)
    expect(app.locator("table.lines tbody tr")).to_contain_text("Proofreading")
    expect(app.locator("table.totals tr.total")).to_contain_text("-84.70 EUR")

    # Pushed to B2Brouter through its section, like any invoice: the figures match.
    for key in ("integration", "settings", "contact", "tax", "lines"):
        expect(check(app, key)).to_have_class("ok")
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(app)
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")
    expect_figures(app, {"Tax-exclusive amount": "-70.00", "Taxes": "-14.70", "Total": "-84.70"})
    expect(section(app).locator("dl.b2b-facts")).to_contain_text("LD-R-0001")
    app.reload()  # the section was swapped in place; the page head shows the status the send set
    expect(app.locator("h1 .status")).to_have_text("Issued")
    expect(app.locator(".lock-notice")).to_contain_text("Locked")
    expect_figures(app, {"Tax-exclusive amount": "-70.00", "Taxes": "-14.70", "Total": "-84.70"})
    screenshot("credit-note-created")
    [pushed] = [r for r in demo.remote_invoices() if r["number"] == "LD-R-0001"]
    detail = demo.api("GET", f"/invoices/{pushed['id']}")["invoice"]
    assert detail["total"] == "-84.70"
    assert detail.get("is_credit_note") is True, detail
    assert detail.get("amend_reason") == "R4", detail

    # The original lists it and the net amount still due: 545.11 - 84.70.
    app.locator("section.corrects").get_by_role("link", name="LD-0002").click()
    expect(app).to_have_url(demo.invoice_page("LD-0002"))
    credits = app.locator("#credit-notes")
    row = credits.locator("tbody tr").first
    expect(credits.locator("table.list tbody tr")).to_have_count(1)
    expect(row).to_contain_text("LD-R-0001")
    expect(row).to_contain_text("-84.70 EUR")
    expect(row).to_contain_text("Issued")
    expect(credits.locator("tr.net-due")).to_contain_text("460.41 EUR")
    expect(app.locator("#history tbody tr.history-credited")).to_contain_text("LD-R-0001")
    app.locator("#credit-notes").scroll_into_view_if_needed()
    screenshot("credit-note-on-original")


# --- An outcome B2Brouter has not confirmed -----------------------------------------------------


def test_an_unconfirmed_create_is_checked_then_shows_the_linked_invoice(
        app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    faults = httpx.put(f"{demo.sim_url}/_control/accounts/{demo.account_id}/faults", timeout=10,
                       headers={"X-B2B-API-Key": demo.api_key},
                       json={"apply_later_rate": 1, "apply_later_operations": ["create"], "apply_later_delay": 3600,
                             "no_answer_mode": "drop"})
    assert faults.status_code == 200, faults.text

    app.goto(demo.invoice_page("LD-0008"))
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(app)
    attempt = section(app).locator('[data-attempt="create"]')
    expect(attempt).to_contain_text("B2Brouter has not confirmed the outcome yet; we are checking.")
    expect(attempt).to_have_attribute("data-uncertain", "true")
    expect(attempt).to_contain_text("create invoice LD-0008")
    expect(section(app).get_by_text("it was not created")).to_have_count(0)
    expect(section(app).get_by_role("button", name="Create B2Brouter invoice")).to_have_count(0)
    screenshot("invoice-outcome-checking")
    assert not [r for r in demo.remote_invoices() if r["number"] == "LD-0008"]

    # B2Brouter applies the held-back create (the delay is over); Check B2Brouter finds it.
    applied = httpx.post(f"{demo.sim_url}/_control/accounts/{demo.account_id}/deferred/apply", timeout=10,
                         headers={"X-B2B-API-Key": demo.api_key})
    assert applied.status_code == 200, applied.text
    [done] = applied.json()["deferred"]
    assert done["status"] == "applied" and done["result"]["number"] == "LD-0008", done
    section(app).get_by_role("button", name="Check B2Brouter").click()
    facts = section(app).locator("dl.b2b-facts")
    expect(facts).to_contain_text(f"#{done['result']['invoice_id']}")
    expect(facts).to_contain_text("LD-0008")
    expect(section(app).locator("table.b2b-compare")).to_have_attribute("data-equal", "true")
    expect(section(app).locator('[data-attempt="create"]')).to_have_count(0)
    assert [r["id"] for r in demo.remote_invoices() if r["number"] == "LD-0008"] == [done["result"]["invoice_id"]]
