"""Every validation error: status, code, message and param, as a caller sees them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.conftest import Account, line


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["type"] == "invalid_request_error"
    assert response["X-B2B-API-Request-Id"]
    return body["error"]


def new_invoice(account: Account, **fields: Any) -> Any:
    contact = account.contact(tin_value=fields.pop("_tin", "DE136695976"))
    data = {"number": "V-1", "date": "2026-03-01", "contact_id": contact["id"], "invoice_lines_attributes": [line()]}
    return account.create_invoice(**(data | fields))


def test_invoice_needs_lines(account: Account) -> None:
    error = error_of(new_invoice(account, invoice_lines_attributes=[]), 422)
    assert error == {"code": "parameter_blank", "message": "Invoice lines can't be blank",
                     "type": "invalid_request_error", "param": "invoice_lines_attributes"}


def test_number_is_unique_per_account(account: Account, sim: Any) -> None:
    assert new_invoice(account).status_code == 201
    error = error_of(account.create_invoice(number="V-1", contact_id=account.call("GET", f"accounts/{account.id}/contacts").json()["contacts"][0]["id"], invoice_lines_attributes=[line()]), 422)
    assert (error["code"], error["message"], error["param"]) == ("parameter_taken", "Number has already been taken", "number")
    # Another account may reuse the number.
    data, key = sim.new_account(tin_value="ESA28017895")
    assert new_invoice(Account(sim, data, key)).status_code == 201


def test_an_invoice_without_number_is_numbered_automatically(account: Account) -> None:
    # B2Brouter's WooCommerce plugin leaves `number` out to "let B2Brouter assign it".
    first = new_invoice(account, number="")
    assert first.status_code == 201, first.content
    assert first.json()["invoice"]["number"] == "1"
    data = {"contact_id": first.json()["invoice"]["contact_id"], "invoice_lines_attributes": [line()]}
    assert account.create_invoice(number="2", **data).status_code == 201  # a caller took "2" by hand
    third = account.create_invoice(**data)
    assert third.json()["invoice"]["number"] == "3"
    # An update without a number keeps the one it was given.
    iid = third.json()["invoice"]["id"]
    updated = account.call("PUT", f"invoices/{iid}", {"invoice": {"extra_info": "x", "number": ""}})
    assert updated.json()["invoice"]["number"] == "3"


def test_contact_id_must_belong_to_the_account(account: Account, sim: Any) -> None:
    data, key = sim.new_account(tin_value="ESA28017895")
    foreign = Account(sim, data, key).contact()
    response = account.create_invoice(number="V-1", contact_id=foreign["id"], invoice_lines_attributes=[line()])
    error = error_of(response, 422)
    assert (error["code"], error["param"]) == ("parameter_inclusion", "contact_id")
    assert "Contact not found" in error["message"]


def test_inline_contact_needs_tin_or_cin(account: Account) -> None:
    response = account.create_invoice(number="V-1", contact={"name": "No Id GmbH", "country": "de"},
                                      invoice_lines_attributes=[line()])
    error = error_of(response, 422)
    assert error["message"] == "Contact tin_value or cin_value can't be blank"
    assert (error["code"], error["param"]) == ("parameter_blank", "contact.tin_value")


def test_inline_contact_is_created_once_and_matched_by_tin(account: Account) -> None:
    first = account.create_invoice(number="I-1", contact={"name": "Inline BV", "tin_value": "NL004495445B01", "country": "nl"},
                                   invoice_lines_attributes=[line()])
    second = account.create_invoice(number="I-2", contact={"name": "Inline BV", "tin_value": "004495445B01"},
                                    invoice_lines_attributes=[line()])
    assert first.status_code == second.status_code == 201
    assert first.json()["invoice"]["contact_id"] == second.json()["invoice"]["contact_id"]


@pytest.mark.parametrize("key", ["amount", "base"])
def test_taxes_reject_amount_and_base(account: Account, key: str) -> None:
    tax = {"name": "IVA", "category": "S", "percent": "21", key: "21.00"}
    response = new_invoice(account, invoice_lines_attributes=[line(taxes_attributes=[tax])])
    error = error_of(response, 422)
    assert error["param"] == f"invoice_lines_attributes[0].taxes_attributes[0].{key}"
    assert "taxes take only name, category, percent and comment" in error["message"]


@pytest.mark.parametrize("category", ["Z", "E", "AE", "K", "G", "O", "NS"])
def test_zero_rate_categories_need_percent_zero(account: Account, category: str) -> None:
    tax = {"name": "IVA", "category": category, "percent": "21", "comment": "Reason"}
    error = error_of(new_invoice(account, invoice_lines_attributes=[line(taxes_attributes=[tax])]), 422)
    assert error["code"] == "parameter_inclusion"
    assert error["message"] == f"Percent must be 0 for category {category}"
    assert error["param"].endswith("taxes_attributes[0].percent")


@pytest.mark.parametrize("category", ["E", "Z", "AE"])
def test_a_zero_rate_tax_takes_a_comment_but_does_not_need_one(account: Account, category: str) -> None:
    # The taxes_attributes guide recommends the exemption reason in `comment`; it does not
    # require it, and B2Brouter's WooCommerce plugin sends E, Z and AE without one.
    tax = {"name": "IVA", "category": category, "percent": "0"}
    bare = new_invoice(account, invoice_lines_attributes=[line(taxes_attributes=[tax])])
    assert bare.status_code == 201, bare.content
    assert bare.json()["invoice"]["taxes"][0]["amount"] == "0.00"
    with_reason = new_invoice(account, number="V-2", _tin="FR40303265045",
                              invoice_lines_attributes=[line(taxes_attributes=[tax | {"comment": "E2"}])])
    assert with_reason.status_code == 201
    assert with_reason.json()["invoice"]["invoice_lines"][0]["taxes"][0]["comment"] == "E2"


def test_unknown_tax_category_is_rejected(account: Account) -> None:
    tax = {"name": "IVA", "category": "XX", "percent": "21"}
    error = error_of(new_invoice(account, invoice_lines_attributes=[line(taxes_attributes=[tax])]), 422)
    assert error["code"] == "parameter_inclusion"


@pytest.mark.parametrize("method", [4, "4"])
def test_transfer_needs_a_valid_iban(account: Account, method: int | str) -> None:
    bad = new_invoice(account, payment_method=method, bank_account={"type": "iban", "iban": "ES00 0000 0000 0000 0000 0000"})
    error = error_of(bad, 422)
    assert error["message"] == "Validation failed: Iban is invalid"
    assert error["param"] == "bank_account.iban"
    missing = new_invoice(account, payment_method=method, number="V-2", _tin="FR40303265045")
    assert error_of(missing, 422)["message"] == "Validation failed: Iban is invalid"
    good = new_invoice(account, payment_method=method, number="V-3", _tin="NL004495445B01",
                       bank_account={"type": "iban", "iban": "ES91 2100 0418 4502 0005 1332"})
    assert good.status_code == 201


def test_cash_needs_no_iban(account: Account) -> None:
    assert new_invoice(account, payment_method=1).status_code == 201


@pytest.mark.parametrize(
    "fields,param",
    [
        ({"currency": "EURO"}, "currency"),
        ({"currency": "ABC"}, "currency"),
        ({"date": "2026-02-30"}, "date"),
        ({"due_date": "next week"}, "due_date"),
        ({"due_date": "2026-02-01"}, "due_date"),  # before the date
        ({"invoice_lines_attributes": [line(quantity="many")]}, "invoice_lines_attributes[0].quantity"),
        ({"invoice_lines_attributes": [line(base_quantity="0")]}, "invoice_lines_attributes[0].base_quantity"),
        ({"payment_method": 99}, "payment_method"),
    ],
)
def test_invalid_values_name_the_field(account: Account, fields: dict, param: str) -> None:
    error = error_of(new_invoice(account, **fields), 422)
    assert error["param"] == param
    assert error["message"]


def test_body_must_be_wrapped_json(account: Account) -> None:
    response = account.call("POST", f"accounts/{account.id}/invoices", {"number": "X"})
    assert error_of(response, 400)["code"] == "invalid_request_params"
    raw = account.sim.client.post(f"/sim/accounts/{account.id}/invoices", "{not json", content_type="application/json",
                                  HTTP_X_B2B_API_KEY=account.key, HTTP_X_B2B_API_VERSION="2026-03-02")
    assert error_of(raw, 400)["message"] == "The body is not valid JSON"


def test_contacts_are_unique_by_normalised_tin(account: Account) -> None:
    account.contact(tin_value="ESB12345674", name="First")
    for variant in ["ESB12345674", "B12345674", "es b-123.456.74"]:
        response = account.call("POST", f"accounts/{account.id}/contacts", {"contact": {"name": "Again", "tin_value": variant}})
        error = error_of(response, 422)
        assert (error["code"], error["message"], error["param"]) == ("parameter_taken", "Tin value has already been taken", "tin_value")


def test_contact_needs_a_name(account: Account) -> None:
    response = account.call("POST", f"accounts/{account.id}/contacts", {"contact": {"tin_value": "DE136695976"}})
    assert error_of(response, 422)["param"] == "name"


def test_account_tin_cannot_change_but_settings_can(account: Account) -> None:
    error = error_of(account.call("PUT", f"accounts/{account.id}", {"account": {"tin_value": "ESA28017895"}}), 422)
    assert (error["code"], error["param"]) == ("parameter_cannot_change", "tin_value")
    same = account.call("PUT", f"accounts/{account.id}", {"account": {"tin_value": "ESB12345674", "rounding_method": "truncate",
                                                                        "round_before_sum": False, "apply_taxes_per_line": True}})
    assert same.status_code == 200
    body = same.json()["account"]
    assert (body["rounding_method"], body["round_before_sum"], body["apply_taxes_per_line"]) == ("truncate", False, True)
    assert account.call("GET", f"accounts/{account.id}").json()["account"]["rounding_method"] == "truncate"
    bad = account.call("PUT", f"accounts/{account.id}", {"account": {"rounding_method": "ceiling"}})
    assert error_of(bad, 422)["code"] == "parameter_inclusion"
