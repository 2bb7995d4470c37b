"""Headers, authentication, wrapped bodies, pagination and list filters of the simulated API."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from tests.sim.conftest import Account, Sim, line


def test_missing_version_is_400(account: Account) -> None:
    response = account.call("GET", "accounts", version=None)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_api_version"
    assert response["X-B2B-API-Request-Id"].startswith("req_")


def test_unknown_version_is_400(account: Account) -> None:
    response = account.call("GET", "accounts", version="2024-01-01")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_api_version"


@pytest.mark.parametrize("version", ["2025-10-13", "2026-03-02", "2026-04-20"])
def test_supported_versions(account: Account, version: str) -> None:
    assert account.call("GET", "accounts", version=version).status_code == 200


@pytest.mark.parametrize("key", [None, "", "sim_wrong"])
def test_bad_or_missing_key_is_401(sim: Sim, account: Account, key: str | None) -> None:
    response = sim.call("GET", f"accounts/{account.id}", key)
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "unauthorized", "message": "Invalid or missing API key: send X-B2B-API-Key",
                                        "type": "invalid_request_error"}
    assert response["X-B2B-API-Request-Id"]


def test_request_ids_are_unique_and_on_every_response(sim: Sim, account: Account) -> None:
    responses = [
        account.call("GET", "accounts"),
        account.call("GET", "invoices/999999"),
        account.call("DELETE", "accounts"),  # method not allowed
        sim.client.get("/sim/no/such/endpoint"),
        sim.client.get("/sim/openapi.yaml"),
    ]
    ids = [r["X-B2B-API-Request-Id"] for r in responses]
    assert len(set(ids)) == len(ids)
    assert [r.status_code for r in responses] == [200, 404, 405, 501, 200]


def test_accounts_list_shows_only_the_keys_account(sim: Sim, account: Account) -> None:
    sim.new_account(name="Someone Else", tin_value="ESA28017895")
    body = account.call("GET", "accounts").json()
    assert [a["id"] for a in body["accounts"]] == [account.id]
    assert body["meta"] == {"total_count": 1, "offset": 0, "limit": 25}
    assert body["accounts"][0]["name"] == "Test Co S.L."
    assert set(body["accounts"][0]) >= {"tin_value", "rounding_method", "round_before_sum", "apply_taxes_per_line",
                                        "transactions_count", "transactions_limit", "created_at", "updated_at"}


def test_other_accounts_objects_are_404(sim: Sim, account: Account) -> None:
    data, key = sim.new_account(name="Other", tin_value="ESA28017895")
    other = Account(sim, data, key)
    invoice = other.invoice()
    contact_id = invoice["contact_id"]
    for method, path in [
        ("GET", f"accounts/{other.id}"),
        ("GET", f"accounts/{other.id}/invoices"),
        ("GET", f"accounts/{other.id}/contacts"),
        ("GET", f"contacts/{contact_id}"),
        ("GET", f"invoices/{invoice['id']}"),
        ("DELETE", f"invoices/{invoice['id']}"),
        ("POST", f"invoices/send_invoice/{invoice['id']}"),
        ("GET", f"invoices/{invoice['id']}/as/pdf.invoice"),
    ]:
        response = account.call(method, path)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "resource_missing"
    assert account.call("GET", f"invoices/{invoice['id']}").json()["error"]["message"] == "Invoice not found"
    assert other.call("GET", f"invoices/{invoice['id']}").status_code == 200


def test_create_answers_201_and_reads_200(account: Account) -> None:
    contact = account.call("POST", f"accounts/{account.id}/contacts", {"contact": {"name": "A", "tin_value": "DE136695976"}})
    assert contact.status_code == 201
    assert set(contact.json()) == {"contact"}
    cid = contact.json()["contact"]["id"]
    assert account.call("GET", f"contacts/{cid}").status_code == 200
    updated = account.call("PUT", f"contacts/{cid}", {"contact": {"email": "billing@a.example", "integration_code": "C-7"}})
    assert updated.status_code == 200
    assert updated.json()["contact"]["integration_code"] == "C-7"
    assert account.call("DELETE", f"contacts/{cid}").status_code == 200
    assert account.call("GET", f"contacts/{cid}").status_code == 404


def test_contact_with_invoices_cannot_be_deleted(account: Account) -> None:
    invoice = account.invoice()
    response = account.call("DELETE", f"contacts/{invoice['contact_id']}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_pagination_meta_and_limits(account: Account) -> None:
    contact = account.contact()
    for i in range(30):
        account.create_invoice(number=f"P-{i:02}", contact_id=contact["id"], invoice_lines_attributes=[line()])
    first = account.call("GET", f"accounts/{account.id}/invoices").json()
    assert first["meta"] == {"total_count": 30, "offset": 0, "limit": 25}
    assert len(first["invoices"]) == 25
    second = account.call("GET", f"accounts/{account.id}/invoices", offset=25, limit=25).json()
    assert [i["number"] for i in second["invoices"]] == [f"P-{i:02}" for i in range(25, 30)]
    capped = account.call("GET", f"accounts/{account.id}/invoices", limit=9999).json()
    assert capped["meta"]["limit"] == 500
    assert len(capped["invoices"]) == 30
    assert account.call("GET", f"accounts/{account.id}/invoices", limit="x").status_code == 400
    assert account.call("GET", f"accounts/{account.id}/invoices", offset=-1).status_code == 400


def numbers(account: Account, **query: Any) -> list[str]:
    response = account.call("GET", f"accounts/{account.id}/invoices", **query)
    assert response.status_code == 200, response.content
    return [i["number"] for i in response.json()["invoices"]]


@pytest.fixture
def three_invoices(account: Account) -> list[dict[str, Any]]:
    de = account.contact(name="Nordlicht", tin_value="DE136695976")
    fr = account.contact(name="Lumière", tin_value="FR40303265045")
    made = []
    for number, date, due, contact in [
        ("F-1", "2026-01-10", "2026-02-10", de),
        ("F-2", "2026-02-10", "2026-03-10", fr),
        ("F-3", "2026-03-10", "2026-04-10", de),
    ]:
        response = account.create_invoice(number=number, date=date, due_date=due, contact_id=contact["id"],
                                          invoice_lines_attributes=[line()])
        made.append(response.json()["invoice"])
    return made


def test_invoice_filters(account: Account, three_invoices: list[dict[str, Any]]) -> None:
    assert numbers(account, number="F-2") == ["F-2"]
    assert numbers(account, number="F") == []  # exact, not a prefix
    assert numbers(account, date_from="2026-02-01") == ["F-2", "F-3"]
    assert numbers(account, date_to="2026-02-10") == ["F-1", "F-2"]
    assert numbers(account, due_date_from="2026-03-10", due_date_to="2026-03-31") == ["F-2"]
    assert numbers(account, type="IssuedInvoice") == ["F-1", "F-2", "F-3"]
    assert numbers(account, type="ReceivedInvoice") == []
    assert numbers(account, query="tin_value=DE136695976") == ["F-1", "F-3"]
    assert numbers(account, query="tin_value=136695976") == ["F-1", "F-3"]
    assert account.call("GET", f"accounts/{account.id}/invoices", date_from="yesterday").status_code == 400


def test_state_flag_filters(account: Account, three_invoices: list[dict[str, Any]]) -> None:
    account.call("POST", f"invoices/{three_invoices[1]['id']}/mark_as", {"state": "paid"})
    assert numbers(account, new=1) == ["F-1", "F-3"]
    assert numbers(account, allegedly_paid=1) == ["F-2"]
    assert numbers(account, new=0) == ["F-2"]
    assert numbers(account, sent=1, accepted=1) == []


def test_updated_at_from(account: Account, three_invoices: list[dict[str, Any]]) -> None:
    time.sleep(0.01)
    cutoff = dt.datetime.now(dt.timezone.utc)
    account.call("PUT", f"invoices/{three_invoices[0]['id']}", {"invoice": {"extra_info": "changed"}})
    assert numbers(account, updated_at_from=cutoff.isoformat()) == ["F-1"]
    assert numbers(account, updated_at_from=cutoff.isoformat().replace("+00:00", "Z")) == ["F-1"]
    assert numbers(account, updated_at_from="2000-01-01T00:00:00Z") == ["F-1", "F-2", "F-3"]
    assert account.call("GET", f"accounts/{account.id}/invoices", updated_at_from="soon").status_code == 400


def test_contact_filters(account: Account) -> None:
    account.contact(name="Nordlicht Übersetzungen GmbH", tin_value="DE136695976", integration_code="7")
    account.contact(name="Traductions Lumière SARL", tin_value="FR40303265045", is_client=False, is_provider=True)

    def names(**query: Any) -> list[str]:
        return [c["name"] for c in account.call("GET", f"accounts/{account.id}/contacts", **query).json()["contacts"]]

    assert names(name="nordlicht") == ["Nordlicht Übersetzungen GmbH"]
    assert names(name="FR40303265045") == ["Traductions Lumière SARL"]  # name matches the TIN too
    assert names(name="40303265045") == ["Traductions Lumière SARL"]
    assert names(is_client="true") == ["Nordlicht Übersetzungen GmbH"]
    assert names(is_provider=1) == ["Traductions Lumière SARL"]
    assert names(integration_code="7") == ["Nordlicht Übersetzungen GmbH"]
    assert names(integration_code="8") == []


def test_invoice_update_merges_and_recomputes(account: Account) -> None:
    invoice = account.invoice()
    response = account.call("PUT", f"invoices/{invoice['id']}", {"invoice": {"invoice_lines_attributes": [line("2", "50", "10")]}})
    assert response.status_code == 200
    body = response.json()["invoice"]
    assert (body["subtotal"], body["total"], body["number"]) == ("100.00", "110.00", "INV-1")
    assert body["updated_at"] > invoice["updated_at"]


def test_updated_at_from_with_an_offset_even_unencoded(sim: Sim, account: Account,
                                                       three_invoices: list[dict[str, Any]]) -> None:
    assert numbers(account, updated_at_from="2000-01-01T01:00:00+01:00") == ["F-1", "F-2", "F-3"]
    assert numbers(account, updated_at_from="2999-01-01T01:00:00+01:00") == []
    # A "+" written straight into a URL reaches the server as a space; it still means the offset.
    raw = sim.client.get(f"/sim/accounts/{account.id}/invoices?updated_at_from=2999-01-01T00:00:00+01:00",
                         HTTP_X_B2B_API_KEY=account.key, HTTP_X_B2B_API_VERSION="2026-03-02")
    assert raw.status_code == 200, raw.content
    assert raw.json()["meta"]["total_count"] == 0


def test_pagination_errors_name_the_parameter(account: Account) -> None:
    for query, param in [({"offset": -1}, "offset"), ({"offset": "x"}, "offset"), ({"limit": 0}, "limit"),
                         ({"limit": "x"}, "limit")]:
        response = account.call("GET", f"accounts/{account.id}/contacts", **query)
        assert response.status_code == 400
        assert response.json()["error"]["param"] == param
    assert account.call("GET", f"accounts/{account.id}/contacts", limit=500).json()["meta"]["limit"] == 500


def test_head_is_answered_like_get(account: Account) -> None:
    response = account.call("HEAD", f"accounts/{account.id}")
    assert response.status_code == 200
    assert response["X-B2B-API-Request-Id"].startswith("req_")
