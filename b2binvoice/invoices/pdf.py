"""Our own PDF of an invoice or credit note (fpdf2), in the client's language.

:func:`render_invoice_pdf` draws an A4 document: a band of *header blocks* at the top of
the first page, the issuer and the client with their tax ids and addresses, the number and
dates, what a credit note corrects, the lines, the discounts and charges, each tax with its
base, the totals, the payment details, the note, and "Page n of m" on every page.

Labels go through gettext under ``translation.override(language)``; amounts, quantities and
dates are formatted by Babel for that language ("1.234,56 €" in Spanish). The arithmetic is
:func:`~b2binvoice.invoices.calculations.calculate_invoice`, the same as the invoice page's.

Header blocks are the hook for what must sit at the top of the first page (for example a
tax authority's QR code and legend): a callable ``block(pdf, invoice, slot) -> height`` draws
inside ``slot`` (x, y, width in mm) and returns the height it used; the blocks are stacked in
order above the parties. Register one with :func:`register_header_block`, or pass
``header_blocks=[...]`` for one document.

Fonts: DejaVu Sans (Unicode: €, accents, any Latin script) is used when its TTF files are
found (settings.PDF_FONT_DIR, then Debian's fonts-dejavu-core directory); otherwise the PDF
falls back to the built-in Helvetica, which covers Latin-1 only: "€" is written "EUR" and
other characters outside Latin-1 become "?". Spanish and Catalan text is Latin-1.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from django.conf import settings
from django.utils import translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from b2binvoice.companies.models import ExemptionCode

from .calculations import DISCOUNT, InvoiceTotals, calculate_invoice
from .models import Invoice
from .payments import balance

# fontTools logs every glyph subset at INFO: one PDF would fill the log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

#: Where DejaVu Sans is looked for when settings.PDF_FONT_DIR is not set (Debian's fonts-dejavu-core).
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}

MARGIN = 15.0
INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (13, 71, 161)
RULE = (206, 212, 218)
SHADE = (241, 243, 245)


@dataclass(frozen=True)
class HeaderSlot:
    """Where a header block may draw on the first page: from (x, y), ``width`` mm wide, in mm."""

    x: float
    y: float
    width: float


HeaderBlock = Callable[[FPDF, Invoice, HeaderSlot], float]

_HEADER_BLOCKS: list[HeaderBlock] = []


def register_header_block(block: HeaderBlock) -> HeaderBlock:
    """Add ``block`` to the header of every PDF (usable as a decorator); registering twice is a no-op."""
    if block not in _HEADER_BLOCKS:
        _HEADER_BLOCKS.append(block)
    return block


def header_blocks() -> list[HeaderBlock]:
    """Return the registered header blocks, in drawing order."""
    return list(_HEADER_BLOCKS)


def pdf_language(invoice: Invoice) -> str:
    """Return the language the invoice's PDF is written in: the client's, when the app supports it."""
    wanted = (invoice.client.language or "").strip().replace("_", "-").lower()
    try:
        return get_supported_language_variant(wanted or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


def pdf_filename(invoice: Invoice) -> str:
    """Return a safe file name for the invoice's PDF (ASCII letters, digits, dot, dash, underscore)."""
    ascii_number = unicodedata.normalize("NFKD", invoice.number).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_number).strip(".-_") or f"invoice-{invoice.pk}"
    prefix = "credit-note" if invoice.is_credit_note else "invoice"
    return f"{prefix}-{stem[:80]}.pdf"


def _font_dir() -> Path | None:
    candidates = [getattr(settings, "PDF_FONT_DIR", "") or "", *FONT_DIRS]
    for directory in candidates:
        if directory and all((Path(directory) / name).is_file() for name in FONT_FILES.values()):
            return Path(directory)
    return None


