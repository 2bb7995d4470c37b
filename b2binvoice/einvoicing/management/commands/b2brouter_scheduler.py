"""Run the embedded scheduler as a process of its own: ``b2binvoice b2brouter_scheduler [--once]``."""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from b2binvoice.einvoicing import scheduler


class Command(BaseCommand):
    help = ("Queue the B2Brouter sync every B2BROUTER_SYNC_INTERVAL seconds and re-queue tasks a stopped worker "
            "left running. Task workers (db_worker, rqworker) already do this themselves; run it only when "
            "B2BROUTER_SCHEDULER_IN_WORKER is off. --once does what is due once and exits.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="do what is due once, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            done = scheduler.tick()
            self.stdout.write(f"sync queued: {'yes' if done['sync_queued'] else 'no'}; "
                              f"tasks re-queued: {done['requeued']}; tasks failed: {done['failed']}")
            return
        try:
            scheduler.run(threading.Event())
        except KeyboardInterrupt:
            pass
