"""Verifactu and TicketBAI on the B2Brouter account: read whether they are on, and switch them on.

B2Brouter registers every sent invoice with the tax authority once the account has a *tax report
setting* (``verifactu`` for AEAT, ``tbai`` for the Basque treasuries). The setting lives in
B2Brouter, so the integration page reads it from there each time rather than keeping a copy that
could go stale. Sources: docs/api-evidence.md, section 10.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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


@dataclass(frozen=True)
class TaxReporting:
    """One tax report setting of the account, as the page shows it."""

    code: str
    start_date: dt.date | None
    delegation: str
    auto_send: bool | None

    @property
    def label(self) -> str:
        return str(SYSTEMS.get(self.code, self.code))

    @property
    def delegation_label(self) -> str:
        return DELEGATIONS.get(self.delegation, self.delegation)

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
