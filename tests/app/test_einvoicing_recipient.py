"""Who an e-invoice goes to, and what leaves: the recipient check, the confirmation, Delete in B2Brouter."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest

from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink, LinkStatus
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    CLIENT_TIN,
    CONFIRM_TOKEN,
    Counting,
    _b2brouter_settings,
    account,
    company,
    confirmed,
    contact_for,
    customer,
    integration,
    make_invoice,
    other_web,
    sim,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db

#: Another company's valid Spanish tax id.
OTHER_TIN = "ESA58818501"
#: The client's new tax id after its change of legal form.
NEW_TIN = "ESA78304516"


def page_of(response) -> str:
    """Return a response's text as a user reads it (entities decoded)."""
    return html.unescape(response.content.decode())


def section(web, invoice) -> str:
    response = web.get(f"/invoices/{invoice.pk}/b2brouter/")
    assert response.status_code == 200
    return page_of(response)


def create_url(invoice) -> str:
    return f"/invoices/{invoice.pk}/b2brouter/create/"


def send_url(invoice) -> str:
    return f"/invoices/{invoice.pk}/b2brouter/send/"


def other_company_contact(sim, account, **extra):
    data, key = account
    return sim.create_contact(data["id"], key, name="Otra Empresa Receptora S.A.", tin_value=OTHER_TIN, country="es",
                              is_client=True, **extra)


def remote_contact(sim, account, contact_id):
    return sim.api("GET", f"/contacts/{contact_id}", account[1])["contact"]


def unsent(integration):
    integration.send_after_create = False
    integration.save()


# --- The recipient, shown -------------------------------------------------------------------------


def test_the_checklist_and_the_linked_section_show_the_recipient(web, company, account, integration, customer, vat,
                                                                 sim):
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    page = section(web, invoice)
    assert (f"Goes to B2Brouter contact #{contact['id']}: Übersetzungen Kunde S.A. · tax id {CLIENT_TIN} · ES"
            in page)
    assert 'data-check="recipient"' in page and 'class="fail"' not in page

    confirmed(web, create_url(invoice))
    page = section(web, invoice)
    assert InvoiceLink.objects.get(invoice=invoice).contact_id == contact["id"]
    assert f"Übersetzungen Kunde S.A. · tax id {CLIENT_TIN} · ES <span class=\"muted\">(B2Brouter contact #{contact['id']})" \
        in page


# --- Choosing an existing contact ------------------------------------------------------------------


def test_another_companys_contact_is_refused_and_nothing_is_sent(web, company, account, integration, customer, vat,
                                                                 sim):
    """The measured bug: choosing a contact with another tax id turned the checklist green and sent to it."""
    data, key = account
    other = other_company_contact(sim, account)
    invoice = make_invoice(company, customer, taxes=[vat])
    assert "No matching client in B2Brouter" in section(web, invoice)

    listing = page_of(web.get(f"/clients/{customer.pk}/b2brouter/contacts/?q=Empresa"))
    assert "Otra Empresa Receptora S.A." in listing and "Another tax id: not this client" in listing

    response = web.post(f"/clients/{customer.pk}/b2brouter/contacts/", {"b2brouter_id": other["id"],
                                                                        "next": f"/invoices/{invoice.pk}/"})
    assert response.status_code == 302 and "/b2brouter/contacts/" in response["Location"]
    refusal = page_of(web.get(response["Location"]))
    assert (f"Not linked: Contact #{other['id']} Otra Empresa Receptora S.A. has tax id {OTHER_TIN}, but "
            f"Übersetzungen Kunde S.A. has tax id {CLIENT_TIN}: it is another company's contact") in refusal
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id is None

    page = section(web, invoice)
    assert "No matching client in B2Brouter" in page
    assert confirmed(web, create_url(invoice)).status_code == 302
    assert sim.invoices(data["id"], key) == []
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()


