"""Money helpers: currency minor units (from Babel's CLDR data) and rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies


@lru_cache(maxsize=None)
def minor_units(currency: str) -> int:
    """Return the number of decimals of ``currency`` (EUR 2, JPY 0)."""
    return int(get_currency_precision(currency.upper()))


@lru_cache(maxsize=None)
def currency_codes() -> tuple[str, ...]:
    """Return the ISO 4217 codes known to Babel, sorted."""
    return tuple(sorted(list_currencies()))


def quantum(currency: str) -> Decimal:
    """Return the smallest amount of ``currency`` as a Decimal exponent (0.01 for EUR)."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round ``amount`` to the minor unit of ``currency`` (half up unless told otherwise)."""
    return amount.quantize(quantum(currency), rounding=rounding)
