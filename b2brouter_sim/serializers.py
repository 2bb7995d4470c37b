"""Turn simulator records into the API's JSON shapes (contract section 3).

Amounts are JSON strings with exactly the currency's decimals ("1234.20", "1000" for JPY);
percent, quantity and price are strings as the caller wrote them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .models import (
    SimAccount,
    SimContact,
    SimDirectoryEntry,
    SimInvoice,
    SimTaxReport,
    SimTaxReportSetting,
    SimWebhook,
    SimWebhookDelivery,
)


def timestamp(value: dt.datetime | None) -> str | None:
    """Return an aware datetime as ISO 8601 in UTC with a Z."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def account(obj: SimAccount) -> dict[str, Any]:
    """Serialise an account."""
    return {
        "id": obj.pk,
        "name": obj.name,
        "tin_value": obj.tin_value,
        "tin_scheme": obj.tin_scheme,
        "country": obj.country,
        "currency": obj.currency,
        "email": obj.email,
        "phone": obj.phone,
        "website": obj.website,
        "address": obj.address,
        "city": obj.city,
        "postalcode": obj.postalcode,
        "province": obj.province,
        "rounding_method": obj.rounding_method,
        "round_before_sum": obj.round_before_sum,
        "apply_taxes_per_line": obj.apply_taxes_per_line,
        "transactions_count": obj.transactions_count,
        "transactions_limit": obj.transactions_limit,
        "created_at": timestamp(obj.created_at),
        "updated_at": timestamp(obj.updated_at),
    }