def test_the_contact_with_the_clients_tax_id_written_otherwise_is_taken(web, company, account, integration, customer,
                                                                        vat, sim):
    data, key = account
    # Stored without the country prefix and with a dash: the same tax id.
    own = sim.create_contact(data["id"], key, name="Kunde (B2Brouter's spelling)", tin_value="b-58378431",
                             country="es", is_client=True)
    web.post(f"/clients/{customer.pk}/b2brouter/contacts/", {"b2brouter_id": own["id"]})
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id == own["id"]
    assert customer.b2brouter_contact_basis["client"]["tin"] == CLIENT_TIN
    assert customer.b2brouter_contact_basis["contact"]["name"] == "Kunde (B2Brouter's spelling)"


def test_a_contact_without_a_tax_id_is_refused_for_a_client_with_one(web, company, account, integration, customer,
                                                                     sim):
    data, key = account
    bare = sim.create_contact(data["id"], key, name="Kunde without tax id", country="es", is_client=True)
    web.post(f"/clients/{customer.pk}/b2brouter/contacts/", {"b2brouter_id": bare["id"], "confirm_no_tax_id": "1"})
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id is None


def test_a_client_without_a_tax_id_chooses_after_a_warning_it_confirms(web, company, account, integration, customer,
                                                                       vat, sim):
    customer.tin = ""
    customer.save()
    other = other_company_contact(sim, account)
    listing = page_of(web.get(f"/clients/{customer.pk}/b2brouter/contacts/?q=Empresa"))
    assert "has no tax id, so the contact you choose cannot be checked" in listing

    warning = page_of(web.post(f"/clients/{customer.pk}/b2brouter/contacts/", {"b2brouter_id": other["id"]}))
    assert (f"Übersetzungen Kunde S.A. has no tax id, so b2binvoice cannot check that contact #{other['id']} "
            f"Otra Empresa Receptora S.A. (tax id {OTHER_TIN}, ES) is this client") in warning
    assert "Yes, this is the client" in warning
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id is None

    web.post(f"/clients/{customer.pk}/b2brouter/contacts/", {"b2brouter_id": other["id"], "confirm_no_tax_id": "1"})
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id == other["id"]
    page = section(web, make_invoice(company, customer, taxes=[vat]))
    assert (f"Goes to B2Brouter contact #{other['id']}: Otra Empresa Receptora S.A. · tax id {OTHER_TIN} · ES "
            "(the client has no tax id to check it by)") in page


def test_a_contact_of_another_company_stored_earlier_blocks_the_invoice(web, company, account, integration, customer,
                                                                        vat, sim):
    """A wrong contact the old code stored is caught by the checklist: nothing goes to that company."""
    data, key = account
    other = other_company_contact(sim, account)
    type(customer).objects.filter(pk=customer.pk).update(b2brouter_contact_id=other["id"],
                                                         b2brouter_account_id=str(data["id"]))
    invoice = make_invoice(company, customer, taxes=[vat])
    page = section(web, invoice)
    assert 'data-check="recipient"' in page
    assert f"has tax id {OTHER_TIN}, but Übersetzungen Kunde S.A. has tax id {CLIENT_TIN}" in page
    assert "Forget this contact" in page

    confirmed(web, create_url(invoice))
    assert sim.invoices(data["id"], key) == []
    assert InvoiceEvent.objects.filter(invoice=invoice, type="create_blocked").exists()


# --- The contact out of date ----------------------------------------------------------------------


def change_legal_form(customer) -> None:
    """The client became an S.A.: new tax id and a new address (as edited on its page)."""
    customer.tin = NEW_TIN
    customer.address = "Avinguda Diagonal 640"
    customer.postal_code = "08017"
    customer.save()


