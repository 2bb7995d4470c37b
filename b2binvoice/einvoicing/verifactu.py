"""Verifactu and TicketBAI on the B2Brouter account: read whether they are on, and switch them on.

B2Brouter registers every sent invoice with the tax authority once the account has a *tax report
setting* (``verifactu`` for AEAT, ``tbai`` for the Basque treasuries). The setting lives in
B2Brouter, so the integration page reads it from there each time rather than keeping a copy that
could go stale. Sources: docs/api-evidence.md, section 10.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import b2brouter
from b2binvoice.core.localformats import local_date

from .actions import Result, _error
from .models import B2BrouterIntegration
from .remote import Remote

VERIFACTU = "verifactu"
TICKETBAI = "tbai"
SYSTEMS = {VERIFACTU: gettext_lazy("Verifactu (AEAT)"), TICKETBAI: gettext_lazy("TicketBAI (Basque Country)")}
DELEGATIONS = {"araba": "Araba/Álava", "bizkaia": "Bizkaia", "gipuzkoa": "Gipuzkoa"}
#: Companies paying corporate tax must register their invoices from this day (RDL 15/2025).
MANDATORY_FROM = dt.date(2027, 1, 1)

#: AEAT's ClaveRegimen list L8A (VAT), from the Verifactu record design ("DsRegistroVeriFactu", sheet
#: "Listas"): the special regime a record's lines are under when the invoice does not say otherwise.
REGIME_KEYS = {
    "01": gettext_lazy("01 – General regime"),
    "02": gettext_lazy("02 – Export"),
    "03": gettext_lazy("03 – Used goods, works of art, antiques and collectors' items"),
    "04": gettext_lazy("04 – Investment gold"),
    "05": gettext_lazy("05 – Travel agencies"),
    "06": gettext_lazy("06 – VAT group of entities (advanced level)"),
    "07": gettext_lazy("07 – Cash accounting (criterio de caja)"),
    "08": gettext_lazy("08 – Operations subject to IPSI or IGIC"),
    "09": gettext_lazy("09 – Travel agencies acting as intermediaries in the name and on behalf of others"),
    "10": gettext_lazy("10 – Collections on behalf of third parties (professional fees, industrial property, "
                       "copyright)"),
    "11": gettext_lazy("11 – Business premises rental"),
    "14": gettext_lazy("14 – VAT pending accrual: work certifications for a public administration"),
    "15": gettext_lazy("15 – VAT pending accrual: successive-tract operations"),
    "17": gettext_lazy("17 – One-stop shop (OSS and IOSS)"),
    "18": gettext_lazy("18 – Equivalence surcharge"),
    "19": gettext_lazy("19 – Agriculture, livestock and fisheries (REAGYP)"),
    "20": gettext_lazy("20 – Simplified regime"),
}
#: The same for IGIC (Canary Islands), list L8B: no 20, and 17-19 mean something else.
REGIME_KEYS_IGIC = {
    **{key: label for key, label in REGIME_KEYS.items() if key not in ("17", "18", "19", "20")},
    "17": gettext_lazy("17 – Retailers' special regime"),
    "18": gettext_lazy("18 – Small business or professional special regime"),
    "19": gettext_lazy("19 – Domestic operations exempt under art. 25 of Law 19/1994"),
}
#: The account's default codes B2Brouter applies to a record when the invoice does not carry its own.
CODE_FIELDS = ("special_regime_key", "special_regime_key_igic", "reason_vat_exempt", "reason_no_subject",
               "credit_note_code")


@dataclass(frozen=True)
class TaxReporting:
    """One tax report setting of the account, as the page shows it."""

    code: str
    start_date: dt.date | None
    delegation: str
    auto_send: bool | None
    codes: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(SYSTEMS.get(self.code, self.code))

    @property
    def delegation_label(self) -> str:
        return DELEGATIONS.get(self.delegation, self.delegation)

    @property
    def code_rows(self) -> list[dict[str, str]]:
        """The default codes as the panel lists them: label, field name and the code with its meaning."""
        return [{"name": name, "label": str(label), "text": code_text(name, self.codes.get(name, ""))}
                for name, label in code_labels().items()]

    @property
    def started(self) -> bool:
        return self.start_date is None or self.start_date <= timezone.localdate()


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _reporting(row: dict[str, Any]) -> TaxReporting:
    auto_send = row.get("auto_send")
    return TaxReporting(
        code=str(row.get("code") or row.get("type") or "").lower(),
        start_date=_date(row.get("start_date")),
        delegation=str(row.get("delegation") or "").lower(),
        auto_send=auto_send if isinstance(auto_send, bool) else None,
        codes={name: str(row.get(name) or "").strip().upper() for name in CODE_FIELDS},
    )


def status(integration: B2BrouterIntegration) -> tuple[list[TaxReporting], Result | None]:
    """Return the account's Verifactu/TicketBAI settings, or the error that kept us from reading them."""
    try:
        rows = Remote.for_integration(integration).tax_report_settings()
    except b2brouter.B2BRouterError as exc:
        return [], _error(_("Could not read whether Verifactu or TicketBAI is on for the B2Brouter account."), exc)
    return [r for r in (_reporting(row) for row in rows) if r.code in SYSTEMS], None


