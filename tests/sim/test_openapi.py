"""The OpenAPI description is valid and the simulator's real responses conform to it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

from tests.sim.conftest import Account, Sim, line


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    from django.test import Client

    response = Client().get("/sim/openapi.yaml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    return yaml.safe_load(response.content)


def test_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)


def conform(spec: dict[str, Any], template: str, method: str, response: Any) -> None:
    """Validate a response body against the schema the document gives for it."""
    declared = spec["paths"][template][method.lower()]["responses"][str(response.status_code)]
    if "$ref" in declared:
        declared = spec["components"]["responses"][declared["$ref"].rsplit("/", 1)[-1]]
    schema = declared["content"]["application/json"]["schema"]
    jsonschema.validate(response.json(), {**schema, "components": spec["components"]},
                        cls=jsonschema.Draft202012Validator)


def test_responses_conform(spec: dict[str, Any], sim: Sim, account: Account) -> None:
    aid = account.id
    conform(spec, "/accounts", "GET", account.call("GET", "accounts"))
    conform(spec, "/accounts/{account_id}", "GET", account.call("GET", f"accounts/{aid}"))
    conform(spec, "/accounts/{account_id}", "PUT", account.call("PUT", f"accounts/{aid}", {"account": {"round_before_sum": False}}))
    conform(spec, "/accounts/{account_id}", "PUT", account.call("PUT", f"accounts/{aid}", {"account": {"tin_value": "X1"}}))
    created = account.call("POST", f"accounts/{aid}/contacts", {"contact": {"name": "A", "tin_value": "DE136695976", "country": "de"}})
    conform(spec, "/accounts/{account_id}/contacts", "POST", created)
    cid = created.json()["contact"]["id"]
    conform(spec, "/accounts/{account_id}/contacts", "GET", account.call("GET", f"accounts/{aid}/contacts"))
    conform(spec, "/contacts/{contact_id}", "GET", account.call("GET", f"contacts/{cid}"))
    conform(spec, "/contacts/{contact_id}", "GET", account.call("GET", "contacts/999999"))
    body = {"invoice": {
        "number": "O-1", "contact_id": cid, "due_date": "2030-01-01",
        "invoice_lines_attributes": [line(allowance_charges_attributes=[{"allowance_charge_indicator": "charge", "amount": "3"}])],
        "allowance_charges_attributes": [{"allowance_charge_indicator": "allowance", "percentage": "2"}],
        "payment_method": 4, "bank_account": {"type": "iban", "iban": "ES9121000418450200051332"}}}
    invoice = account.call("POST", f"accounts/{aid}/invoices", body)
    conform(spec, "/accounts/{account_id}/invoices", "POST", invoice)
    conform(spec, "/accounts/{account_id}/invoices", "POST", account.call("POST", f"accounts/{aid}/invoices", body))  # 422
    iid = invoice.json()["invoice"]["id"]
    conform(spec, "/accounts/{account_id}/invoices", "GET", account.call("GET", f"accounts/{aid}/invoices"))
    conform(spec, "/invoices/{invoice_id}", "GET", account.call("GET", f"invoices/{iid}"))
    conform(spec, "/invoices/{invoice_id}", "PUT", account.call("PUT", f"invoices/{iid}", {"invoice": {"extra_info": "x"}}))
    conform(spec, "/invoices/{invoice_id}/validate", "GET", account.call("GET", f"invoices/{iid}/validate"))
    conform(spec, "/invoices/send_invoice/{invoice_id}", "POST", account.call("POST", f"invoices/send_invoice/{iid}"))
    conform(spec, "/invoices/{invoice_id}", "PUT", account.call("PUT", f"invoices/{iid}", {"invoice": {"extra_info": "y"}}))  # 409
    conform(spec, "/_control/invoices/{invoice_id}/advance", "POST", sim.client.post(f"/sim/_control/invoices/{iid}/advance"))
    conform(spec, "/invoices/{invoice_id}/mark_as", "POST", account.call("POST", f"invoices/{iid}/mark_as", {"state": "refused"}))
    conform(spec, "/invoices/{invoice_id}/as/{document_type}", "GET", account.call("GET", f"invoices/{iid}/as/nope"))
    hook = account.call("POST", "web_hooks", {"web_hook": {"url": "http://127.0.0.1:9/h"}})
    conform(spec, "/web_hooks", "POST", hook)
    conform(spec, "/web_hooks", "GET", account.call("GET", "web_hooks"))
    conform(spec, "/web_hooks/{web_hook_id}", "GET", account.call("GET", f"web_hooks/{hook.json()['web_hook']['id']}"))
    conform(spec, "/_control/accounts", "POST", sim.client.post("/sim/_control/accounts"))
    faults = sim.client.put(f"/sim/_control/accounts/{aid}/faults", json.dumps({"latency_ms": 0}),
                            content_type="application/json", HTTP_X_B2B_API_KEY=account.key)
    conform(spec, "/_control/accounts/{account_id}/faults", "PUT", faults)
    conform(spec, "/accounts", "GET", account.call("GET", "accounts", version=None))  # 400


def test_webhook_payload_conforms(spec: dict[str, Any]) -> None:
    payload = {"code": "issued_invoice.state_change", "triggered_at": 1, "data": {"invoice_id": 1, "event_id": 2,
                                                                                  "state": "sent", "notes": None}}
    jsonschema.validate(payload, {"$ref": "#/components/schemas/WebhookEvent", "components": spec["components"]})


CONTRACT_OPERATIONS = {
    ("/accounts", "get"), ("/accounts/{account_id}", "get"), ("/accounts/{account_id}", "put"),
    ("/accounts/{account_id}/contacts", "get"), ("/accounts/{account_id}/contacts", "post"),
    ("/contacts/{contact_id}", "get"), ("/contacts/{contact_id}", "put"), ("/contacts/{contact_id}", "delete"),
    ("/accounts/{account_id}/invoices", "get"), ("/accounts/{account_id}/invoices", "post"),
    ("/invoices/{invoice_id}", "get"), ("/invoices/{invoice_id}", "put"), ("/invoices/{invoice_id}", "delete"),
    ("/invoices/{invoice_id}/validate", "get"), ("/invoices/send_invoice/{invoice_id}", "post"),
    ("/invoices/{invoice_id}/mark_as", "post"), ("/invoices/{invoice_id}/as/{document_type}", "get"),
    ("/web_hooks", "post"),
}


def operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}


def test_every_operation_declares_its_errors(spec: dict[str, Any]) -> None:
    api = {op for op in operations(spec) if not op[0].startswith("/_control")}
    assert CONTRACT_OPERATIONS <= api
    for path, method in api:
        declared = set(spec["paths"][path][method]["responses"])
        # Every keyed call can meet a version or parameter error, a bad key, the rate limit and a 500.
        assert {"400", "401", "429", "500"} <= declared, (path, method)
        if "{" in path:
            assert "404" in declared, (path, method)
    assert "Retry-After" in spec["components"]["responses"]["RateLimited"]["headers"]


def test_error_and_delete_responses_conform(spec: dict[str, Any], sim: Sim, account: Account) -> None:
    aid = account.id
    conform(spec, "/accounts/{account_id}", "GET", account.call("GET", "accounts/999999"))
    conform(spec, "/accounts/{account_id}/invoices", "GET", sim.call("GET", f"accounts/{aid}/invoices", "sim_wrong"))  # 401
    conform(spec, "/accounts/{account_id}/invoices", "GET", account.call("GET", f"accounts/{aid}/invoices", limit="x"))
    created = account.call("POST", f"accounts/{aid}/contacts", {"contact": {"name": "A", "tin_value": "DE136695976"}})
    cid = created.json()["contact"]["id"]
    conform(spec, "/accounts/{account_id}/contacts", "POST", account.call(
        "POST", f"accounts/{aid}/contacts", {"contact": {"name": "B", "tin_value": "DE136695976"}}))  # 422 taken
    conform(spec, "/contacts/{contact_id}", "PUT", account.call("PUT", f"contacts/{cid}", {"contact": {"name": ""}}))
    body = {"invoice": {"number": "E-1", "contact_id": cid, "invoice_lines_attributes": [line()]}}
    iid = account.call("POST", f"accounts/{aid}/invoices", body).json()["invoice"]["id"]
    conform(spec, "/contacts/{contact_id}", "DELETE", account.call("DELETE", f"contacts/{cid}"))  # 409
    conform(spec, "/invoices/{invoice_id}/mark_as", "POST", account.call("POST", f"invoices/{iid}/mark_as", {"state": "x"}))
    conform(spec, "/_control/invoices/{invoice_id}/advance", "POST", sim.client.post(f"/sim/_control/invoices/{iid}/advance"))
    conform(spec, "/_control/invoices/{invoice_id}/advance", "POST", sim.client.post("/sim/_control/invoices/999999/advance"))
    conform(spec, "/invoices/{invoice_id}", "DELETE", account.call("DELETE", f"invoices/{iid}"))
    conform(spec, "/invoices/{invoice_id}", "GET", account.call("GET", f"invoices/{iid}"))  # 404 now
    conform(spec, "/contacts/{contact_id}", "DELETE", account.call("DELETE", f"contacts/{cid}"))
    hook = account.call("POST", "web_hooks", {"web_hook": {"url": "http://127.0.0.1:9/h"}}).json()["web_hook"]
    conform(spec, "/web_hooks", "POST", account.call("POST", "web_hooks", {"web_hook": {"url": ""}}))  # 422
    conform(spec, "/web_hooks/{web_hook_id}", "DELETE", account.call("DELETE", f"web_hooks/{hook['id']}"))
    conform(spec, "/web_hooks/{web_hook_id}", "GET", account.call("GET", f"web_hooks/{hook['id']}"))  # 404
    conform(spec, "/_control/accounts", "POST", sim.client.post("/sim/_control/accounts", json.dumps({"rounding_method": "up"}),
                                                               content_type="application/json"))
    url = f"/sim/_control/accounts/{aid}/faults"
    conform(spec, "/_control/accounts/{account_id}/faults", "GET", sim.client.get(url, HTTP_X_B2B_API_KEY=account.key))
    conform(spec, "/_control/accounts/{account_id}/faults", "GET", sim.client.get(url))  # 401
    conform(spec, "/_control/accounts/{account_id}/faults", "PUT", sim.client.put(
        url, json.dumps({"typo": 1}), content_type="application/json", HTTP_X_B2B_API_KEY=account.key))  # 422
    sim.client.put(url, json.dumps({"error_rate": 1}), content_type="application/json", HTTP_X_B2B_API_KEY=account.key)
    conform(spec, "/accounts", "GET", account.call("GET", "accounts"))  # 500
    sim.client.put(url, json.dumps({"rate_limit": {"requests": 0, "per_seconds": 60}}), content_type="application/json",
                   HTTP_X_B2B_API_KEY=account.key)
    limited = account.call("GET", "accounts")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    conform(spec, "/accounts", "GET", limited)


def test_new_surfaces_conform(spec: dict[str, Any], sim: Sim, account: Account) -> None:
    aid = account.id
    options = f"/sim/_control/accounts/{aid}/options"
    conform(spec, "/_control/accounts/{account_id}/options", "GET", sim.client.get(options, HTTP_X_B2B_API_KEY=account.key))
    conform(spec, "/_control/accounts/{account_id}/options", "GET", sim.client.get(options))  # 401
    conform(spec, "/_control/accounts/{account_id}/options", "PUT", sim.client.put(
        options, json.dumps({"options": {"minimal_answers": True, "document_delay_seconds": 1}}),
        content_type="application/json", HTTP_X_B2B_API_KEY=account.key))
    conform(spec, "/_control/accounts/{account_id}/options", "PUT", sim.client.put(
        options, json.dumps({"typo": 1}), content_type="application/json", HTTP_X_B2B_API_KEY=account.key))  # 422
    directory = "/_control/directory/{country}/{scheme}/{id}"
    conform(spec, directory, "PUT", sim.client.put("/sim/_control/directory/de/9930/DE136695976", json.dumps({"name": "N"}),
                                                   content_type="application/json"))
    conform(spec, directory, "PUT", sim.client.put("/sim/_control/directory/xx1/9930/DE1", "{}", content_type="application/json"))
    conform(spec, "/directory/{country}/{scheme}/{id}", "GET", account.call("GET", "directory/de/9930/DE136695976"))
    conform(spec, "/directory/{country}/{scheme}/{id}", "GET", account.call("GET", "directory/de/9930/DE1"))  # 404
    conform(spec, directory, "DELETE", sim.client.delete("/sim/_control/directory/de/9930/DE136695976"))
    conform(spec, directory, "DELETE", sim.client.delete("/sim/_control/directory/de/9930/DE136695976"))  # 404
    # Minimal answers (no taxes[].category), a simplified invoice, units, the delete flag.
    body = {"invoice": {"type": "IssuedSimplifiedInvoice", "contact": {"name": "Cliente final", "country": "ES"},
                        "invoice_lines_attributes": [line(unit=2)]}}
    created = account.call("POST", f"accounts/{aid}/invoices", body)
    conform(spec, "/accounts/{account_id}/invoices", "POST", created)
    assert "category" not in created.json()["invoice"]["taxes"][0]
    iid = created.json()["invoice"]["id"]
    conform(spec, "/accounts/{account_id}/invoices", "GET", account.call("GET", f"accounts/{aid}/invoices", type="Nope"))
    conform(spec, "/accounts", "GET", account.call("GET", "accounts", query="country=es"))
    conform(spec, "/accounts", "GET", account.call("GET", "accounts", query="nonsense"))  # 400
    conform(spec, "/invoices/{invoice_id}/as/{document_type}", "GET", account.call("GET", f"invoices/{iid}/as/pdf.invoice"))  # 404 pending
    conform(spec, "/invoices/{invoice_id}/mark_as", "POST", account.call("POST", f"invoices/{iid}/mark_as", {"state": "new"}))
    conform(spec, "/invoices/{invoice_id}", "DELETE", account.call("DELETE", f"invoices/{iid}"))
    conform(spec, "/accounts/{account_id}", "PUT", account.call("PUT", f"accounts/{aid}", {"account": {"city": "Madrid"}}))
    contact = account.call("POST", f"accounts/{aid}/contacts", {"contact": {"name": "A", "tin_value": "DE136695976",
                                                                            "phone": "1", "transport_type_code": "peppol"}})
    conform(spec, "/accounts/{account_id}/contacts", "POST", contact)
    conform(spec, "/contacts/{contact_id}", "DELETE", account.call("DELETE", f"contacts/{contact.json()['contact']['id']}"))


def test_minimal_webhook_payload_conforms(spec: dict[str, Any]) -> None:
    payload = {"code": "issued_invoice.state_change", "triggered_at": 1, "data": {"invoice_id": 1, "state": "new", "notes": None}}
    jsonschema.validate(payload, {"$ref": "#/components/schemas/WebhookEvent", "components": spec["components"]})


def test_tax_report_responses_conform(spec: dict[str, Any], sim: Sim, account: Account) -> None:
    aid = account.id
    settings_path = "/accounts/{account_id}/tax_report_settings"
    conform(spec, settings_path + "/{code}", "GET", account.call("GET", f"accounts/{aid}/tax_report_settings/verifactu"))
    created = account.call("POST", f"accounts/{aid}/tax_report_settings",
                           {"tax_report_setting": {"code": "verifactu", "start_date": "2026-01-01"}})
    conform(spec, settings_path, "POST", created)
    conform(spec, settings_path, "POST", account.call("POST", f"accounts/{aid}/tax_report_settings",
                                                      {"tax_report_setting": {"code": "verifactu"}}))  # 422
    conform(spec, settings_path, "GET", account.call("GET", f"accounts/{aid}/tax_report_settings"))
    conform(spec, settings_path + "/{code}", "PUT", account.call("PUT", f"accounts/{aid}/tax_report_settings/verifactu",
                                                                 {"tax_report_setting": {"credit_note_code": "R4"}}))
    contact = account.contact(name="Cliente S.L.", tin_value="ESB76543210", country="es")
    invoice = account.create_invoice(send_after_import=True, number="V-1", date="2026-02-01",
                                     contact_id=contact["id"], invoice_lines_attributes=[line()])
    conform(spec, "/accounts/{account_id}/invoices", "POST", invoice)
    rid = invoice.json()["invoice"]["tax_report_ids"][0]
    conform(spec, "/tax_reports/{tax_report_id}", "GET", account.call("GET", f"tax_reports/{rid}"))
    conform(spec, "/tax_reports/{tax_report_id}", "GET", account.call("GET", "tax_reports/999999"))
    conform(spec, "/tax_reports/{tax_report_id}", "PATCH", account.call("PATCH", f"tax_reports/{rid}",
                                                                        {"tax_report": {"description": "x"}}))  # 409
    conform(spec, "/_control/tax_reports/{tax_report_id}/advance", "POST",
            sim.client.post(f"/sim/_control/tax_reports/{rid}/advance"))
    conform(spec, "/tax_reports/{tax_report_id}", "PATCH", account.call("PATCH", f"tax_reports/{rid}",
                                                                        {"tax_report": {"description": "Corrected"}}))
    conform(spec, "/tax_reports/{tax_report_id}", "DELETE", account.call("DELETE", f"tax_reports/{rid}"))
    conform(spec, "/accounts/{account_id}/tax_reports", "GET", account.call("GET", f"accounts/{aid}/tax_reports"))
    direct = account.call("POST", f"accounts/{aid}/tax_reports", {"tax_report": {
        "type": "Verifactu", "invoice_number": "T-1", "invoice_date": "2026-02-02", "invoice_type_code": "F2",
        "tax_inclusive_amount": "12.10", "tax_amount": "2.10",
        "tax_breakdowns": [{"category": "S", "percent": "21", "taxable_base": "10", "tax_amount": "2.10"}]}})
    conform(spec, "/accounts/{account_id}/tax_reports", "POST", direct)
    conform(spec, settings_path + "/{code}", "DELETE", account.call("DELETE", f"accounts/{aid}/tax_report_settings/verifactu"))
