"""(e) End to end "Create B2Brouter invoice": the app's action against the in-process simulator.

A company is connected to a simulator account (required calculation settings, the client's
contact already in B2Brouter) through the settings page, as a user does. For each of 20 invoices
(3 lines, IVA and IRPF, a 5 % discount, paid by bank transfer), then 5 of 30 lines, the benchmark
opens the invoice's B2Brouter section (the readiness checklist) and presses Create: the app builds
the payload, creates the invoice unsent, compares B2Brouter's totals with its own, links and sends it.

The app's client reaches the simulator through ``httpx.WSGITransport`` in this process, so each
figure includes both sides: the app's work, the simulator's work, and one database for both.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.benchmarks._harness import (
    CountingTransport,
    app_talks_to_inprocess_simulator,
    bulk_invoices,
    make_company,
    ms,
)

TITLE = "(e) End to end: Create B2Brouter invoice through the app, against the in-process simulator"
INVOICES = 20
# A few longer invoices show whether the queries grow with the lines.
LONG_INVOICES = 5
LONG_LINES = 30


def timed(fn: Any) -> tuple[Any, float, int, tuple[int, int], list[str]]:
    """Call ``fn``; return its result, seconds, HTTP requests to the simulator, SQL queries and the requests.

    The queries are split into the app's and the simulator's (those on ``b2brouter_sim_`` tables).
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    CountingTransport.reset()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    sim = sum(1 for query in queries if "b2brouter_sim_" in query["sql"])
    return result, seconds, CountingTransport.requests, (len(queries) - sim, sim), list(CountingTransport.calls)


def connect(setup: Any) -> None:
    """Create the simulator account and the client's contact; connect the company through the settings page."""
    from b2binvoice.einvoicing.models import B2BrouterIntegration
    from b2brouter_sim import backend

    account, key = backend.create_account(name=setup.company.name, tin_value="ESB12345674", country="es",
                                          rounding_method="half_up", round_before_sum=True,
                                          apply_taxes_per_line=False)
    backend.create_contact(account, {"name": setup.client.name, "tin_value": setup.client.tin, "country": "es",
                                     "is_client": True})
    response = setup.web.post("/settings/integrations/b2brouter/", {
        "enabled": "on", "environment": "simulator", "api_key": key, "account_id": str(account.pk),
        "send_after_create": "on"})
    if response.status_code != 302 or not B2BrouterIntegration.objects.filter(company=setup.company).exists():
        raise RuntimeError(f"could not connect the company to the simulator ({response.status_code})")


def confirmed(web: Any, url: str) -> Any:
    """Press an action that asks first, then confirm it with the token of the confirmation."""
    asked = web.post(url)
    found = re.search(r'name="confirm" value="([0-9a-f]+)"', asked.content.decode()) if asked.status_code == 200 \
        else None
    return web.post(url, {"confirm": found[1]}) if found else asked


def create_each(web: Any, invoices: list[Any]) -> tuple[list[Any], list[Any]]:
    """Open each invoice's B2Brouter section, then press Create; return the figures of both steps."""
    sections, creates = [], []
    for invoice in invoices:
        response, *figures = timed(lambda: web.get(f"/invoices/{invoice.pk}/b2brouter/"))
        if response.status_code != 200 or "Create B2Brouter invoice" not in response.content.decode():
            raise RuntimeError(f"invoice {invoice.number} is not ready to create: {response.status_code}")
        sections.append(figures)
        response, *figures = timed(lambda: confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/"))
        if response.status_code != 302:
            raise RuntimeError(f"create of {invoice.number} answered {response.status_code}")
        creates.append(figures)
    return sections, creates


def run(console: Console) -> None:
    from b2binvoice.einvoicing.models import InvoiceLink, LinkStatus

    with app_talks_to_inprocess_simulator():
        setup = make_company("Bench Create S.L.", "bench-create")
        connect(setup)
        invoices = bulk_invoices(setup, INVOICES + 1, start=1)
        warm, invoices = invoices[0], invoices[1:]
        long_ones = bulk_invoices(setup, LONG_INVOICES, lines=LONG_LINES, start=INVOICES + 2)
        # The first invoice warms up (templates, Babel data) and is the only one whose readiness check
        # searches the contact by tax id: the app then remembers the contact's id on the client.
        *_, first_section = timed(lambda: setup.web.get(f"/invoices/{warm.pk}/b2brouter/"))
        *_, first_create = timed(lambda: confirmed(setup.web, f"/invoices/{warm.pk}/b2brouter/create/"))
        sections, creates = create_each(setup.web, invoices)
        _, long_creates = create_each(setup.web, long_ones)
        links = InvoiceLink.objects.filter(invoice__in=invoices + long_ones, status=LinkStatus.LINKED)
        linked, sent = links.count(), links.filter(state__in=("sending", "sent")).count()
        if linked != INVOICES + LONG_INVOICES:
            raise RuntimeError(f"only {linked} of {INVOICES + LONG_INVOICES} invoices were linked")

    table = Table(title=TITLE)
    for column, justify in (("step", "left"), ("invoices", "right"), ("ms / invoice (median)", "right"),
                            ("min … max ms", "right"), ("invoices / s", "right"),
                            ("B2Brouter requests", "right"), ("SQL: app + sim", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for label, figures in (("open B2Brouter section, 3 lines", sections), ("press Create, 3 lines", creates),
                           (f"press Create, {LONG_LINES} lines", long_creates)):
        seconds = [f[0] for f in figures]
        median = statistics.median(seconds)
        requests = sorted({f[1] for f in figures})
        queries = sorted({f[2] for f in figures})
        app, sim = queries[0]
        table.add_row(label, str(len(figures)), ms(median), f"{ms(min(seconds))} … {ms(max(seconds))}",
                      f"{1 / median:,.1f}", " / ".join(map(str, requests)),
                      f"{app} + {sim}" + ("" if len(queries) == 1 else f" (varies: {queries})"))
    console.print(table)
    console.print("[dim]SQL queries on b2brouter_sim_ tables are counted as the simulator's, the rest as the "
                  "app's (both share this process's database connection).[/dim]")
    console.print(f"[dim]Requests of one Create: {', '.join(creates[-1][3]) or 'none'}. "
                  f"The first invoice's (warm-up, not in the table): section {', '.join(first_section) or 'none'}; "
                  f"Create {', '.join(first_create)}.[/dim]")
    console.print(f"[dim]{linked} of {INVOICES + LONG_INVOICES} invoices linked, {sent} sent; B2Brouter's totals "
                  "equal ours (otherwise the action would not send).[/dim]")
