"""Bulk push and bulk refresh from the invoice list: confirm, start in the background, follow a run."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from b2binvoice.core.tenancy import company_required

from . import actions, bulk
from .models import BulkAction, BulkRun, BulkRunItem

#: Rows the run page lists (the counts cover them all).
MAX_ROWS = 1000


def _chosen(request: HttpRequest, action: str) -> tuple[list[Any], list[bulk.LeftOut], list[tuple[str, int]]]:
    """Return the invoices the request chose for ``action``, those left out (with why) and their count per kind.

    Every invoice chosen by hand is either going or listed as left out with its reason; for "all
    ready invoices in this filter" the left-out ones are counted per kind.
    """
    company = request.company  # type: ignore[attr-defined] (set by company_required)
    data = request.POST
    invoices = bulk.filtered_invoices(company, data)
    by_hand = data.get("scope") != "filter"
    if by_hand:
        ids = [int(value) for value in data.getlist("invoice") if value.isdigit()]
        invoices = invoices.model.objects.filter(company=company, pk__in=ids)
    invoices = invoices.select_related("client", "company", "payment_method", "b2brouter_link") \
        .prefetch_related("taxes")
    integration = actions.get_integration(company)
    if not by_hand:
        chosen, counts = bulk.classify_filter(invoices, action, integration)
        return chosen, [], counts
    chosen, left_out = bulk.classify(invoices.order_by("issue_date", "number"), action, integration)
    return chosen, left_out, bulk.count_left_out(left_out)


@company_required
@require_POST
def bulk_confirm(request: HttpRequest) -> HttpResponse:
    """Show what a run would do (count, recipients, total per currency) and ask to confirm it."""
    action = request.POST.get("action", BulkAction.SEND)
    if action not in BulkAction.values:
        raise Http404
    chosen, left_out, left_out_counts = _chosen(request, action)
    left = sum(count for _label, count in left_out_counts)
    return render(request, "einvoicing/bulk_confirm.html", {
        "action": action, "action_label": BulkAction(action).label, "invoices": chosen, "left_out": left_out,
        "left_out_counts": left_out_counts, "left_out_total": left, "selected": len(chosen) + left,
        "summary": bulk.summarise(chosen), "concurrency": bulk.configured_concurrency(),
        "back": reverse("invoices:list")})


@company_required
@require_POST
def bulk_start(request: HttpRequest) -> HttpResponse:
    """Record the confirmed run and queue it; follow it on its page."""
    from .tasks import bulk_run  # noqa: PLC0415

    company = request.company  # type: ignore[attr-defined]
    action = request.POST.get("action", "")
    if action not in BulkAction.values or request.POST.get("confirm") != "yes":
        raise Http404
    ids = [int(value) for value in request.POST.getlist("invoice") if value.isdigit()]
    model = bulk.filtered_invoices(company).model
    invoices = list(model.objects.filter(company=company, pk__in=ids).order_by("issue_date", "number"))
    if not invoices:
        return render(request, "einvoicing/bulk_confirm.html", {
            "action": action, "action_label": BulkAction(action).label, "invoices": [], "left_out": [],
            "summary": bulk.summarise([]), "back": reverse("invoices:list")})
    run = bulk.start_run(company=company, user=request.user, action=action, invoices=invoices)
    bulk_run.enqueue(run.pk)
    return HttpResponseRedirect(reverse("einvoicing:bulk_run", args=[run.pk]))


def _run_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    run = get_object_or_404(BulkRun, pk=pk, company=request.company)  # type: ignore[attr-defined]
    items = BulkRunItem.objects.filter(run=run).select_related("invoice", "invoice__client").order_by("position")
    return {"run": run, "progress": bulk.progress(run), "items": items[:MAX_ROWS], "more": max(0, run.total - MAX_ROWS),
            "title": _("%(action)s: %(count)s invoices") % {"action": BulkAction(run.action).label,
                                                            "count": run.total}}


@company_required
@require_GET
def bulk_run_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a run: progress bar, counts per outcome and one row per invoice (polled while it runs)."""
    context = _run_context(request, pk)
    if request.headers.get("HX-Request"):
        return render(request, "einvoicing/bulk_progress.html", context)
    return render(request, "einvoicing/bulk_run.html", context)
