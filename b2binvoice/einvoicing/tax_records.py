"""Every invoice's Verifactu/TicketBAI record: followed, shown, corrected once, cancelled once.

B2Brouter registers a record (a *tax report*) of each invoice it sends when the account has a tax
report setting (``verifactu.py``). The invoice's ``tax_report_ids`` name them; this module keeps a
:class:`~.models.TaxRecord` per record, read after a create, send, refresh or sync, moved on by
``tax_report.state_change`` notifications and, while a record is ``processing``, polled with a
back-off (the fallback when notifications do not arrive). A record in a final state is never
read again on its own.

A rejected record is never sent again as it was: the user corrects the invoice's data and asks
for *one* correction (``client.tax_reports.update``); a registered record of an invoice issued by
mistake can be cancelled once (``client.tax_reports.delete``). Sources: docs/api-evidence.md, section 10.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

import b2brouter
from b2binvoice.core.texts import clip
from b2binvoice.core.texts import gettext as _

from .actions import Result
from .errors import describe
from .models import B2BrouterIntegration, InvoiceLink, LinkStatus, TaxRecord, TaxRecordKind
from .remote import Remote

logger = logging.getLogger(__name__)

TAX_REPORT_EVENT = "tax_report.state_change"
PROCESSING = "processing"
FINAL_STATES = frozenset(b2brouter.FINAL_TAX_REPORT_STATES)
STATES = frozenset({PROCESSING, *FINAL_STATES})
REGISTERED = frozenset({"registered", "registered_with_errors"})
#: The states the list's "records needing action" filter shows.
NEEDS_ACTION = ("error", "registered_with_errors")
#: Pauses between the reads of a record still processing (``B2BROUTER_TAX_REPORT_BACKOFF``, seconds);
#: the last one repeats until the record reaches a final state.
DEFAULT_BACKOFF = (30, 60, 120, 300, 900, 1800, 3600)

STATE_LABELS = {
    PROCESSING: gettext_lazy("Being registered"),
    "registered": gettext_lazy("Registered"),
    "registered_with_errors": gettext_lazy("Registered with errors"),
    "error": gettext_lazy("Rejected"),
    "annulled": gettext_lazy("Cancelled"),
}
STATE_BADGES = {PROCESSING: "info", "registered": "success", "registered_with_errors": "warning",
                "error": "danger", "annulled": "secondary"}

#: AEAT's most common answers, said in plain words (the code and AEAT's own text are shown too).
AEAT_CODES = {
    "1100": gettext_lazy("A field has a wrong value or type: check the client's details and the amounts."),
    "1104": gettext_lazy("The invoice number is not valid for AEAT: check its format."),
    "1105": gettext_lazy("The client's tax id (NIF) is not valid."),
    "1106": gettext_lazy("The client's tax id is not registered with AEAT: check it with your client."),
    "1117": gettext_lazy("The issuer's tax id is not registered with AEAT."),
    "1189": gettext_lazy("This kind of invoice needs the client's tax id: add it to the client, or issue a "
                         "simplified invoice."),
    "2000": gettext_lazy("The record's fingerprint (hash) does not match: B2Brouter must generate it again."),
    "3000": gettext_lazy("AEAT already has a record of this invoice."),
    "1239": gettext_lazy("The total does not match the sum of the tax breakdown: check the invoice's taxes."),
}


def backoff() -> tuple[float, ...]:
    return tuple(float(s) for s in getattr(settings, "B2BROUTER_TAX_REPORT_BACKOFF", DEFAULT_BACKOFF))


def delay_after(checks: int) -> dt.timedelta:
    steps = backoff()
    return dt.timedelta(seconds=steps[min(checks, len(steps) - 1)])


# --- what a record says ---------------------------------------------------------------------


def messages(items: Any) -> list[dict[str, str]]:
    """Return the authority's errors or warnings as ``{"code", "message"}`` (text items have no code)."""
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            code, text = str(item.get("code") or ""), str(item.get("message") or item.get("description") or "")
        else:
            code, text = "", str(item)
        out.append({"code": code[:50], "message": text[:2000]})
    return out[:50]


