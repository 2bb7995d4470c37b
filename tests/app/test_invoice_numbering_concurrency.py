"""Invoices created at the same time get consecutive, distinct numbers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client as HttpClient

from b2binvoice.clients.models import Client
from b2binvoice.core.demo import seed_demo
from b2binvoice.invoices.models import Invoice

WORKERS = 4


@pytest.mark.django_db(transaction=True)
def test_simultaneous_creates_get_consecutive_distinct_numbers():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a database file or server (make test sets SQLITE_TEST_NAME)")
    seed_demo()
    client = Client.objects.get(name__startswith="Nordlicht")
    start = threading.Barrier(WORKERS)
    statuses: list[int] = []

    def create(n: int) -> None:
        http = HttpClient()
        http.login(username="demo", password="demo")
        try:
            start.wait()
            statuses.append(http.post("/invoices/new/", {
                "client": client.pk, "issue_date": "2026-12-01", "currency": "EUR", "status": "draft",
                "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-description": f"Job {n}",
                "lines-0-quantity": "1", "lines-0-unit_price": "10",
                "adjustments-TOTAL_FORMS": "0", "adjustments-INITIAL_FORMS": "0"}).status_code)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=create, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302] * WORKERS
    numbers = sorted(Invoice.objects.filter(lines__description__startswith="Job ").values_list("number", flat=True))
    assert numbers == [f"LD-{n:04d}" for n in range(11, 11 + WORKERS)]
