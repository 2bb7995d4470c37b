"""Compare tax identification numbers (TINs) the way B2Brouter users write them.

``ESB12345678``, ``es b-12.345.678`` and ``B12345678`` are the same Spanish VAT number: the
comparison ignores case, spaces, dots, dashes and slashes, and the 2-letter country prefix is
optional on either side (Greece's VAT prefix ``EL`` counts as ``GR``).
"""

from __future__ import annotations

import re

__all__ = ["compact_tin", "same_tin", "split_tin"]

_SEPARATORS = re.compile(r"[\s.\-/]+")
# VAT prefixes that differ from the ISO 3166 code of the country.
_PREFIX_ALIASES = {"EL": "GR"}


def compact_tin(tin: str) -> str:
    """Return ``tin`` upper-cased without spaces, dots, dashes or slashes."""
    return _SEPARATORS.sub("", tin).upper()


def split_tin(tin: str, country: str | None = None) -> tuple[str | None, str]:
    """Return ``(country prefix or None, national number)`` of a TIN.

    A TIN starts with a country prefix when its first two characters are ASCII letters
    (national numbers such as Spain's ``B12345678`` start with at most one). ``country``
    supplies the prefix of a TIN written without one.
    """
    compact = compact_tin(tin)
    if len(compact) > 2 and compact[:2].isascii() and compact[:2].isalpha():
        prefix: str | None = compact[:2]
        national = compact[2:]
    else:
        prefix = country.strip().upper() or None if country else None
        national = compact
    if prefix is not None:
        prefix = _PREFIX_ALIASES.get(prefix, prefix)
    return prefix, national


def same_tin(a: str, b: str, *, country_a: str | None = None, country_b: str | None = None) -> bool:
    """Tell whether two TINs are the same number, the country prefix being optional on either side.

    When both sides have a country (written as a prefix or given as ``country_a`` /
    ``country_b``) the countries must match too.
    """
    prefix_a, national_a = split_tin(a, country_a)
    prefix_b, national_b = split_tin(b, country_b)
    if not national_a or national_a != national_b:
        return False
    return prefix_a is None or prefix_b is None or prefix_a == prefix_b