def switch_on(integration: B2BrouterIntegration, *, code: str, start_date: dt.date, delegation: str = "") -> Result:
    """Create the account's tax report setting: B2Brouter registers every sent invoice from ``start_date``.

    Generation and sending are automatic: Verifactu asks for the record when the invoice is issued.
    """
    data: dict[str, Any] = {"code": code, "start_date": start_date.isoformat(), "auto_generate": True,
                            "auto_send": True}
    if code == TICKETBAI:
        data["delegation"] = delegation
    try:
        created = Remote.for_integration(integration).create_tax_report_setting(data)
    except b2brouter.B2BRouterError as exc:
        return _error(_("B2Brouter did not switch %(system)s on.") % {"system": SYSTEMS[code]}, exc)
    since = _date(created.get("start_date")) or start_date
    return Result("success", _("%(system)s is on: B2Brouter registers every invoice you send from %(date)s "
                               "with the tax authority.") % {"system": SYSTEMS[code], "date": local_date(since)})


def code_labels() -> dict[str, Any]:
    """Name each default code as the settings page does (for the page and the settings history)."""
    from .forms import TaxReportingCodesForm  # noqa: PLC0415 (forms import this module's lists)

    return {name: field.label for name, field in TaxReportingCodesForm.base_fields.items()}


def code_text(name: str, value: str) -> str:
    """Return a default code with its meaning ("E1 – Exempt under art. 20 LIVA …"), or "" when unset."""
    from .forms import TaxReportingCodesForm  # noqa: PLC0415

    if not value:
        return ""
    choices = dict(TaxReportingCodesForm.base_fields[name].choices)  # type: ignore[attr-defined]
    return str(choices.get(value, value))


def change_codes(integration: B2BrouterIntegration, current: TaxReporting, codes: dict[str, str], *,
                 user: Any = None) -> Result:
    """Change the account's default codes on B2Brouter, then record the change in the settings history."""
    from b2binvoice.companies import audit  # noqa: PLC0415
    from b2binvoice.companies.models import SettingsChange  # noqa: PLC0415

    changes = {name: value for name, value in codes.items() if value != current.codes.get(name, "")}
    if not changes:
        return Result("info", _("Nothing changed: the default codes are as they were."))
    try:
        saved = Remote.for_integration(integration).update_tax_report_setting(current.code, changes)
    except b2brouter.B2BRouterError as exc:
        return _error(_("B2Brouter did not change the default codes of %(system)s.") % {"system": current.label}, exc)
    stored = _reporting({**saved, "code": saved.get("code") or current.code}).codes
    after = {name: stored.get(name, "") for name in changes}
    labels = code_labels()
    audit.record_values(integration.company, area=SettingsChange.Area.TAX_REPORTING, object_repr=current.label,
                        before={name: code_text(name, current.codes.get(name, "")) for name in changes},
                        after={name: code_text(name, value) for name, value in after.items()},
                        labels=labels, user=user)
    return Result("success", _("The default codes of %(system)s are saved in B2Brouter: %(fields)s.") % {
        "system": current.label, "fields": ", ".join(str(labels[name]) for name in changes)})
