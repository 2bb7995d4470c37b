"""Map a local invoice to the body of B2Brouter's invoice create request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import translation

from b2binvoice.companies.models import PaymentMethodType, TaxKind
from b2binvoice.companies.units import resolve_unit, unit_key
from b2binvoice.core.money import round_money
from b2binvoice.core.validators import compact_iban, compact_tin
from b2binvoice.invoices import verifactu

# B2Brouter payment_method codes: the payment_method_guide's "Payment Codes Table" (BT-81). Codes
# outside the table (19, 58, 59 of older examples) are never sent.
CASH, DIRECT_DEBIT, HOLD, TRANSFER, AWARDING, PROMISSORY_NOTE, CHEQUE, REPOSITION, OTHER, COMPENSATION = (
    1, 2, 3, 4, 7, 10, 11, 12, 13, 14)
PAYMENT_METHOD_CODES = {
    PaymentMethodType.BANK_TRANSFER: TRANSFER,
    PaymentMethodType.DIRECT_DEBIT: DIRECT_DEBIT,
    PaymentMethodType.CASH: CASH,
    PaymentMethodType.CHEQUE: CHEQUE,
    # Card and PayPal have no code of their own: "other", described in payment_method_text.
    PaymentMethodType.CARD: OTHER,
    PaymentMethodType.PAYPAL: OTHER,
    PaymentMethodType.OTHER: OTHER,
}

# ISO 6523 ICD of the VAT number of each country, sent as the contact's ``tin_scheme`` (a zero-padded
# 4-character string since API 2026-03-02). Spain's 9920 is B2Brouter's own example; the others are
# the Peppol EAS codes of the national VAT numbers (inferred: B2Brouter publishes no table).
TIN_SCHEMES = {
    "ES": "9920", "AT": "9914", "BE": "9925", "BG": "9926", "CH": "9927", "CY": "9928", "CZ": "9929", "DE": "9930",
    "EE": "9931", "GB": "9932", "GR": "9933", "HR": "9934", "IE": "9935", "LT": "9937",
    "LU": "9938", "LV": "9939", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946", "RO": "9947",
    "SI": "9949", "SK": "9950", "SE": "9955", "FR": "9957", "HU": "9910", "IT": "0211",
}


def plain_decimal(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (21.0000 -> 21, 100 stays 100)."""
    return Decimal(format(value.normalize(), "f"))


def line_taxes(invoice: Any) -> list[dict[str, Any]]:
    """Return the invoice's percentage taxes as B2Brouter line taxes (its documented name, never our label)."""
    taxes = []
    for tax in invoice.taxes.all():
        if tax.kind != TaxKind.PERCENTAGE:
            continue  # the readiness check blocks absolute taxes before anything is sent
        entry: dict[str, Any] = {"name": tax.b2brouter_name, "category": tax.category,
                                 "percent": plain_decimal(tax.rate)}
        # The taxes guide: ``comment`` carries the exemption / not-subject reason ("E2" in its example),
        # which Verifactu records take as a code; the free-text reason is sent when there is no code.
        code = getattr(tax, "current_exemption_code", "")
        if code:
            entry["comment"] = code
        elif tax.exemption_reason:
            entry["comment"] = tax.exemption_reason
        taxes.append(entry)
    return taxes


def unit_mappings(company: Any) -> dict[str, int | None]:
    """Return the company's own unit mappings, keyed by the comparable form of the unit."""
    return {unit_key(m.label): m.code for m in company.unit_mappings.all()}


def allowance_charges(invoice: Any) -> list[dict[str, Any]]:
    """Return the invoice's discounts and charges as document allowances and charges."""
    result = []
    for adjustment in invoice.adjustments.all():
        entry: dict[str, Any] = {
            "allowance_charge_indicator": "allowance" if adjustment.kind == "discount" else "charge",
            "reason": adjustment.reason or adjustment.get_kind_display(),
        }
        if adjustment.mode == "percentage":
            entry["percentage"] = plain_decimal(adjustment.value)
        else:
            # The amount this app's arithmetic uses (rounded to the currency), which B2Brouter takes as given.
            entry["amount"] = plain_decimal(round_money(Decimal(adjustment.value), invoice.currency))
        result.append(entry)
    return result


def payment_fields(invoice: Any) -> dict[str, Any]:
    """Return payment_method and what the method needs (bank_account, contact_iban or payment_method_text).

    The payer's IBAN and the mandate of a direct debit go in ``contact_iban`` and
    ``mandate_reference``: B2Brouter's guide lists code 2 but not its fields (inferred names).
    """
    method = invoice.payment_method
    if method is None:
        return {}
    code = PAYMENT_METHOD_CODES.get(method.type, OTHER)
    fields: dict[str, Any] = {"payment_method": code}
    if code == TRANSFER:
        # A transfer in any currency, euro included, is code 4 with the account to pay into.
        account: dict[str, Any] = {"type": "iban", "iban": compact_iban(method.iban)}
        if method.bic:
            account["bic"] = method.bic.strip().upper()
        fields["bank_account"] = account
    elif code == DIRECT_DEBIT:
        # The payer's account, which the supplier debits (the readiness check requires a valid one).
        if invoice.client.iban:
            fields["contact_iban"] = compact_iban(invoice.client.iban)
        if invoice.client.mandate_reference.strip():
            fields["mandate_reference"] = invoice.client.mandate_reference.strip()
    elif code == OTHER:
        fields["payment_method_text"] = (method.details or method.name or method.get_type_display())[:255]
    return fields


