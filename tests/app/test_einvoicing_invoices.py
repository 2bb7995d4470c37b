"""The invoice's B2Brouter section: readiness, create, reconcile, mismatches, link, unlink, downloads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from b2binvoice.companies.models import PaymentMethod, PaymentMethodType, Tax, TaxKind
from b2binvoice.einvoicing import actions
from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink, LinkStatus
from b2binvoice.invoices.models import InvoiceTax
from tests.app.test_einvoicing_settings import answering, b2brouter_error
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    INVALID_IBAN,
    _b2brouter_settings,
    account,
    bank,
    company,
    confirmed,
    contact_for,
    customer,
    integration,
    make_invoice,
    section,
    sim,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db


def create(web, invoice):
    return confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")


def remote_copy(sim, account, contact, *, currency="EUR"):
    """Create in the simulator, behind the app's back, the B2Brouter twin of make_invoice's INV-0001."""
    data, key = account
    return sim.api("POST", f"/accounts/{data['id']}/invoices", key, {"invoice": {
        "number": "INV-0001", "date": "2026-11-02", "currency": currency, "contact_id": contact["id"],
        "invoice_lines_attributes": [{"description": "Translation", "quantity": "1234", "price": "0.085",
                                      "taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"}]}]}}
                   )["invoice"]


def test_create_links_compares_and_sends(web, company, account, integration, customer, vat, bank, sim):
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank,
                           lines=[("1234", "0.085"), ("3", "45.50")])
    page = section(web, invoice)
    assert "Create B2Brouter invoice" in page and "Link existing B2Brouter invoice" in page

    response = create(web, invoice)
    assert response.status_code == 302
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.status == LinkStatus.LINKED and link.state in ("sending", "sent")
    assert link.contact_id == contact["id"]
    # 1234 x 0.085 = 104.89; 3 x 45.50 = 136.50; base 241.39; IVA 50.69; total 292.08
    assert link.subtotal == Decimal("241.39") and link.total == Decimal("292.08")
    remote = sim.invoices(account[0]["id"], account[1])
    assert len(remote) == 1 and remote[0]["number"] == "INV-0001" and remote[0]["state"] in ("sending", "sent")
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id == contact["id"]  # the TIN match was remembered

    page = section(web, invoice)
    assert "totals match and it was sent" in page
    assert f"#{link.b2brouter_id}" in page
    assert page.count("✓ equal") >= 3 and "✗ differs" not in page
    assert f"http://testserver/sim/app/invoices/{link.b2brouter_id}" in page
    assert list(InvoiceEvent.objects.filter(invoice=invoice).values_list("type", flat=True).order_by("pk")) == [
        "create_attempted", "created", "sent"]


def test_send_after_create_off_leaves_it_new(web, company, account, integration, customer, vat, sim):
    integration.send_after_create = False
    integration.save()
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.state == "new"
    assert "Send</button>" in section(web, invoice)
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/send/")
    link.refresh_from_db()
    assert link.state in ("sending", "sent")


def test_no_contact_blocks_then_create_contact_then_create(web, company, account, integration, customer, vat, sim):
    invoice = make_invoice(company, customer, taxes=[vat])
    page = section(web, invoice)
    assert "No matching client in B2Brouter" in page
    assert "Create contact in B2Brouter from this client" in page and "Choose an existing contact" in page

    create(web, invoice)
    assert sim.invoices(account[0]["id"], account[1]) == []
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()
    assert "Nothing was sent to B2Brouter" in section(web, invoice)

    web.post(f"/clients/{customer.pk}/b2brouter/contact/")
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id is not None
    contact = sim.api("GET", f"/contacts/{customer.b2brouter_contact_id}", account[1])["contact"]
    assert contact["integration_code"] == str(customer.pk)

    create(web, invoice)
    assert len(sim.invoices(account[0]["id"], account[1])) == 1
    assert InvoiceLink.objects.get(invoice=invoice).status == LinkStatus.LINKED


def test_choose_an_existing_contact(web, company, account, integration, customer, vat, sim):
    customer.tin = ""
    customer.save()
    data, key = account
    contact = sim.create_contact(data["id"], key, name="Kunde (as named in B2Brouter)", tin_value="ESA58818501",
                                 country="es", is_client=True)
    page = web.get(f"/clients/{customer.pk}/b2brouter/contacts/?q=Kunde").content.decode()
    assert "Kunde (as named in B2Brouter)" in page
    # Without a tax id the choice cannot be checked: it is taken once the warning is confirmed.
    warning = web.post(f"/clients/{customer.pk}/b2brouter/contacts/", {"b2brouter_id": contact["id"]})
    assert "has no tax id, so b2binvoice cannot check" in warning.content.decode()
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id is None
    web.post(f"/clients/{customer.pk}/b2brouter/contacts/", {"b2brouter_id": contact["id"], "confirm_no_tax_id": "1"})
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id == contact["id"]


def test_absolute_tax_blocks_and_sends_nothing(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    stamp = Tax.objects.create(company=company, name="Stamp duty 1.50 EUR", kind=TaxKind.ABSOLUTE,
                               amount=Decimal("1.50"), category="S")
    invoice = make_invoice(company, customer, taxes=[vat, stamp])
    page = section(web, invoice)
    assert "B2Brouter accepts only percentage taxes: remove or replace Stamp duty 1.50 EUR." in page
    create(web, invoice)
    assert sim.invoices(account[0]["id"], account[1]) == []
    assert InvoiceEvent.objects.filter(invoice=invoice, type="create_blocked").exists()


def test_no_tax_blocks_and_sends_nothing(web, company, account, integration, customer, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[])
    assert "B2Brouter needs at least one tax" in section(web, invoice)
    create(web, invoice)
    assert sim.invoices(account[0]["id"], account[1]) == []


def test_invalid_iban_blocks_and_sends_nothing(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    legacy = PaymentMethod.objects.create(company=company, name="Legacy transfer", type=PaymentMethodType.BANK_TRANSFER,
                                          iban=INVALID_IBAN)  # saved without validation, as imported data is
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=legacy)
    page = section(web, invoice)
    assert "The IBAN of payment method Legacy transfer is invalid" in page
    create(web, invoice)
    assert sim.invoices(account[0]["id"], account[1]) == []


def test_b2brouter_error_with_html_is_escaped_with_request_id(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    # A category imported from an old system: B2Brouter rejects it and echoes it back.
    InvoiceTax.objects.filter(invoice=invoice).update(category="<b>")
    create(web, invoice)
    page = section(web, invoice)
    event = InvoiceEvent.objects.get(invoice=invoice, type="create_failed")
    assert "<B>" in event.remote_message.upper()  # B2Brouter's words, kept verbatim
    assert "&lt;B&gt;" in page.replace("&lt;b&gt;", "&lt;B&gt;")
    assert "<b>" not in page.lower().replace("<b2", "")
    assert event.request_id.startswith("req_") and f"<code>{event.request_id}</code>" in page
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()  # released: it can be fixed and retried


def test_applied_but_no_answer_ends_linked_with_one_invoice(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    sim.set_faults(data["id"], key, no_answer_rate="1", no_answer_delay=0)
    create(web, invoice)
    sim.set_faults(data["id"], key)
    remote = sim.invoices(data["id"], key)
    assert len(remote) == 1
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.status == LinkStatus.LINKED and link.b2brouter_id == remote[0]["id"]
    types = list(InvoiceEvent.objects.filter(invoice=invoice).values_list("type", flat=True).order_by("pk"))
    assert types[:3] == ["create_attempted", "create_uncertain", "reconciled"]
    # Creating again is refused: the invoice is linked.
    create(web, invoice)
    assert len(sim.invoices(data["id"], key)) == 1


def test_two_creates_make_one(web, company, account, integration, customer, vat, sim, user):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    # The database refuses a second attempt row for the same invoice, whatever the page shows.
    InvoiceLink.objects.create(invoice=invoice, account_id=str(account[0]["id"]), number=invoice.number,
                               attempt_started_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLink.objects.create(invoice=invoice, account_id=str(account[0]["id"]), number=invoice.number)
    # A click while the first attempt is in flight sends nothing.
    create(web, invoice)
    assert sim.invoices(account[0]["id"], account[1]) == []
    assert InvoiceEvent.objects.filter(invoice=invoice, type="create_refused").exists()
    page = section(web, invoice)
    assert "being created in B2Brouter" in page and "Create B2Brouter invoice" not in page
    web.post(f"/invoices/{invoice.pk}/b2brouter/reconcile/")
    assert "still in progress" in section(web, invoice)  # the first request may still be running
    assert InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.PENDING).exists()


def test_one_b2brouter_invoice_links_to_one_local_invoice(company, account, integration, customer):
    first = make_invoice(company, customer, number="INV-0001")
    second = make_invoice(company, customer, number="INV-0002")
    InvoiceLink.objects.create(invoice=first, account_id="7", b2brouter_id=55, status=LinkStatus.LINKED)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLink.objects.create(invoice=second, account_id="7", b2brouter_id=55, status=LinkStatus.LINKED)


def test_crashed_attempt_is_reconciled_by_check(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    # The request reached B2Brouter, then our process died before recording the answer.
    remote = sim.api("POST", f"/accounts/{data['id']}/invoices", key, {"invoice": {
        "number": invoice.number, "date": "2026-11-02", "currency": "EUR", "contact_id": contact["id"],
        "file_reference": str(invoice.pk),
        "invoice_lines_attributes": [{"description": "Translation 1", "quantity": "1234", "price": "0.085",
                                      "taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"}]}]},
        "send_after_import": False})["invoice"]
    InvoiceLink.objects.create(invoice=invoice, account_id=str(data["id"]), number=invoice.number,
                               contact_id=contact["id"], attempt_started_at=timezone.now() - dt.timedelta(hours=1))
    page = section(web, invoice)
    assert "Check B2Brouter" in page and "Create B2Brouter invoice" not in page
    web.post(f"/invoices/{invoice.pk}/b2brouter/reconcile/")
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.status == LinkStatus.LINKED and link.b2brouter_id == remote["id"]
    assert len(sim.invoices(data["id"], key)) == 1


def test_crashed_attempt_that_never_arrived_is_released(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    InvoiceLink.objects.create(invoice=invoice, account_id=str(account[0]["id"]), number=invoice.number,
                               attempt_started_at=timezone.now() - dt.timedelta(hours=1))
    # Not found an hour later: B2Brouter may still apply it, so the attempt is kept.
    web.post(f"/invoices/{invoice.pk}/b2brouter/reconcile/")
    assert InvoiceLink.objects.get(invoice=invoice).status == LinkStatus.PENDING
    assert "B2Brouter has not confirmed the outcome yet; we are checking." in section(web, invoice)
    # Still nothing once the checking window (48 hours) is over: released.
    InvoiceLink.objects.filter(invoice=invoice).update(attempt_started_at=timezone.now() - dt.timedelta(hours=49))
    web.post(f"/invoices/{invoice.pk}/b2brouter/reconcile/")
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()
    assert "it was not created. You can create it again." in section(web, invoice)


def test_number_taken_by_another_invoice_is_reported(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact = contact_for(sim, account, customer)
    sim.api("POST", f"/accounts/{data['id']}/invoices", key, {"invoice": {
        "number": "INV-0001", "date": "2026-10-01", "currency": "EUR", "contact_id": contact["id"],
        "invoice_lines_attributes": [{"description": "Something else", "quantity": "1", "price": "10",
                                      "taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"}]}]}})
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    page = section(web, invoice)
    assert "B2Brouter already has an invoice numbered INV-0001" in page
    assert "Number has already been taken" in page
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()
    assert len(sim.invoices(data["id"], key)) == 1


def test_total_mismatch_keeps_it_unsent_with_both_figures(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact_for(sim, account, customer)
    # Changed in B2Brouter behind our back; our stored check still says the settings match.
    sim.update_account(data["id"], key, apply_taxes_per_line=True)
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("1", "7886.64"), ("1", "818.44")])
    create(web, invoice)
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.status == LinkStatus.LINKED and link.state == "new"
    remote = sim.invoices(data["id"], key)
    assert len(remote) == 1 and remote[0]["state"] == "new"
    page = section(web, invoice)
    # Ours: tax R(8705.08 x 0.21) = 1828.07; B2Brouter per line: 1656.19 + 171.87 = 1828.06.
    assert "1828.07" in page and "1828.06" in page
    assert "10533.15" in page and "10533.14" in page
    assert "✗ differs" in page
    assert "Delete in B2Brouter and create again" in page
    # The settings plate beside the figures was read again and names the culprit.
    assert "plate plate-warn" in page
    assert '<td><code>apply_taxes_per_line</code></td><td class="required">false</td><td class="current">true</td>' in page
    assert "Send</button>" not in page or "disabled" in page
    # Sending is refused server-side too.
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/send/")
    assert sim.invoices(data["id"], key)[0]["state"] == "new"

    # Fix the settings, then delete and create again: it goes through and is sent.
    web.post("/settings/integrations/b2brouter/apply/")
    response = confirmed(web, f"/invoices/{invoice.pk}/b2brouter/recreate/")
    assert response.status_code == 302
    remote = sim.invoices(data["id"], key)
    assert len(remote) == 1 and remote[0]["id"] != link.b2brouter_id
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.total == Decimal("10533.15") and link.state in ("sending", "sent")


def test_link_existing_invoice_then_unlink(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    existing = remote_copy(sim, account, contact, currency="EUR")
    page = web.get(f"/invoices/{invoice.pk}/b2brouter/link/").content.decode()
    assert f'data-candidate="{existing["id"]}"' in page
    assert "number, date and total match" in page
    web.post(f"/invoices/{invoice.pk}/b2brouter/link/", {"b2brouter_id": existing["id"]})
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.b2brouter_id == existing["id"] and link.status == LinkStatus.LINKED
    assert sim.invoices(data["id"], key)[0]["state"] == "new"  # linking sends nothing

    # Another invoice cannot take the same B2Brouter invoice.
    other = make_invoice(company, customer, number="INV-0002", taxes=[vat])
    web.post(f"/invoices/{other.pk}/b2brouter/link/", {"b2brouter_id": existing["id"]})
    assert not InvoiceLink.objects.filter(invoice=other).exists()
    assert "already linked to invoice INV-0001" in section(web, other)

    confirm = web.get(f"/invoices/{invoice.pk}/b2brouter/unlink/").content.decode()
    assert "nothing is deleted in B2Brouter" in confirm
    web.post(f"/invoices/{invoice.pk}/b2brouter/unlink/")
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()
    assert len(sim.invoices(data["id"], key)) == 1
    assert "Unlinked from B2Brouter invoice" in section(web, invoice)


def test_downloads_are_proxied(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    pdf = web.get(f"/invoices/{invoice.pk}/b2brouter/download/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    ubl = web.get(f"/invoices/{invoice.pk}/b2brouter/download/ubl/")
    assert ubl.status_code == 200 and b"INV-0001" in ubl.content
    assert web.get(f"/invoices/{invoice.pk}/b2brouter/download/exe/").status_code == 404


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """Record the waits between download attempts instead of sleeping through them."""
    waited: list[float] = []
    monkeypatch.setattr(actions, "pause", waited.append)
    return waited


def not_yet_generated(times: int | None):
    """Answer 404 to the first ``times`` document downloads (all of them with None), as B2Brouter does
    while it is still rendering an invoice's documents; everything else reaches the simulator."""
    seen = {"downloads": 0}

    def answer(request: httpx.Request) -> httpx.Response | None:
        if "/as/" not in request.url.path:
            return None
        seen["downloads"] += 1
        if times is None or seen["downloads"] <= times:
            return b2brouter_error(404, "resource_missing", "Document not found", f"req_doc_{seen['downloads']}")
        return None

    return answer


