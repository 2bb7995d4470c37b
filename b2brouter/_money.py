"""Money on the wire as :class:`~decimal.Decimal`, never through float.

Reading: response bodies are parsed with ``json.loads(text, parse_float=Decimal)``, so a JSON
number such as ``1828.07`` becomes ``Decimal("1828.07")`` digit for digit. B2Brouter may also
send amounts as strings (``"1828.07"``) or as integers (``100``); :func:`with_decimals` turns
every value under a money key (:data:`MONEY_FIELDS`) into a ``Decimal`` whatever its JSON type.

Writing: :func:`dumps` writes a ``Decimal`` as a JSON *number* whose digits are the Decimal's
own (``Decimal("12.30")`` -> ``12.30``); it never converts to float. Numbers rather than strings
because that is what B2Brouter documents for ``quantity``, ``price`` and ``percent`` and what
every JSON API accepts. To send a value as a string instead (Rails casts ``"12.30"`` exactly to
BigDecimal), put a ``str`` in the payload: strings are sent unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["MONEY_FIELDS", "dumps", "loads", "to_decimal", "with_decimals"]

#: Keys whose values are amounts, rates or quantities, wherever they appear in an invoice.
MONEY_FIELDS: frozenset[str] = frozenset(
    {
        "amount",
        "amount_to_pay",
        "base",
        "base_amount",
        "base_quantity",
        "charge_amount",
        "discount_amount",
        "discount_percent",
        "line_extension_amount",
        "payable_amount",
        "percent",
        "percentage",
        "prepaid_amount",
        "price",
        "quantity",
        "subtotal",
        "tax_amount",
        "tax_exclusive_amount",
        "tax_inclusive_amount",
        "taxable_amount",
        "taxable_base",
        "total",
        "total_amount",
    }
)

# Fixed-point notation for Decimals within this exponent range (12.30, 100, 0.001);
# scientific notation beyond it, which JSON allows, so 1E+1000 stays 7 characters.
_FIXED_POINT_EXPONENTS = range(-40, 41)


def to_decimal(value: object) -> Decimal:
    """Return ``value`` (a Decimal, int, numeric string or float) as a finite Decimal.

    A float is read through its shortest repr (``0.1`` -> ``Decimal("0.1")``), the digits it
    was written with, never through its binary value. Raise ValueError for anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, (str, float)):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
    else:
        raise ValueError(f"not an amount: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return result


def with_decimals(data: Any, fields: frozenset[str] = MONEY_FIELDS) -> Any:
    """Return ``data`` with every value under a key in ``fields`` converted to Decimal.

    Walks nested dicts and lists. A value that is not a number (None, "", "n/a") is kept
    as it is rather than failing the whole response.
    """
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in fields and value is not None and not isinstance(value, (dict, list)):
                try:
                    out[key] = to_decimal(value)
                except ValueError:
                    out[key] = value
            else:
                out[key] = with_decimals(value, fields)
        return out
    if isinstance(data, list):
        return [with_decimals(item, fields) for item in data]
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as Decimal; reject NaN and Infinity."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def decimal_literal(value: Decimal) -> str:
    """Return the JSON number literal of a finite Decimal, with exactly its digits."""
    if not value.is_finite():
        raise ValueError(f"{value!r} cannot be sent as JSON")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, so never 'n', 'N' or 'F'
    if exponent in _FIXED_POINT_EXPONENTS:
        return format(value, "f")
    return str(value)


def dumps(obj: Any) -> bytes:
    """Serialise ``obj`` to UTF-8 JSON, writing Decimal as exact number literals.

    Accept dicts (string keys), lists, tuples, str, int, bool, None, Decimal, float (its repr),
    ``datetime.date`` and ``datetime.datetime`` (ISO 8601 strings).
    """
    chunks: list[str] = []
    _encode(obj, chunks.append)
    return "".join(chunks).encode("utf-8")


def _encode(obj: Any, write: Callable[[str], object]) -> None:
    if obj is None or isinstance(obj, (bool, str)):
        write(json.dumps(obj))
    elif isinstance(obj, Decimal):
        write(decimal_literal(obj))
    elif isinstance(obj, int):
        write(int.__repr__(obj))
    elif isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise ValueError(f"{obj!r} cannot be sent as JSON")
        write(float.__repr__(obj))
    elif isinstance(obj, (dt.date, dt.datetime)):
        write(json.dumps(obj.isoformat()))
    elif isinstance(obj, Mapping):
        write("{")
        for index, (key, value) in enumerate(obj.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, not {type(key).__name__}")
            write(", " if index else "")
            write(json.dumps(key))
            write(": ")
            _encode(value, write)
        write("}")
    elif isinstance(obj, (list, tuple)):
        write("[")
        for index, item in enumerate(obj):
            write(", " if index else "")
            _encode(item, write)
        write("]")
    else:
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
