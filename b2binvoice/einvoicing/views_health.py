"""The health panel on the integration page, and its "Sync now" button (see ``health.py``)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from b2binvoice.core.tenancy import company_required

from . import health, tasks
from .actions import Result
from .models import SyncTrigger
from .views import flash

logger = logging.getLogger(__name__)


@company_required
@require_http_methods(["GET"])
def health_panel(request: HttpRequest) -> HttpResponse:
    """Render the panel alone (htmx refreshes it)."""
    panel = health.for_company(request.company)  # type: ignore[attr-defined] (set by company_required)
    return render(request, "einvoicing/_health.html", {"health": panel})


@company_required
@require_http_methods(["POST"])
def sync_now(request: HttpRequest) -> HttpResponse:
    """Queue a sync pass of the company's integration now."""
    panel = health.for_company(request.company)  # type: ignore[attr-defined]
    if panel is None or not panel.integration.is_ready:
        flash(request, "settings", Result("error", _("Enable the integration with working credentials first.")))
    else:
        try:
            tasks.sync_b2brouter.enqueue(company_id=panel.integration.company_id, trigger=SyncTrigger.MANUAL)
        except Exception:  # noqa: BLE001 (the queue's outage is told, not raised)
            logger.exception("Could not queue the B2Brouter sync of company %s", panel.integration.company_id)
            flash(request, "settings", Result("error", _("The sync could not be queued: is the task queue running?")))
        else:
            flash(request, "settings", Result("success", _("A sync pass was queued; the panel shows its result "
                                                           "when it has run.")))
    return HttpResponseRedirect(reverse("einvoicing:settings") + "#health")