class _Formats:
    """Numbers, money and dates in one locale."""

    def __init__(self, language: str) -> None:
        try:
            self.locale = Locale.parse(language.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            self.locale = Locale.parse("en")

    def money(self, amount: Decimal, currency: str) -> str:
        # A zero is never written "-0,00" (0 % of a negative base rounds to a negative zero).
        return format_currency(amount if amount else abs(amount), currency, locale=self.locale)

    def number(self, value: Decimal) -> str:
        # Every decimal the value has (no rounding), without trailing zeros.
        normal = Decimal(value).normalize()
        exponent = normal.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
        return format_decimal(normal, format=pattern, locale=self.locale)

    def percent(self, rate: Decimal | None) -> str:
        return f"{self.number(rate or Decimal(0))} %"

    def date(self, value: dt.date | None) -> str:
        return format_date(value, format="medium", locale=self.locale) if value else ""

    def country(self, code: str) -> str:
        return self.locale.territories.get((code or "").upper(), code or "")


class InvoicePDF(FPDF):
    """An A4 page with the issuer and "Page n of m" in the footer."""

    def __init__(self, *, unicode_fonts: Path | None, footer_text: str, page_label: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.page_label = page_label
        self.unicode_font = unicode_fonts is not None
        if unicode_fonts is not None:
            for style, name in FONT_FILES.items():
                self.add_font("DejaVu", style, str(unicode_fonts / name))
            self.base_family = "DejaVu"
        else:
            self.base_family = "Helvetica"
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=20)
        self.alias_nb_pages("{nb}")

    def text_of(self, value: Any) -> str:
        """Return ``value`` as text the current font can draw."""
        text = "" if value is None else str(value)
        if self.unicode_font:
            return text
        return text.replace("€", "EUR").replace("\u2212", "-").replace("\u2013", "-").replace("\u2014", "-") \
            .replace("\u00a0", " ").replace("\u202f", " ").encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, style: str = "", color: tuple[int, int, int] = INK) -> None:
        self.set_font(self.base_family, style, size)
        self.set_text_color(*color)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y() - 1, self.w - MARGIN, self.get_y() - 1)
        self.font(7.5, color=MUTED)
        self.cell(0, 5, self.text_of(self.footer_text), align="L")
        self.set_x(MARGIN)
        self.cell(0, 5, self.text_of(self.page_label % {"page": self.page_no(), "pages": "{nb}"}), align="R")


def _address(party: Any, formats: _Formats) -> list[str]:
    # A province named like its city (Barcelona, Barcelona) is written once.
    province = party.province if (party.province or "").strip().lower() != (party.city or "").strip().lower() else ""
    lines = [party.address, " ".join(p for p in (party.postal_code, party.city) if p),
             province, formats.country(party.country)]
    return [line for line in lines if line]


def _party_block(pdf: InvoicePDF, *, title: str, name: str, tin: str, lines: Iterable[str], x: float, y: float,
                 width: float) -> float:
    """Draw a party (title, name, tax id, address) at (x, y); return the bottom y."""
    pdf.set_xy(x, y)
    pdf.font(7.5, "B", MUTED)
    pdf.cell(width, 4.5, pdf.text_of(title.upper()), new_x="LEFT", new_y="NEXT")
    pdf.font(10.5, "B")
    pdf.multi_cell(width, 5.2, pdf.text_of(name), new_x="LEFT", new_y="NEXT")
    pdf.font(9)
    if tin:
        pdf.multi_cell(width, 4.6, pdf.text_of(_("Tax id: %(tin)s") % {"tin": tin}), new_x="LEFT", new_y="NEXT")
    for line in lines:
        pdf.multi_cell(width, 4.6, pdf.text_of(line), new_x="LEFT", new_y="NEXT")
    return pdf.get_y()


def _facts(invoice: Invoice, formats: _Formats) -> list[tuple[str, str]]:
    facts = [(_("Number"), invoice.number), (_("Issue date"), formats.date(invoice.issue_date))]
    if invoice.due_date:
        facts.append((_("Due date"), formats.date(invoice.due_date)))
    facts.append((_("Currency"), invoice.currency))
    for label, value in ((_("Buyer reference"), invoice.buyer_reference),
                         (_("Purchase order"), invoice.purchase_order),
                         (_("Project reference"), invoice.project_reference)):
        if value:
            facts.append((label, value))
    return facts


