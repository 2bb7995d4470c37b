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


# --- A deleted payment un-pays an invoice B2Brouter holds as paid ------------------------------


def paid_in_b2brouter(web, company, customer, vat, sim, account):
    """Create, send and pay an invoice through B2Brouter; return it, its link and the state before paid."""
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("100", "1")])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    before = InvoiceLink.objects.get(invoice=invoice).state
    page = pay(web, invoice, "121").content.decode()
    link = InvoiceLink.objects.get(invoice=invoice)
    assert f"B2Brouter invoice #{link.b2brouter_id} is marked paid." in page and link.state == "paid"
    return invoice, link, before


def delete_the_payment(web, invoice):
    payment = invoice.payments.get()
    return web.post(f"/invoices/{invoice.pk}/payments/{payment.pk}/delete/", follow=True).content.decode()


def remote_state(sim, account, link):
    return sim.api("GET", f"/invoices/{link.b2brouter_id}", account[1])["invoice"]["state"]


def test_an_unpaid_invoice_that_b2brouter_holds_paid_is_put_back_to_its_state(web, company, account, integration,
                                                                              customer, vat, sim):
    invoice, link, before = paid_in_b2brouter(web, company, customer, vat, sim, account)
    page = delete_the_payment(web, invoice)
    assert "is issued again: something is due." in page
    assert f"B2Brouter still shows invoice #{link.b2brouter_id} as paid: put its state back below." in page
    assert f"B2Brouter still shows invoice #{link.b2brouter_id} as paid, but 121.00 EUR is due here." in page
    expected = before if before in ("sent", "accepted", "registered") else "sent"
    assert f'<option value="{expected}" selected>' in page
    assert remote_state(sim, account, link) == "paid"  # nothing changed in B2Brouter on its own

    page = web.post(f"/invoices/{invoice.pk}/payments/b2brouter/unpaid/", {"state": "sent"},
                    follow=True).content.decode()
    assert f"B2Brouter invoice #{link.b2brouter_id} is sent again: it no longer shows as paid." in page
    assert "as paid, but" not in page  # the offer is gone
    assert remote_state(sim, account, link) == "sent"
    link.refresh_from_db()
    assert link.state == "sent" and link.state_before_paid == ""
    assert InvoiceEvent.objects.filter(invoice=invoice, type="marked_unpaid").count() == 1

    # Paid again later: B2Brouter is told again, as the first time.
    page = pay(web, invoice, "121").content.decode()
    assert f"B2Brouter invoice #{link.b2brouter_id} is marked paid." in page
    assert remote_state(sim, account, link) == "paid"


def test_b2brouter_not_answering_keeps_the_offer_with_its_reason_and_a_retry(web, company, account, integration,
                                                                            customer, vat, sim):
    invoice, link, _before = paid_in_b2brouter(web, company, customer, vat, sim, account)
    delete_the_payment(web, invoice)
    data, key = account
    sim.set_faults(data["id"], key, error_rate="1")
    page = web.post(f"/invoices/{invoice.pk}/payments/b2brouter/unpaid/", {"state": "accepted"},
                    follow=True).content.decode()
    assert (f"B2Brouter did not confirm that invoice #{link.b2brouter_id} is accepted again: it still shows as "
            "paid here.") in page
    assert "as paid, but 121.00 EUR is due here." in page and "Put the state back in B2Brouter" in page
    assert InvoiceEvent.objects.filter(invoice=invoice, type="mark_unpaid_failed").exists()
    assert "no longer shows as paid" not in page

    sim.set_faults(data["id"], key, error_rate="0")
    page = web.post(f"/invoices/{invoice.pk}/payments/b2brouter/unpaid/", {"state": "accepted"},
                    follow=True).content.decode()
    assert f"B2Brouter invoice #{link.b2brouter_id} is accepted again: it no longer shows as paid." in page
    assert remote_state(sim, account, link) == "accepted"


def test_a_change_made_although_the_answer_was_lost_is_confirmed_by_reading_it(web, company, account, integration,
                                                                               customer, vat, sim, monkeypatch):
    import b2brouter
    from b2binvoice.einvoicing.remote import Remote

    invoice, link, _before = paid_in_b2brouter(web, company, customer, vat, sim, account)
    delete_the_payment(web, invoice)
    real = Remote.mark_as

    def lost_answer(self, invoice_id, state):
        real(self, invoice_id, state)
        raise b2brouter.APIConnectionError("read timed out", method="POST", path="/mark_as", maybe_applied=True)

    monkeypatch.setattr(Remote, "mark_as", lost_answer)
    page = web.post(f"/invoices/{invoice.pk}/payments/b2brouter/unpaid/", {"state": "sent"},
                    follow=True).content.decode()
    assert f"B2Brouter invoice #{link.b2brouter_id} is sent again: it no longer shows as paid." in page
    link.refresh_from_db()
    assert link.state == "sent"


def test_a_refusal_is_shown_with_b2brouters_words_escaped_and_the_way_to_do_it_there(
        web, company, account, integration, customer, vat, sim, monkeypatch):
    import b2brouter
    from b2binvoice.einvoicing.remote import Remote

    invoice, link, _before = paid_in_b2brouter(web, company, customer, vat, sim, account)
    delete_the_payment(web, invoice)

    def refuse(self, invoice_id, state):
        raise b2brouter.InvalidRequestError("<b>State cannot go back</b>", status_code=422, request_id="req_un")

    monkeypatch.setattr(Remote, "mark_as", refuse)
    page = web.post(f"/invoices/{invoice.pk}/payments/b2brouter/unpaid/", {"state": "sent"},
                    follow=True).content.decode()
    assert "&lt;b&gt;State cannot go back&lt;/b&gt;" in page and "<b>State cannot go back</b>" not in page
    assert "req_un" in page and "change the invoice's state in B2Brouter itself" in page
    assert f"/invoices/{link.b2brouter_id}" in page  # the link that opens it in B2Brouter
    assert remote_state(sim, account, link) == "paid"


def test_only_the_states_b2brouter_takes_back_are_accepted_and_only_when_it_holds_it_paid(
        web, company, account, integration, customer, vat, sim):
    invoice, link, _before = paid_in_b2brouter(web, company, customer, vat, sim, account)
    # Still paid here: nothing is offered and a request changes nothing.
    assert "Put the state back in B2Brouter" not in web.get(f"/invoices/{invoice.pk}/").content.decode()
    web.post(f"/invoices/{invoice.pk}/payments/b2brouter/unpaid/", {"state": "sent"})
    assert remote_state(sim, account, link) == "paid"
    delete_the_payment(web, invoice)
    page = web.post(f"/invoices/{invoice.pk}/payments/b2brouter/unpaid/", {"state": "new"},
                    follow=True).content.decode()
    assert "Choose the state to put back: sent, accepted or registered." in page
    assert remote_state(sim, account, link) == "paid"