def references(invoice: Any) -> dict[str, str]:
    """Return the references the customer sees: buyer reference (BT-10), project (BT-11), order (BT-13)."""
    fields = {}
    for field, value in (("buyer_reference", invoice.buyer_reference), ("file_reference", invoice.project_reference),
                         ("ponumber", invoice.purchase_order)):
        if value.strip():
            fields[field] = value.strip()
    return fields


def document_language(invoice: Any) -> str:
    """Return the language the invoice is written in: its client's when the app speaks it, else English."""
    code = (getattr(invoice.client, "language", "") or "").split("-")[0].lower()
    return code if code in dict(settings.LANGUAGES) else "en"


def invoice_payload(invoice: Any, *, contact_id: int | None) -> dict[str, Any]:
    """Return the B2Brouter invoice for ``invoice`` addressed to ``contact_id``.

    A Spanish simplified invoice (F2, or its R5 correction) is ``type: IssuedSimplifiedInvoice`` with
    the client inline: B2Brouter ignores ``contact_id`` for that type (SDK CHANGELOG, API 2026-03-02).
    Texts the app supplies (a discount without a reason, a payment method's type) are written in the
    document's language, never the language of whoever presses the button: the same invoice always
    makes the same payload.
    """
    with translation.override(document_language(invoice)):
        return _invoice_payload(invoice, contact_id=contact_id)


def _invoice_payload(invoice: Any, *, contact_id: int | None) -> dict[str, Any]:
    taxes = line_taxes(invoice)
    units = unit_mappings(invoice.company)
    lines = []
    for line in invoice.lines.all():
        entry: dict[str, Any] = {
            "description": line.description,
            "quantity": plain_decimal(line.quantity),
            "price": plain_decimal(line.unit_price),
            "taxes_attributes": [dict(tax) for tax in taxes],
        }
        code = resolve_unit(line.unit, units)
        if code is not None:
            entry["unit"] = code
        lines.append(entry)
    payload: dict[str, Any] = {
        "number": invoice.number,
        "date": invoice.issue_date.isoformat(),
        "currency": invoice.currency,
        "invoice_lines_attributes": lines,
    }
    if verifactu.is_simplified(verifactu.computed_type_code(invoice)):
        payload["type"] = "IssuedSimplifiedInvoice"
        payload["contact"] = simplified_contact(invoice.client)
    else:
        payload["contact_id"] = contact_id
    payload.update(references(invoice))
    if invoice.due_date:
        payload["due_date"] = invoice.due_date.isoformat()
    adjustments = allowance_charges(invoice)
    if adjustments:
        payload["allowance_charges_attributes"] = adjustments
    payload.update(payment_fields(invoice))
    if invoice.note:
        payload["extra_info"] = invoice.note
    payload.update(corrective_fields(invoice))
    return payload


def corrective_fields(invoice: Any) -> dict[str, Any]:
    """Return the fields of a credit note (factura rectificativa) as API 2026-03-02 takes them.

    B2Brouter's PHP SDK (docs/SPANISH_INVOICING.md, scenario 3) sends ``is_credit_note: true``,
    the corrected invoice's ``amended_number`` and ``amended_date`` and ``amend_reason`` (R1 to
    R5), with negative prices, as the credit note's lines here have. API 2026-04-20 replaces
    the amended_* fields by ``invoice_references[]``; this app pins 2026-03-02.
    """
    if getattr(invoice, "kind", "invoice") != "credit_note":
        return {}
    fields: dict[str, Any] = {"is_credit_note": True, "amended_number": invoice.amended_number}
    if invoice.amended_date:
        fields["amended_date"] = invoice.amended_date.isoformat()
    # A Spanish credit note goes with its Verifactu code (R5 when it corrects a simplified invoice,
    # which the readiness check makes the chosen reason agree with); B2Brouter documents no field for
    # the corrective type (by differences / by substitution): ours are by differences, negative lines.
    reason = verifactu.computed_type_code(invoice) or invoice.corrective_reason
    if reason:
        fields["amend_reason"] = reason
    return fields


def simplified_contact(client: Any) -> dict[str, Any]:
    """Return the inline contact of a simplified invoice: the client's name and country, and what else it has."""
    contact: dict[str, Any] = {"name": client.name, "country": (client.country or "ES").lower()}
    for field, value in (("email", client.email), ("address", client.address), ("city", client.city),
                         ("postalcode", client.postal_code), ("province", client.province)):
        if value:
            contact[field] = value
    return contact


def contact_payload(client: Any) -> dict[str, Any]:
    """Return the B2Brouter contact for a local client."""
    country = (client.country or "").upper()
    payload: dict[str, Any] = {
        "name": client.name,
        "country": country.lower(),
        "is_client": True,
        "integration_code": str(client.pk),
    }
    tin = compact_tin(client.tin)
    if tin:
        if country in TIN_SCHEMES:
            payload["tin_scheme"] = TIN_SCHEMES[country]
            # These schemes identify VAT numbers, which carry their country prefix (B2Brouter's own
            # example sends "ESD29766391" with 9920); a Spanish client's "B58378431" gets "ES".
            if not tin[:2].isalpha():
                tin = ("EL" if country == "GR" else country) + tin
        payload["tin_value"] = tin
    for field, value in (("email", client.email), ("address", client.address), ("city", client.city),
                         ("postalcode", client.postal_code), ("province", client.province),
                         ("language", client.language)):
        if value:
            payload[field] = value
    if client.peppol_scheme and client.peppol_id:
        # The transports guide: to send through Peppol, set the transport to peppol and give the
        # Peppol address; otherwise B2Brouter picks the transport and document type itself.
        payload.update({"transport_type_code": "peppol", "pin_scheme": client.peppol_scheme,
                        "pin_value": client.peppol_id.strip()})
    return payload
