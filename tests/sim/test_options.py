"""Per-account simulator options: minimal answers, and documents generated asynchronously."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from tests.sim.conftest import Account, Sim, line
from tests.sim.test_documents import NS
from tests.sim.test_states import run_worker, sent_invoice
from tests.sim.test_webhooks import Recorder, recorder, register  # noqa: F401 - recorder is a fixture

try:
    from b2brouter.webhooks import verify
except ImportError:  # pragma: no cover - the client package is written alongside
    verify = None


def options_url(account: Account) -> str:
    return f"/sim/_control/accounts/{account.id}/options"


def set_options(account: Account, **options: Any) -> Any:
    return account.sim.client.put(options_url(account), json.dumps({"options": options}), content_type="application/json",
                                  HTTP_X_B2B_API_KEY=account.key)


@pytest.fixture
def minimal(sim: Sim) -> Account:
    data, key = sim.new_account(minimal_answers=True)
    return Account(sim, data, key)


# --- the options themselves ---------------------------------------------------------------------


def test_options_default_off_and_are_set_at_creation(sim: Sim) -> None:
    plain = sim.client.post("/sim/_control/accounts").json()
    assert plain["options"] == {"minimal_answers": False, "document_delay_seconds": 0}
    body = sim.client.post("/sim/_control/accounts", json.dumps({"account": {"minimal_answers": True, "document_delay_seconds": 3}}),
                           content_type="application/json").json()
    assert body["options"] == {"minimal_answers": True, "document_delay_seconds": 3}
    # They are the simulator's, not B2Brouter's: the API's account does not show them.
    assert "minimal_answers" not in body["account"]


def test_options_are_changed_with_the_accounts_key(sim: Sim, account: Account) -> None:
    assert sim.client.get(options_url(account)).status_code == 401
    _, other_key = sim.new_account(tin_value="ESA28017895")
    assert sim.client.get(options_url(account), HTTP_X_B2B_API_KEY=other_key).status_code == 404
    response = set_options(account, minimal_answers=True)
    assert response.json()["options"] == {"minimal_answers": True, "document_delay_seconds": 0}
    response = set_options(account, document_delay_seconds=5)  # the other option keeps its value
    assert response.json()["options"] == {"minimal_answers": True, "document_delay_seconds": 5}
    read = sim.client.get(options_url(account), HTTP_X_B2B_API_KEY=account.key)
    assert read.json()["options"] == {"minimal_answers": True, "document_delay_seconds": 5}
    for bad, param in [({"minimal_answers": "maybe"}, "minimal_answers"), ({"document_delay_seconds": -1}, "document_delay_seconds"),
                       ({"document_delay_seconds": 7200}, "document_delay_seconds"), ({"typo": 1}, "typo")]:
        response = set_options(account, **bad)
        assert response.status_code == 422, bad
        assert response.json()["error"]["param"] == param


def test_sim_account_command_takes_the_options(sim: Sim) -> None:
    out = StringIO()
    call_command("sim_account", "--json", "--tin-value", "ESB12345674", "--minimal-answers", "--document-delay-seconds", "4",
                 stdout=out)
    body = json.loads(out.getvalue())
    assert body["options"] == {"minimal_answers": True, "document_delay_seconds": 4}
    out = StringIO()
    call_command("sim_account", "--json", "--minimal_answers", "false", stdout=out)
    assert json.loads(out.getvalue())["options"]["minimal_answers"] is False


# --- minimal answers ----------------------------------------------------------------------------


def test_minimal_answers_leave_out_the_tax_category(minimal: Account) -> None:
    taxes = [{"name": "IVA", "category": "S", "percent": "21"}, {"name": "IRPF", "category": "S", "percent": "-15"}]
    created = minimal.invoice(invoice_lines_attributes=[line(taxes_attributes=taxes)])
    expected = [{"name": "IVA", "percent": "21", "base": "100.00", "amount": "21.00"},
                {"name": "IRPF", "percent": "-15", "base": "100.00", "amount": "-15.00"}]
    assert created["taxes"] == expected
    assert minimal.call("GET", f"invoices/{created['id']}").json()["invoice"]["taxes"] == expected
    listed = minimal.call("GET", f"accounts/{minimal.id}/invoices").json()["invoices"][0]
    assert listed["taxes"] == expected


def test_without_the_option_the_category_is_there(account: Account) -> None:
    assert account.invoice()["taxes"][0]["category"] == "S"
    set_options(account, minimal_answers=True)
    assert "category" not in account.call("GET", f"accounts/{account.id}/invoices").json()["invoices"][0]["taxes"][0]


def test_minimal_answers_leave_out_the_webhook_event_id(minimal: Account, recorder: Recorder, instant_tasks: None) -> None:
    hook = register(minimal)
    invoice = sent_invoice(minimal, scenario="pay")
    run_worker()
    events = [json.loads(r.content) for r in recorder.requests]
    assert [e["data"]["state"] for e in events] == ["sending", "sent", "accepted", "paid"]
    for event, request in zip(events, recorder.requests, strict=True):
        assert set(event["data"]) == {"invoice_id", "state", "notes"}
        assert event["data"]["invoice_id"] == invoice["id"]
        if verify is not None:
            assert verify(request.content, request.headers["X-B2Brouter-Signature"], hook["signing_secret"])
    # Each event has its own (invoice_id, state, triggered_at), the key receivers de-duplicate on.
    keys = {(e["data"]["invoice_id"], e["data"]["state"], e["triggered_at"]) for e in events}
    assert len(keys) == len(events)


def test_a_retried_delivery_repeats_the_same_key(minimal: Account, recorder: Recorder, instant_tasks: None) -> None:
    register(minimal)
    recorder.statuses = [500, 200]
    sent_invoice(minimal, scenario="stay")
    run_worker()
    run_worker()
    bodies = [json.loads(r.content) for r in recorder.requests]
    sending = [b for b in bodies if b["data"]["state"] == "sending"]
    assert len(sending) == 2  # the first attempt failed, the retry carries the same payload
    assert sending[0] == sending[1]


def test_the_same_state_twice_in_a_second_gets_two_keys(minimal: Account, recorder: Recorder, instant_tasks: None) -> None:
    # fail -> error, send again -> sending, error: the repeated states must not collide on the key.
    register(minimal)
    invoice = sent_invoice(minimal, scenario="fail")
    run_worker()
    assert minimal.call("POST", f"invoices/send_invoice/{invoice['id']}").status_code == 200
    run_worker()
    events = [json.loads(r.content) for r in recorder.requests]
    assert [e["data"]["state"] for e in events] == ["sending", "error", "sending", "error"]
    keys = {(e["data"]["invoice_id"], e["data"]["state"], e["triggered_at"]) for e in events}
    assert len(keys) == 4


# --- documents generated asynchronously ---------------------------------------------------------


def test_a_download_right_after_creation_is_404_until_the_document_is_generated(sim: Sim) -> None:
    data, key = sim.new_account(document_delay_seconds=1)
    account = Account(sim, data, key)
    invoice = account.invoice()
    for document in ("pdf.invoice", "xml.ubl.invoice.bis3"):
        early = account.call("GET", f"invoices/{invoice['id']}/as/{document}")
        assert early.status_code == 404
        assert early.json()["error"] == {"code": "resource_missing", "message": "Invoice not found",
                                         "type": "invalid_request_error"}
        assert early["X-Sim-Fault"] == "document-pending"
        assert early["X-B2B-API-Request-Id"]
    # The invoice itself is there at once.
    assert account.call("GET", f"invoices/{invoice['id']}").status_code == 200
    time.sleep(1.05)
    ready = account.call("GET", f"invoices/{invoice['id']}/as/pdf.invoice")
    assert ready.status_code == 200 and ready.content.startswith(b"%PDF")
    # A change regenerates the documents: 404 again for a while.
    assert account.call("PUT", f"invoices/{invoice['id']}", {"invoice": {"extra_info": "changed"}}).status_code == 200
    assert account.call("GET", f"invoices/{invoice['id']}/as/pdf.invoice").status_code == 404


def test_without_a_delay_documents_are_ready_at_once(account: Account) -> None:
    invoice = account.invoice()
    assert account.call("GET", f"invoices/{invoice['id']}/as/pdf.invoice").status_code == 200


def test_documents_and_pages_work_under_minimal_answers(minimal: Account) -> None:
    invoice = minimal.invoice()
    ubl = minimal.call("GET", f"invoices/{invoice['id']}/as/xml.ubl.invoice.bis3")
    assert ubl.status_code == 200
    root = ET.fromstring(ubl.content)
    assert root.findtext("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID", namespaces=NS) == "S"
    assert minimal.call("GET", f"invoices/{invoice['id']}/as/pdf.invoice").content.startswith(b"%PDF")
    minimal.sim.sign_in()
    page = minimal.sim.client.get(f"/sim/app/invoices/{invoice['id']}")
    assert page.status_code == 200
    assert "IVA 21% on 100.00" in page.content.decode()
