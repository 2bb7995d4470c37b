"""The directory lookup: whether a participant is listed, and how it receives invoices."""

from __future__ import annotations

import json
from typing import Any

from tests.sim.conftest import Account, Sim
from tests.sim.test_validation import error_of


def list_participant(sim: Sim, country: str, scheme: str, identifier: str, **body: Any) -> Any:
    return sim.client.put(f"/sim/_control/directory/{country}/{scheme}/{identifier}", json.dumps(body),
                          content_type="application/json")


def test_an_unlisted_participant_is_404(account: Account) -> None:
    error = error_of(account.call("GET", "directory/de/9930/DE136695976"), 404)
    assert (error["code"], error["message"]) == ("resource_missing", "Entity not found in the directory")


def test_a_listed_participant_answers_how_it_receives_invoices(sim: Sim, account: Account) -> None:
    listed = list_participant(sim, "de", "9930", "DE136695976", name="Nordlicht Übersetzungen GmbH")
    assert listed.status_code == 200, listed.content
    response = account.call("GET", "directory/de/9930/DE136695976")
    assert response.status_code == 200
    assert response.json() == {"directory_entry": {
        "name": "Nordlicht Übersetzungen GmbH", "country": "de", "scheme": "9930", "id": "DE136695976",
        "Invoice": {"transport_type_code": "peppol", "document_type_code": "xml.ubl.invoice.bis3",
                    "other_document_type_codes": []},
    }}
    assert response["X-B2B-API-Request-Id"]
    # Country in either case, the scheme unpadded, the TIN in another spelling: the same participant.
    assert account.call("GET", "directory/DE/9930/de 136.695.976").json()["directory_entry"]["id"] == "DE136695976"
    # Another scheme or country is another participant.
    assert account.call("GET", "directory/de/0204/DE136695976").status_code == 404
    assert account.call("GET", "directory/at/9930/DE136695976").status_code == 404


def test_a_participant_reached_by_email_is_listed_but_not_on_peppol(sim: Sim, account: Account) -> None:
    list_participant(sim, "fr", "9957", "FR40303265045", name="Lumière", transport_type_code="email",
                     document_type_code="pdf.invoice", other_document_type_codes=["xml.ubl.invoice.bis3"])
    body = account.call("GET", "directory/fr/9957/FR40303265045").json()["directory_entry"]
    assert body["Invoice"] == {"transport_type_code": "email", "document_type_code": "pdf.invoice",
                               "other_document_type_codes": ["xml.ubl.invoice.bis3"]}


def test_a_participant_can_be_unlisted_and_relisted(sim: Sim, account: Account) -> None:
    list_participant(sim, "nl", "9944", "NL004495445B01")
    assert account.call("GET", "directory/nl/9944/NL004495445B01").status_code == 200
    list_participant(sim, "nl", "9944", "NL004495445B01", transport_type_code="email")  # relisting replaces
    assert account.call("GET", "directory/nl/9944/NL004495445B01").json()["directory_entry"]["Invoice"]["transport_type_code"] == "email"
    removed = sim.client.delete("/sim/_control/directory/nl/9944/NL004495445B01")
    assert removed.status_code == 200 and removed.json()["directory_entry"]["deleted"] is True
    assert account.call("GET", "directory/nl/9944/NL004495445B01").status_code == 404
    assert sim.client.delete("/sim/_control/directory/nl/9944/NL004495445B01").status_code == 404


def test_listing_checks_its_input(sim: Sim) -> None:
    assert list_participant(sim, "Germany", "9930", "DE136695976").json()["error"]["param"] == "country"
    assert list_participant(sim, "de", "VAT", "DE136695976").json()["error"]["param"] == "scheme"
    bad = list_participant(sim, "de", "9930", "DE136695976", other_document_type_codes="pdf")
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "other_document_type_codes"


def test_the_lookup_needs_a_key_and_a_version(sim: Sim, account: Account) -> None:
    assert sim.call("GET", "directory/de/9930/DE136695976", None).status_code == 401
    assert account.call("GET", "directory/de/9930/DE136695976", version=None).status_code == 400


def test_a_new_contact_takes_its_codes_from_the_directory(sim: Sim, account: Account) -> None:
    list_participant(sim, "de", "9930", "DE136695976")
    listed = account.contact(tin_scheme="9930")
    assert (listed["transport_type_code"], listed["document_type_code"]) == ("peppol", "xml.ubl.invoice.bis3")
    list_participant(sim, "fr", "9957", "FR40303265045", transport_type_code="email", document_type_code="pdf.invoice")
    unschemed = account.contact(name="Lumière", tin_value="FR40303265045", country="fr")
    assert unschemed["transport_type_code"] == "email"
    given = account.contact(name="Delta", tin_value="NL004495445B01", country="nl", transport_type_code="email")
    assert given["transport_type_code"] == "email"
    unlisted = account.contact(name="Other", tin_value="ESA28017895", country="es")
    assert (unlisted["transport_type_code"], unlisted["document_type_code"]) == ("", "")
