"""The B2Brouter pieces as users meet them on the invoice, invoice list and client pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from b2binvoice.einvoicing.models import InvoiceLink
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
    company,
    confirmed,
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


def test_invoice_page_carries_the_section_and_actions_come_back_to_it(web, company, account, integration,
                                                                      customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Linked B2Brouter invoice details" in page and "Create B2Brouter invoice" in page
    response = confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert response["Location"] == f"/invoices/{invoice.pk}/"
    page = web.get(response["Location"]).content.decode()
    link = InvoiceLink.objects.get(invoice=invoice)
    assert "totals match and it was sent" in page and f'data-state="{link.state}"' in page


def test_invoice_list_shows_state_or_not_linked_without_a_query_per_row(web, company, account, integration,
                                                                        customer, vat, sim):
    contact_for(sim, account, customer)
    linked = make_invoice(company, customer, number="INV-0001", taxes=[vat])
    confirmed(web, f"/invoices/{linked.pk}/b2brouter/create/")
    make_invoice(company, customer, number="INV-0002", taxes=[vat])
    with CaptureQueriesContext(connection) as two:
        page = web.get("/invoices/").content.decode()
    state = InvoiceLink.objects.get(invoice=linked).state
    assert "not linked" in page and f">{state}</span>" in page
    for n in range(3, 7):
        make_invoice(company, customer, number=f"INV-000{n}", taxes=[vat])
    with CaptureQueriesContext(connection) as six:
        web.get("/invoices/")
    assert len(six) == len(two)


def test_client_page_offers_the_contact_actions(web, company, account, integration, customer, sim):
    page = web.get(f"/clients/{customer.pk}/").content.decode()
    assert "B2Brouter contact" in page and "Create contact in B2Brouter from this client" in page
    response = web.post(f"/clients/{customer.pk}/b2brouter/contact/")
    assert response["Location"] == f"/clients/{customer.pk}/"
    customer.refresh_from_db()
    page = web.get(f"/clients/{customer.pk}/").content.decode()
    assert f"Matched to contact #{customer.b2brouter_contact_id}" in page
    assert "Created contact" in page
