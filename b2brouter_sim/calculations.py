"""The simulator's model of how B2Brouter computes invoice totals (contract section 7).

Independent of the app's arithmetic on purpose: if both shared code, a bug in one would hide
in the other. Inputs and outputs are Decimal; in between every value is an exact Fraction, and the only
rounding is R(), to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from babel.numbers import get_currency_precision

ROUNDINGS = {"half_up": ROUND_HALF_UP, "bankers": ROUND_HALF_EVEN, "truncate": ROUND_DOWN}


@dataclass(frozen=True)
class Settings:
    """An account's three calculation settings."""

    rounding_method: str = "half_up"
    round_before_sum: bool = True
    apply_taxes_per_line: bool = False


@dataclass(frozen=True)
class Tax:
    """One tax of a line: a group key (name, category, percent)."""

    name: str
    category: str
    percent: Decimal


@dataclass(frozen=True)
class AllowanceCharge:
    """A discount (allowance) or surcharge (charge), as a percentage or an amount."""

    is_charge: bool
    percentage: Decimal | None = None
    amount: Decimal | None = None
    apply_taxes: bool = True
    reason: str = ""


@dataclass(frozen=True)
class Line:
    """An invoice line as the calculation needs it."""

    quantity: Decimal
    price: Decimal
    base_quantity: Decimal = Decimal(1)
    taxes: Sequence[Tax] = ()
    allowance_charges: Sequence[AllowanceCharge] = ()


@dataclass
class TaxGroup:
    """A computed tax group of the response's `taxes[]`."""

    name: str
    category: str
    percent: Decimal
    base: Decimal
    amount: Decimal


@dataclass
class Totals:
    """The computed totals: line amounts, document adjustments, groups, subtotal and total."""

    line_amounts: list[Decimal]
    document_adjustments: list[Decimal]
    taxes: list[TaxGroup] = field(default_factory=list)
    subtotal: Decimal = Decimal(0)
    total: Decimal = Decimal(0)


def minor_units(currency: str) -> int:
    """Return the number of decimals of `currency` (2 for EUR, 0 for JPY), from Babel's data."""
    return int(get_currency_precision(currency.upper()))


def rounder(currency: str, rounding_method: str):  # type: ignore[no-untyped-def]
    """Return R(): round an exact value (Fraction or Decimal) to the currency's minor unit."""
    places = minor_units(currency)
    quantum = Decimal(1).scaleb(-places)
    mode = ROUNDINGS[rounding_method]
    scale = 10**places

    def R(value: Fraction | Decimal) -> Decimal:
        exact = Fraction(value) * scale
        # Split |x| into whole minor units and an exact remainder; only then decide the rounding,
        # so a value like 82.32 reached through thirds is never seen as 82.3199... and cut.
        negative = exact < 0
        whole, rest = divmod(abs(exact.numerator), exact.denominator)
        remainder = Fraction(rest, exact.denominator)
        if mode == ROUND_HALF_UP:
            whole += remainder >= Fraction(1, 2)
        elif mode == ROUND_HALF_EVEN:
            whole += remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and whole % 2 == 1)
        # ROUND_DOWN (truncate) keeps the whole units: towards zero for negatives too.
        result = Decimal(-whole if negative else whole).scaleb(-places).quantize(quantum)
        # Adding zero turns a rounded -0.00 into 0.00, which is what an API should print.
        return result + 0

    return R


def _exact(value: Decimal | None) -> Fraction:
    return Fraction(value) if value is not None else Fraction(0)


def _adjust(base: Fraction, adjustments: Sequence[AllowanceCharge]) -> Fraction:
    """Apply line-level allowances and charges to a line base, exactly."""
    net = base
    for adj in adjustments:
        value = base * _exact(adj.percentage) / 100 if adj.percentage is not None else _exact(adj.amount)
        net += value if adj.is_charge else -value
    return net


def compute_totals(
    lines: Sequence[Line],
    document_adjustments: Sequence[AllowanceCharge],
    settings: Settings,
    currency: str,
) -> Totals:
    """Compute line amounts, tax groups, subtotal and total with the section 7 model.

    Every intermediate value is an exact fraction; R() is the only rounding. A document
    allowance spread over lines in proportion (thirds, sevenths) therefore keeps each group's
    base exact, and truncation cannot lose a cent to a division that did not come out even.
    """
    R = rounder(currency, settings.rounding_method)
    # Steps 1-2: exact line nets, then each line's contribution to the sums.
    nets = [
        _adjust(_exact(line.quantity) * _exact(line.price) / _exact(line.base_quantity), line.allowance_charges)
        for line in lines
    ]
    line_amounts = [R(n) for n in nets]
    contributions: list[Fraction] = ([Fraction(a) for a in line_amounts] if settings.round_before_sum
                                     else list(nets))
    total_c = sum(contributions, Fraction(0))

    # Step 3: document allowances/charges as amounts, spread over the lines by contribution.
    amounts: list[Decimal] = []
    bases = list(contributions)
    for adj in document_adjustments:
        if adj.percentage is not None:
            amount = R(total_c * _exact(adj.percentage) / 100)
        else:
            amount = adj.amount if adj.amount is not None else Decimal(0)
        amounts.append(amount)
        if adj.is_charge and not adj.apply_taxes:
            # Section 7 step 3: such a charge adds to the subtotal but to no tax base. An
            # allowance always lowers the bases (the model reads apply_taxes on charges only).
            continue
        signed = Fraction(amount) if adj.is_charge else -Fraction(amount)
        for i, c in enumerate(contributions):
            if total_c != 0:
                bases[i] += signed * c / total_c
            elif contributions:
                bases[i] += signed / len(contributions)

    # Steps 4-5: one group per distinct (name, category, percent), in order of appearance.
    # Each group's members are an insertion-ordered dict (a set that keeps the lines' order): a
    # membership test costs the same however many lines the group already has, so the totals stay
    # linear in the number of lines.
    groups: dict[tuple[str, str, Decimal], dict[int, None]] = {}
    for i, line in enumerate(lines):
        for tax in line.taxes:
            groups.setdefault((tax.name, tax.category, tax.percent), {})[i] = None
    tax_groups = []
    for (name, category, percent), members in groups.items():
        rate = Fraction(percent) / 100
        base = R(sum((bases[i] for i in members), Fraction(0)))
        if settings.apply_taxes_per_line:
            amount = sum((R(bases[i] * rate) for i in members), Decimal(0))
        else:
            amount = R(Fraction(base) * rate)
        tax_groups.append(TaxGroup(name=name, category=category, percent=percent, base=base, amount=amount))

    # Step 6.
    signed_amounts = [
        Fraction(a) if adj.is_charge else -Fraction(a) for a, adj in zip(amounts, document_adjustments, strict=True)
    ]
    subtotal = R(total_c + sum(signed_amounts, Fraction(0)))
    total = subtotal + sum((g.amount for g in tax_groups), Decimal(0))
    return Totals(
        line_amounts=line_amounts,
        document_adjustments=amounts,
        taxes=tax_groups,
        subtotal=subtotal,
        total=R(total),
    )


def money(value: Decimal, currency: str) -> str:
    """Format an amount as the wire string with exactly the currency's decimals."""
    return f"{value.quantize(Decimal(1).scaleb(-minor_units(currency))):f}"
