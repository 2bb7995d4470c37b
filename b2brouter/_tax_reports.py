"""``client.tax_reports`` and ``client.tax_report_settings``: Verifactu and TicketBAI records.

B2Brouter registers a record of each issued invoice with the tax authority (AEAT for
Verifactu, the Basque provincial treasuries for TicketBAI) once the account has the matching
tax report setting. A record starts ``processing`` and ends ``registered``,
``registered_with_errors``, ``error`` or, after a cancellation, ``annulled``.
"""

from __future__ import annotations

from typing import Any, Unpack, cast

from ._base import Service, resource_path, unwrap
from ._money import with_decimals
from ._pagination import ListPage
from ._types import (
    AccountId,
    ResourceId,
    TaxReport,
    TaxReportListParams,
    TaxReportParams,
    TaxReportSetting,
    TaxReportSettingCode,
    TaxReportSettingListParams,
    TaxReportSettingParams,
)

__all__ = ["FINAL_TAX_REPORT_STATES", "TaxReportSettingsService", "TaxReportsService"]

#: States after which a record no longer changes on its own (as B2Brouter's SDK lists them).
FINAL_TAX_REPORT_STATES = frozenset({"registered", "registered_with_errors", "error", "annulled"})


def _report(data: dict[str, Any]) -> TaxReport:
    return cast(TaxReport, with_decimals(data))


def _decoded_report(data: dict[str, Any]) -> TaxReport:
    # A list page is parsed with request(money=True): its amounts are Decimals already.
    return cast(TaxReport, data)


def _setting(data: dict[str, Any]) -> TaxReportSetting:
    return cast(TaxReportSetting, data)


class TaxReportSettingsService(Service):
    """Switch Verifactu (``verifactu``) or TicketBAI (``tbai``) on and off for an account."""

    def list(self, account: AccountId, **paging: Unpack[TaxReportSettingListParams]) -> ListPage[TaxReportSetting]:
        """List an account's settings (``GET /accounts/{account}/tax_report_settings``)."""
        return self._list(
            resource_path("/accounts/{}/tax_report_settings", account), "tax_report_settings", paging, _setting
        )

    def retrieve(self, account: AccountId, code: TaxReportSettingCode | str) -> TaxReportSetting:
        """Read the setting ``code`` (``GET /accounts/{account}/tax_report_settings/{code}``).

        A 404 (:class:`NotFoundError`) means the account does not report to that authority.
        """
        path = resource_path("/accounts/{}/tax_report_settings/{}", account, code)
        return _setting(unwrap(self._client.request("GET", path), "tax_report_setting"))

    def create(self, account: AccountId, setting: TaxReportSettingParams) -> TaxReportSetting:
        """Switch reporting on (``POST /accounts/{account}/tax_report_settings``).

        ``code`` is ``verifactu`` or ``tbai`` (TicketBAI also needs ``delegation``);
        ``start_date`` defaults to today on B2Brouter's side.
        """
        body = self._client.request(
            "POST",
            resource_path("/accounts/{}/tax_report_settings", account),
            json={"tax_report_setting": setting},
        )
        return _setting(unwrap(body, "tax_report_setting"))

    def update(
        self, account: AccountId, code: TaxReportSettingCode | str, changes: TaxReportSettingParams
    ) -> TaxReportSetting:
        """Change a setting (``PUT /accounts/{account}/tax_report_settings/{code}``)."""
        path = resource_path("/accounts/{}/tax_report_settings/{}", account, code)
        body = self._client.request("PUT", path, json={"tax_report_setting": changes})
        return _setting(unwrap(body, "tax_report_setting"))

    def delete(self, account: AccountId, code: TaxReportSettingCode | str) -> TaxReportSetting:
        """Remove a setting (``DELETE /accounts/{account}/tax_report_settings/{code}``)."""
        path = resource_path("/accounts/{}/tax_report_settings/{}", account, code)
        return _setting(unwrap(self._client.request("DELETE", path), "tax_report_setting"))


class TaxReportsService(Service):
    """List, read, download, correct and cancel the records B2Brouter sends to the authority."""

    def list(self, account: AccountId, **filters: Unpack[TaxReportListParams]) -> ListPage[TaxReport]:
        """List an account's records (``GET /accounts/{account}/tax_reports``).

        Filters: ``invoice_id``, ``sent_at_from``, ``updated_at_from``, ``updated_at_to``,
        ``offset``, ``limit`` (at most 500). Iterating the page walks every page.
        """
        return self._list(
            resource_path("/accounts/{}/tax_reports", account), "tax_reports", filters, _decoded_report, money=True
        )

    def retrieve(self, tax_report_id: ResourceId) -> TaxReport:
        """Read a record (``GET /tax_reports/{id}``): its ``state``, ``qr``, ``identifier``, errors."""
        body = self._client.request("GET", resource_path("/tax_reports/{}", tax_report_id))
        return _report(unwrap(body, "tax_report"))

    def create(self, account: AccountId, report: TaxReportParams) -> TaxReport:
        """Create a record directly, without a B2Brouter invoice (``POST /accounts/{account}/tax_reports``).

        A POST is never retried once it may have reached B2Brouter: on an error with
        ``maybe_applied`` :meth:`list` the records before trying again.
        """
        body = self._client.request(
            "POST", resource_path("/accounts/{}/tax_reports", account), json={"tax_report": report}
        )
        return _report(unwrap(body, "tax_report"))

    def download(self, tax_report_id: ResourceId) -> bytes:
        """Download the record's XML, chained hash included (``GET /tax_reports/{id}/download``)."""
        return self._client._download(
            resource_path("/tax_reports/{}/download", tax_report_id), accept="application/xml"
        )

    def update(self, tax_report_id: ResourceId, changes: TaxReportParams) -> TaxReport:
        """Correct a record (``PATCH /tax_reports/{id}``), a Verifactu *subsanación*.

        Once the authority has the record, B2Brouter answers with a new record flagged
        ``correction: true`` that follows its own states; before that the fields just change.
        """
        body = self._client.request(
            "PATCH", resource_path("/tax_reports/{}", tax_report_id), json={"tax_report": changes}
        )
        return _report(unwrap(body, "tax_report"))

    def delete(self, tax_report_id: ResourceId) -> TaxReport:
        """Cancel a record (``DELETE /tax_reports/{id}``), an *anulación*.

        The answer is the cancellation record (``annullation: true``), sent to the authority in
        turn; it ends ``annulled`` (or ``error``).
        """
        body = self._client.request("DELETE", resource_path("/tax_reports/{}", tax_report_id))
        return _report(unwrap(body, "tax_report"))
