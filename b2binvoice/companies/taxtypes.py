"""B2Brouter's tax names, and the defaults derived from a company's country.

A local tax keeps its own label ("IVA 21%", "VAT 20%") for display; what B2Brouter
receives in ``taxes_attributes[].name`` is its *tax type*, one of the names its
taxes_attributes guide lists ("Tax names must match the expected values in this
guide. Do not invent new names"). The guide's country table gives the names and the
default standard / reduced / super-reduced rates (categories ``S``, ``AA``, ``AAA``);
withholdings (IRPF, IRNR, IRPEF) are sent with a negative percent.

Sources (see docs/api-evidence.md): the taxes_attributes guide (names, categories,
negative withholdings), B2Brouter's PHP SDK docs/SPANISH_INVOICING.md (Spain: IVA at
21 / 10 / 4 as S / AA / AAA) and the names B2Brouter's WooCommerce plugin sends per
country (FR TVA, DE MwSt, NL BTW, BE TVA, AT USt, GB/IE VAT, GST for Canada,
Australia and New Zealand, VAT elsewhere). The reduced rates of countries other than
Spain are the national defaults, inferred.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class TaxType:
    """A tax name B2Brouter documents."""

    name: str
    label: object  # lazy translated description shown beside the name
    withholding: bool = False


TAX_TYPES: tuple[TaxType, ...] = (
    TaxType("IVA", _("IVA – VAT in Spain, Italy, Portugal")),
    TaxType("IGIC", _("IGIC – Canary Islands indirect tax")),
    TaxType("IPSI", _("IPSI – Ceuta and Melilla indirect tax")),
    TaxType("VAT", _("VAT – value added tax (United Kingdom, Ireland, other countries)")),
    TaxType("TVA", _("TVA – VAT in France and Belgium")),
    TaxType("MwSt", _("MwSt – VAT in Germany")),
    TaxType("USt", _("USt – VAT in Austria")),
    TaxType("BTW", _("BTW – VAT in the Netherlands")),
    TaxType("GST", _("GST – goods and services tax (Canada, Australia, New Zealand)")),
    TaxType("IRPF", _("IRPF – Spanish income tax withholding (negative)"), withholding=True),
    TaxType("IRNR", _("IRNR – Spanish non-resident withholding (negative)"), withholding=True),
    TaxType("IRPEF", _("IRPEF – Italian income tax withholding (negative)"), withholding=True),
)
TAX_TYPE_NAMES: frozenset[str] = frozenset(t.name for t in TAX_TYPES)
WITHHOLDING_TYPES: frozenset[str] = frozenset(t.name for t in TAX_TYPES if t.withholding)

# The VAT name of each country; any other country uses "VAT".
COUNTRY_VAT_NAME = {
    "ES": "IVA", "IT": "IVA", "PT": "IVA", "FR": "TVA", "BE": "TVA", "NL": "BTW", "DE": "MwSt", "AT": "USt",
    "GB": "VAT", "IE": "VAT",
}
DEFAULT_VAT_NAME = "VAT"
# The names a company of each country may use ("name must match one of the expected values for the
# company's country"); a country not listed may use any documented name.
COUNTRY_TAX_TYPES: dict[str, tuple[str, ...]] = {
    "ES": ("IVA", "IGIC", "IPSI", "IRPF", "IRNR"), "IT": ("IVA", "IRPEF"), "PT": ("IVA",), "FR": ("TVA",),
    "BE": ("TVA",), "NL": ("BTW",), "DE": ("MwSt", "VAT"), "AT": ("USt",), "GB": ("VAT",), "IE": ("VAT",),
}
# The withholding a country's invoices carry (negative percent).
COUNTRY_WITHHOLDING_NAME = {"ES": "IRPF", "IT": "IRPEF"}

# (country, tax name) -> default rates of categories S, AA, AAA (None where the country has none).
RATE_TABLE: dict[tuple[str, str], tuple[Decimal | None, Decimal | None, Decimal | None]] = {
    ("ES", "IVA"): (Decimal(21), Decimal(10), Decimal(4)),
    ("ES", "IGIC"): (Decimal(7), Decimal(3), None),
    ("IT", "IVA"): (Decimal(22), Decimal(10), Decimal(4)),
    ("PT", "IVA"): (Decimal(23), Decimal(13), Decimal(6)),
    ("FR", "TVA"): (Decimal(20), Decimal(10), Decimal("5.5")),
    ("BE", "TVA"): (Decimal(21), Decimal(12), Decimal(6)),
    ("NL", "BTW"): (Decimal(21), Decimal(9), None),
    ("DE", "MwSt"): (Decimal(19), Decimal(7), None),
    ("AT", "USt"): (Decimal(20), Decimal(10), None),
    ("IE", "VAT"): (Decimal(23), Decimal("13.5"), Decimal(9)),
    ("GB", "VAT"): (Decimal(20), Decimal(5), None),
}
RATE_CATEGORIES = ("S", "AA", "AAA")

# Words a local label may start with, and the tax type they stand for. A generic VAT word
# stands for the company country's VAT name.
_LABEL_PREFIXES = (("IRPEF", "IRPEF"), ("IRPF", "IRPF"), ("IRNR", "IRNR"), ("IGIC", "IGIC"), ("IPSI", "IPSI"),
                   ("IVA", "IVA"))
_VAT_WORDS = ("VAT", "TVA", "MWST", "UST", "BTW", "UMSATZSTEUER", "MEHRWERTSTEUER", "IMPUESTO", "TAX")


def tax_type_choices(country: str | None = None) -> list[tuple[str, object]]:
    """Return the documented tax names as form choices (those of ``country`` when given and known)."""
    allowed = country_tax_types(country) if country else TAX_TYPE_NAMES
    return [(t.name, t.label) for t in TAX_TYPES if t.name in allowed]


def country_tax_types(country: str | None) -> frozenset[str]:
    """Return the tax names a company in ``country`` may send (all documented names for other countries)."""
    names = COUNTRY_TAX_TYPES.get((country or "").upper())
    return frozenset(names) if names else TAX_TYPE_NAMES


def tax_type_problem(country: str | None, tax_type: str) -> str | None:
    """Return why ``tax_type`` cannot be sent for a company in ``country`` ("missing", "unknown", "country"), or None."""
    if not tax_type:
        return "missing"
    if tax_type not in TAX_TYPE_NAMES:
        return "unknown"
    if tax_type not in country_tax_types(country):
        return "country"
    return None


def normalise(text: str) -> str:
    """Return ``text`` upper case, without accents, with runs of blanks collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.upper().split())


