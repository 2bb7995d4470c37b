"""The home page: issued, due and overdue per currency, the invoices that need attention, the last 12 months."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from b2binvoice.clients.models import Client
from b2binvoice.einvoicing import events
from b2binvoice.einvoicing.models import InvoiceLink, LinkStatus
from b2binvoice.home.owed import owed
from b2binvoice.invoices.calculations import calculate_invoice
from b2binvoice.invoices.models import Invoice, InvoiceAdjustment, InvoiceLine, InvoiceTax, Payment
from b2binvoice.invoices.payments import balance

pytestmark = pytest.mark.django_db


def months_back(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, min(day.day, 28))


def make(company, client, number: str, *, lines=(("1", "100"),), taxes=(), adjustments=(), status="issued",
         currency="EUR", issue_date=None, due_date=None, kind="invoice") -> Invoice:
    today = timezone.localdate()
    invoice = Invoice.objects.create(company=company, client=client, number=number, status=status, currency=currency,
                                     issue_date=issue_date or today, due_date=due_date, kind=kind)
    for quantity, price in lines:
        InvoiceLine.objects.create(invoice=invoice, description="Work", quantity=Decimal(quantity),
                                   unit_price=Decimal(price))
    for name, kind_, rate, amount in taxes:
        InvoiceTax.objects.create(invoice=invoice, name=name, kind=kind_, rate=rate and Decimal(rate),
                                  amount=amount and Decimal(amount))
    for kind_, mode, value in adjustments:
        InvoiceAdjustment.objects.create(invoice=invoice, kind=kind_, mode=mode, value=Decimal(value))
    return invoice


@pytest.fixture
def company(lingua):
    """The demo company without its seeded invoices, so every figure below is the test's own."""
    Invoice.objects.filter(company=lingua).delete()
    return lingua


@pytest.fixture
def acme(company) -> Client:
    return Client.objects.create(company=company, name="Acme Translations SL")


def python_sum(invoices) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for invoice in invoices:
        totals = calculate_invoice(invoice)
        sums[totals.currency] = sums.get(totals.currency, Decimal(0)) + totals.total
    return sums


def test_the_database_totals_equal_the_invoice_arithmetic_to_the_cent(company, acme):
    """Half-cent lines and taxes, discounts, charges, withholding, absolute taxes, JPY and a credit note."""
    iva, irpf = ("IVA", "percentage", "21", None), ("IRPF", "percentage", "-15", None)
    made = [
        make(company, acme, "H-1", lines=[("1", "10.50")], taxes=[iva]),  # 2.205 -> 2.21
        make(company, acme, "H-2", lines=[("3", "0.335"), ("2.5", "1.01")], taxes=[iva, irpf]),  # 1.005, 2.525
        make(company, acme, "H-3", lines=[("1", "200.05")], taxes=[iva],
             adjustments=[("discount", "percentage", "7.5"), ("charge", "absolute", "3.333")]),
        make(company, acme, "H-4", lines=[("12000", "0.085")], taxes=[("Eco", "absolute", None, "1.25")]),
        make(company, acme, "H-5", lines=[("1", "40000")], currency="JPY", taxes=[("消費税", "percentage", "10.5", None)]),
        make(company, acme, "H-6", lines=[("1", "-10.50")], taxes=[iva], kind="credit_note"),  # -2.205 -> -2.21
        make(company, acme, "H-7", lines=[], taxes=[iva]),
        make(company, acme, "H-8", lines=[("1", "99.99")], status="paid"),
    ]
    figures = owed(company)
    issued = {summary.currency: summary.issued for summary in figures.currencies}
    assert issued == python_sum(made)
    due = {summary.currency: summary.due for summary in figures.currencies}
    assert due == python_sum([invoice for invoice in made[:-1] if not invoice.is_credit_note])
    # 12.71 + 3.75 + 227.94 + 1021.25 - 12.71 + 0 + 99.99: the half cents of H-1, H-2 and H-6 rounded away from zero.
    assert issued == {"EUR": Decimal("1352.93"), "JPY": Decimal("44200")}


def test_issued_due_and_overdue_per_currency(company, acme):
    today = timezone.localdate()
    last_year = dt.date(today.year - 1, 6, 1)
    make(company, acme, "A-1", lines=[("1", "100")], due_date=today - dt.timedelta(days=3))  # overdue
    make(company, acme, "A-2", lines=[("1", "50")], due_date=today + dt.timedelta(days=10))  # due, not yet
    make(company, acme, "A-3", lines=[("1", "30")], status="paid")
    make(company, acme, "A-4", lines=[("1", "999")], status="draft")  # never counted
    make(company, acme, "A-5", lines=[("1", "999")], status="cancelled")
    make(company, acme, "A-6", lines=[("1", "20")], issue_date=last_year, due_date=last_year)  # old, still owed
    make(company, acme, "A-7", lines=[("2", "500")], currency="USD", due_date=today - dt.timedelta(days=40))
    [eur, usd] = owed(company).currencies
    assert (eur.currency, eur.issued, eur.issued_count) == ("EUR", Decimal("180.00"), 3)
    assert (eur.due, eur.due_count, eur.overdue, eur.overdue_count) == (Decimal("170.00"), 3, Decimal("120.00"), 2)
    assert (usd.currency, usd.issued, usd.due, usd.overdue) == ("USD", Decimal("1000.00"), Decimal("1000.00"),
                                                               Decimal("1000.00"))


