"""Show what was recorded (history entries, results) in the reader's language (see ``core/texts.py``)."""

from __future__ import annotations

from typing import Any

from django import template

from b2binvoice.core import texts

register = template.Library()


@register.filter
def recorded(value: Any) -> str:
    """Return a recorded value as the active language shows it: a stored text translated, anything else as is."""
    if value is None:
        return ""
    return str(texts.load(value))
