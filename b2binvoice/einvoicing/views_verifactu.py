"""Verifactu / TicketBAI on the integration page: whether it is on, and switching it on (see ``verifactu.py``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from b2binvoice.core.tenancy import company_required

from . import actions, verifactu
from .forms import TaxReportingCodesForm, TaxReportingForm
from .views import _no_credentials, flash


def _integration(request: HttpRequest) -> Any:
    return actions.get_integration(request.company)  # type: ignore[attr-defined] (set by company_required)


@company_required
@require_http_methods(["GET"])
def tax_reporting_panel(request: HttpRequest) -> HttpResponse:
    """Show whether Verifactu or TicketBAI is on for the B2Brouter account (read from B2Brouter)."""
    integration = _integration(request)
    context: dict[str, Any] = {"integration": integration, "settings": [], "error": None,
                               "mandatory_from": verifactu.MANDATORY_FROM}
    if integration is not None and integration.has_credentials:
        context["settings"], error = verifactu.status(integration)
        context["error"] = error.as_dict() if error else None
    # htmx loads the panel into the settings page; opened directly it is a page of its own.
    template = "einvoicing/_tax_reporting.html" if getattr(request, "htmx", False) else "einvoicing/tax_reporting.html"
    return render(request, template, context)


@company_required
@require_http_methods(["GET", "POST"])
def tax_reporting_enable(request: HttpRequest) -> HttpResponse:
    """Explain what switching on means, ask for the system and the date, and switch it on once confirmed."""
    integration = _integration(request)
    settings_url = reverse("einvoicing:settings")
    if integration is None or not integration.has_credentials:
        flash(request, "settings", _no_credentials())
        return HttpResponseRedirect(settings_url)
    if request.method == "POST":
        form = TaxReportingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            result = verifactu.switch_on(integration, code=data["system"], start_date=data["start_date"],
                                         delegation=data.get("delegation") or "")
            if result.ok:
                flash(request, "settings", result)
                return HttpResponseRedirect(settings_url + "#tax-reporting")
            return render(request, "einvoicing/tax_reporting_enable.html",
                          {"form": form, "integration": integration, "flash": result.as_dict()}, status=422)
        return render(request, "einvoicing/tax_reporting_enable.html",
                      {"form": form, "integration": integration}, status=422)
    today = timezone.localdate()
    form = TaxReportingForm(initial={"system": verifactu.VERIFACTU,
                                     "start_date": max(today, verifactu.MANDATORY_FROM)
                                     if today.year == verifactu.MANDATORY_FROM.year - 1 else today})
    return render(request, "einvoicing/tax_reporting_enable.html", {"form": form, "integration": integration})


@company_required
@require_http_methods(["GET", "POST"])
def tax_reporting_codes(request: HttpRequest, code: str) -> HttpResponse:
    """Show and change the account's default codes of one tax report setting (read from B2Brouter each time)."""
    integration = _integration(request)
    settings_url = reverse("einvoicing:settings")
    if integration is None or not integration.has_credentials:
        flash(request, "settings", _no_credentials())
        return HttpResponseRedirect(settings_url)
    current_settings, error = verifactu.status(integration)
    if error is not None:
        flash(request, "settings", error)
        return HttpResponseRedirect(settings_url + "#tax-reporting")
    current = next((s for s in current_settings if s.code == code), None)
    if current is None:
        raise Http404("No such tax report setting on the account")
    context: dict[str, Any] = {"integration": integration, "setting": current}
    if request.method == "POST":
        form = TaxReportingCodesForm(request.POST)
        if form.is_valid():
            result = verifactu.change_codes(integration, current, form.cleaned_data, user=request.user)
            if result.ok:
                flash(request, "settings", result)
                return HttpResponseRedirect(settings_url + "#tax-reporting")
            return render(request, "einvoicing/tax_reporting_codes.html",
                          {**context, "form": form, "flash": result.as_dict()}, status=422)
        return render(request, "einvoicing/tax_reporting_codes.html", {**context, "form": form}, status=422)
    form = TaxReportingCodesForm(initial=current.codes)
    return render(request, "einvoicing/tax_reporting_codes.html", {**context, "form": form})
