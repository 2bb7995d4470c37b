"""(d) The invoice list and invoice pages with 1000 invoices: SQL queries and response time.

The company holds 1000 invoices of 3 lines, 2 taxes and a discount; half of them are linked to a
B2Brouter invoice, so the list's B2Brouter column has something to show. Each page is fetched
with Django's test client (the full middleware stack, a logged-in user) and its queries are
counted with ``CaptureQueriesContext``. The same pages are measured first with 1 invoice in the
company: equal query counts at 1 and 1000 invoices (and for 3 and 200 lines) mean no N+1.
"""

from __future__ import annotations

import statistics
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.benchmarks._harness import bulk_invoices, make_company, ms, time_each

TITLE = "(d) Invoice pages with 1000 invoices: SQL queries and response time"
INVOICES = 1000
REPEATS = 15


def measure(web: Any, url: str) -> tuple[int, int, float, float]:
    """Fetch ``url``; return (status, queries, median seconds, bytes)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    web.get(url)  # warm up: templates, session, caches
    with CaptureQueriesContext(connection) as queries:
        response = web.get(url)
    query_count = len(queries)  # now: the next request resets the connection's query log
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    durations = time_each(lambda: web.get(url), REPEATS)
    return response.status_code, query_count, statistics.median(durations), len(response.content)


def link_half(invoices: list[Any]) -> None:
    """Link every other invoice to a (made-up) B2Brouter invoice, as if created earlier."""
    from b2binvoice.einvoicing.models import InvoiceLink, LinkStatus

    InvoiceLink.objects.bulk_create([
        InvoiceLink(invoice=invoice, status=LinkStatus.LINKED, environment="simulator", account_id="1",
                    b2brouter_id=100_000 + i, number=invoice.number, state="sent", currency="EUR")
        for i, invoice in enumerate(invoices) if i % 2 == 0
    ])


def run(console: Console) -> None:
    setup = make_company("Bench Pages S.L.", "bench-pages")
    first = bulk_invoices(setup, 1, start=1)
    rows: list[tuple[str, str, tuple[int, int, float, float]]] = []
    pages = {
        "list, page 1": "/invoices/",
        "list, search": "/invoices/?q=Sol",
        "invoice page (3 lines)": f"/invoices/{first[0].pk}/",
    }
    for label, url in pages.items():
        rows.append(("1", label, measure(setup.web, url)))

    more = bulk_invoices(setup, INVOICES - 1, start=2)
    big = bulk_invoices(setup, 1, lines=200, start=INVOICES + 1, prefix="BIG-")[0]
    link_half(first + more)
    count = INVOICES + 1
    pages |= {
        "list, by number": "/invoices/?sort=number",
        "list, last page": "/invoices/?page=last",
        "list, status filter": "/invoices/?status=issued",
        "invoice page (200 lines)": f"/invoices/{big.pk}/",
    }
    for label, url in pages.items():
        rows.append((str(count), label, measure(setup.web, url)))

    table = Table(title=TITLE)
    for column, justify in (("invoices in company", "right"), ("page", "left"), ("SQL queries", "right"),
                            ("ms (median of 15)", "right"), ("HTML size", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for invoices, label, (_, queries, seconds, size) in rows:
        table.add_row(invoices, label, str(queries), ms(seconds), f"{size / 1024:,.0f} KiB")
    console.print(table)
    console.print("[dim]The list shows 25 invoices a page. Queries include the session, user and company "
                  "lookups every request makes.[/dim]")
