"""(f) Operations: the sync pass against per-invoice polling, parsing a page of invoices, the simulator's totals.

1. Sync: ``BENCH_SYNC_INVOICES`` (default 10,000) invoices in a simulator account, each linked to an app
   invoice whose stored state differs from B2Brouter's. A sync pass lists them (500 per request) and
   writes the changed links in batches; the next, overlapping pass re-reads them and writes nothing.
   Against it, per-invoice polling (one read and one write per invoice, as Refresh does), timed over a
   sample of ``BENCH_POLL_SAMPLE`` invoices (default 1,000) and scaled to all. Time in the database is
   the sum of the SQL statements' own durations (the app's and the in-process simulator's).
2. Parsing a 500-invoice page: the client's ``invoices.list(limit=500)`` first page against raw
   ``httpx`` + ``json.loads`` of the same body (both over a replaying transport, so no server work).
3. The simulator's totals of one invoice of 500 to 4,000 lines: time per line stays flat when linear.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from tests.benchmarks._harness import (
    SIM_BASE_URL,
    CountingTransport,
    app_talks_to_inprocess_simulator,
    bench,
    bulk_invoices,
    make_company,
    ms,
)

TITLE = "(f) Operations: sync pass vs per-invoice polling; parsing a page of invoices; simulator totals"
SYNC_INVOICES = int(os.environ.get("BENCH_SYNC_INVOICES", "10000"))
POLL_SAMPLE = int(os.environ.get("BENCH_POLL_SAMPLE", "1000"))
SIM_LINES = (500, 1000, 2000, 4000)


@contextmanager
def database_time() -> Iterator[list[float]]:
    """Sum the time spent executing SQL statements meanwhile (seconds, in the yielded list's one item)."""
    from django.db import connection

    spent = [0.0, 0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - started
            spent[1] += 1

    with connection.execute_wrapper(wrapper):
        yield spent


def seed(count: int) -> tuple[Any, Any, list[Any]]:
    """Create ``count`` simulator invoices and the app's links to them; answer (setup, integration, links)."""
    from django.db import transaction
    from django.utils import timezone

    from b2binvoice.einvoicing.models import B2BrouterIntegration, InvoiceLink, LinkStatus
    from b2brouter_sim import backend

    setup = make_company("Bench Sync S.L.", "bench-sync")
    with transaction.atomic():
        account, key = backend.create_account(name=setup.company.name, tin_value="ESB12345674", country="es",
                                              rounding_method="half_up", round_before_sum=True,
                                              apply_taxes_per_line=False)
        contact = backend.create_contact(account, {"name": setup.client.name, "tin_value": setup.client.tin,
                                                   "country": "es", "is_client": True})
        remote_ids = [backend.create_invoice(account, {
            "number": f"S-{n:05d}", "date": "2026-01-01", "contact_id": contact.pk,
            "invoice_lines_attributes": [{"description": "Translation", "quantity": "1234", "price": "0.085",
                                          "taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"}]}],
        }).pk for n in range(1, count + 1)]
    integration = B2BrouterIntegration(company=setup.company, enabled=True, environment="simulator",
                                       account_id=str(account.pk), verified_at=timezone.now())
    integration.api_key = key
    integration.save()
    invoices = bulk_invoices(setup, count, lines=1, prefix="S-", discount=False)
    # Stored as "sending" with no figures: B2Brouter says "new" with totals, so every link has changed.
    InvoiceLink.objects.bulk_create([
        InvoiceLink(invoice=invoice, status=LinkStatus.LINKED, environment="simulator", account_id=str(account.pk),
                    b2brouter_id=remote_id, number=invoice.number, state="sending")
        for invoice, remote_id in zip(invoices, remote_ids, strict=True)], batch_size=2000)
    return setup, integration, list(InvoiceLink.objects.filter(invoice__company=setup.company).order_by("pk"))


def sync_figures(console: Console) -> list[tuple[str, ...]]:
    from b2binvoice.einvoicing import sync
    from b2binvoice.einvoicing.models import InvoiceLink

    started = time.perf_counter()
    setup, integration, links = seed(SYNC_INVOICES)
    console.print(f"[dim]seeded {SYNC_INVOICES:,} simulator invoices and their links in "
                  f"{time.perf_counter() - started:.1f} s[/dim]")
    rows = []
    for label in ("sync pass, all changed", "next sync pass (overlap), none changed"):
        CountingTransport.reset()
        with database_time() as spent:
            began = time.perf_counter()
            report = sync.sync_integration(integration)
            seconds = time.perf_counter() - began
        if report.error is not None:
            raise RuntimeError(f"the sync failed: {report.error.text}")
        rows.append((label, f"{SYNC_INVOICES:,}", f"{CountingTransport.requests:,}", f"{seconds:.2f}",
                     f"{spent[0]:.2f}", f"{report.written:,}", ""))
    # Per-invoice polling: each invoice read and stored on its own, over a sample, scaled to all.
    sample = links[:min(POLL_SAMPLE, len(links))]
    InvoiceLink.objects.filter(pk__in=[link.pk for link in sample]).update(state="sending")
    CountingTransport.reset()
    with database_time() as spent:
        began = time.perf_counter()
        for link in sample:
            sync.refresh_link(link.pk)
        seconds = time.perf_counter() - began
    scale = SYNC_INVOICES / len(sample)
    rows.append((f"per-invoice polling ({len(sample):,} measured, scaled)", f"{SYNC_INVOICES:,}",
                 f"{round(CountingTransport.requests * scale):,}", f"{seconds * scale:.2f}", f"{spent[0] * scale:.2f}",
                 f"{SYNC_INVOICES:,}", ""))
    first, polling = float(rows[0][3]), float(rows[2][3])
    rows[0] = (*rows[0][:-1], f"{polling / first:.1f}x faster than polling")
    return rows