def _heading(pdf: InvoicePDF, invoice: Invoice, formats: _Formats, top: float) -> float:
    """Draw the issuer (left) and the document's title and facts (right); return the bottom y."""
    company = invoice.company
    width = pdf.w - 2 * MARGIN
    left_width = width * 0.55
    right_x = MARGIN + left_width + 5
    right_width = width - left_width - 5
    pdf.set_xy(MARGIN, top)
    pdf.font(15, "B", ACCENT)
    pdf.multi_cell(left_width, 7, pdf.text_of(company.name), new_x="LEFT", new_y="NEXT")
    pdf.font(9)
    if company.tin:
        pdf.multi_cell(left_width, 4.6, pdf.text_of(_("Tax id: %(tin)s") % {"tin": company.tin}),
                       new_x="LEFT", new_y="NEXT")
    for line in _address(company, formats) + ([company.email] if company.email else []):
        pdf.multi_cell(left_width, 4.6, pdf.text_of(line), new_x="LEFT", new_y="NEXT")
    left_bottom = pdf.get_y()

    pdf.set_xy(right_x, top)
    pdf.font(17, "B")
    title = _("Credit note") if invoice.is_credit_note else _("Invoice")
    pdf.cell(right_width, 8, pdf.text_of(title.upper()), align="R", new_x="LEFT", new_y="NEXT")
    pdf.ln(1)
    for label, value in _facts(invoice, formats):
        pdf.set_x(right_x)
        pdf.font(8.5, color=MUTED)
        pdf.cell(right_width * 0.45, 5, pdf.text_of(label), new_x="RIGHT")
        pdf.font(9, "B")
        pdf.cell(right_width * 0.55, 5, pdf.text_of(value), align="R", new_x="LEFT", new_y="NEXT")
        pdf.set_x(right_x)
    return max(left_bottom, pdf.get_y())


def _parties(pdf: InvoicePDF, invoice: Invoice, formats: _Formats, top: float) -> float:
    client = invoice.client
    width = pdf.w - 2 * MARGIN
    bottom = _party_block(pdf, title=_("Bill to"), name=client.name, tin=client.tin,
                          lines=_address(client, formats) + ([client.email] if client.email else []),
                          x=MARGIN + 3, y=top + 3, width=width * 0.6)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.3)
    pdf.line(MARGIN, top, MARGIN, bottom + 2)  # a rule marks the client's block
    return bottom + 4


def _corrects(pdf: InvoicePDF, invoice: Invoice, formats: _Formats) -> None:
    if not invoice.is_credit_note:
        return
    width = pdf.w - 2 * MARGIN
    pdf.set_x(MARGIN)
    pdf.font(9, "B")
    if invoice.amended_date:
        corrects = _("Corrects invoice %(number)s of %(date)s") % {
            "number": invoice.amended_number, "date": formats.date(invoice.amended_date)}
    else:
        corrects = _("Corrects invoice %(number)s") % {"number": invoice.amended_number}
    pdf.multi_cell(width, 5, pdf.text_of(corrects), new_x="LMARGIN", new_y="NEXT")
    reason = invoice.get_corrective_reason_display() if invoice.corrective_reason else ""
    if invoice.correction_reason:
        reason = f"{reason} — {invoice.correction_reason}" if reason else invoice.correction_reason
    if reason:
        pdf.font(9)
        pdf.multi_cell(width, 4.6, pdf.text_of(_("Reason: %(reason)s") % {"reason": reason}),
                       new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _lines(pdf: InvoicePDF, invoice: Invoice, totals: InvoiceTotals, formats: _Formats) -> None:
    heading = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=ACCENT)
    pdf.font(8.5)
    pdf.set_draw_color(*RULE)
    with pdf.table(
        col_widths=(76, 20, 24, 28, 32),
        text_align=("LEFT", "RIGHT", "LEFT", "RIGHT", "RIGHT"),
        headings_style=heading,
        line_height=4.8,
        padding=1.4,
        borders_layout="HORIZONTAL_LINES",
        cell_fill_color=SHADE,
        cell_fill_mode="ROWS",
        repeat_headings=1,
        first_row_as_headings=True,
    ) as table:
        table.row([pdf.text_of(t) for t in (_("Description"), _("Quantity"), _("Unit"), _("Unit price"),
                                             _("Amount"))])
        for line, amount in zip(invoice.lines.all(), totals.line_amounts, strict=True):
            table.row([pdf.text_of(line.description), pdf.text_of(formats.number(line.quantity)),
                       pdf.text_of(line.unit), pdf.text_of(formats.number(line.unit_price)),
                       pdf.text_of(formats.money(amount, totals.currency))])
    pdf.ln(3)


