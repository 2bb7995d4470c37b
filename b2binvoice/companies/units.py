"""Line units: from the free text typed on a line ("hours", "palabras") to B2Brouter's unit code.

B2Brouter's invoice line ``unit`` is a code, not free text: its API reference sends
``"unit": 1``. No public list of the codes was found; the integers follow the Facturae 3.2
UnitOfMeasure list (1 units, 2 hours, 3 kilograms, ... 36 kilowatt hours), which B2Brouter's
payment codes follow too (inferred, see docs/api-evidence.md). A unit with no mapping is not
sent: there is no code for minutes, for instance.

The built-in table below covers the usual spellings (English, Spanish, Catalan);
each company extends or overrides it with its own mappings (``UnitMapping``).
Matching ignores case, accents and surrounding blanks.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .taxtypes import normalise

# The Facturae 3.2 UnitOfMeasure list, by code.
UNIT_NAMES: tuple[tuple[int, Any], ...] = (
    (1, _("units")), (2, _("hours")), (3, _("kilograms")), (4, _("litres")), (5, _("other")), (6, _("boxes")),
    (7, _("trays")), (8, _("barrels")), (9, _("jerricans")), (10, _("bags")), (11, _("carboys")),
    (12, _("bottles")), (13, _("canisters")), (14, _("tetra briks")), (15, _("centilitres")),
    (16, _("centimetres")), (17, _("bins")), (18, _("dozens")), (19, _("cases")), (20, _("demijohns")),
    (21, _("grams")), (22, _("kilometres")), (23, _("cans")), (24, _("bunches")), (25, _("metres")),
    (26, _("millimetres")), (27, _("six-packs")), (28, _("packages")), (29, _("portions")), (30, _("rolls")),
    (31, _("envelopes")), (32, _("tubs")), (33, _("cubic metres")), (34, _("seconds")), (35, _("watts")),
    (36, _("kilowatt hours")),
)
UNITS, HOURS, KILOGRAMS, LITRES, BOXES, DOZENS = 1, 2, 3, 4, 6, 18
GRAMS, KILOMETRES, METRES, PACKAGES, SECONDS, KILOWATT_HOURS = 21, 22, 25, 28, 34, 36

UNIT_CODES: tuple[tuple[int, Any], ...] = tuple(
    (code, format_lazy("{} – {}", code, _("units (pieces, words, pages)") if code == UNITS else name))
    for code, name in UNIT_NAMES)
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
    **dict.fromkeys(("box", "boxes", "caja", "cajas", "capsa", "capses"), BOXES),
    **dict.fromkeys(("dozen", "dozens", "docena", "docenas"), DOZENS),
    **dict.fromkeys(("package", "packages", "pack", "packs", "paquete", "paquetes"), PACKAGES),
    **dict.fromkeys(("s", "sec", "second", "seconds", "segundo", "segundos"), SECONDS),
    **dict.fromkeys(("kwh", "kilowatt hour", "kilowatt hours"), KILOWATT_HOURS),
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
