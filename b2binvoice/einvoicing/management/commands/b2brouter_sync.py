"""Update linked invoices from the invoices B2Brouter changed since the last sync: ``b2binvoice b2brouter_sync``."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table
from rich.text import Text

from b2binvoice.companies.models import Company
from b2binvoice.einvoicing.sync import SyncReport, sync_all


def _amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    # Stored with six decimals; show at least two and no trailing noise.
    text = f"{value.normalize():f}"
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


class Command(BaseCommand):
    help = ("Update the state, figures, errors and refusal reason of linked invoices from the invoices B2Brouter "
            "changed since the last sync (every enabled integration, or --company), and check every create or send "
            "whose outcome B2Brouter has not confirmed. The fallback for when webhooks cannot reach the app; run it "
            "from cron.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", type=int, metavar="ID", help="sync only this company (by id)")

    def handle(self, *args: Any, **options: Any) -> None:
        company_id = options.get("company")
        if company_id is not None and not Company.objects.filter(pk=company_id).exists():
            raise CommandError(f"No company has id {company_id}.")
        reports = sync_all(company_id)
        buffer = io.StringIO()
        console = Console(file=buffer, width=120, highlight=False, color_system=None, soft_wrap=False)
        if not reports:
            console.print("No B2Brouter integration to sync." if company_id is None
                          else f"Company {company_id} has no B2Brouter integration.")
        for report in reports:
            self._print(console, report)
        self.stdout.write(buffer.getvalue(), ending="")
        failed = [report for report in reports if report.error is not None]
        if failed:
            raise CommandError(f"{len(failed)} of {len(reports)} integration(s) could not be synced.")

    def _print(self, console: Console, report: SyncReport) -> None:
        since = report.since.isoformat(timespec="seconds") if report.since else "the beginning"
        if report.error is not None:
            error = report.error
            console.print(f"{report.company}: sync failed. {error.text}", markup=False)
            if error.remote_message:
                console.print(f"  B2Brouter said: {error.remote_message}", markup=False)
            if error.request_id:
                console.print(f"  Request id: {error.request_id}", markup=False)
            return
        console.print(f"{report.company}: {report.listed} invoice(s) changed in B2Brouter since {since}, "
                      f"{len(report.changed)} linked invoice(s) updated.", markup=False)
        if report.attempts:
            self._print_attempts(console, report)
        if not report.changed:
            return
        table = Table(title=Text(f"Refreshed links of {report.company}"), title_justify="left")
        for column in ("Invoice", "B2Brouter id", "State", "Total", "Changes"):
            table.add_column(column, justify="right" if column in ("B2Brouter id", "Total") else "left")
        for row in report.changed:
            state = row.new_state if row.old_state == row.new_state else f"{row.old_state or '-'} → {row.new_state}"
            # Text cells: B2Brouter's words and invoice numbers are never read as console markup.
            table.add_row(Text(row.invoice_number), Text(str(row.b2brouter_id)), Text(state),
                          Text(_amount(row.total)), Text(row.changes))
        console.print(table)

    def _print_attempts(self, console: Console, report: SyncReport) -> None:
        settled = [a for a in report.attempts if a.outcome != "checking"]
        console.print(f"{report.company}: {len(report.attempts)} unconfirmed attempt(s) checked, {len(settled)} "
                      f"settled.", markup=False)
        table = Table(title=Text(f"Unconfirmed attempts of {report.company}"), title_justify="left")
        for column in ("Invoice", "Attempt", "Outcome"):
            table.add_column(column)
        for row in report.attempts:
            table.add_row(Text(row.invoice_number), Text(row.kind), Text(row.outcome))
        console.print(table)
