"""Refuse request parameters that no database can store, before any view reads them.

PostgreSQL cannot store, or even compare with, text holding a NUL character: a search for
``?q=%00`` used to end in a 500. Django's form fields already refuse NUL, but views read search
and filter parameters directly; this middleware covers those and every form in one place.
Views exempt from CSRF (the webhook receiver, the simulator's API) read their bodies themselves
and check them there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(data: Any) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())


class RejectNulCharactersMiddleware:
    """Answer 400 to a query string, form field or path argument that holds a NUL character."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: dict[str, Any]) -> HttpResponse | None:
        if getattr(view_func, "csrf_exempt", False):
            return None
        posted = request.method == "POST" and request.content_type in FORM_TYPES and _has_nul(request.POST)
        in_path = any(isinstance(value, str) and "\x00" in value for value in view_kwargs.values())
        if _has_nul(request.GET) or posted or in_path:
            return HttpResponseBadRequest(
                _("The request contains a NUL character (\\0), which no field accepts. Remove it and try again."),
                content_type="text/plain; charset=utf-8")
        return None
