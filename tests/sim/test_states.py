"""Sending, the recipient scenarios, background state changes, mark_as and edit locks."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command

from tests.sim.conftest import Account, line


def run_worker() -> None:
    """Run every due task with the real database worker, inside the test's transaction."""
    # The worker closes "old" connections between tasks; inside a test transaction that would
    # close the test's own connection on PostgreSQL (the test client guards against the same).
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


def state_of(account: Account, invoice_id: int) -> dict[str, Any]:
    return account.call("GET", f"invoices/{invoice_id}").json()["invoice"]


def advance(account: Account, invoice_id: int) -> Any:
    return account.sim.client.post(f"/sim/_control/invoices/{invoice_id}/advance")


def sent_invoice(account: Account, **contact: Any) -> dict[str, Any]:
    c = account.contact(**contact)
    invoice = account.invoice(contact_id=c["id"])
    response = account.call("POST", f"invoices/send_invoice/{invoice['id']}")
    assert response.status_code == 200
    assert response.json()["invoice"]["state"] == "sending"
    return invoice


@pytest.mark.parametrize(
    "contact,states",
    [
        ({}, ["sent", "accepted"]),
        ({"scenario": "register"}, ["sent", "registered"]),
        ({"scenario": "refuse"}, ["sent", "refused"]),
        ({"scenario": "register_refuse"}, ["sent", "registered", "refused"]),
        ({"scenario": "pay"}, ["sent", "accepted", "paid"]),
        ({"scenario": "fail"}, ["error"]),
        ({"email": "ap+sim-refuse@client.example"}, ["sent", "refused"]),
        ({"name": "Client that pays [sim:pay]"}, ["sent", "accepted", "paid"]),
    ],
)
def test_forced_advance_walks_the_scenario(account: Account, contact: dict, states: list[str]) -> None:
    invoice = sent_invoice(account, **contact)
    seen = []
    for _ in states:
        response = advance(account, invoice["id"])
        assert response.status_code == 200
        seen.append(response.json()["invoice"]["state"])
    assert seen == states
    final = state_of(account, invoice["id"])
    assert final["state"] == states[-1]
    if states[-1] == "refused":
        assert "Refused by the simulated recipient" in final["refuse_reason"]
    if states[-1] == "error":
        assert final["errors"] == ["Simulated delivery failure: the recipient's access point rejected the document"]
    end = advance(account, invoice["id"])
    assert end.status_code == 409


def test_worker_runs_the_scenario_in_the_background(account: Account, instant_tasks: None) -> None:
    invoice = sent_invoice(account, scenario="pay")
    run_worker()
    assert state_of(account, invoice["id"])["state"] == "paid"


def test_delayed_steps_wait_for_their_time(account: Account, settings: Any) -> None:
    settings.B2BROUTER_SIM_STEP_DELAY = 3600
    invoice = sent_invoice(account)
    run_worker()
    assert state_of(account, invoice["id"])["state"] == "sending"  # not due yet
    assert advance(account, invoice["id"]).json()["invoice"]["state"] == "sent"


def test_send_after_import(account: Account, instant_tasks: None) -> None:
    contact = account.contact(scenario="register")
    response = account.create_invoice(send_after_import=True, number="S-1", contact_id=contact["id"],
                                      invoice_lines_attributes=[line()])
    assert response.status_code == 201
    assert response.json()["invoice"]["state"] == "sending"
    run_worker()
    assert state_of(account, response.json()["invoice"]["id"])["state"] == "registered"


def test_state_changes_bump_timestamps_and_count_transactions(account: Account) -> None:
    invoice = sent_invoice(account)
    after_send = state_of(account, invoice["id"])
    assert after_send["state_updated_at"] > invoice["state_updated_at"]
    assert after_send["updated_at"] == after_send["state_updated_at"]
    advance(account, invoice["id"])
    after_sent = state_of(account, invoice["id"])
    assert after_sent["state_updated_at"] > after_send["state_updated_at"]
    assert account.call("GET", f"accounts/{account.id}").json()["account"]["transactions_count"] == 1


def test_update_and_delete_only_in_new_and_error(account: Account) -> None:
    invoice = sent_invoice(account, scenario="fail")
    for method, body in [("PUT", {"invoice": {"extra_info": "late change"}}), ("DELETE", None)]:
        response = account.call(method, f"invoices/{invoice['id']}", body)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
    assert account.call("POST", f"invoices/send_invoice/{invoice['id']}").status_code == 409  # already sending
    advance(account, invoice["id"])  # -> error
    assert account.call("PUT", f"invoices/{invoice['id']}", {"invoice": {"extra_info": "fixed"}}).status_code == 200
    # An invoice in error can be sent again.
    account.call("PUT", f"contacts/{invoice['contact_id']}", {"contact": {"scenario": "accept"}})
    resend = account.call("POST", f"invoices/send_invoice/{invoice['id']}")
    assert resend.status_code == 200
    assert resend.json()["invoice"]["errors"] == []
    assert advance(account, invoice["id"]).json()["invoice"]["state"] == "sent"


def test_delete_new_invoice(account: Account) -> None:
    invoice = account.invoice()
    assert account.call("DELETE", f"invoices/{invoice['id']}").status_code == 200
    assert account.call("GET", f"invoices/{invoice['id']}").status_code == 404


@pytest.mark.parametrize("target", ["sent", "accepted", "refused", "paid", "closed", "registered"])
def test_mark_as(account: Account, target: str) -> None:
    invoice = sent_invoice(account)
    response = account.call("POST", f"invoices/{invoice['id']}/mark_as", {"state": target, "reason": "By phone"})
    assert response.status_code == 200
    body = response.json()["invoice"]
    assert body["state"] == target
    assert body["refuse_reason"] == ("By phone" if target == "refused" else None)
    # A manual state ends the automatic flow.
    assert advance(account, invoice["id"]).status_code == 409


def test_mark_as_rejects_other_states(account: Account) -> None:
    invoice = account.invoice()
    for body in [{"state": "sending"}, {"state": "deleted"}, {}]:
        response = account.call("POST", f"invoices/{invoice['id']}/mark_as", body)
        assert response.status_code == 422
        assert response.json()["error"]["param"] == "state"


def test_validate(account: Account) -> None:
    good = account.invoice()
    assert account.call("GET", f"invoices/{good['id']}/validate").json()["valid"] is True
    nameless = account.contact(tin_value="FR40303265045", country="")
    bad = account.invoice(number="INV-2", contact_id=nameless["id"])
    body = account.call("GET", f"invoices/{bad['id']}/validate").json()
    assert body["valid"] is False
    assert body["errors"] == ["Contact country can't be blank"]


def test_advance_unknown_invoice_is_404(account: Account) -> None:
    response = advance(account, 424242)
    assert response.status_code == 404
    assert response["X-B2B-API-Request-Id"]