def explain(code: str) -> str:
    """Say in plain words what AEAT's code means, or a general sentence."""
    known = AEAT_CODES.get(code.strip())
    if known:
        return str(known)
    return _("The tax agency did not accept a detail of the record: read its message below, correct the invoice's "
             "data and send the correction.")


def _kind(data: dict[str, Any]) -> str:
    if data.get("annullation"):
        return TaxRecordKind.ANNULLATION
    if data.get("correction"):
        return TaxRecordKind.CORRECTION
    return TaxRecordKind.ALTA


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.timezone.utc)


def _record_fields(data: dict[str, Any]) -> dict[str, Any]:
    state = str(data.get("state") or "")
    return {
        "type": str(data.get("type") or "")[:20],
        "kind": _kind(data),
        "state": state[:32],
        "invoice_type_code": str(data.get("invoice_type_code") or "")[:4],
        "corrected_remote_id": data.get("corrected_tax_report_id") if isinstance(
            data.get("corrected_tax_report_id"), int) else None,
        "errors": messages(data.get("errors")),
        "warnings": messages(data.get("warnings")),
        "identifier": str(data.get("identifier") or "")[:1000],
        "remote_updated_at": _parse_time(data.get("updated_at")),
    }


def store(invoice: Any, account_id: str, data: dict[str, Any], *, user: Any = None) -> TaxRecord | None:
    """Keep what B2Brouter answered about one record of ``invoice``; answer the row."""
    remote_id = data.get("id")
    if not isinstance(remote_id, int) or isinstance(remote_id, bool):
        return None
    fields = _record_fields(data)
    now = timezone.now()
    with transaction.atomic():
        record = (TaxRecord.objects.select_for_update()
                  .filter(account_id=str(account_id), remote_id=remote_id).first())
        if record is None:
            try:
                with transaction.atomic():
                    record = TaxRecord.objects.create(
                        invoice=invoice, account_id=str(account_id), remote_id=remote_id,
                        created_by=user if getattr(user, "is_authenticated", False) else None, **fields)
            except IntegrityError:
                record = TaxRecord.objects.select_for_update().get(account_id=str(account_id), remote_id=remote_id)
            else:
                _plan(record, now, first=True)
                return record
        if record.invoice_id != invoice.pk:
            return record  # another invoice's record: never moved
        if (record.state_updated_at is not None and fields["remote_updated_at"] is not None
                and fields["remote_updated_at"] < record.state_updated_at.replace(microsecond=0)):
            fields.pop("state")  # a notification said something newer
        for name, value in fields.items():
            setattr(record, name, value)
        record.read_error = ""
        record.save()
        _plan(record, now)
    return record


def _plan(record: TaxRecord, now: dt.datetime, *, first: bool = False) -> None:
    """Plan the next read of a processing record (back-off), or none for a final one."""
    if record.state in FINAL_STATES:
        if record.next_check_at is not None:
            TaxRecord.objects.filter(pk=record.pk).update(next_check_at=None)
            record.next_check_at = None
        return
    checks = 0 if first else record.checks + 1
    record.checks, record.next_check_at = checks, now + delay_after(checks)
    TaxRecord.objects.filter(pk=record.pk).update(checks=checks, next_check_at=record.next_check_at)
    schedule(record)


def schedule(record: TaxRecord) -> bool:
    """Queue the read of ``record`` at its ``next_check_at`` on a queue that can run it later."""
    from django_tasks.backends.immediate import ImmediateBackend  # noqa: PLC0415

    from .tasks import poll_tax_record  # noqa: PLC0415

    backend = poll_tax_record.get_backend()
    if isinstance(backend, ImmediateBackend) or not backend.supports_defer:
        return False  # the sync reads it when due
    try:
        poll_tax_record.using(run_after=record.next_check_at or timezone.now()).enqueue(record.pk)
    except Exception:  # noqa: BLE001 (a queue outage must not fail the caller; the sync polls too)
        logger.exception("Could not queue the read of tax record %s", record.pk)
        return False
    return True


