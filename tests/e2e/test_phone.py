"""The main flow at a phone's width (390 x 844): no page is wider than the screen, the header stays usable."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from b2binvoice.clients.models import Client
from b2binvoice.invoices.models import Invoice
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_demo_walkthrough import (  # noqa: F401 (fixtures)
    Demo,
    confirm_create,
    connected,
    demo,
    section,
    sim_over_http,
)

WIDTH = 390


@pytest.fixture
def phone(browser: Browser, connected: Demo) -> Iterator[Page]:
    """A phone-sized browser, logged in as demo / demo."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.goto(f"{connected.url}/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    yield page
    context.close()


def fits(page: Page) -> None:
    """Expect the page no wider than the screen, and the header's log-out control in view."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide"
    page.evaluate("window.scrollTo(0, 0)")  # the header is at the top of the page
    logout = page.locator(".site-header").get_by_role("button", name="Log out")
    expect(logout).to_be_visible()
    expect(logout).to_be_in_viewport()
    box = logout.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    # Readable: the header's text is drawn on the header's dark background, not spilled past it.
    header = page.locator(".site-header").bounding_box()
    assert header is not None and box["y"] + box["height"] <= header["y"] + header["height"]


def test_the_main_flow_fits_a_phone(phone: Page, connected: Demo) -> None:
    url = connected.url
    pages = ["/", "/invoices/", "/invoices/new/", "/clients/", "/clients/new/", "/settings/company/",
             "/settings/taxes/", "/settings/payment-methods/", "/settings/integrations/",
             "/settings/integrations/b2brouter/", "/settings/taxes/new/", "/settings/units/", "/settings/history/",
             "/account/", "/invoices/?status=issued&overdue=1"]
    for path in pages:
        phone.goto(url + path)
        fits(phone)
    nordlicht = Client.objects.get(name="Nordlicht Übersetzungen GmbH")
    unlinked = Invoice.objects.get(number="LD-0009")
    for path in (f"/clients/{nordlicht.pk}/", f"/clients/{nordlicht.pk}/edit/",
                 f"/invoices/{unlinked.pk}/b2brouter/link/"):
        phone.goto(url + path)
        fits(phone)

    # The settings menu opens within the screen and leads to the Integrations page.
    phone.goto(url + "/invoices/")
    phone.locator(".site-header").get_by_text("Settings", exact=True).click()
    integrations = phone.locator(".menu-items").get_by_role("link", name="Integrations")
    expect(integrations).to_be_in_viewport()
    integrations.click()
    expect(phone).to_have_url(f"{url}/settings/integrations/")
    fits(phone)

    # An invoice with its B2Brouter section: push it; the page stays within the screen and the whole
    # page follows the push (badge, buttons, payments), not only the section.
    Invoice.objects.filter(number="LD-0002").update(status="draft")
    invoice = Invoice.objects.get(number="LD-0002")
    phone.goto(f"{url}/invoices/{invoice.pk}/")
    fits(phone)
    badge = phone.locator("#invoice-status")
    expect(badge).to_have_text("Draft")
    head = phone.locator(".page-head")
    expect(head.get_by_role("link", name="Delete draft")).to_be_visible()
    expect(phone.locator("#payments")).to_contain_text("LD-0002 is a draft")
    create = section(phone).get_by_role("button", name="Create B2Brouter invoice")
    create.scroll_into_view_if_needed()
    expect(create).to_be_in_viewport()
    create.click()
    confirm_create(phone)
    expect(section(phone).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")
    expect(badge).to_have_text("Issued")
    expect(head.get_by_role("link", name="Delete draft")).to_have_count(0)
    expect(head.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    expect(head.get_by_role("link", name="Change status or notes")).to_be_visible()
    expect(phone.locator("#payments")).not_to_contain_text("is a draft")
    expect(phone.locator("#payments").get_by_role("button", name="Record payment")).to_be_visible()
    fits(phone)
    unlink = section(phone).get_by_role("link", name="Unlink")
    expect(unlink).to_have_css("opacity", "1")
    unlink.scroll_into_view_if_needed()
    expect(unlink).to_be_in_viewport()
    phone.goto(f"{url}/invoices/{invoice.pk}/edit/")
    fits(phone)
    phone.goto(f"{url}/")
    fits(phone)
    expect(phone.locator("svg.bar-chart")).to_be_visible()
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # as the screenshot fixture does, for the phone's page
        phone.screenshot(path=str(SCREENSHOTS / "home-phone.png"), full_page=True, animations="disabled", caret="hide")

    # Log out from the header, at a phone's width.
    phone.locator(".site-header").get_by_role("button", name="Log out").click()
    expect(phone).to_have_url(re.compile(r"/login/"))
    fits_login(phone)


LINES = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return range.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight);
}"""


