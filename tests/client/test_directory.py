"""``client.directory``: looking a receiver up in B2Brouter's directory (path inferred)."""

from __future__ import annotations

import httpx
import pytest

from b2brouter import AuthenticationError, NotFoundError, directory_document, reachable_on_peppol

from .conftest import json_response

ENTRY = {
    "name": "Cliente SL",
    "country": "es",
    "Invoice": {
        "transport_type_code": "peppol",
        "document_type_code": "xml.ubl.invoice.bis3",
        "other_document_type_codes": ["xml.ubl.invoice.bis3", "xml.ubl.creditnote.bis3"],
    },
    "Despatch Advice": {"transport_type_code": "email", "document_type_code": "pdf.despatch_advice"},
}


def test_lookup_asks_by_country_scheme_and_identifier(make_client):
    client, script = make_client(json_response(200, ENTRY))

    entry = client.directory.lookup("ES", "9920", "ESB12345678")

    assert (script.last.method, script.last.url.path) == ("GET", "/directory/es/9920/ESB12345678")
    assert entry is not None and entry["name"] == "Cliente SL"
    assert entry["Invoice"]["document_type_code"] == "xml.ubl.invoice.bis3"
    assert reachable_on_peppol(entry) is True


@pytest.mark.parametrize("envelope", ["directory_entry", "entity"])
def test_an_enveloped_answer_is_unwrapped(make_client, envelope):
    client, _ = make_client(json_response(200, {envelope: ENTRY}))
    entry = client.directory.lookup("es", "9920", "ESB12345678")
    assert entry is not None and entry["name"] == "Cliente SL"


def test_a_receiver_that_is_not_listed_is_none(make_client):
    client, _ = make_client(json_response(404, {"error": {"code": "resource_missing", "message": "Not found"}}))

    entry = client.directory.lookup("de", "9930", "DE136695976")

    assert entry is None and reachable_on_peppol(entry) is False


def test_a_404_without_resource_missing_is_raised(make_client):
    """An environment without the directory answers its router's 404: that is no "not listed"."""
    client, _ = make_client(httpx.Response(404, text="<h1>Not Found</h1>", headers={"Content-Type": "text/html"}))
    with pytest.raises(NotFoundError):
        client.directory.lookup("es", "9920", "ESB12345678")


def test_other_errors_are_raised(make_client):
    client, _ = make_client(json_response(401, {"error": {"code": "unauthorized", "message": "Bad key"}}))
    with pytest.raises(AuthenticationError):
        client.directory.lookup("es", "9920", "ESB12345678")


def test_identifiers_are_quoted_and_required(make_client):
    client, script = make_client(json_response(200, ENTRY))
    client.directory.lookup("fr", "0009", "123/456")
    assert script.last.url.raw_path == b"/directory/fr/0009/123%2F456"
    with pytest.raises(ValueError):
        client.directory.lookup("es", "9920", " ")


def test_documents_are_read_under_any_spelling_of_their_key():
    assert directory_document(ENTRY, "despatch_advice") == ENTRY["Despatch Advice"]
    assert directory_document(ENTRY, "invoice") == ENTRY["Invoice"]
    assert directory_document(ENTRY, "Order") is None
    assert reachable_on_peppol(ENTRY, "Despatch Advice") is False
    assert reachable_on_peppol({"name": "Only details"}) is False
