"""client.invoices.add_attachment: the request it makes, and the contract against the simulator."""

from __future__ import annotations

import httpx
import pytest

from b2brouter import InvalidRequestError, NotFoundError
from tests.client.test_contract_sim import (  # noqa: F401 (fixtures)
    account,
    client,
    new_invoice,
)


PDF = b"%PDF-1.4\n% our own invoice\n%%EOF\n"


def test_the_file_goes_as_raw_bytes_with_its_name_in_the_query(make_client):
    api, script = make_client(httpx.Response(204, headers={"X-B2B-API-Request-Id": "req_att"}))
    assert api.invoices.add_attachment(42, PDF, filename="invoice INV-1.pdf", use_as_pdf_view=True) is None
    request = script.last
    assert request.method == "POST" and request.url.path == "/invoices/42/add_attachment"
    assert request.url.params["filename"] == "invoice INV-1.pdf"
    assert request.url.params["use_as_pdf_view"] == "true"
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert request.content == PDF


def test_use_as_pdf_view_is_left_out_unless_asked(make_client):
    api, script = make_client(httpx.Response(204, headers={"X-B2B-API-Request-Id": "req_att"}))
    api.invoices.add_attachment(42, b"notes", filename="notes.txt")
    assert "use_as_pdf_view" not in script.last.url.params


def test_an_empty_file_or_name_is_refused_before_any_request(make_client):
    api, script = make_client()
    with pytest.raises(ValueError):
        api.invoices.add_attachment(42, b"", filename="a.pdf")
    with pytest.raises(ValueError):
        api.invoices.add_attachment(42, PDF, filename=" ")
    assert script.requests == []


@pytest.mark.django_db
def test_an_attached_pdf_becomes_the_invoices_pdf_in_the_simulator(client, account):
    invoice = new_invoice(client, account, "F-ATT")
    client.invoices.add_attachment(invoice["id"], PDF, filename="F-ATT.pdf", use_as_pdf_view=True)
    assert client.invoices.download(invoice["id"], "pdf.invoice") == PDF
    attachments = client.invoices.retrieve(invoice["id"])["attachments"]
    assert [(a["filename"], a["size"], a["use_as_pdf_view"]) for a in attachments] == [("F-ATT.pdf", len(PDF), True)]


@pytest.mark.django_db
def test_the_simulator_refuses_a_pdf_view_that_is_not_a_pdf_and_a_missing_invoice(client, account):
    invoice = new_invoice(client, account, "F-ATT2")
    with pytest.raises(InvalidRequestError) as refused:
        client.invoices.add_attachment(invoice["id"], b"plain text", filename="a.txt", use_as_pdf_view=True)
    assert refused.value.param == "use_as_pdf_view"
    with pytest.raises(NotFoundError):
        client.invoices.add_attachment(999999, PDF, filename="a.pdf")
