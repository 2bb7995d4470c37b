"""Amounts are Decimal from the wire to the caller and back, never float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2brouter import to_decimal
from b2brouter._money import dumps, loads, with_decimals

from .conftest import json_response

finite_decimals = st.decimals(allow_nan=False, allow_infinity=False)
money = st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=2, allow_nan=False, allow_infinity=False)


def no_floats(value: Any) -> bool:
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(no_floats(v) for v in value)
    return True


@given(finite_decimals)
def test_any_decimal_survives_the_wire_as_a_json_number(value):
    sent = dumps({"amount": value})
    received = with_decimals(loads(sent))["amount"]

    assert isinstance(received, Decimal)
    assert received == value
    if value.as_tuple().exponent < 0 or abs(value.as_tuple().exponent) > 40:
        # Fractional and scientific values keep their exact digits (12.30 stays 12.30).
        assert received.as_tuple() == value.as_tuple()
    # What goes out is a JSON number, parseable by any JSON library.
    assert isinstance(json.loads(sent)["amount"], (int, float))


@given(finite_decimals)
def test_amounts_sent_as_strings_are_read_exactly(value):
    received = with_decimals(loads(json.dumps({"invoice": {"total": str(value)}})))["invoice"]["total"]

    assert received.as_tuple() == value.as_tuple()


@given(money, money)
def test_sums_of_parsed_amounts_are_exact(a, b):
    body = dumps({"subtotal": a, "total": b})
    parsed = with_decimals(loads(body))

    assert parsed["subtotal"] + parsed["total"] == a + b
    assert no_floats(parsed)


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | finite_decimals | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
))
def test_parsing_never_produces_a_float(document):
    assert no_floats(loads(dumps(document)))


def test_point_one_plus_point_two_is_point_three(make_client):
    client, _ = make_client(
        json_response(200, '{"invoice": {"subtotal": 0.1, "total": "0.2", "taxes": [{"base": 0.1, "amount": "0.2", "percent": 21}]}}')
    )

    invoice = client.invoices.retrieve(1)

    assert invoice["subtotal"] + invoice["total"] == Decimal("0.3")
    tax = invoice["taxes"][0]
    assert tax["base"] + tax["amount"] == Decimal("0.3")
    assert tax["percent"] == Decimal("21") and isinstance(tax["percent"], Decimal)


def test_large_values_keep_every_digit(make_client):
    big = "123456789012345678901234567890.123456789"
    client, script = make_client(json_response(200, f'{{"invoice": {{"total": {big}, "subtotal": "{big}"}}}}'))

    invoice = client.invoices.retrieve(1)

    assert str(invoice["total"]) == big and str(invoice["subtotal"]) == big
    assert float(big) != Decimal(big)  # float could not have held it


def test_line_amounts_prices_and_quantities_are_decimal(make_client):
    body = {
        "invoice": {
            "invoice_lines": [
                {"quantity": 3, "price": "0.333", "base_quantity": 1, "amount": 1.0,
                 "taxes": [{"name": "IVA", "percent": "10.0"}],
                 "allowance_charges": [{"percentage": 5, "amount": None}]},
            ],
            "number": "0001",
            "contact_id": 7,
        }
    }
    client, _ = make_client(json_response(200, json.dumps(body)))

    line = client.invoices.retrieve(1)["invoice_lines"][0]

    assert line["quantity"] == Decimal(3) and isinstance(line["quantity"], Decimal)
    assert line["price"] == Decimal("0.333")
    assert line["amount"] == Decimal("1.0")
    assert line["taxes"][0]["percent"] == Decimal("10.0")
    assert line["allowance_charges"][0] == {"percentage": Decimal(5), "amount": None}


def test_non_money_fields_are_untouched(make_client):
    client, _ = make_client(json_response(200, {"invoice": {"id": 1, "number": "0001", "contact_id": 7, "total": "n/a"}}))

    invoice = client.invoices.retrieve(1)

    assert invoice["number"] == "0001" and invoice["id"] == 1 and invoice["contact_id"] == 7
    assert invoice["total"] == "n/a"  # unreadable amounts are kept, not guessed


def test_decimal_literals_on_the_wire():
    assert dumps(Decimal("12.30")) == b"12.30"
    assert dumps(Decimal("-0.001")) == b"-0.001"
    assert dumps(Decimal("1E+2")) == b"100"
    assert dumps(Decimal("1E+100")) == b"1E+100"
    assert dumps({"a": [Decimal("0.10"), 1, True, None, "x"]}) == b'{"a": [0.10, 1, true, null, "x"]}'


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), float("nan")])
def test_non_finite_values_are_refused(value):
    with pytest.raises(ValueError):
        dumps({"amount": value})


def test_nan_in_a_response_is_refused():
    with pytest.raises(ValueError):
        loads('{"total": NaN}')


def test_unserialisable_values_are_refused():
    with pytest.raises(TypeError):
        dumps({"when": object()})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("1.50"), "1.50"), (3, "3"), ("  2.10 ", "2.10"), (0.1, "0.1"), ("-7e2", "-7E+2")],
)
def test_to_decimal(value, expected):
    assert str(to_decimal(value)) == expected


@pytest.mark.parametrize("value", [True, None, "abc", "", "Infinity", [1]])
def test_to_decimal_refuses_what_is_not_an_amount(value):
    with pytest.raises(ValueError):
        to_decimal(value)
