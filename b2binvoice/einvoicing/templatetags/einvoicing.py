"""Template tags that render the B2Brouter sections inside other apps' pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ..probe import setting_value

register = template.Library()

STATE_CLASSES = {
    "new": "state-new", "sending": "state-progress", "sent": "state-progress", "registered": "state-progress",
    "accepted": "state-ok", "paid": "state-ok", "allegedly_paid": "state-ok", "closed": "state-ok",
    "refused": "state-bad", "error": "state-bad",
}


#: Badge classes of a Verifactu/TicketBAI record's states.
TAX_STATE_CLASSES = {"processing": "state-progress", "registered": "state-ok", "registered_with_errors": "state-warn",
                     "error": "state-bad", "annulled": "state-other"}


@register.filter
def tax_state_class(state: str | None) -> str:
    """Return the badge class of a Verifactu/TicketBAI record's state."""
    return TAX_STATE_CLASSES.get(state or "", "state-other")


@register.filter
def tax_state_label(state: str | None) -> str:
    """Say a record's state in words (Registered, Rejected, ...)."""
    from ..tax_records import label  # noqa: PLC0415

    return label(state or "")


@register.filter
def aeat_explain(code: str | None) -> str:
    """Say in plain words what an AEAT error code means."""
    from ..tax_records import explain  # noqa: PLC0415

    return explain(code or "")


@register.simple_tag(takes_context=True)
def b2brouter_invoice_section(context: Any, invoice: Any) -> SafeString:
    """Render the "Linked B2Brouter invoice details" section of ``invoice``."""
    from ..views import render_invoice_section  # noqa: PLC0415 (views import models; keep tag loading light)

    request = context.get("request")
    if request is None or getattr(request, "company", None) is None or invoice.company_id != request.company.pk:
        return mark_safe("")
    # The section is rendered by Django's autoescaping templates: safe to embed as is.
    return mark_safe(render_invoice_section(request, invoice))  # noqa: S308


@register.simple_tag(takes_context=True)
def b2brouter_client_section(context: Any, client: Any) -> SafeString:
    """Render the B2Brouter contact section of ``client``."""
    from ..views import render_client_section  # noqa: PLC0415

    request = context.get("request")
    if request is None or getattr(request, "company", None) is None or client.company_id != request.company.pk:
        return mark_safe("")
    return mark_safe(render_client_section(request, client))  # noqa: S308


@register.filter
def state_class(state: str | None) -> str:
    """Return the badge class of a B2Brouter state."""
    return STATE_CLASSES.get(state or "", "state-other")


# A calculation setting as B2Brouter names it (true, false, half_up, ...), as the probe says it.
register.filter("setting_value", setting_value)
