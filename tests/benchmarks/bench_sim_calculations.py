"""(b) The simulator's totals model: ``b2brouter_sim.calculations.compute_totals`` for each of the
12 combinations of ``rounding_method`` x ``round_before_sum`` x ``apply_taxes_per_line``.

Each invoice has lines with IVA 21 % and every fourth line also IRPF -15 % (two tax groups),
and a 5 % document discount spread over the lines.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.benchmarks._harness import bench, kib, ms, peak_memory, rate

TITLE = "(b) Simulator totals model: compute_totals() per calculation settings"
SIZES = (1, 20, 200)


def inputs(size: int) -> tuple[list[Any], list[Any]]:
    """Return the lines and document adjustments of an invoice with ``size`` lines."""
    from b2brouter_sim.calculations import AllowanceCharge, Line, Tax

    iva = Tax(name="IVA", category="S", percent=Decimal("21"))
    irpf = Tax(name="IRPF", category="S", percent=Decimal("-15"))
    lines = [Line(quantity=Decimal(1234 + 7 * i), price=Decimal("0.085") + Decimal(i) / 1000,
                  taxes=(iva, irpf) if i % 4 == 0 else (iva,))
             for i in range(size)]
    return lines, [AllowanceCharge(is_charge=False, percentage=Decimal("5"), reason="Loyal client")]


def run(console: Console) -> None:
    from b2brouter_sim.calculations import Settings, compute_totals

    table = Table(title=TITLE)
    for column in ("rounding", "round before sum", "taxes per line"):
        table.add_column(column)
    for size in SIZES:
        table.add_column(f"ms, {size} line{'s' if size > 1 else ''}", justify="right")
    table.add_column("invoices/s, 20 lines", justify="right")
    table.add_column("peak mem, 200 lines", justify="right")
    table.add_column("total, 20 lines", justify="right")
    invoices = {size: inputs(size) for size in SIZES}
    for method, before, per_line in itertools.product(("half_up", "bankers", "truncate"), (True, False), (False, True)):
        settings = Settings(rounding_method=method, round_before_sum=before, apply_taxes_per_line=per_line)
        timings = {}
        for size, (lines, adjustments) in invoices.items():
            timings[size] = bench(lambda: compute_totals(lines, adjustments, settings, "EUR"), target=0.15)
        lines, adjustments = invoices[200]
        _, peak = peak_memory(lambda: compute_totals(lines, adjustments, settings, "EUR"))
        lines, adjustments = invoices[20]
        total = compute_totals(lines, adjustments, settings, "EUR").total
        table.add_row(method, str(before), str(per_line), *(ms(timings[s].seconds_per_op) for s in SIZES),
                      rate(timings[20].ops_per_second), kib(peak), f"{total} EUR")
    console.print(table)
