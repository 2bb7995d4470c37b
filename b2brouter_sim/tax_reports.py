"""Tax reports: Verifactu and TicketBAI records, their settings, chain, states and AEAT's answers.

A record is created ``processing`` when an invoice of an account with a tax report setting is
sent (or directly through the API). The task queue then applies the simulated authority's
answer: ``registered``, ``registered_with_errors`` (a warning) or ``error`` (a rejection, see
the ``aeat_reject_rate`` fault). A correction (PATCH) is a new record flagged ``correction``;
a cancellation (DELETE) a new record flagged ``annullation`` that ends ``annulled``.

Every record of an account and type is chained: its ``fingerprint`` is the SHA-256 (upper-case
hex) over the AEAT-defined fields of the record followed by the previous record's fingerprint,
as AEAT's "Detalle de las especificaciones técnicas para generación de la huella o hash" sets it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import random
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import segno
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from . import faults
from . import validation as v
from .exceptions import BadRequest, Conflict, NotFound, ValidationFailed
from .models import SimAccount, SimInvoice, SimTaxReport, SimTaxReportEvent, SimTaxReportSetting

#: Setting codes and the type of the records they produce.
SETTING_TYPES = {"verifactu": "Verifactu", "tbai": "TicketBai"}
DELEGATIONS = ("araba", "bizkaia", "gipuzkoa")
FINAL_STATES = ("registered", "registered_with_errors", "error", "annulled")
STATES = ("processing", *FINAL_STATES)
# Records an annulment or a correction can follow: the authority holds them.
REGISTERED_STATES = ("registered", "registered_with_errors")
INVOICE_TYPE_CODES = ("F1", "F2", "F3", "R1", "R2", "R3", "R4", "R5")
#: AEAT's verification service in its test environment (the QR and ``identifier`` point here).
AEAT_VALIDATION_URL = "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR"
MADRID = ZoneInfo("Europe/Madrid")
SUM = "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/SuministroLR.xsd"
SUM1 = (
    "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/"
    "SuministroInformacion.xsd"
)
# AEAT requires a customer on these invoice types (a simplified F2 may go without one).
NEEDS_CUSTOMER = {"F1", "F3", "R1", "R2", "R3", "R4"}
MISSING_CUSTOMER = (
    "1189",
    "Si TipoFactura es F1, F3, R1, R2, R3 o R4 el bloque Destinatarios tiene que estar cumplimentado "
    "(the invoice needs the customer's tax id, or must be a simplified invoice F2)",
)
TEXT_FIELDS = ("invoice_number", "invoice_series_code", "description", "customer_party_name",
               "customer_party_tax_id", "customer_party_country")
# What a correction may change (the invoice's identity, number and date, stays).
CORRECTABLE = ("description", "customer_party_name", "customer_party_tax_id", "customer_party_country",
               "tax_inclusive_amount", "tax_amount", "tax_breakdowns", "invoice_type_code")


# --- settings -------------------------------------------------------------------------------


def list_settings(account: SimAccount) -> QuerySet[SimTaxReportSetting]:
    """Return the account's tax report settings."""
    return SimTaxReportSetting.objects.filter(account=account).order_by("id")


def get_setting(account: SimAccount, code: str) -> SimTaxReportSetting:
    """Return the account's setting ``code`` (case does not matter), or raise NotFound."""
    setting = SimTaxReportSetting.objects.filter(account=account, code=str(code).strip().lower()).first()
    if setting is None:
        raise NotFound("Tax report setting not found")
    return setting


def _apply_setting(setting: SimTaxReportSetting, data: dict[str, Any]) -> None:
    if "start_date" in data:
        setting.start_date = v.date(data["start_date"], "start_date") or timezone.localdate()
    for flag in ("auto_generate", "auto_send"):
        if flag in data:
            setattr(setting, flag, v.boolean(data[flag], flag))
    for name in ("special_regime_key", "special_regime_key_igic", "reason_vat_exempt", "reason_no_subject",
                 "credit_note_code", "delegation"):
        if name in data:
            value = v.text(data[name] if data[name] is not None else "", name, v.max_length(SimTaxReportSetting, name))
            setattr(setting, name, value.strip().lower() if name == "delegation" else value.strip().upper())
    if setting.credit_note_code and setting.credit_note_code not in {"R1", "R2", "R3", "R4", "R5"}:
        raise ValidationFailed("Credit note code is not included in the list (R1-R5)", code="parameter_inclusion",
                               param="credit_note_code")
    if setting.reason_vat_exempt and not re.fullmatch(r"E[1-6]", setting.reason_vat_exempt):
        raise ValidationFailed("Reason vat exempt is not included in the list (E1-E6)", code="parameter_inclusion",
                               param="reason_vat_exempt")
    if setting.reason_no_subject and setting.reason_no_subject not in {"N1", "N2"}:
        raise ValidationFailed("Reason no subject is not included in the list (N1, N2)", code="parameter_inclusion",
                               param="reason_no_subject")
    if setting.special_regime_key and setting.special_regime_key not in REGIME_KEYS:
        raise ValidationFailed(f"Special regime key is not included in the list ({', '.join(REGIME_KEYS)})",
                               code="parameter_inclusion", param="special_regime_key")
    if setting.special_regime_key_igic and setting.special_regime_key_igic not in REGIME_KEYS_IGIC:
        raise ValidationFailed(f"Special regime key igic is not included in the list ({', '.join(REGIME_KEYS_IGIC)})",
                               code="parameter_inclusion", param="special_regime_key_igic")
    if setting.code == "tbai" and setting.delegation not in DELEGATIONS:
        raise ValidationFailed(
            f"Delegation is not included in the list ({', '.join(DELEGATIONS)})",
            code="parameter_inclusion" if setting.delegation else "parameter_blank",
            param="delegation",
        )


