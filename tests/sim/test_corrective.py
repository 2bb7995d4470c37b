"""Credit notes (Spanish rectificativas) as API 2026-03-02 takes them: is_credit_note, amended_*, amend_reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.sim.conftest import Account, line

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def credit_note(account: Account, **fields: Any) -> Any:
    """POST the PHP SDK's scenario 3 (docs/SPANISH_INVOICING.md): a negative price with is_credit_note."""
    contacts = account.call("GET", f"accounts/{account.id}/contacts").json()["contacts"]
    contact = contacts[0] if contacts else account.contact(tin_value="ESB58378431", country="es",
                                                           name="Empresa Cliente SL")
    data = {"number": "FR-2025-001", "date": "2026-02-01", "contact_id": contact["id"], "is_credit_note": True,
            "amended_number": "F-2025-100", "amended_date": "2026-01-15", "amend_reason": "R1",
            "invoice_lines_attributes": [line("1", "-100.00")]} | fields
    return account.create_invoice(**data)


def error_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.content
    return response.json()["error"]


def test_a_credit_note_is_stored_and_returned_with_its_reference(account: Account) -> None:
    response = credit_note(account)
    assert response.status_code == 201, response.content
    created = response.json()["invoice"]
    assert (created["is_credit_note"], created["amended_number"], created["amended_date"], created["amend_reason"]) == (
        True, "F-2025-100", "2026-01-15", "R1")
    # Negative price, positive quantity: negative totals (21 % IVA on -100).
    assert (created["subtotal"], created["total"]) == ("-100.00", "-121.00")
    fetched = account.call("GET", f"invoices/{created['id']}").json()["invoice"]
    assert (fetched["is_credit_note"], fetched["amended_number"], fetched["amend_reason"]) == (True, "F-2025-100", "R1")


def test_an_ordinary_invoice_has_no_reference(account: Account) -> None:
    invoice = account.invoice()
    assert (invoice["is_credit_note"], invoice["amended_number"], invoice["amend_reason"]) == (False, None, None)


def test_a_credit_note_needs_the_corrected_number(account: Account) -> None:
    error = error_of(credit_note(account, amended_number=""))
    assert (error["code"], error["param"], error["message"]) == (
        "parameter_blank", "amended_number", "Amended number can't be blank")
    error = error_of(credit_note(account, amended_number=None))
    assert (error["code"], error["param"]) == ("parameter_blank", "amended_number")


@pytest.mark.parametrize("reason", ["R6", "r1", "R", "1", "Error"])
def test_the_amend_reason_is_one_of_r1_to_r5(account: Account, reason: str) -> None:
    error = error_of(credit_note(account, amend_reason=reason))
    assert (error["code"], error["param"]) == ("parameter_inclusion", "amend_reason")
    assert "R1, R2, R3, R4, R5" in error["message"]


@pytest.mark.parametrize("reason", ["R1", "R2", "R3", "R4", "R5"])
def test_every_documented_reason_is_accepted(account: Account, reason: str) -> None:
    response = credit_note(account, amend_reason=reason, number=f"FR-{reason}")
    assert response.status_code == 201, response.content
    assert response.json()["invoice"]["amend_reason"] == reason


def test_the_amended_date_must_be_a_date(account: Account) -> None:
    error = error_of(credit_note(account, amended_date="15/01/2026"))
    assert error["param"] == "amended_date" and "not a valid date" in error["message"]


def test_is_credit_note_must_be_a_boolean(account: Account) -> None:
    error = error_of(credit_note(account, is_credit_note="maybe"))
    assert (error["code"], error["param"]) == ("parameter_inclusion", "is_credit_note")


def test_an_update_is_checked_the_same_way(account: Account) -> None:
    created = credit_note(account).json()["invoice"]
    response = account.call("PUT", f"invoices/{created['id']}", {"invoice": {"amend_reason": "R9"}})
    assert error_of(response)["param"] == "amend_reason"
    response = account.call("PUT", f"invoices/{created['id']}", {"invoice": {"amend_reason": "R4"}})
    assert response.status_code == 200 and response.json()["invoice"]["amend_reason"] == "R4"


def test_the_ubl_of_a_credit_note_says_381_and_names_the_corrected_invoice(account: Account) -> None:
    created = credit_note(account).json()["invoice"]
    response = account.call("GET", f"invoices/{created['id']}/as/xml.ubl.invoice.bis3")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.findtext("cbc:InvoiceTypeCode", namespaces=NS) == "381"
    reference = root.find("cac:BillingReference/cac:InvoiceDocumentReference", NS)
    assert reference.findtext("cbc:ID", namespaces=NS) == "F-2025-100"
    assert reference.findtext("cbc:IssueDate", namespaces=NS) == "2026-01-15"
    assert root.find("cac:LegalMonetaryTotal", NS).findtext("cbc:PayableAmount", namespaces=NS) == "-121.00"
