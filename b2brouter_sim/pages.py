"""HTML pages under /sim/app/: the simulator's stand-in for B2Brouter's web app.

They list every simulated account, so they require a user logged in to the project that hosts
the simulator (any user: the simulator is a development tool, mounted only where it is enabled);
anyone else is sent to the host's login page (``settings.LOGIN_URL``). Each page is scoped to one
account and never shows a secret it did not just create. The API under /sim/ authenticates with
the account's key instead, and /sim/_control/ is the tests' development surface.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseNotFound
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from . import documents, serializers
from .exceptions import SimError
from .models import SimAccount, SimInvoice, SimWebhook
from .webhooks import EVENTS, create_webhook

REQUEST_ID_HEADER = "X-B2B-API-Request-Id"


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a logged-in user; give a page a request id like every other simulator response, and a plain 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated:
                response = redirect_to_login(request.get_full_path())
            else:
                response = view(request, *args, **kwargs)
        except Http404:
            response = HttpResponseNotFound("Not found in the B2Brouter simulator.", content_type="text/plain")
        response[REQUEST_ID_HEADER] = "req_" + uuid.uuid4().hex
        return response

    return wrapper


@page
def accounts(request: HttpRequest) -> HttpResponse:
    """List every simulated account."""
    return render(request, "b2brouter_sim/accounts.html", {"accounts": SimAccount.objects.all()})


@page
def account(request: HttpRequest, account_id: int) -> HttpResponse:
    """Show one account with its contacts and invoices."""
    obj = get_object_or_404(SimAccount, pk=account_id)
    return render(
        request,
        "b2brouter_sim/account.html",
        {
            "account": obj,
            "contacts": obj.contacts.all(),
            "invoices": obj.invoices.select_related("contact").order_by("-id"),
            "tax_report_settings": obj.tax_report_settings.all(),
            "tax_reports": obj.tax_reports.order_by("-id")[:100],
        },
    )


@page
def invoice(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Show one invoice: state, parties, lines, taxes, totals and errors."""
    obj = get_object_or_404(SimInvoice.objects.select_related("account", "contact"), pk=invoice_id)
    return render(
        request,
        "b2brouter_sim/invoice.html",
        {"invoice": obj, "data": serializers.invoice(obj), "events": obj.events.all()},
    )


@page
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Serve the invoice's PDF to the web app's visitors (no API key, like a logged-in user)."""
    obj = get_object_or_404(SimInvoice.objects.select_related("account", "contact"), pk=invoice_id)
    content, content_type, filename = documents.render(obj, documents.PDF)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@page
def webhooks(request: HttpRequest, account_id: int) -> HttpResponse:
    """Developers -> Webhooks: add an endpoint, see its secret once, list endpoints and deliveries."""
    account = get_object_or_404(SimAccount, pk=account_id)
    form = {"url": "", "description": "", "events": [EVENTS[0][0]]}
    error = None
    if request.method == "POST":
        form = {
            "url": request.POST.get("url", "").strip(),
            "description": request.POST.get("description", "").strip(),
            "events": request.POST.getlist("events"),
        }
        known = {code for code, _ in EVENTS} | {"*"}
        try:
            if not form["events"] or not set(form["events"]) <= known:
                raise SimError("Choose at least one event")
            with transaction.atomic():
                hook = create_webhook(account, form, secret_shown=False)
        except SimError as exc:
            error = exc.message
        else:
            # Post/redirect/get: the next page shows the secret, once.
            return redirect(f"{reverse('b2brouter_sim:app-webhooks', args=[account.pk])}?created={hook.pk}", permanent=False)
    elif request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    created = None
    wanted = request.GET.get("created", "")
    if wanted.isascii() and wanted.isdigit() and len(wanted) <= 18:
        with transaction.atomic():
            created = (
                SimWebhook.objects.select_for_update()
                .filter(account=account, pk=int(wanted), secret_shown=False)
                .first()
            )
            if created is not None:
                created.secret_shown = True
                created.save(update_fields=["secret_shown"])
    hooks = account.webhooks.prefetch_related("deliveries__event").order_by("id")
    endpoints = [
        {"hook": hook, "deliveries": [serializers.delivery(d) for d in list(hook.deliveries.all())[-20:]]}
        for hook in hooks
    ]
    return render(
        request,
        "b2brouter_sim/webhooks.html",
        {"account": account, "created": created, "endpoints": endpoints, "events": EVENTS, "form": form, "error": error},
        status=422 if error else 200,
    )


@page
def webhook_delete(request: HttpRequest, account_id: int, hook_id: int) -> HttpResponse:
    """Delete one of the account's endpoints (POST from the Webhooks page)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    hook = get_object_or_404(SimWebhook, account_id=account_id, pk=hook_id)
    hook.delete()
    return redirect("b2brouter_sim:app-webhooks", account_id)


@page
def page_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    raise Http404("No such simulator page")
