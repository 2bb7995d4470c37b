"""Client pages: list, detail, create and edit, all inside the current company."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from b2binvoice.core.tenancy import company_required

from .forms import ClientForm
from .models import Client


@company_required
def client_list(request: HttpRequest) -> HttpResponse:
    """List the current company's clients, searchable by name, TIN or city."""
    query = request.GET.get("q", "").strip()
    clients = Client.objects.filter(company=request.company).annotate(invoice_count=Count("invoices"))
    if query:
        clients = clients.filter(Q(name__icontains=query) | Q(tin__icontains=query) | Q(city__icontains=query))
    page = Paginator(clients.order_by("name"), 25).get_page(request.GET.get("page"))
    return render(request, "clients/client_list.html", {"page": page, "query": query})


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
