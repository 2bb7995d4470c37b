"""Fault injection per account: latency, 500s, rate limit, and applied-but-unanswered requests."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.sim.conftest import Account, Sim, line


def set_faults(account: Account, **faults: Any) -> Any:
    response = account.sim.client.put(f"/sim/_control/accounts/{account.id}/faults", json.dumps({"faults": faults}),
                                      content_type="application/json", HTTP_X_B2B_API_KEY=account.key)
    assert response.status_code == 200, response.content
    return response.json()["faults"]


def statuses(account: Account, n: int) -> list[int]:
    return [account.call("GET", f"accounts/{account.id}").status_code for _ in range(n)]


def test_faults_need_the_accounts_own_key(sim: Sim, account: Account) -> None:
    url = f"/sim/_control/accounts/{account.id}/faults"
    assert sim.client.get(url).status_code == 401
    _, other_key = sim.new_account(tin_value="ESA28017895")
    assert sim.client.get(url, HTTP_X_B2B_API_KEY=other_key).status_code == 404
    body = sim.client.get(url, HTTP_X_B2B_API_KEY=account.key).json()["faults"]
    assert body["error_rate"] == "0" and body["rate_limit"] is None


def test_invalid_faults_are_rejected(account: Account) -> None:
    for faults in [{"error_rate": "2"}, {"no_answer_mode": "explode"}, {"latency_ms": -1}, {"typo": 1},
                   {"rate_limit": {"requests": 1, "per_seconds": 0}}]:
        response = account.sim.client.put(f"/sim/_control/accounts/{account.id}/faults", json.dumps(faults),
                                          content_type="application/json", HTTP_X_B2B_API_KEY=account.key)
        assert response.status_code == 422, faults


def test_latency_is_added(account: Account) -> None:
    set_faults(account, latency_ms=200)
    start = time.monotonic()
    assert account.call("GET", "accounts").status_code == 200
    assert time.monotonic() - start >= 0.2


def test_injected_500_is_not_applied(account: Account) -> None:
    set_faults(account, error_rate=1)
    response = account.call("POST", f"accounts/{account.id}/contacts", {"contact": {"name": "Lost", "tin_value": "DE136695976"}})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response["X-B2B-API-Request-Id"]
    set_faults(account)
    assert account.call("GET", f"accounts/{account.id}/contacts").json()["meta"]["total_count"] == 0


def test_error_share_is_deterministic_per_seed(account: Account) -> None:
    set_faults(account, error_rate="0.5", seed=42)
    first = statuses(account, 30)
    set_faults(account, error_rate="0.5", seed=42)
    assert statuses(account, 30) == first
    assert 5 <= first.count(500) <= 25 and set(first) == {200, 500}
    set_faults(account, error_rate="0.5", seed=7)
    assert statuses(account, 30) != first


def test_rate_limit_answers_429_with_retry_after(account: Account) -> None:
    set_faults(account, rate_limit={"requests": 2, "per_seconds": 60})
    assert statuses(account, 2) == [200, 200]
    limited = account.call("GET", "accounts")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited["X-B2B-API-Request-Id"]


def test_no_answer_withhold_is_applied_and_marked(account: Account) -> None:
    contact = account.contact()
    set_faults(account, no_answer_rate=1, no_answer_delay=1)
    start = time.monotonic()
    response = account.create_invoice(number="NA-1", contact_id=contact["id"], invoice_lines_attributes=[line()])
    assert time.monotonic() - start >= 1
    assert response["X-Sim-Fault"] == "no-answer"
    set_faults(account)
    found = account.call("GET", f"accounts/{account.id}/invoices", number="NA-1").json()
    assert found["meta"]["total_count"] == 1  # the work was committed although the answer was withheld


def test_no_answer_drop_in_process_raises_mid_body(account: Account) -> None:
    contact = account.contact()
    set_faults(account, no_answer_rate=1, no_answer_mode="drop")
    response = account.create_invoice(number="NA-2", contact_id=contact["id"], invoice_lines_attributes=[line()])
    assert response["X-Sim-Fault"] == "drop"
    assert response["X-B2B-API-Request-Id"].startswith("req_")  # errors and cut answers show it too
    with pytest.raises(ConnectionResetError):
        b"".join(response.streaming_content)
    set_faults(account)
    assert account.call("GET", f"accounts/{account.id}/invoices", number="NA-2").json()["meta"]["total_count"] == 1


@pytest.fixture
def live_account(live_server: Any) -> tuple[str, dict[str, Any], str]:
    base = live_server.url + "/sim"
    response = httpx.post(base + "/_control/accounts", json={"tin_value": "ESB12345674"})
    body = response.json()
    return base, body["account"], body["api_key"]


def _live(base: str, key: str, timeout: float) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=timeout,
                        headers={"X-B2B-API-Key": key, "X-B2B-API-Version": "2026-03-02"})


def test_no_answer_over_a_socket_times_out_after_commit(live_account: tuple[str, dict[str, Any], str]) -> None:
    base, account, key = live_account
    with _live(base, key, timeout=5) as client:
        contact = client.post(f"/accounts/{account['id']}/contacts", json={"contact": {"name": "A", "tin_value": "DE136695976"}}).json()
        client.put(f"/_control/accounts/{account['id']}/faults", json={"no_answer_rate": 1, "no_answer_delay": 2})
        invoice = {"number": "T-1", "contact_id": contact["contact"]["id"], "invoice_lines_attributes": [line()]}
        with pytest.raises(httpx.ReadTimeout):
            client.post(f"/accounts/{account['id']}/invoices", json={"invoice": invoice}, timeout=0.5)
        client.put(f"/_control/accounts/{account['id']}/faults", json={})
        found = client.get(f"/accounts/{account['id']}/invoices", params={"number": "T-1"}).json()
        assert found["meta"]["total_count"] == 1


def test_drop_over_a_socket_is_a_protocol_error(live_account: tuple[str, dict[str, Any], str]) -> None:
    base, account, key = live_account
    with _live(base, key, timeout=5) as client:
        client.put(f"/_control/accounts/{account['id']}/faults", json={"no_answer_rate": 1, "no_answer_mode": "drop"})
        with pytest.raises(httpx.TransportError):
            client.put(f"/accounts/{account['id']}", json={"account": {"name": "Renamed"}})
        client.put(f"/_control/accounts/{account['id']}/faults", json={})
        assert client.get(f"/accounts/{account['id']}").json()["account"]["name"] == "Renamed"


def test_drop_closes_a_kept_alive_connection_at_once(live_account: tuple[str, dict[str, Any], str]) -> None:
    # B2Brouter's PHP SDK keeps connections alive with an 80 s timeout: a cut answer must end
    # the connection, not leave the client waiting for the rest of the promised body.
    base, account, key = live_account
    with _live(base, key, timeout=30) as client:
        assert client.get(f"/accounts/{account['id']}").status_code == 200  # the connection is now kept alive
        client.put(f"/_control/accounts/{account['id']}/faults", json={"no_answer_rate": 1, "no_answer_mode": "drop"})
        start = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"/accounts/{account['id']}")
        assert time.monotonic() - start < 5
        # The client opens a new connection for the next call and it works.
        client.put(f"/_control/accounts/{account['id']}/faults", json={})
        assert client.get(f"/accounts/{account['id']}").json()["account"]["id"] == account["id"]
