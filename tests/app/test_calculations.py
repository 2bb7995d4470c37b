"""The invoice arithmetic (b2binvoice.invoices.calculations): worked examples and invariants."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from b2binvoice.core.money import minor_units, quantum
from b2binvoice.invoices.calculations import AdjustmentInput, LineInput, TaxInput, calculate

D = Decimal
VAT21 = TaxInput(name="IVA 21%", kind="percentage", rate=D("21"), amount=None, category="S")
IRPF15 = TaxInput(name="IRPF -15%", kind="percentage", rate=D("-15"), amount=None, category="S")
STAMP = TaxInput(name="Stamp duty", kind="absolute", rate=None, amount=D("1.50"), category="S")


def test_per_word_rate_rounds_each_line_half_up_to_cents():
    totals = calculate([LineInput(D("1234"), D("0.085"))], [], [], "EUR")
    assert totals.line_amounts == (D("104.89"),)  # exact 104.890
    totals = calculate([LineInput(D("12000"), D("0.085"))], [], [VAT21], "EUR")
    assert (totals.subtotal, totals.tax_total, totals.total) == (D("1020.00"), D("214.20"), D("1234.20"))


def test_half_cent_rounds_away_from_zero():
    # 1 x 0.125 = 0.125 -> 0.13 (half up), not 0.12 (banker's).
    assert calculate([LineInput(D("1"), D("0.125"))], [], [], "EUR").line_amounts == (D("0.13"),)


def test_tax_is_rounded_on_the_summed_base_not_per_line():
    totals = calculate([LineInput(D("1"), D("7886.64")), LineInput(D("1"), D("818.44"))], [], [VAT21], "EUR")
    assert totals.base == D("8705.08")
    assert totals.taxes[0].amount == D("1828.07")  # per line it would be 1656.19 + 171.87 = 1828.06
    assert totals.total == D("10533.15")


def test_percentage_discount_is_rounded_on_the_subtotal_and_lowers_the_tax_base():
    lines = [LineInput(D("5000"), D("0.08")), LineInput(D("2"), D("45"))]
    totals = calculate(lines, [AdjustmentInput("discount", "percentage", D("10"))], [VAT21], "EUR")
    assert totals.subtotal == D("490.00")
    assert totals.discounts == (D("49.00"),) and totals.discount_total == D("49.00")
    assert totals.base == D("441.00")
    assert totals.taxes[0].base == D("441.00") and totals.taxes[0].amount == D("92.61")
    assert totals.total == D("533.61")


def test_absolute_charge_and_discount():
    totals = calculate([LineInput(D("10"), D("10"))],
                       [AdjustmentInput("charge", "absolute", D("15")), AdjustmentInput("discount", "absolute", D("5"))],
                       [], "EUR")
    assert totals.charges == (D("15.00"),) and totals.discounts == (D("5.00"),)
    assert totals.base == D("110.00") and totals.total == D("110.00")


def test_iva_and_irpf_withholding():
    totals = calculate([LineInput(D("8200"), D("0.07"))], [], [VAT21, IRPF15], "EUR")
    assert [t.amount for t in totals.taxes] == [D("120.54"), D("-86.10")]
    assert totals.tax_total == D("34.44")
    assert totals.total == D("608.44")


def test_absolute_stamp_duty_is_added_as_is_whatever_the_base():
    totals = calculate([LineInput(D("3"), D("40"))], [], [VAT21, STAMP], "EUR")
    assert [t.amount for t in totals.taxes] == [D("25.20"), D("1.50")]
    assert totals.taxes[1].rate is None
    assert totals.total == D("146.70")


def test_jpy_has_no_decimals():
    totals = calculate([LineInput(D("3"), D("333.5"))], [], [VAT21], "JPY")
    assert totals.line_amounts == (D("1001"),)  # 1000.5 rounds half up
    assert totals.taxes[0].amount == D("210")  # 210.21
    assert totals.total == D("1211") and totals.total.as_tuple().exponent == 0


def test_no_lines_totals_zero():
    totals = calculate([], [], [VAT21], "EUR")
    assert totals.total == D("0.00") and totals.taxes[0].amount == D("0.00")


def test_huge_amounts_stay_exact():
    # (1e14 - 1e-4) x (1e14 - 1e-6) = 1e28 - 1e10 - 1e8 + 1e-10: 38 significant digits, more than
    # Decimal's default 28, which would round the product before the cent rounding.
    totals = calculate([LineInput(D("99999999999999.9999"), D("99999999999999.999999"))], [], [], "EUR")
    assert totals.subtotal == D("9999999999999999989900000000.00")


# --- Invariants ---------------------------------------------------------------------------------

CURRENCIES = st.sampled_from(["EUR", "USD", "GBP", "JPY", "CHF", "KWD"])
quantities = st.decimals(min_value=D("0"), max_value=D("1000000"), places=4, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=D("-10000"), max_value=D("100000"), places=6, allow_nan=False, allow_infinity=False)
lines_strategy = st.lists(st.builds(LineInput, quantities, prices), max_size=8)
rates = st.decimals(min_value=D("-30"), max_value=D("30"), places=4, allow_nan=False, allow_infinity=False)
taxes_strategy = st.lists(
    st.one_of(
        st.builds(TaxInput, name=st.just("pct"), kind=st.just("percentage"), rate=rates, amount=st.none(),
                  category=st.just("S")),
        st.builds(TaxInput, name=st.just("abs"), kind=st.just("absolute"), rate=st.none(),
                  amount=st.decimals(min_value=D("0"), max_value=D("100"), places=2), category=st.just("S")),
    ),
    max_size=4,
)
adjustments_strategy = st.lists(
    st.builds(AdjustmentInput, kind=st.sampled_from(["discount", "charge"]), mode=st.sampled_from(["percentage", "absolute"]),
              value=st.decimals(min_value=D("0"), max_value=D("100"), places=4)),
    max_size=3,
)


def _is_quantized(amount: Decimal, currency: str) -> bool:
    return amount.as_tuple().exponent == -minor_units(currency)


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, adjustments=adjustments_strategy, taxes=taxes_strategy, currency=CURRENCIES)
def test_totals_add_up_and_every_amount_is_in_minor_units(lines, adjustments, taxes, currency):
    totals = calculate(lines, adjustments, taxes, currency)
    assert totals.total == totals.base + totals.tax_total
    assert totals.tax_total == sum((t.amount for t in totals.taxes), D(0))
    assert totals.subtotal == sum(totals.line_amounts, D(0))
    assert totals.base == totals.subtotal - totals.discount_total + totals.charge_total
    amounts = [*totals.line_amounts, totals.subtotal, *totals.discounts, *totals.charges, totals.discount_total,
               totals.charge_total, totals.base, *(t.amount for t in totals.taxes), totals.tax_total, totals.total]
    assert all(_is_quantized(amount, currency) for amount in amounts)


@settings(max_examples=300, deadline=None)
@given(line=st.builds(LineInput, quantities, prices), currency=CURRENCIES)
def test_line_amount_is_within_half_a_minor_unit_of_the_exact_product(line, currency):
    (amount,) = calculate([line], [], [], currency).line_amounts
    assert abs(amount - line.quantity * line.unit_price) <= quantum(currency) / 2


@settings(max_examples=200, deadline=None)
@given(lines=lines_strategy, taxes=taxes_strategy, currency=CURRENCIES, kind=st.sampled_from(["discount", "charge"]))
def test_a_zero_percent_adjustment_changes_nothing(lines, taxes, currency, kind):
    plain = calculate(lines, [], taxes, currency)
    adjusted = calculate(lines, [AdjustmentInput(kind, "percentage", D("0"))], taxes, currency)
    assert (adjusted.base, adjusted.taxes, adjusted.total) == (plain.base, plain.taxes, plain.total)


@settings(max_examples=200, deadline=None)
@given(lines=lines_strategy, currency=CURRENCIES)
def test_a_withholding_never_raises_the_total(lines, currency):
    with_irpf = calculate(lines, [], [VAT21, IRPF15], currency)
    without = calculate(lines, [], [VAT21], currency)
    if with_irpf.base >= 0:
        assert with_irpf.total <= without.total
    else:  # a credit (negative base) withholds a negative amount
        assert with_irpf.total >= without.total
