"""The section 7 totals model, observed through the API under each account setting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b2brouter_sim.calculations import AllowanceCharge, Line, Settings, Tax, compute_totals
from tests.sim.conftest import Account, Sim, line

ALL_SETTINGS = [
    {"rounding_method": m, "round_before_sum": rbs, "apply_taxes_per_line": atpl}
    for m in ("half_up", "bankers", "truncate")
    for rbs in (True, False)
    for atpl in (True, False)
]


def make_account(sim: Sim, **options: object) -> Account:
    data, key = sim.new_account(**options)
    return Account(sim, data, key)


def totals(account: Account, lines: list[dict], **fields: object) -> dict:
    invoice = account.invoice(invoice_lines_attributes=lines, **fields)
    return {"subtotal": invoice["subtotal"], "taxes": invoice["taxes"], "total": invoice["total"]}


@pytest.mark.parametrize("per_line,tax", [(False, "1828.07"), (True, "1828.06")])
@pytest.mark.parametrize("rbs", [True, False])
def test_worked_example_two_lines_at_21(sim: Sim, per_line: bool, tax: str, rbs: bool) -> None:
    account = make_account(sim, apply_taxes_per_line=per_line, round_before_sum=rbs)
    result = totals(account, [line("1", "7886.64"), line("1", "818.44")])
    assert result["subtotal"] == "8705.08"
    assert result["taxes"] == [{"name": "IVA", "category": "S", "percent": "21", "base": "8705.08", "amount": tax}]
    assert result["total"] == str(Decimal("8705.08") + Decimal(tax))


@pytest.mark.parametrize(
    "rbs,per_line,subtotal,tax",
    [
        (False, False, "1.00", "0.10"),
        (True, False, "0.99", "0.10"),
        (True, True, "0.99", "0.09"),  # R(0.033) three times
        (False, True, "1.00", "0.09"),
    ],
)
def test_worked_example_three_thirds(sim: Sim, rbs: bool, per_line: bool, subtotal: str, tax: str) -> None:
    account = make_account(sim, round_before_sum=rbs, apply_taxes_per_line=per_line)
    result = totals(account, [line("1", "0.333", "10")] * 3)
    assert result["subtotal"] == subtotal
    assert result["taxes"][0]["amount"] == tax
    assert result["total"] == str(Decimal(subtotal) + Decimal(tax))


@pytest.mark.parametrize(
    "method,expected_line,expected_tax",
    [("half_up", "0.13", "0.03"), ("bankers", "0.12", "0.03"), ("truncate", "0.12", "0.02")],
)
def test_rounding_methods_differ_on_half_cents(sim: Sim, method: str, expected_line: str, expected_tax: str) -> None:
    # 0.125 rounds up, to even (0.12) or down; its 21% tax is 0.02625 (0.02 truncated).
    account = make_account(sim, rounding_method=method, round_before_sum=True)
    invoice = account.invoice(invoice_lines_attributes=[line("1", "0.125")])
    assert invoice["invoice_lines"][0]["amount"] == expected_line
    assert invoice["taxes"][0]["amount"] == expected_tax


@pytest.mark.parametrize("options", ALL_SETTINGS, ids=lambda o: "-".join(str(v) for v in o.values()))
def test_demo_invoice_is_1234_20_under_every_setting(sim: Sim, options: dict) -> None:
    account = make_account(sim, **options)
    result = totals(account, [line("12000", "0.085", "21")])
    assert (result["subtotal"], result["taxes"][0]["amount"], result["total"]) == ("1020.00", "214.20", "1234.20")


def test_jpy_has_no_decimals(sim: Sim) -> None:
    account = make_account(sim)
    result = totals(account, [line("3", "333.5", "10")], currency="JPY")
    assert result["subtotal"] == "1001"  # 1000.5 rounds half up
    assert result["taxes"][0]["amount"] == "100"
    assert result["total"] == "1101"


def test_iva_and_irpf_are_two_groups_over_the_same_line(sim: Sim) -> None:
    account = make_account(sim)
    taxes = [{"name": "IVA", "category": "S", "percent": "21"}, {"name": "IRPF", "category": "S", "percent": "-15"}]
    result = totals(account, [{"description": "Fees", "quantity": "1", "price": "1000", "taxes_attributes": taxes}])
    assert result["taxes"] == [
        {"name": "IVA", "category": "S", "percent": "21", "base": "1000.00", "amount": "210.00"},
        {"name": "IRPF", "category": "S", "percent": "-15", "base": "1000.00", "amount": "-150.00"},
    ]
    assert result["total"] == "1060.00"


def test_base_quantity_divides_the_price(sim: Sim) -> None:
    account = make_account(sim)
    result = totals(account, [line("2500", "8.50", "21", base_quantity="1000")])
    assert result["subtotal"] == "21.25"
    assert result["total"] == "25.71"  # 21.25 + R(4.4625)


def test_line_allowance_percentage_and_charge_amount(sim: Sim) -> None:
    account = make_account(sim)
    adjustments = [
        {"allowance_charge_indicator": "allowance", "percentage": "10", "reason": "Volume"},
        {"allowance_charge_indicator": "charge", "amount": "5", "reason": "Rush"},
    ]
    invoice = account.invoice(invoice_lines_attributes=[line("1", "200", allowance_charges_attributes=adjustments)])
    assert invoice["invoice_lines"][0]["amount"] == "185.00"
    assert invoice["subtotal"] == "185.00"
    assert invoice["taxes"][0]["amount"] == "38.85"


def test_document_allowance_is_spread_over_the_tax_groups(sim: Sim) -> None:
    account = make_account(sim)
    lines = [line("1", "300", "21"), line("1", "100", "10")]
    doc = [{"allowance_charge_indicator": "allowance", "percentage": "10", "reason": "Loyalty"}]
    result = totals(account, lines, allowance_charges_attributes=doc)
    assert result["subtotal"] == "360.00"
    assert [(t["base"], t["amount"]) for t in result["taxes"]] == [("270.00", "56.70"), ("90.00", "9.00")]
    assert result["total"] == "425.70"


def test_document_charge_without_taxes_adds_to_subtotal_only(sim: Sim) -> None:
    account = make_account(sim)
    doc = [{"allowance_charge_indicator": "charge", "amount": "20", "apply_taxes": False, "reason": "Stamp"}]
    result = totals(account, [line("1", "100")], allowance_charges_attributes=doc)
    assert result["subtotal"] == "120.00"
    assert result["taxes"][0]["base"] == "100.00"
    assert result["taxes"][0]["amount"] == "21.00"
    assert result["total"] == "141.00"


def test_document_charge_with_taxes_is_taxed(sim: Sim) -> None:
    account = make_account(sim)
    doc = [{"allowance_charge_indicator": "charge", "amount": "20", "reason": "Shipping"}]
    result = totals(account, [line("1", "100")], allowance_charges_attributes=doc)
    assert (result["subtotal"], result["taxes"][0]["base"], result["total"]) == ("120.00", "120.00", "145.20")


def test_changing_account_settings_changes_new_invoices(sim: Sim) -> None:
    account = make_account(sim)
    assert totals(account, [line("1", "7886.64"), line("1", "818.44")], number="A")["total"] == "10533.15"
    response = account.call("PUT", f"accounts/{account.id}", {"account": {"apply_taxes_per_line": True}})
    assert response.status_code == 200
    assert totals(account, [line("1", "7886.64"), line("1", "818.44")], number="B", _tin="FR40303265045")["total"] == "10533.14"


# --- properties of the arithmetic -----------------------------------------------------------

money = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=3, allow_nan=False, allow_infinity=False)
quantity = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=3, allow_nan=False, allow_infinity=False)
percent = st.sampled_from([Decimal(p) for p in ("0", "4", "10", "21", "-15", "7.5")])
lines_st = st.lists(st.builds(lambda q, p, t: Line(q, p, taxes=[Tax("IVA", "S", t)]), quantity, money, percent), min_size=1, max_size=6)
settings_st = st.builds(Settings, st.sampled_from(["half_up", "bankers", "truncate"]), st.booleans(), st.booleans())


@given(lines=lines_st, settings_=settings_st, currency=st.sampled_from(["EUR", "JPY", "BHD"]))
def test_total_is_subtotal_plus_taxes_and_quantized(lines: list[Line], settings_: Settings, currency: str) -> None:
    result = compute_totals(lines, [], settings_, currency)
    assert result.total == result.subtotal + sum((g.amount for g in result.taxes), Decimal(0))
    exponent = {"EUR": -2, "JPY": 0, "BHD": -3}[currency]
    for amount in [result.subtotal, result.total, *(g.amount for g in result.taxes), *(g.base for g in result.taxes)]:
        assert amount.as_tuple().exponent == exponent


positive_lines = st.lists(
    st.builds(lambda q, p, t: Line(q, p, taxes=[Tax("IVA", "S", t)]), quantity, money.map(abs), percent.map(abs)),
    min_size=1,
    max_size=6,
)


@given(lines=positive_lines, rbs=st.booleans(), per_line=st.booleans())
def test_truncate_never_exceeds_half_up_on_positive_lines(lines: list[Line], rbs: bool, per_line: bool) -> None:
    up = compute_totals(lines, [], Settings("half_up", rbs, per_line), "EUR")
    down = compute_totals(lines, [], Settings("truncate", rbs, per_line), "EUR")
    assert down.subtotal <= up.subtotal
    assert all(d.amount <= u.amount for d, u in zip(down.taxes, up.taxes, strict=True))
    # Each rounding moves a value by at most one cent, so the two subtotals stay within a cent
    # per rounded line (round_before_sum) plus the final rounding.
    assert abs(up.subtotal - down.subtotal) <= Decimal("0.01") * (len(lines) + 1)


@given(lines=lines_st, per_line=st.booleans())
def test_settings_only_move_the_tax_by_rounding(lines: list[Line], per_line: bool) -> None:
    one = compute_totals(lines, [], Settings("half_up", True, False), "EUR")
    other = compute_totals(lines, [], Settings("half_up", True, per_line), "EUR")
    for a, b in zip(one.taxes, other.taxes, strict=True):
        assert abs(a.amount - b.amount) <= Decimal("0.005") * (len(lines) + 1)


@given(
    lines=lines_st,
    pct=st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=2),
)
def test_document_allowance_lowers_subtotal_by_its_rounded_amount(lines: list[Line], pct: Decimal) -> None:
    settings_ = Settings("half_up", True, False)
    plain = compute_totals(lines, [], settings_, "EUR")
    reduced = compute_totals(lines, [AllowanceCharge(is_charge=False, percentage=pct)], settings_, "EUR")
    assert reduced.subtotal == plain.subtotal - reduced.document_adjustments[0]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prices=st.lists(st.decimals(min_value=Decimal("0"), max_value=Decimal("9999"), places=2), min_size=1, max_size=4),
    per_line=st.booleans(),
)
def test_api_totals_add_up(sim: Sim, prices: list[Decimal], per_line: bool) -> None:
    account = make_account(sim, apply_taxes_per_line=per_line)
    invoice = account.invoice(invoice_lines_attributes=[line("1", str(p)) for p in prices])
    assert Decimal(invoice["total"]) == Decimal(invoice["subtotal"]) + sum(Decimal(t["amount"]) for t in invoice["taxes"])
    assert Decimal(invoice["subtotal"]) == sum(prices, Decimal(0))


def test_document_allowance_lowers_the_tax_base_even_without_apply_taxes(sim: Sim) -> None:
    # Section 7 step 3 reads apply_taxes on charges only: an allowance always lowers the bases.
    account = make_account(sim)
    doc = [{"allowance_charge_indicator": "allowance", "amount": "20", "apply_taxes": False, "reason": "Loyalty"}]
    result = totals(account, [line("1", "100")], allowance_charges_attributes=doc)
    assert (result["subtotal"], result["taxes"][0]["base"], result["taxes"][0]["amount"], result["total"]) == (
        "80.00", "80.00", "16.80", "96.80")


# --- exact tax bases under a document allowance (truncate lost a cent) -----------------------


@pytest.mark.parametrize("per_line,tax,total", [(False, "17.28", "99.60"), (True, "17.27", "99.59")])
def test_truncate_with_a_document_percentage_keeps_the_base_exact(sim: Sim, per_line: bool, tax: str, total: str) -> None:
    # 59.97 + 29.01 + 0.01 = 88.99; 7.5 % of it truncated is 6.67; the base is 82.32 exactly.
    # Spreading 6.67 in proportion with inexact division made the group's base 82.3199..., cut to 82.31.
    account = make_account(sim, rounding_method="truncate", round_before_sum=True, apply_taxes_per_line=per_line)
    lines = [line("3", "19.99"), line("7", "4.145"), line("1", "0.015")]
    doc = [{"allowance_charge_indicator": "allowance", "percentage": "7.5", "reason": "Discount"}]
    result = totals(account, lines, allowance_charges_attributes=doc)
    assert result["subtotal"] == "82.32"
    assert (result["taxes"][0]["base"], result["taxes"][0]["amount"], result["total"]) == ("82.32", tax, total)


document_adjustments_st = st.lists(
    st.builds(
        lambda is_charge, pct, amount, use_pct: AllowanceCharge(
            is_charge=is_charge, percentage=pct if use_pct else None, amount=None if use_pct else amount),
        st.booleans(),
        st.decimals(min_value=Decimal("0"), max_value=Decimal("30"), places=3),
        st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=2),
        st.booleans(),
    ),
    min_size=1,
    max_size=3,
)
one_group_lines = st.lists(
    st.builds(lambda q, p: Line(q, p, taxes=[Tax("IVA", "S", Decimal(21))]), quantity, money.map(abs)),
    min_size=1,
    max_size=7,
)


@given(lines=one_group_lines, adjustments=document_adjustments_st, settings_=settings_st,
       currency=st.sampled_from(["EUR", "JPY", "BHD"]))
def test_a_single_groups_base_is_the_subtotal_under_any_spread(
    lines: list[Line], adjustments: list[AllowanceCharge], settings_: Settings, currency: str
) -> None:
    # When every line carries the same tax and every adjustment is taxed, the group's base is
    # the whole tax-exclusive amount: however the adjustments are spread over the lines, their
    # shares must add up exactly, so the base rounds exactly like the subtotal does.
    result = compute_totals(lines, adjustments, settings_, currency)
    assert result.taxes[0].base == result.subtotal
