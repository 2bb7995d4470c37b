"""What B2Brouter's API reference promises and its PHP SDK relies on, through the simulator's API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.conftest import Account, Sim, line
from tests.sim.test_validation import error_of

# --- query and type filters ---------------------------------------------------------------------


def ids(response: Any, key: str) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()[key]]


def test_accounts_query_is_honoured(account: Account) -> None:
    me = [account.id]
    assert ids(account.call("GET", "accounts", query="country=es AND tin_scheme=9920"), "accounts") == me
    assert ids(account.call("GET", "accounts", query="country=ES"), "accounts") == me
    assert ids(account.call("GET", "accounts", query="tin_value=B12345674"), "accounts") == me
    assert ids(account.call("GET", "accounts", query="name=Test Co S.L."), "accounts") == me
    assert ids(account.call("GET", "accounts", query="country=fr"), "accounts") == []
    assert account.call("GET", "accounts", query="country=es").json()["meta"]["total_count"] == 1


@pytest.mark.parametrize("query", ["spain", "country", "country=es OR country=fr", "colour=red", "=es"])
def test_a_bad_accounts_query_is_400_invalid_query(account: Account, query: str) -> None:
    error = error_of(account.call("GET", "accounts", query=query), 400)
    assert (error["code"], error["param"]) == ("invalid_query", "query")


def test_invoices_query_reads_ransack_conditions(account: Account) -> None:
    de = account.contact()
    fr = account.contact(name="Lumière", tin_value="FR40303265045", country="fr")
    first = account.invoice(number="Q-1", contact_id=de["id"])
    second = account.invoice(number="Q-2", contact_id=fr["id"])
    listing = f"accounts/{account.id}/invoices"
    assert ids(account.call("GET", listing, query="tin_value=ESDE136695976"), "invoices") == []
    assert ids(account.call("GET", listing, query="tin_value=DE136695976"), "invoices") == [first["id"]]
    assert ids(account.call("GET", listing, query="number=Q-2"), "invoices") == [second["id"]]
    assert ids(account.call("GET", listing, query=f"contact_id={fr['id']} AND state=new"), "invoices") == [second["id"]]
    assert ids(account.call("GET", listing, query="state=sent"), "invoices") == []


@pytest.mark.parametrize("params,param", [
    ({"query": "Q-1"}, "query"),  # free text is not a Ransack condition
    ({"query": "total=10"}, "query"),
    ({"type": "Factura"}, "type"),
    ({"type": "issuedinvoice"}, "type"),
])
def test_a_bad_invoices_query_or_type_is_400_not_an_empty_list(account: Account, params: dict, param: str) -> None:
    account.invoice()
    error = error_of(account.call("GET", f"accounts/{account.id}/invoices", **params), 400)
    assert (error["code"], error["param"]) == ("invalid_query", param)


# --- fields that are stored and returned --------------------------------------------------------


def test_contact_phone_website_and_transport_codes_are_kept(account: Account) -> None:
    contact = account.contact(phone="+49 30 1234567", website="https://acme.example", transport_type_code="peppol",
                              document_type_code="xml.ubl.invoice.bis3", address="Hauptstr. 1", city="Berlin",
                              postalcode="10115", province="Berlin")
    assert {k: contact[k] for k in ("phone", "website", "transport_type_code", "document_type_code", "city")} == {
        "phone": "+49 30 1234567", "website": "https://acme.example", "transport_type_code": "peppol",
        "document_type_code": "xml.ubl.invoice.bis3", "city": "Berlin"}
    updated = account.call("PUT", f"contacts/{contact['id']}", {"contact": {"phone": "+49 30 7654321", "transport_type_code": "email"}})
    body = updated.json()["contact"]
    assert (body["phone"], body["transport_type_code"], body["website"]) == ("+49 30 7654321", "email", "https://acme.example")
    assert account.call("GET", f"contacts/{contact['id']}").json()["contact"]["phone"] == "+49 30 7654321"


def test_account_address_fields_are_kept(account: Account) -> None:
    fields = {"phone": "+34 600 000 000", "website": "https://test.example", "address": "Calle Mayor 1", "city": "Madrid",
              "postalcode": "28001", "province": "Madrid", "country": "ES", "email": "billing@test.example"}
    body = account.call("PUT", f"accounts/{account.id}", {"account": fields}).json()["account"]
    assert {k: body[k] for k in fields} == fields | {"country": "es"}
    again = account.call("GET", f"accounts/{account.id}").json()["account"]
    assert (again["address"], again["postalcode"]) == ("Calle Mayor 1", "28001")
    bad = account.call("PUT", f"accounts/{account.id}", {"account": {"country": "Spain"}})
    assert error_of(bad, 422)["param"] == "country"


def test_control_accounts_take_address_fields(sim: Sim) -> None:
    data, _ = sim.new_account(address="Rue de Rivoli 1", city="Paris", postalcode="75001", country="fr")
    assert (data["address"], data["city"], data["postalcode"], data["country"]) == ("Rue de Rivoli 1", "Paris", "75001", "fr")


def test_simplified_invoices_keep_their_type(account: Account) -> None:
    other = account.contact()
    response = account.create_invoice(
        type="IssuedSimplifiedInvoice", number="FS-1", contact_id=other["id"],  # ignored for simplified invoices
        contact={"name": "Cliente final", "country": "ES"}, invoice_lines_attributes=[line("2", "50")])
    assert response.status_code == 201, response.content
    invoice = response.json()["invoice"]
    assert invoice["type"] == "IssuedSimplifiedInvoice"
    assert invoice["contact"]["name"] == "Cliente final" and invoice["contact_id"] != other["id"]
    assert invoice["total"] == "121.00"
    assert account.call("GET", f"invoices/{invoice['id']}").json()["invoice"]["type"] == "IssuedSimplifiedInvoice"
    assert account.call("GET", f"invoices/{invoice['id']}/validate").json()["valid"] is True
    plain = account.invoice(number="F-1", contact_id=other["id"])
    assert plain["type"] == "IssuedInvoice"
    listing = f"accounts/{account.id}/invoices"
    assert ids(account.call("GET", listing, type="IssuedSimplifiedInvoice"), "invoices") == [invoice["id"]]
    assert ids(account.call("GET", listing, type="IssuedInvoice"), "invoices") == [invoice["id"], plain["id"]]
    # downloaded is a state of simplified invoices only (mark_as reference).
    assert account.call("POST", f"invoices/{invoice['id']}/mark_as", {"state": "downloaded"}).json()["invoice"]["state"] == "downloaded"
    assert account.call("POST", f"invoices/{plain['id']}/mark_as", {"state": "downloaded"}).status_code == 422


def test_a_simplified_invoice_needs_an_inline_contact_name(account: Account) -> None:
    response = account.create_invoice(type="IssuedSimplifiedInvoice", number="FS-2", invoice_lines_attributes=[line()])
    assert (error_of(response, 422)["param"]) == "contact.name"
    response = account.create_invoice(type="SelfInvoice", number="FS-3", contact_id=account.contact()["id"],
                                      invoice_lines_attributes=[line()])
    assert (error_of(response, 422)["code"], error_of(response, 422)["param"]) == ("parameter_inclusion", "type")


# --- mark_as, deletes, downloads, unknown routes ------------------------------------------------


def test_mark_as_new_is_accepted(account: Account) -> None:
    invoice = account.invoice()
    account.call("POST", f"invoices/send_invoice/{invoice['id']}")
    marked = account.call("POST", f"invoices/{invoice['id']}/mark_as", {"state": "new"})
    assert marked.status_code == 200, marked.content
    assert marked.json()["invoice"]["state"] == "new"
    # Back in new, it can be edited and sent again.
    assert account.call("PUT", f"invoices/{invoice['id']}", {"invoice": {"extra_info": "again"}}).status_code == 200
    error = error_of(account.call("POST", f"invoices/{invoice['id']}/mark_as", {"state": "sending"}), 422)
    assert (error["code"], error["param"]) == ("parameter_inclusion", "state")


def test_deletes_answer_the_object_with_deleted_true(account: Account) -> None:
    invoice = account.invoice()
    gone = account.call("DELETE", f"invoices/{invoice['id']}").json()["invoice"]
    assert (gone["id"], gone["number"], gone["deleted"]) == (invoice["id"], "INV-1", True)
    contact = account.call("DELETE", f"contacts/{invoice['contact_id']}").json()["contact"]
    assert (contact["id"], contact["deleted"]) == (invoice["contact_id"], True)
    hook = account.call("POST", "web_hooks", {"web_hook": {"url": "http://127.0.0.1:9/h"}}).json()["web_hook"]
    assert account.call("DELETE", f"web_hooks/{hook['id']}").json()["web_hook"]["deleted"] is True
    assert "deleted" not in account.invoice(number="INV-2")


@pytest.mark.parametrize("params,header", [
    ({}, 'inline; filename="INV-1.pdf"'),
    ({"disposition": "attachment"}, 'attachment; filename="INV-1.pdf"'),
    ({"disposition": "attachment", "filename": "invoice-2025-001.pdf"}, 'attachment; filename="invoice-2025-001.pdf"'),
    ({"filename": "../../etc/passwd"}, 'inline; filename="passwd"'),
    ({"filename": "Factura nº 1.pdf"}, "inline; filename*=utf-8''Factura%20n%C2%BA%201.pdf"),
])
def test_download_disposition_and_filename(account: Account, params: dict, header: str) -> None:
    invoice = account.invoice()
    response = account.call("GET", f"invoices/{invoice['id']}/as/pdf.invoice", **params)
    assert response.status_code == 200
    assert response["Content-Disposition"] == header
    assert response.content.startswith(b"%PDF")


def test_a_bad_disposition_is_400(account: Account) -> None:
    invoice = account.invoice()
    error = error_of(account.call("GET", f"invoices/{invoice['id']}/as/pdf.invoice", disposition="download"), 400)
    assert (error["code"], error["param"]) == ("invalid_request_params", "disposition")


@pytest.mark.parametrize("method,path", [
    ("GET", "accounts/{id}/ledgers"), ("POST", "accounts/{id}/invoices/import"), ("POST", "invoices/{invoice}/ack"),
    ("GET", "document_types"), ("DELETE", "accounts/{id}/logo"), ("GET", "no/such/thing"),
])
def test_a_route_the_simulator_lacks_is_501_not_simulated(account: Account, method: str, path: str) -> None:
    invoice = account.invoice()
    response = account.call(method, path.format(id=account.id, invoice=invoice["id"]))
    error = error_of(response, 501)
    assert error["code"] == "not_simulated"
    assert "is not simulated" in error["message"]


@pytest.mark.parametrize("path", ["invoices/999999", "invoices/abc", "contacts/abc", "accounts/abc", "web_hooks/abc",
                                  "invoices/abc/as/pdf.invoice"])
def test_a_missing_record_is_still_404_resource_missing(account: Account, path: str) -> None:
    assert error_of(account.call("GET", path), 404)["code"] == "resource_missing"
