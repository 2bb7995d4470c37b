"""Map a local invoice to the body of B2Brouter's invoice create request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from b2binvoice.companies.models import PaymentMethodType, TaxKind
from b2binvoice.core.money import round_money
from b2binvoice.core.validators import compact_iban, compact_tin

# B2Brouter payment_method codes (shared/b2brouter-api.md section 3).
CASH, DIRECT_DEBIT, CREDIT_TRANSFER, OTHER, CARD, SEPA_CREDIT_TRANSFER = 1, 2, 4, 13, 19, 58
PAYMENT_METHOD_CODES = {
    PaymentMethodType.DIRECT_DEBIT: DIRECT_DEBIT,
    PaymentMethodType.CARD: CARD,
    PaymentMethodType.CASH: CASH,
    PaymentMethodType.PAYPAL: OTHER,
    PaymentMethodType.OTHER: OTHER,
}


def plain_decimal(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (21.0000 -> 21, 100 stays 100)."""
    return Decimal(format(value.normalize(), "f"))


def line_taxes(invoice: Any) -> list[dict[str, Any]]:
    """Return the invoice's percentage taxes as B2Brouter line taxes."""
    taxes = []
    for tax in invoice.taxes.all():
        if tax.kind != TaxKind.PERCENTAGE:
            continue  # the readiness check blocks absolute taxes before anything is sent
        entry: dict[str, Any] = {"name": tax.name, "category": tax.category, "percent": plain_decimal(tax.rate)}
        if tax.exemption_reason:
            entry["comment"] = tax.exemption_reason
        taxes.append(entry)
    return taxes


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
    """Return payment_method, payment_method_text and bank_account for the invoice's payment method."""
    method = invoice.payment_method
    if method is None:
        return {}
    if method.type == PaymentMethodType.BANK_TRANSFER:
        # A SEPA credit transfer is a euro transfer; any other currency is a plain credit transfer.
        code = SEPA_CREDIT_TRANSFER if invoice.currency == "EUR" else CREDIT_TRANSFER
        account: dict[str, Any] = {"type": "iban", "iban": compact_iban(method.iban)}
        if method.bic:
            account["bic"] = method.bic.strip().upper()
        return {"payment_method": code, "bank_account": account}
    fields: dict[str, Any] = {"payment_method": PAYMENT_METHOD_CODES.get(method.type, OTHER)}
    if fields["payment_method"] == OTHER:
        fields["payment_method_text"] = (method.details or method.name or method.get_type_display())[:255]
    return fields


def invoice_payload(invoice: Any, *, contact_id: int) -> dict[str, Any]:
    """Return the B2Brouter invoice for ``invoice`` addressed to ``contact_id``."""
    taxes = line_taxes(invoice)
    lines = []
    for line in invoice.lines.all():
        entry: dict[str, Any] = {
            "description": line.description,
            "quantity": plain_decimal(line.quantity),
            "price": plain_decimal(line.unit_price),
            "taxes_attributes": [dict(tax) for tax in taxes],
        }
        if line.unit:
            entry["unit"] = line.unit
        lines.append(entry)
    payload: dict[str, Any] = {
        "number": invoice.number,
        "date": invoice.issue_date.isoformat(),
        "currency": invoice.currency,
        "contact_id": contact_id,
        "file_reference": str(invoice.pk),
        "invoice_lines_attributes": lines,
    }
    if invoice.due_date:
        payload["due_date"] = invoice.due_date.isoformat()
    adjustments = allowance_charges(invoice)
    if adjustments:
        payload["allowance_charges_attributes"] = adjustments
    payload.update(payment_fields(invoice))
    if invoice.note:
        payload["extra_info"] = invoice.note
    return payload


def contact_payload(client: Any) -> dict[str, Any]:
    """Return the B2Brouter contact for a local client."""
    payload: dict[str, Any] = {
        "name": client.name,
        "country": (client.country or "").lower(),
        "is_client": True,
        "integration_code": str(client.pk),
    }
    for field, value in (("tin_value", compact_tin(client.tin)), ("email", client.email),
                         ("address", client.address), ("city", client.city),
                         ("postalcode", client.postal_code), ("province", client.province),
                         ("language", client.language)):
        if value:
            payload[field] = value
    return payload
