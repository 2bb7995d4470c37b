import sys
from typing import Any

from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_tables(using: str = "default", **kwargs: Any) -> None:
    """Create the database cache's table after `migrate` (the receiver's rate limit counts there); idempotent."""
    call_command("createcachetable", database=using, verbosity=0)


class EinvoicingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "b2binvoice.einvoicing"
    label = "einvoicing"

    def ready(self) -> None:
        from . import contact_cache, scheduler  # noqa: PLC0415

        contact_cache.connect()
        # Our PDF prints the Verifactu/TicketBAI QR code and legend of an invoice that has a record.
        from b2binvoice.invoices.pdf import register_header_block  # noqa: PLC0415

        from .tax_pdf import tax_record_block  # noqa: PLC0415

        register_header_block(tax_record_block)
        # A task worker (db_worker, rqworker) also queues the periodic sync: no cron needed.
        scheduler.start_in_worker(sys.argv)
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="b2binvoice.einvoicing.cache_tables")
