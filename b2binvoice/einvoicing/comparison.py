"""Compare B2Brouter's totals of an invoice with ours, figure by figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from b2binvoice.core import texts
from b2binvoice.core.localformats import format_number
from b2binvoice.core.money import quantum

from .remote import to_decimal


@dataclass
class Row:
    """One figure, ours beside B2Brouter's."""

    label: Any
    ours: Decimal | None
    theirs: Decimal | None

    @property
    def equal(self) -> bool:
        return self.ours is not None and self.theirs is not None and self.ours == self.theirs


@dataclass
class Comparison:
    """The figures of an invoice side by side."""

    currency: str
    rows: list[Row] = field(default_factory=list)
    tax_rows: list[Row] = field(default_factory=list)
    currency_equal: bool = True

    @property
    def equal(self) -> bool:
        return self.currency_equal and all(row.equal for row in self.rows + self.tax_rows)

    def summary(self) -> str:
        """Return the differing figures as one line of text (its labels shown in the reader's language)."""
        return texts.join("; ", (texts.concat(texts.label(row.label), f": {row.ours} / {row.theirs}", separator="")
                                 for row in self.rows + self.tax_rows if not row.equal))


def _shown(value: Decimal | None, currency: str) -> Decimal | None:
    """Show an amount with the currency's decimals when that loses nothing (104.890000 -> 104.89)."""
    if value is None:
        return None
    try:
        step = quantum(currency)
    except Exception:  # noqa: BLE001 (an unknown currency code: show the amount as it came)
        return value
    rounded = value.quantize(step)
    return rounded if rounded == value else value


def _percent(value: Any) -> Decimal:
    return (to_decimal(value) or Decimal(0)).normalize()


def _label(name: str, category: str, percent: Decimal) -> str:
    rate = format_number(percent, grouping=False)  # 5,5 in Spanish
    if category:
        return f"{name} ({category} {rate} %)"
    return f"{name} ({rate} %)"


def compare(invoice: Any, remote: dict[str, Any]) -> Comparison:
    """Compare ``remote`` (subtotal, taxes, total, currency) with our calculation of ``invoice``."""
    from b2binvoice.invoices.calculations import calculate_invoice  # noqa: PLC0415 (avoid an import cycle at load)

    ours = calculate_invoice(invoice)
    theirs_taxes = remote.get("taxes") or []
    theirs_tax_total = None
    if remote.get("tax_total") is not None:
        theirs_tax_total = to_decimal(remote["tax_total"])
    elif theirs_taxes or remote.get("total") is not None:
        theirs_tax_total = sum((to_decimal(t.get("amount")) or Decimal(0) for t in theirs_taxes), Decimal(0))
    result = Comparison(currency=str(ours.currency))
    result.currency_equal = not remote.get("currency") or str(remote["currency"]).upper() == str(ours.currency).upper()
    currency = str(ours.currency)
    result.rows = [
        Row(_("Tax-exclusive amount"), ours.base, _shown(to_decimal(remote.get("subtotal")), currency)),
        Row(_("Taxes"), ours.tax_total, _shown(theirs_tax_total, currency)),
        Row(_("Total"), ours.total, _shown(to_decimal(remote.get("total")), currency)),
    ]
    # B2Brouter groups taxes by (name, category, percent), name being the tax type we sent. Its
    # answer documents name, percent, base and amount only: when a group comes without its
    # category, both sides are grouped by (name, percent) instead.
    with_category = bool(theirs_taxes) and all(t.get("category") for t in theirs_taxes)
    names = [copy.b2brouter_name or copy.name for copy in invoice.taxes.all()]
    our_groups: dict[tuple[str, str, Decimal], Decimal] = {}
    for name, tax in zip(names, ours.taxes, strict=True):
        key = (name.casefold(), tax.category if with_category else "", _percent(tax.rate))
        our_groups[key] = our_groups.get(key, Decimal(0)) + tax.amount
    their_groups: dict[tuple[str, str, Decimal], Decimal] = {}
    for tax in theirs_taxes:
        key = (str(tax.get("name") or "").casefold(), str(tax.get("category") or "") if with_category else "",
               _percent(tax.get("percent")))
        their_groups[key] = their_groups.get(key, Decimal(0)) + (to_decimal(tax.get("amount")) or Decimal(0))
    shown_names = {name.casefold(): name for name in names}
    shown_names.update({str(t.get("name") or "").casefold(): str(t.get("name") or "") for t in theirs_taxes})
    for key in sorted(set(our_groups) | set(their_groups)):
        result.tax_rows.append(Row(_label(shown_names.get(key[0], key[0]), key[1], key[2]),
                                   our_groups.get(key),
                                   _shown(their_groups[key], currency) if key in their_groups else None))
    return result


def link_figures(link: Any) -> dict[str, Any]:
    """Return a link's stored B2Brouter figures in the shape :func:`compare` reads."""
    return {"subtotal": link.subtotal, "tax_total": link.tax_total, "total": link.total,
            "currency": link.currency, "taxes": link.taxes}
