"""Template filters that format money with the currency's decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from b2binvoice.core.money import minor_units, round_money

register = template.Library()


@register.filter
def money(value: Any, currency: str = "EUR") -> str:
    """Format ``value`` with thousands separators and the decimals of ``currency`` (1,234.20)."""
    if value is None or value == "":
        return ""
    try:
        amount = round_money(Decimal(str(value)), currency)
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.{minor_units(currency)}f}"


@register.filter
def percent(value: Any) -> str:
    """Format a rate without trailing zeros (21.0000 -> 21, -15 -> -15, 5.5 -> 5.5)."""
    if value is None or value == "":
        return ""
    rate = Decimal(str(value))
    text = format(rate.normalize(), "f")
    return text


@register.filter
def plain_decimal(value: Any) -> str:
    """Format a quantity or price without trailing zeros (12000.0000 -> 12000, 0.085000 -> 0.085)."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value))
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
