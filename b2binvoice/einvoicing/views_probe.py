"""The "Verify the arithmetic on this account" action beside the calculation plate (see ``probe.py``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from b2binvoice.core.tenancy import company_required

from . import actions, probe
from .actions import Result
from .views import flash


@company_required
@require_http_methods(["GET", "POST"])
def settings_probe(request: HttpRequest) -> HttpResponse:
    """Explain the probe (and ask to confirm on a production key), then run it and show its result."""
    integration = actions.get_integration(request.company)  # type: ignore[attr-defined] (set by company_required)
    settings_url = reverse("einvoicing:settings")
    if integration is None or not integration.has_credentials:
        flash(request, "settings", Result("error", _("Save a working API key and account ID first.")))
        return HttpResponseRedirect(settings_url)
    needs_confirmation = probe.needs_confirmation(integration)
    confirmed = request.POST.get("confirm") == probe.CONFIRMATION_VALUE
    if request.method == "GET" or (needs_confirmation and not confirmed):
        cases = probe.probe_cases(integration.company.country)
        return render(request, "einvoicing/probe_confirm.html", {
            "integration": integration, "needs_confirmation": needs_confirmation,
            "confirmation_value": probe.CONFIRMATION_VALUE, "warning": probe.confirmation_text(len(cases)),
            "titles": [probe.case_title(case.key) for case in cases]})
    try:
        run = probe.run_probe(integration, confirmed=confirmed, user=request.user)
    except probe.ProbeRefused as exc:
        flash(request, "settings", Result("error", exc.text))
        return HttpResponseRedirect(settings_url)
    # The figures themselves are shown beside the plate; the message says what happened.
    level, lines = probe.summary_lines(run)
    text = " ".join(lines) if level == "error" else lines[0]
    flash(request, "settings", Result(level, text, run.remote_message, run.request_id))
    return HttpResponseRedirect(settings_url + "#probe")
