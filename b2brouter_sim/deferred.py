"""The "apply later" fault: creates and sends held back, then applied once due (docs/simulator.md, "Faults").

A held-back request was run once inside a transaction that was rolled back, so it was validated
and its answer computed; that answer is then lost (withheld or dropped like ``no_answer``). The
request body is kept and applied again when due: at the start of the account's next API request,
by the task :func:`b2brouter_sim.tasks.apply_deferred`, or on demand through the control surface.
Until then nothing of it exists, so a lookup by number finds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from . import backend
from . import validation as v
from .exceptions import SimError
from .models import SimAccount, SimDeferredOperation


def hold(account: SimAccount, kind: str, target: str, body: bytes, delay: float) -> SimDeferredOperation:
    """Keep a create or send to apply ``delay`` seconds from now."""
    from .tasks import apply_deferred, enqueue_later

    due = timezone.now() + dt.timedelta(seconds=delay)
    with transaction.atomic():
        operation = SimDeferredOperation.objects.create(
            account=account, kind=kind, target=str(target), body=body.decode("utf-8", "replace"), due_at=due)
        _update_next(account)
        # Applied on its own when a worker runs; otherwise by the account's next request.
        enqueue_later(apply_deferred, account.pk, delay=delay)
    return operation


def _update_next(account: SimAccount) -> None:
    nxt = SimDeferredOperation.objects.filter(account=account, status="pending").aggregate(due=Min("due_at"))["due"]
    SimAccount.objects.filter(pk=account.pk).update(next_deferred_at=nxt)
    account.next_deferred_at = nxt


def _body(operation: SimDeferredOperation) -> Any:
    if not operation.body:
        return {}
    return json.loads(operation.body, parse_float=Decimal)


def _apply(operation: SimDeferredOperation) -> dict[str, Any]:
    """Do what the request asked, as its handler does; answer what it changed."""
    account = operation.account
    if operation.kind == "create":
        target = backend.get_account(account, operation.target)
        body = _body(operation)
        data = v.wrapped(body, "invoice")
        send = v.boolean(body.get("send_after_import", False), "send_after_import")
        invoice = backend.create_invoice(target, data, send_after_import=send)
    else:
        invoice = backend.send_invoice(backend.get_invoice(account, operation.target))
    return {"invoice_id": invoice.pk, "number": invoice.number, "state": invoice.state}


def apply_due(account: SimAccount, *, everything: bool = False) -> list[SimDeferredOperation]:
    """Apply the account's held-back operations that are due (all of them with ``everything``).

    An operation B2Brouter would refuse by then (its number taken meanwhile, an invoice no longer
    sendable) is marked failed with that error; nobody hears of it, as its answer was lost anyway.
    """
    now = timezone.now()
    if not everything and (account.next_deferred_at is None or account.next_deferred_at > now):
        return []
    done = []
    with transaction.atomic():
        pending = SimDeferredOperation.objects.select_for_update().select_related("account").filter(
            account=account, status="pending")
        if not everything:
            pending = pending.filter(due_at__lte=now)
        for operation in pending.order_by("due_at", "pk"):
            try:
                with transaction.atomic():
                    operation.result = _apply(operation)
                operation.status = "applied"
            except SimError as error:
                operation.status = "failed"
                operation.result = {"status": error.status, "code": error.code, "message": str(error)}
            operation.applied_at = timezone.now()
            operation.save(update_fields=["status", "result", "applied_at"])
            done.append(operation)
        _update_next(account)
    return done


def describe(operation: SimDeferredOperation) -> dict[str, Any]:
    """Return an operation as the control surface shows it."""
    return {
        "id": operation.pk,
        "kind": operation.kind,
        "target": operation.target,
        "status": operation.status,
        "due_at": operation.due_at.isoformat(),
        "applied_at": operation.applied_at.isoformat() if operation.applied_at else None,
        "result": operation.result,
    }
