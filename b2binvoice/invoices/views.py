"""Invoice pages: list, detail, create and edit, all inside the current company."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from b2binvoice.clients.models import Client
from b2binvoice.core.localformats import format_money
from b2binvoice.core.search import clean_query, fold
from b2binvoice.core.tenancy import company_required

from . import history, owing, verifactu
from .actions import delete_draft, duplicate_invoice, save_header, save_invoice
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
from .lock import Lock, b2brouter_link, deletion_refusal, invoice_lock, posted_fields
from .models import ChangeAction, Invoice, InvoiceStatus
from . import payments
from .payments import PaymentForm
from .pdf import pdf_filename, render_invoice_pdf
from .preview import Preview, preview
from .summary import error_summary

PAGE_SIZE = 25
DEFAULT_PAYMENT_TERM = dt.timedelta(days=30)


def _with_amounts(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Load what totals and the list need in a fixed number of queries."""
    related = ["client"]
    # The B2Brouter list cell reads invoice.b2brouter_link; select it when the integration is installed.
    if _has_b2brouter_link():
        related.append("b2brouter_link")
    if _has_tax_records():
        # The state of the invoice's Verifactu/TicketBAI record, in the same query (a subquery per row).
        invoices = invoices.annotate(tax_record_state=_latest_tax_record("state"),
                                     tax_record_type=_latest_tax_record("type"))
    return invoices.select_related(*related).prefetch_related("lines", "taxes", "adjustments")


def _has_tax_records() -> bool:
    return any(f.name == "tax_records" for f in Invoice._meta.get_fields())


def _latest_tax_record(field: str) -> Any:
    """The ``field`` of the invoice's newest Verifactu/TicketBAI record (a cancellation included)."""
    records = Invoice._meta.get_field("tax_records").related_model
    return Subquery(records.objects.filter(invoice=OuterRef("pk")).order_by("-remote_id").values(field)[:1])


#: The record states the "records needing action" filter shows: rejected, or registered with errors.
TAX_RECORD_NEEDS_ACTION = ("error", "registered_with_errors")


#: Sortable columns of the invoice list: key -> the keyset (field, descending) each is paged on.
#: Every ordering ends on a unique key within the company, so it is total and an index serves it.
SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "-date": (("issue_date", True), ("id", True)),
    "date": (("issue_date", False), ("id", False)),
    "-number": (("number", True),),
    "number": (("number", False),),
}
DEFAULT_SORT = "-date"
#: The list counts matches up to this many and says "more than" beyond (no full COUNT per view).
COUNT_CAP = 1000
#: ``?page=N`` (numbered pages, as links made before keyset paging have) opens pages up to this one by
#: OFFSET, so a numbered page never reads and discards more than COUNT_CAP rows.
MAX_NUMBERED_PAGE = COUNT_CAP // PAGE_SIZE
#: The filter's totals are computed when it matches at most this many invoices (docs/architecture.md).
TOTALS_LIMIT = 200
#: B2Brouter states offered by the filter ("none": not linked).
B2BROUTER_STATES = ("none", "new", "sending", "sent", "registered", "accepted", "refused", "error", "paid",
                    "allegedly_paid", "closed", "downloaded", "annulled")