def create_setting(account: SimAccount, data: dict[str, Any]) -> SimTaxReportSetting:
    """Switch reporting on: ``code`` verifactu or tbai (with a delegation); one setting per code."""
    code = v.text(data.get("code"), "code", 20).strip().lower()
    if not code:
        raise ValidationFailed("Code can't be blank", code="parameter_blank", param="code")
    if code not in SETTING_TYPES:
        raise ValidationFailed(f"Code is not included in the list ({', '.join(SETTING_TYPES)})",
                               code="parameter_inclusion", param="code")
    if SimTaxReportSetting.objects.filter(account=account, code=code).exists():
        raise ValidationFailed("Code has already been taken", code="parameter_taken", param="code")
    if SimTaxReportSetting.objects.filter(account=account).exclude(code=code).exists():
        # Verifactu and TicketBAI exclude each other: a company reports to one authority.
        raise ValidationFailed("The account already reports to another tax authority", code="parameter_taken",
                               param="code")
    setting = SimTaxReportSetting(account=account, code=code, start_date=timezone.localdate())
    _apply_setting(setting, data)
    setting.save()
    return setting


def update_setting(setting: SimTaxReportSetting, data: dict[str, Any]) -> SimTaxReportSetting:
    """Change a setting's options; its code cannot change."""
    if "code" in data and str(data["code"]).strip().lower() != setting.code:
        raise ValidationFailed("Code cannot be changed", code="parameter_cannot_change", param="code")
    _apply_setting(setting, data)
    setting.save()
    return setting


def delete_setting(setting: SimTaxReportSetting) -> None:
    """Remove a setting: the account's later invoices produce no records."""
    setting.delete()


# --- fingerprint, identifier, QR, XML ---------------------------------------------------------


def issuer_nif(account: SimAccount) -> str:
    """Return the account's NIF as AEAT writes it (no ES prefix, no separators)."""
    return v.normalise_tin(account.tin_value)


def aeat_date(value: dt.date) -> str:
    """Return a date as AEAT writes it: DD-MM-YYYY."""
    return value.strftime("%d-%m-%Y")


def generated_stamp(report: SimTaxReport) -> str:
    """Return FechaHoraHusoGenRegistro: the generation time in Spain, with its offset."""
    return report.generated_at.astimezone(MADRID).isoformat(timespec="seconds")


def fingerprint_input(report: SimTaxReport, account: SimAccount) -> str:
    """Return the text AEAT hashes for the record (alta or anulación), previous fingerprint included."""
    nif = issuer_nif(account)
    if report.annullation:
        fields = [
            ("IDEmisorFacturaAnulada", nif),
            ("NumSerieFacturaAnulada", report.invoice_number),
            ("FechaExpedicionFacturaAnulada", aeat_date(report.invoice_date)),
            ("Huella", report.previous_fingerprint),
            ("FechaHoraHusoGenRegistro", generated_stamp(report)),
        ]
    else:
        fields = [
            ("IDEmisorFactura", nif),
            ("NumSerieFactura", report.invoice_number),
            ("FechaExpedicionFactura", aeat_date(report.invoice_date)),
            ("TipoFactura", report.invoice_type_code),
            ("CuotaTotal", report.tax_amount),
            ("ImporteTotal", report.tax_inclusive_amount),
            ("Huella", report.previous_fingerprint),
            ("FechaHoraHusoGenRegistro", generated_stamp(report)),
        ]
    return "&".join(f"{name}={value.strip()}" for name, value in fields)


def fingerprint(report: SimTaxReport, account: SimAccount) -> str:
    """Return the record's SHA-256 fingerprint in upper-case hex."""
    return hashlib.sha256(fingerprint_input(report, account).encode("utf-8")).hexdigest().upper()


