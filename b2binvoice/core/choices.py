"""Pickers instead of codes: ISO 3166 countries, ISO 639-1 languages and the ISO 4217 currencies in use.

The names come from Babel's CLDR data in the language of the page, sorted by that name (currencies
by code). What is stored stays the code. A value stored before these lists existed (a currency no
longer in use, a code outside the list) is still shown and accepted on the record that holds it,
so editing an old client or invoice never changes it behind the user's back; a new value must come
from the list ("Spani" is not a language).
"""

from __future__ import annotations

import datetime
import unicodedata
from functools import lru_cache
from typing import Any, Callable

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import get_currency_name, get_territory_currencies
from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# CLDR regions with two letters that are not ISO 3166-1 countries: exceptionally reserved codes
# (Ascension, Clipperton, Sark, Diego Garcia, Ceuta and Melilla, Canary Islands, Tristan da Cunha),
# groupings (EU, eurozone, UN, outlying Oceania), pseudo-locales, Kosovo's user-assigned code, unknown.
NOT_ISO_3166 = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})
# Two-letter CLDR languages withdrawn from ISO 639-1 (Serbo-Croatian).
NOT_ISO_639_1 = frozenset({"sh"})


def _locale() -> Locale:
    """The Babel locale of the active language (English when Babel does not know it)."""
    try:
        return Locale.parse(translation.to_locale(translation.get_language() or "en"))
    except (ValueError, UnknownLocaleError):
        return Locale("en")


def _sort_key(name: str) -> str:
    """Sort names as a reader expects: accents and case do not move them (Åland beside Albania)."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


@lru_cache(maxsize=16)
def _countries(locale_name: str) -> tuple[tuple[str, str], ...]:
    names = Locale.parse(locale_name).territories
    english = Locale("en").territories
    codes = [code for code in english if len(code) == 2 and code.isalpha() and code.isupper()
             and code not in NOT_ISO_3166]
    pairs = [(code, str(names.get(code) or english[code])) for code in codes]
    return tuple(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


@lru_cache(maxsize=16)
def _languages(locale_name: str) -> tuple[tuple[str, str], ...]:
    names = Locale.parse(locale_name).languages
    english = Locale("en").languages
    codes = [code for code in english if len(code) == 2 and code.isalpha() and code.islower()
             and code not in NOT_ISO_639_1]
    pairs = [(code, _capitalised(str(names.get(code) or english[code]))) for code in codes]
    return tuple(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


@lru_cache(maxsize=4)
def _active_currencies(day: datetime.date) -> frozenset[str]:
    """The ISO 4217 currencies legal tender in some territory on ``day`` (CLDR's territory data)."""
    active: set[str] = set()
    for territory in get_global("territory_currencies"):
        active.update(get_territory_currencies(territory, day, tender=True, non_tender=False))
    return frozenset(active)


def active_currencies() -> frozenset[str]:
    """The currencies in use today (no ADP, DEM, ESP, nor funds codes such as XDR)."""
    return _active_currencies(datetime.date.today())


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 countries as (code, name in the page's language), sorted by name."""
    return list(_countries(str(_locale())))


def language_choices() -> list[tuple[str, str]]:
    """ISO 639-1 languages as (code, name in the page's language), sorted by name."""
    return list(_languages(str(_locale())))


def currency_label(code: str) -> str:
    try:
        return f"{code} – {_capitalised(get_currency_name(code, locale=_locale()))}"
    except (ValueError, UnknownLocaleError):
        return code


def currency_choices() -> list[tuple[str, str]]:
    """The ISO 4217 currencies in use as (code, "EUR – euro"), sorted by code."""
    return [(code, currency_label(code)) for code in sorted(active_currencies())]


def country_label(code: str) -> str:
    return str(_locale().territories.get(code.upper()) or code)


def language_label(code: str) -> str:
    name = _locale().languages.get(code.lower())
    return _capitalised(str(name)) if name else code


class CodeChoiceField(forms.ChoiceField):
    """A select of codes whose names follow the page's language; a stored code outside the list stays.

    The value the record holds (the form's initial value) is added to the choices when the list lacks
    it, with its name when Babel knows one, so an old record still shows and saves what it holds.
    """

    def __init__(self, *, choices: Callable[[], list[tuple[str, str]]], label_of: Callable[[str], str],
                 normalise: Callable[[str], str] = str.upper, **kwargs: Any) -> None:
        self.label_of = label_of
        self.normalise = normalise
        super().__init__(choices=choices, **kwargs)

    def to_python(self, value: Any) -> str:
        """Take "es" for "ES" (and "DE" for "de"); a stored odd value stays exactly as stored."""
        value = super().to_python(value).strip()
        normalised = self.normalise(value)
        if normalised != value and self.valid_value(normalised):
            return normalised
        return value

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> forms.BoundField:
        stored = form.initial.get(field_name, self.initial)
        if isinstance(stored, str) and stored:
            choices = list(self.choices)
            if stored not in {code for code, _label in choices}:
                self.choices = [(stored, self.label_of(stored)), *choices]
        return super().get_bound_field(form, field_name)


def country_field(**kwargs: Any) -> CodeChoiceField:
    kwargs.setdefault("label", _("country"))
    return CodeChoiceField(choices=country_choices, label_of=country_label, error_messages={
        "invalid_choice": _("“%(value)s” is not an ISO 3166 country code: choose the country from the list.")},
        **kwargs)


def language_field(**kwargs: Any) -> CodeChoiceField:
    kwargs.setdefault("label", _("language"))
    return CodeChoiceField(choices=language_choices, label_of=language_label, normalise=str.lower, error_messages={
        "invalid_choice": _("“%(value)s” is not an ISO 639-1 language code: choose the language from the list.")},
        **kwargs)


def currency_field(**kwargs: Any) -> CodeChoiceField:
    kwargs.setdefault("label", _("currency"))
    return CodeChoiceField(choices=currency_choices, label_of=currency_label, error_messages={
        "invalid_choice": _("“%(value)s” is not a currency in use (ISO 4217): choose one from the list.")},
        **kwargs)
