"""Verifactu switched on from the integration page in a browser: status loaded by htmx, confirmation, result."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.test_demo_walkthrough import (  # noqa: F401 (fixtures)
    Demo,
    app,
    connected,
    demo,
    sim_over_http,
)


def test_switch_verifactu_on_after_confirming(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    app.goto(f"{demo.url}/settings/integrations/b2brouter/")
    panel = app.locator("section#tax-reporting")
    expect(panel).to_have_attribute("data-status", "off")  # loaded by htmx from B2Brouter's answer
    expect(panel).to_contain_text("Verifactu is not on for this B2Brouter account.")
    screenshot("verifactu-off")

    panel.get_by_role("link", name="Switch on Verifactu or TicketBAI…").click()
    expect(app.get_by_role("heading", name="Switch on Verifactu or TicketBAI")).to_be_visible()
    expect(app.locator('[data-confirm="tax-reporting"]')).to_contain_text(
        "stays on for the rest of the calendar year")
    today = timezone.localdate().isoformat()
    app.get_by_label("From", exact=True).fill(today)
    app.get_by_role("button", name="Switch it on").click()
    expect(app.locator(".errorlist")).to_contain_text("Tick the confirmation to switch it on.")
    assert demo.api("GET", f"/accounts/{demo.account_id}/tax_report_settings")["tax_report_settings"] == []

    app.get_by_label("I understand").check()
    screenshot("verifactu-confirm")
    app.get_by_role("button", name="Switch it on").click()
    expect(app.locator(".b2b-flash-success")).to_contain_text(
        f"Verifactu (AEAT) is on: B2Brouter registers every invoice you send from {today}")
    panel = app.locator("section#tax-reporting")
    expect(panel).to_have_attribute("data-status", "on")
    expect(panel).to_contain_text(f"Verifactu (AEAT) is on since {today}.")
    expect(panel.get_by_role("link", name="Switch on Verifactu or TicketBAI…")).to_have_count(0)
    screenshot("verifactu-on")
    [setting] = demo.api("GET", f"/accounts/{demo.account_id}/tax_report_settings")["tax_report_settings"]
    assert (setting["code"], setting["start_date"]) == ("verifactu", today)

    # The account's default codes: shown on the panel, changed from AEAT's lists.
    expect(panel.locator('[data-code-field="special_regime_key"]')).to_contain_text("01 – General regime")
    panel.get_by_role("link", name="Change the default codes…").click()
    expect(app.get_by_role("heading", name="Default codes of Verifactu (AEAT)")).to_be_visible()
    app.get_by_label("Special regime key (VAT)").select_option("18")
    app.get_by_label("Default exemption code").select_option("E5")
    screenshot("verifactu-default-codes")
    app.get_by_role("button", name="Save the default codes").click()
    expect(app.locator(".b2b-flash-success")).to_contain_text("The default codes of Verifactu (AEAT) are saved")
    panel = app.locator("section#tax-reporting")
    expect(panel.locator('[data-code-field="special_regime_key"]')).to_contain_text("18 – Equivalence surcharge")
    expect(panel.locator('[data-code-field="reason_vat_exempt"]')).to_contain_text("E5 – Exempt under art. 25 LIVA")
    [setting] = demo.api("GET", f"/accounts/{demo.account_id}/tax_report_settings")["tax_report_settings"]
    assert (setting["special_regime_key"], setting["reason_vat_exempt"]) == ("18", "E5")
