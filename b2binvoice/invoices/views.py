"""Invoice pages: list, detail, create and edit, all inside the current company."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from b2binvoice.clients.models import Client
from b2binvoice.core.tenancy import company_required

from .actions import save_invoice
from .calculations import DISCOUNT, InvoiceTotals, calculate_invoice
from .forms import InvoiceForm, adjustment_formset, check_absolute_adjustments, line_formset
from .models import Invoice, InvoiceStatus

PAGE_SIZE = 25
DEFAULT_PAYMENT_TERM = dt.timedelta(days=30)


def _with_amounts(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Load what totals and the list need in a fixed number of queries."""
    related = ["client"]
    # The B2Brouter list cell reads invoice.b2brouter_link; select it when the integration is installed.
    if any(f.name == "b2brouter_link" for f in Invoice._meta.get_fields()):
        related.append("b2brouter_link")
    return invoices.select_related(*related).prefetch_related("lines", "taxes", "adjustments")


@company_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    """List the current company's invoices with search, status filter and pagination."""
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    invoices = Invoice.objects.filter(company=request.company)
    if query:
        invoices = invoices.filter(Q(number__icontains=query) | Q(client__name__icontains=query))
    if status in InvoiceStatus.values:
        invoices = invoices.filter(status=status)
    else:
        status = ""
    page = Paginator(_with_amounts(invoices).order_by("-issue_date", "-number"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = [(invoice, calculate_invoice(invoice)) for invoice in page.object_list]
    return render(request, "invoices/invoice_list.html", {
        "page": page, "rows": rows, "query": query, "status": status, "statuses": InvoiceStatus.choices,
    })


def _adjustment_rows(invoice: Invoice, totals: InvoiceTotals) -> list[tuple[Any, Decimal]]:
    """Pair each adjustment with its computed amount (totals keep discounts and charges apart, in order)."""
    discounts: Iterator[Decimal] = iter(totals.discounts)
    charges: Iterator[Decimal] = iter(totals.charges)
    return [(a, next(discounts) if a.kind == DISCOUNT else next(charges)) for a in invoice.adjustments.all()]


@company_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an invoice with its parties, lines, adjustments, taxes and totals, ready to print."""
    invoice = get_object_or_404(
        _with_amounts(Invoice.objects.select_related("company", "payment_method")), company=request.company, pk=pk)
    totals = calculate_invoice(invoice)
    return render(request, "invoices/invoice_detail.html", {
        "invoice": invoice,
        "totals": totals,
        "lines": list(zip(invoice.lines.all(), totals.line_amounts, strict=True)),
        "adjustments": _adjustment_rows(invoice, totals),
        "taxes": list(zip(invoice.taxes.all(), totals.taxes, strict=True)),
    })


def _new_invoice_initial(request: HttpRequest) -> dict[str, Any]:
    """Return the initial values of a new invoice, from the company and from ``?client=<id>``."""
    company = request.company  # type: ignore[attr-defined]
    today = timezone.localdate()
    initial: dict[str, Any] = {
        "issue_date": today, "due_date": today + DEFAULT_PAYMENT_TERM, "currency": company.default_currency,
        "status": InvoiceStatus.DRAFT,
    }
    client_id = request.GET.get("client", "")
    client = Client.objects.filter(company=company, pk=client_id).first() if client_id.isdigit() else None
    if client is not None:
        initial["client"] = client.pk
        initial["taxes"] = [tax.pk for tax in client.default_taxes.filter(is_active=True)]
        if client.default_payment_method_id:
            initial["payment_method"] = client.default_payment_method_id
    return initial


def _edit(request: HttpRequest, invoice: Invoice | None) -> HttpResponse:
    company = request.company  # type: ignore[attr-defined]
    creating = invoice is None
    instance = invoice or Invoice(company=company)
    data = request.POST if request.method == "POST" else None
    form = InvoiceForm(data, instance=instance, company=company,
                       initial=_new_invoice_initial(request) if creating else None)
    lines = line_formset(extra=3 if creating else 1)(data, instance=instance, prefix="lines")
    adjustments = adjustment_formset(extra=1)(data, instance=instance, prefix="adjustments")
    if request.method == "POST":
        valid = form.is_valid() & lines.is_valid() & adjustments.is_valid()  # validate all to show every error
        currency = form.cleaned_data.get("currency") if hasattr(form, "cleaned_data") else None
        if currency:
            valid &= check_absolute_adjustments(adjustments, currency)
        if valid:
            try:
                saved = save_invoice(company=company, form=form, lines=lines, adjustments=adjustments)
            except IntegrityError:
                # Another invoice took the number between validation and saving.
                form.add_error("number", _("Invoice number %(number)s was just used by another invoice; "
                                           "choose another number.") % {"number": form.cleaned_data.get("number")})
            else:
                messages.success(request, _("Invoice %(number)s saved.") % {"number": saved.number})
                return HttpResponseRedirect(reverse("invoices:detail", args=[saved.pk]))
    template = "invoices/invoice_form.html"
    if creating and request.htmx and request.htmx.target == "client-defaults":
        template = "invoices/_client_defaults.html"  # the client changed: refresh its defaults only
    return render(request, template, {
        "form": form, "lines": lines, "adjustments": adjustments, "invoice": invoice, "creating": creating,
    })


@company_required
def invoice_create(request: HttpRequest) -> HttpResponse:
    """Create an invoice; ``?client=<id>`` pre-fills that client's default taxes and payment method."""
    return _edit(request, None)


@company_required
def invoice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit one of the current company's invoices."""
    return _edit(request, get_object_or_404(Invoice, company=request.company, pk=pk))
