"""Verifactu records in a browser: registered and printed on our PDF; rejected, corrected once, cancelled once."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.app.test_einvoicing_tax_records import pdf_text, qr_codes
from tests.e2e.test_demo_walkthrough import (  # noqa: F401 (fixtures)
    Demo,
    app,
    confirm_create,
    connected,
    demo,
    section,
    sim_over_http,
)


def verifactu_on(demo: Demo) -> None:
    """Switch Verifactu on for the account from the start of the year (the integration page's test does it by hand)."""
    demo.api("POST", f"/accounts/{demo.account_id}/tax_report_settings",
             {"tax_report_setting": {"code": "verifactu", "start_date": "2026-01-01"}})


def records(demo: Demo) -> list[dict[str, Any]]:
    return demo.api("GET", f"/accounts/{demo.account_id}/tax_reports")["tax_reports"]


def advance(demo: Demo, report_id: int) -> None:
    """The simulated AEAT answers now (the task queue would, later)."""
    httpx.post(f"{demo.sim_url}/_control/tax_reports/{report_id}/advance", timeout=10).raise_for_status()


def create_and_send(app: Page, demo: Demo, number: str) -> None:
    app.goto(demo.invoice_page(number))
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(app)
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")


def record_block(app: Page) -> Any:
    return section(app).locator("#tax-record")


def refresh(app: Page) -> None:
    section(app).get_by_role("button", name="Refresh").click()
    expect(section(app).get_by_role("status")).to_contain_text("Refreshed")


def test_issued_invoice_gets_a_registered_record_and_our_pdf_prints_its_qr(
        app: Page, connected: Demo, screenshot: Any, tmp_path: Any) -> None:
    demo = connected
    verifactu_on(demo)
    create_and_send(app, demo, "LD-0002")
    block = record_block(app)
    expect(block.get_by_role("heading", name="Verifactu record")).to_be_visible()
    expect(block.locator(".b2b-badge")).to_have_text("Being registered")
    [record] = records(demo)

    advance(demo, record["id"])
    refresh(app)
    expect(block.locator(".b2b-badge")).to_have_text("Registered")
    identifier = block.locator("a.b2b-tax-identifier")
    expect(identifier).to_have_attribute("href", re.compile(r"^https://prewww2\.aeat\.es/wlpl/TIKE-CONT/ValidarQR\?nif="))
    url = identifier.get_attribute("href")
    assert url == records(demo)[0]["identifier"]
    expect(block).to_contain_text("The tax agency registered this invoice.")
    expect(block.get_by_role("button", name="Send the correction")).to_have_count(0)
    screenshot("verifactu-record-registered")

    # Our own PDF, downloaded as a user does: the QR code reads back as AEAT's URL, with the legend.
    with app.expect_download() as download:
        app.locator('a[href$="/pdf/"]:not([href*="/b2brouter/"])', has_text="Download PDF").click()
    path = tmp_path / "invoice.pdf"
    download.value.save_as(path)
    content = path.read_bytes()
    [qr] = qr_codes(content)
    assert qr["text"] == url and qr["page"] == 1 and 30 <= qr["width_mm"] <= 40
    assert "VERI*FACTU" in pdf_text(content)

    # The list marks the record's state.
    app.get_by_role("link", name="Invoices", exact=True).first.click()
    row = app.locator("table.invoices tbody tr").filter(has_text="LD-0002")
    expect(row.locator(".b2b-tax-badge")).to_have_text("Verifactu: Registered")


def test_a_rejected_record_is_corrected_once_then_cancelled(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    verifactu_on(demo)
    demo.api("PUT", f"/_control/accounts/{demo.account_id}/faults",
             {"aeat_reject_rate": 1, "aeat_reject_code": "1106",
              "aeat_reject_message": "El NIF del destinatario no está identificado en el censo de la AEAT"})
    create_and_send(app, demo, "LD-0002")
    [record] = records(demo)
    advance(demo, record["id"])
    refresh(app)
    block = record_block(app)
    expect(block.locator(".b2b-badge")).to_have_text("Rejected")
    errors = block.locator("[data-tax-errors]")
    expect(errors).to_contain_text("The tax agency rejected the record.")
    expect(errors).to_contain_text("The client's tax id is not registered with AEAT")
    expect(errors.locator(".b2b-remote")).to_have_text("1106: El NIF del destinatario no está identificado en el censo de la AEAT")
    expect(block.get_by_text("Cancel the record (anulación)…")).to_have_count(0)
    screenshot("verifactu-record-rejected")

    # The list's "records needing action" filter finds it, and only it.
    app.get_by_role("link", name="Invoices", exact=True).first.click()
    app.get_by_label("Verifactu/TicketBAI records needing action").check()
    app.get_by_role("button", name="Filter").click()
    rows = app.locator("table.invoices tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("LD-0002")
    expect(rows.first.locator(".b2b-tax-badge")).to_have_text("Verifactu: Rejected")
    rows.first.get_by_role("link", name="LD-0002").click()

    # The user has the client's tax id sorted out with AEAT; one correction is sent, and only one.
    demo.api("PUT", f"/_control/accounts/{demo.account_id}/faults", {"aeat_reject_rate": 0})
    block = record_block(app)
    block.get_by_role("button", name="Send the correction").click()
    expect(section(app).get_by_role("status")).to_contain_text("The correction was sent")
    expect(block.get_by_role("button", name="Send the correction")).to_have_count(0)
    expect(block.get_by_role("button", name="Correction being registered…")).to_be_disabled()
    screenshot("verifactu-correction-sent")
    assert [r["correction"] for r in records(demo)] == [False, True]

    advance(demo, records(demo)[1]["id"])
    refresh(app)
    expect(block.locator(".b2b-badge")).to_have_text("Registered")

    # Cancelling is for an invoice issued by mistake: explained, confirmed, then gone.
    block.get_by_text("Cancel the record (anulación)…").click()
    expect(block.locator(".b2b-tax-cancel")).to_contain_text("Only for an invoice issued by mistake")
    block.get_by_label("This invoice was issued by mistake: cancel its record with the tax agency.").check()
    screenshot("verifactu-cancel-confirm")
    block.get_by_role("button", name="Cancel the record").click()
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("The cancellation was sent")
    cancellation = records(demo)[2]
    assert cancellation["annullation"] is True
    advance(demo, cancellation["id"])
    refresh(app)
    block = record_block(app)
    expect(block.locator(".b2b-badge")).to_have_text("Cancelled")
    expect(block).to_contain_text("The record was cancelled (anulación)")
    expect(block.get_by_text("Cancel the record (anulación)…")).to_have_count(0)
    expect(block.get_by_role("button", name="Send the correction")).to_have_count(0)
    screenshot("verifactu-record-cancelled")
    assert len(records(demo)) == 3