def identifier(report: SimTaxReport, account: SimAccount) -> str:
    """Return the record's verification URL (Verifactu) or TicketBAI identifier."""
    if report.type == "TicketBai":
        return tbai_identifier(report, account)
    query = urlencode(
        {
            "nif": issuer_nif(account),
            "numserie": report.invoice_number,
            "fecha": aeat_date(report.invoice_date),
            "importe": report.tax_inclusive_amount,
        }
    )
    return f"{AEAT_VALIDATION_URL}?{query}"


def tbai_identifier(report: SimTaxReport, account: SimAccount) -> str:
    """Return a TicketBAI identifier: TBAI-NIF-DDMMYY-first 13 signature characters-CRC-8."""
    body = f"TBAI-{issuer_nif(account)}-{report.invoice_date.strftime('%d%m%y')}-{report.fingerprint[:13]}-"
    return body + f"{_crc8(body.encode()):03d}"


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def qr_png_base64(text: str) -> str:
    """Return a QR code of ``text`` as a base64 PNG (ISO/IEC 18004, error correction M)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", boost_error=False).save(buffer, kind="png", scale=4, border=4)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def xml(report: SimTaxReport) -> bytes:
    """Return the record as AEAT's RegistroAlta or RegistroAnulacion XML, chained hash included."""
    account = report.account
    ET.register_namespace("sum", SUM)
    ET.register_namespace("sum1", SUM1)

    def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        element = ET.SubElement(parent, f"{{{SUM1}}}{tag}")
        if text is not None:
            element.text = text
        return element

    root = ET.Element(f"{{{SUM}}}RegistroFactura")
    nif = issuer_nif(account)
    previous = _previous(report)
    if report.annullation:
        record = sub(root, "RegistroAnulacion")
        sub(record, "IDVersion", "1.0")
        ident = sub(record, "IDFactura")
        sub(ident, "IDEmisorFacturaAnulada", nif)
        sub(ident, "NumSerieFacturaAnulada", report.invoice_number)
        sub(ident, "FechaExpedicionFacturaAnulada", aeat_date(report.invoice_date))
    else:
        record = sub(root, "RegistroAlta")
        sub(record, "IDVersion", "1.0")
        ident = sub(record, "IDFactura")
        sub(ident, "IDEmisorFactura", nif)
        sub(ident, "NumSerieFactura", report.invoice_number)
        sub(ident, "FechaExpedicionFactura", aeat_date(report.invoice_date))
        sub(record, "NombreRazonEmisor", account.name)
        if report.correction:
            sub(record, "Subsanacion", "S")
            if report.corrected is not None and report.corrected.state == "error":
                sub(record, "RechazoPrevio", "X")
        sub(record, "TipoFactura", report.invoice_type_code)
        sub(record, "DescripcionOperacion", report.description or "-")
        if report.customer_party_tax_id:
            recipients = sub(record, "Destinatarios")
            who = sub(recipients, "IDDestinatario")
            sub(who, "NombreRazon", report.customer_party_name)
            if (report.customer_party_country or "es").lower() == "es":
                sub(who, "NIF", v.normalise_tin(report.customer_party_tax_id))
            else:
                other = sub(who, "IDOtro")
                sub(other, "CodigoPais", report.customer_party_country.upper())
                sub(other, "IDType", "02")
                sub(other, "ID", report.customer_party_tax_id)
        breakdown = sub(record, "Desglose")
        for item in report.tax_breakdowns:
            detail = sub(breakdown, "DetalleDesglose")
            sub(detail, "ClaveRegimen", str(item.get("special_regime_key") or "01"))
            if item.get("exemption_code"):
                sub(detail, "OperacionExenta", str(item["exemption_code"]))
            else:
                sub(detail, "CalificacionOperacion", str(item.get("non_subject_code") or item.get("non_exemption_code")
                                                        or "S1"))
                if item.get("percent") is not None:
                    sub(detail, "TipoImpositivo", str(item["percent"]))
            sub(detail, "BaseImponibleOimporteNoSujeto", str(item.get("taxable_base") or "0.00"))
            if item.get("tax_amount") is not None and not item.get("exemption_code") and not item.get("non_subject_code"):
                sub(detail, "CuotaRepercutida", str(item["tax_amount"]))
        sub(record, "CuotaTotal", report.tax_amount)
        sub(record, "ImporteTotal", report.tax_inclusive_amount)
    chain = sub(record, "Encadenamiento")
    if previous is None:
        sub(chain, "PrimerRegistro", "S")
    else:
        before = sub(chain, "RegistroAnterior")
        sub(before, "IDEmisorFactura", nif)
        sub(before, "NumSerieFactura", previous.invoice_number)
        sub(before, "FechaExpedicionFactura", aeat_date(previous.invoice_date))
        sub(before, "Huella", previous.fingerprint)
    system = sub(record, "SistemaInformatico")
    sub(system, "NombreRazon", "B2Brouter (simulated)")
    sub(system, "NombreSistemaInformatico", "b2brouter_sim")
    sub(record, "FechaHoraHusoGenRegistro", generated_stamp(report))
    sub(record, "TipoHuella", "01")
    sub(record, "Huella", report.fingerprint)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _previous(report: SimTaxReport) -> SimTaxReport | None:
    return (
        SimTaxReport.objects.filter(account_id=report.account_id, type=report.type, pk__lt=report.pk)
        .order_by("-pk")
        .first()
    )


