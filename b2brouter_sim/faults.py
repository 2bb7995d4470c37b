"""Per-account fault injection, deterministic with a seed (docs/simulator.md, "Faults").

Each faulted request draws from random.Random(seed + n), n counting the account's requests
since the faults were last set, so a seed replays the same sequence of failures.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from .exceptions import InjectedServerError, RateLimited, ValidationFailed
from .validation import out_of_range
from .models import SimAccount

NO_ANSWER_MODES = ("withhold", "drop")
#: The operations the "apply later" fault can hold back.
DEFERRABLE = ("create", "send")
DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "latency_ms": 0,
    "error_rate": "0",
    "rate_limit": None,
    "no_answer_rate": "0",
    "no_answer_mode": "withhold",
    "no_answer_delay": 30,
    "apply_later_rate": "0",
    "apply_later_delay": 60,
    "apply_later_operations": list(DEFERRABLE),
    # The simulated tax authority (AEAT) rejects this share of new Verifactu/TicketBAI records
    # (state error, with this code and message) and registers this share with a warning.
    "aeat_reject_rate": "0",
    "aeat_reject_code": "1100",
    "aeat_reject_message": "Valor o tipo incorrecto del campo: NIF (simulated AEAT rejection)",
    "aeat_warning_rate": "0",
    "aeat_warning_code": "2000",
    "aeat_warning_message": "Registered with errors: the record was accepted with a warning (simulated)",
}


@dataclass(frozen=True)
class Decision:
    """What the fault layer decided for one request after it passed rate limit and errors."""

    no_answer: bool = False
    mode: str = "withhold"
    delay: float = 0.0
    # "Apply later": a create or send among ``apply_later_operations`` is held back this long.
    apply_later: bool = False
    apply_later_delay: float = 0.0
    apply_later_operations: tuple[str, ...] = ()

    def defers(self, operation: str | None) -> bool:
        """Tell whether this request's operation (``create``, ``send`` or None) is to be applied later."""
        return self.apply_later and operation is not None and operation in self.apply_later_operations


def _rate(value: Any, param: str) -> str:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{param} must be a number between 0 and 1", param=param) from None
    if out_of_range(rate) or not 0 <= rate <= 1:
        raise ValidationFailed(f"{param} must be a number between 0 and 1 (at most 15 decimals)", param=param)
    return f"{rate:f}"


# Upper bounds, so that a fault cannot stall a test run or overflow a column.
LIMITS = {"seed": 2**63 - 1, "latency_ms": 60_000, "no_answer_delay": 600, "apply_later_delay": 172_800,
          "rate_limit.requests": 1_000_000,
          "rate_limit.per_seconds": 86_400}


def _non_negative_int(value: Any, param: str) -> int:
    maximum = LIMITS[param]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationFailed(f"{param} must be a non-negative integer", param=param)
    try:
        number = int(value) if isinstance(value, int) or len(value) <= 20 else -1
    except ValueError:
        raise ValidationFailed(f"{param} must be a non-negative integer", param=param) from None
    if number < 0:
        raise ValidationFailed(f"{param} must be a non-negative integer", param=param)
    if number > maximum:
        raise ValidationFailed(f"{param} must be at most {maximum}", param=param)
    return number