def _has_b2brouter_link() -> bool:
    return any(f.name == "b2brouter_link" for f in Invoice._meta.get_fields())


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, dt.date) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(token: str, keys: tuple[tuple[str, bool], ...]) -> list[Any] | None:
    """Return the key values of a page cursor, or None when it is not one of this ordering."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(values, list) or len(values) != len(keys):
            return None
        decoded = [_date(str(v)) if field == "issue_date" else int(v) if field == "id" else str(v)
                   for (field, _desc), v in zip(keys, values, strict=True)]
    except (ValueError, TypeError):
        return None
    return None if None in decoded else decoded


def _beyond(keys: tuple[tuple[str, bool], ...], values: list[Any], *, forward: bool) -> Q:
    """Return the condition "after (forward) or before this key" in the keyset ordering."""
    condition = Q()
    for i in range(len(keys) - 1, -1, -1):
        field, descending = keys[i]
        lookup = "lt" if descending == forward else "gt"
        strict = Q(**{f"{field}__{lookup}": values[i]})
        condition = strict if i == len(keys) - 1 else strict | (Q(**{field: values[i]}) & condition)
    if len(keys) > 1:
        # Implied by the condition, but it gives the index a range to start from instead of an OR.
        field, descending = keys[0]
        condition &= Q(**{f"{field}__{'lte' if descending == forward else 'gte'}": values[0]})
    return condition


def _order(keys: tuple[tuple[str, bool], ...], *, reverse: bool = False) -> list[str]:
    return [("-" if descending != reverse else "") + field for field, descending in keys]


#: The status filter's value for issued and paid invoices together: what the home page counts as issued.
ISSUED_OR_PAID = "issued_or_paid"


def status_filter_choices() -> list[tuple[str, Any]]:
    """The status filter's options: each status, then issued and paid together."""
    return [*InvoiceStatus.choices, (ISSUED_OR_PAID, _("Issued or paid"))]


class InvoiceFilter:
    """The invoice list's search, filters and ordering, read from the query string."""

    def __init__(self, request: HttpRequest | None = None, *, company: Any = None, params: Any = None) -> None:
        """Read the filter from the request's query string, or from ``params`` for ``company``.

        The second form serves the bulk actions, which post the list's filter back.
        """
        if request is not None:
            params = request.GET
            company = request.company  # type: ignore[attr-defined]
        self.company = company
        self.query = clean_query(params.get("q"))
        status = params.get("status", "")
        self.status = status if status in InvoiceStatus.values or status == ISSUED_OR_PAID else ""
        state = params.get("state", "")
        self.state = state if state in B2BROUTER_STATES and _has_b2brouter_link() else ""
        client = params.get("client", "")
        self.client = int(client) if client.isdigit() and len(client) < 12 else None
        self.date_from = _date(params.get("from", ""))
        self.date_to = _date(params.get("to", ""))
        self.overdue = params.get("overdue") == "1"
        self.tax_action = params.get("tax") == "action" and _has_tax_records()
        sort = params.get("sort", DEFAULT_SORT)
        self.sort = sort if sort in SORTS else DEFAULT_SORT

    @property
    def active(self) -> bool:
        return bool(self.query or self.status or self.state or self.client or self.date_from or self.date_to
                    or self.overdue or self.tax_action)

    def queryset(self) -> QuerySet[Invoice]:
        invoices = Invoice.objects.filter(company=self.company)
        if self.query:
            invoices = invoices.filter(search_text__contains=fold(self.query))
        if self.status == ISSUED_OR_PAID:
            invoices = invoices.filter(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID])
        elif self.status:
            invoices = invoices.filter(status=self.status)
        if self.state == "none":
            invoices = invoices.filter(b2brouter_link__isnull=True)
        elif self.state:
            invoices = invoices.filter(b2brouter_link__state=self.state, b2brouter_link__status="linked")
        if self.client is not None:
            invoices = invoices.filter(client_id=self.client)
        if self.date_from:
            invoices = invoices.filter(issue_date__gte=self.date_from)
        if self.date_to:
            invoices = invoices.filter(issue_date__lte=self.date_to)
        if self.overdue:
            # The home page's rule: issued, past due, and not covered by its credit notes and payments.
            invoices = owing.overdue(invoices, timezone.localdate())
        if self.tax_action:
            invoices = invoices.alias(tax_action_state=_latest_tax_record("state")).filter(
                tax_action_state__in=TAX_RECORD_NEEDS_ACTION)
        return invoices

    def params(self, **changes: Any) -> str:
        """Return the query string of this filter with ``changes`` (None drops a key)."""
        values: dict[str, Any] = {
            "q": self.query, "status": self.status, "state": self.state, "client": self.client,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "", "overdue": "1" if self.overdue else "",
            "tax": "action" if self.tax_action else "",
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
        } | changes
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


