"""Input no database can store is refused with a 4xx and a clear message, never a 500.

On PostgreSQL a NUL character in a search (``/invoices/?q=%00``) and a 30-digit B2Brouter id in
the link form ended in 500s; these tests pin the answers on every database.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient

from b2binvoice.clients.models import Client
from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink
from b2binvoice.invoices.models import Invoice
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
    bank,
    company,
    customer,
    integration,
    make_invoice,
    sim,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "The request contains a NUL character (\\0), which no field accepts. Remove it and try again."


@pytest.mark.parametrize("url", [
    "/invoices/?q=%00", "/clients/?q=%00", "/invoices/?status=sent%00", "/invoices/?q=a&page=%00",
    "/invoices/new/?client=%00", "/settings/units/new/?label=%00", "/?next=%00",
])
def test_a_nul_character_in_a_search_or_filter_is_400(web, company, customer, url):
    response = web.get(url)
    assert response.status_code == 400
    assert response.content.decode() == NUL_MESSAGE


def test_a_nul_character_in_a_form_field_is_400_and_saves_nothing(web, customer):
    before = Client.objects.filter(pk=customer.pk).values().get()
    response = web.post(f"/clients/{customer.pk}/edit/", {"name": "Evil\x00Corp", "country": "ES"})
    assert response.status_code == 400
    assert response.content.decode() == NUL_MESSAGE
    assert Client.objects.filter(pk=customer.pk).values().get() == before


def test_the_login_form_and_the_admin_search_too(db):
    get_user_model().objects.create_superuser("admin", password="an-admin-passphrase-1")
    anonymous = HttpClient()
    assert anonymous.post("/login/", {"username": "admin\x00", "password": "x"}).status_code == 400
    admin = HttpClient()
    admin.force_login(get_user_model().objects.get(username="admin"))
    assert admin.get("/admin/clients/client/?q=%00").status_code == 400
    assert admin.get("/admin/clients/client/?q=ok").status_code == 200


def test_clean_searches_still_work(web, customer):
    assert web.get("/clients/?q=bersetz").status_code == 200
    assert customer.name in web.get("/clients/?q=bersetz").content.decode()


@pytest.mark.parametrize("value", ["9" * 30, str(2**63), "0", "-5", "12abc"])
def test_a_b2brouter_id_that_cannot_be_one_is_a_form_error(web, company, customer, vat, bank, integration, value):
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    response = web.post(f"/invoices/{invoice.pk}/b2brouter/link/", {"b2brouter_id": value}, follow=True)
    assert response.status_code == 200
    assert "Choose a B2Brouter invoice to link." in response.content.decode()
    assert not InvoiceLink.objects.filter(invoice=invoice).exists()
    assert not InvoiceEvent.objects.filter(invoice=invoice).exists()  # nothing was asked of B2Brouter
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_the_webhook_receiver_and_the_simulators_api_answer_in_their_own_format(web):
    # Views exempt from CSRF read their own bodies: the middleware leaves them alone.
    assert HttpClient().post("/webhooks/b2brouter/%00/", b"{}", content_type="application/json").status_code == 404
    api = HttpClient().get("/sim/accounts?query=%00", HTTP_X_B2B_API_VERSION="2026-03-02")
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "invalid_request_params"
