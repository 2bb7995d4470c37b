"""Login throttling on top of django-axes.

Failed logins are counted per account and address (``username`` + ``ip_address``) and per
address alone, each within the cool-off window (``LOGIN_COOLOFF_MINUTES``):

- ``LOGIN_FAILURE_LIMIT`` failures for one account from one address lock that account *from
  that address* (the owner can still log in from elsewhere);
- ``LOGIN_IP_FAILURE_LIMIT`` failures from one address, whatever the account, lock the address.

A lockout ends by itself when the cool-off has passed since the failure that caused it (further
attempts during a lockout are refused without being counted, so they do not extend it). The
login page says so, with the time to retry. ``b2binvoice axes_reset_username <user>`` and
``b2binvoice axes_reset_ip <address>`` lift a lockout at once (see docs/security.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuse a login while its account+address or its address is locked out.

    django-axes needs the request to know the address. ``authenticate()`` without a request is only
    reachable from code running inside the process (the test client's ``login()``, scripts), never
    from a visitor, so such calls are not throttled rather than refused.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginThrottleHandler(AxesDatabaseHandler):
    """django-axes' database handler with one limit per account+address and a higher one per address.

    ``AXES_LOCKOUT_PARAMETERS`` is ``[["username", "ip_address"], "ip_address"]``, so
    ``get_user_attempts`` returns the attempts of this account from this address first, then all
    attempts from this address. axes locks when ``get_failures() >= AXES_FAILURE_LIMIT`` (the
    per-account limit); an address over its own limit reports that limit.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        account_attempts, address_attempts = self.get_user_attempts(request, credentials)
        account_failures = _failures(account_attempts)
        if _failures(address_attempts) >= settings.LOGIN_IP_FAILURE_LIMIT:
            return max(account_failures, settings.AXES_FAILURE_LIMIT)
        return account_failures

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """After a successful login forget that account's failures from this address only.

        axes would also forget every other account's failures from the address, which would let one
        valid login reset the per-address limit of a password sprayer.
        """
        account_attempts = self.filter_user_attempts(request, credentials)[0]
        count, _ = account_attempts.delete()
        return count


def _failures(attempts: QuerySet[AccessAttempt]) -> int:
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


def client_ip(request: HttpRequest) -> str | None:
    """The address failed logins are counted for.

    The connection's address, unless ``TRUSTED_PROXY_COUNT`` reverse proxies that append to
    ``X-Forwarded-For`` stand in front of the app: then the address the outermost of them saw.
    Without that setting the header is ignored, as anyone can send it.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count][:45]
    address = request.META.get("REMOTE_ADDR")
    return address[:45] if address else None


def _locked_until(attempts: QuerySet[AccessAttempt], limit: int, cool_off: dt.timedelta) -> dt.datetime | None:
    """When the failures of ``attempts`` drop below ``limit`` as the oldest ones expire, or None if not locked."""
    rows = list(attempts.order_by("attempt_time").values_list("attempt_time", "failures_since_start"))
    total = sum(failures for _, failures in rows)
    if total < limit:
        return None
    for attempt_time, failures in rows:
        total -= failures
        if total < limit:
            return attempt_time + cool_off
    return None  # pragma: no cover - the loop always ends below the limit


def lockout_status(request: HttpRequest, credentials: dict[str, Any] | None) -> tuple[str, dt.datetime | None]:
    """Which limit locks this login (``"account"`` or ``"address"``) and until when."""
    cool_off = get_cool_off(request) or dt.timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES)
    handler = LoginThrottleHandler()
    account_attempts, address_attempts = handler.get_user_attempts(request, credentials)
    address_until = _locked_until(address_attempts, settings.LOGIN_IP_FAILURE_LIMIT, cool_off)
    account_until = _locked_until(account_attempts, settings.AXES_FAILURE_LIMIT, cool_off)
    if address_until and (not account_until or address_until >= account_until):
        return "address", address_until
    return "account", account_until


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """The login page again, answered 429, saying why the login was refused and when to retry."""
    kind, until = lockout_status(request, credentials)
    now = timezone.now()
    minutes = max(1, -(-int(((until or now) - now).total_seconds()) // 60))
    retry_at = timezone.localtime(until) if until else None
    if kind == "address":
        reason = _("Too many failed logins from your network address.")
    else:
        reason = _("Too many failed logins for this account from your network address.")
    if retry_at:
        wait = ngettext(
            "Logins are refused for %(minutes)d more minute: try again after %(time)s.",
            "Logins are refused for %(minutes)d more minutes: try again after %(time)s.",
            minutes,
        ) % {"minutes": minutes, "time": retry_at.strftime("%H:%M")}
    else:
        wait = _("Try again later.")
    username = get_client_username(request, credentials) or ""
    form = AuthenticationForm(request, initial={"username": username[:150]})
    response = render(
        request,
        "registration/login.html",
        {"form": form, "lockout": {"reason": reason, "wait": wait, "retry_at": retry_at, "minutes": minutes},
         "next": request.POST.get("next", "")[:2000] if request.method == "POST" else ""},
        status=429,
    )
    if until:
        response["Retry-After"] = str(max(1, int((until - now).total_seconds())))
    return response
