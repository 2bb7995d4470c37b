"""The B2Brouter client: configuration, the HTTP exchange, retries and error mapping.

This is the only module of the package that imports httpx.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import platform
import random
import time
from collections.abc import Mapping
from decimal import Decimal
from types import TracebackType
from typing import Any

import httpx

from ._accounts import AccountsService
from ._contacts import ContactsService
from ._environments import PRODUCTION_BASE_URL, Environment
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    UnexpectedResponseError,
    parse_error_body,
    status_error_class,
)
from ._invoices import InvoicesService
from ._money import decimal_literal, dumps, loads
from ._version import __version__
from ._web_hooks import WebHooksService

__all__ = [
    "B2BRouter",
    "DEFAULT_API_VERSION",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "REQUEST_ID_HEADER",
]

logger = logging.getLogger("b2brouter")
# A library leaves output to the application: silent unless logging is configured.
logger.addHandler(logging.NullHandler())

DEFAULT_API_VERSION = "2026-03-02"
#: Seconds: 10 to connect, 60 for each read/write (creating an invoice can take a while).
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
#: Backoff before retry n (0-based) is min(INITIAL * 2**n, MAX) seconds, minus up to 25 % jitter.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
#: The longest Retry-After the client waits for in-line; beyond it the RateLimitError is raised
#: at once (with ``retry_after``) so a background job can reschedule instead of blocking.
MAX_RETRY_AFTER = 60.0

API_KEY_HEADER = "X-B2B-API-Key"
API_VERSION_HEADER = "X-B2B-API-Version"
REQUEST_ID_HEADER = "X-B2B-API-Request-Id"

# Methods whose repetition cannot duplicate anything, so they may be retried after any failure.
_RETRYABLE_METHODS = frozenset({"GET", "PUT", "DELETE"})
_RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Failures that happen before a single byte of the request reaches the server.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _mask(api_key: str) -> str:
    """Return a hint of the key safe to show: the sandbox prefix and at most the last 4 characters."""
    prefix = "test_" if api_key.startswith("test_") else ""
    tail = api_key[-4:] if len(api_key) >= 20 else ""
    return f"{prefix}****{tail}"


def _query_value(value: object) -> str:
    # Flags go as 1/0, as B2Brouter's own SDK sends them (PHP's http_build_query).
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return decimal_literal(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _retry_after(headers: httpx.Headers) -> float | None:
    """Return the seconds of a Retry-After header (delta-seconds or HTTP date), or None."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        seconds = (when - dt.datetime.now(dt.timezone.utc)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


