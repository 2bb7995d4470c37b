"""Template filters that format money, numbers and dates in the active language.

``money`` keeps the currency's decimals (1,234.20 in English, 1.234,20 in Spanish); ``amount``
adds the currency as the language writes it (€1,234.20 / 1.234,20 €); ``price`` shows a unit price
with the currency's decimals at least and none dropped (1.234,56 / 0,085); ``quantity`` a quantity
with thousands separators; ``plain_decimal`` and ``percent`` show numbers and rates without trailing
zeros or grouping; ``local_date`` shows a
date as the language writes it (ISO in English).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from b2binvoice.core import localformats

register = template.Library()


@register.filter
def money(value: Any, currency: str = "EUR") -> str:
    """Format ``value`` with thousands separators and the decimals of ``currency`` (1,234.20 / 1.234,20)."""
    if value is None or value == "":
        return ""
    try:
        return localformats.format_money(value, currency)
    except (InvalidOperation, ValueError):
        return str(value)


@register.filter
def amount(value: Any, currency: str = "EUR") -> str:
    """Format ``value`` with its currency as the active language writes it (€1,234.20 / 1.234,20 €)."""
    if value is None or value == "":
        return ""
    try:
        return localformats.format_amount(value, currency)
    except (InvalidOperation, ValueError):
        return str(value)


@register.filter
def percent(value: Any) -> str:
    """Format a rate without trailing zeros (21.0000 -> 21, -15 -> -15, 5.5 -> 5.5 / 5,5)."""
    if value is None or value == "":
        return ""
    return localformats.format_number(Decimal(str(value)), grouping=False)


@register.filter
def plain_decimal(value: Any) -> str:
    """Format a quantity or price without trailing zeros (12000.0000 -> 12000, 0.085000 -> 0.085 / 0,085)."""
    if value is None or value == "":
        return ""
    return localformats.format_number(Decimal(str(value)), grouping=False)


@register.filter
def price(value: Any, currency: str = "") -> str:
    """Format a unit price or compared figure: the currency's decimals at least, none dropped (45,50 / 0,085 / 1.234,56)."""
    return localformats.format_price(value, currency)


@register.filter
def quantity(value: Any) -> str:
    """Format a quantity with thousands separators and without trailing zeros (12.000 / 2,5)."""
    if value is None or value == "":
        return ""
    return localformats.format_number(value)


@register.filter
def local_date(value: Any) -> str:
    """Format a date in the active language (2026-12-31 in English, 31/12/2026 in Spanish)."""
    return localformats.local_date(value)


@register.filter
def local_datetime(value: Any, precision: str = "seconds") -> str:
    """Format a moment in the configured time zone and the active language (31/12/2026 14:05:09 in Spanish);
    ``local_datetime:"minutes"`` leaves out the seconds."""
    return localformats.local_datetime(value, seconds=precision != "minutes")
