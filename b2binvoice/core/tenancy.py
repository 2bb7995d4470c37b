"""Tenancy: every page works inside the user's current company (``request.company``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def company_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a logged-in user who works in a company; the view reads ``request.company``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "company", None) is None:
            # Logged in but member of no company: nothing of the domain can be shown.
            return render(request, "no_company.html", status=403)
        return view(request, *args, **kwargs)

    return login_required(wrapper)
