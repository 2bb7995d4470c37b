"""Invoice pages: list, detail, create and edit, all inside the current company."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from b2binvoice.clients.models import Client
from b2binvoice.core.tenancy import company_required

from . import history
from .actions import delete_draft, save_header, save_invoice
from .calculations import DISCOUNT, InvoiceTotals, calculate_invoice
from .credit_notes import create_credit_note, credit_refusal, credit_summary, creditable_lines
from .forms import (
    CreditNoteForm,
    InvoiceForm,
    adjustment_formset,
    check_absolute_adjustments,
    header_form,
    line_formset,
)
from .lock import Lock, deletion_refusal, invoice_lock, posted_fields
from .models import ChangeAction, Invoice, InvoiceStatus

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
    return render(request, "invoices/invoice_detail.html", _detail_context(invoice))


def _detail_context(invoice: Invoice) -> dict[str, Any]:
    totals = calculate_invoice(invoice)
    return {
        "invoice": invoice,
        "totals": totals,
        "lines": list(zip(invoice.lines.all(), totals.line_amounts, strict=True)),
        "adjustments": _adjustment_rows(invoice, totals),
        "taxes": list(zip(invoice.taxes.all(), totals.taxes, strict=True)),
        "lock": invoice_lock(invoice),
        "history": history.history_rows(invoice),
        "credits": None if invoice.is_credit_note else credit_summary(invoice),
        "credit_refusal": credit_refusal(invoice),
        "deletion_refusal": deletion_refusal(invoice),
    }


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
    if invoice is not None:
        lock = invoice_lock(invoice)
        if not lock.full_edit:
            return _edit_header(request, invoice, lock)
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
                saved = save_invoice(company=company, form=form, lines=lines, adjustments=adjustments,
                                     user=request.user)
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


def _edit_header(request: HttpRequest, invoice: Invoice, lock: Lock) -> HttpResponse:
    """Edit what a locked invoice (or a draft credit note) still allows; refuse a POST carrying anything else."""
    company = request.company  # type: ignore[attr-defined]
    form_class = header_form(lock.editable)
    status = 200
    refused: list[str] = []
    if request.method == "POST":
        refused = sorted(posted_fields(request.POST) - set(lock.editable))
        if refused:
            # A direct POST (or a page opened before the invoice was locked): nothing is saved.
            history.record(invoice, ChangeAction.EDIT_REFUSED, user=request.user,
                           changes={"attempted": refused, "reason": lock.reason})
            form = form_class(instance=invoice, company=company, statuses=lock.statuses)
            status = 403
        else:
            form = form_class(request.POST, instance=invoice, company=company, statuses=lock.statuses)
            if form.is_valid():
                saved = save_header(form=form, user=request.user)
                messages.success(request, _("%(number)s saved.") % {"number": saved.number})
                return HttpResponseRedirect(reverse("invoices:detail", args=[saved.pk]))
    else:
        form = form_class(instance=invoice, company=company, statuses=lock.statuses)
    context = _detail_context(Invoice.objects.select_related("company", "client", "payment_method")
                              .prefetch_related("lines", "taxes", "adjustments").get(pk=invoice.pk))
    context.update({"form": form, "refused": refused})
    return render(request, "invoices/invoice_locked_form.html", context, status=status)


@company_required
def invoice_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a draft after confirmation; an issued (or linked) invoice is never deleted (403)."""
    invoice = get_object_or_404(Invoice.objects.select_related("client"), company=request.company, pk=pk)
    refusal = deletion_refusal(invoice)
    if refusal:
        if request.method == "POST":
            history.record(invoice, ChangeAction.DELETE_REFUSED, user=request.user, changes={"reason": refusal})
        return render(request, "invoices/invoice_delete.html", {"invoice": invoice, "refusal": refusal}, status=403)
    if request.method == "POST":
        number = invoice.number
        delete_draft(invoice, user=request.user)
        messages.success(request, _("Draft %(number)s deleted.") % {"number": number})
        return HttpResponseRedirect(reverse("invoices:list"))
    return render(request, "invoices/invoice_delete.html", {"invoice": invoice, "refusal": None})


@company_required
def credit_note_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Create a credit note of an issued invoice: full or partial, with its reason."""
    original = get_object_or_404(
        Invoice.objects.select_related("client", "company").prefetch_related("lines", "taxes", "adjustments"),
        company=request.company, pk=pk)
    refusal = credit_refusal(original)
    if refusal:
        return render(request, "invoices/credit_note_form.html", {"original": original, "refusal": refusal},
                      status=403)
    rows = creditable_lines(original)
    data = request.POST if request.method == "POST" else None
    form = CreditNoteForm(data, original=original, rows=rows, initial={"issue_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            note = create_credit_note(
                original=original, user=request.user, reason_code=form.cleaned_data["corrective_reason"],
                reason=form.cleaned_data["correction_reason"], issue_date=form.cleaned_data["issue_date"],
                quantities=form.quantities())
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, ValidationError(message, code=exc.code or "invalid"))
        else:
            messages.success(request, _("Credit note %(number)s created as a draft: check it, then issue it (or "
                                        "create it in B2Brouter).") % {"number": note.number})
            return HttpResponseRedirect(reverse("invoices:detail", args=[note.pk]))
    return render(request, "invoices/credit_note_form.html", {
        "original": original, "form": form, "rows": form.line_fields(), "summary": credit_summary(original),
        "refusal": None})
