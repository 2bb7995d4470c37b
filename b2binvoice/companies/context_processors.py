"""Template context: the current company and the user's companies."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .models import Company


def current_company(request: HttpRequest) -> dict[str, Any]:
    """Expose ``current_company`` and ``user_companies`` to templates."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"current_company": None, "user_companies": []}
    return {
        "current_company": getattr(request, "company", None),
        "user_companies": Company.objects.filter(memberships__user=user).order_by("name"),
    }
