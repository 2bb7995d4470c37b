"""Invoice arithmetic, EN 16931 style, in Decimal only.

Each line amount is ``quantity x unit price`` rounded half up to the currency's
minor unit; the subtotal is the sum of the rounded lines; a percentage discount
or charge is rounded on the subtotal; the tax-exclusive base is
``subtotal - discounts + charges``; a percentage tax is rounded on that base
(negative rates are withholdings such as IRPF) and an absolute tax is its
amount; the total is ``base + taxes``. This equals B2Brouter's model with
``rounding_method=half_up``, ``round_before_sum=true`` and
``apply_taxes_per_line=false``.

Everything works on plain inputs (:func:`calculate`) so the integration and
the tests can use it without the database; :func:`calculate_invoice` adapts an
``Invoice`` and reads ``lines``, ``adjustments`` and ``taxes`` through
``.all()``, so prefetching them avoids one query per invoice in a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from b2binvoice.core.money import round_money

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# The same values as the model choices (AdjustmentKind, AdjustmentMode, TaxKind); kept as
# plain strings so this module imports nothing from Django models.
DISCOUNT = "discount"
CHARGE = "charge"
PERCENTAGE = "percentage"
ABSOLUTE = "absolute"


@dataclass(frozen=True)
class LineInput:
    """One invoice line: quantity x unit price."""

    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class AdjustmentInput:
    """An invoice-level discount or charge; ``value`` is a percent or an amount depending on ``mode``."""

    kind: str
    mode: str
    value: Decimal


@dataclass(frozen=True)
class TaxInput:
    """An invoice-level tax: a percentage (``rate``) or an absolute ``amount``."""

    name: str
    kind: str
    rate: Decimal | None
    amount: Decimal | None
    category: str


@dataclass(frozen=True)
class TaxAmount:
    """A tax as computed on an invoice: the base it applies to and its amount."""

    name: str
    kind: str
    category: str
    rate: Decimal | None
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    """All amounts of an invoice, each rounded to the currency's minor unit."""

    currency: str
    line_amounts: tuple[Decimal, ...]
    subtotal: Decimal
    discounts: tuple[Decimal, ...]
    charges: tuple[Decimal, ...]
    discount_total: Decimal
    charge_total: Decimal
    base: Decimal
    taxes: tuple[TaxAmount, ...]
    tax_total: Decimal
    total: Decimal


def line_amount(line: LineInput, currency: str) -> Decimal:
    """Return the rounded amount of one line."""
    return round_money(Decimal(line.quantity) * Decimal(line.unit_price), currency)


def adjustment_amount(adjustment: AdjustmentInput, subtotal: Decimal, currency: str) -> Decimal:
    """Return the rounded amount of a discount or charge on ``subtotal``."""
    value = Decimal(adjustment.value)
    if adjustment.mode == PERCENTAGE:
        return round_money(subtotal * value / HUNDRED, currency)
    return round_money(value, currency)


def tax_amount(tax: TaxInput, base: Decimal, currency: str) -> Decimal:
    """Return the rounded amount of ``tax`` on the tax-exclusive ``base``."""
    if tax.kind == ABSOLUTE:
        return round_money(Decimal(tax.amount or 0), currency)
    return round_money(base * Decimal(tax.rate or 0) / HUNDRED, currency)


def calculate(lines: Iterable[LineInput], adjustments: Iterable[AdjustmentInput], taxes: Iterable[TaxInput],
              currency: str) -> InvoiceTotals:
    """Compute every amount of an invoice from plain inputs."""
    # Products of 18-digit quantities and 20-digit prices exceed the default 28-digit
    # context; a wider one keeps every intermediate exact before the final rounding.
    with localcontext() as context:
        context.prec = 80
        return _calculate(list(lines), list(adjustments), list(taxes), currency.upper())


def _calculate(lines: list[LineInput], adjustments: list[AdjustmentInput], taxes: list[TaxInput],
               currency: str) -> InvoiceTotals:
    line_amounts = tuple(line_amount(line, currency) for line in lines)
    subtotal = round_money(sum(line_amounts, ZERO), currency)
    discounts = tuple(adjustment_amount(a, subtotal, currency) for a in adjustments if a.kind == DISCOUNT)
    charges = tuple(adjustment_amount(a, subtotal, currency) for a in adjustments if a.kind == CHARGE)
    discount_total = round_money(sum(discounts, ZERO), currency)
    charge_total = round_money(sum(charges, ZERO), currency)
    base = subtotal - discount_total + charge_total
    tax_amounts = tuple(
        TaxAmount(name=tax.name, kind=tax.kind, category=tax.category,
                  rate=None if tax.kind == ABSOLUTE else Decimal(tax.rate or 0),
                  base=base, amount=tax_amount(tax, base, currency))
        for tax in taxes
    )
    tax_total = round_money(sum((t.amount for t in tax_amounts), ZERO), currency)
    return InvoiceTotals(
        currency=currency,
        line_amounts=line_amounts,
        subtotal=subtotal,
        discounts=discounts,
        charges=charges,
        discount_total=discount_total,
        charge_total=charge_total,
        base=base,
        taxes=tax_amounts,
        tax_total=tax_total,
        total=base + tax_total,
    )


def calculate_invoice(invoice: Any) -> InvoiceTotals:
    """Compute the totals of a saved ``Invoice`` (prefetch lines, adjustments and taxes in lists)."""
    return calculate(
        [LineInput(quantity=line.quantity, unit_price=line.unit_price) for line in invoice.lines.all()],
        [AdjustmentInput(kind=a.kind, mode=a.mode, value=a.value) for a in invoice.adjustments.all()],
        [TaxInput(name=t.name, kind=t.kind, rate=t.rate, amount=t.amount, category=t.category)
         for t in invoice.taxes.all()],
        invoice.currency,
    )