def _total_rows(invoice: Invoice, totals: InvoiceTotals, formats: _Formats) -> list[tuple[str, str, str]]:
    """Return the totals block as (label, amount, style) rows."""
    money = lambda amount: formats.money(amount, totals.currency)  # noqa: E731
    rows = [(_("Subtotal"), money(totals.subtotal), "")]
    discounts, charges = iter(totals.discounts), iter(totals.charges)
    for adjustment in invoice.adjustments.all():
        # Each row shows what it does to the subtotal, signed: a discount takes its amount off (on a
        # credit note's negative subtotal that is a positive figure), a charge adds it.
        amount = -next(discounts) if adjustment.kind == DISCOUNT else next(charges)
        label = _("Discount") if adjustment.kind == DISCOUNT else _("Charge")
        if adjustment.mode == "percentage":
            label = _("%(adjustment)s (%(rate)s of %(base)s)") % {
                "adjustment": label, "rate": formats.percent(adjustment.value), "base": money(totals.subtotal)}
        if adjustment.reason:
            label = f"{label} · {adjustment.reason}"
        rows.append((label, money(amount), ""))
    rows.append((_("Tax-exclusive amount"), money(totals.base), "B"))
    for tax, computed in zip(invoice.taxes.all(), totals.taxes, strict=True):
        if computed.rate is not None:
            label = _("%(tax)s (%(rate)s of %(base)s)") % {
                "tax": tax.name, "rate": formats.percent(computed.rate), "base": money(computed.base)}
        else:
            label = tax.name
        rows.append((label, money(computed.amount), ""))
        # Why no tax is due: the reason printed on the invoice, else the exemption code's meaning.
        code = tax.current_exemption_code
        reason = tax.exemption_reason or (str(dict(ExemptionCode.choices).get(code, code)) if code else "")
        if reason:
            rows.append((reason, "", "I"))
    rows.append((_("Total"), money(totals.total), "TOTAL"))
    return rows


