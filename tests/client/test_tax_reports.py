"""``client.tax_report_settings`` and ``client.tax_reports`` on the wire (scripted transport)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from b2brouter import FINAL_TAX_REPORT_STATES, NotFoundError

from .conftest import json_response

REPORT = {
    "id": 9,
    "type": "Verifactu",
    "state": "processing",
    "invoice_id": 77,
    "invoice_number": "F-1",
    "invoice_date": "2027-01-04",
    "tax_inclusive_amount": "121.00",
    "tax_amount": 21,
    "tax_breakdowns": [{"category": "S", "percent": "21.0", "taxable_base": "100.00", "tax_amount": "21.00"}],
    "qr": "iVBORw0KGgo=",
    "identifier": "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B12345678&numserie=F-1&fecha=04-01-2027&importe=121.00",
}


def body_of(request: httpx.Request) -> object:
    return json.loads(request.content, parse_float=Decimal)


def test_retrieve_setting_reads_the_envelope(make_client):
    client, script = make_client(
        json_response(200, {"tax_report_setting": {"code": "verifactu", "start_date": "2027-01-01"}})
    )

    setting = client.tax_report_settings.retrieve(5, "verifactu")

    assert script.last.method == "GET"
    assert script.last.url.path == "/accounts/5/tax_report_settings/verifactu"
    assert setting["start_date"] == "2027-01-01"


def test_missing_setting_is_a_not_found(make_client):
    client, _ = make_client(json_response(404, {"error": "not found"}))

    with pytest.raises(NotFoundError):
        client.tax_report_settings.retrieve(5, "verifactu")


def test_create_setting_sends_ticketbai_delegation(make_client):
    client, script = make_client(
        json_response(201, {"tax_report_setting": {"code": "tbai", "delegation": "bizkaia"}})
    )

    setting = client.tax_report_settings.create(5, {"code": "tbai", "delegation": "bizkaia", "auto_send": True})

    assert script.last.method == "POST"
    assert script.last.url.path == "/accounts/5/tax_report_settings"
    assert body_of(script.last) == {
        "tax_report_setting": {"code": "tbai", "delegation": "bizkaia", "auto_send": True}
    }
    assert setting["delegation"] == "bizkaia"


def test_update_setting_is_a_put_and_delete_a_delete(make_client):
    client, script = make_client(
        json_response(200, {"tax_report_setting": {"code": "verifactu", "credit_note_code": "R4"}}),
        json_response(200, {"tax_report_setting": {"code": "verifactu", "deleted": True}}),
    )

    updated = client.tax_report_settings.update(5, "verifactu", {"credit_note_code": "R4"})
    assert (script.last.method, script.last.url.path) == ("PUT", "/accounts/5/tax_report_settings/verifactu")
    assert body_of(script.last) == {"tax_report_setting": {"credit_note_code": "R4"}}
    assert updated["credit_note_code"] == "R4"

    client.tax_report_settings.delete(5, "verifactu")
    assert (script.last.method, script.last.url.path) == ("DELETE", "/accounts/5/tax_report_settings/verifactu")


def test_retrieve_report_turns_amounts_into_decimals(make_client):
    client, script = make_client(json_response(200, {"tax_report": REPORT}))

    report = client.tax_reports.retrieve(9)

    assert script.last.url.path == "/tax_reports/9"
    assert report["tax_inclusive_amount"] == Decimal("121.00")
    assert report["tax_amount"] == Decimal("21")
    assert report["tax_breakdowns"][0]["taxable_base"] == Decimal("100.00")
    assert report["identifier"].startswith("https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?")


def test_list_reports_filters_and_walks_every_page(make_client):
    first = [{**REPORT, "id": n} for n in (1, 2)]
    client, script = make_client(
        json_response(200, {"tax_reports": first, "meta": {"total_count": 3, "offset": 0, "limit": 2}}),
        json_response(200, {"tax_reports": [{**REPORT, "id": 3}], "meta": {"total_count": 3, "offset": 2, "limit": 2}}),
    )

    page = client.tax_reports.list(5, invoice_id=77, updated_at_from="2027-01-01", limit=2)
    ids = [report["id"] for report in page]

    assert ids == [1, 2, 3]
    assert page.total_count == 3
    assert script.requests[0].url.path == "/accounts/5/tax_reports"
    assert script.requests[0].url.params["invoice_id"] == "77"
    assert script.requests[0].url.params["updated_at_from"] == "2027-01-01"
    assert script.requests[1].url.params["offset"] == "2"
    assert script.requests[1].url.params["invoice_id"] == "77"
    assert page.data[0]["tax_inclusive_amount"] == Decimal("121.00")


def test_download_asks_for_xml_and_returns_bytes(make_client):
    xml = b"<?xml version='1.0'?><RegistroAlta/>"
    client, script = make_client(httpx.Response(200, content=xml, headers={"Content-Type": "application/xml"}))

    assert client.tax_reports.download(9) == xml
    assert script.last.url.path == "/tax_reports/9/download"
    assert script.last.headers["Accept"] == "application/xml"


def test_correction_is_a_patch_and_cancellation_a_delete(make_client):
    client, script = make_client(
        json_response(200, {"tax_report": {**REPORT, "id": 10, "correction": True}}),
        json_response(200, {"tax_report": {**REPORT, "id": 11, "annullation": True}}),
    )

    correction = client.tax_reports.update(9, {"customer_party_tax_id": "B76543210", "tax_amount": Decimal("21.00")})
    assert (script.last.method, script.last.url.path) == ("PATCH", "/tax_reports/9")
    assert body_of(script.last) == {"tax_report": {"customer_party_tax_id": "B76543210", "tax_amount": Decimal("21.00")}}
    assert b'"tax_amount": 21.00' in script.last.content or b'"tax_amount":21.00' in script.last.content
    assert correction["correction"] is True

    annullation = client.tax_reports.delete(9)
    assert (script.last.method, script.last.url.path) == ("DELETE", "/tax_reports/9")
    assert annullation["annullation"] is True


def test_create_report_wraps_the_body(make_client):
    client, script = make_client(json_response(201, {"tax_report": REPORT}))

    client.tax_reports.create(5, {"type": "Verifactu", "invoice_number": "F-1", "invoice_type_code": "F1"})

    assert (script.last.method, script.last.url.path) == ("POST", "/accounts/5/tax_reports")
    assert body_of(script.last) == {
        "tax_report": {"type": "Verifactu", "invoice_number": "F-1", "invoice_type_code": "F1"}
    }


def test_empty_ids_are_refused_before_any_request(make_client):
    client, script = make_client()

    with pytest.raises(ValueError):
        client.tax_reports.retrieve("")
    with pytest.raises(ValueError):
        client.tax_report_settings.retrieve(5, " ")
    assert script.requests == []


def test_final_states_are_the_documented_ones():
    assert FINAL_TAX_REPORT_STATES == {"registered", "registered_with_errors", "error", "annulled"}


def test_a_tax_report_event_is_verified_and_its_ids_are_ints():
    from b2brouter import webhooks

    body = (b'{"code":"tax_report.state_change","triggered_at":1780000000,'
            b'"data":{"tax_report_id":"9","invoice_id":77,"state":"registered","notes":null}}')
    header = webhooks.sign(body, "whsec_test", 1780000000)
    event = webhooks.verify(body, header, "whsec_test", now=1780000010)
    assert event["code"] == "tax_report.state_change"
    assert event["data"]["tax_report_id"] == 9 and event["data"]["state"] == "registered"