def test_a_changed_client_holds_the_invoice_until_its_contact_is_updated(web, company, account, integration,
                                                                         customer, vat, sim):
    """The measured bug: after the tax id and address changed, the next invoice went out with the old ones."""
    data, key = account
    web.post(f"/clients/{customer.pk}/b2brouter/contact/")
    customer.refresh_from_db()
    contact_id = customer.b2brouter_contact_id
    first = make_invoice(company, customer, taxes=[vat])
    confirmed(web, create_url(first))
    assert len(sim.invoices(data["id"], key)) == 1

    change_legal_form(customer)
    second = make_invoice(company, customer, number="INV-0002", taxes=[vat])
    page = section(web, second)
    assert "The B2Brouter contact is out of date" in page
    assert (f"tax id {CLIENT_TIN} → {NEW_TIN}; address Calle Mayor 1 → Avinguda Diagonal 640; "
            "postal code 08001 → 08017") in page
    assert "Update contact in B2Brouter" in page and "The contact is still right" in page
    response = confirmed(web, create_url(second))
    assert response.status_code == 302
    assert len(sim.invoices(data["id"], key)) == 1  # nothing left with the old tax id and address
    assert InvoiceEvent.objects.filter(invoice=second, type="create_blocked").exists()

    response = web.post(f"/clients/{customer.pk}/b2brouter/contact/update/",
                        {"next": f"/invoices/{second.pk}/", "invoice": str(second.pk)})
    assert response.status_code == 302
    contact = remote_contact(sim, account, contact_id)
    assert (contact["tin_value"], contact["address"], contact["postalcode"]) == (
        NEW_TIN, "Avinguda Diagonal 640", "08017")
    page = section(web, second)
    assert f"Updated contact #{contact_id} in B2Brouter" in page
    assert '<li class="ok" data-check="contact_current">' in page
    assert f"Goes to B2Brouter contact #{contact_id}: Übersetzungen Kunde S.A. · tax id {NEW_TIN} · ES" in page

    confirmed(web, create_url(second))
    [sent] = [r for r in sim.invoices(data["id"], key) if r["number"] == "INV-0002"]
    assert sent["contact_id"] == contact_id and sent["state"] in ("sending", "sent")
    assert remote_contact(sim, account, contact_id)["tin_value"] == NEW_TIN


def test_the_contact_confirmed_still_right_after_an_address_change(web, company, account, integration, customer, vat,
                                                                   sim):
    data, key = account
    web.post(f"/clients/{customer.pk}/b2brouter/contact/")
    customer.refresh_from_db()
    customer.address = "Calle Mayor 1, 2º"
    customer.save()
    invoice = make_invoice(company, customer, taxes=[vat])
    assert "The B2Brouter contact is out of date" in section(web, invoice)
    client_page = page_of(web.get(f"/clients/{customer.pk}/"))
    assert "The B2Brouter contact is out of date" in client_page

    web.post(f"/clients/{customer.pk}/b2brouter/contact/confirm/")
    assert '<li class="ok" data-check="contact_current">' in section(web, invoice)
    assert remote_contact(sim, account, customer.b2brouter_contact_id)["address"] == "Calle Mayor 1"  # untouched
    confirmed(web, create_url(invoice))
    assert len(sim.invoices(data["id"], key)) == 1


def test_a_changed_tax_id_cannot_be_confirmed_as_still_right(web, company, account, integration, customer, vat, sim):
    web.post(f"/clients/{customer.pk}/b2brouter/contact/")
    customer.refresh_from_db()
    change_legal_form(customer)
    response = web.post(f"/clients/{customer.pk}/b2brouter/contact/confirm/", follow=True)
    assert "The contact cannot be confirmed as still right" in page_of(response)
    assert "The B2Brouter contact is out of date" in section(web, make_invoice(company, customer, taxes=[vat]))


def test_an_update_to_a_tax_id_another_contact_has_is_explained(web, company, account, integration, customer, sim):
    web.post(f"/clients/{customer.pk}/b2brouter/contact/")
    customer.refresh_from_db()
    other_company_contact(sim, account)
    customer.tin = OTHER_TIN
    customer.save()
    response = web.post(f"/clients/{customer.pk}/b2brouter/contact/update/", follow=True)
    text = page_of(response)
    assert f"another of its contacts already has tax id {OTHER_TIN}" in text
    assert "Tin value has already been taken" in text  # B2Brouter's own words, quoted
    assert remote_contact(sim, account, customer.b2brouter_contact_id)["tin_value"] == CLIENT_TIN


