"""B2Brouter's directory: how a client receives invoices, looked up when its contact is created, remembered, never blocking."""

from __future__ import annotations

import html
import json
import re
import httpx
import pytest
from django.test import Client as HttpClient

from b2binvoice.clients.models import Client
from b2binvoice.einvoicing.models import DirectoryCheck, DirectoryOutcome, InvoiceLink
from tests.app.test_einvoicing_settings import answering, b2brouter_error
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    CLIENT_TIN,
    _b2brouter_settings,
    account,
    bank,
    company,
    confirmed,
    customer,
    integration,
    make_invoice,
    other_web,
    section,
    sim,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db

PEPPOL = ("Reachable on Peppol: B2Brouter will deliver invoices through Peppol (document type "
          "xml.ubl.invoice.bis3).")
UNLISTED = ("Not in B2Brouter's directory: B2Brouter will deliver by its default channel for this contact (e.g. email "
            "or PDF); check the contact's email.")
# The identifier the contact is sent with: Spain's VAT scheme and the TIN with its country prefix.
LOOKUP = ("es", "9920", CLIENT_TIN)
LOOKUP_PATH = f"/sim/directory/es/9920/{CLIENT_TIN}"


def text(web: HttpClient, url: str) -> str:
    """Return a page as its reader sees the text (entities decoded, whitespace collapsed)."""
    response = web.get(url)
    assert response.status_code == 200
    content = response.content.decode().replace("<q>", "“").replace("</q>", "”")  # quotes a browser draws
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


def client_page(web: HttpClient, client: Client) -> str:
    return text(web, f"/clients/{client.pk}/")


def client_page_and_html(web: HttpClient, client: Client) -> tuple[str, str]:
    """Return the client page as read and as served (one request: a flash is shown once)."""
    raw = web.get(f"/clients/{client.pk}/").content.decode()
    content = raw.replace("<q>", "“").replace("</q>", "”")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split()), raw


def create_contact(web: HttpClient, client: Client, **extra: str):
    response = web.post(f"/clients/{client.pk}/b2brouter/contact/", extra)
    assert response.status_code == 302
    client.refresh_from_db()
    return response


def directory_calls(calls: list[str]) -> list[str]:
    return [call for call in calls if "/directory/" in call]


# --- The three answers --------------------------------------------------------------------------


def test_a_client_on_peppol_is_told_so_when_its_contact_is_created(web, integration, customer, sim, settings):
    sim.list_participant(*LOOKUP, name="Übersetzungen Kunde S.A.")
    calls = answering(settings, lambda request: None)
    create_contact(web, customer)

    assert customer.b2brouter_contact_id is not None
    assert directory_calls(calls) == [f"GET {LOOKUP_PATH}"]
    check = DirectoryCheck.objects.get(client=customer)
    assert (check.outcome, check.transport_type_code, check.document_type_code) == (
        DirectoryOutcome.PEPPOL, "peppol", "xml.ubl.invoice.bis3")
    page = client_page(web, customer)
    assert "Created contact" in page
    assert PEPPOL in page
    assert "Listed as “Übersetzungen Kunde S.A.”." in page
    assert re.search(r"Checked at \d{4}-\d{2}-\d{2} \d{2}:\d{2}\. Check again", page)


def test_a_client_listed_with_another_transport_is_told_which(web, integration, customer, sim):
    sim.list_participant(*LOOKUP, transport_type_code="email", document_type_code="pdf.invoice")
    create_contact(web, customer)
    page = client_page(web, customer)
    assert "Listed in B2Brouter's directory: delivered by email. Document type pdf.invoice." in page
    assert "Reachable on Peppol" not in page


def test_a_client_not_listed_is_told_to_check_the_contact_email(web, integration, customer, sim):
    customer.email = "billing@kunde.example"
    customer.save()
    create_contact(web, customer)
    assert DirectoryCheck.objects.get(client=customer).outcome == DirectoryOutcome.UNLISTED
    page = client_page(web, customer)
    assert f"{UNLISTED} The client's email is billing@kunde.example." in page

    customer.email = ""
    customer.save()
    assert f"{UNLISTED} Übersetzungen Kunde S.A. has no email: add one." in client_page(web, customer)


def test_the_lookup_uses_the_identifier_the_contact_is_sent_with(web, company, integration, sim, settings):
    # A Spanish NIF typed without its prefix is sent (and looked up) as ES + NIF under scheme 9920;
    # a German VAT number under 9930.
    spanish = Client.objects.create(company=company, name="Sin Prefijo S.L.", tin="b-58378431", country="ES")
    german = Client.objects.create(company=company, name="Kunde GmbH", tin="DE 136 695 976", country="DE")
    calls = answering(settings, lambda request: None)
    create_contact(web, spanish)
    create_contact(web, german)
    assert directory_calls(calls) == ["GET /sim/directory/es/9920/ESB58378431", "GET /sim/directory/de/9930/DE136695976"]
    contacts = {c["name"]: c for c in sim.api("GET", f"/accounts/{integration.account_id}/contacts",
                                                integration.api_key)["contacts"]}
    assert contacts["Sin Prefijo S.L."]["tin_value"] == "ESB58378431"
    assert contacts["Sin Prefijo S.L."]["tin_scheme"] == "9920"


