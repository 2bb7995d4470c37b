"""(a) The app's invoice arithmetic: ``b2binvoice.invoices.calculations.calculate`` on 1, 20 and 200 lines.

Each invoice has a 5 % discount and two percentage taxes (IVA 21 %, IRPF -15 %), as the demo's
invoices do; quantities and prices vary so every line rounds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.benchmarks._harness import bench, kib, ms, peak_memory, rate

TITLE = "(a) App invoice arithmetic: calculations.calculate()"
SIZES = (1, 20, 200)


def inputs(size: int) -> tuple[list[Any], list[Any], list[Any]]:
    """Return the lines, adjustments and taxes of an invoice with ``size`` lines."""
    from b2binvoice.invoices.calculations import AdjustmentInput, LineInput, TaxInput

    lines = [LineInput(quantity=Decimal(1234 + 7 * i), unit_price=Decimal("0.085") + Decimal(i) / 1000)
             for i in range(size)]
    adjustments = [AdjustmentInput(kind="discount", mode="percentage", value=Decimal("5"))]
    taxes = [TaxInput(name="IVA 21%", kind="percentage", rate=Decimal("21"), amount=None, category="S"),
             TaxInput(name="IRPF -15%", kind="percentage", rate=Decimal("-15"), amount=None, category="S")]
    return lines, adjustments, taxes


def run(console: Console) -> None:
    from b2binvoice.invoices.calculations import calculate

    table = Table(title=TITLE)
    for column in ("lines", "ms / invoice", "invoices / s", "µs / line", "peak memory / call", "total (check)"):
        table.add_column(column, justify="right")
    for size in SIZES:
        lines, adjustments, taxes = inputs(size)

        def call() -> Any:
            return calculate(lines, adjustments, taxes, "EUR")

        timing = bench(call)
        totals, peak = peak_memory(call)
        table.add_row(str(size), ms(timing.seconds_per_op), rate(timing.ops_per_second),
                      f"{timing.seconds_per_op * 1e6 / size:.2f}", kib(peak), f"{totals.total} EUR")
    console.print(table)
