"""Health endpoints: ``/healthz`` (liveness) and ``/readyz`` (database and migrations); the account page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database is reachable and every migration is applied, else 503."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "database": "unreachable", "error": exc.__class__.__name__}, status=503)
    if pending:
        return JsonResponse({"status": "unavailable", "database": "ok", "pending_migrations": len(pending)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "pending_migrations": 0})


@never_cache
@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The user's own settings: language, password and two-factor login."""
    from b2binvoice.core.twofactor import confirmed_device

    from b2binvoice.core.language import LanguageForm, stored_language

    language_form = LanguageForm(initial={"language": stored_language(request.user)}, allow_browser=True)
    return render(request, "registration/account.html", {
        "two_factor": confirmed_device(request.user) is not None,
        "language_form": language_form,
    })
