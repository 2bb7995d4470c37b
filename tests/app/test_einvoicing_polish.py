"""What a new user tripped over: the Integrations page, the live status badge, a fresh plate, the link search."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from b2binvoice.einvoicing.models import B2BrouterIntegration, InvoiceLink
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
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_integrations_page_lists_b2brouter_and_the_settings_menu_leads_there(web, company):
    page = web.get("/invoices/").content.decode()
    assert '<a href="/settings/integrations/">Integrations</a>' in page
    page = web.get("/settings/integrations/").content.decode()
    assert '<a href="/settings/integrations/b2brouter/">B2Brouter</a>' in page
    assert 'data-status="not_set_up"' in page and "Not set up" in page


def test_the_integrations_page_says_connected_disabled_or_attention(web, company, integration, sim, account):
    page = web.get("/settings/integrations/").content.decode()
    assert 'data-status="connected"' in page and "Connected to account Lingua Test S.L." in page
    B2BrouterIntegration.objects.filter(pk=integration.pk).update(enabled=False)
    assert 'data-status="disabled"' in web.get("/settings/integrations/").content.decode()
    B2BrouterIntegration.objects.filter(pk=integration.pk).update(enabled=True, rounding_method="bankers",
                                                                  settings_checked_at=timezone.now())
    assert 'data-status="attention"' in web.get("/settings/integrations/").content.decode()


def test_the_integrations_page_is_for_members_only(client, db):
    response = client.get("/settings/integrations/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_htmx_push_that_issues_the_invoice_reloads_the_whole_page(web, company, account, integration, customer,
                                                                    vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert '<span id="invoice-status" class="status status-draft">Draft</span>' in page
    assert "Delete draft" in page and f"{invoice.number} is a draft: issue it before recording a payment." in page
    answer = confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/", **HTMX)
    # The draft is issued now: its buttons, lock notice and payments are out of date, not only the section.
    assert answer.status_code == 200 and answer["HX-Refresh"] == "true"
    assert InvoiceLink.objects.get(invoice=invoice).state in ("sending", "sent")
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert '<span id="invoice-status" class="status status-issued">Issued</span>' in page
    assert "Delete draft" not in page and ">Edit<" not in page and "Change status or notes" in page
    assert "is a draft" not in page and "Record a payment" in page
    # The result was kept for the reloaded page, once.
    assert "totals match and it was sent" in page
    assert "totals match and it was sent" not in web.get(f"/invoices/{invoice.pk}/").content.decode()
    # A full page (no htmx) has one badge only, in the heading.
    assert page.count('id="invoice-status"') == 1 and "hx-swap-oob" not in page


def test_an_htmx_action_that_leaves_the_status_answers_the_section_and_badge(web, company, account, integration,
                                                                             customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    answer = web.post(f"/invoices/{invoice.pk}/b2brouter/refresh/", **HTMX)
    assert "HX-Refresh" not in answer
    html = answer.content.decode()
    assert html.lstrip().startswith('<section id="b2brouter-section"')
    assert '<span id="invoice-status" class="status status-issued" hx-swap-oob="true">Issued</span>' in html


def test_the_plate_reads_the_settings_again_when_they_are_older_than_the_limit(web, company, account, integration,
                                                                            sim, settings):
    data, key = account
    settings.B2BROUTER_SETTINGS_MAX_AGE = 300
    assert 'data-plate="ok"' in web.get("/settings/integrations/b2brouter/").content.decode()
    # Someone changes the account in B2Brouter's web app: a fresh reading is still trusted...
    sim.update_account(data["id"], key, rounding_method="bankers")
    assert 'data-plate="ok"' in web.get("/settings/integrations/b2brouter/").content.decode()
    # ...but once it is older than the limit, the page reads the settings again and turns orange.
    B2BrouterIntegration.objects.filter(pk=integration.pk).update(
        settings_checked_at=timezone.now() - dt.timedelta(seconds=301))
    page = web.get("/settings/integrations/b2brouter/").content.decode()
    assert 'data-plate="warn"' in page and "bankers" in page
    assert B2BrouterIntegration.objects.get(pk=integration.pk).rounding_method == "bankers"


def test_with_the_integration_disabled_no_plate_sits_under_the_failed_settings_line(web, company, integration,
                                                                                  customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    assert B2BrouterIntegration.objects.get(pk=integration.pk).settings_match  # the blue plate's case
    B2BrouterIntegration.objects.filter(pk=integration.pk).update(enabled=False)
    page = web.get(f"/invoices/{invoice.pk}/b2brouter/").content.decode()
    assert '<li class="fail" data-check="settings">' in page
    assert "data-plate=" not in page


def test_the_link_search_filters_and_differences_name_contacts(web, company, account, integration, customer, vat,
                                                               sim):
    data, key = account
    ours = contact_for(sim, account, customer)
    customer.b2brouter_contact_id, customer.b2brouter_account_id = ours["id"], str(data["id"])
    customer.save()
    other = sim.create_contact(data["id"], key, name="Acme SL", tin_value="ESA28017895", country="es",
                               is_client=True)
    for number in ("X-2026-001", "X-2026-002", "Y-2025-001"):
        sim.api("POST", f"/accounts/{data['id']}/invoices", key, {"invoice": {
            "number": number, "date": "2026-11-02", "currency": "EUR", "contact_id": other["id"],
            "invoice_lines_attributes": [{"description": "Work", "quantity": "1", "price": "10",
                                          "taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"}]}]}})
    invoice = make_invoice(company, customer, taxes=[vat])
    url = f"/invoices/{invoice.pk}/b2brouter/link/"

    def listed(params: dict[str, Any]) -> list[str]:
        response = web.get(url, params)
        assert response.status_code == 200
        return [row.data["number"] for row in response.context["candidates"]]

    assert sorted(listed({})) == ["X-2026-001", "X-2026-002", "Y-2025-001"]  # first visit: the recent ones
    assert sorted(listed({"number": "X-2026"})) == ["X-2026-001", "X-2026-002"]
    assert listed({"number": "x-2026-002"}) == ["X-2026-002"]
    assert listed({"number": "nothing-here"}) == []
    page = web.get(url, {"number": "nothing-here"}).content.decode()
    assert "No B2Brouter invoice found for number “nothing-here”." in page
    page = web.get(url, {"number": "X-2026"}).content.decode()
    assert f"another contact (Acme SL, ours {customer.name})" in page
    assert "another contact (#" not in page and "ours #" not in page


def test_the_comparison_names_the_tax_exclusive_amount_as_the_invoice_does(web, company, account, integration,
                                                                          customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert InvoiceLink.objects.filter(invoice=invoice).exists()
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert '<th scope="row">Tax-exclusive amount</th>' in page
    assert "<th>Tax-exclusive amount</th>" in page  # the invoice's own totals
    assert "Subtotal (before taxes)" not in page


def test_spanish_pages_show_compared_totals_and_link_candidates_in_spanish_numbers(web, company, account, integration,
                                                                                   customer, vat, sim, settings):
    contact_for(sim, account, customer)
    web.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    big = make_invoice(company, customer, taxes=[vat], lines=[("1", "2097")])  # 2,097.00 + 21 % = 2,537.37
    confirmed(web, f"/invoices/{big.pk}/b2brouter/create/")
    page = web.get(f"/invoices/{big.pk}/b2brouter/").content.decode()
    compare = page.split('class="b2b-compare"')[1].split("</table>")[0]
    assert compare.count("<td class=\"num\">2.537,37</td>") == 2 and "2537,37" not in compare
    assert compare.count("<td class=\"num\">2.097,00</td>") == 2
    assert "IVA (S 21 %)" in compare or "(21 %)" in compare

    small = make_invoice(company, customer, number="INV-0002", taxes=[vat], lines=[("1", "121.24")])  # 146.70
    page = web.get(f"/invoices/{small.pk}/b2brouter/link/?number=INV-0001").content.decode()
    candidate = page.split('class="b2b-candidates"')[1].split("</table>")[0]
    assert "2.537,37 EUR" in candidate
    assert "total 2.537,37, el nuestro 146,70" in candidate and "2537.37" not in candidate
    assert "02/11/2026" in candidate
