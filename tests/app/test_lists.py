"""The invoice and client lists: search folding, filters, sorting, keyset paging, totals, query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from b2binvoice.clients.models import Client
from b2binvoice.invoices.models import Invoice, InvoiceLine


def make_client(company, name: str, **fields) -> Client:
    return Client.objects.create(company=company, name=name, **fields)


def make_invoices(company, client, count: int, *, prefix: str = "T-", day: dt.date = dt.date(2026, 3, 1),
                  status: str = "issued", currency: str = "EUR", price: str = "10", **fields) -> list[Invoice]:
    made = []
    for n in range(count):
        invoice = Invoice.objects.create(company=company, client=client, number=f"{prefix}{n:04d}",
                                         issue_date=day - dt.timedelta(days=n), status=status, currency=currency,
                                         **fields)
        InvoiceLine.objects.create(invoice=invoice, description="Work", quantity=Decimal("1"),
                                   unit_price=Decimal(price))
        made.append(invoice)
    return made


def numbers(response) -> list[str]:
    assert response.status_code == 200
    return [invoice.number for invoice in response.context["page"]]


def test_search_ignores_case_and_accents(demo_web, lingua):
    nandu = make_client(lingua, "Ñandú Traducciones", city="Córdoba")
    lumiere = make_client(lingua, "Éditions Lumière Quatre")
    make_invoices(lingua, nandu, 1, prefix="NA-")
    make_invoices(lingua, lumiere, 1, prefix="LU-")
    assert numbers(demo_web.get("/invoices/", {"q": "ñandú"})) == ["NA-0000"]
    assert numbers(demo_web.get("/invoices/", {"q": "NANDU"})) == ["NA-0000"]
    assert numbers(demo_web.get("/invoices/", {"q": "Lumiere Quatre"})) == ["LU-0000"]
    assert "LU-0000" in numbers(demo_web.get("/invoices/", {"q": "Lumiere"}))
    assert numbers(demo_web.get("/invoices/", {"q": "lu-0000"})) == ["LU-0000"]
    clients = demo_web.get("/clients/", {"q": "cordoba"})
    assert [c.name for c in clients.context["page"]] == ["Ñandú Traducciones"]
    assert [c.name for c in demo_web.get("/clients/", {"q": "lumière quatre"}).context["page"]] == [
        "Éditions Lumière Quatre"]


def test_renaming_a_client_updates_the_invoice_search(demo_web, lingua):
    client = make_client(lingua, "Old Name")
    make_invoices(lingua, client, 2, prefix="RN-")
    client.name = "Zoë Übersetzungen"
    client.save()
    assert numbers(demo_web.get("/invoices/", {"q": "zoe ubersetzungen"})) == ["RN-0000", "RN-0001"]
    assert numbers(demo_web.get("/invoices/", {"q": "Old Name"})) == []


@pytest.mark.parametrize("raw", ["\x00", "a\x00b", "ñ\x00andú"])
def test_a_nul_byte_in_the_search_is_refused_not_a_500(demo_web, raw):
    # The bad-input middleware answers 400 with a message before the list's query runs (a NUL once
    # made PostgreSQL fail with a 500); the list's own search helper also strips it.
    for url in ("/invoices/", "/clients/"):
        response = demo_web.get(url, {"q": raw})
        assert response.status_code == 400
        assert response.content


def test_filters_by_status_client_dates_overdue_and_b2brouter_state(demo_web, lingua):
    alpha = make_client(lingua, "Alpha Filters")
    beta = make_client(lingua, "Beta Filters")
    today = timezone.localdate()
    make_invoices(lingua, alpha, 3, prefix="AL-", day=dt.date(2026, 2, 10))
    make_invoices(lingua, beta, 2, prefix="BE-", day=dt.date(2026, 4, 10), status="paid")
    make_invoices(lingua, beta, 1, prefix="OD-", day=today - dt.timedelta(days=60),
                  due_date=today - dt.timedelta(days=1))
    make_invoices(lingua, beta, 1, prefix="ND-", day=today - dt.timedelta(days=60),
                  due_date=today + dt.timedelta(days=1))

    assert numbers(demo_web.get("/invoices/", {"client": alpha.pk})) == ["AL-0000", "AL-0001", "AL-0002"]
    assert numbers(demo_web.get("/invoices/", {"client": beta.pk, "status": "paid"})) == ["BE-0000", "BE-0001"]
    assert numbers(demo_web.get("/invoices/", {"client": alpha.pk, "from": "2026-02-09", "to": "2026-02-10"})) == [
        "AL-0000", "AL-0001"]
    assert numbers(demo_web.get("/invoices/", {"client": beta.pk, "overdue": "1"})) == ["OD-0000"]
    assert numbers(demo_web.get("/invoices/", {"client": alpha.pk, "state": "none"})) == [
        "AL-0000", "AL-0001", "AL-0002"]
    assert numbers(demo_web.get("/invoices/", {"client": alpha.pk, "state": "accepted"})) == []
    # Values that are not choices are ignored rather than failing.
    ignored = demo_web.get("/invoices/", {"client": alpha.pk, "status": "bogus", "from": "yesterday",
                                          "state": "x'; drop", "sort": "client__name"})
    assert numbers(ignored) == ["AL-0000", "AL-0001", "AL-0002"]


def test_sortable_columns(demo_web, lingua):
    client = make_client(lingua, "Sorting Client")
    make_invoices(lingua, client, 3, prefix="S-")  # S-0000 is the newest
    assert numbers(demo_web.get("/invoices/", {"client": client.pk})) == ["S-0000", "S-0001", "S-0002"]
    assert numbers(demo_web.get("/invoices/", {"client": client.pk, "sort": "date"})) == [
        "S-0002", "S-0001", "S-0000"]
    assert numbers(demo_web.get("/invoices/", {"client": client.pk, "sort": "number"})) == [
        "S-0000", "S-0001", "S-0002"]
    assert numbers(demo_web.get("/invoices/", {"client": client.pk, "sort": "-number"})) == [
        "S-0002", "S-0001", "S-0000"]
    page = demo_web.get("/invoices/", {"client": client.pk, "sort": "number"}).content.decode()
    assert 'aria-sort="ascending"' in page and "sort=-number" in page


def walk(web, url: str, direction: str) -> list[list[str]]:
    """Follow next (or previous) links from ``url``; return the numbers of each page."""
    pages = []
    while url:
        response = web.get("/invoices/" + url)
        pages.append(numbers(response))
        url = getattr(response.context["page"], f"{direction}_url")
    return pages


@pytest.mark.parametrize("count", [0, 1, 25, 26, 51])
def test_keyset_paging_edges(demo_web, lingua, count):
    client = make_client(lingua, "Paging Client")
    made = make_invoices(lingua, client, count, prefix="P-", day=dt.date(2026, 6, 1))
    # Same-day invoices too: the id breaks the tie so no invoice is skipped or repeated.
    made += make_invoices(lingua, client, min(count, 3), prefix="Q-", day=dt.date(2026, 6, 1))
    expected = [i.number for i in sorted(made, key=lambda i: (i.issue_date, i.pk), reverse=True)]
    forward = walk(demo_web, f"?client={client.pk}", "next")
    assert [n for page in forward for n in page] == expected
    assert all(len(page) == 25 for page in forward[:-1]) and len(forward[-1]) <= 25
    first = demo_web.get("/invoices/", {"client": client.pk})
    last_url = first.context["page"].last_url
    if len(expected) <= 25:
        assert last_url is None and first.context["page"].next_url is None
        assert 'rel="next"' not in first.content.decode()
        return
    backward = walk(demo_web, last_url, "previous")
    assert [n for page in reversed(backward) for n in page] == expected
    # The last page is full (it is read backwards from the end); the previous links reach the first.
    assert backward[0] == expected[-25:] and backward[-1][0] == expected[0]


def test_numbered_page_links_open_that_page_or_say_why_not(demo_web, lingua):
    client = make_client(lingua, "Numbered Client")
    made = make_invoices(lingua, client, 60, prefix="N-", day=dt.date(2026, 6, 1))
    expected = [i.number for i in sorted(made, key=lambda i: (i.issue_date, i.pk), reverse=True)]
    # ?page=N, as links from before keyset paging (and the client list) have, opens page N.
    second = demo_web.get("/invoices/", {"client": client.pk, "page": "2"})
    assert numbers(second) == expected[25:50]
    assert numbers(demo_web.get("/invoices/" + second.context["page"].previous_url)) == expected[:25]
    assert numbers(demo_web.get("/invoices/" + second.context["page"].next_url)) == expected[50:]
    assert 'rel="first"' in second.content.decode() and 'rel="last"' in second.content.decode()
    third = demo_web.get("/invoices/", {"client": client.pk, "page": "3", "sort": "number"})
    assert numbers(third) == sorted(expected)[50:] and third.context["page"].next_url is None
    for ignored in ("1", "0", "-2", "x", "²"):
        assert numbers(demo_web.get("/invoices/", {"client": client.pk, "page": ignored})) == expected[:25]

    # Past the end: the last page, saying so.
    beyond = demo_web.get("/invoices/", {"client": client.pk, "page": "4"}, follow=True)
    assert beyond.redirect_chain == [(f"/invoices/?client={client.pk}&page=last", 302)]
    assert numbers(beyond) == expected[-25:]
    assert "There is no page 4: here is the last page." in beyond.content.decode()
    # Beyond what may be opened by number (an OFFSET of at most 1,000 rows): the first page, saying so.
    far = demo_web.get("/invoices/", {"client": client.pk, "page": "41"}, follow=True)
    assert far.redirect_chain == [(f"/invoices/?client={client.pk}", 302)]
    assert numbers(far) == expected[:25]
    assert "Page 41 cannot be opened by its number: only the first 40 pages can." in far.content.decode()
    assert count_queries(demo_web, "/invoices/", {"client": client.pk, "page": "2"}) == count_queries(
        demo_web, "/invoices/", {"client": client.pk})


def test_a_forged_cursor_shows_the_first_page(demo_web, lingua):
    client = make_client(lingua, "Cursor Client")
    make_invoices(lingua, client, 2, prefix="C-")
    for cursor in ("!!", "bm90IGpzb24", "WzEsMiwzXQ", "WyJub3QtYS1kYXRlIiwgMV0"):
        assert numbers(demo_web.get("/invoices/", {"client": client.pk, "after": cursor})) == ["C-0000", "C-0001"]


def test_filter_totals_per_currency_and_the_capped_count(demo_web, lingua):
    client = make_client(lingua, "Totals Client")
    make_invoices(lingua, client, 3, prefix="E-", price="100")
    make_invoices(lingua, client, 2, prefix="U-", currency="USD", price="7.5")
    response = demo_web.get("/invoices/", {"client": client.pk})
    assert response.context["matched"] == 5 and not response.context["more_than"]
    totals = dict(response.context["totals"])
    # The demo company adds its default taxes to none of these: the total is the lines' sum.
    assert totals == {"EUR": Decimal("300.00"), "USD": Decimal("15.00")}
    assert "5 invoices" in response.content.decode()


def test_totals_are_not_computed_beyond_the_limit(demo_web, lingua, settings, monkeypatch):
    from b2binvoice.invoices import views

    monkeypatch.setattr(views, "TOTALS_LIMIT", 2)
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    client = make_client(lingua, "Many Client")
    make_invoices(lingua, client, 5, prefix="M-")
    response = demo_web.get("/invoices/", {"client": client.pk})
    assert response.context["totals"] is None and response.context["more_than"]
    body = response.content.decode()
    assert "More than 3 invoices" in body and "at most 2 invoices" in body


def count_queries(web, url: str, params: dict) -> int:
    web.get(url, params)  # warm up the session
    with CaptureQueriesContext(connection) as queries:
        assert web.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("params", [{}, {"q": "query"}, {"status": "issued", "overdue": "1"}, {"sort": "number"},
                                    {"state": "none"}])
def test_the_invoice_list_queries_are_constant(demo_web, lingua, params):
    client = make_client(lingua, "Query Count")
    make_invoices(lingua, client, 1, prefix="query-A-", due_date=dt.date(2026, 1, 1))
    params = {"client": client.pk} | params
    one = count_queries(demo_web, "/invoices/", params)
    make_invoices(lingua, client, 49, prefix="query-B-", due_date=dt.date(2026, 1, 1))
    fifty = count_queries(demo_web, "/invoices/", params)
    assert one == fifty
    nxt = demo_web.get("/invoices/", params).context["page"].next_url
    assert nxt and count_queries(demo_web, "/invoices/" + nxt, {}) == fifty


def test_the_client_list_counts_invoices_for_its_page_in_constant_queries(demo_web, lingua):
    first = make_client(lingua, "AAA Count Client")
    make_invoices(lingua, first, 1, prefix="CC-")
    one = count_queries(demo_web, "/clients/", {})
    for n in range(30):
        make_client(lingua, f"AAB Count Client {n:02d}")
    make_invoices(lingua, first, 49, prefix="CD-")
    fifty = count_queries(demo_web, "/clients/", {})
    assert one == fifty
    page = demo_web.get("/clients/").context["page"]
    counts = {c.name: c.invoice_count for c in page}
    assert counts["AAA Count Client"] == 50 and counts["AAB Count Client 00"] == 0
    assert count_queries(demo_web, "/clients/", {"page": 2}) == fifty
