"""Downloading an invoice's documents: options, and waiting for B2Brouter to generate them."""

from __future__ import annotations

import httpx
import pytest

from b2brouter import DocumentNotReadyError, NotFoundError, PermissionDeniedError

from .conftest import json_response

PDF = b"%PDF-1.7 generated"


def pdf() -> httpx.Response:
    return httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"})


def not_yet(request_id: str = "req_404") -> httpx.Response:
    return json_response(404, {"error": {"code": "resource_missing", "message": "Invoice not found"}},
                         request_id=request_id)


def test_disposition_and_filename_are_sent_as_query_parameters(make_client):
    client, script = make_client(pdf())

    assert client.invoices.download(77, "pdf.invoice", disposition="attachment", filename="F 1/2026.pdf") == PDF

    url = script.last.url
    assert url.path == "/invoices/77/as/pdf.invoice"
    assert dict(url.params) == {"disposition": "attachment", "filename": "F 1/2026.pdf"}


def test_without_options_the_query_is_empty(make_client):
    client, script = make_client(pdf())
    client.invoices.download(77, "pdf.invoice")
    assert script.last.url.query == b""


def test_a_document_generated_while_waiting_is_returned(make_client, sleeps):
    client, script = make_client(not_yet(), not_yet(), pdf())

    assert client.invoices.download(77, "pdf.invoice", wait_for_generation=3) == PDF

    assert len(script.requests) == 3 and sleeps == [1.0, 2.0]  # capped exponential backoff


def test_a_document_still_missing_after_the_waits_is_not_ready(make_client, sleeps):
    client, script = make_client(not_yet("req_1"), not_yet("req_2"), not_yet("req_3"), not_yet("req_4"),
                                 not_yet("req_5"))

    with pytest.raises(DocumentNotReadyError) as caught:
        client.invoices.download(77, "xml.ubl.invoice.bis3", wait_for_generation=4)

    err = caught.value
    assert isinstance(err, NotFoundError)  # code catching NotFoundError keeps working
    assert err.attempts == 5 and len(script.requests) == 5
    assert sleeps == [1.0, 2.0, 4.0, 4.0]  # the wait is capped
    assert (err.status_code, err.code, err.request_id) == (404, "resource_missing", "req_5")
    assert "still generating" in err.message and "xml.ubl.invoice.bis3" in err.message
    assert "req_5" in str(err) and err.path == "/invoices/77/as/xml.ubl.invoice.bis3"


def test_without_waiting_a_404_is_a_plain_not_found(make_client, sleeps):
    client, script = make_client(not_yet())

    with pytest.raises(NotFoundError) as caught:
        client.invoices.download(77, "pdf.invoice")

    assert type(caught.value) is NotFoundError and sleeps == [] and len(script.requests) == 1


def test_other_errors_are_raised_at_once_while_waiting(make_client, sleeps):
    client, script = make_client(not_yet(), json_response(403, {"error": {"code": "forbidden"}}))

    with pytest.raises(PermissionDeniedError):
        client.invoices.download(77, "pdf.invoice", wait_for_generation=5)

    assert sleeps == [1.0] and len(script.requests) == 2


def test_the_waits_stop_before_they_would_pass_the_deadline(make_client, sleeps):
    client, script = make_client(not_yet(), not_yet(), pdf(), deadline=1.5)

    with pytest.raises(DocumentNotReadyError) as caught:
        client.invoices.download(77, "pdf.invoice", wait_for_generation=5)

    # The 1 s wait fits in the 1.5 s deadline; the next, 2 s, would not fit even on its own.
    assert caught.value.attempts == 2 and sleeps == [1.0] and len(script.requests) == 2


def test_a_negative_wait_is_refused(make_client):
    client, script = make_client()
    with pytest.raises(ValueError):
        client.invoices.download(77, "pdf.invoice", wait_for_generation=-1)
    assert script.requests == []
