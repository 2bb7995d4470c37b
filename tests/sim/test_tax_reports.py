"""Verifactu and TicketBAI in the simulator: settings, records, states, webhooks, hash chain, faults."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import pytest

from tests.sim.conftest import Account, line
from tests.sim.test_states import run_worker
from tests.sim.test_webhooks import Recorder, recorder  # noqa: F401 - the fixture

SUM1 = "{https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/SuministroInformacion.xsd}"
PNG = b"\x89PNG\r\n\x1a\n"


def switch_on(account: Account, **fields: Any) -> dict[str, Any]:
    body = {"code": "verifactu", "start_date": "2027-01-01"} | fields
    response = account.call("POST", f"accounts/{account.id}/tax_report_settings", {"tax_report_setting": body})
    assert response.status_code == 201, response.content
    return response.json()["tax_report_setting"]


def issue(account: Account, number: str = "F-1", tin: str = "ESB76543210", **fields: Any) -> dict[str, Any]:
    contact = account.contact(name="Cliente S.L.", tin_value=tin, country="es")
    data = {"number": number, "date": "2027-01-04", "contact_id": contact["id"], "invoice_lines_attributes": [line()]}
    response = account.create_invoice(send_after_import=True, **(data | fields))
    assert response.status_code == 201, response.content
    return response.json()["invoice"]


def report(account: Account, report_id: int) -> dict[str, Any]:
    response = account.call("GET", f"tax_reports/{report_id}")
    assert response.status_code == 200, response.content
    return response.json()["tax_report"]


def advance(account: Account, report_id: int) -> dict[str, Any]:
    response = account.sim.client.post(f"/sim/_control/tax_reports/{report_id}/advance")
    assert response.status_code == 200, response.content
    return response.json()["tax_report"]


def faults(account: Account, **values: Any) -> None:
    response = account.sim.client.put(
        f"/sim/_control/accounts/{account.id}/faults", json.dumps({"faults": values}),
        content_type="application/json", HTTP_X_B2B_API_KEY=account.key,
    )
    assert response.status_code == 200, response.content


def chain_text(xml: bytes) -> tuple[str, str]:
    """Recompute AEAT's hash input from the XML's own fields; return (input, Huella in the XML)."""
    root = ET.fromstring(xml)
    record = root[0]

    def text(path: str) -> str:
        found = record.find("/".join(SUM1 + part for part in path.split("/")))
        assert found is not None, path
        return found.text or ""

    previous = record.find(f"{SUM1}Encadenamiento/{SUM1}RegistroAnterior/{SUM1}Huella")
    previous_hash = previous.text if previous is not None else ""
    if record.tag == SUM1 + "RegistroAnulacion":
        fields = [
            ("IDEmisorFacturaAnulada", text("IDFactura/IDEmisorFacturaAnulada")),
            ("NumSerieFacturaAnulada", text("IDFactura/NumSerieFacturaAnulada")),
            ("FechaExpedicionFacturaAnulada", text("IDFactura/FechaExpedicionFacturaAnulada")),
            ("Huella", previous_hash or ""),
            ("FechaHoraHusoGenRegistro", text("FechaHoraHusoGenRegistro")),
        ]
    else:
        fields = [
            ("IDEmisorFactura", text("IDFactura/IDEmisorFactura")),
            ("NumSerieFactura", text("IDFactura/NumSerieFactura")),
            ("FechaExpedicionFactura", text("IDFactura/FechaExpedicionFactura")),
            ("TipoFactura", text("TipoFactura")),
            ("CuotaTotal", text("CuotaTotal")),
            ("ImporteTotal", text("ImporteTotal")),
            ("Huella", previous_hash or ""),
            ("FechaHoraHusoGenRegistro", text("FechaHoraHusoGenRegistro")),
        ]
    return "&".join(f"{k}={v}" for k, v in fields), text("Huella")


def test_setting_crud(account: Account) -> None:
    assert account.call("GET", f"accounts/{account.id}/tax_report_settings/verifactu").status_code == 404
    created = switch_on(account, credit_note_code="R4")
    assert created["code"] == "verifactu" and created["start_date"] == "2027-01-01"
    assert created["credit_note_code"] == "R4"

    got = account.call("GET", f"accounts/{account.id}/tax_report_settings/verifactu").json()["tax_report_setting"]
    assert got["start_date"] == "2027-01-01"
    listed = account.call("GET", f"accounts/{account.id}/tax_report_settings").json()
    assert [s["code"] for s in listed["tax_report_settings"]] == ["verifactu"]

    changed = account.call("PUT", f"accounts/{account.id}/tax_report_settings/verifactu",
                           {"tax_report_setting": {"reason_vat_exempt": "E5"}})
    assert changed.status_code == 200 and changed.json()["tax_report_setting"]["reason_vat_exempt"] == "E5"
    again = account.call("POST", f"accounts/{account.id}/tax_report_settings",
                         {"tax_report_setting": {"code": "verifactu"}})
    assert again.status_code == 422 and again.json()["error"]["param"] == "code"

    gone = account.call("DELETE", f"accounts/{account.id}/tax_report_settings/verifactu")
    assert gone.status_code == 200
    assert account.call("GET", f"accounts/{account.id}/tax_report_settings/verifactu").status_code == 404


def test_ticketbai_needs_a_delegation(account: Account) -> None:
    missing = account.call("POST", f"accounts/{account.id}/tax_report_settings", {"tax_report_setting": {"code": "tbai"}})
    assert missing.status_code == 422
    assert missing.json()["error"]["param"] == "delegation"
    ok = account.call("POST", f"accounts/{account.id}/tax_report_settings",
                      {"tax_report_setting": {"code": "tbai", "delegation": "Bizkaia"}})
    assert ok.status_code == 201
    assert ok.json()["tax_report_setting"]["delegation"] == "bizkaia"


def test_no_setting_no_record(account: Account) -> None:
    invoice = issue(account)
    assert invoice["tax_report_ids"] == []


def test_invoice_before_start_date_has_no_record(account: Account) -> None:
    switch_on(account, start_date="2027-02-01")
    assert issue(account)["tax_report_ids"] == []


def test_sending_creates_a_processing_record_with_qr_and_identifier(account: Account) -> None:
    switch_on(account)
    invoice = issue(account)
    assert len(invoice["tax_report_ids"]) == 1
    record = report(account, invoice["tax_report_ids"][0])

    assert record["state"] == "processing"
    assert record["type"] == "Verifactu"
    assert record["invoice_id"] == invoice["id"]
    assert record["invoice_type_code"] == "F1"
    assert record["tax_inclusive_amount"] == "121.00" and record["tax_amount"] == "21.00"
    url = urlsplit(record["identifier"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR"
    assert parse_qs(url.query) == {"nif": ["B12345674"], "numserie": ["F-1"], "fecha": ["04-01-2027"],
                                   "importe": ["121.00"]}
    assert base64.b64decode(record["qr"]).startswith(PNG)
    # Sending again (after a delivery error, say) never registers the invoice twice.
    assert account.call("GET", f"invoices/{invoice['id']}").json()["invoice"]["tax_report_ids"] == [record["id"]]


def test_the_qr_encodes_the_identifier_at_level_m(account: Account) -> None:
    import io

    import segno
    from PIL import Image

    switch_on(account)
    record = report(account, issue(account)["tax_report_ids"][0])
    image = Image.open(io.BytesIO(base64.b64decode(record["qr"]))).convert("L")
    expected = segno.make(record["identifier"], error="m", boost_error=False)
    assert expected.error == "M"
    size = len(expected.matrix)
    # The PNG's modules, read back at their centres, are exactly the QR of the identifier.
    scale = image.width // (size + 8)
    assert image.width == image.height == scale * (size + 8)
    modules = [
        [image.getpixel(((4 + col) * scale + scale // 2, (4 + row) * scale + scale // 2)) < 128 for col in range(size)]
        for row in range(size)
    ]
    assert modules == [[bool(m) for m in row] for row in expected.matrix]


def test_the_task_queue_registers_the_record(account: Account, instant_tasks: None) -> None:
    switch_on(account)
    invoice = issue(account)
    run_worker()
    record = report(account, invoice["tax_report_ids"][0])
    assert record["state"] == "registered"
    assert record["errors"] == [] and record["has_errors"] is False
    assert record["sent_at"] is not None


def test_aeat_rejection_fault_gives_error_with_code_and_message(account: Account) -> None:
    switch_on(account)
    faults(account, aeat_reject_rate=1, aeat_reject_code="1104", aeat_reject_message="Valor del campo NumSerieFactura incorrecto")
    record = advance(account, issue(account)["tax_report_ids"][0])
    assert record["state"] == "error"
    assert record["has_errors"] is True
    assert record["errors"] == [{"code": "1104", "message": "Valor del campo NumSerieFactura incorrecto"}]
    # The answer is final: no further state is pending.
    again = account.sim.client.post(f"/sim/_control/tax_reports/{record['id']}/advance")
    assert again.status_code == 409


def test_warning_fault_gives_registered_with_errors(account: Account) -> None:
    switch_on(account)
    faults(account, aeat_warning_rate=1)
    record = advance(account, issue(account)["tax_report_ids"][0])
    assert record["state"] == "registered_with_errors"
    assert record["warnings"][0]["code"] == "2000"


def test_f1_without_customer_tax_id_is_rejected(account: Account) -> None:
    switch_on(account)
    created = account.call("POST", f"accounts/{account.id}/tax_reports", {"tax_report": {
        "type": "Verifactu", "invoice_number": "T-1", "invoice_date": "2027-01-04", "invoice_type_code": "F1",
        "description": "Servicios", "tax_inclusive_amount": "121.00", "tax_amount": "21.00", "currency": "EUR",
        "tax_breakdowns": [{"category": "S", "non_exemption_code": "S1", "percent": "21", "taxable_base": "100",
                            "tax_amount": "21"}],
    }})
    assert created.status_code == 201, created.content
    record = advance(account, created.json()["tax_report"]["id"])
    assert record["state"] == "error"
    assert record["errors"][0]["code"] == "1189"


def test_correction_of_a_rejected_record(account: Account) -> None:
    switch_on(account)
    faults(account, aeat_reject_rate=1)
    original = advance(account, issue(account)["tax_report_ids"][0])
    faults(account)

    response = account.call("PATCH", f"tax_reports/{original['id']}",
                            {"tax_report": {"customer_party_tax_id": "B11111111"}})
    assert response.status_code == 200, response.content
    correction = response.json()["tax_report"]
    assert correction["correction"] is True and correction["annullation"] is False
    assert correction["corrected_tax_report_id"] == original["id"]
    assert correction["id"] != original["id"] and correction["state"] == "processing"
    assert correction["customer_party_tax_id"] == "B11111111"
    assert advance(account, correction["id"])["state"] == "registered"
    invoice = account.call("GET", f"invoices/{original['invoice_id']}").json()["invoice"]
    assert invoice["tax_report_ids"] == [original["id"], correction["id"]]
    xml = account.call("GET", f"tax_reports/{correction['id']}/download").content
    assert b"<sum1:Subsanacion>S</sum1:Subsanacion>" in xml
    assert b"<sum1:RechazoPrevio>X</sum1:RechazoPrevio>" in xml


def test_correction_refused_while_processing_and_number_is_fixed(account: Account) -> None:
    switch_on(account)
    record = report(account, issue(account)["tax_report_ids"][0])
    busy = account.call("PATCH", f"tax_reports/{record['id']}", {"tax_report": {"description": "x"}})
    assert busy.status_code == 409
    advance(account, record["id"])
    renumber = account.call("PATCH", f"tax_reports/{record['id']}", {"tax_report": {"invoice_number": "F-2"}})
    assert renumber.status_code == 422
    assert renumber.json()["error"]["param"] == "invoice_number"


def test_cancellation_ends_annulled_and_voids_the_original(account: Account) -> None:
    switch_on(account)
    original = advance(account, issue(account)["tax_report_ids"][0])
    response = account.call("DELETE", f"tax_reports/{original['id']}")
    assert response.status_code == 200, response.content
    annulment = response.json()["tax_report"]
    assert annulment["annullation"] is True and annulment["state"] == "processing"
    assert advance(account, annulment["id"])["state"] == "annulled"
    assert report(account, original["id"])["state"] == "annulled"
    # Used once: cancelling again is refused.
    assert account.call("DELETE", f"tax_reports/{original['id']}").status_code == 409
    assert account.call("DELETE", f"tax_reports/{annulment['id']}").status_code == 409


def test_a_rejected_record_cannot_be_cancelled(account: Account) -> None:
    switch_on(account)
    faults(account, aeat_reject_rate=1)
    original = advance(account, issue(account)["tax_report_ids"][0])
    refused = account.call("DELETE", f"tax_reports/{original['id']}")
    assert refused.status_code == 409
    assert "correct it" in refused.json()["error"]["message"]


def test_hash_chain_links_every_record(account: Account) -> None:
    switch_on(account)
    first = advance(account, issue(account, "F-1", tin="ESB76543210")["tax_report_ids"][0])
    second = advance(account, issue(account, "F-2", tin="ESA58818501")["tax_report_ids"][0])
    annulment = account.call("DELETE", f"tax_reports/{first['id']}").json()["tax_report"]

    fingerprints = []
    for record in (first, second, annulment):
        xml = account.call("GET", f"tax_reports/{record['id']}/download")
        assert xml.status_code == 200
        assert xml["Content-Type"].startswith("application/xml")
        text, huella = chain_text(xml.content)
        assert hashlib.sha256(text.encode()).hexdigest().upper() == huella
        assert huella == report(account, record["id"])["fingerprint"]
        fingerprints.append((huella, text))
    assert "Huella=&" in fingerprints[0][1]  # the first record of the chain
    assert f"Huella={fingerprints[0][0]}&" in fingerprints[1][1]
    assert f"Huella={fingerprints[1][0]}&" in fingerprints[2][1]
    first_xml = account.call("GET", f"tax_reports/{first['id']}/download").content
    assert b"<sum1:PrimerRegistro>S</sum1:PrimerRegistro>" in first_xml


def test_list_filters_and_pages(account: Account) -> None:
    switch_on(account)
    a = issue(account, "F-1", tin="ESB76543210")
    issue(account, "F-2", tin="ESA58818501")
    page = account.call("GET", f"accounts/{account.id}/tax_reports", limit=1).json()
    assert page["meta"] == {"total_count": 2, "offset": 0, "limit": 1}
    assert len(page["tax_reports"]) == 1
    only = account.call("GET", f"accounts/{account.id}/tax_reports", invoice_id=a["id"]).json()
    assert [r["invoice_id"] for r in only["tax_reports"]] == [a["id"]]


def test_other_accounts_records_are_not_found(account: Account, sim: Any) -> None:
    switch_on(account)
    record_id = issue(account)["tax_report_ids"][0]
    other_data, other_key = sim.new_account(name="Other S.L.", tin_value="ESA58818501")
    assert sim.call("GET", f"tax_reports/{record_id}", other_key).status_code == 404
    assert sim.call("DELETE", f"tax_reports/{record_id}", other_key).status_code == 404


def test_state_changes_are_notified_by_webhook(account: Account, recorder: Recorder, instant_tasks: None) -> None:
    hook = account.call("POST", "web_hooks", {"web_hook": {"url": "https://app.example/hook",
                                                           "events": ["tax_report.state_change"]}})
    assert hook.status_code == 201
    switch_on(account)
    invoice = issue(account)
    run_worker()
    bodies = [json.loads(r.content) for r in recorder.requests]
    assert [b["code"] for b in bodies] == ["tax_report.state_change"]
    assert bodies[0]["data"]["tax_report_id"] == invoice["tax_report_ids"][0]
    assert bodies[0]["data"]["invoice_id"] == invoice["id"]
    assert bodies[0]["data"]["state"] == "registered"
    log = account.call("GET", f"web_hooks/{hook.json()['web_hook']['id']}").json()["web_hook"]["deliveries"]
    assert log[0]["tax_report_id"] == invoice["tax_report_ids"][0] and log[0]["status"] == "delivered"


def test_fault_settings_are_checked(account: Account) -> None:
    response = account.sim.client.put(
        f"/sim/_control/accounts/{account.id}/faults", json.dumps({"faults": {"aeat_reject_rate": 2}}),
        content_type="application/json", HTTP_X_B2B_API_KEY=account.key,
    )
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "aeat_reject_rate"


def test_simplified_invoice_is_f2(account: Account) -> None:
    switch_on(account)
    response = account.create_invoice(send_after_import=True, number="S-1", date="2027-01-04",
                                      type="IssuedSimplifiedInvoice", contact={"name": "Cliente de mostrador", "country": "es"},
                                      invoice_lines_attributes=[line()])
    assert response.status_code == 201, response.content
    record = advance(account, response.json()["invoice"]["tax_report_ids"][0])
    assert record["invoice_type_code"] == "F2"
    assert record["state"] == "registered"


def test_account_page_lists_the_records_with_the_authoritys_answer(account: Account, signed_in: Any) -> None:
    switch_on(account)
    faults(account, aeat_reject_rate=1, aeat_reject_message="<b>NIF</b> incorrecto")
    record = advance(account, issue(account)["tax_report_ids"][0])
    page = account.sim.client.get(f"/sim/app/accounts/{account.id}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "verifactu since 2027-01-01" in html
    assert f"<td>{record['id']}</td><td>Verifactu F1</td><td>F-1</td>" in html
    assert "1100 &lt;b&gt;NIF&lt;/b&gt; incorrecto" in html


def test_minimal_answers_leave_out_what_b2brouter_does_not_document(sim: Any) -> None:
    data, key = sim.new_account(name="Lean S.L.", tin_value="ESB12345674", minimal_answers=True)
    lean = Account(sim, data, key)
    switch_on(lean)
    record = report(lean, issue(lean)["tax_report_ids"][0])
    assert not {"fingerprint", "previous_fingerprint", "corrected_tax_report_id"} & set(record)
    assert record["identifier"] and record["qr"] and record["state"] == "processing"
    # The chain is still in the XML.
    assert b"<sum1:Huella>" in lean.call("GET", f"tax_reports/{record['id']}/download").content


def test_credit_note_takes_its_r_code_or_the_settings(account: Account) -> None:
    switch_on(account, credit_note_code="R4")
    contact_id = issue(account, "F-1")["contact_id"]

    def credit_note(number: str, **extra: Any) -> dict[str, Any]:
        response = account.create_invoice(
            send_after_import=True, number=number, date="2027-01-05", contact_id=contact_id, is_credit_note=True,
            amended_number="F-1", amended_date="2027-01-04", invoice_lines_attributes=[line(quantity="-1")], **extra)
        assert response.status_code == 201, response.content
        return report(account, response.json()["invoice"]["tax_report_ids"][0])

    assert credit_note("A-1", amend_reason="R1")["invoice_type_code"] == "R1"
    fallback = credit_note("A-2")
    assert fallback["invoice_type_code"] == "R4"
    assert fallback["tax_inclusive_amount"] == "-121.00"


def test_a_withholding_is_left_out_of_the_record(account: Account) -> None:
    """IRPF is withheld from the payment, not charged: the record carries the VAT and base plus VAT only."""
    switch_on(account)
    taxed = line(price="1000") | {"taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"},
                                                       {"name": "IRPF", "category": "S", "percent": "-15"}]}
    invoice = issue(account, invoice_lines_attributes=[taxed])
    record = report(account, invoice["tax_report_ids"][0])
    assert record["tax_amount"] == "210.00"
    assert record["tax_inclusive_amount"] == "1210.00"  # not 1060.00: the 150.00 withheld is not part of it
    assert [b["name"] for b in record["tax_breakdowns"]] == ["IVA"]
    assert parse_qs(urlsplit(record["identifier"]).query)["importe"] == ["1210.00"]


def rejected_record(account: Account) -> dict[str, Any]:
    switch_on(account)
    faults(account, aeat_reject_rate=1)
    original = advance(account, issue(account)["tax_report_ids"][0])
    faults(account)
    return original


def test_a_correction_carries_the_full_breakdown_per_rate(account: Account) -> None:
    original = rejected_record(account)
    response = account.call("PATCH", f"tax_reports/{original['id']}", {"tax_report": {
        "tax_inclusive_amount": "1150.00", "tax_amount": "50.00", "tax_breakdowns": [
            {"name": "IVA", "category": "AA", "non_exemption_code": "S1", "percent": "10", "taxable_base": "500.00",
             "tax_amount": "50.00", "special_regime_key": "01"},
            {"name": "IVA", "category": "E", "exemption_code": "E2", "taxable_base": "400.00",
             "special_regime_key": "02"},
            {"name": "IVA", "category": "NS", "non_subject_code": "N2", "taxable_base": "200.00"},
        ]}})
    assert response.status_code == 200, response.content
    correction = response.json()["tax_report"]
    subject, exempt, not_subject = correction["tax_breakdowns"]
    assert (subject["percent"], subject["taxable_base"], subject["tax_amount"]) == ("10", "500.00", "50.00")
    assert (exempt["exemption_code"], exempt["percent"], exempt["special_regime_key"]) == ("E2", None, "02")
    assert (not_subject["non_subject_code"], not_subject["special_regime_key"]) == ("N2", "01")
    xml = ET.fromstring(account.call("GET", f"tax_reports/{correction['id']}/download").content)
    details = xml.findall(f".//{SUM1}DetalleDesglose")
    assert [d.findtext(f"{SUM1}OperacionExenta") for d in details] == [None, "E2", None]
    assert [d.findtext(f"{SUM1}CalificacionOperacion") for d in details] == ["S1", None, "N2"]
    assert [d.findtext(f"{SUM1}CuotaRepercutida") for d in details] == ["50.00", None, None]
    assert [d.findtext(f"{SUM1}ClaveRegimen") for d in details] == ["01", "02", "01"]


@pytest.mark.parametrize(("breakdown", "param", "words"), [
    ({"category": "S", "non_exemption_code": "S9", "percent": "21", "taxable_base": "100", "tax_amount": "21"},
     "tax_breakdowns[0].non_exemption_code", "not included in the list"),
    ({"category": "E", "taxable_base": "121"}, "tax_breakdowns[0].exemption_code", "can't be blank"),
    ({"category": "E", "exemption_code": "E7", "taxable_base": "121"}, "tax_breakdowns[0].exemption_code",
     "not included in the list"),
    ({"category": "S", "exemption_code": "E1", "taxable_base": "121"}, "tax_breakdowns[0].category", "not exempt"),
    ({"category": "E", "exemption_code": "E1", "percent": "21", "taxable_base": "100"},
     "tax_breakdowns[0].percent", "has no percent"),
    ({"category": "S", "non_exemption_code": "S1", "exemption_code": "E1", "percent": "21", "taxable_base": "100",
      "tax_amount": "21"}, "tax_breakdowns[0].exemption_code", "only one of"),
    ({"category": "S", "percent": "21", "taxable_base": "100", "tax_amount": "12"}, "tax_breakdowns[0].tax_amount",
     "is not 21 % of the taxable base"),
    ({"category": "S", "percent": "21", "taxable_base": "100", "tax_amount": "21", "special_regime_key": "12"},
     "tax_breakdowns[0].special_regime_key", "not included in the list"),
    ({"category": "S", "percent": "21", "taxable_base": "100", "tax_amount": "21", "surcharge": "5.2"},
     "tax_breakdowns[0].surcharge", "not a known attribute"),
    ({"category": "S", "taxable_base": "100", "tax_amount": "21"}, "tax_breakdowns[0].percent", "can't be blank"),
])
def test_a_correction_with_a_wrong_breakdown_is_refused(account: Account, breakdown: dict[str, Any], param: str,
                                                         words: str) -> None:
    original = rejected_record(account)
    response = account.call("PATCH", f"tax_reports/{original['id']}", {"tax_report": {
        "tax_inclusive_amount": "121.00", "tax_amount": "21.00", "tax_breakdowns": [breakdown]}})
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["param"] == param and words in error["message"]
    assert len(account.call("GET", f"accounts/{account.id}/tax_reports").json()["tax_reports"]) == 1


def test_a_correction_whose_totals_disagree_with_its_breakdown_is_refused(account: Account) -> None:
    original = rejected_record(account)
    line = {"category": "S", "non_exemption_code": "S1", "percent": "21", "taxable_base": "100.00", "tax_amount": "21.00"}
    wrong_quota = account.call("PATCH", f"tax_reports/{original['id']}", {"tax_report": {
        "tax_inclusive_amount": "121.00", "tax_amount": "25.00", "tax_breakdowns": [line]}})
    assert wrong_quota.status_code == 422 and wrong_quota.json()["error"]["param"] == "tax_amount"
    wrong_total = account.call("PATCH", f"tax_reports/{original['id']}", {"tax_report": {
        "tax_inclusive_amount": "130.00", "tax_amount": "21.00", "tax_breakdowns": [line]}})
    assert wrong_total.status_code == 422 and wrong_total.json()["error"]["param"] == "tax_inclusive_amount"
    # New amounts without a breakdown are checked against the breakdown the record keeps.
    amounts_only = account.call("PATCH", f"tax_reports/{original['id']}", {"tax_report": {
        "tax_inclusive_amount": "999.00", "tax_amount": "99.00"}})
    assert amounts_only.status_code == 422 and amounts_only.json()["error"]["param"] == "tax_amount"
    empty = account.call("PATCH", f"tax_reports/{original['id']}", {"tax_report": {"tax_breakdowns": []}})
    assert empty.status_code == 422 and empty.json()["error"]["param"] == "tax_breakdowns"


def test_the_settings_default_regime_keys_come_from_aeats_lists(account: Account) -> None:
    switch_on(account)
    path = f"accounts/{account.id}/tax_report_settings/verifactu"
    wrong = account.call("PUT", path, {"tax_report_setting": {"special_regime_key": "12"}})
    assert wrong.status_code == 422 and wrong.json()["error"]["param"] == "special_regime_key"
    igic = account.call("PUT", path, {"tax_report_setting": {"special_regime_key_igic": "20"}})
    assert igic.status_code == 422 and igic.json()["error"]["param"] == "special_regime_key_igic"
    done = account.call("PUT", path, {"tax_report_setting": {"special_regime_key": "20", "special_regime_key_igic": "19"}})
    assert done.status_code == 200, done.content
    assert (done.json()["tax_report_setting"]["special_regime_key"],
            done.json()["tax_report_setting"]["special_regime_key_igic"]) == ("20", "19")
