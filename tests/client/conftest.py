"""Fixtures of the client's unit tests: a scripted httpx.MockTransport and no real waiting."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from b2brouter import B2BRouter

API_KEY = "live_0123456789abcdefSECRET"
BASE_URL = "https://api.test.invalid"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """A MockTransport handler that answers from a list of replies and records every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def json_response(status: int, body: Any, *, request_id: str | None = "req_test", **headers: str) -> httpx.Response:
    """Return a response with a JSON body given as text or as a value."""
    text = body if isinstance(body, str) else json.dumps(body)
    all_headers = {"Content-Type": "application/json", **headers}
    if request_id:
        all_headers["X-B2B-API-Request-Id"] = request_id
    return httpx.Response(status, content=text.encode(), headers=all_headers)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Neutralise the backoff: record the delays instead of waiting."""
    recorded: list[float] = []
    monkeypatch.setattr(B2BRouter, "_sleep", lambda self, seconds: recorded.append(seconds))
    return recorded


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., tuple[B2BRouter, Script]]]:
    """Build clients over a scripted transport; close them afterwards."""
    clients: list[B2BRouter] = []

    def build(*replies: Reply, **options: Any) -> tuple[B2BRouter, Script]:
        script = Script(*replies)
        options.setdefault("base_url", BASE_URL)
        client = B2BRouter(API_KEY, transport=httpx.MockTransport(script), **options)
        clients.append(client)
        return client, script

    yield build
    for client in clients:
        client.close()