@pytest.mark.parametrize("kind", ["pdf", "ubl"])
def test_a_document_not_generated_yet_is_waited_for(web, company, account, integration, customer, vat, sim, settings,
                                                    pauses, kind):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    calls = answering(settings, not_yet_generated(2))
    response = web.get(f"/invoices/{invoice.pk}/b2brouter/download/{kind}/")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF") if kind == "pdf" else b"INV-0001" in response.content
    assert len([c for c in calls if "/as/" in c]) == 3
    assert len(pauses) == 2 and pauses == sorted(pauses)  # growing waits
    assert not InvoiceEvent.objects.filter(invoice=invoice, type="download_failed").exists()


def test_a_document_still_missing_after_the_retries_says_it_is_being_generated(web, company, account, integration,
                                                                               customer, vat, sim, settings, pauses):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    calls = answering(settings, not_yet_generated(None))
    response = web.get(f"/invoices/{invoice.pk}/b2brouter/download/pdf/")
    # A message on the invoice's page, not an error page.
    assert response.status_code == 302 and response.url == f"/invoices/{invoice.pk}/"
    downloads = [c for c in calls if "/as/" in c]
    assert 2 < len(downloads) <= 6
    assert len(pauses) == len(downloads) - 1 and sum(pauses) < 10 and max(pauses) <= 4
    page = section(web, invoice)
    assert "B2Brouter is still generating this document; try again in a minute." in page
    assert "b2b-flash-warning" in page and f"req_doc_{len(downloads)}" in page
    failed = InvoiceEvent.objects.get(invoice=invoice, type="download_failed")
    assert failed.message == "B2Brouter is still generating this document; try again in a minute."