def test_sending_waits_for_an_out_of_date_contact(web, company, account, integration, customer, vat, sim):
    data, key = account
    unsent(integration)
    web.post(f"/clients/{customer.pk}/b2brouter/contact/")
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, create_url(invoice))
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.state == "new"

    customer.refresh_from_db()
    change_legal_form(customer)
    page = section(web, invoice)
    assert "The B2Brouter contact is out of date" in page and "Update contact in B2Brouter" in page
    response = confirmed(web, send_url(invoice))
    assert response.status_code == 302
    assert sim.invoices(data["id"], key)[0]["state"] == "new"
    assert "Not sent: The B2Brouter contact is out of date" in section(web, invoice)

    web.post(f"/clients/{customer.pk}/b2brouter/contact/update/")
    confirmed(web, send_url(invoice))
    assert sim.invoices(data["id"], key)[0]["state"] in ("sending", "sent")


# --- Confirm before a legal document leaves --------------------------------------------------------


def test_create_shows_what_leaves_and_acts_only_on_the_confirmation(web, company, account, integration, customer,
                                                                    vat, sim):
    data, key = account
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])  # 1234 x 0.085 = 104.89; IVA 22.03; total 126.92

    asked = web.post(create_url(invoice))
    assert asked.status_code == 200
    text = page_of(asked)
    assert "Create invoice INV-0001 in B2Brouter?" in text
    assert "INV-0001" in text and "Übersetzungen Kunde S.A." in text and CLIENT_TIN in text
    assert f"B2Brouter contact #{contact['id']}" in text
    assert "126.92 EUR" in text
    assert "B2Brouter will send it to Übersetzungen Kunde S.A. right away" in text
    assert "Confirm: create and send" in text
    assert sim.invoices(data["id"], key) == [] and not InvoiceLink.objects.exists()
    assert page_of(web.get(create_url(invoice))).count("126.92 EUR") == 1  # the page, without htmx

    # A crafted POST with a made-up token is shown the confirmation again; nothing leaves.
    forged = web.post(create_url(invoice), {"confirm": "0" * 64})
    assert forged.status_code == 200 and "What would be sent changed since it was shown" in page_of(forged)
    assert sim.invoices(data["id"], key) == []

    token = CONFIRM_TOKEN.search(asked.content.decode())[1]
    response = web.post(create_url(invoice), {"confirm": token})
    assert response.status_code == 302
    [remote] = sim.invoices(data["id"], key)
    assert remote["total"] == "126.92" and remote["contact_id"] == contact["id"]


