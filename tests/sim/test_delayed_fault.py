"""The "apply later" fault: a create or send applied only after a delay, its answer lost first."""

from __future__ import annotations

import json
import time
from typing import Any

from b2brouter_sim.tasks import apply_deferred
from tests.sim.conftest import Account, line
from tests.sim.test_faults import set_faults
from tests.sim.test_openapi import conform, spec  # noqa: F401 (fixture)


def found(account: Account, number: str) -> list[dict[str, Any]]:
    response = account.call("GET", f"accounts/{account.id}/invoices", number=number)
    assert response.status_code == 200, response.content
    return response.json()["invoices"]


def deferred(account: Account) -> list[dict[str, Any]]:
    response = account.sim.client.get(f"/sim/_control/accounts/{account.id}/deferred", HTTP_X_B2B_API_KEY=account.key)
    assert response.status_code == 200, response.content
    return response.json()["deferred"]


def apply_now(account: Account) -> list[dict[str, Any]]:
    response = account.sim.client.post(f"/sim/_control/accounts/{account.id}/deferred/apply",
                                       HTTP_X_B2B_API_KEY=account.key)
    assert response.status_code == 200, response.content
    return response.json()["deferred"]


# Long enough that the requests made before the wait never outlast it, even on a loaded machine.
DELAY = 4


def test_a_create_is_applied_only_after_the_delay(account: Account) -> None:
    contact = account.contact()
    set_faults(account, apply_later_rate=1, apply_later_delay=DELAY, no_answer_delay=0)
    started = time.monotonic()
    response = account.create_invoice(number="AL-1", contact_id=contact["id"], invoice_lines_attributes=[line()])
    # The answer is lost like a no-answer one: over a socket the caller times out.
    assert response.status_code == 201 and response["X-Sim-Fault"] == "no-answer"
    assert response.json()["invoice"]["number"] == "AL-1"  # what it would have answered
    # Nothing exists yet: a lookup finds nothing, however often it asks.
    assert found(account, "AL-1") == [] and found(account, "AL-1") == []
    [held] = deferred(account)
    assert held["kind"] == "create" and held["status"] == "pending" and held["applied_at"] is None
    time.sleep(max(0.0, started + DELAY + 0.1 - time.monotonic()))
    # The account's next request applies it first, then answers.
    [invoice] = found(account, "AL-1")
    assert invoice["state"] == "new" and invoice["total"] in ("121.00", 121)
    [held] = deferred(account)
    assert held["status"] == "applied" and held["result"]["invoice_id"] == invoice["id"]
    assert len(found(account, "AL-1")) == 1  # applied once


def test_a_send_is_applied_later_and_reads_new_until_then(account: Account) -> None:
    contact = account.contact()
    set_faults(account, apply_later_rate=1, apply_later_delay=600, apply_later_operations=["send"], no_answer_delay=0)
    # Only sends are held back: the create goes through and is answered.
    created = account.create_invoice(number="AL-2", contact_id=contact["id"], invoice_lines_attributes=[line()])
    assert created.status_code == 201 and "X-Sim-Fault" not in created
    invoice_id = created.json()["invoice"]["id"]
    sent = account.call("POST", f"invoices/send_invoice/{invoice_id}")
    assert sent.status_code == 200 and sent["X-Sim-Fault"] == "no-answer"
    assert account.call("GET", f"invoices/{invoice_id}").json()["invoice"]["state"] == "new"
    [applied] = apply_now(account)  # the control surface applies it without waiting
    assert applied["kind"] == "send" and applied["status"] == "applied" and applied["result"]["state"] == "sending"
    assert account.call("GET", f"invoices/{invoice_id}").json()["invoice"]["state"] == "sending"
    assert account.call("GET", f"accounts/{account.id}").json()["account"]["transactions_count"] == 1


def test_the_task_applies_what_is_due_and_nothing_earlier(account: Account) -> None:
    contact = account.contact()
    set_faults(account, apply_later_rate=1, apply_later_delay=DELAY, no_answer_delay=0)
    started = time.monotonic()
    account.create_invoice(number="AL-3", contact_id=contact["id"], invoice_lines_attributes=[line()])
    assert apply_deferred.call(account.id) == 0
    time.sleep(max(0.0, started + DELAY + 0.1 - time.monotonic()))
    assert apply_deferred.call(account.id) == 1
    assert deferred(account)[0]["status"] == "applied"
    set_faults(account)
    assert len(found(account, "AL-3")) == 1


