"""Only members see the integration; every POST needs CSRF; the API key never shows anywhere."""

from __future__ import annotations

import logging

import pytest
from django.test import Client as HttpClient

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
    other_web,
    sim,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db


def invoice_urls(pk: int) -> list[tuple[str, str]]:
    base = f"/invoices/{pk}/b2brouter/"
    return [("get", base), ("post", base + "create/"), ("post", base + "reconcile/"), ("post", base + "refresh/"),
            ("post", base + "send/"), ("get", base + "unlink/"), ("post", base + "unlink/"),
            ("get", base + "recreate/"), ("post", base + "recreate/"), ("get", base + "link/"),
            ("post", base + "link/"), ("get", base + "download/pdf/"), ("get", base + "download/ubl/"),
            ("get", base + "create/"), ("get", base + "send/"), ("get", base + "delete/"), ("post", base + "delete/")]


def client_urls(pk: int) -> list[tuple[str, str]]:
    base = f"/clients/{pk}/b2brouter/"
    return [("post", base + "match/"), ("post", base + "contact/"), ("post", base + "forget/"),
            ("get", base + "contacts/"), ("post", base + "contacts/"), ("post", base + "contact/update/"),
            ("post", base + "contact/confirm/")]


@pytest.fixture
def linked_invoice(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert InvoiceLink.objects.get(invoice=invoice).is_linked
    return invoice


def test_another_company_gets_404_for_every_url(other_web, linked_invoice, customer, sim, account):
    before = len(sim.invoices(account[0]["id"], account[1]))
    for method, url in invoice_urls(linked_invoice.pk) + client_urls(customer.pk):
        data = {"b2brouter_id": "1"} if method == "post" else None
        response = getattr(other_web, method)(url, data) if data else getattr(other_web, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    # Their settings page is their own: nothing of ours shows.
    page = other_web.get("/settings/integrations/b2brouter/").content.decode()
    assert "Lingua Test S.L." not in page and account[1][-4:] not in page
    assert InvoiceLink.objects.get(invoice=linked_invoice).is_linked
    assert len(sim.invoices(account[0]["id"], account[1])) == before


def test_anonymous_users_are_sent_to_login(linked_invoice, customer):
    anonymous = HttpClient()
    for method, url in invoice_urls(linked_invoice.pk) + client_urls(customer.pk) + [
            ("get", "/settings/integrations/b2brouter/"), ("post", "/settings/integrations/b2brouter/apply/")]:
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302 and "login" in response["Location"], (method, url)


def test_every_post_requires_csrf(user, linked_invoice, customer, sim, account):
    strict = HttpClient(enforce_csrf_checks=True)
    strict.force_login(user)
    posts = [url for method, url in invoice_urls(linked_invoice.pk) + client_urls(customer.pk) if method == "post"]
    posts += ["/settings/integrations/b2brouter/", "/settings/integrations/b2brouter/check/",
              "/settings/integrations/b2brouter/apply/"]
    for url in posts:
        assert strict.post(url, {"b2brouter_id": "1"}).status_code == 403, url
    assert InvoiceLink.objects.get(invoice=linked_invoice).is_linked
    assert len(sim.invoices(account[0]["id"], account[1])) == 1


def test_api_key_never_appears_in_pages_or_logs(web, company, account, integration, customer, vat, sim, caplog,
                                                linked_invoice):
    data, key = account
    caplog.set_level(logging.DEBUG)
    blocked = make_invoice(company, customer, number="INV-0002")  # no tax: blocked
    pages = [
        web.get("/settings/integrations/b2brouter/"),
        web.post("/settings/integrations/b2brouter/", {"enabled": "on", "environment": "simulator",
                                                        "api_key": key, "account_id": "424242"}),
        web.post("/settings/integrations/b2brouter/", {"enabled": "on", "environment": "simulator",
                                                        "api_key": key + "x", "account_id": str(data["id"])}),
        web.get("/settings/integrations/b2brouter/apply/"),
        web.get(f"/invoices/{linked_invoice.pk}/b2brouter/"),
        web.get(f"/invoices/{linked_invoice.pk}/b2brouter/unlink/"),
        web.get(f"/invoices/{linked_invoice.pk}/b2brouter/recreate/"),
        confirmed(web, f"/invoices/{blocked.pk}/b2brouter/create/"),
        web.get(f"/invoices/{blocked.pk}/b2brouter/"),
        web.get(f"/invoices/{blocked.pk}/b2brouter/link/"),
        web.get(f"/clients/{customer.pk}/b2brouter/contacts/"),
    ]
    for response in pages:
        assert response.status_code in (200, 302)
        assert key not in response.content.decode(), response.request["PATH_INFO"]
        assert key[:-4] not in response.content.decode()
    assert key not in caplog.text


def test_a_user_of_no_company_gets_the_same_answer_as_on_the_core_pages(linked_invoice, customer):
    from django.contrib.auth import get_user_model  # noqa: PLC0415

    get_user_model().objects.create_user("loner", password="pw-loner-123")
    browser = HttpClient()
    assert browser.login(username="loner", password="pw-loner-123")
    core = browser.get("/invoices/")
    assert core.status_code == 403 and "You do not belong to any company yet" in core.content.decode()
    urls = [("get", "/settings/integrations/b2brouter/"), *invoice_urls(linked_invoice.pk),
            *client_urls(customer.pk)]
    for method, url in urls:
        response = getattr(browser, method)(url)
        assert response.status_code == 403, url
        assert "You do not belong to any company yet" in response.content.decode(), url
