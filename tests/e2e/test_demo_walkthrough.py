"""The demo, walked in a browser: the README's walkthrough, step by step, against the simulator.

The app and the simulator are served by pytest-django's live server; the app reaches the
simulator over real HTTP at ``live_server.url + "/sim"`` (no in-process transport), exactly as
``make run`` does. Each test starts from the two demo seeds (``seed_demo`` and ``sim_seed_demo``).
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass
from io import StringIO
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from playwright.sync_api import Locator, Page, expect

from b2brouter_sim.models import SimWebhookDelivery
from b2binvoice.clients.models import Client
from b2binvoice.companies.models import Company
from b2binvoice.core.demo import seed_demo
from b2binvoice.einvoicing import actions
from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink, WebhookEvent
from b2binvoice.invoices.models import Invoice, InvoiceTax

API_VERSION = "2026-03-02"
# An action is a few HTTP round trips to the simulator; leave a slow CI machine some room.
expect.set_options(timeout=10_000)


@dataclass
class Demo:
    """The seeded demo: where it is served and the simulator account ``make run`` prints."""

    url: str
    sim_url: str
    account_id: str
    api_key: str

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the simulator's API as B2Brouter's own tools would (the account's key, over HTTP)."""
        response = httpx.request(method, f"{self.sim_url}{path}", json=body, timeout=10, headers={
            "X-B2B-API-Key": self.api_key, "X-B2B-API-Version": API_VERSION})
        assert response.status_code < 400, response.text
        return response.json()

    def remote_invoices(self) -> list[dict[str, Any]]:
        return self.api("GET", f"/accounts/{self.account_id}/invoices?limit=500")["invoices"]

    def invoice_page(self, number: str) -> str:
        return f"{self.url}/invoices/{Invoice.objects.get(number=number).pk}/"


@pytest.fixture
def sim_over_http(settings: Any, live_server: Any) -> str:
    """Point the app at the simulator the live server hosts, over HTTP."""
    sim_url = live_server.url + "/sim"
    settings.SIMULATOR_BASE_URL = sim_url
    settings.B2BROUTER_TRANSPORT_FACTORY = None
    settings.B2BROUTER_MAX_RETRIES = 0
    settings.B2BROUTER_TIMEOUT = 15
    # Sending plans the simulated recipient's next states as deferred tasks. The database queue,
    # with no worker running and a one-hour step delay, keeps every invoice in the state the test
    # left it in until the test moves it on (the control API's "advance"): the badges the test sees
    # do not depend on timing. "immediate" would run the whole scenario inside the send request,
    # "rq" needs a Redis server, and TASKS_BACKEND in the environment may name either.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    settings.B2BROUTER_SIM_STEP_DELAY = 3600
    return sim_url


@pytest.fixture
def demo(transactional_db: None, live_server: Any, sim_over_http: str) -> Demo:
    """Seed both demos, as ``make run`` does, and read the printed simulator account."""
    seed_demo()
    out = StringIO()
    call_command("sim_seed_demo", "--base-url", sim_over_http, stdout=out)
    found = re.search(r"ID (\d+), API key (\S+)", out.getvalue())
    assert found, out.getvalue()
    return Demo(url=live_server.url, sim_url=sim_over_http, account_id=found[1], api_key=found[2])


