"""The Verifactu / TicketBAI block at the top of our PDF: the QR code of the invoice's record and its legend.

AEAT's "Especificaciones técnicas del código QR" (docs/api-evidence.md, 10.3): the QR encodes the
record's verification URL (B2Brouter's ``identifier``) per ISO/IEC 18004 with error correction
level M, 30 to 40 mm square, at the top of the first page, once; the text "QR tributario:" above
it and the legend "VERI*FACTU" (with "Factura verificable en la sede electrónica de la AEAT").
These texts are the regulation's own words, printed as they are in every language. A TicketBAI
invoice prints its TBAI identifier instead of the Verifactu legend.

The image is drawn again from ``identifier`` with segno (B2Brouter's ``qr`` PNG is not kept):
the same URL gives the same code.
"""

from __future__ import annotations

import io
from typing import Any

import segno

from b2binvoice.invoices.pdf import HeaderSlot

from .models import TaxRecord, TaxRecordKind

#: The side of the QR symbol itself, in mm (its quiet zone is added around it).
SYMBOL_MM = 32.0
#: The quiet zone, in modules (ISO/IEC 18004 asks for 4).
QUIET_ZONE = 4
QR_LABEL = "QR tributario:"
VERIFACTU_LEGEND = "VERI*FACTU"
VERIFACTU_TEXT = "Factura verificable en la sede electrónica de la AEAT"


def printable_record(invoice: Any) -> TaxRecord | None:
    """Return the record whose QR the invoice carries: the newest registration or correction with an identifier.

    None when the invoice has none, or when its record was cancelled (the invoice is void for AEAT).
    """
    if getattr(invoice, "pk", None) is None:
        return None
    records = list(TaxRecord.objects.filter(invoice=invoice).order_by("remote_id"))
    if any(r.kind == TaxRecordKind.ANNULLATION and r.state == "annulled" for r in records):
        return None
    printable = [r for r in records if r.kind != TaxRecordKind.ANNULLATION and r.identifier]
    return printable[-1] if printable else None


def qr_png(text: str) -> tuple[bytes, int]:
    """Return a PNG of the QR code of ``text`` (level M, with its quiet zone) and the symbol's side in modules."""
    code = segno.make(text, error="m", micro=False, boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=8, border=QUIET_ZONE)
    return out.getvalue(), code.symbol_size(scale=1, border=0)[0]


def tax_record_block(pdf: Any, invoice: Any, slot: HeaderSlot) -> float:
    """Draw the record's QR code and legend at ``slot``; answer the height used (0: nothing to print)."""
    record = printable_record(invoice)
    if record is None:
        return 0.0
    png, modules = qr_png(record.identifier)
    side = SYMBOL_MM * (modules + 2 * QUIET_ZONE) / modules
    quiet = side - SYMBOL_MM
    x, y = slot.x - quiet / 2, slot.y
    pdf.font(8, "B")
    pdf.set_xy(slot.x, y)
    pdf.cell(side, 4, pdf.text_of(QR_LABEL))
    pdf.image(io.BytesIO(png), x=x, y=y + 4, w=side, h=side)
    text_x = x + side + 2
    text_width = max(slot.width - (text_x - slot.x), 20)
    pdf.set_xy(text_x, y + 4 + quiet / 2)
    if record.is_verifactu:
        pdf.font(12, "B")
        pdf.cell(text_width, 6, VERIFACTU_LEGEND, new_x="LEFT", new_y="NEXT")
        pdf.font(8)
        pdf.multi_cell(text_width, 4, pdf.text_of(VERIFACTU_TEXT), new_x="LEFT", new_y="NEXT")
    else:
        pdf.font(10, "B")
        pdf.cell(text_width, 6, "TicketBAI", new_x="LEFT", new_y="NEXT")
        pdf.font(8)
        pdf.multi_cell(text_width, 4, pdf.text_of(record.identifier), new_x="LEFT", new_y="NEXT")
    pdf.font(9)
    return 4 + side
