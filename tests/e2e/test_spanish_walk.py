"""An invoice created, pushed to B2Brouter, paid and printed entirely in Spanish, walked in a browser.

The user switches to Spanish with the header's switcher, types amounts with decimal commas
("1,5", "1.234,56"), sends the invoice through B2Brouter (the simulator, over HTTP), records the
payment typed the Spanish way and reads the PDF back. Every label the test looks for comes from the
Spanish catalogue (``gettext`` under ``es``), and each is checked to differ from the English, so an
untranslated string fails the walk instead of passing in English.

Same set-up as ``test_demo_walkthrough``: the two demo seeds, the app reaching the simulator over
real HTTP on the live server, a browser logged in as demo / demo.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

from django.utils import translation
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from b2binvoice.clients.models import Client
from b2binvoice.core.models import UserPreference
from b2binvoice.invoices.models import Invoice
from tests.e2e.test_demo_walkthrough import (  # noqa: F401  (fixtures used by name)
    Demo,
    app,
    check,
    connected,
    demo,
    section,
    sim_over_http,
)

expect.set_options(timeout=10_000)

BABEL = "Agencia Babel Madrid S.A."  # a Spanish client (language es, IVA 21 %), not yet a B2Brouter contact


def es(english: str, **values: Any) -> str:
    """The Spanish of ``english`` from the catalogue, failing when the catalogue has none."""
    with translation.override("es"):
        spanish = translation.gettext(english)
    assert spanish != english, f"no Spanish translation for {english!r}"
    return spanish % values if values else spanish


def no_english(page: Page, *labels: str) -> None:
    """Assert that none of these English labels shows on the page (no fallback to English)."""
    for label in labels:
        expect(page.get_by_text(label, exact=True)).to_have_count(0)


def test_an_invoice_created_sent_paid_and_printed_in_spanish(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    page = app
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)

    # The header's switcher: the page comes back in Spanish, and the choice is saved with the user.
    # Its script is deferred: wait for the page's load event so the listener is there to hear it.
    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.locator("#switch-language").select_option("es")
    expect(page.locator("h1")).to_have_text(es("Invoices"))
    assert UserPreference.objects.get(user__username="demo").language == "es"

    # The home page, in Spanish: what is owed, with Spanish figures.
    page.get_by_role("link", name="b2binvoice").click()
    expect(page.locator(".page-head h1")).to_have_text("Lingua Demo S.L.")
    expect(page.get_by_text(es("Due"), exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=es("Needs attention"))).to_be_visible()
    expect(page.get_by_role("heading", name=es("Invoiced in the last 12 months"))).to_be_visible()
    no_english(page, "Due", "Overdue", "Needs attention", "New invoice")
    screenshot("es-home")

    # A new invoice, typed the Spanish way.
    page.locator(".page-head").get_by_role("link", name=es("New invoice")).click()
    expect(page.locator("h1")).to_have_text(es("New invoice"))
    expect(page.get_by_role("heading", name=es("Lines"))).to_be_visible()
    expect(page.get_by_role("heading", name=es("Total so far"))).to_be_visible()
    expect(page.locator("#running-total")).to_contain_text(es("Type the lines to see the total."))
    search = page.locator("#client-search")
    expect(search).to_have_attribute("placeholder", es("Search by name, tax id or city"))
    search.fill("babel")
    client = page.locator("#id_client")
    expect(client.locator("option[value]:not([value=''])")).to_have_count(1)
    client.select_option(label=BABEL)
    page.locator("#id_lines-0-description").fill("Traducción jurada, escrituras")
    page.locator("#id_lines-0-quantity").fill("1,5")
    page.locator("#id_lines-0-unit_price").press_sequentially("1.234,56")

    # The running total, in Spanish format: 1,5 x 1.234,56 = 1.851,84; IVA 21 % 388,89; total 2.240,73.
    running = page.locator("#running-total")
    expect(running.locator('[data-total="subtotal"]')).to_have_text(re.compile(r"^1\.851,84\s€$"))
    expect(running.locator('[data-total="base"]')).to_have_text(re.compile(r"^1\.851,84\s€$"))
    expect(running.locator("tr.tax")).to_have_text(re.compile(r"IVA.*388,89\s€"))
    expect(running.locator('[data-total="total"]')).to_have_text(re.compile(r"^2\.240,73\s€$"))
    expect(running.get_by_role("rowheader", name=es("Tax-exclusive amount"))).to_be_visible()
    expect(running.locator(".running-hints li")).to_have_count(0)
    no_english(page, "Lines", "Description", "Quantity", "Unit price", "Save invoice", "Tax-exclusive amount")
    screenshot("es-invoice-form")

    page.get_by_role("button", name=es("Save invoice")).click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+/$"))
    invoice = Invoice.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    number = invoice.number
    line = invoice.lines.get()
    assert (line.quantity, line.unit_price) == (Decimal("1.5"), Decimal("1234.56"))
    expect(page.locator(".messages")).to_contain_text(es("Invoice %(number)s saved.", number=number))
    expect(page.locator("table.totals .subtotal td")).to_have_text("1.851,84")
    expect(page.locator("table.totals tr.total").first).to_contain_text("2.240,73")

    # B2Brouter: Agencia Babel is not a contact yet; it is created from the client, then the invoice.
    expect(section(page).get_by_role("button", name=es("Create B2Brouter invoice"))).to_be_disabled()
    check(page, "contact").get_by_role("button", name=es("Create contact in B2Brouter from this client")).click()
    expect(check(page, "contact")).to_have_class("ok")
    create = section(page).get_by_role("button", name=es("Create B2Brouter invoice"))
    expect(create).to_be_enabled()
    no_english(page, "Create B2Brouter invoice", "Download PDF", "Record payment", "Amount due", "Payments")
    screenshot("es-invoice-b2brouter")

    # The confirmation names the recipient and the total, in Spanish; confirming creates and sends it.
    create.click()
    confirmation = section(page).locator(".b2b-outgoing")
    expect(confirmation.get_by_role("heading", name=es("Create invoice %(number)s in B2Brouter?", number=number))
           ).to_be_visible()
    contact_id = Client.objects.get(name=BABEL).b2brouter_contact_id
    expect(confirmation.locator('[data-field="recipient"]')).to_contain_text(BABEL)
    expect(confirmation.locator('[data-field="recipient"]')).to_contain_text(f"#{contact_id}")
    expect(confirmation.locator('[data-field="total"]')).to_contain_text("2.240,73")
    section(page).get_by_role("button", name=es("Confirm: create and send")).click()
    flash = section(page).locator(".b2b-flash-success")
    expect(flash).to_be_visible()
    [remote] = [r for r in demo.remote_invoices() if r["number"] == number]
    expect(flash).to_have_text(es("%(how)s as B2Brouter invoice #%(id)s; totals match and it was sent.",
                                  how=es("Created"), id=remote["id"]))
    assert remote["contact_id"] == contact_id and remote["total"] == "2240.73"
    no_english(page, "totals match and it was sent.")

    # The full amount, typed with a decimal comma: the invoice is paid here and in B2Brouter.
    page.reload()
    payments = page.locator("#payments")
    expect(payments.get_by_role("heading", name=es("Payments"))).to_be_visible()
    expect(payments.locator("tr.amount-due")).to_contain_text("2.240,73 EUR")
    amount = payments.get_by_label(es("Amount"), exact=True)
    expect(amount).to_have_value("2240,73")  # what is due, offered with a decimal comma
    expect(payments).to_contain_text(es("Due: %(due)s %(currency)s", due="2.240,73", currency="EUR"))
    amount.fill("2.240,73")
    payments.get_by_role("button", name=es("Record payment")).click()
    messages = page.locator(".messages")
    expect(messages).to_contain_text(es("Payment of %(amount)s %(currency)s recorded.", amount="2.240,73",
                                        currency="EUR"))
    expect(messages).to_contain_text(es("B2Brouter invoice #%(id)s is marked paid.", id=remote["id"]))
    expect(page.locator("h1 .status")).to_have_text(es("Paid"))
    expect(page.locator("#payments tr.amount-due")).to_contain_text("0,00 EUR")
    assert demo.api("GET", f"/invoices/{remote['id']}")["invoice"]["state"] == "paid"
    assert [p.amount for p in Invoice.objects.get(pk=invoice.pk).payments.all()] == [Decimal("2240.73")]
    no_english(page, "Paid", "Record payment", "Amount due")

    # The PDF, in the client's language (Spanish): Spanish labels, Spanish amounts.
    with page.expect_download() as download:
        page.locator(".page-head").get_by_role("link", name=es("Download PDF")).click()
    with open(download.value.path(), "rb") as handle:
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages).replace("\xa0", " ")
    for label in (es("Invoice"), es("Issue date"), es("Due date"), es("Description"), es("Quantity"),
                  es("Unit price"), es("Tax-exclusive amount"), es("Page %(page)s of %(pages)s", page=1, pages=1)):
        assert label.lower() in text.lower(), (label, text)  # section titles are in capitals
    for amount in ("1.234,56", "1.851,84", "388,89", "2.240,73"):
        assert amount in text, (amount, text)
    for english in ("Issue date", "Due date", "Unit price", "Tax-exclusive amount", "Page 1 of 1"):
        assert english.lower() not in text.lower(), (english, text)
    assert number in text and BABEL in text
    assert blocked == []