def _last_fingerprint(account: SimAccount, report_type: str) -> str:
    last = SimTaxReport.objects.filter(account=account, type=report_type).order_by("-pk").first()
    return last.fingerprint if last is not None else ""


# --- creating records -----------------------------------------------------------------------


def _amount(value: Any, param: str) -> str:
    return f"{v.decimal(value, param).quantize(Decimal('0.01')):f}"


#: AEAT's lists for a breakdown line (Verifactu "Listas"): CalificacionOperacion L9 (subject S1, reverse
#: charge S2, not subject N1, N2), OperacionExenta L10 (E1-E6), ClaveRegimen L8A (VAT).
NON_EXEMPTION_CODES = ("S1", "S2")
EXEMPTION_CODES = ("E1", "E2", "E3", "E4", "E5", "E6")
NON_SUBJECT_CODES = ("N1", "N2")
REGIME_KEYS = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "14", "15", "17", "18", "19", "20")
#: ClaveRegimen list L8B (IGIC): no 20.
REGIME_KEYS_IGIC = REGIME_KEYS[:-1]
#: Tax categories (UNCL 5305, as B2Brouter names them) and the qualification each admits.
SUBJECT_CATEGORIES = ("S", "AA", "AAA", "H", "Z")
EXEMPT_CATEGORIES = ("E", "K", "G")
NOT_SUBJECT_CATEGORIES = ("NS", "O")
BREAKDOWN_KEYS = frozenset({"name", "category", "non_exemption_code", "exemption_code", "non_subject_code",
                            "special_regime_key", "percent", "taxable_base", "tax_amount"})
CENT = Decimal("0.01")