# --- following the records ------------------------------------------------------------------


def _integration(invoice: Any) -> B2BrouterIntegration | None:
    integration = B2BrouterIntegration.objects.filter(company_id=invoice.company_id).first()
    return integration if integration is not None and integration.is_ready else None


def read(record: TaxRecord, remote: Remote) -> TaxRecord:
    """Read one record from B2Brouter and keep what it says; a failure is kept to show, and retried later."""
    try:
        data = remote.tax_report(record.remote_id)
    except b2brouter.B2BRouterError as exc:
        described = describe(exc)
        record.read_error = clip(described.text, 2000)
        TaxRecord.objects.filter(pk=record.pk).update(read_error=record.read_error)
        _plan(record, timezone.now())
        return record
    return store(record.invoice, record.account_id, data) or record


def follow(link: InvoiceLink, ids: Any, remote: Remote | None = None) -> list[TaxRecord]:
    """Read the records ``ids`` (the invoice's ``tax_report_ids``) that are new or still processing."""
    wanted = [i for i in (ids if isinstance(ids, list) else []) if isinstance(i, int) and not isinstance(i, bool)]
    if not wanted or not link.is_linked:
        return []
    known = {r.remote_id: r for r in TaxRecord.objects.filter(account_id=link.account_id, remote_id__in=wanted)}
    todo = [i for i in wanted if i not in known or known[i].state not in FINAL_STATES]
    if not todo:
        return []
    if remote is None:
        integration = _integration(link.invoice)
        if integration is None or str(integration.account_id) != link.account_id:
            return []
        remote = Remote.for_integration(integration)
    done = []
    for remote_id in todo:
        try:
            data = remote.tax_report(remote_id)
        except b2brouter.B2BRouterError as exc:
            logger.info("Could not read tax report %s: %s", remote_id, describe(exc).text)
            continue
        record = store(link.invoice, link.account_id, data)
        if record is not None:
            done.append(record)
    return done


def poll(record_id: int) -> str:
    """One scheduled read of a processing record (the task ``poll_tax_record``); answer its state."""
    record = TaxRecord.objects.select_related("invoice").filter(pk=record_id).first()
    if record is None:
        return "gone"
    if record.next_check_at is None:
        return record.state  # a final state, read already: never read again on its own
    if record.next_check_at > timezone.now() + dt.timedelta(seconds=1):
        return "not due"  # a newer plan exists; its own task reads it
    integration = _integration(record.invoice)
    if integration is None or str(integration.account_id) != record.account_id:
        return "not ready"
    return read(record, Remote.for_integration(integration)).state


def poll_due(integration: B2BrouterIntegration, *, limit: int = 200) -> int:
    """Read the integration's processing records whose next read is due (the sync's fallback); answer how many."""
    due = (TaxRecord.objects.select_related("invoice")
           .filter(account_id=str(integration.account_id), invoice__company_id=integration.company_id,
                   state=PROCESSING)
           .filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=timezone.now()))
           .order_by("next_check_at", "pk")[:limit])
    remote = Remote.for_integration(integration)
    count = 0
    for record in due:
        read(record, remote)
        count += 1
    return count


