"""Documents of an invoice: a PDF (fpdf2) and a UBL 2.1 (Peppol BIS 3) XML built from the totals."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from fpdf import FPDF

from . import backend, serializers
from .calculations import money
from .exceptions import BadRequest, NotFound
from .models import SimInvoice

PDF = "pdf.invoice"
UBL = "xml.ubl.invoice.bis3"
FACTURAE = "xml.facturae.3.2.2"
ORIGINAL = "original"

UBL_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
UBL_CATEGORY = {"AA": "S", "AAA": "S", "H": "S", "NS": "O"}


def render(invoice: SimInvoice, document_type: str) -> tuple[bytes, str, str]:
    """Return (content, content type, file name) of a document, or raise NotFound/BadRequest."""
    if document_type == PDF:
        # A PDF attached "as PDF view" is the invoice's PDF from then on (attachments guide).
        attached = backend.pdf_view(invoice)
        return attached if attached is not None else pdf(invoice), "application/pdf", f"{invoice.number}.pdf"
    if document_type == UBL:
        return ubl(invoice), "application/xml", f"{invoice.number}.xml"
    if document_type == ORIGINAL:
        body = json.dumps({"invoice": backend.sent_request(invoice)}, cls=DjangoJSONEncoder, indent=2)
        return body.encode(), "application/json", f"{invoice.number}.json"
    if document_type == FACTURAE:
        raise BadRequest("Document type xml.facturae.3.2.2 is not available in the simulator", param="document_type")
    raise NotFound(f"Unknown document type {document_type!r}")


def _latin1(text: Any) -> str:
    # The PDF core fonts cover Latin-1 only; anything else becomes "?" rather than failing.
    return str(text if text is not None else "").encode("latin-1", "replace").decode("latin-1")


def pdf(invoice: SimInvoice) -> bytes:
    """Render the invoice as a one-document PDF: parties, lines, taxes and totals."""
    data = serializers.invoice(invoice)
    account = invoice.account
    contact = invoice.contact
    doc = FPDF()
    doc.set_title(_latin1(f"Invoice {invoice.number}"))
    doc.add_page()
    doc.set_font("Helvetica", "B", 16)
    doc.cell(0, 10, _latin1(("Credit note " if invoice.is_credit_note else "Invoice ") + invoice.number), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "", 10)
    doc.cell(0, 6, _latin1(f"Date: {data['date']}   Due: {data['due_date'] or '-'}   State: {invoice.state}"), new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    doc.set_font("Helvetica", "B", 10)
    doc.cell(95, 6, "From", new_x="RIGHT")
    doc.cell(95, 6, "To", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "", 10)
    left = [account.name, account.tin_value, account.country.upper()]
    right = [contact.name, contact.tin_value or contact.cin_value, contact.address, f"{contact.postalcode} {contact.city}".strip(), contact.country.upper()]
    for i in range(max(len(left), len(right))):
        doc.cell(95, 5, _latin1(left[i] if i < len(left) else ""), new_x="RIGHT")
        doc.cell(95, 5, _latin1(right[i] if i < len(right) else ""), new_x="LMARGIN", new_y="NEXT")
    doc.ln(4)
    doc.set_font("Helvetica", "B", 9)
    for title, width in (("Description", 90), ("Quantity", 25), ("Price", 25), ("Taxes", 25), ("Amount", 25)):
        doc.cell(width, 6, title, border="B", new_x="RIGHT")
    doc.ln()
    doc.set_font("Helvetica", "", 9)
    for line in data["invoice_lines"]:
        taxes = ", ".join(f"{t['name']} {t['percent']}%" for t in line["taxes"])
        doc.cell(90, 6, _latin1(line["description"])[:60], new_x="RIGHT")
        doc.cell(25, 6, _latin1(line["quantity"]), align="R", new_x="RIGHT")
        doc.cell(25, 6, _latin1(line["price"]), align="R", new_x="RIGHT")
        doc.cell(25, 6, _latin1(taxes), align="R", new_x="RIGHT")
        doc.cell(25, 6, _latin1(line["amount"]), align="R", new_x="LMARGIN", new_y="NEXT")
    doc.ln(4)
    cur = invoice.currency
    rows = [("Subtotal", data["subtotal"])]
    rows += [(f"{t['name']} {t['percent']}% on {t['base']}", t["amount"]) for t in data["taxes"]]
    rows.append(("Total", data["total"]))
    for label, amount in rows:
        doc.set_font("Helvetica", "B" if label == "Total" else "", 10)
        doc.cell(140, 6, _latin1(label), align="R", new_x="RIGHT")
        doc.cell(50, 6, _latin1(f"{amount} {cur}"), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


def _el(parent: ET.Element, ns: str, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = str(text)
    return element


def _party(parent: ET.Element, tag: str, name: str, tin: str, country: str) -> None:
    party = _el(_el(parent, CAC, tag), CAC, "Party")
    _el(_el(party, CAC, "PartyName"), CBC, "Name", name)
    _el(_el(_el(party, CAC, "PostalAddress"), CAC, "Country"), CBC, "IdentificationCode", country.upper())
    tax_scheme = _el(party, CAC, "PartyTaxScheme")
    _el(tax_scheme, CBC, "CompanyID", tin)
    _el(_el(tax_scheme, CAC, "TaxScheme"), CBC, "ID", "VAT")
    _el(_el(party, CAC, "PartyLegalEntity"), CBC, "RegistrationName", name)


def ubl(invoice: SimInvoice) -> bytes:
    """Render the invoice as UBL 2.1 whose monetary totals are the response's totals."""
    ET.register_namespace("", UBL_NS)
    ET.register_namespace("cac", CAC)
    ET.register_namespace("cbc", CBC)
    data = serializers.invoice(invoice)
    cur = invoice.currency
    root = ET.Element(f"{{{UBL_NS}}}Invoice")
    _el(root, CBC, "CustomizationID", "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0")
    _el(root, CBC, "ProfileID", "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
    _el(root, CBC, "ID", invoice.number)
    _el(root, CBC, "IssueDate", data["date"])
    if data["due_date"]:
        _el(root, CBC, "DueDate", data["due_date"])
    _el(root, CBC, "InvoiceTypeCode", "381" if invoice.is_credit_note else "380")
    _el(root, CBC, "DocumentCurrencyCode", cur)
    if data.get("amended_number"):
        # BT-25/26, the preceding invoice a credit note corrects.
        reference = _el(_el(root, CAC, "BillingReference"), CAC, "InvoiceDocumentReference")
        _el(reference, CBC, "ID", data["amended_number"])
        if data.get("amended_date"):
            _el(reference, CBC, "IssueDate", data["amended_date"])
    account, contact = invoice.account, invoice.contact
    _party(root, "AccountingSupplierParty", account.name, account.tin_value, account.country)
    _party(root, "AccountingCustomerParty", contact.name, contact.tin_value or contact.cin_value, contact.country)
    allowances = charges = None
    for item in data["allowance_charges"]:
        is_charge = item["allowance_charge_indicator"] == "charge"
        node = _el(root, CAC, "AllowanceCharge")
        _el(node, CBC, "ChargeIndicator", "true" if is_charge else "false")
        if item.get("reason"):
            _el(node, CBC, "AllowanceChargeReason", item["reason"])
        _el(node, CBC, "Amount", item["computed_amount"], currencyID=cur)
        if is_charge:
            charges = (charges or []) + [item["computed_amount"]]
        else:
            allowances = (allowances or []) + [item["computed_amount"]]
    tax_total = _el(root, CAC, "TaxTotal")
    tax_sum = sum((Decimal(t["amount"]) for t in data["taxes"]), Decimal("0"))
    _el(tax_total, CBC, "TaxAmount", money(tax_sum, cur), currencyID=cur)
    # The stored groups, not the answer's: under minimal_answers the answer has no category.
    for group in invoice.totals["taxes"]:
        sub = _el(tax_total, CAC, "TaxSubtotal")
        _el(sub, CBC, "TaxableAmount", group["base"], currencyID=cur)
        _el(sub, CBC, "TaxAmount", group["amount"], currencyID=cur)
        category = _el(sub, CAC, "TaxCategory")
        _el(category, CBC, "ID", UBL_CATEGORY.get(group["category"], group["category"]))
        _el(category, CBC, "Percent", group["percent"])
        _el(_el(category, CAC, "TaxScheme"), CBC, "ID", "VAT" if group["name"].upper() in {"IVA", "VAT"} else group["name"])
    line_sum = sum((Decimal(line["amount"]) for line in data["invoice_lines"]), Decimal("0"))
    totals = _el(root, CAC, "LegalMonetaryTotal")
    _el(totals, CBC, "LineExtensionAmount", money(line_sum, cur), currencyID=cur)
    _el(totals, CBC, "TaxExclusiveAmount", data["subtotal"], currencyID=cur)
    _el(totals, CBC, "TaxInclusiveAmount", data["total"], currencyID=cur)
    if allowances:
        _el(totals, CBC, "AllowanceTotalAmount", money(sum(map(Decimal, allowances), Decimal("0")), cur), currencyID=cur)
    if charges:
        _el(totals, CBC, "ChargeTotalAmount", money(sum(map(Decimal, charges), Decimal("0")), cur), currencyID=cur)
    _el(totals, CBC, "PayableAmount", data["total"], currencyID=cur)
    for i, line in enumerate(data["invoice_lines"], start=1):
        node = _el(root, CAC, "InvoiceLine")
        _el(node, CBC, "ID", i)
        _el(node, CBC, "InvoicedQuantity", line["quantity"], unitCode=str(line.get("unit") or "C62"))
        _el(node, CBC, "LineExtensionAmount", line["amount"], currencyID=cur)
        item = _el(node, CAC, "Item")
        _el(item, CBC, "Name", line["description"] or "-")
        for tax in line["taxes"]:
            category = _el(item, CAC, "ClassifiedTaxCategory")
            _el(category, CBC, "ID", UBL_CATEGORY.get(tax["category"], tax["category"]))
            _el(category, CBC, "Percent", tax["percent"])
            _el(_el(category, CAC, "TaxScheme"), CBC, "ID", "VAT" if str(tax["name"]).upper() in {"IVA", "VAT"} else tax["name"])
        price = _el(node, CAC, "Price")
        _el(price, CBC, "PriceAmount", line["price"], currencyID=cur)
        _el(price, CBC, "BaseQuantity", line["base_quantity"])
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")

