"""What the benchmarks share: timing, peak memory, a throwaway database, app and simulator fixtures.

Nothing here asserts a time. A benchmark measures and prints; it fails only when the thing it
measures did not happen (a page answered 500, an invoice was not created), since figures of a
broken run would mean nothing.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


# --- figures ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    """Per-operation time of a function: the median of several rounds, each of ``number`` calls."""

    seconds_per_op: float
    number: int
    rounds: int

    @property
    def ms(self) -> float:
        return self.seconds_per_op * 1000

    @property
    def ops_per_second(self) -> float:
        return 1 / self.seconds_per_op if self.seconds_per_op else float("inf")


def bench(fn: Callable[[], Any], *, target: float = 0.25, rounds: int = 5) -> Timing:
    """Time ``fn``: size a round to fill ``target / rounds`` seconds, then take the median of ``rounds`` rounds."""

    def run(number: int) -> float:
        started = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - started

    fn()  # warm caches (Babel data, lru_caches, template loaders)
    number = 1
    while True:
        elapsed = run(number)
        if elapsed >= 0.02 or number >= 1_000_000:
            break
        number *= 10 if elapsed < 0.002 else 2
    number = max(1, round(number * (target / rounds) / elapsed))
    per_op = [run(number) / number for _ in range(rounds)]
    return Timing(statistics.median(per_op), number, rounds)


def time_each(fn: Callable[[], Any], times: int) -> list[float]:
    """Call ``fn`` ``times`` times and return each call's duration in seconds."""
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - started)
    return durations


def peak_memory(fn: Callable[[], Any]) -> tuple[Any, int]:
    """Call ``fn`` under tracemalloc; return its result and the peak of memory allocated meanwhile, in bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    return result, peak


def ms(seconds: float) -> str:
    """Format seconds as milliseconds with sensible precision."""
    value = seconds * 1000
    return f"{value:.4f}" if value < 0.1 else f"{value:.3f}" if value < 10 else f"{value:.1f}"


def rate(per_second: float) -> str:
    return f"{per_second:,.0f}"


def kib(size: int) -> str:
    return f"{size / 1024:,.0f} KiB" if size < 10 * 1024 * 1024 else f"{size / 1024 / 1024:,.1f} MiB"


# --- the throwaway database ------------------------------------------------------------------

def configure_environment() -> None:
    """Point Django at a throwaway database and the development settings, before django.setup().

    Without DATABASE_URL the benchmarks use SQLite files under data/ named after this process,
    never the demo's data/b2binvoice.sqlite3. With a PostgreSQL DATABASE_URL they create (and drop)
    a ``test_<name>_bench<pid>`` database beside the configured one, never touching its tables.
    """
    os.environ.pop("SECRET_KEY", None)  # development mode: the simulator is mounted at /sim/
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "b2binvoice.settings")
    # DEBUG off: no per-query log growing in memory, templates as in production.
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
    os.environ.setdefault("TASKS_BACKEND", "database")
    data = ROOT / "data"
    data.mkdir(exist_ok=True)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{data / f'bench-{os.getpid()}-default.sqlite3'}"
    if os.environ["DATABASE_URL"].startswith("sqlite"):
        os.environ["SQLITE_TEST_NAME"] = str(data / f"bench-{os.getpid()}.sqlite3")


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create, migrate and finally destroy the benchmark database; yield a description of it."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3":
        db.setdefault("TEST", {})["NAME"] = f"test_{db['NAME']}_bench{os.getpid()}"
    config = setup_databases(verbosity=0, interactive=False, keepdb=False, serialized_aliases=set())
    try:
        vendor = connection.vendor
        version = ".".join(str(p) for p in connection.Database.sqlite_version_info) if vendor == "sqlite" else (
            str(connection.pg_version) if vendor == "postgresql" else "")
        yield f"{vendor} {version} ({connection.settings_dict['NAME']})"
    finally:
        teardown_databases(config, verbosity=0)
        if db["ENGINE"] == "django.db.backends.sqlite3":
            name = Path(str(db["TEST"].get("NAME") or ""))
            for leftover in (name, name.with_name(name.name + "-wal"), name.with_name(name.name + "-shm")):
                if leftover.name and leftover.exists():
                    leftover.unlink()
            default = Path(str(db["NAME"]))
            if default.name.startswith("bench-") and default.exists():
                default.unlink()


# --- reaching the simulator in-process -------------------------------------------------------

SIM_BASE_URL = "http://testserver/sim"


class CountingTransport(httpx.BaseTransport):
    """The in-process transport to this process's Django app, counting the requests it carries."""

    requests = 0
    #: "METHOD /path" of each request since the count was last reset (with ``reset()``).
    calls: list[str] = []

    def __init__(self) -> None:
        from tests.support import inprocess_transport

        self.inner = inprocess_transport()

    @classmethod
    def reset(cls) -> None:
        cls.requests = 0
        cls.calls = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        CountingTransport.requests += 1
        CountingTransport.calls.append(f"{request.method} {request.url.path.removeprefix('/sim')}")
        return self.inner.handle_request(request)