def _breakdowns(raw: Any) -> list[dict[str, Any]]:
    """Check a record's ``tax_breakdowns``: documented keys, AEAT's codes, and each rate's quota.

    Each line is subject (``non_exemption_code`` S1, or S2 for reverse charge, with its ``percent`` and
    ``tax_amount``), exempt (``exemption_code`` E1-E6) or not subject (``non_subject_code`` N1-N2); the
    last two carry no rate and no quota, as AEAT's DetalleDesglose forbids them.
    """
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ValidationFailed("Tax breakdowns must be a list of objects", param="tax_breakdowns")
    if len(raw) > 12:
        raise ValidationFailed("Tax breakdowns can have at most 12 lines", param="tax_breakdowns")
    result = []
    for i, item in enumerate(raw):
        p = f"tax_breakdowns[{i}]"
        extra = sorted(set(item) - BREAKDOWN_KEYS)
        if extra:
            raise ValidationFailed(f"{extra[0]} is not a known attribute of a tax breakdown", param=f"{p}.{extra[0]}")
        entry: dict[str, Any] = {
            key: v.text(item.get(key), f"{p}.{key}", 10).strip().upper() or None
            for key in ("category", "non_exemption_code", "exemption_code", "non_subject_code", "special_regime_key")
        }
        entry["name"] = v.text(item.get("name"), f"{p}.name", 40).strip() or None
        category = entry["category"] or "S"
        entry["category"] = category
        given = [k for k in ("non_exemption_code", "exemption_code", "non_subject_code") if entry[k]]
        if len(given) > 1:
            raise ValidationFailed(f"A tax breakdown line is subject, exempt or not subject: send only one of "
                                   f"{' and '.join(given)}", code="parameter_exclusion", param=f"{p}.{given[1]}")
        if not given:
            # Nothing said: a rate category is subject (S1), reverse charge is S2; exempt and not-subject
            # categories must say why.
            if category in EXEMPT_CATEGORIES:
                raise ValidationFailed(f"Exemption code can't be blank for category {category} (E1-E6)",
                                       code="parameter_blank", param=f"{p}.exemption_code")
            if category in NOT_SUBJECT_CATEGORIES:
                raise ValidationFailed(f"Non subject code can't be blank for category {category} (N1, N2)",
                                       code="parameter_blank", param=f"{p}.non_subject_code")
            entry["non_exemption_code"] = "S2" if category == "AE" else "S1"
        lists = {"non_exemption_code": NON_EXEMPTION_CODES, "exemption_code": EXEMPTION_CODES,
                 "non_subject_code": NON_SUBJECT_CODES}
        for key, allowed in lists.items():
            if entry[key] and entry[key] not in allowed:
                raise ValidationFailed(f"{key.replace('_', ' ').capitalize()} is not included in the list "
                                       f"({', '.join(allowed)})", code="parameter_inclusion", param=f"{p}.{key}")
        entry["special_regime_key"] = entry["special_regime_key"] or "01"
        if entry["special_regime_key"] not in REGIME_KEYS:
            raise ValidationFailed(f"Special regime key is not included in the list ({', '.join(REGIME_KEYS)})",
                                   code="parameter_inclusion", param=f"{p}.special_regime_key")
        base = v.decimal(item.get("taxable_base"), f"{p}.taxable_base")
        entry["taxable_base"] = f"{base.quantize(CENT):f}"
        if entry["non_exemption_code"]:
            if entry["non_exemption_code"] == "S1" and category not in SUBJECT_CATEGORIES:
                raise ValidationFailed(f"Category {category} is not a subject operation (S1): send its exemption "
                                       "or non subject code", code="parameter_inclusion", param=f"{p}.category")
            if item.get("percent") is None:
                raise ValidationFailed("Percent can't be blank for a subject operation", code="parameter_blank",
                                       param=f"{p}.percent")
            percent = v.decimal(item["percent"], f"{p}.percent")
            if percent < 0:
                raise ValidationFailed("Percent must be 0 or more: a withholding (IRPF) is not part of the record",
                                       param=f"{p}.percent")
            quota = v.decimal(item.get("tax_amount"), f"{p}.tax_amount")
            expected = (base * percent / 100).quantize(CENT)
            if abs(quota.quantize(CENT) - expected) > CENT:
                raise ValidationFailed(f"Tax amount {quota.quantize(CENT):f} is not {percent:f} % of the taxable base "
                                       f"{base.quantize(CENT):f} (expected {expected:f})", param=f"{p}.tax_amount")
            entry["percent"] = f"{percent:f}"
            entry["tax_amount"] = f"{quota.quantize(CENT):f}"
        else:
            kind = "exempt" if entry["exemption_code"] else "not subject"
            if entry["exemption_code"] and category not in EXEMPT_CATEGORIES:
                raise ValidationFailed(f"Category {category} is not exempt: an exemption code goes with E, K or G",
                                       code="parameter_inclusion", param=f"{p}.category")
            if entry["non_subject_code"] and category not in NOT_SUBJECT_CATEGORIES:
                raise ValidationFailed(f"Category {category} is not 'not subject': a non subject code goes with NS "
                                       "or O", code="parameter_inclusion", param=f"{p}.category")
            for key in ("percent", "tax_amount"):
                if item.get(key) is not None and v.decimal(item[key], f"{p}.{key}") != 0:
                    raise ValidationFailed(f"An {kind} line has no {key.replace('_', ' ')}: leave it out",
                                           param=f"{p}.{key}")
            entry["percent"] = None
            entry["tax_amount"] = "0.00"
        result.append(entry)
    return result


def _check_totals(breakdowns: list[dict[str, Any]], tax_amount: str, tax_inclusive_amount: str) -> None:
    """Check a record's CuotaTotal and ImporteTotal against its breakdown, to the cent."""
    if not breakdowns:
        return
    quotas = sum((Decimal(b["tax_amount"]) for b in breakdowns), Decimal(0))
    bases = sum((Decimal(b["taxable_base"]) for b in breakdowns), Decimal(0))
    if quotas != Decimal(tax_amount):
        raise ValidationFailed(f"Tax amount {tax_amount} is not the sum of the breakdown's tax amounts ({quotas:f})",
                               param="tax_amount")
    if bases + quotas != Decimal(tax_inclusive_amount):
        raise ValidationFailed(f"Tax inclusive amount {tax_inclusive_amount} is not the breakdown's taxable bases "
                               f"plus tax amounts ({bases + quotas:f})", param="tax_inclusive_amount")


def _new_report(account: SimAccount, report_type: str, **fields: Any) -> SimTaxReport:
    """Create a record at the end of the chain, ``processing``, with the authority's answer pending."""
    report = SimTaxReport(account=account, type=report_type, generated_at=timezone.now(), **fields)
    report.previous_fingerprint = _last_fingerprint(account, report_type)
    report.fingerprint = fingerprint(report, account)
    report.save()
    report.pending_states = [_authority_answer(report)]
    report.save(update_fields=["pending_states"])
    _record_event(report, "processing", None, deliver=False)
    schedule_next(report)
    return report


def _authority_answer(report: SimTaxReport) -> str:
    """Decide now (deterministically) how the simulated authority answers the record."""
    settings = faults.current(report.account)
    rng = random.Random(int(settings["seed"]) * 1_000_003 + report.pk)
    reject_draw, warn_draw = rng.random(), rng.random()
    if reject_draw < float(settings["aeat_reject_rate"]):
        return "error"  # a cancellation may be rejected too (the SDK's sample waits for annulled or error)
    if report.annullation:
        return "annulled"
    if report.invoice_type_code in NEEDS_CUSTOMER and not report.customer_party_tax_id:
        return "error"
    if warn_draw < float(settings["aeat_warning_rate"]):
        return "registered_with_errors"
    return "registered"


