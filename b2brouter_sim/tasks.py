"""Background work of the simulator: the recipient's state changes and webhook deliveries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .models import SimInvoice


def step_delay() -> float:
    """Return the seconds between two simulated state changes (B2BROUTER_SIM_STEP_DELAY)."""
    return float(getattr(settings, "B2BROUTER_SIM_STEP_DELAY", 2.0))


def _queue_in_database(backend: Any) -> bool:
    try:
        from django_tasks_db import DatabaseBackend
    except ImportError:  # pragma: no cover - the database backend is a project dependency
        return False
    return isinstance(backend, DatabaseBackend)


def enqueue_later(task_obj: Any, *args: Any, delay: float | None = None) -> None:
    """Enqueue a task to run after `delay` seconds when the backend can defer, else now.

    The task must see the change that queued it: a database queue row commits with that change;
    any other backend (immediate, RQ) is only handed the task once the transaction commits, or a
    worker could run it first and find nothing (a lost webhook, a stalled scenario).
    """
    seconds = step_delay() if delay is None else delay
    backend = task_obj.get_backend()
    if seconds > 0 and backend.supports_defer:
        task_obj = task_obj.using(run_after=timezone.now() + dt.timedelta(seconds=seconds))
    if _queue_in_database(backend):
        task_obj.enqueue(*args)
    else:
        transaction.on_commit(lambda: task_obj.enqueue(*args))


@task()
def advance_invoice(invoice_id: int, expected_state: str) -> str | None:
    """Apply the next scenario state if the invoice is still where the task left it."""
    from . import backend

    with transaction.atomic():
        invoice = SimInvoice.objects.select_for_update().select_related("contact", "account").filter(pk=invoice_id).first()
        # A forced advance or a mark_as may have moved the invoice on meanwhile: then do nothing.
        if invoice is None or invoice.state != expected_state or not invoice.pending_states:
            return None
        backend.advance(invoice)
        backend.schedule_next(invoice)
        return invoice.state


@task()
def advance_tax_report(tax_report_id: int, expected_state: str) -> str | None:
    """Apply the simulated tax authority's answer to a record still in ``expected_state``."""
    from .tax_reports import advance_locked

    return advance_locked(tax_report_id, expected_state)


@task()
def deliver_webhook(delivery_id: int) -> str | None:
    """Attempt one webhook delivery."""
    from .webhooks import attempt_delivery

    delivery = attempt_delivery(delivery_id)
    return delivery.status if delivery else None


@task()
def apply_deferred(account_id: int) -> int:
    """Apply the account's operations held back by the "apply later" fault that are due; answer how many."""
    from .deferred import apply_due
    from .models import SimAccount

    account = SimAccount.objects.filter(pk=account_id).first()
    return len(apply_due(account)) if account is not None else 0
