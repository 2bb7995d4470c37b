"""Payments through the invoice page: amount due, partial payments, refusals, paid status, B2Brouter's mark_as."""

from __future__ import annotations

from decimal import Decimal

import pytest

from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink
from b2binvoice.invoices.models import InvoiceChange, Payment
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


def issued(company, customer, vat, **kwargs):
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("100", "1")], **kwargs)  # 121.00
    invoice.status = "issued"
    invoice.save()
    return invoice


def pay(web, invoice, amount, **extra):
    data = {"date": "2026-11-20", "amount": amount, "method": "bank_transfer", "note": ""} | extra
    return web.post(f"/invoices/{invoice.pk}/payments/", data, follow=True)


def test_partial_payments_then_paid(web, company, customer, vat):
    invoice = issued(company, customer, vat)
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Record a payment" in page and 'value="121.00"' in page.replace("121.0000", "121.00")

    response = pay(web, invoice, "21.00", note="First part")
    page = response.content.decode()
    assert "Payment of 21.00 EUR recorded." in page and "First part" in page
    assert "100.00 EUR" in page  # the amount due
    invoice.refresh_from_db()
    assert invoice.status == "issued"

    page = pay(web, invoice, "100").content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "paid" and "is paid." in page
    assert [p.amount for p in invoice.payments.all()] == [Decimal("21"), Decimal("100")]
    assert "Record a payment" not in page  # nothing left to pay
    actions = list(InvoiceChange.objects.filter(invoice=invoice).values_list("action", flat=True))
    assert actions.count("payment") == 2 and "status" in actions


@pytest.mark.parametrize(("amount", "error"), [
    ("0", "Enter an amount greater than zero."),
    ("-5", "Enter an amount greater than zero."),
    ("121.01", "The amount is more than what is due (121.00 EUR)."),
    ("10.005", "EUR amounts have at most 2 decimals."),
    ("abc", "Enter a number written like 1,234.56"),
])
def test_a_refused_amount_keeps_what_was_typed(web, company, customer, vat, amount, error):
    invoice = issued(company, customer, vat)
    response = web.post(f"/invoices/{invoice.pk}/payments/", {"date": "2026-11-20", "amount": amount,
                                                               "note": "typed note"})
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page and f'value="{amount}"' in page and 'value="typed note"' in page
    assert not Payment.objects.exists()


def test_in_spanish_the_amount_is_typed_and_shown_with_a_decimal_comma(web, company, customer, vat):
    from django.conf import settings

    web.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    invoice = issued(company, customer, vat)
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert 'value="121,00"' in page and "Pendiente: 121,00 EUR" in page
    assert 'type="date" name="date" value="20' in page  # the date input takes an ISO date in every language
    response = pay(web, invoice, "121.00")
    assert "Introduce un número escrito como 1.234,56" in response.content.decode()
    assert not Payment.objects.exists()
    page = pay(web, invoice, "121,00").content.decode()
    assert "Pago de 121,00 EUR registrado." in page
    assert [p.amount for p in Payment.objects.all()] == [Decimal("121.00")]
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_a_draft_takes_no_payment(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "issue it before recording a payment" in page and "Record a payment" not in page
    assert web.post(f"/invoices/{invoice.pk}/payments/", {"date": "2026-11-20", "amount": "1"}).status_code == 403
    assert not Payment.objects.exists()


def test_deleting_a_payment_reverts_the_status(web, company, customer, vat):
    invoice = issued(company, customer, vat)
    pay(web, invoice, "121")
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    payment = invoice.payments.get()
    page = web.post(f"/invoices/{invoice.pk}/payments/{payment.pk}/delete/", follow=True).content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "issued" and not invoice.payments.exists()
    assert "is issued again" in page and "Record a payment" in page


def test_another_company_cannot_see_or_pay(other_web, web, company, customer, vat):
    invoice = issued(company, customer, vat)
    assert other_web.post(f"/invoices/{invoice.pk}/payments/", {"date": "2026-11-20", "amount": "1"}).status_code == 404
    pay(web, invoice, "1")
    payment = invoice.payments.get()
    assert other_web.post(f"/invoices/{invoice.pk}/payments/{payment.pk}/delete/").status_code == 404
    assert Payment.objects.count() == 1


def test_a_locked_invoice_sent_through_b2brouter_is_paid_and_marked_paid_there(web, company, account, integration,
                                                                              customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("100", "1")])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    link = InvoiceLink.objects.get(invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.status == "issued" and link.state in ("sent", "sending", "accepted")

    page = pay(web, invoice, "121").content.decode()
    assert f"B2Brouter invoice #{link.b2brouter_id} is marked paid." in page
    data, key = account
    remote = sim.api("GET", f"/invoices/{link.b2brouter_id}", key)["invoice"]
    assert remote["state"] == "paid"
    link.refresh_from_db()
    assert link.state == "paid"
    assert InvoiceEvent.objects.filter(invoice=invoice, type="marked_paid").exists()


def test_a_failed_mark_as_keeps_the_payment_and_offers_a_retry(web, company, account, integration, customer, vat, sim):
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("100", "1")])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    link = InvoiceLink.objects.get(invoice=invoice)
    data, key = account
    sim.set_faults(data["id"], key, error_rate="1")

    page = pay(web, invoice, "121").content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.payments.count() == 1
    assert "B2Brouter was not updated" in page and "Injected server error (simulator fault)" in page
    assert "Mark paid in B2Brouter again" in page
    assert InvoiceEvent.objects.filter(invoice=invoice, type="mark_paid_failed").exists()

    sim.set_faults(data["id"], key, error_rate="0")
    page = web.post(f"/invoices/{invoice.pk}/payments/b2brouter/", follow=True).content.decode()
    assert f"B2Brouter invoice #{link.b2brouter_id} is marked paid." in page
    assert "Mark paid in B2Brouter again" not in page
    assert sim.api("GET", f"/invoices/{link.b2brouter_id}", key)["invoice"]["state"] == "paid"
    assert invoice.payments.get().remote_error == ""


def test_b2brouters_message_is_escaped(web, company, account, integration, customer, vat, sim, monkeypatch):
    import b2brouter
    from b2binvoice.einvoicing.remote import Remote

    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("100", "1")])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")

    def refuse(self, invoice_id, state):
        raise b2brouter.InvalidRequestError("<script>alert(1)</script>", status_code=422, request_id="req_x")

    monkeypatch.setattr(Remote, "mark_as", refuse)
    page = pay(web, invoice, "121").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
