"""Background work of the B2Brouter integration (Django Tasks)."""

from __future__ import annotations

import logging
from typing import Any

from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend

logger = logging.getLogger(__name__)


@task()
def refresh_link(link_id: int) -> str:
    """Read a linked invoice from B2Brouter after a notification (totals, errors, refusal reason)."""
    from .sync import refresh_link as run  # noqa: PLC0415 (tasks are imported before the app registry is ready)

    return run(link_id)


@task()
def sync_b2brouter(company_id: int | None = None, trigger: str = "command") -> list[dict[str, Any]]:
    """Update the links of every enabled integration (or one company's) from B2Brouter's changed invoices.

    ``trigger`` (schedule, manual, command) is recorded with the pass for the health panel.
    """
    from .sync import sync_all  # noqa: PLC0415

    return [report.as_dict() for report in sync_all(company_id, trigger=trigger)]


@task()
def refresh_quota(company_id: int) -> bool:
    """Read the account's transaction count and limit again (queued after a send)."""
    from .models import B2BrouterIntegration  # noqa: PLC0415
    from .sync import refresh_quota as run  # noqa: PLC0415

    integration = B2BrouterIntegration.objects.filter(company_id=company_id).first()
    return bool(integration is not None and integration.is_ready and run(integration))


def queue_quota_refresh(company_id: int) -> None:
    """Queue :func:`refresh_quota` (inline with the immediate backend); never fail the caller."""
    try:
        refresh_quota.enqueue(company_id)
    except Exception:  # noqa: BLE001 (a queue outage must not fail the send; the sync reads it too)
        logger.exception("Could not queue the quota refresh of company %s", company_id)


def queue_refresh(link_id: int) -> bool:
    """Queue :func:`refresh_link` unless the backend would run it inline; answer whether it was queued.

    The webhook receiver calls this: with the immediate backend the read would happen inside the
    notification's request, so it is left to the sync (or a Refresh click) instead.
    """
    if isinstance(refresh_link.get_backend(), ImmediateBackend):
        return False
    try:
        refresh_link.enqueue(link_id)
    except Exception:  # noqa: BLE001 (a queue outage must not fail the notification; the sync catches up)
        logger.exception("Could not queue the refresh of B2Brouter link %s", link_id)
        return False
    return True


@task()
def settle_attempt(link_id: int) -> str:
    """Check once, in B2Brouter, a create or send whose outcome is unknown; queue the next check while it stays so.

    See docs/architecture.md, "How uncertain outcomes converge".
    """
    from .actions import settle_in_background  # noqa: PLC0415

    return settle_in_background(link_id)


@task()
def poll_tax_record(record_id: int) -> str:
    """Read a Verifactu/TicketBAI record still processing (or just notified); the next read is planned with back-off."""
    from .tax_records import poll  # noqa: PLC0415

    return poll(record_id)


@task()
def bulk_run(run_id: int) -> dict[str, Any]:
    """Work a bulk push or refresh (see bulk.py); the run page shows its progress."""
    from .bulk import progress, run_bulk  # noqa: PLC0415

    run = run_bulk(run_id)
    return {"status": run.status, "counts": progress(run)["counts"]}
