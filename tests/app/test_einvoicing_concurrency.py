"""Two clicks at the same time on the confirmation of "Create B2Brouter invoice" make one B2Brouter invoice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client as HttpClient

from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink, LinkStatus
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    CONFIRM_TOKEN,
    _b2brouter_settings,
    account,
    company,
    contact_for,
    customer,
    integration,
    make_invoice,
    sim,
    user,
    vat,
    web,
)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_make_one_invoice(web, user, company, account, integration, customer, vat, sim):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a database file or server (make test sets SQLITE_TEST_NAME)")
    data, key = account
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    web.post(f"/clients/{customer.pk}/b2brouter/match/")
    # The confirmation both clicks answer (a double click on its button).
    token = CONFIRM_TOKEN.search(web.post(f"/invoices/{invoice.pk}/b2brouter/create/").content.decode())[1]
    # Slow B2Brouter down so the second click lands while the first create is in flight.
    sim.set_faults(data["id"], key, latency_ms=300)
    start = threading.Barrier(2)
    statuses: list[int] = []

    def click() -> None:
        http = HttpClient()
        http.force_login(user)
        try:
            start.wait()
            statuses.append(http.post(f"/invoices/{invoice.pk}/b2brouter/create/", {"confirm": token}).status_code)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sim.set_faults(data["id"], key)
    assert statuses == [302, 302]
    assert len(sim.invoices(data["id"], key)) == 1
    assert InvoiceLink.objects.get(invoice=invoice).status == LinkStatus.LINKED
    assert InvoiceEvent.objects.filter(invoice=invoice, type="create_refused").count() == 1
    assert InvoiceEvent.objects.filter(invoice=invoice, type="created").count() == 1