def generate_for_invoice(invoice: SimInvoice) -> SimTaxReport | None:
    """Create the invoice's record when it is sent, if the account reports and has none for it yet.

    A record is never created twice for one invoice: sending again after a delivery error
    does not register the invoice again (a rejected record is corrected, not re-sent).
    """
    account = invoice.account
    setting = SimTaxReportSetting.objects.filter(account=account).first()
    if setting is None or not setting.auto_generate or invoice.date < setting.start_date:
        return None
    if invoice.tax_reports.exists():
        return None
    totals = invoice.totals
    contact = invoice.contact
    if invoice.type == "IssuedSimplifiedInvoice":
        type_code = "F2"
    elif invoice.is_credit_note:
        # The credit note's own R code (amend_reason), else the setting's default.
        type_code = str(invoice.request.get("amend_reason") or setting.credit_note_code or "R1")
    else:
        type_code = "F1"
    breakdowns = []
    # A withholding (IRPF, IRNR: a negative percent) is not VAT: the record's breakdown, its CuotaTotal and
    # its ImporteTotal (base plus the VAT charged) leave it out, as AEAT's register does.
    withheld = [g for g in totals.get("taxes", []) if Decimal(str(g.get("percent") or 0)) < 0]
    charged = [g for g in totals.get("taxes", []) if g not in withheld]
    for group in charged:
        category = str(group.get("category") or "S").upper()
        entry: dict[str, Any] = {
            "name": group.get("name"),
            "category": category,
            "percent": group.get("percent"),
            "taxable_base": group.get("base"),
            "tax_amount": group.get("amount"),
            "special_regime_key": setting.special_regime_key or "01",
            "non_exemption_code": None,
            "exemption_code": None,
            "non_subject_code": None,
        }
        if category == "E":
            entry["exemption_code"] = setting.reason_vat_exempt or "E1"
        elif category in {"O", "NS"}:
            entry["non_subject_code"] = setting.reason_no_subject or "N1"
        elif category == "AE":
            entry["non_exemption_code"] = "S2"
        else:
            entry["non_exemption_code"] = "S1"
        breakdowns.append(entry)
    tax_amount = sum((Decimal(str(g.get("amount") or 0)) for g in charged), Decimal(0))
    withheld_amount = sum((Decimal(str(g.get("amount") or 0)) for g in withheld), Decimal(0))
    lines = invoice.request.get("invoice_lines_attributes") or []
    description = "; ".join(str(line.get("description") or "") for line in lines if isinstance(line, dict))
    return _new_report(
        account,
        SETTING_TYPES[setting.code],
        invoice=invoice,
        invoice_number=invoice.number,
        invoice_series_code=str(invoice.request.get("series_code") or ""),
        invoice_date=invoice.date,
        invoice_type_code=type_code,
        description=description[:500] or invoice.number,
        customer_party_name=contact.name[:200],
        customer_party_tax_id=contact.tin_value,
        customer_party_country=contact.country,
        currency=invoice.currency,
        tax_inclusive_amount=f"{(Decimal(str(totals.get('total') or 0)) - withheld_amount).quantize(Decimal('0.01')):f}",
        tax_amount=f"{tax_amount.quantize(Decimal('0.01')):f}",
        tax_breakdowns=breakdowns,
    )


def create_report(account: SimAccount, data: dict[str, Any]) -> SimTaxReport:
    """Create a record directly (``POST /accounts/{id}/tax_reports``), for invoices made elsewhere."""
    setting = SimTaxReportSetting.objects.filter(account=account).first()
    if setting is None:
        raise ValidationFailed("The account has no tax report setting: create one first", code="parameter_blank",
                               param="type")
    report_type = str(data.get("type") or SETTING_TYPES[setting.code])
    if report_type.lower() != SETTING_TYPES[setting.code].lower():
        raise ValidationFailed(f"Type must be {SETTING_TYPES[setting.code]} for this account",
                               code="parameter_inclusion", param="type")
    fields: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        fields[name] = v.text(data.get(name), name, v.max_length(SimTaxReport, name)).strip()
    if not fields["invoice_number"]:
        raise ValidationFailed("Invoice number can't be blank", code="parameter_blank", param="invoice_number")
    invoice_date = v.date(data.get("invoice_date"), "invoice_date", required=True)
    assert invoice_date is not None
    type_code = v.text(data.get("invoice_type_code") or "F1", "invoice_type_code", 4).strip().upper()
    if type_code not in INVOICE_TYPE_CODES:
        raise ValidationFailed(f"Invoice type code is not included in the list ({', '.join(INVOICE_TYPE_CODES)})",
                               code="parameter_inclusion", param="invoice_type_code")
    amounts = {"tax_inclusive_amount": _amount(data.get("tax_inclusive_amount"), "tax_inclusive_amount"),
               "tax_amount": _amount(data.get("tax_amount"), "tax_amount")}
    breakdowns = _breakdowns(data.get("tax_breakdowns"))
    _check_totals(breakdowns, amounts["tax_amount"], amounts["tax_inclusive_amount"])
    return _new_report(
        account,
        SETTING_TYPES[setting.code],
        invoice_date=invoice_date,
        invoice_type_code=type_code,
        currency=v.currency(data.get("currency") or "EUR"),
        tax_breakdowns=breakdowns,
        **amounts,
        **fields,
    )


