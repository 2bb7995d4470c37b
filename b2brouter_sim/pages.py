"""Read-only HTML pages under /sim/app/: the simulator's stand-in for B2Brouter's web app."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import get_object_or_404, render

from . import documents, serializers
from .models import SimAccount, SimInvoice

REQUEST_ID_HEADER = "X-B2B-API-Request-Id"


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Give a page a request id like every other simulator response, and a plain 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
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
def page_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    raise Http404("No such simulator page")
