"""Check and parse request bodies like B2Brouter does, raising ValidationFailed with a `param`.

The simulator's own checks: nothing here is shared with the app (IBANs come from python-stdnum,
currencies from Babel, both third-party).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from babel.numbers import list_currencies
from stdnum import iban as stdnum_iban

from .calculations import AllowanceCharge, Line, Tax
from .exceptions import BadRequest, ValidationFailed

if TYPE_CHECKING:
    from django.db import models

TAX_KEYS = {"name", "category", "percent", "comment"}
CATEGORIES = {"S", "AA", "AAA", "H", "Z", "E", "AE", "K", "G", "O", "NS"}
ZERO_RATE = {"Z", "E", "AE", "K", "G", "O", "NS"}

# Tax names B2Brouter documents (taxes_attributes guide: "Tax names must match the expected
# values ... Do not invent new names"), with the names its WooCommerce plugin sends per country.
# Exact spelling. The guide's per-country table could not be read, so the set is not per country.
TAX_NAMES = frozenset({"IVA", "IGIC", "IPSI", "IRPF", "IRNR", "IRPEF", "VAT", "TVA", "BTW", "MwSt", "USt", "GST"})
# Withholdings reduce the total: the guide gives them negative percents.
WITHHOLDING_NAMES = frozenset({"IRPF", "IRNR", "IRPEF"})

# Line units: B2Brouter documents no list; its only example sends an integer ("unit": 1), which
# reads as the Facturae UnitOfMeasure codes 01 (units) to 36 (kilowatt-hour). Free text is refused.
UNIT_CODES = range(1, 37)

# payment_method_guide, table "Payment Codes" (BT-81): 1 cash, 2 direct debit, 3 hold,
# 4 transfer, 7 awarding, 10 promissory note, 11 cheque, 12 reposition, 13 other, 14 compensation.
PAYMENT_METHODS = {1, 2, 3, 4, 7, 10, 11, 12, 13, 14}
TRANSFER = 4
DIRECT_DEBIT = 2
OTHER = 13
ROUNDING_METHODS = {"half_up", "bankers", "truncate"}
# Spanish corrective invoice reasons (PHP SDK docs/SPANISH_INVOICING.md, scenario 3): R1 error founded
# in law, R2 art. 80.3 (insolvency), R3 art. 80.4 (bad debts), R4 other causes, R5 simplified invoices.
AMEND_REASONS = ("R1", "R2", "R3", "R4", "R5")

# Bodies deeper than this are refused before they are parsed (a B2Brouter invoice is 5 levels deep).
MAX_NESTING = 32
# Numbers anywhere in a body: at most this many digits before and after the decimal point
# (B2Brouter stores amounts in database columns; no invoice needs more).
MAX_DIGITS = 15
MAX_INTEGER = 10**30
_JSON_TOKENS = re.compile(rb'[\\"\[\]{}]')
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def normalise_tin(value: str) -> str:
    """Return the comparable form of a TIN: upper case, no separators, no 2-letter country prefix."""
    compact = re.sub(r"[\s.\-/]", "", value or "").upper()
    if len(compact) > 2 and compact[:2].isalpha():
        compact = compact[2:]
    return compact


def out_of_range(value: Decimal) -> bool:
    """Tell whether a number has more than MAX_DIGITS digits before or after the decimal point (or none)."""
    exponent = value.as_tuple().exponent
    return not isinstance(exponent, int) or value.adjusted() >= MAX_DIGITS or exponent < -MAX_DIGITS


def decimal(value: Any, param: str, *, required: bool = True, default: Decimal | None = None) -> Decimal:
    """Parse a JSON number or numeric string into a Decimal, or raise ValidationFailed."""
    if value is None or value == "":
        if required:
            raise ValidationFailed(f"{_label(param)} can't be blank", code="parameter_blank", param=param)
        assert default is not None
        return default
    if isinstance(value, bool):
        raise ValidationFailed(f"{_label(param)} is not a number", param=param)
    try:
        # JSON is parsed with parse_float=Decimal, so str() round-trips what the caller wrote.
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{_label(param)} is not a number", param=param) from None
    if not result.is_finite():
        raise ValidationFailed(f"{_label(param)} is not a number", param=param)
    if out_of_range(result):
        raise ValidationFailed(
            f"{_label(param)} is out of range (at most {MAX_DIGITS} digits before and after the decimal point)",
            param=param)
    return result


def date(value: Any, param: str, *, required: bool = False) -> dt.date | None:
    """Parse an ISO date (YYYY-MM-DD), or raise ValidationFailed."""
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"{_label(param)} can't be blank", code="parameter_blank", param=param)
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(f"{_label(param)} is not a valid date (YYYY-MM-DD)", param=param) from None


def currency(value: Any, param: str = "currency") -> str:
    """Check an ISO 4217 currency code and return it upper case."""
    code = str(value or "").upper()
    if code not in list_currencies():
        raise ValidationFailed(f"Currency {value!r} is not a valid ISO 4217 code", code="parameter_inclusion", param=param)
    return code


def country(value: Any, param: str = "country") -> str:
    """Check a two-letter country code (either case) and return it lower case."""
    code = str(value or "").strip().lower()
    if not re.fullmatch(r"[a-z]{2}", code):
        raise ValidationFailed(f"Country {value!r} is not an ISO 3166 alpha-2 code", code="parameter_inclusion", param=param)
    return code


def seconds(value: Any, param: str) -> int:
    """Parse a whole number of seconds between 0 and 3600."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ValidationFailed(f"{_label(param)} must be a whole number of seconds", param=param)
    digits = str(value).strip()
    if not digits.isascii() or len(digits) > 4 or int(digits) > 3600:
        raise ValidationFailed(f"{_label(param)} must be at most 3600", param=param)
    return int(digits)