@pytest.fixture
def app(page: Page, demo: Demo) -> Page:
    """A browser logged in as demo / demo."""
    page.goto(f"{demo.url}/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    return page


@pytest.fixture
def connected(demo: Demo) -> Demo:
    """Connect the demo company to the simulator account and apply the required settings.

    The settings test walks these steps in the browser; the other tests start after them.
    """
    company = Company.objects.get(name="Lingua Demo S.L.")
    result = actions.save_settings(company=company, enabled=True, environment="simulator", api_key=demo.api_key,
                                   account_id=demo.account_id, send_after_create=True)
    assert result.level == "success", result
    applied = actions.apply_required_settings(actions.get_integration(company))
    assert applied.level == "success", applied
    return demo


def section(page: Page) -> Locator:
    return page.locator("#b2brouter-section")


def confirm_create(page: Page) -> None:
    """Confirm what Create sends, on the confirmation that replaces the section."""
    section(page).get_by_role("button", name=re.compile(r"^Confirm: create")).click()


def check(page: Page, key: str) -> Locator:
    """Return one item of the readiness checklist."""
    return section(page).locator(f'[data-check="{key}"]')


def comparison_row(page: Page, label: str) -> Locator:
    return section(page).locator("table.b2b-compare tr", has=page.get_by_role("rowheader", name=label, exact=True))


def expect_figures(page: Page, expected: dict[str, str]) -> None:
    """Expect our figure and B2Brouter's on each row, marked equal."""
    for label, amount in expected.items():
        row = comparison_row(page, label)
        expect(row).to_have_class(re.compile(r"\bequal\b"))
        expect(row.locator("td").nth(0)).to_have_text(amount)
        expect(row.locator("td").nth(1)).to_have_text(amount)
        expect(row.locator("td").nth(2)).to_have_text("✓ equal")
    expect(section(page).locator("table.b2b-compare")).to_have_attribute("data-equal", "true")
    expect(section(page).get_by_text("✗ differs")).to_have_count(0)


# --- Settings -> Integrations -> B2Brouter ----------------------------------------------------


def test_settings_wrong_key_then_right_key_then_apply_required_settings(app: Page, demo: Demo, screenshot: Any) -> None:
    app.get_by_text("Settings", exact=True).click()
    app.get_by_role("link", name="Integrations").click()
    expect(app).to_have_url(f"{demo.url}/settings/integrations/")
    expect(app.locator('[data-integration="b2brouter"]')).to_contain_text("Not set up")
    app.get_by_role("link", name="B2Brouter", exact=True).click()
    expect(app).to_have_url(f"{demo.url}/settings/integrations/b2brouter/")
    expect(app.get_by_role("heading", name="B2Brouter integration")).to_be_visible()

    # A wrong key: B2Brouter's 401 is explained and nothing is stored.
    app.get_by_label("Enabled").check()
    app.get_by_label("Environment").select_option("simulator")
    app.get_by_label("API key").fill("sim_this_is_not_the_key_0000")
    app.get_by_label("Account ID").fill(demo.account_id)
    app.get_by_role("button", name="Update").click()
    flash = app.locator(".b2b-flash-error")
    expect(flash).to_contain_text("B2Brouter refused this API key (401)")
    expect(flash).to_contain_text("The previous settings were kept.")
    expect(flash.locator(".b2b-request-id code")).to_have_text(re.compile(r"^req_"))
    expect(app.get_by_label("API key")).to_have_value("")  # a typed key never comes back to the page
    expect(app.get_by_label("Account ID")).to_have_value(demo.account_id)
    expect(app.locator(".b2b-account")).to_have_count(0)
    screenshot("settings-wrong-key")

    # The right key: the account is read and shown; the key only by its last four characters.
    app.get_by_label("API key").fill(demo.api_key)
    app.get_by_role("button", name="Update").click()
    expect(app.locator(".b2b-flash-success")).to_have_text(
        "Connected to B2Brouter account Lingua Demo S.L. (ESA28017895).")
    account = app.locator(".b2b-account")
    expect(account).to_contain_text("Lingua Demo S.L.")
    expect(account).to_contain_text(f"ID {demo.account_id}")
    expect(account.locator(".b2b-masked-key")).to_contain_text(demo.api_key[-4:])
    assert demo.api_key not in app.content()

    # The demo account's calculation settings differ: the orange plate lists each one.
    plate = app.locator('[data-plate="warn"]')
    expect(plate).to_be_visible()
    expected_rows = [("rounding_method", "half_up", "bankers"), ("round_before_sum", "true", "false"),
                     ("apply_taxes_per_line", "false", "true")]
    rows = plate.locator("table.b2b-settings tbody tr")
    expect(rows).to_have_count(3)
    for i, (name, required, current) in enumerate(expected_rows):
        expect(rows.nth(i).locator("td")).to_have_text([name, required, current])
    expect(plate.get_by_role("link", name="Apply required settings in B2Brouter")).to_be_visible()
    expect(plate.get_by_role("button", name="Check again")).to_be_visible()
    screenshot("settings-orange-plate")

    # Applying asks first, warning that the account is shared by every integration.
    plate.get_by_role("link", name="Apply required settings in B2Brouter").click()
    expect(app.get_by_role("heading", name="Apply required settings in B2Brouter?")).to_be_visible()
    expect(app.locator(".plate-warn")).to_contain_text(
        "This changes account Lingua Demo S.L. in B2Brouter, and so every integration")
    expect(app.locator("table.b2b-settings tbody tr")).to_have_count(3)
    screenshot("settings-apply-confirm")
    assert demo.api("GET", f"/accounts/{demo.account_id}")["account"]["rounding_method"] == "bankers"

    app.get_by_role("button", name="Apply required settings in B2Brouter").click()
    expect(app).to_have_url(f"{demo.url}/settings/integrations/b2brouter/")
    expect(app.locator(".b2b-flash-success")).to_have_text(
        "The required calculation settings were applied in B2Brouter.")
    expect(app.locator('[data-plate="ok"]')).to_contain_text("B2Brouter's calculation settings match b2binvoice.")
    expect(app.locator('[data-plate="warn"]')).to_have_count(0)
    screenshot("settings-blue-plate")
    remote = demo.api("GET", f"/accounts/{demo.account_id}")["account"]
    assert (remote["rounding_method"], remote["round_before_sum"], remote["apply_taxes_per_line"]) == \
        ("half_up", True, False)

    app.get_by_role("button", name="Check again").click()
    expect(app.locator(".b2b-flash-success")).to_have_text("The calculation settings match the required values.")


# --- Create, link, unlink ---------------------------------------------------------------------


def test_create_with_success_then_refresh_and_the_invoice_list(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    app.goto(demo.invoice_page("LD-0002"))
    expect(section(app).get_by_role("heading", name="Linked B2Brouter invoice details")).to_be_visible()
    expect(section(app)).to_contain_text("This invoice is not linked to a B2Brouter invoice.")
    # Traductions Lumière has a contact in the simulator: it is found by its tax id.
    for key in ("integration", "settings", "contact", "tax", "absolute_tax", "payment", "lines"):
        expect(check(app, key)).to_have_class("ok")
    create = section(app).get_by_role("button", name="Create B2Brouter invoice")
    expect(create).to_be_enabled()
    expect(create).to_have_css("opacity", "1")
    expect(section(app).get_by_role("link", name="Link existing B2Brouter invoice")).to_be_visible()
    screenshot("invoice-ready")

    create.click()
    confirm_create(app)
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")
    [remote] = [r for r in demo.remote_invoices() if r["number"] == "LD-0002"]
    facts = section(app).locator("dl.b2b-facts")
    expect(facts).to_contain_text(f"#{remote['id']}")
    expect(facts).to_contain_text("LD-0002")
    expect(facts.locator(".b2b-badge")).to_have_text("sending")
    # 3450 x 0.09 + 4 x 35 = 450.50; IVA 21 % = 94.61; total 545.11, to the cent on both sides.
    expect_figures(app, {"Tax-exclusive amount": "450.50", "Taxes": "94.61", "Total": "545.11"})
    expect(section(app).get_by_role("link", name="Open in B2Brouter")).to_have_attribute(
        "href", f"{demo.sim_url}/app/invoices/{remote['id']}")
    screenshot("invoice-created")

    # The simulated recipient accepts it; Refresh reads the new state.
    for _ in range(2):
        httpx.post(f"{demo.sim_url}/_control/invoices/{remote['id']}/advance", timeout=10).raise_for_status()
    section(app).get_by_role("button", name="Refresh").click()
    expect(section(app).locator(".b2b-flash-success")).to_have_text(
        f"Refreshed: B2Brouter invoice #{remote['id']} is accepted.")
    expect(facts.locator(".b2b-badge")).to_have_text("accepted")
    expect(section(app).locator(".b2b-events")).to_contain_text("B2Brouter history")

    # The invoice list's B2Brouter column: the state, or "not linked".
    app.get_by_role("link", name="Invoices", exact=True).first.click()
    rows = app.locator("table.invoices tbody tr")
    badge = rows.filter(has_text="LD-0002").locator("td").last.locator(".b2b-badge")
    expect(badge).to_have_text("accepted")
    expect(badge).to_have_attribute("title", f"B2Brouter invoice #{remote['id']}")
    expect(badge).to_have_css("background-color", "rgb(220, 252, 231)")  # styled as a badge, green for accepted
    expect(rows.filter(has_text="LD-0003").locator("td").last).to_have_text("not linked")
    screenshot("invoice-list")


def test_link_the_existing_invoice_then_unlink(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    [existing] = [r for r in demo.remote_invoices() if r["number"] == "LD-0001"]
    app.goto(demo.invoice_page("LD-0001"))
    section(app).get_by_role("link", name="Link existing B2Brouter invoice").click()

    expect(app.get_by_role("heading", name="Link invoice LD-0001 to an existing B2Brouter invoice")).to_be_visible()
    candidate = app.locator(f'tr[data-candidate="{existing["id"]}"]')
    expect(candidate).to_contain_text("LD-0001")
    expect(candidate).to_contain_text("1,234.20 EUR")
    expect(candidate).to_contain_text("✓ number, date and total match")
    screenshot("link-candidates")

    candidate.get_by_role("button", name="Link this invoice").click()
    expect(app).to_have_url(demo.invoice_page("LD-0001"))
    expect(section(app).locator(".b2b-flash-success")).to_have_text(f"Linked to B2Brouter invoice #{existing['id']}.")
    facts = section(app).locator("dl.b2b-facts")
    expect(facts).to_contain_text(f"#{existing['id']}")
    expect(facts.locator(".b2b-badge")).to_have_text("new")
    expect_figures(app, {"Tax-exclusive amount": "1,020.00", "Taxes": "214.20", "Total": "1,234.20"})
    expect(section(app).get_by_role("button", name="Send")).to_be_enabled()  # linking sends nothing
    screenshot("invoice-linked")
    assert [r["state"] for r in demo.remote_invoices() if r["number"] == "LD-0001"] == ["new"]

    # Unlink asks first and deletes nothing in B2Brouter.
    section(app).get_by_role("link", name="Unlink").click()
    expect(app.get_by_role("heading", name=f"Unlink from B2Brouter invoice #{existing['id']}?")).to_be_visible()
    expect(app.locator(".plate-warn")).to_contain_text("nothing is deleted in B2Brouter")
    screenshot("unlink-confirm")
    app.get_by_role("button", name="Unlink").click()
    expect(app).to_have_url(demo.invoice_page("LD-0001"))
    expect(section(app).locator(".b2b-flash-info")).to_have_text(
        f"Unlinked from B2Brouter invoice #{existing['id']}. Nothing was deleted in B2Brouter.")
    expect(section(app)).to_contain_text("This invoice is not linked to a B2Brouter invoice.")
    assert not InvoiceLink.objects.filter(invoice__number="LD-0001").exists()
    assert [r["id"] for r in demo.remote_invoices() if r["number"] == "LD-0001"] == [existing["id"]]


# --- Blocked invoices -------------------------------------------------------------------------


def test_no_contact_then_create_contact_then_create(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    app.goto(demo.invoice_page("LD-0004"))
    contact = check(app, "contact")
    expect(contact).to_have_class("fail")
    expect(contact).to_contain_text("No matching client in B2Brouter: no contact has the tax id ESB58378431.")
    expect(contact.get_by_role("link", name="Choose an existing contact")).to_be_visible()
    expect(section(app).get_by_role("button", name="Create B2Brouter invoice")).to_be_disabled()
    screenshot("invoice-blocked-no-contact")

    contact.get_by_role("button", name="Create contact in B2Brouter from this client").click()
    expect(app).to_have_url(demo.invoice_page("LD-0004"))
    expect(check(app, "contact")).to_have_class("ok")
    # The contact was looked up in B2Brouter's directory as it was created: Sol y Mar is not listed,
    # so B2Brouter will use its default channel. Information only: nothing is blocked by it.
    delivery = check(app, "directory")
    expect(delivery).to_have_class("info")
    expect(delivery).to_contain_text("How B2Brouter delivers to Editorial Sol y Mar S.L.")
    expect(delivery.locator(".b2b-directory")).to_have_attribute("data-directory", "unlisted")
    expect(delivery).to_contain_text(
        "Not in B2Brouter's directory: B2Brouter will deliver by its default channel for this contact (e.g. email "
        "or PDF); check the contact's email. The client's email is admin@solymar.example.")
    expect(delivery.get_by_role("button", name="Check again")).to_be_visible()
    expect(section(app).locator("li.fail")).to_have_count(0)
    expect(section(app).get_by_role("button", name="Create B2Brouter invoice")).to_be_enabled()
    screenshot("invoice-contact-created-directory")
    client = Client.objects.get(name="Editorial Sol y Mar S.L.")
    remote_contact = demo.api("GET", f"/contacts/{client.b2brouter_contact_id}")["contact"]
    assert remote_contact["integration_code"] == str(client.pk)
    assert remote_contact["tin_value"] == "ESB58378431"

    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(app)
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")
    # 8200 x 0.07 = 574.00; IVA 21 % 120.54 and IRPF -15 % -86.10; total 608.44.
    expect_figures(app, {"Tax-exclusive amount": "574.00", "Taxes": "34.44", "Total": "608.44"})
    [remote] = [r for r in demo.remote_invoices() if r["number"] == "LD-0004"]
    assert remote["contact_id"] == client.b2brouter_contact_id and remote["total"] == "608.44"


def test_the_client_page_tells_how_b2brouter_delivers(app: Page, connected: Demo) -> None:
    """The demo directory lists Nordlicht on Peppol and Lumière by email: the client pages say so when asked."""
    demo = connected
    expected = {
        "Nordlicht Übersetzungen GmbH": ("peppol", "Reachable on Peppol: B2Brouter will deliver invoices through "
                                                   "Peppol (document type xml.ubl.invoice.bis3)."),
        "Traductions Lumière SARL": ("listed", "Listed in B2Brouter's directory: delivered by email. Document type "
                                               "pdf.invoice."),
    }
    for name, (outcome, sentence) in expected.items():
        app.goto(f"{demo.url}/clients/{Client.objects.get(name=name).pk}/")
        delivery = app.locator("#b2brouter-client-section .b2b-directory")
        expect(delivery).to_have_attribute("data-directory", "unchecked")
        delivery.get_by_role("button", name="Check B2Brouter's directory").click()
        expect(delivery).to_have_attribute("data-directory", outcome)
        expect(delivery.locator(".b2b-directory-text")).to_have_text(sentence)
        expect(delivery).to_contain_text(f"Listed as {name}.")
        expect(delivery.get_by_role("button", name="Check again")).to_be_visible()


def test_blocked_invoices_say_what_to_fix_and_send_nothing(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    before = demo.remote_invoices()

    # An absolute tax.
    app.goto(demo.invoice_page("LD-0005"))
    absolute = check(app, "absolute_tax")
    expect(absolute).to_have_class("fail")
    expect(absolute).to_contain_text(
        "B2Brouter accepts only percentage taxes: remove or replace Stamp duty 1.50 EUR.")
    expect(absolute.get_by_role("link", name="Edit invoice LD-0005")).to_be_visible()
    create = section(app).get_by_role("button", name="Create B2Brouter invoice")
    expect(create).to_be_disabled()
    # It also looks unavailable (it used to look exactly like the enabled button).
    expect(create).to_have_css("opacity", "0.5")
    expect(create).to_have_css("cursor", "not-allowed")
    screenshot("invoice-blocked-absolute-tax")
    # A disabled button is no guard on its own: a forced submit is refused by the server too.
    create.evaluate("button => { button.disabled = false; }")
    create.click()
    flash = section(app).locator(".b2b-flash-error")
    expect(flash).to_contain_text("Nothing was sent to B2Brouter:")
    expect(flash).to_contain_text("remove or replace Stamp duty 1.50 EUR.")

    # No tax at all.
    app.goto(demo.invoice_page("LD-0010"))
    tax = check(app, "tax")
    expect(tax).to_have_class("fail")
    expect(tax).to_contain_text("B2Brouter needs at least one tax on the invoice: add one")
    expect(section(app).locator("li.fail")).to_have_count(1)
    expect(section(app).get_by_role("button", name="Create B2Brouter invoice")).to_be_disabled()
    screenshot("invoice-blocked-no-tax")

    # An IBAN that fails its checksum (stored before validation existed).
    app.goto(demo.invoice_page("LD-0007"))
    payment = check(app, "payment")
    expect(payment).to_have_class("fail")
    expect(payment).to_contain_text(
        "The IBAN of payment method Legacy bank transfer is invalid (ES0000000000000000000000): correct it.")
    expect(payment.get_by_role("link", name="Edit payment method Legacy bank transfer")).to_be_visible()
    expect(section(app).get_by_role("button", name="Create B2Brouter invoice")).to_be_disabled()
    screenshot("invoice-blocked-iban")

    assert demo.remote_invoices() == before
    assert InvoiceEvent.objects.filter(invoice__number="LD-0005", type="create_blocked").exists()
    assert not InvoiceLink.objects.exists()


# --- B2Brouter's words are escaped ------------------------------------------------------------


def no_injected_elements(page: Page) -> None:
    """Expect that no remote text became markup (no <b>, <script> or <img> inside the section)."""
    expect(section(page).locator("b, script, img")).to_have_count(0)
    assert page.evaluate("() => window.__b2bInjected === undefined")


def test_b2brouter_messages_with_html_are_escaped(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    # 1. A refusal reason that B2Brouter reports (here set through the simulator's API, as the
    #    recipient's access point would) shows as text in the linked details.
    app.goto(demo.invoice_page("LD-0002"))
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(app)
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")
    [remote] = [r for r in demo.remote_invoices() if r["number"] == "LD-0002"]
    reason = '<b>PO missing</b><script>window.__b2bInjected = 1</script><img src=x onerror="window.__b2bInjected = 2">'
    demo.api("POST", f"/invoices/{remote['id']}/mark_as", {"state": "refused", "reason": reason})
    section(app).get_by_role("button", name="Refresh").click()
    expect(section(app).locator(".b2b-badge")).to_have_text("refused")
    expect(section(app).locator("dl.b2b-facts .b2b-remote")).to_have_text(f"Refused: {reason}")
    no_injected_elements(app)
    screenshot("invoice-refused-escaped")

    # 2. A validation error that echoes what it rejects. The category comes from data imported
    #    from an older tool (the forms offer only valid categories); B2Brouter names it back.
    invoice = Invoice.objects.get(number="LD-0003")
    InvoiceTax.objects.filter(invoice=invoice).update(category="<b>")
    app.goto(demo.invoice_page("LD-0003"))
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(app)
    flash = section(app).locator(".b2b-flash-error")
    expect(flash).to_contain_text("B2Brouter did not create the invoice.")
    expect(flash.locator(".b2b-remote")).to_contain_text("Category '<B>' is not included in the list")
    expect(flash.locator(".b2b-request-id code")).to_have_text(re.compile(r"^req_"))
    history = section(app).locator(".b2b-events")
    history.locator("summary").click()
    expect(history.locator(".b2b-remote").first).to_contain_text("Category '<B>' is not included in the list")
    no_injected_elements(app)
    screenshot("invoice-error-escaped")
    assert not [r for r in demo.remote_invoices() if r["number"] == "LD-0003"]


# --- State updates without a click --------------------------------------------------------------


def run_due_tasks() -> None:
    """Run the tasks that are due, as the worker of ``make run`` would, then stop.

    Here these are the simulator's webhook deliveries (POSTed over HTTP to the live server's
    receiver) and the reads the receiver queues; the recipient's next steps wait an hour
    (``sim_over_http``), so only the test's "advance" moves an invoice on. The worker installs
    its own SIGINT/SIGTERM handlers: pytest's are put back afterwards.
    """
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--queue-name", "*",
                     "--interval", "0", verbosity=0)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def test_webhook_moves_the_state_on_without_a_click(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    app.goto(f"{demo.url}/settings/integrations/b2brouter/")
    webhook = app.locator(".b2b-webhook")
    expect(webhook).to_have_attribute("data-status", "not-registered")
    expect(webhook).to_contain_text("State updates are not received.")

    webhook.get_by_role("button", name="Register webhook in B2Brouter").click()
    receiver = re.compile(rf"^{re.escape(demo.url)}/webhooks/b2brouter/[^/\s]+/$")
    expect(app.locator(".b2b-flash-success")).to_contain_text("B2Brouter will notify state changes to")
    expect(webhook).to_have_attribute("data-status", "registered")
    expect(webhook).to_contain_text("Registered; no notification received yet.")
    expect(webhook.locator("code.b2b-webhook-url")).to_have_text(receiver)
    screenshot("settings-webhook-registered")
    url = webhook.locator("code.b2b-webhook-url").inner_text()
    [hook] = demo.api("GET", "/web_hooks")["web_hooks"]
    assert hook["url"] == url and hook["events"] == ["issued_invoice.state_change", "tax_report.state_change"]

    # LD-0008 (Vertaalbureau Delta, USD, exempt of IVA) is created and sent: it is "sending".
    app.goto(demo.invoice_page("LD-0008"))
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(app)
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")
    facts = section(app).locator("dl.b2b-facts")
    expect(facts.locator(".b2b-badge")).to_have_text("sending")
    [remote] = [r for r in demo.remote_invoices() if r["number"] == "LD-0008"]

    # The simulated recipient receives and accepts it; the simulator notifies each state over HTTP.
    for _ in range(2):
        httpx.post(f"{demo.sim_url}/_control/invoices/{remote['id']}/advance", timeout=10).raise_for_status()
    run_due_tasks()
    deliveries = SimWebhookDelivery.objects.filter(event__invoice_id=remote["id"]).order_by("pk")
    assert [(d.event.state, d.status, d.status_code) for d in deliveries] == [
        ("sending", "delivered", 200), ("sent", "delivered", 200), ("accepted", "delivered", 200)]
    assert set(WebhookEvent.objects.values_list("outcome", flat=True)) == {"applied"}

    # A reload (no Refresh) shows the notified state and a history entry for each notification.
    app.reload()
    expect(facts.locator(".b2b-badge")).to_have_text("accepted")
    expect(section(app).locator(".b2b-flash-success")).to_have_count(0)
    history = section(app).locator(".b2b-events")
    history.locator("summary").click()
    notified = history.locator("tbody tr", has_text="State change notified by B2Brouter")
    expect(notified).to_have_count(3)
    expect(notified.filter(has_text="State: sending")).to_have_count(1)
    expect(notified.filter(has_text="State: sent")).to_have_count(1)
    expect(notified.filter(has_text="State: accepted")).to_have_count(1)
    expect(notified.first).to_contain_text(f"#{remote['id']}")
    screenshot("invoice-state-notified")

    # The settings page says that notifications arrive, and when the last one did.
    app.goto(f"{demo.url}/settings/integrations/b2brouter/")
    expect(webhook).to_have_attribute("data-status", "receiving")
    expect(webhook).to_contain_text("State updates are received.")
    expect(webhook).to_contain_text(re.compile(r"Last notification received at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\."))
    expect(webhook.locator("code.b2b-webhook-url")).to_have_text(url)


def test_webhook_set_up_by_hand_with_the_signing_secret(app: Page, connected: Demo, screenshot: Any) -> None:
    """The way B2Brouter documents it: copy the receiver URL into Developers -> Webhooks, paste the secret back."""
    demo = connected
    app.goto(f"{demo.url}/settings/integrations/b2brouter/")
    webhook = app.locator(".b2b-webhook")
    expect(webhook).to_have_attribute("data-status", "not-registered")
    expect(webhook).to_contain_text("In B2Brouter, open Developers → Webhooks and create an endpoint for the events "
                                    "issued_invoice.state_change and tax_report.state_change (Verifactu and "
                                    "TicketBAI records) with this URL:")
    receiver = webhook.locator("code.b2b-receiver-url")
    expect(receiver).to_have_text(re.compile(rf"^{re.escape(demo.url)}/webhooks/b2brouter/[^/\s]+/$"))
    url = receiver.inner_text()

    # The copy button puts the URL on the clipboard.
    app.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo.url)
    copy = webhook.locator("button.b2b-copy")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert app.evaluate("() => navigator.clipboard.readText()") == url
    screenshot("settings-webhook-manual")

    # In the simulator's web app, as in B2Brouter's: the account, Developers -> Webhooks, a new endpoint.
    app.goto(f"{demo.sim_url}/app/")
    app.get_by_role("link", name="Lingua Demo S.L.").click()
    app.get_by_role("link", name="Developers → Webhooks").click()
    hooks_page = f"{demo.sim_url}/app/accounts/{demo.account_id}/developers/webhooks"
    expect(app).to_have_url(hooks_page)
    expect(app.get_by_role("heading", name="Create Webhook Endpoint")).to_be_visible()
    expect(app.get_by_text("No endpoints yet.")).to_be_visible()
    endpoint_url = app.get_by_label("Endpoint URL")
    endpoint_url.focus()
    app.keyboard.press("ControlOrMeta+V")  # the URL copied on the settings page
    expect(endpoint_url).to_have_value(url)
    app.get_by_label("Description").fill("b2binvoice")
    event = app.get_by_role("checkbox", name="Issued invoice: state change (issued_invoice.state_change)")
    event.check()
    app.get_by_role("checkbox", name="Tax report: state change (tax_report.state_change)").check()
    expect(app.get_by_role("checkbox", name="All events (*)")).not_to_be_checked()
    app.get_by_role("button", name="Create endpoint").click()

    # The signing secret is shown once, right after the endpoint is created.
    created = app.locator("#signing-secret")
    expect(created.get_by_role("heading", name="Webhook endpoint created")).to_be_visible()
    expect(created).to_contain_text(f"Endpoint: {url}")
    secret = app.get_by_label("Webhook Secret").input_value()
    assert secret.startswith("whsec_")
    [hook] = demo.api("GET", "/web_hooks")["web_hooks"]
    assert hook["url"] == url and hook["events"] == ["issued_invoice.state_change", "tax_report.state_change"]

    # Shown once: reloaded, the page lists the endpoint with its secret masked.
    app.reload()
    expect(app.locator("#signing-secret")).to_have_count(0)
    endpoint = app.locator("section.endpoint")
    expect(endpoint).to_have_count(1)
    expect(endpoint.get_by_role("heading")).to_have_text(f"{url} · b2binvoice")
    expect(endpoint).to_contain_text("Events: issued_invoice.state_change, tax_report.state_change · enabled")
    expect(endpoint).to_contain_text("secret whsec_••••••••")
    expect(endpoint).to_contain_text("No deliveries yet.")
    assert secret not in app.content()
    screenshot("sim-webhooks-endpoint")

    # Back in the app, the secret is pasted into the settings.
    app.goto(f"{demo.url}/settings/integrations/b2brouter/")
    app.get_by_label("Signing secret").fill(secret)
    app.get_by_role("button", name="Save signing secret").click()
    expect(app.locator(".b2b-flash-success")).to_have_text(
        f"Signing secret saved: notifications B2Brouter sends to {url} are now checked with it.")
    expect(webhook).to_have_attribute("data-status", "registered")
    expect(webhook).to_have_attribute("data-setup", "manual")
    expect(webhook).to_contain_text("Signing secret saved; no notification received yet.")
    expect(webhook.locator(".b2b-masked-secret")).to_have_text(f"Stored secret: ••••{secret[-4:]}. Paste a new one "
                                                               "to replace it.")
    expect(app.get_by_label("Signing secret")).to_have_value("")  # never rendered back
    expect(receiver).to_have_text(url)
    assert secret not in app.content()
    screenshot("settings-webhook-secret-saved")

    # LD-0008 is created and sent; the recipient accepts it; each state is notified, signed with that secret.
    app.goto(demo.invoice_page("LD-0008"))
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirm_create(app)
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")
    [remote] = [r for r in demo.remote_invoices() if r["number"] == "LD-0008"]
    for _ in range(2):
        httpx.post(f"{demo.sim_url}/_control/invoices/{remote['id']}/advance", timeout=10).raise_for_status()
    run_due_tasks()
    deliveries = SimWebhookDelivery.objects.filter(event__invoice_id=remote["id"]).order_by("pk")
    assert [(d.event.state, d.status, d.status_code) for d in deliveries] == [
        ("sending", "delivered", 200), ("sent", "delivered", 200), ("accepted", "delivered", 200)]
    assert list(WebhookEvent.objects.order_by("pk").values_list("state", "outcome")) == [
        ("sending", "applied"), ("sent", "applied"), ("accepted", "applied")]
    app.reload()
    expect(section(app).locator("dl.b2b-facts .b2b-badge")).to_have_text("accepted")

    app.goto(f"{demo.url}/settings/integrations/b2brouter/")
    expect(webhook).to_have_attribute("data-status", "receiving")
    expect(webhook.locator("code.b2b-webhook-url")).to_have_text(url)

    # The simulator's Webhooks page lists the three deliveries, each answered 200 by the app.
    app.goto(hooks_page)
    rows = app.locator("section.endpoint tbody tr")
    expect(rows).to_have_count(3)
    for i, state in enumerate(("sending", "sent", "accepted")):
        expect(rows.nth(i).locator("td").nth(2)).to_have_text(state)
        expect(rows.nth(i).locator("td").nth(3)).to_have_text("delivered")
        expect(rows.nth(i).locator("td").nth(5)).to_have_text("200")
