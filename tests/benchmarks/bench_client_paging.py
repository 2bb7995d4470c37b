"""(c) The client's auto-paging iterator over 2000 simulator invoices, in-process.

``client.invoices.list(account, limit=N)`` yields every invoice of every page, fetching the next
page as it goes. The client talks to the simulator through ``httpx.WSGITransport`` against this
process's Django app (no port), so the time includes the simulator serving each page from the
database and serialising it, as well as the client parsing it. Peak memory is traced while
iterating without keeping the invoices, so it shows what one page costs to hold.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from tests.benchmarks._harness import SIM_BASE_URL, CountingTransport, kib, ms, peak_memory

TITLE = "(c) Client auto-paging: client.invoices.list() over 2000 simulator invoices"
INVOICES = 2000
LIMITS = (500, 100)
REPEATS = 3


def seed_simulator(count: int) -> tuple[Any, str, float]:
    """Create a simulator account with one contact and ``count`` invoices; return (account, key, seconds)."""
    from django.db import transaction

    from b2brouter_sim import backend

    started = time.perf_counter()
    with transaction.atomic():
        account, key = backend.create_account(name="Bench Paging S.L.", tin_value="ESB12345674")
        contact = backend.create_contact(account, {"name": "Acme GmbH", "tin_value": "DE136695976", "country": "de",
                                                   "is_client": True})
        first_day = dt.date(2026, 1, 1)
        for n in range(count):
            backend.create_invoice(account, {
                "number": f"P-{n + 1:05d}",
                "date": (first_day + dt.timedelta(days=n % 300)).isoformat(),
                "contact_id": contact.pk,
                "invoice_lines_attributes": [
                    {"description": f"Translation {n + 1}-{i + 1}", "quantity": str(1234 + i), "price": "0.085",
                     "taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"}]}
                    for i in range(3)
                ],
            })
    return account, key, time.perf_counter() - started


class ReplayTransport(httpx.BaseTransport):
    """Answer each URL with the body the simulator gave it earlier: the client's share of the work alone."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(200, content=self.bodies[str(request.url)],
                              headers={"Content-Type": "application/json", "X-B2B-API-Request-Id": "req_replay"})


class RecordingTransport(CountingTransport):
    """The in-process transport, keeping each answer's body by URL."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: dict[str, bytes] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.bodies[str(request.url)] = response.read()
        return response


def measure(client: Any, account_id: int, limit: int, count_requests: Callable[[], int]) -> dict[str, Any]:
    """Iterate every invoice REPEATS times; return the median time, requests, SQL queries and peak memory."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def iterate() -> int:
        return sum(1 for _ in client.invoices.list(account_id, limit=limit))

    iterate()  # warm up
    durations = []
    for _ in range(REPEATS):
        before = count_requests()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            seen = iterate()
            durations.append(time.perf_counter() - started)
        requests = count_requests() - before
        # Count now: the next request outside the context resets the connection's query log.
        query_count = len(queries)
    if seen != INVOICES:
        raise RuntimeError(f"the iterator yielded {seen} invoices, not {INVOICES}")
    _, peak = peak_memory(iterate)
    return {"seen": seen, "requests": requests, "queries": query_count, "seconds": statistics.median(durations),
            "peak": peak}


def run(console: Console) -> None:
    from b2brouter import B2BRouter

    account, key, seeding = seed_simulator(INVOICES)
    console.print(f"[dim]seeded {INVOICES} simulator invoices (3 lines each) through the simulator's backend "
                  f"in {seeding:.1f} s[/dim]")
    table = Table(title=TITLE)
    for column, justify in (("limit", "right"), ("served by", "left"), ("invoices", "right"),
                            ("requests", "right"), ("SQL queries", "right"), ("total ms (median)", "right"),
                            ("ms / page", "right"), ("invoices / s", "right"), ("JSON / page", "right"),
                            ("peak memory", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for limit in LIMITS:
        recorder = RecordingTransport()
        with B2BRouter(key, base_url=SIM_BASE_URL, transport=recorder, max_retries=0) as client:
            sim = measure(client, account.pk, limit, lambda: CountingTransport.requests)
        replay = ReplayTransport(recorder.bodies)
        body = sum(map(len, recorder.bodies.values())) // len(recorder.bodies)
        with B2BRouter(key, base_url=SIM_BASE_URL, transport=replay, max_retries=0) as client:
            alone = measure(client, account.pk, limit, lambda: replay.requests)
        for label, figures in (("in-process sim", sim), ("replay (client)", alone)):
            seconds = figures["seconds"]
            table.add_row(str(limit), label, str(figures["seen"]), str(figures["requests"]), str(figures["queries"]),
                          ms(seconds), ms(seconds / figures["requests"]), f"{figures['seen'] / seconds:,.0f}",
                          kib(body), kib(figures["peak"]))
    console.print(table)
    console.print("[dim]requests = pages fetched. SQL queries are the simulator's for one full iteration. "
                  "Peak memory is traced while iterating without keeping the invoices; with the in-process "
                  "simulator it includes the simulator building each page; a replay answers each request with "
                  "the body the simulator gave it, so its figures are the client's alone.[/dim]")
