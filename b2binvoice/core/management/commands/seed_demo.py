"""Create the demo data (idempotent): ``b2binvoice seed_demo``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from b2binvoice.core.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo company Lingua Demo S.L. (user demo/demo) and a second company (user other/other)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = seed_demo()
        if not report.created:
            self.stdout.write("Demo data already present; nothing to create.")
            return
        self.stdout.write(f"Created {len(report.created)} demo records:")
        for item in report.created:
            self.stdout.write(f"  {item}")