def replaying(body: bytes) -> httpx.BaseTransport:
    return httpx.MockTransport(lambda request: httpx.Response(
        200, content=body, headers={"Content-Type": "application/json", "X-B2B-API-Request-Id": "req_bench"}))


def parse_figures() -> list[tuple[str, str, str]]:
    from b2brouter import B2BRouter
    from b2brouter._money import loads, with_decimals
    from b2brouter_sim import backend

    account, key = backend.create_account(name="Bench Parse S.L.", tin_value="ESB12345674")
    contact = backend.create_contact(account, {"name": "Acme GmbH", "tin_value": "DE136695976", "country": "de",
                                               "is_client": True})
    for n in range(500):
        backend.create_invoice(account, {
            "number": f"PP-{n:04d}", "date": (dt.date(2026, 1, 1) + dt.timedelta(days=n % 300)).isoformat(),
            "contact_id": contact.pk,
            "invoice_lines_attributes": [{"description": f"Translation {i}", "quantity": str(1234 + i),
                                          "price": "0.085",
                                          "taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"}]}
                                         for i in range(3)]})
    with httpx.Client(transport=CountingTransport()) as http:
        body = http.get(f"{SIM_BASE_URL}/accounts/{account.pk}/invoices", params={"limit": 500},
                        headers={"X-B2B-API-Key": key, "X-B2B-API-Version": "2026-03-02"}).content
    if len(json.loads(body)["invoices"]) != 500:
        raise RuntimeError("the simulator did not answer a 500-invoice page")
    url = f"{SIM_BASE_URL}/accounts/{account.pk}/invoices"
    raw_http = httpx.Client(transport=replaying(body))
    client = B2BRouter(key, base_url=SIM_BASE_URL, transport=replaying(body), max_retries=0)

    def raw() -> Any:
        return json.loads(raw_http.get(url, params={"limit": 500}).content)

    def before() -> Any:  # the decoding the client did before: parse, then walk every invoice again
        return [with_decimals(row) for row in loads(raw_http.get(url, params={"limit": 500}).content)["invoices"]]

    def ours() -> Any:
        return client.invoices.list(account.pk, limit=500).data

    if ours() != before():
        raise RuntimeError("the client's decoding differs from with_decimals(loads(...))")
    timings = {name: bench(fn, target=1.0).seconds_per_op for name, fn in
               (("raw", raw), ("before", before), ("ours", ours))}
    raw_http.close()
    client.close()
    return [("raw httpx + json.loads", ms(timings["raw"]), "1.00x"),
            ("loads + with_decimals per invoice (before)", ms(timings["before"]),
             f"{timings['before'] / timings['raw']:.2f}x"),
            ("client.invoices.list(limit=500) (now)", ms(timings["ours"]), f"{timings['ours'] / timings['raw']:.2f}x")]


def sim_figures() -> list[tuple[str, str, str]]:
    from b2brouter_sim.calculations import Line, Settings, Tax, compute_totals

    rows = []
    for count in SIM_LINES:
        lines = [Line(quantity=Decimal(1234 + i), price=Decimal("0.085"),
                      taxes=[Tax("IVA", "S", Decimal(21))]) for i in range(count)]
        seconds = bench(lambda lines=lines: compute_totals(lines, [], Settings(), "EUR"), target=1.0, rounds=3)
        rows.append((f"{count:,}", ms(seconds.seconds_per_op), f"{seconds.seconds_per_op / count * 1e6:.1f}"))
    return rows


def run(console: Console) -> None:
    with app_talks_to_inprocess_simulator():
        sync_rows = sync_figures(console)
    table = Table(title=TITLE + " — 1. sync")
    for column in ("how", "invoices", "requests", "seconds", "of which SQL s", "links written", "ratio"):
        table.add_column(column, justify="left" if column in ("how", "ratio") else "right")
    for row in sync_rows:
        table.add_row(*row)
    console.print(table)

    table = Table(title="2. Parsing one page of 500 invoices (3 lines each), replayed")
    for column in ("decoding", "ms / page (median)", "vs raw"):
        table.add_column(column, justify="left" if column == "decoding" else "right")
    for row in parse_figures():
        table.add_row(*row)
    console.print(table)

    table = Table(title="3. Simulator totals of one invoice (one tax group)")
    for column in ("lines", "ms", "µs / line"):
        table.add_column(column, justify="right")
    for row in sim_figures():
        table.add_row(*row)
    console.print(table)
    console.print("[dim]Seconds are wall time in this process (the simulator answers in-process, so they include "
                  "its work); SQL s is the sum of every statement's own time. µs / line flat = linear.[/dim]")