def test_a_confirmation_of_other_figures_sends_nothing(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    token = CONFIRM_TOKEN.search(web.post(create_url(invoice)).content.decode())[1]
    invoice.lines.update(quantity=Decimal("2000"))  # edited in another tab after the confirmation was shown
    response = web.post(create_url(invoice), {"confirm": token})
    assert "What would be sent changed since it was shown" in page_of(response)
    assert "205.70 EUR" in page_of(response)  # 2000 x 0.085 = 170.00 + IVA 35.70
    assert sim.invoices(data["id"], key) == []


def test_with_send_after_create_off_the_confirmation_says_it_stays_unsent(web, company, account, integration,
                                                                           customer, vat, sim):
    unsent(integration)
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    text = page_of(web.post(create_url(invoice)))
    assert "It is created unsent in B2Brouter (Send after create is off): you send it after checking it" in text
    assert "Confirm: create unsent" in text and "right away" not in text
    confirmed(web, create_url(invoice))
    assert InvoiceLink.objects.get(invoice=invoice).state == "new"

    # Send asks too, naming the B2Brouter invoice and the recipient.
    link = InvoiceLink.objects.get(invoice=invoice)
    text = page_of(web.post(send_url(invoice)))
    assert "Send invoice INV-0001 through B2Brouter?" in text and f"#{link.b2brouter_id}" in text
    assert "B2Brouter will send it to Übersetzungen Kunde S.A. right away" in text
    assert sim.invoices(account[0]["id"], account[1])[0]["state"] == "new"
    confirmed(web, send_url(invoice))
    assert sim.invoices(account[0]["id"], account[1])[0]["state"] in ("sending", "sent")


def test_send_after_create_is_explained_where_it_is_set(web, integration):
    text = page_of(web.get("/settings/integrations/b2brouter/"))
    assert "sends it to the recipient right away" in text
    assert "Off: invoices are created unsent in B2Brouter, and you send each one with Send after checking it" in text


def test_the_confirmation_answers_in_place_with_htmx(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    asked = web.post(create_url(invoice), HTTP_HX_REQUEST="true")
    body = asked.content.decode()
    assert body.lstrip().startswith('<section id="b2brouter-section"')
    assert f'hx-post="{create_url(invoice)}"' in body
    token = CONFIRM_TOKEN.search(body)[1]
    done = web.post(create_url(invoice), {"confirm": token}, HTTP_HX_REQUEST="true")
    # The invoice is issued now: the whole page is loaded again, and its section tells the result.
    assert done["HX-Refresh"] == "true"
    assert "totals match and it was sent" in web.get(f"/invoices/{invoice.pk}/").content.decode()


def test_a_confirmed_create_reads_the_recipient_once(web, company, account, integration, customer, vat, sim,
                                                     settings):
    data, key = account
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    transport = Counting()
    settings.B2BROUTER_TRANSPORT_FACTORY = lambda: transport

    asked = web.post(create_url(invoice))
    assert transport.reads_of(contact["id"]) == 1  # the confirmation shows the contact as B2Brouter has it
    response = web.post(create_url(invoice), {"confirm": CONFIRM_TOKEN.search(asked.content.decode())[1]})
    assert response.status_code == 302
    # The token is checked against the contact read once, and the create addresses what was checked.
    assert transport.reads_of(contact["id"]) == 1
    [remote] = sim.invoices(data["id"], key)
    assert remote["contact_id"] == contact["id"]


def test_two_quick_confirmations_create_one_invoice(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    token = CONFIRM_TOKEN.search(web.post(create_url(invoice)).content.decode())[1]
    first = web.post(create_url(invoice), {"confirm": token})
    second = web.post(create_url(invoice), {"confirm": token})
    assert first.status_code == second.status_code == 302
    assert len(sim.invoices(data["id"], key)) == 1
    assert InvoiceEvent.objects.filter(invoice=invoice, type="created").count() == 1
    assert InvoiceEvent.objects.filter(invoice=invoice, type="create_refused").count() == 1
    assert "nothing was sent again" in section(web, invoice)


# --- Delete in B2Brouter ---------------------------------------------------------------------------


def test_an_unsent_invoice_is_deleted_in_b2brouter_and_can_be_created_again(web, company, account, integration,
                                                                            customer, vat, sim):
    data, key = account
    unsent(integration)
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, create_url(invoice))
    link = InvoiceLink.objects.get(invoice=invoice)
    assert "Delete in B2Brouter" in section(web, invoice)

    ask = page_of(web.get(f"/invoices/{invoice.pk}/b2brouter/delete/"))
    assert f"Delete B2Brouter invoice #{link.b2brouter_id}?" in ask
    assert "Invoice INV-0001 stays here, no longer linked, and can be created again." in ask
    response = web.post(f"/invoices/{invoice.pk}/b2brouter/delete/")
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    assert sim.invoices(data["id"], key) == []
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()
    page = section(web, invoice)
    assert f"Deleted invoice #{link.b2brouter_id} in B2Brouter" in page
    assert "This invoice is not linked to a B2Brouter invoice." in page
    assert "Deleted in B2Brouter" in page  # the history
    assert InvoiceEvent.objects.filter(invoice=invoice, type="deleted_remote", b2brouter_id=link.b2brouter_id).exists()

    confirmed(web, create_url(invoice))
    [again] = sim.invoices(data["id"], key)
    assert again["id"] != link.b2brouter_id
    assert InvoiceLink.objects.get(invoice=invoice).b2brouter_id == again["id"]


def test_an_invoice_whose_delivery_failed_can_be_deleted(web, company, account, integration, customer, vat, sim):
    data, key = account
    sim.create_contact(data["id"], key, name=customer.name, tin_value=customer.tin, country="es", is_client=True,
                       scenario="fail")
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, create_url(invoice))
    link = InvoiceLink.objects.get(invoice=invoice)
    for _ in range(3):
        if sim.api("GET", f"/invoices/{link.b2brouter_id}", key)["invoice"]["state"] == "error":
            break
        sim.api("POST", f"/_control/invoices/{link.b2brouter_id}/advance", key)
    web.post(f"/invoices/{invoice.pk}/b2brouter/refresh/")
    assert InvoiceLink.objects.get(invoice=invoice).state == "error"
    assert "Delete in B2Brouter" in section(web, invoice)
    web.post(f"/invoices/{invoice.pk}/b2brouter/delete/")
    assert sim.invoices(data["id"], key) == []
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()


def test_a_sent_invoice_is_corrected_by_a_credit_note_not_deleted(web, company, account, integration, customer, vat,
                                                                  sim):
    data, key = account
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, create_url(invoice))
    link = InvoiceLink.objects.get(invoice=invoice)
    page = section(web, invoice)
    assert "Sent invoices cannot be deleted: correct it with a credit note" in page
    assert f'<a href="/invoices/{invoice.pk}/">Open invoice INV-0001</a>' in page
    assert f"/invoices/{invoice.pk}/b2brouter/delete/" not in page

    response = web.get(f"/invoices/{invoice.pk}/b2brouter/delete/")
    assert response.status_code == 302
    web.post(f"/invoices/{invoice.pk}/b2brouter/delete/")
    assert [r["id"] for r in sim.invoices(data["id"], key)] == [link.b2brouter_id]
    assert InvoiceLink.objects.get(invoice=invoice).status == LinkStatus.LINKED