def notified(integration: B2BrouterIntegration, data: dict[str, Any], *, triggered_at: dt.datetime) -> str:
    """Apply a ``tax_report.state_change`` notification; answer the receiver's outcome word.

    The state is stored at once; the errors, warnings and identifier behind it come from a read,
    queued (or left to the sync with the immediate backend, as for invoices).
    """
    remote_id = data.get("tax_report_id")
    state = str(data.get("state") or "")
    if not isinstance(remote_id, int) or isinstance(remote_id, bool) or state not in STATES:
        return "ignored"
    record = TaxRecord.objects.filter(account_id=str(integration.account_id), remote_id=remote_id,
                                      invoice__company_id=integration.company_id).first()
    if record is None:
        invoice_id = data.get("invoice_id")
        link = InvoiceLink.objects.select_related("invoice").filter(
            status=LinkStatus.LINKED, account_id=str(integration.account_id), b2brouter_id=invoice_id,
            invoice__company_id=integration.company_id).first() if isinstance(invoice_id, int) else None
        if link is None:
            return "unknown_invoice"
        try:
            record, _created = TaxRecord.objects.get_or_create(
                account_id=str(integration.account_id), remote_id=remote_id,
                defaults={"invoice": link.invoice, "state": state, "state_updated_at": triggered_at})
        except IntegrityError:
            return "duplicate"
    elif record.state_updated_at is not None and triggered_at < record.state_updated_at.replace(microsecond=0):
        return "stale"
    record.state, record.state_updated_at = state, triggered_at
    # The errors and identifier behind the new state are read next (at once when the queue can run it).
    record.next_check_at = timezone.now()
    TaxRecord.objects.filter(pk=record.pk).update(state=state, state_updated_at=triggered_at,
                                                  next_check_at=record.next_check_at)
    schedule(record)
    return "applied"


def poll_notified(integration: B2BrouterIntegration) -> int:
    """Read the records a notification moved and that were not read since (their errors, identifier)."""
    due = (TaxRecord.objects.select_related("invoice")
           .filter(account_id=str(integration.account_id), invoice__company_id=integration.company_id,
                   next_check_at__lte=timezone.now()).exclude(state=PROCESSING)[:200])
    remote = Remote.for_integration(integration)
    for record in due:
        read(record, remote)
    return len(due)


# --- what the invoice page shows ------------------------------------------------------------


class Summary:
    """An invoice's records as its page shows them: the current one and what may be done."""

    def __init__(self, records: Iterable[TaxRecord]) -> None:
        self.records = sorted(records, key=lambda r: r.remote_id)
        registrations = [r for r in self.records if r.kind != TaxRecordKind.ANNULLATION]
        self.current: TaxRecord | None = registrations[-1] if registrations else None
        annulments = [r for r in self.records if r.kind == TaxRecordKind.ANNULLATION]
        self.annulment: TaxRecord | None = annulments[-1] if annulments else None
        self.corrections = [r for r in self.records if r.kind == TaxRecordKind.CORRECTION]

    @property
    def annulment_failed(self) -> bool:
        """Whether the tax agency rejected the cancellation (the record stands; it may be cancelled again)."""
        return self.annulment is not None and self.annulment.state == "error"

    @property
    def state(self) -> str:
        if self.annulment is not None and self.annulment.state in (PROCESSING, "annulled", "error"):
            return self.annulment.state
        return self.current.state if self.current else ""

    @property
    def identifier(self) -> str:
        for record in reversed(self.records):
            if record.kind != TaxRecordKind.ANNULLATION and record.identifier:
                return record.identifier
        return ""

    @property
    def identifier_is_link(self) -> bool:
        """Whether the identifier may be a link (an https URL; B2Brouter's text is never a javascript: link)."""
        return self.identifier.lower().startswith("https://")

    @property
    def busy(self) -> bool:
        return any(r.state == PROCESSING for r in self.records)

    @property
    def can_correct(self) -> bool:
        """A correction is offered once the current record was rejected or registered with errors."""
        return (self.current is not None and self.current.state in NEEDS_ACTION and self.current.is_verifactu
                and not self.busy and (self.annulment is None or self.annulment_failed)
                and self.current.action_started_at is None)

    @property
    def can_cancel(self) -> bool:
        """A cancellation is offered while the current record is registered and none is pending or done.

        A cancellation the tax agency rejected leaves the record registered: it is offered again (once
        per click), with the agency's reasons shown.
        """
        return (self.current is not None and self.current.state in REGISTERED and not self.busy
                and (self.annulment is None or self.annulment_failed) and self.current.action_started_at is None)


def summary(invoice: Any) -> Summary | None:
    records = list(TaxRecord.objects.filter(invoice=invoice))
    return Summary(records) if records else None


def label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


# --- the user's actions ---------------------------------------------------------------------


def _money(value: Any) -> str:
    return f"{Decimal(value or 0).quantize(Decimal('0.01')):f}"


