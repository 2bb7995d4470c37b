"""POST /invoices/{id}/add_attachment in the simulator: raw bytes, base64, PDF view, errors, the spec."""

from __future__ import annotations

import base64
from typing import Any

from tests.sim.conftest import Account, Sim
from tests.sim.test_openapi import conform, spec  # noqa: F401 (fixture)

PDF = b"%PDF-1.4\n% attached\n%%EOF\n"
HEADERS = {"content_type": "application/octet-stream"}


def attach(account: Account, invoice_id: int, content: bytes, **query: str) -> Any:
    from urllib.parse import urlencode

    return account.sim.client.post(
        f"/sim/invoices/{invoice_id}/add_attachment?{urlencode(query)}", content, content_type="application/octet-stream",
        HTTP_X_B2B_API_KEY=account.key, HTTP_X_B2B_API_VERSION="2026-03-02")


def test_a_pdf_view_replaces_the_generated_pdf_and_original_stays_what_was_sent(sim: Sim, account: Account) -> None:
    invoice = account.invoice(number="ATT-1")
    generated = account.call("GET", f"invoices/{invoice['id']}/as/pdf.invoice").content
    assert generated.startswith(b"%PDF") and generated != PDF
    response = attach(account, invoice["id"], PDF, filename="ATT-1.pdf", use_as_pdf_view="true")
    assert response.status_code == 204 and response["X-B2B-API-Request-Id"].startswith("req_")
    assert account.call("GET", f"invoices/{invoice['id']}/as/pdf.invoice").content == PDF
    original = account.call("GET", f"invoices/{invoice['id']}/as/original").json()["invoice"]
    assert "_sim_attachments" not in original and original["number"] == "ATT-1"
    shown = account.call("GET", f"invoices/{invoice['id']}").json()["invoice"]["attachments"]
    assert shown == [{"id": 1, "filename": "ATT-1.pdf", "content_type": "application/pdf", "size": len(PDF),
                      "use_as_pdf_view": True, "link": f"/attachments/download/{invoice['id']}-1/ATT-1.pdf"}]


def test_base64_and_data_uri_payloads_are_decoded(sim: Sim, account: Account) -> None:
    invoice = account.invoice(number="ATT-2")
    assert attach(account, invoice["id"], base64.b64encode(PDF), filename="a.pdf").status_code == 204
    uri = b"data:application/pdf;base64," + base64.b64encode(PDF)
    assert attach(account, invoice["id"], uri, filename="b.pdf", use_as_pdf_view="1").status_code == 204
    shown = account.call("GET", f"invoices/{invoice['id']}").json()["invoice"]["attachments"]
    assert [(a["size"], a["use_as_pdf_view"]) for a in shown] == [(len(PDF), False), (len(PDF), True)]


def test_refusals(sim: Sim, account: Account, spec: dict[str, Any]) -> None:  # noqa: F811
    invoice = account.invoice(number="ATT-3")
    path = "/invoices/{invoice_id}/add_attachment"
    no_name = attach(account, invoice["id"], PDF)
    assert no_name.status_code == 422 and no_name.json()["error"]["param"] == "filename"
    conform(spec, path, "POST", no_name)
    empty = attach(account, invoice["id"], b"", filename="a.pdf")
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "parameter_blank"
    not_pdf = attach(account, invoice["id"], b"hello", filename="a.txt", use_as_pdf_view="true")
    assert not_pdf.status_code == 422 and not_pdf.json()["error"]["param"] == "use_as_pdf_view"
    assert attach(account, invoice["id"], PDF, filename="a.pdf", use_as_pdf_view="maybe").status_code == 422
    missing = attach(account, 999999, PDF, filename="a.pdf")
    assert missing.status_code == 404
    conform(spec, path, "POST", missing)
    conform(spec, "/invoices/{invoice_id}", "GET", account.call("GET", f"invoices/{invoice['id']}"))
    assert account.call("GET", f"invoices/{invoice['id']}").json()["invoice"]["attachments"] == []