class B2BRouter:
    """A client of the B2Brouter API.

    ::

        from b2brouter import B2BRouter

        with B2BRouter("your-api-key") as client:
            account = client.accounts.retrieve(1234)
            invoice = client.invoices.create(1234, {...})

    ``base_url`` takes any URL (a named :class:`Environment` too): production by default,
    ``STAGING_BASE_URL``, or a simulator. ``transport`` replaces the network, e.g. with
    ``httpx.MockTransport(handler)`` or ``httpx.WSGITransport(app=...)`` in tests.
    ``max_retries`` bounds the retries of GET, PUT and DELETE (and of a POST whose connection
    could not even be opened). ``app_info`` (e.g. ``"b2binvoice/1.0"``) is appended to the
    User-Agent.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | Environment = PRODUCTION_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        app_info: str | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key is required: copy it from B2Brouter's developer settings")
        if not api_version:
            raise ValueError("api_version is required, e.g. 2026-03-02")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if isinstance(base_url, Environment):
            base_url = base_url.api_base
        self._api_key = api_key.strip()
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.max_retries = max_retries
        self.timeout = timeout
        self.user_agent = (
            f"b2brouter-python/{__version__} (Python/{platform.python_version()}; httpx/{httpx.__version__})"
            + (f" {app_info}" if app_info else "")
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={
                API_KEY_HEADER: self._api_key,
                API_VERSION_HEADER: api_version,
                "Accept": "application/json",
                "User-Agent": self.user_agent,
            },
        )
        self.accounts = AccountsService(self)
        self.contacts = ContactsService(self)
        self.invoices = InvoicesService(self)
        self.web_hooks = WebHooksService(self)

    def __repr__(self) -> str:
        return (
            f"B2BRouter(base_url={self.base_url!r}, api_version={self.api_version!r}, "
            f"api_key={_mask(self._api_key)!r})"
        )

    # Lifecycle ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool (and the transport)."""
        self._http.close()

    def __enter__(self) -> B2BRouter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Requests -----------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        json: object = None,
    ) -> Any:
        """Call any endpoint and return its decoded JSON (Decimal for non-integer numbers).

        The services cover the documented endpoints; this is the escape hatch for the rest.
        ``json`` is sent as the body when it is not None. Raise an :class:`APIStatusError`
        subclass for a non-2xx answer and :class:`APIConnectionError` when none arrives.
        """
        response = self._send(method, path, params=params, body=json, accept="application/json")
        if not response.content.strip():
            return None
        try:
            return loads(response.content)
        except ValueError:
            raise UnexpectedResponseError(
                f"B2Brouter answered {method.upper()} {path} with a body that is not JSON",
                status_code=response.status_code,
                request_id=response.headers.get(REQUEST_ID_HEADER),
                body=self._redact(response.text),
            ) from None

    def _download(self, path: str, *, accept: str) -> bytes:
        """GET a document and return its bytes."""
        return self._send("GET", path, params=None, body=None, accept=accept).content

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None,
        body: object,
        accept: str,
    ) -> httpx.Response:
        method = method.upper()
        headers = {"Accept": accept}
        content: bytes | None = None
        if body is not None:
            content = dumps(body)
            headers["Content-Type"] = "application/json"
        query: list[tuple[str, str | int | float | bool | None]] = [
            (key, _query_value(value)) for key, value in (params or {}).items() if value is not None
        ]
        request = self._http.build_request(method, path, params=query, content=content, headers=headers)

        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._http.send(request)
            # RequestError, not only TransportError: an answer whose body cannot be decoded
            # (httpx.DecodingError, e.g. broken gzip) must not escape the client's hierarchy.
            except httpx.RequestError as exc:
                elapsed_ms = (time.monotonic() - started) * 1000
                never_sent = isinstance(exc, _NEVER_SENT)
                retryable = not isinstance(exc, httpx.UnsupportedProtocol) and (
                    method in _RETRYABLE_METHODS or never_sent
                )
                logger.warning(
                    "%s %s failed after %.0f ms: %s (attempt %d)",
                    method, path, elapsed_ms, type(exc).__name__, attempt + 1,
                )
                if retryable and attempt < self.max_retries:
                    self._wait_before_retry(method, path, attempt, None)
                    attempt += 1
                    continue
                raise self._connection_error(exc, method, path, never_sent=never_sent) from exc

            elapsed_ms = (time.monotonic() - started) * 1000
            status = response.status_code
            request_id = response.headers.get(REQUEST_ID_HEADER)
            logger.info(
                "%s %s -> %d in %.0f ms (request id %s, attempt %d)",
                method, path, status, elapsed_ms, request_id or "none", attempt + 1,
            )
            if response.is_success:
                return response
            if status in _RETRYABLE_STATUSES and method in _RETRYABLE_METHODS and attempt < self.max_retries:
                retry_after = _retry_after(response.headers)
                if retry_after is None or retry_after <= MAX_RETRY_AFTER:
                    self._wait_before_retry(method, path, attempt, retry_after)
                    attempt += 1
                    continue
            raise self._status_error(response, method, path)

    def _wait_before_retry(self, method: str, path: str, attempt: int, retry_after: float | None) -> None:
        delay = self._backoff(attempt, retry_after)
        logger.warning(
            "Retrying %s %s in %.2f s (retry %d of %d)", method, path, delay, attempt + 1, self.max_retries
        )
        self._sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Return the seconds to wait before retry ``attempt`` (0-based).

        Honour the server's Retry-After (capped at MAX_RETRY_AFTER); otherwise back off
        exponentially from INITIAL_RETRY_DELAY up to MAX_RETRY_DELAY, with jitter so that
        many clients do not retry in step.
        """
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        delay: float = min(INITIAL_RETRY_DELAY * 2**attempt, MAX_RETRY_DELAY)
        return delay * (1 - 0.25 * random.random())

    def _sleep(self, seconds: float) -> None:
        """Wait between attempts; tests replace this to run without waiting."""
        time.sleep(seconds)

    # Errors -------------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        # Belt and braces: should a server or proxy echo the key back, it never reaches a message.
        return text.replace(self._api_key, "[redacted]") if self._api_key in text else text

    def _connection_error(
        self, exc: httpx.RequestError, method: str, path: str, *, never_sent: bool
    ) -> APIConnectionError:
        maybe_applied = not never_sent and method != "GET"
        detail = self._redact(str(exc)) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"B2Brouter did not answer in time ({type(exc).__name__}: {detail})",
                method=method, path=path, maybe_applied=maybe_applied,
            )
        return APIConnectionError(
            f"Could not reach B2Brouter at {self.base_url} ({type(exc).__name__}: {detail})",
            method=method, path=path, maybe_applied=maybe_applied,
        )

    def _status_error(self, response: httpx.Response, method: str, path: str) -> APIStatusError:
        status = response.status_code
        text = self._redact(response.text)
        details = parse_error_body(
            text, response.headers.get("content-type", ""), response.reason_phrase or f"HTTP {status}"
        )
        cls = status_error_class(status)
        kwargs: dict[str, Any] = dict(
            status_code=status,
            code=details.code,
            param=details.param,
            messages=details.messages,
            error_type=details.error_type,
            request_id=response.headers.get(REQUEST_ID_HEADER),
            body=text,
            json_body=details.json_body,
            headers={name: self._redact(value) for name, value in response.headers.items()},
            method=method,
            path=path,
            maybe_applied=status >= 500 and method != "GET",
            retry_after=_retry_after(response.headers),
        )
        return cls(details.message, **kwargs)