def test_a_document_of_an_invoice_deleted_in_b2brouter_says_so(web, company, account, integration, customer, vat,
                                                               sim, settings, pauses):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    link = InvoiceLink.objects.get(invoice=invoice)
    answering(settings, lambda request: b2brouter_error(404, "resource_missing", "Invoice not found")
              if request.url.path.startswith(f"/sim/invoices/{link.b2brouter_id}") else None)
    response = web.get(f"/invoices/{invoice.pk}/b2brouter/download/ubl/")
    assert response.status_code == 302
    page = section(web, invoice)
    assert f"B2Brouter has no invoice #{link.b2brouter_id} any more (404)" in page
    assert "still generating" not in page


def test_refresh_reads_the_new_state(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    link = InvoiceLink.objects.get(invoice=invoice)
    for _ in range(5):
        sim.api("POST", f"/_control/invoices/{link.b2brouter_id}/advance", key)
        state = sim.api("GET", f"/invoices/{link.b2brouter_id}", key)["invoice"]["state"]
        if state not in ("sending", "sent"):
            break
    web.post(f"/invoices/{invoice.pk}/b2brouter/refresh/")
    link.refresh_from_db()
    assert link.state == state
    assert f'data-state="{state}"' in section(web, invoice)


def test_refresh_of_a_refused_invoice_warns_with_the_reason(web, company, account, integration, customer, vat,
                                                             sim):
    data, key = account
    sim.create_contact(data["id"], key, name=customer.name, tin_value=customer.tin, country="es",
                       is_client=True, scenario="refuse")
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    link = InvoiceLink.objects.get(invoice=invoice)
    for _ in range(5):
        sim.api("POST", f"/_control/invoices/{link.b2brouter_id}/advance", key)
        if sim.api("GET", f"/invoices/{link.b2brouter_id}", key)["invoice"]["state"] == "refused":
            break
    page = web.post(f"/invoices/{invoice.pk}/b2brouter/refresh/", follow=True).content.decode()
    assert 'class="b2b-flash b2b-flash-warning"' in page
    assert "is refused." in page and "Refused by the simulated recipient" in page
    assert "b2b-flash-success" not in page


def test_htmx_action_answers_the_section_in_place(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    integration.send_after_create = False
    integration.save()
    response = confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="b2brouter-section"')
    assert "totals match" in html


def test_link_made_in_another_account_is_not_acted_on(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    InvoiceLink.objects.filter(invoice=invoice).update(account_id="31337")
    web.post(f"/invoices/{invoice.pk}/b2brouter/refresh/")
    assert "linked to an invoice of B2Brouter account 31337" in section(web, invoice)


def test_server_error_keeps_the_attempt_until_checked(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    web.post(f"/clients/{customer.pk}/b2brouter/match/")  # the contact is known before B2Brouter starts failing
    sim.set_faults(data["id"], key, error_rate="1")
    create(web, invoice)
    # Neither the create nor the lookup got through: the attempt stays, to be checked later.
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.status == LinkStatus.PENDING
    page = section(web, invoice)
    assert "Could not check whether B2Brouter created invoice INV-0001" in page
    assert "Check B2Brouter" in page and "Create B2Brouter invoice" not in page

    assert "did not finish" in page  # our request has ended: checking is possible at once
    sim.set_faults(data["id"], key)
    # B2Brouter answers again and has nothing yet: a 5xx may come after the work, so it is kept.
    web.post(f"/invoices/{invoice.pk}/b2brouter/reconcile/")
    assert InvoiceLink.objects.get(invoice=invoice).status == LinkStatus.PENDING
    assert "Create B2Brouter invoice" not in section(web, invoice)
    InvoiceLink.objects.filter(invoice=invoice).update(attempt_started_at=timezone.now() - dt.timedelta(hours=49))
    web.post(f"/invoices/{invoice.pk}/b2brouter/reconcile/")
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()
    create(web, invoice)
    assert len(sim.invoices(data["id"], key)) == 1
    assert InvoiceLink.objects.get(invoice=invoice).status == LinkStatus.LINKED


def test_a_mismatch_with_matching_settings_blames_the_data_not_the_settings(web, company, account, integration,
                                                                            customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    InvoiceLink.objects.filter(invoice=invoice).update(state="new")
    invoice.lines.update(unit_price=Decimal("0.09"))  # edited here after it was created in B2Brouter
    page = section(web, invoice)
    assert "✗ differs" in page and "plate plate-ok" in page
    assert 'data-cause="data"' in page and "it may have been edited here" in page
    assert "Fix the account's calculation settings" not in page


def test_a_sent_invoice_is_not_offered_for_deletion_even_by_url(web, company, account, integration, customer, vat,
                                                                 sim):
    data, key = account
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    create(web, invoice)
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.state in ("sending", "sent")
    response = web.get(f"/invoices/{invoice.pk}/b2brouter/recreate/")
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    assert "only new or failed invoices can be deleted" in section(web, invoice)
    assert len(sim.invoices(data["id"], key)) == 1


def test_a_candidate_in_another_currency_is_not_called_a_match(web, company, account, integration, customer, vat,
                                                                sim):
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    existing = remote_copy(sim, account, contact, currency="USD")
    page = web.get(f"/invoices/{invoice.pk}/b2brouter/link/").content.decode()
    assert f'data-candidate="{existing["id"]}"' in page
    assert "currency USD, ours EUR" in page
    assert "number, date and total match" not in page


def test_a_cancelled_invoice_is_blocked_and_sends_nothing(web, company, account, integration, customer, vat, sim):
    data, key = account
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    invoice.status = "cancelled"
    invoice.save()
    page = section(web, invoice)
    assert 'data-check="status"' in page and "INV-0001 is cancelled: it is not sent to B2Brouter" in page
    create(web, invoice)
    assert not InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.LINKED).exists()
    assert sim.invoices(data["id"], key) == []
    invoice.status = "issued"
    invoice.save()
    assert 'data-check="status"' not in section(web, invoice)


def test_sending_issues_a_draft_and_leaves_other_statuses(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    draft = make_invoice(company, customer, taxes=[vat])
    paid = make_invoice(company, customer, number="INV-0002", taxes=[vat])
    paid.status = "paid"
    paid.save()
    unsent = make_invoice(company, customer, number="INV-0003", taxes=[vat])
    for invoice in (draft, paid):
        create(web, invoice)
        invoice.refresh_from_db()
    assert draft.status == "issued" and paid.status == "paid"
    assert "Issued" in web.get(f"/invoices/{draft.pk}/").content.decode()
    # Created but not sent (sending after create is off): still a draft.
    integration.send_after_create = False
    integration.save()
    create(web, unsent)
    unsent.refresh_from_db()
    assert InvoiceLink.objects.get(invoice=unsent).state == "new" and unsent.status == "draft"