def breakdowns(invoice: Any, totals: Any, defaults: dict[str, str]) -> list[dict[str, Any]]:
    """The record's VAT breakdown, one line per tax of the invoice, as B2Brouter's tax reports take it.

    A subject line carries its rate, base and quota (S1; S2 for reverse charge); an exempt line its
    E code and a not-subject line its N code, with no rate and no quota (AEAT's DetalleDesglose). The
    code is the tax's own, else the account's default; the regime key is the account's (01 unset).
    Withholdings (IRPF) and fixed-amount taxes are not VAT and stay out.
    """
    from b2binvoice.companies.models import (  # noqa: PLC0415
        EXEMPT_CODE_CATEGORIES,
        EXEMPT_CODES,
        NOT_SUBJECT_CODE_CATEGORIES,
        NOT_SUBJECT_CODES,
        TaxKind,
    )

    regime = defaults.get("special_regime_key") or "01"
    lines = []
    for tax, amount in zip(invoice.taxes.all(), totals.taxes, strict=True):
        if tax.kind != TaxKind.PERCENTAGE or amount.rate is None or amount.rate < 0:
            continue
        line: dict[str, Any] = {"name": tax.b2brouter_name or "IVA", "category": tax.category,
                                "taxable_base": _money(amount.base), "special_regime_key": regime}
        code = tax.current_exemption_code
        if tax.category in EXEMPT_CODE_CATEGORIES:
            line["exemption_code"] = code if code in EXEMPT_CODES else defaults.get("reason_vat_exempt", "")
        elif tax.category in NOT_SUBJECT_CODE_CATEGORIES:
            line["non_subject_code"] = code if code in NOT_SUBJECT_CODES else defaults.get("reason_no_subject", "")
        else:
            line["non_exemption_code"] = "S2" if tax.category == "AE" else "S1"
            line["percent"] = f"{amount.rate.normalize():f}"
            line["tax_amount"] = _money(amount.amount)
        lines.append(line)
    return lines


def correction_data(invoice: Any, defaults: dict[str, str] | None = None) -> dict[str, Any]:
    """The fields of the record a correction sends again, taken from the invoice as it is now.

    ``defaults`` are the account's default codes (the tax report setting's), used where a tax has none.
    """
    from b2binvoice.invoices.calculations import calculate_invoice  # noqa: PLC0415

    client = invoice.client
    totals = calculate_invoice(invoice)
    lines = breakdowns(invoice, totals, defaults or {})
    # A withholding (IRPF: a negative rate) is not part of the record: its CuotaTotal is the VAT charged
    # and its ImporteTotal the base plus that VAT, whatever is withheld from the payment.
    charged = sum((Decimal(line.get("tax_amount", "0")) for line in lines), Decimal(0))
    return {
        "customer_party_name": client.name,
        "customer_party_tax_id": client.tin,
        "customer_party_country": client.country,
        "tax_inclusive_amount": _money(totals.base + charged),
        "tax_amount": _money(charged),
        "tax_breakdowns": lines,
    }


def account_defaults(remote: Remote, record: TaxRecord) -> dict[str, str]:
    """Read the account's default codes for the record's system; {} when B2Brouter cannot say."""
    from .verifactu import CODE_FIELDS, TICKETBAI, VERIFACTU  # noqa: PLC0415

    wanted = TICKETBAI if record.type.lower().startswith("ticket") else VERIFACTU
    try:
        rows = remote.tax_report_settings()
    except b2brouter.B2BRouterError as exc:
        logger.info("Could not read the account's default codes: %s", describe(exc).text)
        return {}
    for row in rows:
        if str(row.get("code") or row.get("type") or "").lower() == wanted:
            return {name: str(row.get(name) or "").strip().upper() for name in CODE_FIELDS}
    return {}


def _remote_for(invoice: Any, record: TaxRecord) -> tuple[Remote | None, Result | None]:
    integration = _integration(invoice)
    if integration is None or str(integration.account_id) != record.account_id:
        return None, Result("error", _("The B2Brouter integration is not enabled for the account that holds this "
                                       "record."))
    return Remote.for_integration(integration), None