def parse(data: dict[str, Any]) -> dict[str, Any]:
    """Check a faults body and return the complete fault settings (unknown keys rejected)."""
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise ValidationFailed(f"Unknown fault {unknown[0]!r}; known: {', '.join(DEFAULTS)}", param=unknown[0])
    faults = dict(DEFAULTS)
    faults["seed"] = _non_negative_int(data.get("seed", 0), "seed")
    faults["latency_ms"] = _non_negative_int(data.get("latency_ms", 0), "latency_ms")
    faults["error_rate"] = _rate(data.get("error_rate", 0), "error_rate")
    faults["no_answer_rate"] = _rate(data.get("no_answer_rate", 0), "no_answer_rate")
    mode = data.get("no_answer_mode", "withhold")
    if not isinstance(mode, str) or mode not in NO_ANSWER_MODES:
        raise ValidationFailed(
            "no_answer_mode is not included in the list (withhold, drop)", code="parameter_inclusion", param="no_answer_mode"
        )
    faults["no_answer_mode"] = mode
    faults["no_answer_delay"] = _non_negative_int(data.get("no_answer_delay", 30), "no_answer_delay")
    faults["apply_later_rate"] = _rate(data.get("apply_later_rate", 0), "apply_later_rate")
    faults["apply_later_delay"] = _non_negative_int(data.get("apply_later_delay", 60), "apply_later_delay")
    operations = data.get("apply_later_operations", list(DEFERRABLE))
    if not isinstance(operations, list) or any(op not in DEFERRABLE for op in operations):
        raise ValidationFailed(
            "apply_later_operations must be a list of: create, send", code="parameter_inclusion",
            param="apply_later_operations",
        )
    faults["apply_later_operations"] = [op for op in DEFERRABLE if op in operations]
    faults["aeat_reject_rate"] = _rate(data.get("aeat_reject_rate", 0), "aeat_reject_rate")
    faults["aeat_warning_rate"] = _rate(data.get("aeat_warning_rate", 0), "aeat_warning_rate")
    for name, length in (("aeat_reject_code", 10), ("aeat_reject_message", 300), ("aeat_warning_code", 10),
                         ("aeat_warning_message", 300)):
        value = data.get(name, DEFAULTS[name])
        if not isinstance(value, str) or not value.strip() or len(value) > length or "\x00" in value:
            raise ValidationFailed(f"{name} must be a text of 1 to {length} characters", param=name)
        faults[name] = value.strip()
    limit = data.get("rate_limit")
    if limit is not None:
        if not isinstance(limit, dict):
            raise ValidationFailed("rate_limit must be {\"requests\": N, \"per_seconds\": S} or null", param="rate_limit")
        requests = _non_negative_int(limit.get("requests"), "rate_limit.requests")
        per_seconds = _non_negative_int(limit.get("per_seconds", 60), "rate_limit.per_seconds")
        if per_seconds < 1:
            raise ValidationFailed("rate_limit.per_seconds must be at least 1", param="rate_limit.per_seconds")
        faults["rate_limit"] = {"requests": requests, "per_seconds": per_seconds}
    return faults


def set_faults(account: SimAccount, data: dict[str, Any]) -> dict[str, Any]:
    """Replace the account's faults and restart its deterministic sequence."""
    account.faults = parse(data)
    account.fault_counter = 0
    account.rate_window_start = 0
    account.rate_window_count = 0
    account.save()
    return account.faults


def current(account: SimAccount) -> dict[str, Any]:
    """Return the account's fault settings with defaults filled in."""
    return dict(DEFAULTS) | (account.faults or {})


def is_active(faults: dict[str, Any]) -> bool:
    """Tell whether any fault is switched on (all-default faults cost nothing per request)."""
    return bool(
        faults["latency_ms"]
        or faults["rate_limit"]
        or Decimal(str(faults["error_rate"])) > 0
        or Decimal(str(faults["no_answer_rate"])) > 0
        or Decimal(str(faults["apply_later_rate"])) > 0
    )


def before_request(account: SimAccount) -> Decision:
    """Apply latency, rate limit and injected 500s; tell whether to withhold the answer."""
    faults = current(account)
    if not is_active(faults):
        return Decision()
    with transaction.atomic():
        locked = SimAccount.objects.select_for_update().get(pk=account.pk)
        counter = locked.fault_counter
        locked.fault_counter = counter + 1
        limit = faults.get("rate_limit")
        now = time.time()
        limited_for = 0
        if limit:
            if now - locked.rate_window_start >= limit["per_seconds"]:
                locked.rate_window_start = now
                locked.rate_window_count = 0
            if locked.rate_window_count >= limit["requests"]:
                limited_for = max(1, math.ceil(locked.rate_window_start + limit["per_seconds"] - now))
            else:
                locked.rate_window_count += 1
        locked.save(update_fields=["fault_counter", "rate_window_start", "rate_window_count"])
    if faults["latency_ms"]:
        time.sleep(faults["latency_ms"] / 1000)
    if limited_for:
        raise RateLimited(f"Rate limit exceeded: retry after {limited_for} s", retry_after=limited_for)
    rng = random.Random(faults["seed"] + counter)
    # Three draws per request in a fixed order, so one fault's rate never shifts another's sequence.
    error_draw, no_answer_draw, apply_later_draw = rng.random(), rng.random(), rng.random()
    if error_draw < float(faults["error_rate"]):
        raise InjectedServerError("Injected server error (simulator fault)")
    return Decision(
        no_answer=no_answer_draw < float(faults["no_answer_rate"]),
        mode=faults["no_answer_mode"],
        delay=float(faults["no_answer_delay"]),
        apply_later=apply_later_draw < float(faults["apply_later_rate"]),
        apply_later_delay=float(faults["apply_later_delay"]),
        apply_later_operations=tuple(faults["apply_later_operations"]),
    )