def _totals(pdf: InvoicePDF, invoice: Invoice, totals: InvoiceTotals, formats: _Formats) -> None:
    width = pdf.w - 2 * MARGIN
    label_width, amount_width = width * 0.42, width * 0.2
    x = MARGIN + width - label_width - amount_width
    rows = _total_rows(invoice, totals, formats)
    # Keep the block on one page.
    if pdf.get_y() + 6 * len(rows) + 4 > pdf.h - 20:
        pdf.add_page()
    for label, amount, style in rows:
        pdf.set_x(x)
        if style == "TOTAL":
            pdf.ln(1)
            pdf.set_x(x)
            pdf.set_fill_color(*ACCENT)
            pdf.font(11, "B", (255, 255, 255))
            pdf.cell(label_width, 8, pdf.text_of(label), fill=True, new_x="RIGHT")
            pdf.cell(amount_width, 8, pdf.text_of(amount), align="R", fill=True, new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.font(8 if style == "I" else 9, "I" if style == "I" else style, MUTED if style == "I" else INK)
        y = pdf.get_y()
        pdf.multi_cell(label_width, 5, pdf.text_of(label), new_x="RIGHT", new_y="TOP")
        bottom = pdf.get_y()
        pdf.set_xy(x + label_width, y)
        pdf.cell(amount_width, 5, pdf.text_of(amount), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(bottom, pdf.get_y()))
    pdf.ln(4)


def _section(pdf: InvoicePDF, title: str, lines: list[str]) -> None:
    if not lines:
        return
    width = pdf.w - 2 * MARGIN
    if pdf.get_y() + 12 > pdf.h - 20:
        pdf.add_page()
    pdf.set_x(MARGIN)
    pdf.font(7.5, "B", MUTED)
    pdf.cell(width, 5, pdf.text_of(title.upper()), new_x="LMARGIN", new_y="NEXT")
    pdf.font(9)
    for line in lines:
        pdf.multi_cell(width, 4.6, pdf.text_of(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _payment_lines(invoice: Invoice, totals: InvoiceTotals, formats: _Formats) -> list[str]:
    method = invoice.payment_method
    lines = []
    if invoice.status == "paid":
        lines.append(_("Paid. Thank you."))
    elif totals.total > 0 and not invoice.is_credit_note:
        # What credit notes and payments took off the total, so the amount asked for can be checked.
        current = balance(invoice)
        if current.credited:
            lines.append(_("Credited by credit notes: %(amount)s") % {
                "amount": formats.money(current.credited, totals.currency)})
        if current.paid:
            lines.append(_("Paid so far: %(amount)s") % {"amount": formats.money(current.paid, totals.currency)})
        if invoice.due_date and current.due > 0:
            lines.append(_("Please pay %(amount)s by %(date)s.") % {
                "amount": formats.money(current.due, totals.currency), "date": formats.date(invoice.due_date)})
    if method is None:
        return lines
    lines.append(str(method.get_type_display()))
    if method.iban:
        lines.append(_("IBAN: %(iban)s") % {"iban": method.iban})
    if method.bic:
        lines.append(_("BIC: %(bic)s") % {"bic": method.bic})
    if method.type == "direct_debit" and invoice.client.iban:
        debit = _("Debited from IBAN %(iban)s") % {"iban": invoice.client.iban}
        if invoice.client.mandate_reference:
            debit += " · " + _("mandate %(reference)s") % {"reference": invoice.client.mandate_reference}
        lines.append(debit)
    if method.details:
        lines.extend(method.details.splitlines())
    return lines


def render_invoice_pdf(invoice: Invoice, language: str | None = None, *,
                       blocks: list[HeaderBlock] | None = None) -> bytes:
    """Return the PDF of ``invoice`` in ``language`` (default: the client's).

    ``blocks`` replaces the registered header blocks for this document (see the module's docstring).
    """
    language = language or pdf_language(invoice)
    with translation.override(language):
        return _render(invoice, language, header_blocks() if blocks is None else blocks)


def _render(invoice: Invoice, language: str, blocks: list[HeaderBlock]) -> bytes:
    formats = _Formats(language)
    totals = calculate_invoice(invoice)
    company = invoice.company
    footer = " · ".join(p for p in (company.name, company.tin, invoice.number) if p)
    pdf = InvoicePDF(unicode_fonts=_font_dir(), footer_text=footer, page_label=_("Page %(page)s of %(pages)s"))
    title = (_("Credit note %(number)s") if invoice.is_credit_note else _("Invoice %(number)s")) % {
        "number": invoice.number}
    pdf.set_title(pdf.text_of(title))
    pdf.set_author(pdf.text_of(company.name))
    pdf.set_creator("b2binvoice")
    pdf.set_lang(language)
    pdf.add_page()
    pdf.font(9)  # a header block may write without choosing a font

    # The header band: blocks stacked at the top of the first page.
    y = MARGIN
    for block in blocks:
        used = block(pdf, invoice, HeaderSlot(MARGIN, y, pdf.w - 2 * MARGIN))
        y += max(float(used or 0), 0.0)
        if used:
            y += 3
    bottom = _heading(pdf, invoice, formats, y)
    bottom = _parties(pdf, invoice, formats, bottom + 6)
    pdf.set_y(bottom + 2)
    _corrects(pdf, invoice, formats)
    _lines(pdf, invoice, totals, formats)
    _totals(pdf, invoice, totals, formats)
    _section(pdf, _("Payment"), _payment_lines(invoice, totals, formats))
    _section(pdf, _("Note"), invoice.note.splitlines() if invoice.note else [])
    return bytes(pdf.output())