def contact(obj: SimContact) -> dict[str, Any]:
    """Serialise a contact."""
    return {
        "id": obj.pk,
        "name": obj.name,
        "email": obj.email,
        "tin_value": obj.tin_value,
        "tin_scheme": obj.tin_scheme,
        "cin_value": obj.cin_value,
        "cin_scheme": obj.cin_scheme,
        "country": obj.country,
        "address": obj.address,
        "city": obj.city,
        "postalcode": obj.postalcode,
        "province": obj.province,
        "phone": obj.phone,
        "website": obj.website,
        "transport_type_code": obj.transport_type_code,
        "document_type_code": obj.document_type_code,
        "language": obj.language,
        "currency": obj.currency,
        "is_client": obj.is_client,
        "is_provider": obj.is_provider,
        "integration_code": obj.integration_code,
        "scenario": obj.scenario,
        "created_at": timestamp(obj.created_at),
        "updated_at": timestamp(obj.updated_at),
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def attachment(obj: SimInvoice, data: dict[str, Any]) -> dict[str, Any]:
    """Serialise one attachment of an invoice (its bytes stay out: ``link`` names where they are)."""
    return {
        "id": data["id"],
        "filename": data["filename"],
        "content_type": data["content_type"],
        "size": data["size"],
        "use_as_pdf_view": bool(data.get("use_as_pdf_view")),
        "link": f"/attachments/download/{obj.pk}-{data['id']}/{data['filename']}",
    }


def invoice(obj: SimInvoice) -> dict[str, Any]:
    """Serialise an invoice: request fields, computed totals, state and timestamps.

    Under the account's `minimal_answers` option the tax groups leave out `category`, which
    B2Brouter's documentation does not promise in an answer.
    """
    req = obj.request
    totals = obj.totals
    line_amounts = totals.get("line_amounts", [])
    lines = []
    for i, line in enumerate(req.get("invoice_lines_attributes") or []):
        lines.append(
            {
                "description": line.get("description", ""),
                "quantity": _text(line.get("quantity")),
                "price": _text(line.get("price")),
                "base_quantity": _text(line.get("base_quantity", 1)),
                "unit": line.get("unit"),
                "amount": line_amounts[i] if i < len(line_amounts) else None,
                "taxes": [
                    {"name": t.get("name", "IVA"), "category": str(t.get("category") or "S").upper(),
                     "percent": _text(t.get("percent")), "comment": t.get("comment")}
                    for t in line.get("taxes_attributes") or []
                ],
                "allowance_charges": [_adjustment(a) for a in line.get("allowance_charges_attributes") or []],
            }
        )
    adjustments = []
    for i, item in enumerate(req.get("allowance_charges_attributes") or []):
        entry = _adjustment(item)
        amounts = totals.get("document_adjustments", [])
        entry["computed_amount"] = amounts[i] if i < len(amounts) else None
        adjustments.append(entry)
    return {
        "id": obj.pk,
        "type": obj.type,
        "account_id": obj.account_id,
        "number": obj.number,
        "series_code": req.get("series_code"),
        "state": obj.state,
        "date": obj.date.isoformat(),
        "due_date": obj.due_date.isoformat() if obj.due_date else None,
        "currency": obj.currency,
        "language": req.get("language"),
        "is_credit_note": obj.is_credit_note,
        # The corrected invoice of a credit note (API 2026-03-02; 2026-04-20 moves them to invoice_references).
        "amended_number": req.get("amended_number"),
        "amended_date": req.get("amended_date"),
        "amend_reason": req.get("amend_reason"),
        "contact_id": obj.contact_id,
        "contact": contact(obj.contact),
        "invoice_lines": lines,
        "allowance_charges": adjustments,
        "payment_method": req.get("payment_method"),
        "payment_method_text": req.get("payment_method_text"),
        "bank_account": req.get("bank_account"),
        "extra_info": req.get("extra_info"),
        "file_reference": req.get("file_reference"),
        "buyer_reference": req.get("buyer_reference"),
        "ponumber": req.get("ponumber"),
        "subtotal": totals["subtotal"],
        "taxes": _tax_groups(totals["taxes"], minimal=obj.account.minimal_answers),
        "total": totals["total"],
        "errors": list(obj.errors or []),
        "refuse_reason": obj.refuse_reason or None,
        "attachments": [attachment(obj, a) for a in req.get("_sim_attachments") or []],
        "created_at": timestamp(obj.created_at),
        "updated_at": timestamp(obj.updated_at),
        "state_updated_at": timestamp(obj.state_updated_at),
        # The Verifactu/TicketBAI records of the invoice, oldest first.
        "tax_report_ids": sorted(report.pk for report in obj.tax_reports.all()),
    }


def _tax_groups(groups: list[dict[str, Any]], *, minimal: bool) -> list[dict[str, Any]]:
    if not minimal:
        return groups
    return [{key: value for key, value in group.items() if key != "category"} for group in groups]


def deleted(data: dict[str, Any]) -> dict[str, Any]:
    """Mark a serialised record as deleted, as a DELETE answers it."""
    return data | {"deleted": True}


def directory_entry(obj: SimDirectoryEntry) -> dict[str, Any]:
    """Serialise a directory participant: its details and, per document, how it receives it."""
    return {
        "name": obj.name,
        "country": obj.country,
        "scheme": obj.scheme,
        "id": obj.identifier,
        "Invoice": {
            "transport_type_code": obj.transport_type_code,
            "document_type_code": obj.document_type_code,
            "other_document_type_codes": list(obj.other_document_type_codes or []),
        },
    }


def _adjustment(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "allowance_charge_indicator": item.get("allowance_charge_indicator", "allowance"),
        "percentage": _text(item.get("percentage")),
        "amount": _text(item.get("amount")),
        "reason": item.get("reason"),
        "apply_taxes": item.get("apply_taxes", True) in (True, "true", "1", 1),
    }


def webhook(obj: SimWebhook, *, with_secret: bool = False, with_deliveries: bool = False) -> dict[str, Any]:
    """Serialise a webhook endpoint; the secret only when just created."""
    data: dict[str, Any] = {
        "id": obj.pk,
        "url": obj.url,
        "description": obj.description,
        "events": obj.events,
        "enabled": obj.enabled,
        "created_at": timestamp(obj.created_at),
        "updated_at": timestamp(obj.updated_at),
    }
    if with_secret:
        data["signing_secret"] = obj.signing_secret
    if with_deliveries:
        data["deliveries"] = [
            delivery(d) for d in obj.deliveries.select_related("event", "tax_report_event__tax_report").order_by("id")
        ]
    return data


def delivery(obj: SimWebhookDelivery) -> dict[str, Any]:
    """Serialise one entry of a webhook's delivery log."""
    if obj.tax_report_event is not None:
        extra = {
            "event_id": obj.tax_report_event_id,
            "invoice_id": obj.tax_report_event.tax_report.invoice_id,
            "tax_report_id": obj.tax_report_event.tax_report_id,
            "state": obj.tax_report_event.state,
        }
    else:
        assert obj.event is not None
        extra = {"event_id": obj.event_id, "invoice_id": obj.event.invoice_id, "state": obj.event.state}
    return {
        "id": obj.pk,
        **extra,
        "status": obj.status,
        "attempts": obj.attempts,
        "status_code": obj.status_code,
        "last_error": obj.last_error,
        "next_attempt_at": timestamp(obj.next_attempt_at),
        "delivered_at": timestamp(obj.delivered_at),
    }


def tax_report_setting(obj: SimTaxReportSetting) -> dict[str, Any]:
    """Serialise a tax report setting."""
    return {
        "code": obj.code,
        "type": obj.code,
        "start_date": obj.start_date.isoformat(),
        "auto_generate": obj.auto_generate,
        "auto_send": obj.auto_send,
        "delegation": obj.delegation or None,
        "special_regime_key": obj.special_regime_key,
        "special_regime_key_igic": obj.special_regime_key_igic,
        "reason_vat_exempt": obj.reason_vat_exempt,
        "reason_no_subject": obj.reason_no_subject,
        "credit_note_code": obj.credit_note_code,
        "created_at": timestamp(obj.created_at),
        "updated_at": timestamp(obj.updated_at),
    }


def tax_report(obj: SimTaxReport) -> dict[str, Any]:
    """Serialise a Verifactu or TicketBAI record with its QR (base64 PNG) and identifier.

    The Verifactu QR and identifier are there from the start; TicketBAI's once chained, which
    the simulator does on creation too.
    """
    from .tax_reports import identifier, qr_png_base64

    ident = identifier(obj, obj.account)
    kind = "Cancellation" if obj.annullation else "Correction" if obj.correction else "Registration"
    data = {
        "id": obj.pk,
        "type": obj.type,
        "state": obj.state,
        "label": f"{kind} {obj.invoice_number}",
        "invoice_id": obj.invoice_id,
        "invoice_number": obj.invoice_number,
        "invoice_series_code": obj.invoice_series_code or None,
        "invoice_date": obj.invoice_date.isoformat(),
        "invoice_type_code": obj.invoice_type_code,
        "description": obj.description,
        "customer_party_name": obj.customer_party_name or None,
        "customer_party_tax_id": obj.customer_party_tax_id or None,
        "customer_party_country": obj.customer_party_country or None,
        "currency": obj.currency,
        "tax_inclusive_amount": obj.tax_inclusive_amount,
        "tax_amount": obj.tax_amount,
        "tax_breakdowns": obj.tax_breakdowns,
        "qr": qr_png_base64(ident),
        "identifier": ident,
        "fingerprint": obj.fingerprint,
        "previous_fingerprint": obj.previous_fingerprint or None,
        "correction": obj.correction,
        "annullation": obj.annullation,
        "corrected_tax_report_id": obj.corrected_id,
        "has_errors": bool(obj.errors),
        "errors": list(obj.errors or []),
        "warnings": list(obj.warnings or []),
        "ledger_id": None,
        "sent_at": timestamp(obj.sent_at),
        "created_at": timestamp(obj.created_at),
        "updated_at": timestamp(obj.updated_at),
    }
    if obj.account.minimal_answers:
        # B2Brouter documents none of these: receivers must cope without them.
        for name in ("fingerprint", "previous_fingerprint", "corrected_tax_report_id"):
            del data[name]
    return data
