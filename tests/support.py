"""Test helpers shared by the suites: reach the project's own WSGI app in-process through httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import translation

_handler: WSGIHandler | None = None


def inprocess_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Serve one request with the project's WSGI handler, keeping the test's DB connection open.

    Like Django's test client, this stops the request signals from closing the
    connection, which would break the transaction a test (and an outer request) runs in. The
    request's language is its own too: the outer request's active language is restored after it.
    """
    global _handler
    if _handler is None:
        _handler = WSGIHandler()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    outer_language = translation.get_language()
    try:
        response = _handler(environ, start_response)
        body = b"".join(response)
        if hasattr(response, "close"):
            response.close()
        return [body]
    finally:
        translation.activate(outer_language)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def inprocess_transport() -> httpx.WSGITransport:
    """Return an httpx transport that serves requests from this process's Django app."""
    return httpx.WSGITransport(app=inprocess_wsgi_app)
