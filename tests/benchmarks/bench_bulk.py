"""(g) Bulk push vs one at a time, against the in-process simulator answering after 100 ms.

The simulator's ``latency_ms`` fault delays every answer by 100 ms, as a distant B2Brouter would.
One at a time is what a user does without bulk push: open each invoice and press Create (the
readiness check, the create, the send and the read after it, in sequence). Bulk push runs the same
actions for 1,000 invoices with ``B2BROUTER_BULK_CONCURRENCY`` workers (4 by default). Timing one at
a time over 1,000 invoices would take minutes, so it is measured over a sample
(``BENCH_BULK_ONE_BY_ONE``, 60 by default) and compared per invoice; both figures come from this run.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.benchmarks._harness import app_talks_to_inprocess_simulator, bulk_invoices, make_company
from tests.benchmarks.bench_create_invoice import confirmed

TITLE = "(g) Bulk push vs one at a time, simulator latency 100 ms"
LATENCY_MS = 100


def _connect(setup: Any) -> None:
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
    response = setup.web.put(f"/sim/_control/accounts/{account.pk}/faults", json.dumps({"latency_ms": LATENCY_MS}),
                             content_type="application/json", HTTP_X_B2B_API_KEY=key)
    if response.status_code != 200:
        raise RuntimeError(f"could not set the simulator's latency ({response.status_code})")


def run(console: Console) -> None:
    from b2binvoice.einvoicing import bulk
    from b2binvoice.einvoicing.models import BulkOutcome

    count = int(os.environ.get("BENCH_BULK_INVOICES", "1000"))
    sample = int(os.environ.get("BENCH_BULK_ONE_BY_ONE", "60"))
    with app_talks_to_inprocess_simulator():
        setup = make_company("Bench Bulk S.L.", "bench-bulk")
        _connect(setup)
        singles = bulk_invoices(setup, sample, start=1, prefix="ONE-")
        many = bulk_invoices(setup, count, start=1, prefix="BULK-")

        started = time.perf_counter()
        for invoice in singles:
            response = confirmed(setup.web, f"/invoices/{invoice.pk}/b2brouter/create/")  # press Create, confirm
            if response.status_code != 302:
                raise RuntimeError(f"create of {invoice.number} answered {response.status_code}")
        one_by_one = time.perf_counter() - started

        workers = bulk.effective_concurrency()
        bulk_run = bulk.start_run(company=setup.company, user=setup.user, action="send", invoices=many,
                                  concurrency=workers)
        started = time.perf_counter()
        bulk_run = bulk.run_bulk(bulk_run.pk)
        in_bulk = time.perf_counter() - started
        counts = bulk.progress(bulk_run)["counts"]
        if counts[BulkOutcome.SENT] != count:
            raise RuntimeError(f"bulk push sent {counts[BulkOutcome.SENT]} of {count}: {counts}")

        again = many[:50]
        rerun = bulk.start_run(company=setup.company, user=setup.user, action="send", invoices=again)
        started = time.perf_counter()
        rerun = bulk.run_bulk(rerun.pk)
        rerun_seconds = time.perf_counter() - started
        skipped = bulk.progress(rerun)["counts"][BulkOutcome.SKIPPED]

    single_rate = sample / one_by_one
    bulk_rate = count / in_bulk
    table = Table(title=TITLE)
    for column in ("way", "invoices", "seconds", "invoices / s", f"time for {count:,}"):
        table.add_column(column, justify="left" if column == "way" else "right")
    table.add_row("one at a time (press Create on each)", str(sample), f"{one_by_one:.1f}", f"{single_rate:.2f}",
                  f"{count / single_rate:.0f} s (extrapolated)")
    table.add_row(f"bulk push, {workers} in flight", f"{count:,}", f"{in_bulk:.1f}", f"{bulk_rate:.2f}",
                  f"{in_bulk:.0f} s (measured)")
    console.print(table)
    console.print(f"[bold]bulk / one at a time: {bulk_rate / single_rate:.1f}x the invoices per second[/bold]")
    console.print(f"[dim]Re-running the bulk push over {len(again)} sent invoices: {skipped} skipped, no request to create, "
                  f"{rerun_seconds:.2f} s. Pauses for 429: {bulk_run.rate_limited}.[/dim]")
