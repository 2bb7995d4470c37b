"""Push invoices to B2Brouter in bulk: ``b2binvoice b2brouter_push [--company ID] [--ready | NUMBER ...] [--dry-run]``."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from b2binvoice.companies.models import Company
from b2binvoice.einvoicing import actions, bulk
from b2binvoice.einvoicing.models import BulkAction, BulkOutcome, BulkRunItem


class Command(BaseCommand):
    help = ("Create and send invoices in B2Brouter, several at a time, with one shared pause when B2Brouter asks to "
            "slow down (429). --ready takes every unlinked invoice that is ready; or name the invoices by number. "
            "Invoices already linked are skipped, so running it again is safe. Exits non-zero when any failed.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("numbers", nargs="*", metavar="NUMBER", help="invoice numbers to push")
        parser.add_argument("--company", type=int, metavar="ID",
                            help="the company (by id); required when there is more than one")
        parser.add_argument("--ready", action="store_true", help="push every unlinked invoice that is ready")
        parser.add_argument("--refresh", action="store_true", help="refresh linked invoices instead of pushing")
        parser.add_argument("--dry-run", action="store_true", help="list what would be pushed; change nothing")
        parser.add_argument("--concurrency", type=int, metavar="N",
                            help=f"invoices in flight at once (default B2BROUTER_BULK_CONCURRENCY, "
                                 f"{bulk.DEFAULT_CONCURRENCY}; 1 on an in-memory SQLite database)")

    def _company(self, company_id: int | None) -> Company:
        if company_id is not None:
            company = Company.objects.filter(pk=company_id).first()
            if company is None:
                raise CommandError(f"No company has id {company_id}.")
            return company
        companies = list(Company.objects.all()[:2])
        if len(companies) != 1:
            raise CommandError("Choose the company with --company ID." if companies else "There is no company.")
        return companies[0]

    def handle(self, *args: Any, **options: Any) -> None:
        numbers: list[str] = options["numbers"]
        if bool(numbers) == bool(options["ready"]):
            raise CommandError("Give either --ready or invoice numbers.")
        company = self._company(options.get("company"))
        action = BulkAction.REFRESH if options["refresh"] else BulkAction.SEND
        if action == BulkAction.SEND and actions.get_integration(company) is None:
            raise CommandError(f"{company.name} has no B2Brouter integration: configure it in Settings first.")
        chosen = bulk.filtered_invoices(company).select_related("client", "company", "payment_method")
        if numbers:
            found = {invoice.number: invoice for invoice in chosen.filter(number__in=numbers)}
            missing = [number for number in numbers if number not in found]
            if missing:
                raise CommandError(f"No invoice of {company.name} has the number(s): {', '.join(missing)}.")
            invoices = [found[number] for number in dict.fromkeys(numbers)]
        elif action == BulkAction.REFRESH:
            invoices = list(bulk.linked(chosen).order_by("issue_date", "number"))
        else:
            invoices = bulk.ready_invoices(company, chosen)
        console = Console(file=self.stdout, width=120, highlight=False,
                          force_terminal=getattr(self.stdout, "isatty", lambda: False)())
        summary = bulk.summarise(invoices)
        totals = ", ".join(f"{total} {currency}" for currency, total in summary.totals) or "nothing"
        console.print(f"{company.name}: {summary.count} invoices, {len(summary.clients)} clients, {totals}.",
                      markup=False)
        if options["dry_run"]:
            for invoice in invoices:
                console.print(f"  {invoice.number}  {invoice.client.name}", markup=False)
            console.print("Dry run: nothing was sent.")
            return
        if not invoices:
            return
        run = bulk.start_run(company=company, user=None, action=action, invoices=invoices,
                             concurrency=options.get("concurrency"))
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=False, disable=not sys.stderr.isatty() and not console.is_terminal
                      ) as bar:
            task = bar.add_task(str(BulkAction(action).label), total=len(invoices))
            run = bulk.run_bulk(run.pk, on_done=lambda _item, _outcome: bar.advance(task))
        table = Table(title=f"Bulk run {run.pk}: {run.get_status_display()}")
        for column in ("Invoice", "Client", "Result", "Details"):
            table.add_column(column, overflow="fold")
        items = BulkRunItem.objects.filter(run=run).select_related("invoice", "invoice__client").order_by("position")
        for item in items:
            details = " ".join(part for part in (item.message, item.remote_message and f"B2Brouter: {item.remote_message}",
                                                 item.request_id and f"(request {item.request_id})") if part)
            table.add_row(item.invoice.number, item.invoice.client.name, item.get_outcome_display(), details)
        console.print(table)
        counts = bulk.progress(run)["counts"]
        console.print(", ".join(f"{label}: {counts[value]}" for value, label in BulkOutcome.choices if counts[value]))
        if run.rate_limited:
            console.print(f"B2Brouter asked to slow down {run.rate_limited} times; paused {run.paused_seconds:.1f} s.")
        if counts[BulkOutcome.FAILED] or run.error:
            raise CommandError(f"{counts[BulkOutcome.FAILED]} of {run.total} invoices failed.")
