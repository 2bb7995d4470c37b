"""The kind of invoice Spain's rules make of an invoice: Verifactu's invoice type (F1, F2, R1-R5).

A Spanish company's invoice names its client by tax id (a full invoice, F1). Without the client's
tax id the invoice can only be a simplified invoice (factura simplificada, F2), which the invoicing
regulation (RD 1619/2012, art. 4) allows up to 400 EUR, VAT included; B2Brouter takes it as
``type: IssuedSimplifiedInvoice`` with the client inline. A credit note carries its R code; the
correction of a simplified invoice is R5.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from b2binvoice.core.validators import compact_tin

#: RD 1619/2012 art. 4.1: a simplified invoice when the amount, VAT included, is at most 400 EUR, or 3,000 EUR
#: for the operations it lists (retail, hospitality, transport of people, …), which the company declares in its
#: settings (``Company.simplified_invoice_sector``).
SIMPLIFIED_LIMIT = Decimal("400")
SECTOR_SIMPLIFIED_LIMIT = Decimal("3000")
SIMPLIFIED_CODES = frozenset({"F2", "R5"})

LABELS = {
    "F1": gettext_lazy("Full invoice (F1)"),
    "F2": gettext_lazy("Simplified invoice (F2)"),
    "R1": gettext_lazy("Corrective invoice (R1)"),
    "R2": gettext_lazy("Corrective invoice (R2)"),
    "R3": gettext_lazy("Corrective invoice (R3)"),
    "R4": gettext_lazy("Corrective invoice (R4)"),
    "R5": gettext_lazy("Corrective of a simplified invoice (R5)"),
}


def applies(invoice: Any) -> bool:
    """Return whether Spain's kinds apply: the issuing company is Spanish."""
    return (invoice.company.country or "").upper() == "ES"


def client_identified(client: Any) -> bool:
    """Return whether the invoice can name the client by a tax id: its own, or that of the B2Brouter
    contact the user chose for it (a client kept without tax id here, matched to a contact that has one)."""
    if compact_tin(client.tin or ""):
        return True
    if not getattr(client, "b2brouter_contact_id", None):
        return False
    basis = getattr(client, "b2brouter_contact_basis", None) or {}
    contact = basis.get("contact") if isinstance(basis, dict) else None
    return isinstance(contact, dict) and bool(str(contact.get("tin_value") or "").strip())


def computed_type_code(invoice: Any) -> str:
    """Return the kind the invoice has now, from the client and, for a credit note, its reason ("" outside Spain)."""
    if not applies(invoice):
        return ""
    if invoice.is_credit_note:
        original = invoice.corrected_invoice
        if not client_identified(invoice.client) or (original is not None and is_simplified(type_code(original))):
            return "R5"
        return invoice.corrective_reason or "R1"
    return "F1" if client_identified(invoice.client) else "F2"


def type_code(invoice: Any) -> str:
    """Return the kind sent to B2Brouter, or the one the invoice would be sent as."""
    return getattr(invoice, "verifactu_kind", "") or computed_type_code(invoice)


def is_simplified(code: str) -> bool:
    return code in SIMPLIFIED_CODES


def label(code: str) -> str:
    return str(LABELS.get(code, code))


def simplified_problem(invoice: Any) -> str:
    """Return why the invoice cannot be a simplified invoice, or "" when it can (or need not be one)."""
    from .calculations import calculate_invoice  # noqa: PLC0415 (calculations imports the models)

    if not applies(invoice) or computed_type_code(invoice) != "F2":
        return ""
    fix = _("add the client's tax id (NIF, or the VAT number of a client in another EU country) so it becomes a "
            "full invoice.")
    if invoice.currency != "EUR":
        return _("Client %(client)s has no tax id, so invoice %(number)s can only be a simplified invoice, and its "
                 "limit is set in euros while this invoice is in %(currency)s: %(fix)s") % {
            "client": invoice.client.name, "number": invoice.number, "currency": invoice.currency, "fix": fix}
    total = calculate_invoice(invoice).total
    sector = invoice.company.simplified_invoice_sector
    limit = simplified_limit(invoice.company)
    if total <= limit:
        return ""
    if sector:
        return _("Client %(client)s has no tax id, so invoice %(number)s can only be a simplified invoice, which "
                 "Spanish rules allow up to %(limit)s EUR including VAT for your company's sector (%(sector)s); "
                 "this one is %(total)s EUR: %(fix)s") % {
            "client": invoice.client.name, "number": invoice.number, "limit": limit,
            "sector": invoice.company.get_simplified_invoice_sector_display(), "total": total, "fix": fix}
    if total <= SECTOR_SIMPLIFIED_LIMIT:
        return _("Client %(client)s has no tax id, so invoice %(number)s can only be a simplified invoice, which "
                 "Spanish rules allow up to %(limit)s EUR including VAT; this one is %(total)s EUR: %(fix)s If your "
                 "company's sales are retail, hospitality or another operation that allows simplified invoices up "
                 "to %(sector_limit)s EUR, choose it under Settings → Company instead.") % {
            "client": invoice.client.name, "number": invoice.number, "limit": limit, "total": total, "fix": fix,
            "sector_limit": SECTOR_SIMPLIFIED_LIMIT}
    return _("Client %(client)s has no tax id, so invoice %(number)s can only be a simplified invoice, which "
             "Spanish rules allow up to %(limit)s EUR including VAT; this one is %(total)s EUR: %(fix)s") % {
        "client": invoice.client.name, "number": invoice.number, "limit": limit, "total": total, "fix": fix}


def simplified_limit(company: Any) -> Decimal:
    """Return the largest simplified invoice the company may issue, VAT included (400 or 3,000 EUR)."""
    return SECTOR_SIMPLIFIED_LIMIT if getattr(company, "simplified_invoice_sector", "") else SIMPLIFIED_LIMIT


def corrective_reason_problem(original: Any, reason: str) -> str:
    """Return why ``reason`` cannot correct ``original`` (Spain: R5 for simplified invoices only), or ""."""
    if not applies(original) or not reason:
        return ""
    simplified = is_simplified(type_code(original))
    if simplified and reason != "R5":
        return _("Invoice %(number)s is a simplified invoice: its correction takes the code R5.") % {
            "number": original.number}
    if not simplified and reason == "R5":
        return _("R5 corrects simplified invoices only, and invoice %(number)s is a full invoice: choose R1 to "
                 "R4.") % {"number": original.number}
    return ""