def boolean(value: Any, param: str) -> bool:
    """Parse a JSON boolean (or "true"/"false", 0/1), or raise ValidationFailed."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).lower() in {"1", "true", "0", "false"}:
        return str(value).lower() in {"1", "true"}
    raise ValidationFailed(f"{_label(param)} must be true or false", code="parameter_inclusion", param=param)


def rounding_method(value: Any) -> str:
    """Check a rounding method name."""
    if not isinstance(value, str) or value not in ROUNDING_METHODS:
        raise ValidationFailed(
            "Rounding method is not included in the list (half_up, bankers, truncate)",
            code="parameter_inclusion",
            param="rounding_method",
        )
    return str(value)


def wrapped(body: Any, key: str) -> dict[str, Any]:
    """Return body[key] when it is an object, or raise BadRequest."""
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise BadRequest(f"The body must be a JSON object wrapped in {key!r}: {{\"{key}\": {{...}}}}", param=key)
    return body[key]


def too_deep(raw: bytes, limit: int = MAX_NESTING) -> bool:
    """Tell whether JSON text nests arrays and objects more than ``limit`` levels deep.

    Scans the bytes without recursion and stops at the first level too many, so a body of
    100,000 opening brackets is refused at once instead of exhausting the parser's recursion.
    Brackets inside strings do not count.
    """
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_TOKENS.finditer(raw):
        token, at = match.group(), match.start()
        if at == escaped_at:
            continue
        if in_string:
            if token == b"\\":
                escaped_at = at + 1
            elif token == b'"':
                in_string = False
        elif token == b'"':
            in_string = True
        elif token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> Any:
    """Parse a request body: numbers as Decimal, no NaN or Infinity, at most MAX_NESTING levels deep."""
    if too_deep(raw):
        raise BadRequest(f"The body is nested more than {MAX_NESTING} levels deep")
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The body is not valid JSON") from None


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check_storable(value: Any, wrapper: str | None = None) -> None:
    """Refuse a parsed body holding what no B2Brouter column can store (422 with the value's param).

    That is a NUL character or an unpaired surrogate in any text, or a number beyond
    MAX_DIGITS digits (integers beyond 10^30). The walk uses its own stack, never recursion.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                child_path = _path(path, key) if path or key != wrapper else ""
                if _UNSTORABLE.search(key):
                    raise ValidationFailed("A key of the body contains a NUL character or an unpaired surrogate",
                                           param=path or "body")
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((_path(path, i), child) for i, child in enumerate(item))
        elif isinstance(item, str):
            storable(item, path or "body")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) >= MAX_INTEGER:
                raise ValidationFailed(f"{_label(path or 'body')} is out of range", param=path or "body")
        elif isinstance(item, Decimal) and out_of_range(item):
            raise ValidationFailed(
                f"{_label(path or 'body')} is out of range (at most {MAX_DIGITS} digits before and after the "
                "decimal point)", param=path or "body")


def storable(text: str, param: str) -> str:
    """Return ``text`` unless it holds a NUL character or an unpaired surrogate (422)."""
    if _UNSTORABLE.search(text):
        raise ValidationFailed(
            f"{_label(param)} contains a character that cannot be stored (a NUL character or an unpaired surrogate)",
            param=param)
    return text


