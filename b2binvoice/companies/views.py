"""Company settings pages: the company, taxes, payment methods, and switching company."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from b2binvoice.core.tenancy import company_required

from .forms import CompanyForm, PaymentMethodForm, SwitchCompanyForm, TaxForm, UnitMappingForm
from .middleware import SESSION_KEY
from . import audit
from .models import PaymentMethod, SettingsChange, Tax, UnitMapping
from .units import BUILT_IN, unit_code_label

HISTORY_PAGE_SIZE = 50


@company_required
def company_settings(request: HttpRequest) -> HttpResponse:
    """Edit the current company."""
    form = CompanyForm(request.POST or None, instance=request.company)
    if request.method == "POST" and form.is_valid():
        audit.record(form.instance, area=SettingsChange.Area.COMPANY, company=request.company, user=request.user)
        form.save()
        messages.success(request, _("Company settings saved."))
        return HttpResponseRedirect(reverse("companies:company"))
    return render(request, "companies/company_form.html", {"form": form})


@company_required
def tax_list(request: HttpRequest) -> HttpResponse:
    """List the current company's taxes."""
    taxes = Tax.objects.filter(company=request.company).order_by("name")
    return render(request, "companies/tax_list.html", {"taxes": taxes})


@company_required
def tax_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a tax, or edit one of the current company's taxes."""
    tax = get_object_or_404(Tax, company=request.company, pk=pk) if pk is not None else None
    form = TaxForm(request.POST or None, instance=tax, company=request.company)
    if request.method == "POST" and form.is_valid():
        audit.record(form.instance, area=SettingsChange.Area.TAX, company=request.company, user=request.user)
        saved = form.save()
        messages.success(request, _("Tax “%(name)s” saved.") % {"name": saved.name})
        return HttpResponseRedirect(reverse("companies:taxes"))
    return render(request, "companies/tax_form.html", {"form": form, "tax": tax})


@company_required
def unit_list(request: HttpRequest) -> HttpResponse:
    """List the company's unit mappings beside the built-in ones."""
    mappings = list(UnitMapping.objects.filter(company=request.company).order_by("key"))
    overridden = {m.key for m in mappings}
    built_in = [(label, unit_code_label(code)) for label, code in sorted(BUILT_IN.items()) if label not in overridden]
    return render(request, "companies/unit_list.html", {
        "mappings": [(m, unit_code_label(m.code)) for m in mappings], "built_in": built_in})


@company_required
def unit_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a unit mapping, or edit one of the company's."""
    mapping = get_object_or_404(UnitMapping, company=request.company, pk=pk) if pk is not None else None
    initial = {"label": request.GET.get("label", "")[:20]} if mapping is None else None
    form = UnitMappingForm(request.POST or None, instance=mapping, company=request.company, initial=initial)
    if request.method == "POST" and form.is_valid():
        audit.record(form.instance, area=SettingsChange.Area.UNIT, company=request.company, user=request.user)
        saved = form.save()
        messages.success(request, _("Unit “%(label)s” saved.") % {"label": saved.label})
        return HttpResponseRedirect(reverse("companies:units"))
    return render(request, "companies/unit_form.html", {"form": form, "mapping": mapping})


@company_required
@require_POST
def unit_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the company's unit mappings (the built-in table applies again)."""
    mapping = get_object_or_404(UnitMapping, company=request.company, pk=pk)
    audit.record(mapping, area=SettingsChange.Area.UNIT, company=request.company, user=request.user, deleted=True)
    mapping.delete()
    messages.success(request, _("Unit “%(label)s” deleted.") % {"label": mapping.label})
    return HttpResponseRedirect(reverse("companies:units"))


@company_required
def payment_method_list(request: HttpRequest) -> HttpResponse:
    """List the current company's payment methods."""
    methods = PaymentMethod.objects.filter(company=request.company).order_by("name")
    return render(request, "companies/payment_method_list.html", {"methods": methods})


@company_required
def payment_method_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a payment method, or edit one of the current company's."""
    method = get_object_or_404(PaymentMethod, company=request.company, pk=pk) if pk is not None else None
    form = PaymentMethodForm(request.POST or None, instance=method, company=request.company)
    if request.method == "POST" and form.is_valid():
        audit.record(form.instance, area=SettingsChange.Area.PAYMENT_METHOD, company=request.company, user=request.user)
        saved = form.save()
        messages.success(request, _("Payment method “%(name)s” saved.") % {"name": saved.name})
        return HttpResponseRedirect(reverse("companies:payment_methods"))
    return render(request, "companies/payment_method_form.html", {"form": form, "method": method})


@company_required
def settings_history(request: HttpRequest) -> HttpResponse:
    """List the current company's recorded settings changes, newest first."""
    entries = SettingsChange.objects.filter(company=request.company).order_by("-at", "-pk")
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "companies/settings_history.html", {"page": page})


@login_required
@require_POST
def switch_company(request: HttpRequest) -> HttpResponse:
    """Make another of the user's companies the current one."""
    form = SwitchCompanyForm(request.POST, user=request.user)
    if form.is_valid():
        company = form.cleaned_data["company"]
        request.session[SESSION_KEY] = company.pk
        messages.success(request, _("You are now working in %(company)s.") % {"company": company.name})
    else:
        messages.error(request, _("You are not a member of that company."))
    # Object pages of the previous company would answer 404, so go to a list unless told otherwise.
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("invoices:list")
    return HttpResponseRedirect(target)
