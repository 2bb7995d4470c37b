"""Numbers and dates in the user's language: "1.234,56" in Spanish and Catalan, "1,234.56" in English.

Only what is typed and shown changes: values are Decimals and dates everywhere else, so what is
stored and what is sent to B2Brouter stays the same in every language. Parsing is strict
(Babel's ``parse_decimal(strict=True)``): "45.50" typed in Spanish is refused instead of being
read as 4550, and "1.234" is one thousand two hundred thirty-four in Spanish but 1.234 in English.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberFormatError, format_currency, format_decimal, get_decimal_symbol, parse_decimal
from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext_lazy as _, to_locale

from b2binvoice.core.money import minor_units, round_money

# Digits, signs and the separators of the languages served; anything else (an exponent, a
# currency sign, letters) is refused before Babel, which would take "1e5" as 100000.
_ALLOWED = re.compile(r"^[+\-−]?[0-9.,\s\u00a0\u202f'’]*$")


def current_locale() -> Locale:
    """Return the Babel locale of the active language (English when none or unknown)."""
    try:
        return Locale.parse(to_locale(get_language() or "en"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def plain(value: Decimal) -> str:
    """Return ``value`` in positional notation without trailing zeros (12000.0000 -> 12000, 1E+3 -> 1000)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_number(value: Any, *, grouping: bool = True) -> str:
    """Format a quantity, price or rate in the active language, every decimal kept (1.234,085 in Spanish)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    return format_decimal(Decimal(plain(number)), locale=current_locale(), decimal_quantization=False,
                          group_separator=grouping)


def format_money(value: Any, currency: str, *, grouping: bool = True) -> str:
    """Format an amount with the decimals of ``currency`` in the active language (1.234,50), no symbol.

    ``grouping=False`` leaves out the thousands separator (1234,50), as a form field shows it.
    """
    amount = round_money(Decimal(str(value)), currency)
    places = minor_units(currency)
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * places if places else "")
    return format_decimal(amount, format=pattern, locale=current_locale())


def format_price(value: Any, currency: str = "") -> str:
    """Format a price or a compared figure: at least the decimals of ``currency``, every further one kept, grouped.

    45.5 EUR -> 45,50 and 1234.56 -> 1.234,56 in Spanish (as ``format_money``), but 0.085 stays 0,085 and
    104.8951 stays 104,8951: nothing is rounded away. A value that is not a number is shown as it came.
    """
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    try:
        places = minor_units(currency) if currency else 2
    except Exception:  # noqa: BLE001 (an unknown currency code: two decimals, as most currencies)
        places = 2
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(Decimal(plain(number)), format=pattern, locale=current_locale(), decimal_quantization=False)


def format_amount(value: Any, currency: str) -> str:
    """Format an amount with its currency as the active language writes it (1.234,56 € / €1,234.56)."""
    amount = round_money(Decimal(str(value)), currency)
    return format_currency(amount, currency.upper(), locale=current_locale())


def parse_number(text: str) -> Decimal:
    """Parse a number typed in the active language; raise ValueError when it is not one, or is ambiguous."""
    cleaned = text.strip().replace("−", "-")
    if not cleaned or not _ALLOWED.match(cleaned) or not any(c.isdigit() for c in cleaned):
        raise ValueError(text)
    try:
        number = parse_decimal(cleaned, locale=current_locale(), strict=True)
    except (NumberFormatError, InvalidOperation, ValueError) as exc:
        raise ValueError(text) from exc
    if not number.is_finite():
        raise ValueError(text)
    return number


def number_example() -> str:
    """Return 1234.56 as the active language writes it, for error messages and placeholders."""
    return format_decimal(Decimal("1234.56"), locale=current_locale())


def decimal_symbol() -> str:
    """Return the decimal separator of the active language ("," in Spanish)."""
    return get_decimal_symbol(current_locale())


class LocalDecimalField(forms.DecimalField):
    """A DecimalField that reads and shows numbers in the active language, strictly.

    What the user typed is kept on error (the bound data is shown as typed); a value from
    the database is shown without trailing zeros and with the language's decimal separator.
    """

    widget = forms.TextInput

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return parse_number(str(value))
        except ValueError:
            raise ValidationError(
                _("Enter a number written like %(example)s (“%(decimal)s” before the decimals)."),
                code="invalid", params={"example": number_example(),
                                        "decimal": decimal_symbol()}) from None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return format_number(value, grouping=False)
        return value

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        # A text input: type=number would refuse the comma in most browsers.
        attrs.pop("step", None)
        attrs.pop("max", None)
        attrs.pop("min", None)
        attrs.setdefault("inputmode", "decimal")
        return attrs


def local_date(value: Any) -> str:
    """Format a date in the active language: ISO (2026-12-31) in English, 31/12/2026 in Spanish and Catalan."""
    if not isinstance(value, dt.date):
        return "" if value is None else str(value)
    if current_locale().language == "en":
        return value.isoformat()
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def local_datetime(value: Any, *, seconds: bool = True) -> str:
    """Format a moment in the configured time zone and the active language: 2026-12-31 14:05:09 in English,
    31/12/2026 14:05:09 in Spanish and Catalan (``seconds=False`` leaves out the seconds)."""
    if not isinstance(value, dt.datetime):
        return local_date(value) if isinstance(value, dt.date) else ("" if value is None else str(value))
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{local_date(value.date())} {value:%H:%M:%S}" if seconds else f"{local_date(value.date())} {value:%H:%M}"
