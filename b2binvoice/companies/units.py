"""Line units: from the free text typed on a line ("hours", "palabras") to B2Brouter's unit code.

B2Brouter's invoice line ``unit`` is a code, not free text: its API reference sends
``"unit": 1``. No public list of the codes was found; the integers follow the Facturae
UnitOfMeasure list (1 units, 2 hours, 3 kilograms, ...), which B2Brouter's payment codes
follow too (see docs/api-evidence.md: inferred). A unit with no mapping is not sent.

The built-in table below covers the usual spellings (English, Spanish, Catalan);
each company extends or overrides it with its own mappings (``UnitMapping``).
Matching ignores case, accents and surrounding blanks.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from .taxtypes import normalise

UNITS, HOURS, KILOGRAMS, LITRES, OTHER = 1, 2, 3, 4, 5
GRAMS, KILOMETRES, METRES = 21, 22, 25

UNIT_CODES: tuple[tuple[int, Any], ...] = (
    (UNITS, _("1 – units (pieces, words, pages)")),
    (HOURS, _("2 – hours")),
    (KILOGRAMS, _("3 – kilograms")),
    (LITRES, _("4 – litres")),
    (OTHER, _("5 – other")),
    (GRAMS, _("21 – grams")),
    (KILOMETRES, _("22 – kilometres")),
    (METRES, _("25 – metres")),
)
UNIT_CODE_VALUES = frozenset(code for code, _label in UNIT_CODES)

BUILT_IN: dict[str, int] = {
    **dict.fromkeys(("hour", "hours", "h", "hr", "hrs", "hora", "horas", "hores", "stunde", "stunden", "heure",
                     "heures"), HOURS),
    **dict.fromkeys(("unit", "units", "u", "ud", "uds", "unidad", "unidades", "unitat", "unitats", "pc", "pcs",
                     "piece", "pieces", "pieza", "piezas"), UNITS),
    # A word or a page is counted like a piece: "units" is the code that fits a count.
    **dict.fromkeys(("word", "words", "palabra", "palabras", "paraula", "paraules", "wort", "worter", "mot",
                     "mots"), UNITS),
    **dict.fromkeys(("page", "pages", "pagina", "paginas", "pagines", "seite", "seiten"), UNITS),
    **dict.fromkeys(("kg", "kilo", "kilos", "kilogram", "kilograms", "kilogramo", "kilogramos"), KILOGRAMS),
    **dict.fromkeys(("l", "litre", "litres", "liter", "liters", "litro", "litros"), LITRES),
    **dict.fromkeys(("g", "gram", "grams", "gramo", "gramos"), GRAMS),
    **dict.fromkeys(("km", "kilometre", "kilometres", "kilometer", "kilometers", "kilometro", "kilometros"),
                    KILOMETRES),
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters", "metro", "metros"), METRES),
}


def unit_code_choices() -> list[tuple[int, Any]]:
    """Return the unit codes as form choices."""
    return list(UNIT_CODES)


def unit_key(text: str) -> str:
    """Return the comparable form of a unit: lower case, no accents, blanks collapsed, no final dot."""
    return normalise(text).lower().rstrip(".").strip()


def unit_code_label(code: int | None) -> Any:
    """Return the description of a unit code ("2 – hours")."""
    return dict(UNIT_CODES).get(code, "") if code is not None else ""


def resolve_unit(text: str, mappings: dict[str, int | None]) -> int | None:
    """Return the code of the unit ``text``: the company's mapping first, then the built-in table.

    ``mappings`` maps a :func:`unit_key` to a code, or to None for "do not send a unit".
    """
    key = unit_key(text)
    if not key:
        return None
    if key in mappings:
        return mappings[key]
    return BUILT_IN.get(key)
