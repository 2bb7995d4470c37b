"""Run the benchmarks and print their figures: ``python -m tests.benchmarks.run [name ...]``.

``make bench`` (scripts/bench.sh) runs them all. Names select some: ``calculations``,
``sim_calculations``, ``client_paging``, ``pages``, ``create_invoice``, ``bulk``, ``ops``, ``lists``
(PostgreSQL only). The database is a
throwaway one (see ``_harness.configure_environment``), created, migrated and dropped here.
The modules are named ``bench_*.py`` so pytest never collects them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import sys
import time

from tests.benchmarks._harness import configure_environment, throwaway_database

BENCHMARKS = ("calculations", "sim_calculations", "client_paging", "pages", "create_invoice", "bulk", "ops", "lists")


def main(argv: list[str]) -> int:
    """Run the benchmarks named in ``argv`` (all when none) and return the exit status."""
    unknown = [name for name in argv if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    configure_environment()
    import django
    from rich.console import Console

    django.setup()
    console = Console(width=int(os.environ.get("BENCH_WIDTH", "140")))
    started = time.perf_counter()
    with throwaway_database() as database:
        import httpx

        console.rule("b2binvoice benchmarks")
        console.print(f"{dt.datetime.now():%Y-%m-%d %H:%M} · Python {platform.python_version()} · "
                      f"Django {django.get_version()} · httpx {httpx.__version__} · {os.cpu_count()} CPUs · "
                      f"{platform.machine()} {platform.system()}")
        console.print(f"database: {database}")
        for name in argv or BENCHMARKS:
            module = importlib.import_module(f"tests.benchmarks.bench_{name}")
            console.print()
            began = time.perf_counter()
            module.run(console)
            console.print(f"[dim]({name}: {time.perf_counter() - began:.1f} s)[/dim]")
    console.print()
    console.rule(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