def correct(report: SimTaxReport, data: dict[str, Any]) -> SimTaxReport:
    """Correct a record (subsanación): a new record with the changes, flagged ``correction``.

    Only a Verifactu record the authority has answered can be corrected (TicketBAI corrections,
    Zuzendu, are not offered by B2Brouter); a record still ``processing`` is 409.
    """
    if report.type != "Verifactu":
        raise Conflict("TicketBAI records cannot be corrected (Zuzendu is not supported); cancel and issue again")
    if report.annullation or report.state == "annulled":
        raise Conflict("A cancelled record cannot be corrected")
    if report.state == "processing":
        raise Conflict("The record is still being processed: wait for the authority's answer before correcting it")
    unknown = sorted(set(data) - set(CORRECTABLE) - {"invoice_number", "invoice_date", "type"})
    if unknown:
        raise ValidationFailed(f"{unknown[0]} cannot be corrected", code="parameter_cannot_change", param=unknown[0])
    for fixed in ("invoice_number", "invoice_date"):
        if fixed in data and str(data[fixed]) != str(getattr(report, fixed)):
            raise ValidationFailed(f"{fixed.replace('_', ' ').capitalize()} cannot be changed by a correction",
                                   code="parameter_cannot_change", param=fixed)
    fields: dict[str, Any] = {
        name: getattr(report, name)
        for name in ("invoice", "invoice_number", "invoice_series_code", "invoice_date", "invoice_type_code",
                     "description", "customer_party_name", "customer_party_tax_id", "customer_party_country",
                     "currency", "tax_inclusive_amount", "tax_amount", "tax_breakdowns")
    }
    for name in ("description", "customer_party_name", "customer_party_tax_id", "customer_party_country"):
        if name in data:
            fields[name] = v.text(data[name], name, v.max_length(SimTaxReport, name)).strip()
    if "invoice_type_code" in data:
        code = v.text(data["invoice_type_code"], "invoice_type_code", 4).strip().upper()
        if code not in INVOICE_TYPE_CODES:
            raise ValidationFailed("Invoice type code is not included in the list", code="parameter_inclusion",
                                   param="invoice_type_code")
        fields["invoice_type_code"] = code
    for name in ("tax_inclusive_amount", "tax_amount"):
        if name in data:
            fields[name] = _amount(data[name], name)
    if "tax_breakdowns" in data:
        fields["tax_breakdowns"] = _breakdowns(data["tax_breakdowns"])
        if not fields["tax_breakdowns"]:
            raise ValidationFailed("Tax breakdowns can't be empty: a record has at least one line",
                                   code="parameter_blank", param="tax_breakdowns")
    if {"tax_breakdowns", "tax_amount", "tax_inclusive_amount"} & set(data):
        # New amounts must agree with the breakdown sent (or kept): AEAT checks the one against the other.
        _check_totals(fields["tax_breakdowns"], fields["tax_amount"], fields["tax_inclusive_amount"])
    return _new_report(report.account, report.type, correction=True, corrected=report, **fields)


def annul(report: SimTaxReport) -> SimTaxReport:
    """Cancel a registered record (anulación): a new record flagged ``annullation`` that ends ``annulled``."""
    if report.annullation:
        raise Conflict("A cancellation cannot be cancelled")
    if report.state == "annulled":
        raise Conflict("The record is already cancelled")
    if report.state not in REGISTERED_STATES:
        raise Conflict(
            f"Only a record the authority registered can be cancelled; this one is {report.state!r}"
            + (": correct it instead" if report.state == "error" else "")
        )
    return _new_report(
        report.account,
        report.type,
        annullation=True,
        corrected=report,
        invoice=report.invoice,
        invoice_number=report.invoice_number,
        invoice_series_code=report.invoice_series_code,
        invoice_date=report.invoice_date,
        invoice_type_code=report.invoice_type_code,
        description=report.description,
        customer_party_name=report.customer_party_name,
        customer_party_tax_id=report.customer_party_tax_id,
        customer_party_country=report.customer_party_country,
        currency=report.currency,
        tax_inclusive_amount=report.tax_inclusive_amount,
        tax_amount=report.tax_amount,
    )