def test_a_held_create_whose_number_was_taken_meanwhile_fails_when_applied(account: Account) -> None:
    contact = account.contact()
    set_faults(account, apply_later_rate=1, apply_later_delay=600, no_answer_delay=0)
    account.create_invoice(number="AL-4", contact_id=contact["id"], invoice_lines_attributes=[line()])
    set_faults(account)
    # A retry that did not look first: it is created at once, so the held one cannot be any more.
    retry = account.create_invoice(number="AL-4", contact_id=contact["id"], invoice_lines_attributes=[line()])
    assert retry.status_code == 201
    [held] = apply_now(account)
    assert held["status"] == "failed" and held["result"]["code"] == "parameter_taken"
    assert len(found(account, "AL-4")) == 1


def test_a_refused_request_is_answered_at_once_and_never_held(account: Account) -> None:
    contact = account.contact()
    set_faults(account, apply_later_rate=1, apply_later_delay=600, no_answer_delay=0)
    response = account.create_invoice(number="AL-5", contact_id=contact["id"], invoice_lines_attributes=[])
    assert response.status_code == 422 and "X-Sim-Fault" not in response
    # Reads and other writes are not held either.
    assert account.call("GET", f"accounts/{account.id}").status_code == 200
    renamed = account.call("PUT", f"contacts/{contact['id']}", {"contact": {"name": "Renamed"}})
    assert renamed.status_code == 200 and "X-Sim-Fault" not in renamed
    assert deferred(account) == []


def test_apply_later_settings_are_checked(account: Account) -> None:
    for faults in [{"apply_later_rate": "1.5"}, {"apply_later_operations": ["delete"]},
                   {"apply_later_operations": "create"}, {"apply_later_delay": -1}]:
        response = account.sim.client.put(f"/sim/_control/accounts/{account.id}/faults", json.dumps(faults),
                                          content_type="application/json", HTTP_X_B2B_API_KEY=account.key)
        assert response.status_code == 422, faults
    stored = set_faults(account, apply_later_rate="0.5", apply_later_operations=["send", "create"])
    assert stored["apply_later_rate"] == "0.5" and stored["apply_later_operations"] == ["create", "send"]
    assert stored["apply_later_delay"] == 60


def test_the_deferred_listing_needs_the_accounts_own_key(sim, account: Account) -> None:
    url = f"/sim/_control/accounts/{account.id}/deferred"
    assert sim.client.get(url).status_code == 401
    _, other_key = sim.new_account(tin_value="ESA28017895")
    assert sim.client.get(url, HTTP_X_B2B_API_KEY=other_key).status_code == 404
    assert sim.client.post(url + "/apply", HTTP_X_B2B_API_KEY=other_key).status_code == 404


def test_the_control_answers_and_the_faults_conform_to_the_openapi_document(spec, sim, account: Account) -> None:
    contact = account.contact()
    faults = sim.client.put(f"/sim/_control/accounts/{account.id}/faults", json.dumps(
        {"apply_later_rate": 1, "apply_later_delay": 600, "apply_later_operations": ["create"], "no_answer_delay": 0}),
        content_type="application/json", HTTP_X_B2B_API_KEY=account.key)
    conform(spec, "/_control/accounts/{account_id}/faults", "PUT", faults)
    account.create_invoice(number="AL-6", contact_id=contact["id"], invoice_lines_attributes=[line()])
    url = f"/sim/_control/accounts/{account.id}/deferred"
    conform(spec, "/_control/accounts/{account_id}/deferred", "GET", sim.client.get(url, HTTP_X_B2B_API_KEY=account.key))
    conform(spec, "/_control/accounts/{account_id}/deferred", "GET", sim.client.get(url))  # 401
    applied = sim.client.post(url + "/apply", HTTP_X_B2B_API_KEY=account.key)
    conform(spec, "/_control/accounts/{account_id}/deferred/apply", "POST", applied)
    assert applied.json()["deferred"][0]["status"] == "applied"
