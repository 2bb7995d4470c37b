"""Validators for identifiers, built on python-stdnum."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import bic as stdnum_bic
from stdnum import get_cc_module
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as stdnum_eu_vat
from stdnum.exceptions import ValidationError as StdnumError


def compact_iban(value: str) -> str:
    """Return ``value`` without spaces, upper case."""
    return stdnum_iban.compact(value or "")


def iban_is_valid(value: str | None) -> bool:
    """Return whether ``value`` is a valid IBAN (checksum and country format)."""
    return bool(value) and stdnum_iban.is_valid(value)


def validate_iban(value: str) -> None:
    """Raise ValidationError unless ``value`` is a valid IBAN."""
    try:
        stdnum_iban.validate(value)
    except StdnumError:
        raise ValidationError(_("Enter a valid IBAN (the checksum or the length is wrong)."), code="invalid_iban")


def validate_bic(value: str) -> None:
    """Raise ValidationError unless ``value`` is a valid BIC."""
    try:
        stdnum_bic.validate(value)
    except StdnumError:
        raise ValidationError(_("Enter a valid BIC (8 or 11 characters)."), code="invalid_bic")


def compact_tin(value: str) -> str:
    """Normalise a tax id: upper case, no spaces, dots or dashes."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def validate_tin(value: str, country: str | None = None) -> str:
    """Validate a TIN/VAT number and return it compacted.

    EU VAT numbers are checked with python-stdnum, with or without their country
    prefix (``B12345678`` is checked as ``ESB12345678`` for a Spanish client).
    A number of another country is checked with that country's VAT module of
    python-stdnum (GB, CH, NO, ...) and accepted as given where it has none.
    """
    tin = compact_tin(value)
    if not tin:
        raise ValidationError(_("Enter a tax id."), code="required")
    eu = {code.upper() for code in stdnum_eu_vat.MEMBER_STATES} | {"EL"}
    prefix = tin[:2] if tin[:2] in eu else None
    home = (country or "").upper()
    if prefix is None and home not in eu:
        module = _national_vat_module(home)
        if module is None or module.is_valid(tin):
            return tin
        raise _invalid_tin(tin)
    candidate = tin if prefix else home + tin
    if not stdnum_eu_vat.is_valid(candidate):
        raise _invalid_tin(tin)
    return tin


def _national_vat_module(country: str) -> Any:
    """Return python-stdnum's VAT module of a two-letter ``country``, or None when it has none."""
    if len(country) != 2 or not country.isalpha():
        return None
    return get_cc_module(country.lower(), "vat")


def _invalid_tin(tin: str) -> ValidationError:
    return ValidationError(
        _("%(tin)s is not a valid VAT number: check the digits and the country prefix."),
        code="invalid_tin",
        params={"tin": tin},
    )
