"""As strict as B2Brouter documents: tax names, line units and payment codes (422 with param)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.conftest import Account, Sim, line
from tests.sim.test_validation import error_of, new_invoice


def make_account(sim: Sim, **options: Any) -> Account:
    data, key = sim.new_account(**options)
    return Account(sim, data, key)


def create(account: Account, contact: dict[str, Any], number: str, **fields: Any) -> Any:
    data = {"number": number, "date": "2026-03-01", "contact_id": contact["id"], "invoice_lines_attributes": [line()]}
    return account.create_invoice(**(data | fields))


def taxed(name: Any, percent: str = "21", category: str = "S") -> dict[str, Any]:
    return line(taxes_attributes=[{"name": name, "category": category, "percent": percent}])


# --- tax names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["VAT 20%", "IVA 21%", "Exento", "Umsatzsteuer", "Sales tax", "iva", "Vat", "MWST", 21])
def test_tax_names_b2brouter_does_not_document_are_refused(account: Account, name: Any) -> None:
    error = error_of(new_invoice(account, invoice_lines_attributes=[line(), taxed(name)]), 422)
    assert error["code"] == "parameter_inclusion"
    assert error["param"] == "invoice_lines_attributes[1].taxes_attributes[0].name"
    assert error["message"] == (f"Name {name!r} is not a tax name B2Brouter knows "
                                "(BTW, GST, IGIC, IPSI, IRNR, IRPEF, IRPF, IVA, MwSt, TVA, USt, VAT)")


@pytest.mark.parametrize("name,percent,category", [
    ("IVA", "21", "S"), ("IVA", "10", "AA"), ("IVA", "4", "AAA"), ("IGIC", "7", "S"), ("IPSI", "4", "S"),
    ("IRPF", "-15", "S"), ("IRNR", "-19", "S"), ("IRPEF", "-20", "S"), ("VAT", "20", "S"), ("TVA", "5.5", "AA"),
    ("BTW", "9", "AA"), ("MwSt", "19", "S"), ("USt", "20", "S"), ("GST", "15", "S"),
])
def test_documented_names_are_taken(account: Account, name: str, percent: str, category: str) -> None:
    response = new_invoice(account, invoice_lines_attributes=[taxed(name, percent, category)])
    assert response.status_code == 201, response.content
    group = response.json()["invoice"]["taxes"][0]
    assert (group["name"], group["percent"]) == (name, percent)


def test_the_names_do_not_depend_on_the_accounts_country(sim: Sim) -> None:
    # The guide's per-country table could not be read: every account takes the whole documented set.
    account = make_account(sim, country="fr")
    contact = account.contact()
    for name in ["TVA", "IVA", "VAT"]:
        assert create(account, contact, f"F-{name}", invoice_lines_attributes=[taxed(name, "20")]).status_code == 201
    error = error_of(create(account, contact, "F-9", invoice_lines_attributes=[taxed("TVA 20%", "20")]), 422)
    assert error["code"] == "parameter_inclusion"


def test_a_tax_needs_a_name(account: Account) -> None:
    tax = {"category": "S", "percent": "21"}
    error = error_of(new_invoice(account, invoice_lines_attributes=[line(taxes_attributes=[tax])]), 422)
    assert (error["code"], error["param"]) == ("parameter_blank", "invoice_lines_attributes[0].taxes_attributes[0].name")


def test_two_rates_of_one_tax_are_two_groups(account: Account) -> None:
    # IVA 21 % and IVA 10 % share the documented name: the percent tells the groups apart.
    invoice = account.invoice(invoice_lines_attributes=[taxed("IVA", "21"), taxed("IVA", "10", "AA")])
    assert [(t["name"], t["percent"], t["amount"]) for t in invoice["taxes"]] == [("IVA", "21", "21.00"), ("IVA", "10", "10.00")]


@pytest.mark.parametrize("name", ["IRPF", "IRNR"])
def test_withholdings_take_negative_percents(account: Account, name: str) -> None:
    contact = account.contact()
    taxes = [{"name": "IVA", "category": "S", "percent": "21"}, {"name": name, "category": "S", "percent": "15"}]
    error = error_of(create(account, contact, "W-1", invoice_lines_attributes=[line(taxes_attributes=taxes)]), 422)
    assert (error["code"], error["param"]) == ("parameter_inclusion", "invoice_lines_attributes[0].taxes_attributes[1].percent")
    taxes[1]["percent"] = "-15"
    invoice = create(account, contact, "W-1", invoice_lines_attributes=[line(taxes_attributes=taxes)]).json()["invoice"]
    assert (invoice["subtotal"], invoice["total"]) == ("100.00", "106.00")


# --- units --------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["hours", "h", "Stunden", "HUR", "C62", "0", "37", 0, 99, True, 1.5])
def test_free_text_and_unknown_units_are_refused(account: Account, unit: Any) -> None:
    error = error_of(new_invoice(account, invoice_lines_attributes=[line(), line(unit=unit)]), 422)
    assert (error["code"], error["param"]) == ("parameter_inclusion", "invoice_lines_attributes[1].unit")


@pytest.mark.parametrize("unit", [1, 2, 36, "1", "02"])
def test_unit_codes_are_accepted_and_returned(account: Account, unit: Any) -> None:
    invoice = account.invoice(invoice_lines_attributes=[line(unit=unit)])
    assert invoice["invoice_lines"][0]["unit"] == unit


def test_a_line_without_unit_is_fine(account: Account) -> None:
    assert account.invoice()["invoice_lines"][0]["unit"] is None


# --- payment methods ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", [19, 58, 59, 5, "58", "transfer"])
def test_undocumented_payment_codes_are_refused(account: Account, method: Any) -> None:
    bank = {"type": "iban", "iban": "ES9121000418450200051332"}
    error = error_of(new_invoice(account, payment_method=method, bank_account=bank), 422)
    assert (error["code"], error["param"]) == ("parameter_inclusion", "payment_method")
    assert "1, 2, 3, 4, 7, 10, 11, 12, 13, 14" in error["message"]


@pytest.mark.parametrize("method", [1, 3, 7, 10, 11, 12, 14])
def test_documented_codes_without_bank_details_are_accepted(account: Account, method: int) -> None:
    assert new_invoice(account, payment_method=method).json()["invoice"]["payment_method"] == method


def test_other_needs_a_text(account: Account) -> None:
    contact = account.contact()
    error = error_of(create(account, contact, "O-1", payment_method=13), 422)
    assert (error["code"], error["param"]) == ("parameter_blank", "payment_method_text")
    invoice = create(account, contact, "O-1", payment_method=13, payment_method_text="Bizum").json()["invoice"]
    assert (invoice["payment_method"], invoice["payment_method_text"]) == (13, "Bizum")


@pytest.mark.parametrize("iban", [None, "", "DE00 1234"])
def test_direct_debit_needs_the_payers_iban(account: Account, iban: str | None) -> None:
    fields = {} if iban is None else {"contact_iban": iban}
    bad = create(account, account.contact(), "D-1", payment_method=2, **fields)
    assert error_of(bad, 422) == {"code": "invalid_request_params", "message": "Validation failed: Iban is invalid",
                                  "type": "invalid_request_error", "param": "contact_iban"}


def test_direct_debit_keeps_iban_and_mandate(account: Account) -> None:
    contact = account.contact()
    good = create(account, contact, "D-3", payment_method=2, contact_iban="DE89 3704 0044 0532 0130 00",
                  mandate_reference="MANDATE-1")
    assert good.status_code == 201
    original = account.call("GET", f"invoices/{good.json()['invoice']['id']}/as/original").json()["invoice"]
    assert (original["contact_iban"], original["mandate_reference"]) == ("DE89 3704 0044 0532 0130 00", "MANDATE-1")


def test_an_update_is_checked_as_strictly(account: Account) -> None:
    invoice = account.invoice()
    response = account.call("PUT", f"invoices/{invoice['id']}", {"invoice": {"payment_method": 58}})
    assert error_of(response, 422)["param"] == "payment_method"
    response = account.call("PUT", f"invoices/{invoice['id']}", {"invoice": {"invoice_lines_attributes": [taxed("VAT 21%")]}})
    assert error_of(response, 422)["param"] == "invoice_lines_attributes[0].taxes_attributes[0].name"


# --- references ---------------------------------------------------------------------------------


def test_buyer_reference_project_and_purchase_order_are_kept(account: Account) -> None:
    invoice = account.invoice(buyer_reference="DIR3-L01280796", file_reference="Project Apollo", ponumber="PO-4711")
    assert (invoice["buyer_reference"], invoice["file_reference"], invoice["ponumber"]) == (
        "DIR3-L01280796", "Project Apollo", "PO-4711")
    again = account.call("GET", f"invoices/{invoice['id']}").json()["invoice"]
    assert again["ponumber"] == "PO-4711"
