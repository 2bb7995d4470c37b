"""The simulator driven by the project's own `b2brouter` client, in-process through httpx."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.sim.conftest import Account, line
from tests.support import inprocess_transport

b2brouter = pytest.importorskip("b2brouter")


@pytest.fixture
def client(account: Account):  # type: ignore[no-untyped-def]
    with b2brouter.B2BRouter(account.key, base_url="http://testserver/sim", transport=inprocess_transport(),
                             max_retries=0) as c:
        yield c


def test_create_find_and_download(client, account: Account) -> None:  # type: ignore[no-untyped-def]
    contact = client.contacts.create(account.id, {"name": "Nordlicht", "tin_value": "DE136695976", "country": "de"})
    invoice = client.invoices.create(account.id, {"number": "C-1", "contact_id": contact["id"],
                                                  "invoice_lines_attributes": [line("12000", "0.085")]})
    assert invoice["total"] == Decimal("1234.20")
    assert client.invoices.find_by_number(account.id, "C-1")["id"] == invoice["id"]
    assert client.invoices.find_by_number(account.id, "C-2") is None
    assert client.contacts.find_by_tin(account.id, "136695976")["id"] == contact["id"]
    assert client.invoices.download(invoice["id"], "pdf.invoice").startswith(b"%PDF")
    sent = client.invoices.send(invoice["id"])
    assert sent["state"] == "sending"


def test_errors_map_to_the_clients_exceptions(client, account: Account, sim) -> None:  # type: ignore[no-untyped-def]
    contact = client.contacts.create(account.id, {"name": "A", "tin_value": "DE136695976"})
    body = {"number": "E-1", "contact_id": contact["id"], "invoice_lines_attributes": [line()]}
    invoice = client.invoices.create(account.id, body)
    with pytest.raises(b2brouter.InvalidRequestError) as taken:
        client.invoices.create(account.id, body)
    assert (taken.value.code, taken.value.param) == ("parameter_taken", "number")
    assert "req_" in str(taken.value)
    client.invoices.send(invoice["id"])
    with pytest.raises(b2brouter.ConflictError):
        client.invoices.update(invoice["id"], {"extra_info": "too late"})
    with pytest.raises(b2brouter.NotFoundError):
        client.invoices.retrieve(999999)
    with b2brouter.B2BRouter("sim_wrong", base_url="http://testserver/sim", transport=inprocess_transport()) as bad:
        with pytest.raises(b2brouter.AuthenticationError):
            bad.accounts.retrieve(account.id)


def test_faults_reach_the_client(client, account: Account) -> None:  # type: ignore[no-untyped-def]
    def faults(**values: object) -> None:
        account.sim.client.put(f"/sim/_control/accounts/{account.id}/faults", json.dumps(values),
                               content_type="application/json", HTTP_X_B2B_API_KEY=account.key)

    faults(rate_limit={"requests": 0, "per_seconds": 30})
    with pytest.raises(b2brouter.RateLimitError) as limited:
        client.accounts.retrieve(account.id)
    assert 1 <= limited.value.retry_after <= 30
    faults(error_rate=1)
    with pytest.raises(b2brouter.ServerError):
        client.accounts.retrieve(account.id)