def counting_transport() -> httpx.BaseTransport:
    """Return the transport the app's B2Brouter client uses in the benchmarks (B2BROUTER_TRANSPORT_FACTORY)."""
    return CountingTransport()


@contextmanager
def app_talks_to_inprocess_simulator() -> Iterator[None]:
    """Make the app's B2Brouter client reach the simulator of this process, as the app tests do."""
    from django.test import override_settings

    with override_settings(
        B2BROUTER_TRANSPORT_FACTORY="tests.benchmarks._harness.counting_transport",
        SIMULATOR_BASE_URL=SIM_BASE_URL,
        B2BROUTER_MAX_RETRIES=0,
        B2BROUTER_TIMEOUT=5,
    ):
        yield


# --- app data --------------------------------------------------------------------------------

VALID_IBAN = "ES9121000418450200051332"
CLIENT_TINS = ["ESB58378431", "ESA58818501", "ESA28017895", "ESB12345674"]


@dataclass
class AppCompany:
    """A company with a logged-in browser, a client, taxes and a bank account."""

    company: Any
    user: Any
    web: Any
    client: Any
    taxes: list[Any]
    bank: Any


def make_company(name: str, username: str) -> AppCompany:
    """Create a company, its owner logged in through Django's test client, one client, IVA and IRPF."""
    from django.contrib.auth import get_user_model
    from django.test import Client as HttpClient

    from b2binvoice.clients.models import Client
    from b2binvoice.companies.models import Company, Membership, PaymentMethod, PaymentMethodType, Tax, TaxKind

    company = Company.objects.create(name=name, tin="ESB12345674", country="ES", address="Calle Mayor 1",
                                     city="Barcelona", postal_code="08001")
    user = get_user_model().objects.create_user(username, password=f"pw-{username}-1")
    Membership.objects.create(user=user, company=company, role="owner")
    web = HttpClient()
    web.force_login(user)
    client = Client.objects.create(company=company, name="Editorial Sol y Mar S.L.", tin=CLIENT_TINS[0], country="ES",
                                   address="Calle Mayor 2", city="Barcelona", postal_code="08002")
    taxes = [
        Tax.objects.create(company=company, name="IVA 21%", kind=TaxKind.PERCENTAGE, rate=Decimal("21"), category="S"),
        Tax.objects.create(company=company, name="IRPF -15%", kind=TaxKind.PERCENTAGE, rate=Decimal("-15"),
                           category="S"),
    ]
    bank = PaymentMethod.objects.create(company=company, name="Main account", type=PaymentMethodType.BANK_TRANSFER,
                                        iban=VALID_IBAN, bic="CAIXESBBXXX")
    return AppCompany(company, user, web, client, taxes, bank)


def bulk_invoices(setup: AppCompany, count: int, *, lines: int = 3, start: int = 1, prefix: str = "INV-",
                  discount: bool = True) -> list[Any]:
    """Insert ``count`` invoices with ``lines`` lines, the company's taxes and a 5 % discount, in bulk."""
    from b2binvoice.core.search import search_text
    from b2binvoice.invoices.models import Invoice, InvoiceAdjustment, InvoiceLine, InvoiceTax

    first_day = dt.date(2026, 1, 1)
    invoices = Invoice.objects.bulk_create([
        Invoice(company=setup.company, client=setup.client, number=f"{prefix}{n:05d}",
                issue_date=first_day + dt.timedelta(days=n % 300), due_date=first_day + dt.timedelta(days=n % 300 + 30),
                currency="EUR", payment_method=setup.bank, status="issued",
                search_text=search_text([f"{prefix}{n:05d}", setup.client.name]))
        for n in range(start, start + count)
    ])
    if invoices and invoices[0].pk is None:  # backends that do not return ids from bulk inserts
        invoices = list(Invoice.objects.filter(company=setup.company, number__startswith=prefix).order_by("number"))
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, position=p, description=f"Translation, part {p + 1}",
                    quantity=Decimal("1234") + p, unit="words", unit_price=Decimal("0.085"))
        for invoice in invoices for p in range(lines)
    ], batch_size=2000)
    InvoiceTax.objects.bulk_create([InvoiceTax.copy_of(tax, invoice) for invoice in invoices for tax in setup.taxes],
                                   batch_size=2000)
    if discount:
        InvoiceAdjustment.objects.bulk_create([
            InvoiceAdjustment(invoice=invoice, kind="discount", mode="percentage", value=Decimal("5"),
                              reason="Loyal client") for invoice in invoices
        ], batch_size=2000)
    return invoices
