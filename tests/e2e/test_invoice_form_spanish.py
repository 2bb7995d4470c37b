"""The invoice form in Spanish, in a browser: decimal commas, the running total, the client search, saving."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from playwright.sync_api import Page, expect

from b2binvoice.clients.models import Client
from b2binvoice.invoices.models import Invoice
from tests.e2e.test_demo_walkthrough import Demo, app, demo, sim_over_http  # noqa: F401  (fixtures used by name)

expect.set_options(timeout=10_000)


def test_typing_45_50_in_spanish_updates_the_running_total_and_saves_it(app: Page, demo: Demo, screenshot: Any) -> None:
    page = app
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    # Spanish, as the language switcher or a browser set to es-ES would ask for it.
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "es", "url": demo.url}])
    page.goto(f"{demo.url}/invoices/new/")

    # The client search narrows the select to the matching clients; choosing one works by keyboard.
    search = page.locator("#client-search")
    expect(search).to_be_visible()
    search.fill("nordl")
    client = page.locator("#id_client")
    expect(client.locator("option[value]:not([value=''])")).to_have_count(1)
    search.press("Enter")  # moves to the list, does not submit the form
    expect(client).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(client).to_have_value(str(Client.objects.get(name="Nordlicht Übersetzungen GmbH").pk))
    # Still on the form: Enter in the search did not submit it.
    expect(page).to_have_url(re.compile(r"/invoices/new/$"))

    page.locator("#id_lines-0-description").fill("Traducción DE>ES")
    page.locator("#id_lines-0-quantity").fill("1")
    page.locator("#id_lines-0-unit_price").press_sequentially("45,50")
    running = page.locator("#running-total")
    expect(running.locator('[data-total="subtotal"]')).to_have_text(re.compile(r"^45,50\s€$"))

    # A number written the English way is left out with a hint, not an error page.
    page.locator("#id_lines-1-description").fill("Revisión")
    page.locator("#id_lines-1-quantity").fill("1")
    page.locator("#id_lines-1-unit_price").fill("10.5")
    expect(running.locator(".running-hints li")).to_have_count(1)
    expect(running.locator('[data-total="subtotal"]')).to_have_text(re.compile(r"^45,50\s€$"))
    page.locator("#id_lines-1-unit_price").fill("1.000,5")
    expect(running.locator('[data-total="subtotal"]')).to_have_text(re.compile(r"^1\.046,00\s€$"))
    expect(running.locator(".running-hints li")).to_have_count(0)
    screenshot("invoice-form-spanish")

    page.locator("form.invoice-form button[type=submit].primary").click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+/$"))
    invoice = Invoice.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert [str(line.unit_price) for line in invoice.lines.all()] == ["45.500000", "1000.500000"]
    lines = page.locator("table.lines")
    expect(lines).to_contain_text("45,5")
    expect(lines.locator("tbody tr").first.locator("td").last).to_have_text("45,50")
    expect(page.locator("table.totals .subtotal td")).to_have_text("1.046,00")
    assert blocked == []
