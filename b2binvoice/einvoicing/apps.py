import sys

from django.apps import AppConfig


class EinvoicingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "b2binvoice.einvoicing"
    label = "einvoicing"

    def ready(self) -> None:
        from . import contact_cache, scheduler  # noqa: PLC0415

        contact_cache.connect()
        # A task worker (db_worker, rqworker) also queues the periodic sync: no cron needed.
        scheduler.start_in_worker(sys.argv)