@dataclass
class KeysetPage:
    """One page of a keyset-paged list, with the links to its neighbours."""

    rows: list[Any]
    previous_url: str | None
    next_url: str | None
    first_url: str | None
    last_url: str | None

    def __iter__(self) -> Iterator[Invoice]:
        return (invoice for invoice, _totals in self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _page_number(request: HttpRequest) -> int | None:
    """Return N of ``?page=N`` when it is a page number (1 or more), else None."""
    raw = request.GET.get("page", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else None


def _keyset_page(invoices: QuerySet[Invoice], filters: InvoiceFilter, request: HttpRequest) -> tuple[
        list[Invoice], KeysetPage]:
    """Fetch one page by key ("after", "before" or "last"): no OFFSET, so any page costs the same.

    A numbered page (``?page=N``, N up to MAX_NUMBERED_PAGE) is read by OFFSET, bounded by COUNT_CAP
    rows; its Previous and Next links are keyset links like any other page's.
    """
    keys = SORTS[filters.sort]
    after = _decode_cursor(request.GET.get("after", ""), keys)
    before = None if after else _decode_cursor(request.GET.get("before", ""), keys)
    last = after is None and before is None and request.GET.get("page") == "last"
    number = _page_number(request) if after is None and before is None else None
    offset = (number - 1) * PAGE_SIZE if number is not None and number <= MAX_NUMBERED_PAGE else 0
    backwards = before is not None or last
    if after is not None:
        invoices = invoices.filter(_beyond(keys, after, forward=True))
    elif before is not None:
        invoices = invoices.filter(_beyond(keys, before, forward=False))
    found = list(invoices.order_by(*_order(keys, reverse=backwards))[offset:offset + PAGE_SIZE + 1])
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    if backwards:
        found.reverse()
    has_previous = more if backwards else (after is not None or offset > 0)
    has_next = (before is not None) if backwards else more

    def key(invoice: Invoice) -> str:
        return _encode_cursor([getattr(invoice, field) for field, _desc in keys])

    page = KeysetPage(
        rows=[],
        previous_url="?" + filters.params(before=key(found[0])) if has_previous and found else None,
        next_url="?" + filters.params(after=key(found[-1])) if has_next and found else None,
        first_url="?" + filters.params() if has_previous else None,
        last_url="?" + filters.params(page="last") if has_next else None,
    )
    return found, page


def _filter_totals(invoices: QuerySet[Invoice], matched: int, *, owed: bool = False) -> tuple[
        list[tuple[str, Decimal]] | None, list[tuple[str, Decimal]] | None]:
    """Return the filter's total per currency (and, with ``owed``, what is still owed of it), or None
    when it matches more than TOTALS_LIMIT invoices.

    Totals are computed by the app's arithmetic (nothing stores them), so they are bounded by the
    number of invoices rather than read from an aggregate over the whole table. What is owed is
    the home page's figure (``owing.amount_due``): the total less credit notes and payments.
    """
    if matched > TOTALS_LIMIT:
        return None, None
    related = ["lines", "taxes", "adjustments"]
    if owed:
        related += ["payments", "credit_notes__lines", "credit_notes__taxes", "credit_notes__adjustments"]
    sums: dict[str, Decimal] = {}
    owing_sums: dict[str, Decimal] = {}
    for invoice in invoices.prefetch_related(*related).order_by():
        totals = calculate_invoice(invoice)
        sums[totals.currency] = sums.get(totals.currency, Decimal("0")) + totals.total
        if owed:
            owing_sums[totals.currency] = (owing_sums.get(totals.currency, Decimal("0"))
                                           + owing.amount_due(invoice, totals))
    return sorted(sums.items()), sorted(owing_sums.items()) if owed else None


@company_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    """List the current company's invoices: search, filters, sortable columns, keyset pages, totals."""
    filters = InvoiceFilter(request)
    number = _page_number(request)
    if number is not None and number > MAX_NUMBERED_PAGE and not (request.GET.get("after")
                                                                   or request.GET.get("before")):
        messages.info(request, _("Page %(number)s cannot be opened by its number: only the first %(pages)s pages "
                                 "can. Here is the first page; Next and Last go further, and the filters "
                                 "narrow the list.") % {"number": number, "pages": MAX_NUMBERED_PAGE})
        return HttpResponseRedirect(reverse("invoices:list") + _query(filters.params()))
    invoices = filters.queryset()
    found, page = _keyset_page(_with_amounts(invoices), filters, request)
    if number is not None and number > 1 and not found and page.first_url is not None:
        messages.info(request, _("There is no page %(number)s: here is the last page.") % {"number": number})
        return HttpResponseRedirect(reverse("invoices:list") + _query(filters.params(page="last")))
    page.rows = [(invoice, calculate_invoice(invoice)) for invoice in found]
    matched = invoices.order_by().values("pk")[:COUNT_CAP + 1].count()
    totals, owed_totals = _filter_totals(invoices, matched, owed=filters.overdue) if filters.active else (None, None)
    # The client filter's options, built in one pass: a company may have hundreds of clients.
    client_options = format_html_join("", '<option value="{}"{}>{}</option>', (
        (pk, mark_safe(" selected") if pk == filters.client else "", name)  # noqa: S308 - a constant
        for pk, name in Client.objects.filter(company=filters.company).order_by("name").values_list("pk", "name")))
    return render(request, "invoices/invoice_list.html", {
        "page": page, "rows": page.rows, "filters": filters, "query": filters.query, "status": filters.status,
        "statuses": status_filter_choices(), "states": B2BROUTER_STATES if _has_b2brouter_link() else (),
        "tax_records": _has_tax_records(),
        "client_options": client_options, "matched": min(matched, COUNT_CAP), "more_than": matched > COUNT_CAP,
        "totals": totals, "owed_totals": owed_totals,
        "totals_limit": TOTALS_LIMIT,
        "sort_links": {column: "?" + filters.params(sort=column if filters.sort == f"-{column}" else f"-{column}")
                       for column in ("date", "number")},
    })


def _query(params: str) -> str:
    return "?" + params if params else ""


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
        "spanish_kind": verifactu.label(verifactu.type_code(invoice)) if verifactu.applies(invoice) else "",
        "deletion_refusal": deletion_refusal(invoice),
        **_payment_context(invoice),
    }


def _payment_context(invoice: Invoice, form: PaymentForm | None = None) -> dict[str, Any]:
    """Return what the invoice page's payments section shows: balance, payments, form, B2Brouter's side."""
    current = payments.balance(invoice)
    refusal = payments.payment_refusal(invoice)
    if form is None and refusal is None and current.due > 0:
        method = invoice.payment_method.type if invoice.payment_method else ""
        form = PaymentForm(balance=current, initial={"date": timezone.localdate(), "amount": current.due,
                                                     "method": method})
    pending = payments.remote_paid_pending(invoice)
    unpaid = None
    if payments.remote_unpaid_pending(invoice):
        from b2binvoice.einvoicing.paid_pdf import unpaid_correction  # noqa: PLC0415 (the integration builds on invoices)

        unpaid = unpaid_correction(invoice)
    return {
        "balance": current, "payment_form": form if refusal is None else None, "payment_refusal": refusal,
        "remote_paid_pending": pending, "remote_paid_error": payments.last_remote_error(invoice) if pending else None,
        "remote_unpaid": unpaid,
    }


def _tell_b2brouter_paid(request: HttpRequest, invoice: Invoice, payment: Any | None) -> None:
    """Mark the linked B2Brouter invoice paid; a failure keeps the payment and says so with B2Brouter's words."""
    from b2binvoice.einvoicing.paid_pdf import mark_paid  # noqa: PLC0415 (the integration builds on invoices)

    result = mark_paid(invoice=invoice, user=request.user)
    if result is None:
        return
    if result.ok:
        payments.remember_remote_outcome(payment)
        messages.success(request, result.text)
    else:
        payments.remember_remote_outcome(payment, error=result.text, message=result.remote_message,
                                         request_id=result.request_id)
        messages.error(request, result.text)


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
    if request.method == "POST":
        running = preview(company=company, data=request.POST, invoice=invoice)
    else:
        running = _saved_running_total(invoice) if invoice is not None else None
    return render(request, template, {
        "form": form, "lines": lines, "adjustments": adjustments, "invoice": invoice, "creating": creating,
        "error_summary": error_summary(form, lines, adjustments) if request.method == "POST" else [],
        "running": running,
        "totals_url": reverse("invoices:edit_totals", args=[invoice.pk]) if invoice else reverse("invoices:totals"),
    })


def _saved_running_total(invoice: Invoice) -> Preview:
    """Return the running total of a saved invoice as its page shows it."""
    totals = calculate_invoice(invoice)
    return Preview(totals=totals, counted_lines=len(totals.line_amounts))


@require_POST
@company_required
def invoice_totals(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Return the running total of the invoice form as posted (htmx, as the user types)."""
    invoice = get_object_or_404(Invoice, company=request.company, pk=pk) if pk is not None else None
    running = preview(company=request.company, data=request.POST, invoice=invoice)  # type: ignore[attr-defined]
    return render(request, "invoices/_running_total.html", {"running": running})


CLIENT_OPTIONS_LIMIT = 50


@require_GET
@company_required
def client_options(request: HttpRequest) -> HttpResponse:
    """Return the <option>s of the company's clients matching ``q`` (the invoice form's client search)."""
    company = request.company  # type: ignore[attr-defined]
    query = clean_query(request.GET.get("client_q"))
    clients = Client.objects.filter(company=company).order_by("name")
    if query:
        clients = clients.filter(search_text__contains=fold(query))
    found = list(clients.values_list("pk", "name")[:CLIENT_OPTIONS_LIMIT + 1])
    more = len(found) > CLIENT_OPTIONS_LIMIT
    found = found[:CLIENT_OPTIONS_LIMIT]
    current = request.GET.get("client", "")
    chosen = (Client.objects.filter(company=company, pk=current).values_list("pk", "name").first()
              if current.isascii() and current.isdigit() else None)
    if chosen is not None and chosen not in found:
        found.insert(0, chosen)
    return render(request, "invoices/_client_options.html", {
        "clients": found, "chosen": chosen[0] if chosen else None, "more": more, "query": query})


@require_POST
@company_required
def invoice_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    """Create a draft copy of an invoice (any status, linked or not) and open it for editing."""
    original = get_object_or_404(
        Invoice.objects.select_related("company", "client").prefetch_related("lines", "adjustments"),
        company=request.company, pk=pk)
    if original.is_credit_note:
        messages.error(request, _("A credit note cannot be duplicated: create a credit note from its invoice."))
        return HttpResponseRedirect(reverse("invoices:detail", args=[original.pk]))
    copy = duplicate_invoice(original, issue_date=timezone.localdate(), user=request.user)
    messages.success(request, _("Invoice %(number)s created as a draft copy of %(original)s: check it and save.")
                     % {"number": copy.number, "original": original.number})
    return HttpResponseRedirect(reverse("invoices:edit", args=[copy.pk]))


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


@company_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Download our own PDF of the invoice, in its client's language (another company's invoice is 404)."""
    invoice = get_object_or_404(
        _with_amounts(Invoice.objects.select_related("company", "payment_method")), company=request.company, pk=pk)
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    disposition = "inline" if request.GET.get("inline") == "1" else "attachment"
    response["Content-Disposition"] = content_disposition_header(disposition == "attachment", pdf_filename(invoice))
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _payable(request: HttpRequest, pk: int) -> Invoice:
    return get_object_or_404(
        _with_amounts(Invoice.objects.select_related("company", "payment_method")), company=request.company, pk=pk)


@company_required
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a payment (POST); the invoice becomes paid when covered and B2Brouter is told."""
    invoice = _payable(request, pk)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("invoices:detail", args=[pk]) + "#payments")
    refusal = payments.payment_refusal(invoice)
    form = PaymentForm(request.POST, balance=payments.balance(invoice))
    if refusal is None and form.is_valid():
        data = form.cleaned_data
        try:
            payment, became_paid = payments.record_payment(
                invoice=invoice, amount=data["amount"], date=data["date"], method=data["method"] or "",
                note=data["note"], user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("amount", ValidationError(message, code=exc.code or "invalid"))
        else:
            messages.success(request, _("Payment of %(amount)s %(currency)s recorded.") % {
                "amount": format_money(payment.amount, invoice.currency), "currency": invoice.currency})
            if became_paid:
                messages.success(request, _("%(number)s is paid.") % {"number": invoice.number})
                _tell_b2brouter_paid(request, invoice, payment)
            return HttpResponseRedirect(reverse("invoices:detail", args=[pk]) + "#payments")
    context = _detail_context(invoice)
    if refusal is None:
        context["payment_form"] = form
    return render(request, "invoices/invoice_detail.html", context, status=200 if refusal is None else 403)


@company_required
def payment_delete(request: HttpRequest, pk: int, payment_pk: int) -> HttpResponse:
    """Delete a payment recorded by mistake (POST); a paid invoice left with something due is issued again."""
    invoice = _payable(request, pk)
    payment = get_object_or_404(invoice.payments, pk=payment_pk)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("invoices:detail", args=[pk]) + "#payments")
    reverted = payments.delete_payment(invoice=invoice, payment=payment, user=request.user)
    messages.success(request, _("Payment deleted."))
    if reverted:
        text = _("%(number)s is issued again: something is due.") % {"number": invoice.number}
        link = b2brouter_link(invoice)
        if payments.remote_unpaid_pending(invoice):
            text += " " + _("B2Brouter still shows invoice #%(id)s as paid: put its state back below.") % {
                "id": link.b2brouter_id}
        elif link is not None and str(link.status) == "linked" and link.state in payments.REMOTE_PAID_STATES:
            text += " " + _("B2Brouter still shows it paid: change it there if needed.")
        messages.warning(request, text)
    return HttpResponseRedirect(reverse("invoices:detail", args=[pk]) + "#payments")


@company_required
def payment_unpaid_b2brouter(request: HttpRequest, pk: int) -> HttpResponse:
    """Put back the state of the linked B2Brouter invoice held as paid while something is due here (POST)."""
    from b2binvoice.einvoicing.paid_pdf import mark_unpaid  # noqa: PLC0415 (the integration builds on invoices)

    invoice = _payable(request, pk)
    if request.method == "POST" and payments.remote_unpaid_pending(invoice):
        result = mark_unpaid(invoice=invoice, user=request.user, state=request.POST.get("state", ""))
        if result is not None:
            (messages.success if result.ok else messages.error)(request, result.text)
    return HttpResponseRedirect(reverse("invoices:detail", args=[pk]) + "#payments")


@company_required
def payment_retry_b2brouter(request: HttpRequest, pk: int) -> HttpResponse:
    """Try again to mark the linked B2Brouter invoice paid (POST)."""
    invoice = _payable(request, pk)
    if request.method == "POST" and payments.remote_paid_pending(invoice):
        _tell_b2brouter_paid(request, invoice, payments.last_remote_error(invoice))
    return HttpResponseRedirect(reverse("invoices:detail", args=[pk]) + "#payments")
