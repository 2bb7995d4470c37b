"""Who an e-invoice goes to and what leaves, walked in a browser: the README's steps on the recipient check,
the confirmation before Create and Send, and Delete in B2Brouter.

Same set-up as ``test_demo_walkthrough.py``: the two demo seeds, the app reaching the simulator over
real HTTP on the live server.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from b2binvoice.clients.models import Client
from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink
from tests.e2e.test_demo_walkthrough import (  # noqa: F401 (fixtures)
    Demo,
    app,
    check,
    connected,
    demo,
    section,
    sim_over_http,
)

LUMIERE = "Traductions Lumière SARL"
SOL_Y_MAR = "Editorial Sol y Mar S.L."


def client_page(demo: Demo, name: str) -> str:
    return f"{demo.url}/clients/{Client.objects.get(name=name).pk}/"


def test_the_recipient_is_shown_and_create_asks_first(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    app.goto(demo.invoice_page("LD-0002"))
    contact_id = Client.objects.get(name=LUMIERE).b2brouter_contact_id  # matched by tax id as the page opened
    recipient = check(app, "recipient")
    expect(recipient).to_have_class("ok")
    expect(recipient).to_contain_text(
        f"Goes to B2Brouter contact #{contact_id}: {LUMIERE} · tax id FR40303265045 · FR")
    expect(check(app, "contact_current")).to_have_class("ok")
    screenshot("recipient-checklist")

    # Create shows what leaves, to whom, and that it leaves right away; nothing is sent yet.
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    confirmation = section(app).locator(".b2b-outgoing")
    expect(confirmation.get_by_role("heading", name="Create invoice LD-0002 in B2Brouter?")).to_be_visible()
    expect(confirmation.locator('[data-field="number"]')).to_contain_text("LD-0002")
    expect(confirmation.locator('[data-field="recipient"]')).to_have_text(
        f"{LUMIERE} · tax id FR40303265045 · FR (B2Brouter contact #{contact_id})")
    expect(confirmation.locator('[data-field="total"]')).to_have_text("545.11 EUR")
    expect(confirmation.locator("[data-consequence]")).to_have_text(
        f"B2Brouter will send it to {LUMIERE} right away: it is a legal invoice once sent, and only a credit note "
        "can correct it then.")
    screenshot("create-confirm")
    assert not [r for r in demo.remote_invoices() if r["number"] == "LD-0002"]

    # Cancel sends nothing; the second time it is confirmed.
    confirmation.get_by_role("link", name="Cancel").click()
    expect(section(app)).to_contain_text("This invoice is not linked to a B2Brouter invoice.")
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    section(app).get_by_role("button", name="Confirm: create and send").click()
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")
    [remote] = [r for r in demo.remote_invoices() if r["number"] == "LD-0002"]
    assert remote["contact_id"] == contact_id
    expect(section(app).locator("dd.b2b-recipient")).to_have_text(
        f"{LUMIERE} · tax id FR40303265045 · FR (B2Brouter contact #{contact_id})")

    # A sent invoice is not deleted: the page says how it is corrected.
    refused = section(app).locator('[data-delete="refused"]')
    expect(refused).to_contain_text("Sent invoices cannot be deleted: correct it with a credit note")
    expect(refused.get_by_role("link", name="Open invoice LD-0002")).to_have_attribute(
        "href", f"/invoices/{InvoiceLink.objects.get(b2brouter_id=remote['id']).invoice_id}/")
    expect(section(app).get_by_role("link", name="Delete in B2Brouter", exact=True)).to_have_count(0)
    screenshot("invoice-sent-cannot-delete")


def test_another_companys_contact_is_refused(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    app.goto(demo.invoice_page("LD-0004"))
    expect(check(app, "contact")).to_have_class("fail")
    check(app, "contact").get_by_role("link", name="Choose an existing contact").click()

    expect(app.get_by_role("heading", name=f"Choose the B2Brouter contact of {SOL_Y_MAR}")).to_be_visible()
    expect(app.locator(".b2b-page")).to_contain_text(
        "Only a contact with the client's tax id (ESB58378431) can be chosen")
    app.get_by_label("Name or tax id").fill("Traductions")
    app.get_by_role("button", name="Search").click()
    row = app.locator("tr", has_text=LUMIERE)
    expect(row).to_contain_text("FR40303265045")
    expect(row).to_contain_text("✗ Another tax id: not this client")
    button = row.get_by_role("button", name="This is the client")
    expect(button).to_be_disabled()
    screenshot("contact-chooser-refuses")

    # A forced submit is refused by the server too, with the reason.
    button.evaluate("button => { button.disabled = false; }")
    button.click()
    flash = app.locator(".b2b-flash-error")
    expect(flash).to_contain_text(f"has tax id FR40303265045, but {SOL_Y_MAR} has tax id ESB58378431: it is another "
                                  "company's contact, and an invoice addressed to it would go to that company.")
    assert Client.objects.get(name=SOL_Y_MAR).b2brouter_contact_id is None

    app.goto(demo.invoice_page("LD-0004"))
    expect(check(app, "contact")).to_have_class("fail")
    expect(section(app).get_by_role("button", name="Create B2Brouter invoice")).to_be_disabled()


def test_an_out_of_date_contact_is_updated_in_b2brouter(app: Page, connected: Demo, screenshot: Any) -> None:
    demo = connected
    app.goto(demo.invoice_page("LD-0002"))
    expect(check(app, "contact_current")).to_have_class("ok")
    contact_id = Client.objects.get(name=LUMIERE).b2brouter_contact_id

    # The client moves: its address is edited on its page.
    app.goto(client_page(demo, LUMIERE))
    app.get_by_role("link", name="Edit").click()
    app.get_by_label("Address", exact=True).fill("48 Quai Saint-Antoine")
    app.get_by_role("button", name="Save").click()
    client_section = app.locator("#b2brouter-client-section")
    expect(client_section.locator('[data-contact="out-of-date"]')).to_contain_text(
        "The B2Brouter contact is out of date")

    app.goto(demo.invoice_page("LD-0002"))
    current = check(app, "contact_current")
    expect(current).to_have_class("fail")
    expect(current).to_contain_text(
        f"The B2Brouter contact is out of date: {LUMIERE} changed since contact #{contact_id} was matched or created "
        "(address 12 Rue de la République → 48 Quai Saint-Antoine). Update the contact in B2Brouter with the "
        "client's data, or confirm that the contact is still right.")
    expect(section(app).get_by_role("button", name="Create B2Brouter invoice")).to_be_disabled()
    screenshot("recipient-out-of-date")

    current.get_by_role("button", name="Update contact in B2Brouter").click()
    expect(app).to_have_url(demo.invoice_page("LD-0002"))
    expect(section(app).locator(".b2b-flash-success")).to_have_text(
        f"Updated contact #{contact_id} in B2Brouter with the name, tax id, address and country of {LUMIERE}.")
    expect(check(app, "contact_current")).to_have_class("ok")
    expect(section(app).locator("li.fail")).to_have_count(0)
    screenshot("recipient-updated")
    remote = demo.api("GET", f"/contacts/{contact_id}")["contact"]
    assert (remote["address"], remote["postalcode"]) == ("48 Quai Saint-Antoine", "69002")

    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    section(app).get_by_role("button", name="Confirm: create and send").click()
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("totals match and it was sent.")


def test_send_asks_first_and_an_unsent_invoice_is_deleted_in_b2brouter(app: Page, connected: Demo,
                                                                      screenshot: Any) -> None:
    demo = connected
    # Send after create is explained where it is set; here it is turned off.
    app.goto(f"{demo.url}/settings/integrations/b2brouter/")
    field = app.locator(".b2b-field", has=app.get_by_label("Send after create"))
    expect(field).to_contain_text("sends it to the recipient right away")
    expect(field).to_contain_text("Off: invoices are created unsent in B2Brouter")
    app.get_by_label("Send after create").uncheck()
    app.get_by_role("button", name="Update").click()
    expect(app.locator(".b2b-flash-success")).to_be_visible()

    # LD-0001 is linked to the invoice B2Brouter already has (walkthrough step 5): it is new.
    [existing] = [r for r in demo.remote_invoices() if r["number"] == "LD-0001"]
    app.goto(demo.invoice_page("LD-0001"))
    section(app).get_by_role("link", name="Link existing B2Brouter invoice").click()
    app.locator(f'tr[data-candidate="{existing["id"]}"]').get_by_role("button", name="Link this invoice").click()
    expect(section(app).locator(".b2b-badge")).to_have_text("new")

    # Send asks first, naming the B2Brouter invoice and the recipient.
    section(app).get_by_role("button", name="Send", exact=True).click()
    confirmation = section(app).locator(".b2b-outgoing")
    expect(confirmation.get_by_role("heading", name="Send invoice LD-0001 through B2Brouter?")).to_be_visible()
    expect(confirmation.locator('[data-field="b2brouter_id"]')).to_have_text(f"#{existing['id']}")
    expect(confirmation.locator('[data-field="recipient"]')).to_contain_text(
        "Nordlicht Übersetzungen GmbH · tax id DE136695976 · DE")
    expect(confirmation.locator('[data-field="total"]')).to_have_text("1,234.20 EUR")
    expect(confirmation.locator("[data-consequence]")).to_contain_text(
        "B2Brouter will send it to Nordlicht Übersetzungen GmbH right away")
    screenshot("send-confirm")
    confirmation.get_by_role("link", name="Cancel").click()
    assert [r["state"] for r in demo.remote_invoices() if r["number"] == "LD-0001"] == ["new"]

    # The unsent invoice is deleted in B2Brouter, after a confirmation; it can be created again.
    section(app).get_by_role("link", name="Delete in B2Brouter", exact=True).click()
    expect(app.get_by_role("heading", name=f"Delete B2Brouter invoice #{existing['id']}?")).to_be_visible()
    expect(app.locator(".plate-warn")).to_contain_text("Invoice LD-0001 stays here, no longer linked, and can be "
                                                       "created again.")
    screenshot("delete-confirm")
    app.get_by_role("button", name="Delete in B2Brouter").click()
    expect(app).to_have_url(demo.invoice_page("LD-0001"))
    expect(section(app).locator(".b2b-flash-success")).to_have_text(
        f"Deleted invoice #{existing['id']} in B2Brouter. Invoice LD-0001 is no longer linked and can be created "
        "again.")
    expect(section(app)).to_contain_text("This invoice is not linked to a B2Brouter invoice.")
    history = section(app).locator(".b2b-events")
    history.locator("summary").click()
    expect(history.locator("tbody tr", has_text="Deleted in B2Brouter")).to_contain_text(f"#{existing['id']}")
    screenshot("deleted-in-b2brouter")
    assert not [r for r in demo.remote_invoices() if r["number"] == "LD-0001"]
    assert InvoiceEvent.objects.filter(invoice__number="LD-0001", type="deleted_remote").exists()

    # Created again; with Send after create off the confirmation says it stays unsent.
    section(app).get_by_role("button", name="Create B2Brouter invoice").click()
    expect(section(app).locator("[data-consequence]")).to_have_text(
        "It is created unsent in B2Brouter (Send after create is off): you send it after checking it, with Send.")
    section(app).get_by_role("button", name="Confirm: create unsent").click()
    expect(section(app).locator(".b2b-flash-success")).to_contain_text("It was not sent")
    [again] = [r for r in demo.remote_invoices() if r["number"] == "LD-0001"]
    assert again["id"] != existing["id"] and again["state"] == "new"
    expect(section(app).locator("dl.b2b-facts")).to_contain_text(f"#{again['id']}")
