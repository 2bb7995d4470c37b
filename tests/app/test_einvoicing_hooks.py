"""The B2Brouter pieces other pages include: the invoice list cell, the client section, the invoice section."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.template.loader import render_to_string
from django.test import RequestFactory

from b2binvoice.einvoicing.models import InvoiceLink, LinkStatus
from b2binvoice.invoices.models import Invoice
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
    company,
    contact_for,
    customer,
    integration,
    make_invoice,
    sim,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db


def request_for(user, company):
    request = RequestFactory().get("/somewhere/")
    request.user = user
    request.company = company
    request.session = SessionStore()
    return request


def test_list_cell_shows_state_or_not_linked_without_extra_queries(company, customer, django_assert_num_queries):
    linked = make_invoice(company, customer, number="INV-0001")
    make_invoice(company, customer, number="INV-0002")
    InvoiceLink.objects.create(invoice=linked, account_id="1", b2brouter_id=77, status=LinkStatus.LINKED,
                               state="accepted")
    invoices = list(Invoice.objects.filter(company=company).select_related("b2brouter_link").order_by("number"))
    with django_assert_num_queries(0):
        cells = [render_to_string("einvoicing/_invoice_list_cell.html", {"invoice": invoice}) for invoice in invoices]
    assert "accepted" in cells[0] and "state-ok" in cells[0]
    assert "not linked" in cells[1]


def test_client_section_offers_match_create_choose_then_shows_contact(web, user, company, account, integration,
                                                                       customer, sim):
    html = render_to_string("einvoicing/_client_section.html", {"client": customer},
                            request=request_for(user, company))
    assert "No matching client in B2Brouter yet." in html
    for label in ("Find by tax id in B2Brouter", "Create contact in B2Brouter from this client",
                  "Choose an existing contact"):
        assert label in html
    contact = contact_for(sim, account, customer)
    response = web.post(f"/clients/{customer.pk}/b2brouter/match/")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id == contact["id"]
    html = render_to_string("einvoicing/_client_section.html", {"client": customer},
                            request=request_for(user, company))
    assert f"Matched to contact #{contact['id']}" in html


def test_client_section_without_integration_points_to_settings(user, company, customer):
    html = render_to_string("einvoicing/_client_section.html", {"client": customer},
                            request=request_for(user, company))
    assert "/settings/integrations/b2brouter/" in html


def test_invoice_section_hook_renders_the_section(user, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    html = render_to_string("einvoicing/_invoice_section.html", {"invoice": invoice},
                            request=request_for(user, company))
    assert "Linked B2Brouter invoice details" in html and "Create B2Brouter invoice" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_hooks_render_nothing_for_another_company(user, company, customer, db):
    from b2binvoice.companies.models import Company

    other = Company.objects.create(name="Other", country="NL")
    invoice = make_invoice(company, customer)
    html = render_to_string("einvoicing/_invoice_section.html", {"invoice": invoice}, request=request_for(user, other))
    assert html.strip() == ""