def one_line(cell: Any) -> None:
    """Expect the text of a table cell (or a link in one) drawn on a single line, not broken up."""
    lines = cell.evaluate(LINES)
    assert lines < 1.5, f"{cell.inner_text()!r} takes {lines:.1f} lines"


def test_lists_scroll_sideways_inside_their_own_box(phone: Page, connected: Demo) -> None:
    """At 390 px a list keeps its numbers, dates, tax ids and headers on one line each: the table scrolls
    sideways inside its box, and the page itself stays as wide as the screen."""
    url = connected.url
    Invoice.objects.filter(number="LD-0009").update(status="issued")
    checks = {
        "/invoices/": ["LD-0001", "LD-0009", "Number", "Date", "Status", "B2Brouter", "not linked"],
        "/clients/": ["Country", "Tax id", "Invoices"],
        "/settings/taxes/": ["Rate / amount", "B2Brouter tax type"],
        "/settings/history/": ["When"],
    }
    nordlicht = Client.objects.get(name="Nordlicht Übersetzungen GmbH")
    checks["/clients/"].append(nordlicht.tin)
    for path, texts in checks.items():
        phone.goto(url + path)
        fits(phone)
        box = phone.locator(".table-scroll").first
        expect(box).to_be_visible()
        assert box.evaluate("(el) => el.scrollWidth > el.clientWidth"), f"the table of {path} does not scroll"
        assert box.evaluate("(el) => el.getBoundingClientRect().right") <= WIDTH
        for text in texts:
            cell = box.locator("th, td a, td, td span").filter(has_text=re.compile(f"^{re.escape(text)}$")).first
            expect(cell).to_be_visible()
            one_line(cell)
    # The sideways scroll reaches the last column.
    phone.goto(url + "/invoices/")
    box = phone.locator(".table-scroll").first
    box.evaluate("(el) => { el.scrollLeft = el.scrollWidth; }")
    last = box.locator("thead th").last
    expect(last).to_be_in_viewport()
    assert box.evaluate("(el) => el.scrollLeft") > 0
    fits(phone)


def fits_login(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def a_year_of_invoices() -> None:
    """Give the demo company a year of paid invoices, one overdue and one blocked, as the README shows it."""
    from decimal import Decimal

    from django.utils import timezone

    from b2binvoice.einvoicing import actions, events
    from b2binvoice.einvoicing.bulk import locally_ready
    from b2binvoice.invoices.models import InvoiceLine, InvoiceTax

    template = Invoice.objects.get(number="LD-0001")
    today = timezone.localdate()
    for back in range(1, 12):
        index = today.year * 12 + today.month - 1 - back
        day = today.replace(year=index // 12, month=index % 12 + 1, day=min(today.day, 28))
        invoice = Invoice.objects.create(company=template.company, client=template.client, number=f"LD-9{back:03d}",
                                         issue_date=day, due_date=day, status="paid", currency="EUR",
                                         payment_method=template.payment_method)
        InvoiceLine.objects.create(invoice=invoice, description="Translation", quantity=Decimal(4000 + 650 * (back % 5)),
                                   unit="words", unit_price=Decimal("0.09"))
        for tax in template.taxes.all():
            InvoiceTax.objects.create(invoice=invoice, tax=tax.tax, name=tax.name, tax_type=tax.tax_type, kind=tax.kind,
                                      rate=tax.rate, category=tax.category)
    Invoice.objects.filter(number="LD-0002").update(due_date=today - timezone.timedelta(days=12))
    blocked = Invoice.objects.get(number="LD-0006")
    _ok, problems = locally_ready(blocked, actions.get_integration(blocked.company))
    events.create_blocked(invoice=blocked, user=None, problems=problems)


def test_the_home_page_at_a_desktop_width(page: Page, connected: Demo, screenshot: Any) -> None:
    """The home page as the README shows it: what is owed, what needs attention, the last 12 months."""
    a_year_of_invoices()
    page.goto(f"{connected.url}/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{connected.url}/")
    expect(page.locator(".owed-row")).to_have_count(1)
    expect(page.locator(".figure").first).to_contain_text("EUR")
    expect(page.locator("svg.bar-chart rect")).to_have_count(12)
    expect(page.locator("svg.bar-chart > title")).to_have_text(re.compile("Amount invoiced per month in EUR"))
    overdue = page.locator("table.attention-overdue")
    expect(overdue).to_contain_text("LD-0002")
    expect(overdue).to_contain_text("12 days late")
    expect(page.locator(".figure-overdue")).to_contain_text("545.11 EUR")
    blocked = page.locator(".attention-blocked")
    expect(blocked).to_contain_text("LD-0006")
    blocked.get_by_role("link", name="LD-0006").click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+/b2brouter/$"))
    page.go_back()
    screenshot("home")
