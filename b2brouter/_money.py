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

__all__ = ["MONEY_FIELDS", "dumps", "loads", "loads_money", "to_decimal", "with_decimals"]

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


def _money_value(value: Any) -> Any:
    """Return a money key's value as a Decimal when it is a finite number; otherwise unchanged."""
    kind = type(value)
    if kind is Decimal or value is None or kind is bool:
        return value  # a parsed Decimal is finite: loads rejects NaN and Infinity
    if kind is int:
        return Decimal(value)
    if kind is str or kind is float:
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            return value
        return result if result.is_finite() else value
    try:
        return to_decimal(value)
    except ValueError:
        return value


def with_decimals(data: Any, fields: frozenset[str] = MONEY_FIELDS) -> Any:
    """Return ``data`` with every value under a key in ``fields`` converted to Decimal.

    Walks nested dicts and lists. A value that is not a number (None, "", "n/a") is kept
    as it is rather than failing the whole response. The input is not changed.

    Parsing a page of invoices spends most of its time here, so the walk descends only into
    dicts and lists and leaves every other value as it is without a call.
    """
    containers = (dict, list)

    def walk_dict(obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if isinstance(value, containers):
                out[key] = walk_dict(value) if isinstance(value, dict) else walk_list(value)
            elif key in fields:
                out[key] = _money_value(value)
            else:
                out[key] = value
        return out

    def walk_list(obj: list[Any]) -> list[Any]:
        return [(walk_dict(item) if isinstance(item, dict) else walk_list(item))
                if isinstance(item, containers) else item for item in obj]

    if isinstance(data, dict):
        return walk_dict(data)
    if isinstance(data, list):
        return walk_list(data)
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as Decimal; reject NaN and Infinity."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def _money_hook(obj: dict[str, Any], _fields: frozenset[str] = MONEY_FIELDS, _decimal: type = Decimal) -> dict[str, Any]:
    # Called by json for every object it builds; most values under money keys are Decimals already
    # (parse_float), so the common case is one C-level set operation and a few type checks.
    for key in _fields.intersection(obj):
        value = obj[key]
        kind = type(value)
        if kind is not _decimal and kind is not dict and kind is not list:
            obj[key] = _money_value(value)
    return obj


def loads_money(text: str | bytes) -> Any:
    """Parse JSON as :func:`loads` does and convert money keys as :func:`with_decimals` would, in one pass.

    The conversion happens as the parser builds each object (``object_hook``), so a page of 500
    invoices is not walked a second time: about half the cost of ``with_decimals(loads(text))``.
    Every object of the body is converted, so use it for bodies made of invoices only.
    """
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant, object_hook=_money_hook)


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
