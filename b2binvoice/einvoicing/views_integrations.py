"""Settings -> Integrations: the integrations a company can connect, with their status."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from b2binvoice.core.tenancy import company_required

from . import actions
from .models import B2BrouterIntegration


def b2brouter_status(integration: B2BrouterIntegration | None) -> tuple[str, str]:
    """Return the B2Brouter integration's status as (key, sentence): not set up, disabled, connected, ..."""
    if integration is None or not integration.has_credentials:
        return "not_set_up", _("Not set up: no verified API key and account yet.")
    if not integration.enabled:
        return "disabled", _("Disabled: invoices are not pushed to B2Brouter.")
    if integration.settings_known and integration.settings_mismatches():
        return "attention", _("Connected, but the account's calculation settings differ from the required ones.")
    return "connected", _("Connected to account %(account)s (%(environment)s).") % {
        "account": integration.account_name or integration.account_id,
        "environment": integration.get_environment_display()}


@company_required
@require_GET
def integrations(request: HttpRequest) -> HttpResponse:
    """List the integrations and the state of each."""
    integration = actions.get_integration(request.company)  # type: ignore[attr-defined]
    key, text = b2brouter_status(integration)
    return render(request, "einvoicing/integrations.html", {"b2brouter": {"key": key, "text": text}})