def test_payments_and_credit_notes_reduce_what_is_due_as_the_invoice_page_says(company, acme, demo_web):
    today = timezone.localdate()
    late = today - dt.timedelta(days=20)
    iva = ("IVA", "percentage", "21", None)
    part = make(company, acme, "P-1", lines=[("1", "1000")], taxes=[iva], due_date=late)  # 1210.00
    Payment.objects.create(invoice=part, date=today, amount=Decimal("200.005"))
    credited = make(company, acme, "P-2", lines=[("1", "500")], taxes=[iva], due_date=late,
                    issue_date=dt.date(today.year - 2, 3, 1))  # 605.00, issued long ago, still owed
    note = make(company, acme, "P-2-CN", lines=[("1", "-100")], taxes=[iva], kind="credit_note", status="paid",
                issue_date=dt.date(today.year - 2, 4, 1))
    note.corrected_invoice = credited
    note.save()
    draft_note = make(company, acme, "P-2-CN2", lines=[("1", "-300")], taxes=[iva], kind="credit_note",
                      status="draft")
    draft_note.corrected_invoice = credited
    draft_note.save()
    over = make(company, acme, "P-3", lines=[("1", "50")], due_date=late)
    Payment.objects.create(invoice=over, date=today, amount=Decimal("80"))  # more than due: nothing owed
    [eur] = owed(company).currencies
    expected = [balance(invoice).due for invoice in (part, credited, over)]
    assert expected == [Decimal("1009.99"), Decimal("484.00"), Decimal("0.00")]
    # Fully credited by an issued credit note: nothing is owed, so it is neither due nor overdue.
    voided = make(company, acme, "P-4", lines=[("1", "70")], due_date=late)
    full_note = make(company, acme, "P-4-CN", lines=[("1", "-70")], kind="credit_note", status="issued")
    full_note.corrected_invoice = voided
    full_note.save()
    assert balance(voided).due == Decimal("0.00")
    [eur] = owed(company).currencies
    # P-3 (over-paid) and P-4 (fully credited) owe nothing: counted neither as due nor as overdue.
    assert (eur.due, eur.due_count) == (sum(expected), 2)
    assert (eur.overdue, eur.overdue_count) == (sum(expected), 2)
    page = demo_web.get("/").content.decode()
    assert "1,493.99 EUR" in page
    assert re.search(r"P-1</a>.*?1,009.99 EUR", page, re.S) and re.search(r"P-2</a>.*?484.00 EUR", page, re.S)
    assert "P-3</a>" not in page and "P-4</a>" not in page

    # The invoice list's overdue filter (the figure's link) agrees: the partly paid and partly credited
    # invoices are listed, the over-paid and the fully credited are not; the totals say what is owed.
    listed = demo_web.get("/invoices/?overdue=1")
    assert [invoice.number for invoice in listed.context["page"]] == ["P-1", "P-2"]
    assert listed.context["matched"] == eur.overdue_count
    assert listed.context["totals"] == [("EUR", Decimal("1815.00"))]
    assert listed.context["owed_totals"] == [("EUR", eur.overdue)]
    assert "Still owed: <span class=\"filter-owed\">1,493.99 EUR</span>" in listed.content.decode()
    # Fully paid while still marked issued (a credit note issued after the payment took part of it).
    paid_up = make(company, acme, "P-5", lines=[("1", "30")], due_date=late)
    Payment.objects.create(invoice=paid_up, date=today, amount=Decimal("30"))
    assert [invoice.number for invoice in demo_web.get("/invoices/?overdue=1").context["page"]] == ["P-1", "P-2"]


def test_the_monthly_amounts_cover_the_last_12_months(company, acme):
    today = timezone.localdate()
    make(company, acme, "M-0", lines=[("1", "10")], status="paid")
    make(company, acme, "M-1", lines=[("1", "20")], issue_date=months_back(today, 1))
    make(company, acme, "M-11", lines=[("1", "40")], issue_date=months_back(today, 11), status="paid")
    make(company, acme, "M-12", lines=[("1", "80")], issue_date=months_back(today, 12), status="paid")  # too old
    figures = owed(company)
    assert len(figures.months) == 12 and figures.months[-1] == today.replace(day=1)
    amounts = figures.monthly["EUR"]
    assert amounts[-1] == Decimal("10.00") and amounts[-2] == Decimal("20.00") and amounts[0] == Decimal("40.00")
    assert sum(amounts) == Decimal("70.00")


