"""Our PDF and payments, walked in a browser (README step 14): download, partial payment, paid in B2Brouter."""

from __future__ import annotations

import io
from typing import Any

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from b2binvoice.invoices.models import Invoice
from tests.e2e.test_demo_walkthrough import (  # noqa: F401  (fixtures used by name)
    Demo,
    app,
    connected,
    demo,
    sim_over_http,
)
from tests.e2e.test_lock_credit_note import create_and_send

expect.set_options(timeout=10_000)


def test_a_sent_invoice_is_paid_in_two_payments_and_marked_paid_in_b2brouter(
        app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    errors: list[str] = []
    app.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    remote = create_and_send(app, demo, "LD-0002")
    app.reload()

    # Download PDF answers our PDF, named after the invoice.
    with app.expect_download() as download:
        app.locator(".page-head").get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == "invoice-LD-0002.pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(open(download.value.path(), "rb").read())).pages)
    assert "LD-0002" in text and "Page 1 of 1" in text.replace("\xa0", " ")

    payments = app.locator("#payments")
    amount = payments.get_by_label("Amount")
    expect(amount).to_have_value("545.11")
    amount.fill("600")
    payments.get_by_role("button", name="Record payment").click()
    expect(app.locator("#payments .error")).to_contain_text("more than what is due (545.11 EUR)")
    expect(app.locator("#payments").get_by_label("Amount")).to_have_value("600")

    app.locator("#payments").get_by_label("Amount").fill("45.11")
    app.locator("#payments").get_by_role("button", name="Record payment").click()
    expect(app.locator(".messages")).to_contain_text("Payment of 45.11 EUR recorded.")
    expect(app.locator("#payments tr.amount-due")).to_contain_text("500.00 EUR")

    app.locator("#payments").get_by_role("button", name="Record payment").click()  # the 500.00 left
    expect(app.locator(".messages")).to_contain_text(f"B2Brouter invoice #{remote['id']} is marked paid.")
    expect(app.locator("h1 .status")).to_have_text("Paid")
    expect(app.locator("#payments tr.amount-due")).to_contain_text("0.00 EUR")
    assert demo.api("GET", f"/invoices/{remote['id']}")["invoice"]["state"] == "paid"
    assert Invoice.objects.get(number="LD-0002").payments.count() == 2
    screenshot("invoice-payments")
    assert not errors, errors
