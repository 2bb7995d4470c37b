"""``{% b2brouter_health integration as health %}``: the health panel's content for the integration page."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def b2brouter_health(integration: Any) -> Any:
    """Return the panel's content (``health.Health``), or None without usable credentials."""
    from ..health import health  # noqa: PLC0415 (keep tag loading light)

    if integration is None or not getattr(integration, "has_credentials", False):
        return None
    return health(integration)


@register.filter
def duration_minutes(value: Any) -> int:
    """Return a timedelta in whole minutes."""
    return int(value.total_seconds() // 60) if value is not None else 0