def test_the_home_page_shows_the_figures_the_attention_lists_and_the_chart(company, acme, demo_web):
    today = timezone.localdate()
    late = make(company, acme, "LATE-1", lines=[("1", "1234.5")], due_date=today - dt.timedelta(days=5))
    blocked = make(company, acme, "BLOCK-1", status="draft")
    events.create_blocked(invoice=blocked, user=None, problems=["B2Brouter needs at least one tax on the invoice"])
    refused = make(company, acme, "REF-1")
    InvoiceLink.objects.create(invoice=refused, status=LinkStatus.LINKED, account_id="1", b2brouter_id=77,
                               state="refused", refuse_reason="<b>Wrong buyer</b> reference")
    response = demo_web.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Issued in %d" % today.year in page
    assert "1,334.50 EUR" in page  # issued: LATE-1 and REF-1 (REF-1 has no due date: due, not overdue)
    assert "1,234.50 EUR" in page  # overdue
    assert f'href="/invoices/{late.pk}/">LATE-1</a>' in page and "5 days late" in page
    assert f'href="/invoices/{blocked.pk}/b2brouter/">BLOCK-1</a>' in page
    assert "B2Brouter needs at least one tax on the invoice" in page
    assert f'href="/invoices/{refused.pk}/b2brouter/">REF-1</a>' in page
    assert "&lt;b&gt;Wrong buyer&lt;/b&gt;" in page  # B2Brouter's text, escaped
    chart = re.search(r"<svg .*?</svg>", page, re.S)[0]
    assert chart.count("<rect ") == 12 and "<title" in chart and "style=" not in chart
    assert re.search(r"<title>\w+ \d{4}: 1,334.50 EUR</title>", chart)

    # Once a push succeeds, the blocked invoice leaves the list.
    events.created(invoice=blocked, user=None, b2brouter_id=78)
    assert "BLOCK-1" not in demo_web.get("/").content.decode()


def test_the_home_page_is_empty_but_friendly_without_invoices(company, demo_web):
    page = demo_web.get("/").content.decode()
    assert "Nothing issued yet" in page and "Nothing needs attention" in page


def count_queries(web) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert web.get("/").status_code == 200
    return len(queries)


def test_the_home_page_runs_a_constant_number_of_queries(company, acme, demo_web):
    today = timezone.localdate()
    make(company, acme, "Q-0", due_date=today - dt.timedelta(days=1))
    demo_web.get("/")
    few = count_queries(demo_web)
    for n in range(1, 40):
        invoice = make(company, acme, f"Q-{n}", due_date=today - dt.timedelta(days=n), issue_date=months_back(today, n % 12),
                       taxes=[("IVA", "percentage", "21", None)])
        if n % 3 == 0:
            events.create_blocked(invoice=invoice, user=None, problems=["no tax"])
        if n % 4 == 0:
            InvoiceLink.objects.create(invoice=invoice, status=LinkStatus.LINKED, account_id="1", b2brouter_id=n,
                                       state="error")
    assert count_queries(demo_web) == few


def test_anonymous_visitors_are_asked_to_log_in(seeded):
    response = HttpClient().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/")


def test_another_company_never_sees_these_figures(company, acme, other_web):
    make(company, acme, "SECRET-1", lines=[("1", "777")], due_date=timezone.localdate() - dt.timedelta(days=1))
    page = other_web.get("/").content.decode()
    assert "SECRET-1" not in page and "777" not in page


def test_the_home_page_speaks_spanish_and_catalan(company, acme, demo_web):
    make(company, acme, "ES-1", lines=[("1", "1234.5")], due_date=timezone.localdate() - dt.timedelta(days=2))
    spanish = demo_web.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Pendiente de cobro" in spanish and "Requiere atención" in spanish and "2 días de retraso" in spanish
    assert "Facturado en los últimos 12 meses" in spanish
    catalan = demo_web.get("/", HTTP_ACCEPT_LANGUAGE="ca").content.decode()
    assert "Pendent de cobrament" in catalan and "2 dies de retard" in catalan


def test_issued_this_year_links_to_the_list_of_this_years_issued_and_paid_invoices(company, acme, demo_web):
    today = timezone.localdate()
    made = [make(company, acme, "Y-1", lines=[("1", "100")]),
            make(company, acme, "Y-2", lines=[("1", "50.25")], status="paid"),
            make(company, acme, "Y-3", lines=[("1", "7")], status="draft"),
            make(company, acme, "Y-4", lines=[("1", "9")], issue_date=today.replace(year=today.year - 1, day=1))]
    page = demo_web.get("/").content.decode()
    link = re.search(r'<a class="figure figure-issued" href="([^"]+)">(.*?)</a>', page, re.S)
    assert link, "the issued figure is a link"
    assert "Issued in %d" % today.year in link[2] and "150.25 EUR" in link[2] and "2 invoices" in link[2]
    url = link[1].replace("&amp;", "&")
    assert url == f"/invoices/?status=issued_or_paid&from={today.year}-01-01&to={today.year}-12-31"
    listed = demo_web.get(url).content.decode()
    numbers = set(re.findall(r">(Y-\d)</a>", listed))
    assert numbers == {"Y-1", "Y-2"}, numbers
    assert '<span class="filter-total">150.25 EUR</span>' in listed  # the list's total is the home page's figure
    assert '<option value="issued_or_paid" selected>Issued or paid</option>' in listed
    assert made[2].number not in numbers
