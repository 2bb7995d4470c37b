"""Verify B2Brouter's arithmetic on a company's account with unsent probe invoices: ``b2binvoice b2brouter_probe``."""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.table import Table
from rich.text import Text

from b2binvoice.core.texts import load
from b2binvoice.einvoicing import probe
from b2binvoice.einvoicing.models import B2BrouterIntegration, ProbeOutcome, ProbeRun


def _integration(company: str | None) -> B2BrouterIntegration:
    """Return the integration of ``--company`` (id or name), or the only verified one."""
    verified = (B2BrouterIntegration.objects.select_related("company")
                .exclude(api_key="").exclude(account_id="").filter(verified_at__isnull=False))
    if company is not None:
        found = (B2BrouterIntegration.objects.select_related("company").filter(company_id=int(company))
                 if company.isdigit() else
                 B2BrouterIntegration.objects.select_related("company").filter(company__name__iexact=company))
        integration = found.first()
        if integration is None:
            raise CommandError(f"No company with id or name {company!r} has a B2Brouter integration.")
        if not integration.has_credentials:
            raise CommandError(f"{integration.company}: save a working API key and account ID first "
                               "(Settings -> Integrations -> B2Brouter).")
        return integration
    candidates = list(verified[:50])
    if not candidates:
        raise CommandError("No company has a verified B2Brouter integration: connect one in Settings -> "
                           "Integrations -> B2Brouter first.")
    if len(candidates) > 1:
        names = ", ".join(f"{i.company_id} ({i.company})" for i in candidates)
        raise CommandError(f"Several companies have a B2Brouter integration: choose one with --company ID. {names}")
    return candidates[0]


class Command(BaseCommand):
    help = ("Create a handful of unsent probe invoices in the company's B2Brouter account, compare B2Brouter's "
            "subtotal, taxes and total with b2binvoice's own arithmetic, and delete them. Exits non-zero when a "
            "figure differs or something failed. A production key (not test_...) needs --yes-create-drafts.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", metavar="ID_OR_NAME",
                            help="the company to probe (by id or exact name); optional when only one has B2Brouter")
        parser.add_argument("--yes-create-drafts", action="store_true", dest="confirmed",
                            help="confirm that the probe creates and deletes draft invoices in a production account")

    def handle(self, *args: Any, **options: Any) -> None:
        integration = _integration(options.get("company"))
        try:
            run = probe.run_probe(integration, confirmed=bool(options.get("confirmed")))
        except probe.ConfirmationRequired as exc:
            raise CommandError(f"{integration.company} uses a production API key. {exc.text} Run again with "
                               "--yes-create-drafts to confirm.") from None
        except probe.ProbeRefused as exc:
            raise CommandError(exc.text) from None
        buffer = io.StringIO()
        console = Console(file=buffer, width=140, highlight=False, color_system=None, soft_wrap=False)
        self._print(console, integration, run)
        self.stdout.write(buffer.getvalue(), ending="")
        if run.outcome != ProbeOutcome.VERIFIED:
            raise CommandError("The B2Brouter totals differ from b2binvoice's." if run.outcome == ProbeOutcome.MISMATCH
                               else "The probe did not complete cleanly.")

    def _print(self, console: Console, integration: B2BrouterIntegration, run: ProbeRun) -> None:
        when = timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M:%S")
        console.print(f"{integration.company}: B2Brouter account {integration.account_name or integration.account_id} "
                      f"(ID {integration.account_id}, {integration.get_environment_display()}), probed at {when}.",
                      markup=False)
        if run.account_settings:
            settings = ", ".join(f"{name} = {probe.setting_value(value)}"
                                 for name, value in run.account_settings.items())
            console.print(f"The account reports {settings}.", markup=False)
        if run.cases:
            table = Table(title=Text(f"Probe invoices ({run.currency or '-'})"), title_justify="left")
            for column in ("#", "Number", "B2Brouter id", "Checks", "Figure", "b2binvoice", "B2Brouter", ""):
                table.add_column(column, justify="right" if column in ("#", "B2Brouter id", "b2binvoice", "B2Brouter")
                                 else "left", no_wrap=column != "Checks")
            for case in run.cases:
                rows = case.get("rows") or [{"label": "not created", "ours": None, "theirs": None, "equal": False}]
                for index, row in enumerate(rows):
                    first = index == 0
                    mark = "match" if row.get("equal") else ("MISMATCH" if case.get("rows") else "error")
                    # Text cells: B2Brouter's numbers and words are never read as console markup.
                    table.add_row(Text(str(case["position"]) if first else ""),
                                  Text(str(case.get("number") or "") if first else ""),
                                  Text(str(case.get("b2brouter_id") or "-") if first else ""),
                                  Text(probe.case_title(str(case.get("key"))) if first else ""),
                                  Text(str(load(row.get("label")) or "")), Text(str(row.get("ours") or "-")),
                                  Text(str(row.get("theirs") or "-")), Text(mark),
                                  end_section=index == len(rows) - 1)
            console.print(table)
        # One finding per line, never wrapped: a line names the invoice, the figure and both amounts.
        for line in probe.summary_lines(run)[1]:
            console.print(line, markup=False, soft_wrap=True)
        if run.remote_message:
            console.print(f"B2Brouter said: {run.remote_message}", markup=False, soft_wrap=True)
        if run.request_id:
            console.print(f"Request id: {run.request_id}", markup=False, soft_wrap=True)
        deleted = len(run.created) - len([u for u in run.undeleted if u.get("kind") == "invoice" and u.get("id")])
        console.print(f"Probe invoices created: {len(run.created)}, deleted: {deleted}.", markup=False)