# --- reading --------------------------------------------------------------------------------


def get_report(account: SimAccount, report_id: Any) -> SimTaxReport:
    """Return a record of the account, or raise NotFound."""
    try:
        pk = int(report_id)
    except (TypeError, ValueError):
        pk = None
    report = SimTaxReport.objects.filter(account=account, pk=pk).select_related("account", "corrected").first()
    if report is None:
        raise NotFound("Tax report not found")
    return report


def list_reports(account: SimAccount, params: dict[str, str]) -> QuerySet[SimTaxReport]:
    """Return the account's records filtered by invoice_id, sent_at_from, updated_at_from/_to, state."""
    from .backend import _query_datetime, int_or_none

    qs = SimTaxReport.objects.filter(account=account).select_related("account", "corrected")
    if params.get("invoice_id"):
        qs = qs.filter(invoice_id=int_or_none(params["invoice_id"]))
    if params.get("state"):
        if params["state"] not in STATES:
            raise BadRequest(f"state is not one of {', '.join(STATES)}", param="state")
        qs = qs.filter(state=params["state"])
    if params.get("sent_at_from"):
        qs = qs.filter(sent_at__gte=_query_datetime(params["sent_at_from"], "sent_at_from"))
    if params.get("updated_at_from"):
        qs = qs.filter(updated_at__gte=_query_datetime(params["updated_at_from"], "updated_at_from"))
    if params.get("updated_at_to"):
        qs = qs.filter(updated_at__lte=_query_datetime(params["updated_at_to"], "updated_at_to"))
    return qs.order_by("id")


# --- state machine --------------------------------------------------------------------------


def schedule_next(report: SimTaxReport) -> None:
    """Enqueue the task that applies the authority's answer after a small delay."""
    if not report.pending_states:
        return
    from .tasks import advance_tax_report, enqueue_later

    enqueue_later(advance_tax_report, report.pk, report.state)


def advance(report: SimTaxReport) -> SimTaxReport:
    """Apply the authority's pending answer now; 409 when none is pending."""
    if not report.pending_states:
        raise Conflict(f"Tax report in state {report.state!r} has no pending transition")
    state, *rest = report.pending_states
    report.pending_states = rest
    report.sent_at = report.sent_at or timezone.now()
    notes = None
    if state == "error":
        code, message = _rejection(report)
        report.errors = [{"code": code, "message": message}]
        notes = f"{code}: {message}"
    elif state == "registered_with_errors":
        settings = faults.current(report.account)
        report.warnings = [{"code": str(settings["aeat_warning_code"]), "message": str(settings["aeat_warning_message"])}]
        notes = f"{settings['aeat_warning_code']}: {settings['aeat_warning_message']}"
    set_state(report, state, notes)
    if state == "annulled" and report.corrected is not None and report.corrected.state != "annulled":
        # The cancelled record is void from now on as well.
        set_state(report.corrected, "annulled", f"Cancelled by record {report.pk}")
    return report


def _rejection(report: SimTaxReport) -> tuple[str, str]:
    if report.invoice_type_code in NEEDS_CUSTOMER and not report.customer_party_tax_id:
        return MISSING_CUSTOMER
    settings = faults.current(report.account)
    return str(settings["aeat_reject_code"]), str(settings["aeat_reject_message"])


def set_state(report: SimTaxReport, state: str, notes: str | None = None) -> SimTaxReportEvent:
    """Move the record to ``state`` and record (and deliver) a ``tax_report.state_change`` event."""
    report.state = state
    report.save()
    return _record_event(report, state, notes, deliver=True)


def _record_event(report: SimTaxReport, state: str, notes: str | None, *, deliver: bool) -> SimTaxReportEvent:
    from .webhooks import queue_tax_report_deliveries

    triggered_at = int(timezone.now().timestamp())
    previous = (
        SimTaxReportEvent.objects.filter(tax_report=report, triggered_at__gte=triggered_at)
        .order_by("-triggered_at")
        .values_list("triggered_at", flat=True)
        .first()
    )
    if previous is not None:
        triggered_at = previous + 1
    event = SimTaxReportEvent.objects.create(tax_report=report, state=state, notes=notes, triggered_at=triggered_at)
    if deliver:
        queue_tax_report_deliveries(event)
    return event


def advance_locked(report_id: int, expected_state: str) -> str | None:
    """Apply the pending answer if the record is still where the task left it (the task's body)."""
    with transaction.atomic():
        report = (
            SimTaxReport.objects.select_for_update(of=("self",)).select_related("account", "corrected").filter(pk=report_id).first()
        )
        if report is None or report.state != expected_state or not report.pending_states:
            return None
        advance(report)
        return report.state