def max_length(model: type[models.Model], field: str) -> int:
    """Return the length of a text column of the simulator's own tables."""
    length = model._meta.get_field(field).max_length
    assert length is not None
    return int(length)


def text(value: Any, param: str, limit: int) -> str:
    """Read a text field: a string, or a number written as text, of at most ``limit`` characters.

    null is "". A list, an object or a boolean is 422, as is text longer than its column.
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValidationFailed(f"{_label(param)} must be a string", param=param)
    result = value if isinstance(value, str) else str(value)
    if len(result) > limit:
        raise ValidationFailed(f"{_label(param)} is too long (maximum is {limit} characters)", param=param)
    return storable(result, param)


def whole_number(value: Any, param: str, *, maximum: int) -> int:
    """Parse a whole number from 0 to ``maximum`` (a JSON integer or a string of ASCII digits)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationFailed(f"{_label(param)} must be a whole number", param=param)
    digits = str(value).strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(maximum)) or int(digits) > maximum:
        raise ValidationFailed(f"{_label(param)} must be a whole number from 0 to {maximum}", param=param)
    return int(digits)


def _label(param: str) -> str:
    leaf = re.split(r"[.\]\[]", param.rstrip("]"))[-1] or param
    return leaf.replace("_", " ").capitalize()


def parse_taxes(raw: Any, param: str) -> list[Tax]:
    """Check a line's taxes_attributes: documented keys and names, zero rates, negative withholdings."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ValidationFailed("Taxes must be a list", param=param)
    taxes = []
    for j, item in enumerate(raw):
        p = f"{param}[{j}]"
        if not isinstance(item, dict):
            raise ValidationFailed("Each tax must be an object", param=p)
        extra = sorted(set(item) - TAX_KEYS)
        if extra:
            raise ValidationFailed(
                f"Unknown tax attribute {extra[0]!r}: taxes take only name, category, percent and comment",
                param=f"{p}.{extra[0]}",
            )
        category = str(item.get("category") or "S").upper()
        if category not in CATEGORIES:
            raise ValidationFailed(
                f"Category {category!r} is not included in the list ({', '.join(sorted(CATEGORIES))})",
                code="parameter_inclusion",
                param=f"{p}.category",
            )
        name = item.get("name")
        if name in (None, ""):
            raise ValidationFailed("Name can't be blank", code="parameter_blank", param=f"{p}.name")
        if not isinstance(name, str) or name not in TAX_NAMES:
            raise ValidationFailed(
                f"Name {name!r} is not a tax name B2Brouter knows ({', '.join(sorted(TAX_NAMES))})",
                code="parameter_inclusion",
                param=f"{p}.name",
            )
        percent = decimal(item.get("percent"), f"{p}.percent")
        if category in ZERO_RATE and percent != 0:
            raise ValidationFailed(
                f"Percent must be 0 for category {category}", code="parameter_inclusion", param=f"{p}.percent"
            )
        if name in WITHHOLDING_NAMES and percent > 0:
            raise ValidationFailed(
                f"Percent must be negative for the withholding {name}", code="parameter_inclusion", param=f"{p}.percent"
            )
        # An exemption reason in `comment` is recommended for E, Z and AE but not required (guide).
        taxes.append(Tax(name=name, category=category, percent=percent))
    return taxes


def parse_allowance_charges(raw: Any, param: str) -> list[AllowanceCharge]:
    """Check allowance_charges_attributes (line or document level)."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ValidationFailed("Allowances and charges must be a list", param=param)
    result = []
    for j, item in enumerate(raw):
        p = f"{param}[{j}]"
        if not isinstance(item, dict):
            raise ValidationFailed("Each allowance or charge must be an object", param=p)
        indicator = item.get("allowance_charge_indicator", "allowance")
        if not isinstance(indicator, str) or indicator not in {"allowance", "charge"}:
            raise ValidationFailed(
                "Allowance charge indicator is not included in the list (allowance, charge)",
                code="parameter_inclusion",
                param=f"{p}.allowance_charge_indicator",
            )
        has_pct = item.get("percentage") not in (None, "")
        has_amount = item.get("amount") not in (None, "")
        if has_pct == has_amount:
            raise ValidationFailed(
                "Give exactly one of percentage or amount", code="parameter_blank", param=f"{p}.percentage"
            )
        result.append(
            AllowanceCharge(
                is_charge=indicator == "charge",
                percentage=decimal(item["percentage"], f"{p}.percentage") if has_pct else None,
                amount=decimal(item["amount"], f"{p}.amount") if has_amount else None,
                apply_taxes=boolean(item.get("apply_taxes", True), f"{p}.apply_taxes"),
                reason=str(item.get("reason") or ""),
            )
        )
    return result


