"""The calculation probe: verify B2Brouter's arithmetic on the user's own account.

The settings plate says whether the account's three calculation settings *read* as the
ones b2binvoice's arithmetic equals; the probe measures whether the *totals* match. It
creates a handful of unsent probe invoices in the account (``send_after_import`` false),
each chosen so that one interpretation of the arithmetic gives another cent than the next
(half-up against half-even ties, tax per line against per group, rounding before or after
the sum, truncating against rounding, a document percentage discount, a withholding), asks
B2Brouter for its subtotal, taxes and total, compares them with what this app's own
arithmetic (:mod:`b2binvoice.invoices.calculations`) computes for the same invoice, and
deletes every probe invoice it created, whatever happened on the way. The run is recorded
in :class:`~b2binvoice.einvoicing.models.ProbeRun` and shown beside the plate.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy

import b2brouter
from b2binvoice.companies.taxtypes import COUNTRY_WITHHOLDING_NAME, country_vat_name
from b2binvoice.core.money import minor_units
from b2binvoice.invoices.calculations import (
    DISCOUNT,
    PERCENTAGE,
    AdjustmentInput,
    InvoiceTotals,
    LineInput,
    TaxInput,
    calculate,
)
from b2binvoice.core import texts
from b2binvoice.core.localformats import local_datetime
from b2binvoice.core.texts import concat
from b2binvoice.core.texts import gettext as _

from .errors import describe
from .mapping import plain_decimal
from .models import REQUIRED_CALCULATION_SETTINGS, B2BrouterIntegration, Environment, ProbeOutcome, ProbeRun
from .remote import Remote, to_decimal

logger = logging.getLogger(__name__)

#: Every probe invoice's number starts with this, then the run's UTC time and the probe's position.
NUMBER_PREFIX = "B2BINVOICE-PROBE-"
#: The contact the probe invoices are addressed to; reused when the account already has it.
CONTACT_NAME = "b2binvoice probe (safe to delete)"
#: What a production key needs before the probe runs (the CLI's flag, the confirmation form's value).
CONFIRMATION_VALUE = "create-and-delete-drafts"
#: A run that has not finished after this long is taken as interrupted, not as still running.
RUNNING_TIMEOUT = dt.timedelta(minutes=10)

STANDARD = "S"
WITHHOLDING = COUNTRY_WITHHOLDING_NAME["ES"]
# The probe contact: a made-up tax id with a valid check digit (python-stdnum) in the account's
# country, with its ISO 6523 scheme; Spain's where the table has no entry.
CONTACT_TINS = {
    "ES": ("ESB99999997", "9920"),
    "FR": ("FR11123456782", "9957"),
    "DE": ("DE123456788", "9930"),
    "NL": ("NL123456782B01", "9944"),
    "IT": ("IT01234560017", "9906"),
    "PT": ("PT501234560", "9946"),
    "BE": ("BE0123450019", "9925"),
    "AT": ("ATU12345675", "9914"),
    "GB": ("GB123456727", "9932"),
}
DEFAULT_CONTACT_COUNTRY = "ES"

# What each setting is called on the page and which value b2binvoice needs.
SETTING_LABELS = {
    "rounding_method": gettext_lazy("rounding_method"),
    "round_before_sum": gettext_lazy("round_before_sum"),
    "apply_taxes_per_line": gettext_lazy("apply_taxes_per_line"),
}


@dataclass(frozen=True)
class ProbeTax:
    """A tax of every line of a probe invoice, as B2Brouter names it."""

    name: str
    category: str
    percent: Decimal


@dataclass(frozen=True)
class ProbeCase:
    """One probe invoice: lines of (quantity, price), its taxes, an optional document discount."""

    key: str
    lines: tuple[tuple[Decimal, Decimal], ...]
    taxes: tuple[ProbeTax, ...]
    # The settings this invoice's totals depend on, the one it was made for first (named when it differs).
    settings: tuple[str, ...]
    discount_percent: Decimal | None = None


#: What each probe invoice checks, as the page and the command line say it.
CASE_TITLES = {
    "tax_tie": gettext_lazy("a tax of exactly half a cent (10.50 at 21 % = 2.205): half up or half even"),
    "tax_per_line": gettext_lazy("7886.64 + 818.44 at 21 %: tax on the sum (1828.07) or per line (1828.06)"),
    "round_before_sum": gettext_lazy("three lines of 0.333: lines rounded before the sum (0.99) or after (1.00)"),
    "truncate": gettext_lazy("9.99 at 21 % = 2.0979: rounded (2.10) or truncated (2.09)"),
    "document_discount": gettext_lazy("a 7.5 % document discount on lines of 19.99, 4.145 and 0.015"),
    "withholding": gettext_lazy("a withholding (IRPF -15 %) of exactly half a cent: rounded away from zero"),
    "line_tie": gettext_lazy("a line of 2.345: its amount rounded half up (2.35) or half even (2.34)"),
}


def _d(value: str) -> Decimal:
    return Decimal(value)


def probe_cases(country: str) -> list[ProbeCase]:
    """Return the probe invoices for an account in ``country`` (a withholding only for Spain)."""
    # The name the company's own taxes default to (companies/taxtypes.py), so the probe sends what invoices send.
    vat = (ProbeTax(country_vat_name(country), STANDARD, _d("21")),)
    one = _d("1")
    cases = [
        ProbeCase("tax_tie", ((one, _d("10.50")),), vat, ("rounding_method",)),
        ProbeCase("tax_per_line", ((one, _d("7886.64")), (one, _d("818.44"))), vat,
                  ("apply_taxes_per_line", "rounding_method")),
        ProbeCase("round_before_sum", ((one, _d("0.333")),) * 3, vat,
                  ("round_before_sum", "apply_taxes_per_line", "rounding_method")),
        ProbeCase("truncate", ((one, _d("9.99")),), vat, ("rounding_method",)),
        ProbeCase("document_discount", ((_d("3"), _d("19.99")), (_d("7"), _d("4.145")), (one, _d("0.015"))), vat,
                  ("round_before_sum", "rounding_method"), discount_percent=_d("7.5")),
    ]
    if (country or "").upper() == "ES":
        cases.append(ProbeCase("withholding", ((one, _d("10.30")),),
                               vat + (ProbeTax(WITHHOLDING, STANDARD, _d("-15")),), ("rounding_method",)))
    else:
        cases.append(ProbeCase("line_tie", ((one, _d("2.345")),), vat, ("rounding_method", "apply_taxes_per_line")))
    return cases


def expected_totals(case: ProbeCase, currency: str) -> InvoiceTotals:
    """Compute the probe invoice's totals with this app's own arithmetic."""
    return calculate(
        [LineInput(quantity=quantity, unit_price=price) for quantity, price in case.lines],
        [AdjustmentInput(kind=DISCOUNT, mode=PERCENTAGE, value=case.discount_percent)]
        if case.discount_percent is not None else [],
        [TaxInput(name=tax.name, kind=PERCENTAGE, rate=tax.percent, amount=None, category=tax.category)
         for tax in case.taxes],
        currency,
    )


def invoice_body(case: ProbeCase, *, number: str, contact_id: int, date: dt.date, currency: str) -> dict[str, Any]:
    """Return the B2Brouter invoice of a probe (no unit, no payment method: nothing the totals need)."""
    taxes = [{"name": tax.name, "category": tax.category, "percent": plain_decimal(tax.percent)}
             for tax in case.taxes]
    body: dict[str, Any] = {
        "number": number,
        "date": date.isoformat(),
        "currency": currency,
        "contact_id": contact_id,
        "extra_info": "Created by b2binvoice to verify B2Brouter's arithmetic and deleted right away. "
                      "Safe to delete.",
        "invoice_lines_attributes": [
            {"description": f"b2binvoice calculation probe, line {position}",
             "quantity": plain_decimal(quantity), "price": plain_decimal(price),
             "taxes_attributes": [dict(tax) for tax in taxes]}
            for position, (quantity, price) in enumerate(case.lines, start=1)
        ],
    }
    if case.discount_percent is not None:
        body["allowance_charges_attributes"] = [{
            "allowance_charge_indicator": "allowance", "percentage": plain_decimal(case.discount_percent),
            "reason": "Probe discount"}]
    return body


# --- Comparing B2Brouter's answer with ours ---------------------------------------------------


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _row(label: str, ours: Decimal | None, theirs: Decimal | None) -> dict[str, Any]:
    # The label is kept untranslated, so the run reads in the language of whoever opens it.
    return {"label": texts.dump(label), "ours": _amount(ours), "theirs": _amount(theirs),
            "equal": ours is not None and theirs is not None and ours == theirs}


def _tax_key(name: Any, percent: Any) -> tuple[str, Decimal]:
    # B2Brouter's answer need not carry taxes[].category: a group is its name and percent.
    return (str(name or "").strip().upper(), (to_decimal(percent) or Decimal(0)).normalize())


def _tax_label(name: str, percent: Decimal) -> str:
    return f"{name} {format(percent.normalize(), 'f')} %"


def compare_answer(ours: InvoiceTotals, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Return each figure of a probe invoice, ours beside B2Brouter's (amounts as exact strings)."""
    their_taxes: dict[tuple[str, Decimal], dict[str, Any]] = {}
    for tax in answer.get("taxes") or []:
        if isinstance(tax, dict):
            key = _tax_key(tax.get("name"), tax.get("percent"))
            group = their_taxes.setdefault(key, {"name": str(tax.get("name") or ""), "base": None, "amount": None})
            for field in ("base", "amount"):
                value = to_decimal(tax.get(field))
                if value is not None:
                    group[field] = value if group[field] is None else group[field] + value
    rows = [_row(_("Subtotal (before taxes)"), ours.base, to_decimal(answer.get("subtotal")))]
    seen = set()
    for tax in ours.taxes:
        key = _tax_key(tax.name, tax.rate)
        seen.add(key)
        theirs = their_taxes.get(key)
        label = _tax_label(tax.name, Decimal(tax.rate or 0))
        if theirs is not None and theirs["base"] is not None:
            rows.append(_row(_("%(tax)s: base") % {"tax": label}, tax.base, theirs["base"]))
        rows.append(_row(label, tax.amount, theirs["amount"] if theirs is not None else None))
    for key, theirs in their_taxes.items():
        if key not in seen:  # a group B2Brouter made that we did not
            rows.append(_row(_tax_label(theirs["name"], key[1]), None, theirs["amount"]))
    if answer.get("tax_total") is not None:
        their_tax_total = to_decimal(answer.get("tax_total"))
    elif their_taxes:
        their_tax_total = sum((g["amount"] or Decimal(0) for g in their_taxes.values()), Decimal(0))
    else:
        their_tax_total = None
    rows.append(_row(_("Taxes"), ours.tax_total, their_tax_total))
    rows.append(_row(_("Total"), ours.total, to_decimal(answer.get("total"))))
    return rows


