"""Login, company scoping, isolation between companies and switching company."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import Membership, PaymentMethod, Tax
from b2binvoice.invoices.models import Invoice

pytestmark = pytest.mark.django_db

PAGES = ["/invoices/", "/invoices/new/", "/clients/", "/clients/new/", "/settings/company/", "/settings/taxes/",
         "/settings/taxes/new/", "/settings/payment-methods/", "/settings/payment-methods/new/"]


def test_anonymous_visitors_are_sent_to_login(seeded):
    browser = HttpClient()
    response = browser.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/"
    for url in PAGES:
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url


def test_login_form_logs_in_and_returns_to_the_page_asked_for(seeded):
    browser = HttpClient()
    assert "Log in" in browser.get("/login/").content.decode()
    wrong = browser.post("/login/", {"username": "demo", "password": "nope"})
    assert wrong.status_code == 200 and "Please enter a correct username and password" in wrong.content.decode()
    response = browser.post("/login/?next=/clients/", {"username": "demo", "password": "demo", "next": "/clients/"})
    assert response.status_code == 302 and response["Location"] == "/clients/"
    page = browser.get("/clients/").content.decode()
    assert "Nordlicht Übersetzungen GmbH" in page and "Lingua Demo S.L." in page


def test_logout_is_a_post_and_ends_the_session(demo_web):
    assert demo_web.get("/invoices/").status_code == 200
    response = demo_web.post("/logout/")
    assert response.status_code == 302
    assert demo_web.get("/invoices/").status_code == 302


def test_every_page_renders_for_a_member(demo_web):
    for url in PAGES:
        response = demo_web.get(url)
        assert response.status_code == 200, url
        assert "Lingua Demo S.L." in response.content.decode(), url


def test_another_companys_objects_answer_404(demo_web, other_company):
    invoice = Invoice.objects.get(company=other_company, number="OT-0001")
    client = Client.objects.get(company=other_company)
    tax = Tax.objects.get(company=other_company)
    method = PaymentMethod.objects.get(company=other_company)
    urls = [f"/invoices/{invoice.pk}/", f"/invoices/{invoice.pk}/edit/", f"/clients/{client.pk}/",
            f"/clients/{client.pk}/edit/", f"/settings/taxes/{tax.pk}/edit/",
            f"/settings/payment-methods/{method.pk}/edit/"]
    for url in urls:
        assert demo_web.get(url).status_code == 404, url
    # Nor can a POST change them.
    response = demo_web.post(f"/clients/{client.pk}/edit/", {"name": "Hijacked", "country": "GB"})
    assert response.status_code == 404
    assert Client.objects.get(pk=client.pk).name == "Northern Words Ltd"


def test_a_new_invoice_cannot_use_another_companys_client_tax_or_payment_method(demo_web, other_company):
    client = Client.objects.get(company=other_company)
    tax = Tax.objects.get(company=other_company)
    method = PaymentMethod.objects.get(company=other_company)
    response = demo_web.post("/invoices/new/", {
        "number": "", "client": client.pk, "issue_date": "2026-12-01", "currency": "EUR", "status": "draft",
        "payment_method": method.pk, "taxes": [tax.pk],
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "lines-0-description": "x", "lines-0-quantity": "1", "lines-0-unit_price": "1",
        "adjustments-TOTAL_FORMS": "0", "adjustments-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"client", "payment_method", "taxes"}
    assert not Invoice.objects.filter(company__name="Lingua Demo S.L.", client=client).exists()


def test_lists_show_only_the_current_companys_records(demo_web, other_web):
    invoices = demo_web.get("/invoices/").content.decode()
    assert "LD-0001" in invoices and "OT-0001" not in invoices
    clients = demo_web.get("/clients/").content.decode()
    assert "Nordlicht" in clients and "Northern Words" not in clients
    assert "VAT 20%" not in demo_web.get("/settings/taxes/").content.decode()
    assert "Barclays" not in demo_web.get("/settings/payment-methods/").content.decode()
    others = other_web.get("/invoices/").content.decode()
    assert "OT-0001" in others and "LD-0001" not in others
    assert other_web.get("/invoices/?q=LD-0001").context["matched"] == 0


def test_switching_company_from_the_header(demo_web, demo_user, lingua, other_company):
    Membership.objects.create(user=demo_user, company=other_company)
    page = demo_web.get("/invoices/").content.decode()
    # The header offers both companies in a POST form with a CSRF token.
    header = re.search(r'<form method="post" action="/settings/company/switch/".*?</form>', page, re.S).group(0)
    assert "csrfmiddlewaretoken" in header and "Other Translations Ltd" in header
    response = demo_web.post("/settings/company/switch/", {"company": other_company.pk})
    assert response.status_code == 302 and response["Location"] == "/invoices/"
    page = demo_web.get("/invoices/").content.decode()
    assert "OT-0001" in page and "LD-0001" not in page
    lingua_invoice = Invoice.objects.get(company=lingua, number="LD-0001")
    assert demo_web.get(f"/invoices/{lingua_invoice.pk}/").status_code == 404
    demo_web.post("/settings/company/switch/", {"company": lingua.pk})
    assert demo_web.get(f"/invoices/{lingua_invoice.pk}/").status_code == 200


def test_switching_to_a_company_one_is_not_a_member_of_is_refused(demo_web, other_company):
    response = demo_web.post("/settings/company/switch/", {"company": other_company.pk}, follow=True)
    assert "You are not a member of that company." in response.content.decode()
    assert "OT-0001" not in demo_web.get("/invoices/").content.decode()


def test_switching_requires_csrf(seeded, other_company):
    strict = HttpClient(enforce_csrf_checks=True)
    strict.login(username="demo", password="demo")
    assert strict.post("/settings/company/switch/", {"company": other_company.pk}).status_code == 403


def test_a_user_without_company_is_told_so(db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="lonely", password="pw-lonely-123")
    browser = HttpClient()
    browser.login(username="lonely", password="pw-lonely-123")
    response = browser.get("/invoices/")
    assert response.status_code == 403
    assert "You do not belong to any company yet" in response.content.decode()


def test_createsuperuser_and_the_admin_list_every_model(seeded, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "admin-pass-123")
    call_command("createsuperuser", "--noinput", "--username=admin", "--email=admin@example.com", stdout=StringIO())
    browser = HttpClient()
    assert browser.login(username="admin", password="admin-pass-123")
    for model in ("companies/company", "companies/membership", "companies/tax", "companies/paymentmethod",
                  "clients/client", "invoices/invoice", "invoices/invoiceline", "invoices/invoicetax",
                  "invoices/invoiceadjustment"):
        assert browser.get(f"/admin/{model}/").status_code == 200, model
    invoice = Invoice.objects.get(number="LD-0001")
    page = browser.get(f"/admin/invoices/invoice/{invoice.pk}/change/").content.decode()
    assert "Translation DE&gt;EN, technical manual" in page
