"""(f) The invoice and client lists at 100,000 invoices in PostgreSQL: p50/p95 and SQL queries.

One company holds 100,000 invoices (2 lines and 2 taxes each) over 250 clients and three years,
in the four statuses; 60 % are linked to a B2Brouter invoice in one of eight states. They are
inserted with ``bulk_create`` and the tables analysed, as autovacuum would. Each page is fetched
with Django's test client (the full middleware stack, a logged-in user) ``REPEATS`` times after a
warm-up; its queries are counted once with ``CaptureQueriesContext``.

The "middle" page is reached the way a user reaches it, by a keyset cursor (``?after=``) at the
50,000th invoice; "last" is ``?page=last``. PostgreSQL only: SQLite is not what the figure is for,
so on SQLite this benchmark prints one line and returns.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import statistics
import time
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.benchmarks._harness import make_company, ms, time_each

TITLE = "(f) Invoice and client lists at {count:,} invoices in PostgreSQL: p50/p95 and SQL queries"
INVOICES = int(os.environ.get("BENCH_LIST_INVOICES", "100000"))
CLIENTS = 250
REPEATS = int(os.environ.get("BENCH_LIST_REPEATS", "40"))
STATES = ("new", "sending", "sent", "registered", "accepted", "paid", "refused", "error")
NAMES = ("Ñandú Traducciones", "Éditions Lumière", "Übersetzungsbüro Köln", "Editorial Sol y Mar", "Nordlicht",
         "Café Øresund", "Smith & Sons", "Łódź Tłumaczenia", "Agência Conceição", "Lingua Franca")


def fill(setup: Any, count: int, console: Console) -> None:
    """Insert ``count`` invoices with lines, taxes and B2Brouter links in bulk; analyse the tables."""
    from django.db import connection

    from b2binvoice.clients.models import Client
    from b2binvoice.core.search import search_text
    from b2binvoice.einvoicing.models import InvoiceLink, LinkStatus
    from b2binvoice.invoices.models import Invoice, InvoiceLine, InvoiceTax

    started = time.perf_counter()
    clients = Client.objects.bulk_create([
        Client(company=setup.company, name=f"{NAMES[n % len(NAMES)]} {n:03d}", country="ES", city="Madrid",
               search_text=search_text([f"{NAMES[n % len(NAMES)]} {n:03d}", "", "Madrid"]))
        for n in range(CLIENTS)
    ])
    statuses = ("issued",) * 6 + ("paid",) * 3 + ("draft", "cancelled")
    first_day = dt.date(2024, 1, 1)
    batch = 5000
    for offset in range(0, count, batch):
        invoices = Invoice.objects.bulk_create([
            Invoice(company=setup.company, client=(client := clients[(n * 7) % CLIENTS]), number=f"INV-{n:06d}",
                    issue_date=(day := first_day + dt.timedelta(days=n * 1095 // count)),
                    due_date=day + dt.timedelta(days=30), currency="EUR" if n % 10 else "USD",
                    payment_method=setup.bank, status=statuses[n % len(statuses)],
                    search_text=search_text([f"INV-{n:06d}", client.name]))
            for n in range(offset, min(count, offset + batch))
        ])
        InvoiceLine.objects.bulk_create([
            InvoiceLine(invoice=invoice, position=p, description=f"Translation, part {p + 1}",
                        quantity=Decimal("1000") + p, unit="words", unit_price=Decimal("0.085"))
            for invoice in invoices for p in range(2)
        ])
        InvoiceTax.objects.bulk_create([InvoiceTax.copy_of(tax, invoice) for invoice in invoices
                                        for tax in setup.taxes])
        InvoiceLink.objects.bulk_create([
            InvoiceLink(invoice=invoice, status=LinkStatus.LINKED, environment="simulator", account_id="1",
                        b2brouter_id=1_000_000 + invoice.pk, number=invoice.number,
                        state=STATES[invoice.pk % len(STATES)], currency=invoice.currency)
            for i, invoice in enumerate(invoices) if i % 5 < 3
        ])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    console.print(f"filled {count:,} invoices ({count * 2:,} lines, {count * 2:,} taxes, {count * 3 // 5:,} links) "
                  f"and {CLIENTS} clients in {time.perf_counter() - started:.0f} s")


def measure(web: Any, url: str) -> tuple[int, float, float, int, float, float]:
    """Fetch ``url``: return (queries, p50 and p95 seconds, rows shown, p50 seconds in SQL, server seconds)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    web.get(url)  # warm up: templates, session, caches
    with CaptureQueriesContext(connection) as queries:
        response = web.get(url)
    query_count = len(queries)
    # What PostgreSQL itself spends on the page's queries (EXPLAIN ANALYZE of each, as sent).
    server = 0.0
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if query["sql"].lstrip().upper().startswith("SELECT"):
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                server += plan[0]["Planning Time"] + plan[0]["Execution Time"]
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    # Rows shown: links to an invoice or a client (the client list's counts link to a filtered list).
    rows = len(set(re.findall(rb'href="/(?:invoices|clients)/(\d+)/"', response.content)))
    sql: list[float] = []

    def timed(execute: Any, sql_text: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            sql[-1] += time.perf_counter() - started

    def fetch() -> None:
        sql.append(0.0)
        web.get(url)

    with connection.execute_wrapper(timed):
        durations = sorted(time_each(fetch, REPEATS))
    p95 = durations[min(len(durations) - 1, round(0.95 * len(durations)) - 1)]
    return query_count, statistics.median(durations), p95, rows, statistics.median(sql), server / 1000


def run(console: Console) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        console.print("(f) lists at 100,000 invoices: skipped, it measures PostgreSQL "
                      "(DATABASE_URL=postgres://... make bench lists)")
        return
    from b2binvoice.invoices.models import Invoice
    from b2binvoice.invoices.views import _encode_cursor

    setup = make_company("Bench Lists S.L.", "bench-lists")
    fill(setup, INVOICES, console)
    company_invoices = Invoice.objects.filter(company=setup.company)
    middle = company_invoices.order_by("-issue_date", "-id").values("issue_date", "id")[INVOICES // 2]
    by_number = company_invoices.order_by("number").values_list("number", flat=True)[INVOICES // 2]
    client = setup.company.clients.order_by("name")[3]
    detail = company_invoices.order_by("-issue_date", "-id").first()
    assert detail is not None
    pages = {
        "invoices: first page": "/invoices/",
        "invoices: middle page (keyset, 50,000th)": f"/invoices/?after={_encode_cursor([middle['issue_date'], middle['id']])}",
        "invoices: last page": "/invoices/?page=last",
        "invoices: by number, middle page": f"/invoices/?sort=number&after={_encode_cursor([by_number])}",
        "invoices: by date ascending, last page": "/invoices/?sort=date&page=last",
        "invoices: search a client, accents folded (“nandu”)": "/invoices/?q=nandu",
        "invoices: search a number (“inv-043210”)": "/invoices/?q=inv-043210",
        "invoices: search, no match": "/invoices/?q=zzzz",
        "invoices: status paid": "/invoices/?status=paid",
        "invoices: overdue": "/invoices/?overdue=1",
        "invoices: B2Brouter state accepted": "/invoices/?state=accepted",
        "invoices: one client (400)": f"/invoices/?client={client.pk}",
        "invoices: one month (~2,700)": "/invoices/?from=2025-03-01&to=2025-03-31",
        "invoices: client + status + half year (totals)": f"/invoices/?client={client.pk}&status=issued&from=2025-01-01"
                                                      f"&to=2025-06-30",
        "invoice page": f"/invoices/{detail.pk}/",
        "clients: first page": "/clients/",
        "clients: page 10": "/clients/?page=10",
        "clients: search (“lumiere”)": "/clients/?q=lumiere",
    }
    table = Table(title=TITLE.format(count=INVOICES))
    for column, justify in (("page", "left"), ("rows", "right"), ("SQL queries", "right"),
                            (f"p50 ms ({REPEATS})", "right"), ("p95 ms", "right"), ("p50 SQL ms", "right"),
                            ("PostgreSQL ms", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for label, url in pages.items():
        queries, p50, p95, rows, sql, server = measure(setup.web, url)
        table.add_row(label, "—" if label == "invoice page" else str(rows), str(queries), ms(p50), ms(p95), ms(sql),
                      ms(server))
    console.print(table)
    console.print("load average while measuring (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
