"""The settings page's notice of webhook deliveries refused for a bad signature."""

from __future__ import annotations

from typing import Any

from django import template

from ..webhook_guard import signature_failures

register = template.Library()


@register.inclusion_tag("einvoicing/_webhook_signature_failures.html")
def webhook_signature_failures(integration: Any) -> dict[str, Any]:
    """Render how many deliveries failed the signature check since the secret was saved, if any."""
    return {"failures": signature_failures(integration)}