def country_vat_name(country: str) -> str:
    """Return the VAT name B2Brouter expects for a company in ``country``."""
    return COUNTRY_VAT_NAME.get((country or "").upper(), DEFAULT_VAT_NAME)


def default_tax_type(country: str, label: str = "", rate: Decimal | None = None) -> str:
    """Return the tax type a tax labelled ``label`` most likely is, or "" when nothing fits.

    The label decides first (``IRPF 15%`` is IRPF, ``IVA 10%`` is IVA, ``VAT 20%`` or
    ``MwSt 19%`` is the country's VAT name); otherwise a negative rate is the country's
    withholding (none outside Spain and Italy) and anything else the country's VAT name.
    """
    words = normalise(label)
    for prefix, name in _LABEL_PREFIXES:
        if words.startswith(prefix):
            return name
    negative = rate is not None and Decimal(rate) < 0
    if words.startswith(_VAT_WORDS) and not negative:
        return country_vat_name(country)
    if negative:
        return COUNTRY_WITHHOLDING_NAME.get((country or "").upper(), "")
    return country_vat_name(country)


def default_category(country: str, tax_type: str, rate: Decimal | None) -> str | None:
    """Return the category the country table gives ``rate`` of ``tax_type`` (S, AA, AAA), or None.

    A withholding is ``S``; a rate the table does not list is the standard ``S``; a 0 %
    rate has no default (zero-rated, exempt and reverse charge are legal choices).
    """
    if rate is None:
        return None
    rate = Decimal(rate)
    if tax_type in WITHHOLDING_TYPES or rate < 0:
        return "S"
    if rate == 0:
        return None
    rates = RATE_TABLE.get(((country or "").upper(), tax_type))
    if rates:
        for category, listed in zip(RATE_CATEGORIES, rates, strict=True):
            if listed is not None and listed == rate:
                return category
    return "S"


def listed_category(country: str, tax_type: str, rate: Decimal | None) -> str | None:
    """Return the category of ``rate`` when the country table lists that rate for ``tax_type``, else None."""
    if rate is None:
        return None
    rates = RATE_TABLE.get(((country or "").upper(), tax_type))
    if not rates:
        return None
    for category, listed in zip(RATE_CATEGORIES, rates, strict=True):
        if listed is not None and listed == Decimal(rate):
            return category
    return None