def check_unit(value: Any, param: str) -> None:
    """Accept a line unit only as a documented integer code (1 to 36), never free text."""
    if value in (None, ""):
        return
    code = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.strip().isdigit():
        code = int(value.strip())
    if code not in UNIT_CODES:
        raise ValidationFailed(
            f"Unit {value!r} is not included in the list: send a unit code (1 units, 2 hours, 3 kilograms, ...)",
            code="parameter_inclusion",
            param=param,
        )


def parse_lines(raw: Any) -> list[Line]:
    """Check invoice_lines_attributes: at least one line, numbers, units, positive base quantity, taxes."""
    param = "invoice_lines_attributes"
    if not raw:
        raise ValidationFailed("Invoice lines can't be blank", code="parameter_blank", param=param)
    if not isinstance(raw, list):
        raise ValidationFailed("Invoice lines must be a list", param=param)
    lines = []
    for i, item in enumerate(raw):
        p = f"{param}[{i}]"
        if not isinstance(item, dict):
            raise ValidationFailed("Each invoice line must be an object", param=p)
        base_quantity = decimal(item.get("base_quantity"), f"{p}.base_quantity", required=False, default=Decimal(1))
        if base_quantity <= 0:
            raise ValidationFailed("Base quantity must be greater than 0", param=f"{p}.base_quantity")
        check_unit(item.get("unit"), f"{p}.unit")
        lines.append(
            Line(
                quantity=decimal(item.get("quantity"), f"{p}.quantity"),
                price=decimal(item.get("price"), f"{p}.price"),
                base_quantity=base_quantity,
                taxes=parse_taxes(item.get("taxes_attributes"), f"{p}.taxes_attributes"),
                allowance_charges=parse_allowance_charges(
                    item.get("allowance_charges_attributes"), f"{p}.allowance_charges_attributes"
                ),
            )
        )
    return lines


def _iban_or_fail(value: Any, param: str) -> None:
    if not value or not stdnum_iban.is_valid(str(value)):
        raise ValidationFailed("Validation failed: Iban is invalid", param=param)


def check_payment(data: dict[str, Any]) -> None:
    """Check the payment method: a transfer needs bank_account.iban, a direct debit contact_iban, other a text."""
    method = data.get("payment_method")
    if method in (None, ""):
        return
    try:
        code = int(method)
    except (TypeError, ValueError):
        code = -1
    if isinstance(method, bool) or code not in PAYMENT_METHODS:
        raise ValidationFailed(
            f"Payment method is not included in the list ({', '.join(str(c) for c in sorted(PAYMENT_METHODS))})",
            code="parameter_inclusion",
            param="payment_method",
        )
    if code == TRANSFER:
        account = data.get("bank_account")
        _iban_or_fail(account.get("iban") if isinstance(account, dict) else None, "bank_account.iban")
    if code == DIRECT_DEBIT:
        # The payer's IBAN. The guide's table names no field; `contact_iban` is the contract's.
        _iban_or_fail(data.get("contact_iban"), "contact_iban")
    if code == OTHER and not str(data.get("payment_method_text") or "").strip():
        # The guide: "use payment_method_text for custom descriptions".
        raise ValidationFailed(
            "Payment method text can't be blank for payment method 13 (other)",
            code="parameter_blank",
            param="payment_method_text",
        )


def check_corrective(data: dict[str, Any], is_credit_note: bool) -> None:
    """Check a credit note's reference to the invoice it corrects (API 2026-03-02 fields).

    `amended_number` is required on a credit note; `amended_date` must be a date and
    `amend_reason` one of R1..R5 whenever they are given.
    """
    reason = data.get("amend_reason")
    if reason not in (None, "") and str(reason) not in AMEND_REASONS:
        raise ValidationFailed(
            f"Amend reason is not included in the list ({', '.join(AMEND_REASONS)})",
            code="parameter_inclusion",
            param="amend_reason",
        )
    date(data.get("amended_date"), "amended_date")
    if is_credit_note and not str(data.get("amended_number") or "").strip():
        raise ValidationFailed("Amended number can't be blank", code="parameter_blank", param="amended_number")