def _claim(record: TaxRecord) -> bool:
    """Mark ``record`` as being acted on; answer False when another request already is (one action per click)."""
    now = timezone.now()
    claimed = TaxRecord.objects.filter(pk=record.pk, action_started_at__isnull=True).update(action_started_at=now)
    if claimed:
        record.action_started_at = now
    return bool(claimed)


def _release(record: TaxRecord) -> None:
    TaxRecord.objects.filter(pk=record.pk).update(action_started_at=None)
    record.action_started_at = None


def send_correction(*, invoice: Any, user: Any) -> Result:
    """Send ONE correction of the invoice's rejected record, with the invoice's data as it is now.

    No transaction is held while B2Brouter answers: the record is claimed by a conditional update
    first, so a second click (or a second tab) sends nothing.
    """
    current = summary(invoice)
    if current is None or not current.can_correct or current.current is None:
        return Result("info", _("There is no record to correct now: a correction is offered once, after the tax "
                                "agency rejected a record or registered it with errors."))
    record = current.current
    remote, problem = _remote_for(invoice, record)
    if remote is None:
        return problem or Result("error", "")
    changes = correction_data(invoice, account_defaults(remote, record))
    unexplained = [line["name"] for line in changes["tax_breakdowns"]
                   if line.get("exemption_code") == "" or line.get("non_subject_code") == ""]
    if unexplained:
        return Result("error", _("A tax of invoice %(number)s bears no VAT but does not say why in the tax agency's "
                                 "terms: choose its exemption code under Settings → Taxes, or a default exemption "
                                 "code on the Verifactu settings (B2Brouter integration), then send the correction.")
                      % {"number": invoice.number})
    if not _claim(record):
        return Result("info", _("A correction of this record is already being sent: reload the page."))
    try:
        data = remote.correct_tax_report(record.remote_id, changes)
    except b2brouter.B2BRouterError as exc:
        _release(record)
        described = describe(exc)
        return Result("error", _("B2Brouter did not accept the correction. %(error)s") % {"error": described.text},
                      described.remote_message, described.request_id)
    except BaseException:
        _release(record)  # an unexpected failure must not leave the record claimed for ever
        raise
    try:
        stored = store(invoice, record.account_id, {**data, "correction": True}, user=user)
    finally:
        # The correction is now a record of its own (processing) or this one updated in place: either
        # way the page offers nothing more until the tax agency answers, so the claim can go.
        _release(record)
    state = stored.state if stored else PROCESSING
    return Result("success", _("The correction was sent (record #%(id)s, %(state)s). Its answer from the tax agency "
                               "appears here.") % {"id": data.get("id"), "state": label(state)})


def cancel_record(*, invoice: Any, user: Any, confirmed: bool) -> Result:
    """Cancel (anulación) the invoice's registered record, once, after the user confirmed it."""
    if not confirmed:
        return Result("error", _("Tick the confirmation to cancel the record."))
    current = summary(invoice)
    if current is None or not current.can_cancel or current.current is None:
        return Result("info", _("There is no registered record to cancel: it may have been cancelled already."))
    record = current.current
    remote, problem = _remote_for(invoice, record)
    if remote is None:
        return problem or Result("error", "")
    if not _claim(record):
        return Result("info", _("This record is already being cancelled: reload the page."))
    try:
        data = remote.annul_tax_report(record.remote_id)
    except b2brouter.B2BRouterError as exc:
        _release(record)
        described = describe(exc)
        return Result("error", _("B2Brouter did not cancel the record. %(error)s") % {"error": described.text},
                      described.remote_message, described.request_id)
    except BaseException:
        _release(record)
        raise
    try:
        store(invoice, record.account_id, {**data, "annullation": True}, user=user)
    finally:
        _release(record)  # the cancellation record (processing) now keeps a second one from being offered
    return Result("success", _("The cancellation was sent (record #%(id)s). Once the tax agency registers it, the "
                               "invoice's record is void.") % {"id": data.get("id")})