def test_a_client_without_a_known_scheme_is_not_looked_up(web, company, integration, settings):
    american = Client.objects.create(company=company, name="Words Inc.", tin="12-3456789", country="US",
                                     email="ap@words.example")
    calls = answering(settings, lambda request: None)
    create_contact(web, american)
    assert american.b2brouter_contact_id is not None
    assert directory_calls(calls) == []
    assert "Not looked up in B2Brouter's directory: b2binvoice knows no identifier scheme for the tax ids of US." in \
        client_page(web, american)


# --- Remembered, and checked again on request -------------------------------------------------


def test_the_answer_is_remembered_and_checked_again_only_on_request(web, integration, customer, sim, settings):
    sim.list_participant(*LOOKUP)
    create_contact(web, customer)
    calls = answering(settings, lambda request: None)
    first = DirectoryCheck.objects.get(client=customer).checked_at

    # Page views read what was stored: no call to B2Brouter's directory.
    assert PEPPOL in client_page(web, customer)
    invoice = make_invoice(customer.company, customer)
    section(web, invoice)
    assert directory_calls(calls) == []

    # The participant leaves Peppol; the page still says what B2Brouter said then, until "Check again".
    sim.unlist_participant(*LOOKUP)
    assert PEPPOL in client_page(web, customer)
    response = web.post(f"/clients/{customer.pk}/b2brouter/directory/")
    assert response["Location"] == f"/clients/{customer.pk}/"
    assert directory_calls(calls) == [f"GET {LOOKUP_PATH}"]
    page = client_page(web, customer)
    assert UNLISTED in page and PEPPOL not in page
    assert "B2Brouter's directory was asked again at" in page
    assert DirectoryCheck.objects.get(client=customer).checked_at > first
    assert DirectoryCheck.objects.filter(client=customer).count() == 1


def test_a_client_never_checked_offers_the_check(web, integration, customer, sim):
    sim.list_participant(*LOOKUP)
    page = client_page(web, customer)
    assert "Not looked up in B2Brouter's directory yet" in page and "Check B2Brouter's directory" in page
    web.post(f"/clients/{customer.pk}/b2brouter/directory/")
    assert PEPPOL in client_page(web, customer)
    # Looking up does not create or match a contact: it only tells how delivery would go.
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id is None


def test_an_answer_about_an_older_tax_id_is_not_shown(web, integration, customer, sim):
    sim.list_participant(*LOOKUP)
    create_contact(web, customer)
    customer.tin = "ESA78304516"
    customer.save()
    page = client_page(web, customer)
    assert PEPPOL not in page
    assert "Not looked up in B2Brouter's directory yet" in page


def test_another_company_cannot_check_my_client(other_web, integration, customer):
    assert other_web.post(f"/clients/{customer.pk}/b2brouter/directory/").status_code == 404
    assert not DirectoryCheck.objects.exists()


def test_without_a_connected_integration_nothing_is_asked(web, company, customer):
    response = web.post(f"/clients/{customer.pk}/b2brouter/directory/")
    assert response.status_code == 302
    page = client_page(web, customer)
    assert "The B2Brouter integration is not enabled with working credentials" in page
    assert not DirectoryCheck.objects.exists()


# --- In the invoice checklist: information, never a blocker -------------------------------------


def test_the_checklist_shows_the_delivery_without_blocking(web, company, integration, customer, sim, vat, bank):
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    # Created from the invoice page: the checklist turns green and says how the invoice will travel.
    create_contact(web, customer, next=f"/invoices/{invoice.pk}/")
    page = section(web, invoice)
    item = re.search(r'<li class="info" data-check="directory">(.*?)</li>', page, re.S)
    assert item is not None
    assert "How B2Brouter delivers to Übersetzungen Kunde S.A." in item[1]
    assert html.unescape(UNLISTED) in html.unescape(item[1])
    assert 'data-directory="unlisted"' in item[1]
    assert 'class="fail"' not in page
    assert '<button type="submit" class="button-primary">Create B2Brouter invoice</button>' in page  # enabled

    # Check again from the checklist comes back to the invoice.
    sim.list_participant(*LOOKUP)
    response = web.post(f"/clients/{customer.pk}/b2brouter/directory/", {"next": f"/invoices/{invoice.pk}/"})
    assert response["Location"] == f"/invoices/{invoice.pk}/"
    assert PEPPOL in html.unescape(section(web, invoice))

    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert InvoiceLink.objects.get(invoice=invoice).state == "sending"


