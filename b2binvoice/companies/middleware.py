"""Attach the current company to each request (``request.company``)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import audit
from .models import Company

SESSION_KEY = "current_company_id"


def companies_of(user: object) -> "list[Company]":
    """Return the companies ``user`` belongs to."""
    return list(Company.objects.filter(memberships__user=user).order_by("name"))


class CurrentCompanyMiddleware:
    """Set ``request.company`` to the company the user works in, or None.

    The choice is kept in the session; a stale or foreign id falls back to the
    user's first company, so a user never sees a company they do not belong to.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.company = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = Company.objects.filter(memberships__user=user)
            company = None
            company_id = request.session.get(SESSION_KEY)
            if company_id is not None:
                company = memberships.filter(pk=company_id).first()
            if company is None:
                company = memberships.order_by("name").first()
                if company is not None:
                    request.session[SESSION_KEY] = company.pk
            request.company = company  # type: ignore[attr-defined]
        # Who changes settings during this request, for the audit trail (companies.audit).
        token = audit.current_user.set(user)
        try:
            return self.get_response(request)
        finally:
            audit.current_user.reset(token)