def _has_totals(answer: dict[str, Any]) -> bool:
    return answer.get("subtotal") is not None and answer.get("total") is not None


# --- Running it -------------------------------------------------------------------------------


class ProbeRefused(Exception):
    """The probe did not start; ``text`` says why and what to do."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class ConfirmationRequired(ProbeRefused):
    """A production key: the user must first confirm that draft invoices are created and deleted."""


def needs_confirmation(integration: B2BrouterIntegration) -> bool:
    """Return whether the probe would create drafts in a live production account."""
    return (integration.environment == Environment.PRODUCTION
            and not str(integration.api_key or "").startswith("test_"))


def confirmation_text(count: int = 6) -> str:
    """Return what the user confirms before a probe on a production key."""
    return _("The probe creates %(count)s draft invoices in your live B2Brouter account, unsent, addressed to a "
             "contact named \"%(contact)s\", and deletes them (and the contact, if it creates it) right after "
             "reading their totals. Nothing is sent to anyone, but they may appear for a few seconds in "
             "B2Brouter's invoice list.") % {"count": count, "contact": CONTACT_NAME}


def _probe_currency(account: dict[str, Any], integration: B2BrouterIntegration) -> str:
    # The cases are built on cents: use the account's currency when it has two decimals.
    for candidate in (account.get("currency"), integration.company.default_currency):
        code = str(candidate or "").upper()
        if len(code) == 3:
            try:
                if minor_units(code) == 2:
                    return code
            except Exception:  # noqa: BLE001 (an unknown currency code: try the next one)
                continue
    return "EUR"


def _described(exc: Exception) -> dict[str, str]:
    described = describe(exc)
    return {"message": described.text, "remote_message": described.remote_message,
            "request_id": described.request_id}


class _Probe:
    """One run: its remote, what it created, and what it must delete before it ends."""

    def __init__(self, integration: B2BrouterIntegration, run: ProbeRun, remote: Remote) -> None:
        self.integration = integration
        self.run = run
        self.remote = remote
        self.contact_id: int | None = None
        self.contact_created = False
        self.created: list[dict[str, Any]] = []  # {"id", "number"} of every probe invoice B2Brouter has
        self.unsure: list[str] = []  # numbers whose create may have gone through without an answer

    def _fail(self, exc: Exception, context: str) -> None:
        details = _described(exc)
        self.run.error = concat(context, details["message"])
        self.run.remote_message = details["remote_message"]
        self.run.request_id = details["request_id"]

    def _contact(self, country: str) -> None:
        for contact in self.remote.contacts(name=CONTACT_NAME):
            if str(contact.get("name") or "") == CONTACT_NAME and contact.get("id") is not None:
                self.contact_id = int(contact["id"])
                return
        code = country if country in CONTACT_TINS else DEFAULT_CONTACT_COUNTRY
        tin, scheme = CONTACT_TINS[code]
        try:
            created = self.remote.create_contact({"name": CONTACT_NAME, "country": code.lower(), "tin_value": tin,
                                                  "tin_scheme": scheme, "is_client": True})
        except b2brouter.InvalidRequestError as exc:
            # The made-up tax id is already a contact of the account: address the probes to that one.
            taken = getattr(exc, "code", "") == "parameter_taken"
            found = self.remote.find_contact_by_tin(tin, code) if taken else None
            if found is None or found.get("id") is None:
                raise
            self.contact_id = int(found["id"])
            return
        self.contact_id = int(created["id"])
        self.contact_created = True
        self.run.contact_id = self.contact_id
        self.run.save(update_fields=["contact_id"])

    def _record_created(self, invoice_id: int, number: str) -> None:
        self.created.append({"id": invoice_id, "number": number})
        # Kept as the run goes, so an interrupted run still names what it left in B2Brouter.
        self.run.created = list(self.created)
        self.run.save(update_fields=["created"])

    def probe(self, *, now: dt.datetime) -> None:
        """Create, read and compare every probe invoice (errors end the loop; cleanup is the caller's)."""
        try:
            account = self.remote.account()
        except b2brouter.B2BRouterError as exc:
            self._fail(exc, _("Could not read the B2Brouter account."))
            return
        self.run.account_settings = {name: account.get(name) for name in REQUIRED_CALCULATION_SETTINGS}
        country = str(account.get("country") or self.integration.company.country or "").upper()
        currency = _probe_currency(account, self.integration)
        self.run.currency = currency
        self.run.save(update_fields=["account_settings", "currency"])
        try:
            self._contact(country)
        except b2brouter.B2BRouterError as exc:
            self._fail(exc, _("Could not find or create the probe contact."))
            return
        stamp = now.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
        date = timezone.localdate(now)
        results: list[dict[str, Any]] = []
        for position, case in enumerate(probe_cases(country), start=1):
            number = f"{NUMBER_PREFIX}{stamp}-{position}"
            ours = expected_totals(case, currency)
            result: dict[str, Any] = {"position": position, "key": case.key, "number": number, "b2brouter_id": None,
                                      "settings": list(case.settings), "rows": [], "equal": False}
            results.append(result)
            try:
                answer = self.remote.create_invoice(invoice_body(
                    case, number=number, contact_id=int(self.contact_id or 0), date=date, currency=currency))
            except b2brouter.B2BRouterError as exc:
                if getattr(exc, "maybe_applied", False):
                    self.unsure.append(number)
                self._fail(exc, _("B2Brouter did not create probe invoice %(position)s (%(number)s).") % {
                    "position": position, "number": number})
                result["error"] = True
                break
            invoice_id = answer.get("id")
            if invoice_id is None:
                self.unsure.append(number)
                self.run.error = _("B2Brouter's answer to probe invoice %(position)s has no id.") % {
                    "position": position}
                result["error"] = True
                break
            self._record_created(int(invoice_id), number)
            result["b2brouter_id"] = int(invoice_id)
            try:
                if not _has_totals(answer):  # an answer without figures: read the invoice
                    answer = self.remote.invoice(int(invoice_id))
            except b2brouter.B2BRouterError as exc:
                self._fail(exc, _("Could not read probe invoice %(position)s (#%(id)s).") % {
                    "position": position, "id": invoice_id})
                result["error"] = True
                break
            result["rows"] = compare_answer(ours, answer)
            result["equal"] = all(row["equal"] for row in result["rows"])
            self.run.cases = results
            self.run.save(update_fields=["cases"])
        self.run.cases = results

    def cleanup(self) -> None:
        """Delete every probe invoice and the contact this run created; record what could not be deleted."""
        undeleted: list[dict[str, Any]] = []
        for number in self.unsure:
            try:
                found = self.remote.invoices(number=number)
            except b2brouter.B2BRouterError as exc:
                undeleted.append({"kind": "invoice", "id": None, "number": number, **_described(exc)})
                continue
            for invoice in found:
                if invoice.get("number") == number and invoice.get("id") is not None:
                    self.created.append({"id": int(invoice["id"]), "number": number})
        for invoice in self.created:
            try:
                self.remote.delete_invoice(invoice["id"])
            except b2brouter.NotFoundError:
                continue  # already gone
            except b2brouter.B2BRouterError as exc:
                undeleted.append({"kind": "invoice", "id": invoice["id"], "number": invoice["number"],
                                  **_described(exc)})
        if self.contact_created and self.contact_id is not None:
            try:
                self.remote.client.contacts.delete(self.contact_id)
            except b2brouter.NotFoundError:
                pass
            except b2brouter.B2BRouterError as exc:
                undeleted.append({"kind": "contact", "id": self.contact_id, "number": "", **_described(exc)})
        self.run.created = list(self.created)
        self.run.undeleted = undeleted


def latest_running(integration: B2BrouterIntegration, *, now: dt.datetime) -> ProbeRun | None:
    """Return a run of this integration that is still going (started within RUNNING_TIMEOUT), if any."""
    return (ProbeRun.objects.filter(integration=integration, outcome=ProbeOutcome.RUNNING,
                                    started_at__gte=now - RUNNING_TIMEOUT).order_by("-started_at").first())


def run_probe(integration: B2BrouterIntegration, *, confirmed: bool = False, user: Any = None) -> ProbeRun:
    """Create the probe invoices unsent, compare B2Brouter's totals with ours, delete them; record the run.

    Raise :class:`ConfirmationRequired` for a production key unless ``confirmed``, and
    :class:`ProbeRefused` when the integration has no verified credentials or a probe is running.
    """
    if not integration.has_credentials:
        raise ProbeRefused(_("Save a working API key and account ID first."))
    if needs_confirmation(integration) and not confirmed:
        raise ConfirmationRequired(confirmation_text(len(probe_cases(integration.company.country))))
    now = timezone.now()
    running = latest_running(integration, now=now)
    if running is not None:
        when = local_datetime(running.started_at)
        raise ProbeRefused(_("A probe of this account is already running (started at %(when)s): wait for it to "
                             "finish.") % {"when": when})
    run = ProbeRun.objects.create(
        integration=integration, environment=integration.environment, account_id=integration.account_id,
        started_at=now, user=user if getattr(user, "is_authenticated", False) else None)
    probe = _Probe(integration, run, Remote.for_integration(integration))
    try:
        probe.probe(now=now)
    except BaseException as exc:
        # Not an answer from B2Brouter (a bug, an interrupt): the run must not read as verified.
        logger.exception("The calculation probe of %r stopped unexpectedly", integration)
        run.error = run.error or _("The probe stopped unexpectedly (%(error)s).") % {"error": type(exc).__name__}
        raise
    finally:
        # Whatever happened (an error answer, a lost connection, a bug), nothing is left behind
        # that can be deleted.
        try:
            probe.cleanup()
        finally:
            run.finished_at = timezone.now()
            run.outcome = _outcome(run)
            run.save()
    return run


def _outcome(run: ProbeRun) -> str:
    if run.error or run.undeleted or not run.cases or not all(case.get("rows") for case in run.cases):
        return ProbeOutcome.ERROR
    if all(case.get("equal") for case in run.cases):
        return ProbeOutcome.VERIFIED
    return ProbeOutcome.MISMATCH


# --- Telling the user -------------------------------------------------------------------------


def points_to(settings: list[str], account_settings: dict[str, Any]) -> str:
    """Name the setting a differing probe invoice points to, with the value b2binvoice needs.

    ``settings`` are those the probe invoice is sensitive to, the one it was made for first.
    Those the account reports with another value than required are named; when it reports
    them all as required, B2Brouter computes otherwise than its settings say, and the
    invoice's own setting is named as such.
    """
    differing = [name for name in settings if account_settings.get(name) != REQUIRED_CALCULATION_SETTINGS.get(name)]
    hints = []
    for name in differing:
        required = setting_value(REQUIRED_CALCULATION_SETTINGS.get(name))
        if account_settings.get(name) is None:
            hints.append(_("%(setting)s (b2binvoice needs %(required)s; the account does not report it)") % {
                "setting": SETTING_LABELS.get(name, name), "required": required})
        else:
            hints.append(_("%(setting)s (b2binvoice needs %(required)s; the account reports %(current)s)") % {
                "setting": SETTING_LABELS.get(name, name), "required": required,
                "current": setting_value(account_settings.get(name))})
    if hints:
        return "; ".join(hints)
    if not settings:
        return ""
    name = settings[0]
    return _("%(setting)s (the account reports %(current)s, as b2binvoice needs, yet B2Brouter computes "
             "otherwise: do not send invoices until this is explained)") % {
        "setting": SETTING_LABELS.get(name, name), "current": setting_value(account_settings.get(name))}


def setting_value(value: Any) -> str:
    """Show a calculation setting as B2Brouter names it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def case_title(key: str) -> str:
    """Return what the probe invoice ``key`` checks."""
    return str(CASE_TITLES.get(key, key))


def differences(run: ProbeRun) -> list[dict[str, Any]]:
    """Return each differing probe invoice of a run: its figures (ours, B2Brouter's) and the setting it points to."""
    found = []
    for case in run.cases:
        figures = [{**row, "label": texts.load(row.get("label"))}
                   for row in case.get("rows") or [] if not row.get("equal")]
        if not figures:
            continue
        found.append({
            "position": case.get("position"), "number": case.get("number"),
            "b2brouter_id": case.get("b2brouter_id"), "title": case_title(str(case.get("key"))),
            "figures": figures, "points_to": points_to(list(case.get("settings") or []), run.account_settings or {}),
        })
    return found


def summary(run: ProbeRun) -> tuple[str, str]:
    """Return the run's result as a level (success, warning, error) and one paragraph of text."""
    level, parts = summary_lines(run)
    return level, " ".join(parts)


def summary_lines(run: ProbeRun) -> tuple[str, list[str]]:
    """Return the run's result as a level (success, warning, error) and its sentences, one per finding."""
    when = local_datetime(run.finished_at or run.started_at, seconds=False)
    count = len([case for case in run.cases if case.get("rows")])  # the probe invoices compared
    if run.outcome == ProbeOutcome.VERIFIED:
        return "success", [_("Verified on %(count)s probe invoices at %(when)s: B2Brouter's totals match.") % {
            "count": count, "when": when}]
    parts = []
    level = "error" if run.outcome == ProbeOutcome.ERROR else "warning"
    if run.outcome == ProbeOutcome.RUNNING:
        parts.append(_("The probe started at %(when)s has not finished.") % {"when": when})
        for item in run.created:
            parts.append(_("Probe invoice #%(id)s (%(number)s) may still be in B2Brouter: delete it there.") % item)
    mismatched = [case for case in run.cases if case.get("rows") and not case.get("equal")]
    if mismatched:
        parts.append(_("B2Brouter's totals differ from b2binvoice's on %(bad)s of %(count)s probe invoices "
                       "(checked at %(when)s).") % {"bad": len(mismatched), "count": count, "when": when})
        for diff in differences(run):
            figures = "; ".join(
                _("%(figure)s: ours %(ours)s, B2Brouter's %(theirs)s") % {
                    "figure": row.get("label"), "ours": row.get("ours") or "—", "theirs": row.get("theirs") or "—"}
                for row in diff["figures"])
            parts.append(_("Probe invoice %(position)s (%(number)s: %(title)s) differs in %(figures)s. This points "
                           "to %(points_to)s.") % {**diff, "figures": figures})
    if run.error:
        parts.append(_("The probe could not finish: %(error)s") % {"error": run.error})
    for item in run.undeleted:
        if item.get("kind") == "contact":
            parts.append(_("Could not delete the probe contact #%(id)s: delete it in B2Brouter.") % item)
        elif item.get("id") is not None:
            parts.append(_("Could not delete probe invoice #%(id)s (%(number)s): delete it in B2Brouter.") % item)
        else:
            parts.append(_("Could not check whether probe invoice %(number)s was created: look it up in "
                           "B2Brouter and delete it.") % item)
    if not parts:
        parts.append(_("The probe could not finish."))
    return level, parts