def test_the_checklist_says_nothing_about_a_client_never_looked_up(web, company, account, integration, customer,
                                                                  sim, vat):
    # A contact made in B2Brouter and found by tax id: no lookup has run, so the checklist has no line
    # for it; the client's page offers the check, and then the checklist shows the answer.
    data, key = account
    sim.create_contact(data["id"], key, name=customer.name, tin_value=customer.tin, country="es", is_client=True)
    sim.list_participant(*LOOKUP)
    invoice = make_invoice(company, customer, taxes=[vat])
    page = section(web, invoice)
    assert 'data-check="contact"' in page and 'data-check="directory"' not in page
    assert "Check B2Brouter's directory" in client_page(web, customer)
    web.post(f"/clients/{customer.pk}/b2brouter/directory/", {"next": f"/invoices/{invoice.pk}/"})
    page = section(web, invoice)
    assert 'data-check="directory"' in page and PEPPOL in html.unescape(page)
    assert 'class="fail"' not in page


# --- Errors: shown, escaped, never blocking ------------------------------------------------------


def on_directory(answer):
    """Answer the directory lookup with ``answer``; everything else goes to the simulator."""
    def route(request: httpx.Request) -> httpx.Response | None:
        return answer(request) if "/directory/" in request.url.path else None
    return route


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("simulated: the directory never answered", request=request)


ERRORS = {
    "not simulated (501)": (
        lambda request: b2brouter_error(501, "not_simulated", "<b>Not simulated</b>: /directory", "req_dir_501"),
        "This B2Brouter environment did not answer the directory lookup (501).", "<b>Not simulated</b>: /directory",
        "req_dir_501"),
    "path missing (404 without resource_missing)": (
        lambda request: httpx.Response(404, content=b"<html><body>Routing Error</body></html>",
                                       headers={"Content-Type": "text/html", "X-B2B-API-Request-Id": "req_dir_404"}),
        "This B2Brouter environment did not answer the directory lookup (404).", None, "req_dir_404"),
    "server error (500)": (
        lambda request: b2brouter_error(500, "internal_error", "Directory <i>down</i>", "req_dir_500"),
        "B2Brouter had an internal error (500): try again later.", "Directory <i>down</i>", "req_dir_500"),
    "timeout": (timeout, "B2Brouter did not answer (the connection failed or timed out).", None, None),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_directory_error_never_blocks_the_contact(case, web, company, integration, customer, sim, settings, vat):
    answer, ours, remote, request_id = ERRORS[case]
    answering(settings, on_directory(answer))
    invoice = make_invoice(company, customer, taxes=[vat])
    create_contact(web, customer)

    # The contact exists in B2Brouter and the client remembers it.
    assert customer.b2brouter_contact_id is not None
    contact = sim.api("GET", f"/contacts/{customer.b2brouter_contact_id}", integration.api_key)["contact"]
    assert contact["integration_code"] == str(customer.pk)
    check = DirectoryCheck.objects.get(client=customer)
    assert check.outcome == DirectoryOutcome.ERROR

    page, raw = client_page_and_html(web, customer)
    assert "Created contact" in page
    assert f"Could not check B2Brouter's directory: {ours}" in page
    if remote:
        assert f"B2Brouter said: “{remote}”" in page
        assert "<b>Not simulated</b>" not in raw and "<i>down</i>" not in raw  # shown as text, never as markup
    if request_id:
        assert f"Request id: {request_id}" in page
    assert "Check again" in page

    # The checklist carries the same words as information; the invoice can be created.
    checklist = html.unescape(section(web, invoice))
    assert f"Could not check B2Brouter's directory: {ours}" in checklist
    assert 'class="fail"' not in checklist
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert InvoiceLink.objects.get(invoice=invoice).is_linked


def test_check_again_after_an_error_replaces_it(web, integration, customer, sim, settings):
    answering(settings, on_directory(lambda request: b2brouter_error(503, "unavailable", "busy", "req_dir_503")))
    create_contact(web, customer)
    assert "Could not check B2Brouter's directory" in client_page(web, customer)
    sim.list_participant(*LOOKUP)
    answering(settings, lambda request: None)
    response = web.post(f"/clients/{customer.pk}/b2brouter/directory/")
    assert response.status_code == 302
    page = client_page(web, customer)
    assert PEPPOL in page and "Could not check" not in page and "req_dir_503" not in page


def test_a_404_with_resource_missing_means_not_listed(web, integration, customer, settings):
    body = {"error": {"code": "resource_missing", "message": "Entity not found", "type": "invalid_request_error"}}
    answering(settings, on_directory(lambda request: httpx.Response(
        404, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})))
    create_contact(web, customer)
    assert DirectoryCheck.objects.get(client=customer).outcome == DirectoryOutcome.UNLISTED
    assert UNLISTED in client_page(web, customer)


def test_the_flash_of_check_again_warns_on_error(web, integration, customer, settings):
    answering(settings, on_directory(timeout))
    response = web.post(f"/clients/{customer.pk}/b2brouter/directory/")
    assert response.status_code == 302
    page, raw = client_page_and_html(web, customer)
    assert re.search(r'b2b-flash-warning" role="status">\s*<p>B2Brouter&#x27;s directory was asked again at', raw)
    assert "Could not check B2Brouter's directory: B2Brouter did not answer" in page