def test_an_invoice_sent_behind_our_back_is_not_deleted(web, company, account, integration, customer, vat, sim):
    data, key = account
    unsent(integration)
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, create_url(invoice))
    link = InvoiceLink.objects.get(invoice=invoice)
    sim.api("POST", f"/invoices/send_invoice/{link.b2brouter_id}", key)  # sent from B2Brouter's web app

    web.post(f"/invoices/{invoice.pk}/b2brouter/delete/")
    assert [r["id"] for r in sim.invoices(data["id"], key)] == [link.b2brouter_id]
    link.refresh_from_db()
    assert link.state in ("sending", "sent")
    assert "Sent invoices cannot be deleted: correct it with a credit note" in section(web, invoice)
    assert InvoiceEvent.objects.filter(invoice=invoice, type="delete_failed").exists()


# --- Only the company's members ---------------------------------------------------------------------


def test_the_new_pages_are_the_companys_own(other_web, web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    web.post(f"/clients/{customer.pk}/b2brouter/match/")
    for method, url in [("get", create_url(invoice)), ("get", send_url(invoice)),
                        ("get", f"/invoices/{invoice.pk}/b2brouter/delete/"),
                        ("post", f"/invoices/{invoice.pk}/b2brouter/delete/"),
                        ("post", f"/clients/{customer.pk}/b2brouter/contact/update/"),
                        ("post", f"/clients/{customer.pk}/b2brouter/contact/confirm/")]:
        assert getattr(other_web, method)(url).status_code == 404, url
