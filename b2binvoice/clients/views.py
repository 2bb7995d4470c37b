"""Client pages: list, detail, create and edit, all inside the current company."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from b2binvoice.core.search import clean_query, fold
from b2binvoice.core.tenancy import company_required
from b2binvoice.invoices.models import Invoice

from .forms import ClientForm
from .models import Client

PAGE_SIZE = 25


@company_required
def client_list(request: HttpRequest) -> HttpResponse:
    """List the current company's clients, searchable by name, TIN or city (case and accents ignored).

    Invoices are counted for the clients of the page only, by the invoice table's client index,
    never for every client of the company.
    """
    query = clean_query(request.GET.get("q"))
    clients = Client.objects.filter(company=request.company)
    if query:
        clients = clients.filter(search_text__contains=fold(query))
    page = Paginator(clients.order_by("name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [client.pk for client in page.object_list]
    counts = dict(Invoice.objects.filter(client_id__in=ids).order_by().values_list("client_id")
                  .annotate(n=Count("id")).values_list("client_id", "n")) if ids else {}
    for client in page.object_list:
        client.invoice_count = counts.get(client.pk, 0)  # type: ignore[attr-defined]
    return render(request, "clients/client_list.html", {
        "page": page, "query": query, "params": urlencode({"q": query}) if query else ""})


@company_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a client, its recent invoices and its B2Brouter section."""
    client = get_object_or_404(
        Client.objects.select_related("default_payment_method").prefetch_related("default_taxes"),
        company=request.company, pk=pk)
    invoices = client.invoices.order_by("-issue_date", "-number")[:10]
    return render(request, "clients/client_detail.html", {"client": client, "invoices": invoices})


@company_required
def client_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a client, or edit one of the current company's clients."""
    client = get_object_or_404(Client, company=request.company, pk=pk) if pk is not None else None
    form = ClientForm(request.POST or None, instance=client, company=request.company)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("Client “%(name)s” saved.") % {"name": saved.name})
        return HttpResponseRedirect(reverse("clients:detail", args=[saved.pk]))
    return render(request, "clients/client_form.html", {"form": form, "client": client})
