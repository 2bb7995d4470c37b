"""The B2Brouter client: configuration, the HTTP exchange, retries and error mapping.

This is the only module of the package that imports httpx.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import email.utils
import logging
import platform
import random
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from ._accounts import AccountsService
from ._contacts import ContactsService
from ._directory import DirectoryService
from ._environments import PRODUCTION_BASE_URL, Environment
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ResponseTooLargeError,
    UnexpectedResponseError,
    parse_error_body,
    status_error_class,
)
from ._invoices import InvoicesService
from ._money import decimal_literal, dumps, loads, loads_money
from ._tax_reports import TaxReportSettingsService, TaxReportsService
from ._version import __version__
from ._web_hooks import WebHooksService

__all__ = [
    "B2BRouter",
    "DEFAULT_API_VERSION",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "INITIAL_RETRY_DELAY",
    "LEGACY_REQUEST_ID_HEADER",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "REQUEST_ID_HEADER",
    "RateLimitObserver",
]

logger = logging.getLogger("b2brouter")
# A library leaves output to the application: silent unless logging is configured.
logger.addHandler(logging.NullHandler())

DEFAULT_API_VERSION = "2026-03-02"
#: Seconds: 10 to connect, 60 for each read/write (creating an invoice can take a while).
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
#: Seconds one call may take in all, wall-clock: every attempt, every byte of every answer and
#: every wait between retries. The timeouts above bound each network operation; a server that
#: trickles a byte every half second never trips them, the deadline does.
DEFAULT_DEADLINE = 120.0
#: Bytes of one answer's body (decoded) the client keeps at most: far above a PDF or a page of
#: 500 invoices, far below what would exhaust a worker's memory.
DEFAULT_MAX_RESPONSE_SIZE = 16 * 1024 * 1024
#: Backoff before retry n (0-based) is min(INITIAL * 2**n, MAX) seconds, minus up to 25 % jitter.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
#: The longest Retry-After the client waits for in-line; beyond it the RateLimitError is raised
#: at once (with ``retry_after``) so a background job can reschedule instead of blocking.
MAX_RETRY_AFTER = 60.0

API_KEY_HEADER = "X-B2B-API-Key"
API_VERSION_HEADER = "X-B2B-API-Version"
REQUEST_ID_HEADER = "X-B2B-API-Request-Id"
#: Where older API versions put the request id (B2Brouter's PHP SDK reads it as the fallback).
LEGACY_REQUEST_ID_HEADER = "X-Request-Id"

#: What ``on_rate_limited`` is called with: the seconds of the 429's Retry-After (None when absent).
RateLimitObserver = Callable[[float | None], object]

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


def _request_id(headers: httpx.Headers) -> str | None:
    """Return the request id of an answer: X-B2B-API-Request-Id, else the older X-Request-Id."""
    return headers.get(REQUEST_ID_HEADER) or headers.get(LEGACY_REQUEST_ID_HEADER) or None


@dataclass(frozen=True)
class _Answer:
    """An answer whose body was read within the deadline and the size cap."""

    status_code: int
    headers: httpx.Headers
    reason_phrase: str
    content: bytes
    encoding: str

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")

    @property
    def request_id(self) -> str | None:
        return _request_id(self.headers)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


class _DeadlineExceeded(Exception):
    """The call's total deadline passed while an answer was being read."""


def _expired(deadline_at: float | None) -> bool:
    """Tell whether the monotonic ``deadline_at`` has passed (None never passes)."""
    return deadline_at is not None and time.monotonic() >= deadline_at


# The deadline of the call running in this thread (a monotonic time), for the network streams.
_CALL_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("b2brouter_deadline", default=None)
# What a socket operation gets once the deadline has passed: it then fails as a timeout unless
# bytes are already waiting (a socket timeout of 0 would mean non-blocking, a different error).
_PAST_DEADLINE_TIMEOUT = 0.001


def _cut_to_deadline(timeout: float | None) -> float | None:
    """Return ``timeout`` shortened to what is left of this thread's call deadline."""
    deadline_at = _CALL_DEADLINE.get()
    if deadline_at is None:
        return timeout
    remaining = max(deadline_at - time.monotonic(), _PAST_DEADLINE_TIMEOUT)
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream:
    """A network stream whose every read and write waits no longer than the call's deadline.

    httpx's timeouts bound each socket operation, so a server that trickles its answer (the
    headers too) a byte at a time never trips them; this cuts each wait to the time left.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> Any:
        return self._inner.read(max_bytes, _cut_to_deadline(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> Any:
        return self._inner.write(buffer, _cut_to_deadline(timeout))

    def close(self) -> Any:
        return self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _cut_to_deadline(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend:
    """A network backend (httpcore's protocol) whose connections and streams honour the deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Any = None,
    ) -> _DeadlineStream:
        return _DeadlineStream(
            self._inner.connect_tcp(host, port, _cut_to_deadline(timeout), local_address, socket_options)
        )

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> _DeadlineStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _cut_to_deadline(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _honour_deadline_on_sockets(http: httpx.Client) -> None:
    """Wrap the network backend of httpx's own transports (not a caller's) in a _DeadlineBackend.

    httpx has no public hook for this, so it reaches into its pool; should those internals
    change, nothing is wrapped and the deadline is still checked between the chunks of a body
    (a body trickled byte by byte is stopped; headers trickled that way no longer are).
    """
    transports: list[object] = [getattr(http, "_transport", None)]
    transports += list(getattr(http, "_mounts", {}).values())
    for transport in transports:
        if not isinstance(transport, httpx.HTTPTransport):
            continue
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and hasattr(backend, "connect_tcp") and not isinstance(backend, _DeadlineBackend):
            setattr(pool, "_network_backend", _DeadlineBackend(backend))


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

    ``timeout`` bounds each network operation (connect, each read, each write); ``deadline``
    bounds a whole call, wall-clock, across its retries and the waits between them (None: no
    deadline). ``max_response_size`` caps the bytes of one answer's body (None: no cap); a
    larger answer raises :class:`ResponseTooLargeError` without being kept in memory.

    ``on_rate_limited`` is called with the seconds of the Retry-After (None when absent or
    unreadable) of every 429 B2Brouter answers, before the client waits and retries or raises
    :class:`RateLimitError`: one pause shared by many workers can be built on it. It runs in the
    calling thread and context, so a client shared between threads can route each report to the
    caller's own back-off (e.g. through a ``contextvars.ContextVar``). What it raises is raised
    from the call.
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
        deadline: float | None = DEFAULT_DEADLINE,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        on_rate_limited: RateLimitObserver | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key is required: copy it from B2Brouter's developer settings")
        if not api_version:
            raise ValueError("api_version is required, e.g. 2026-03-02")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if deadline is not None and not deadline > 0:
            raise ValueError("deadline must be a positive number of seconds, or None")
        if max_response_size is not None and max_response_size < 1:
            raise ValueError("max_response_size must be a positive number of bytes, or None")
        if isinstance(base_url, Environment):
            base_url = base_url.api_base
        self._api_key = api_key.strip()
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.max_retries = max_retries
        self.timeout = timeout
        self.deadline = deadline
        self.max_response_size = max_response_size
        self.on_rate_limited = on_rate_limited
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
        _honour_deadline_on_sockets(self._http)
        self.accounts = AccountsService(self)
        self.contacts = ContactsService(self)
        self.directory = DirectoryService(self)
        self.invoices = InvoicesService(self)
        self.tax_report_settings = TaxReportSettingsService(self)
        self.tax_reports = TaxReportsService(self)
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
        money: bool = False,
    ) -> Any:
        """Call any endpoint and return its decoded JSON (Decimal for non-integer numbers).

        ``money=True`` also turns every value under a money key into a Decimal while parsing
        (see :func:`~b2brouter._money.loads_money`): for bodies made of invoices.

        The services cover the documented endpoints; this is the escape hatch for the rest.
        ``json`` is sent as the body when it is not None. Raise an :class:`APIStatusError`
        subclass for a non-2xx answer and :class:`APIConnectionError` when none arrives.
        """
        response = self._send(method, path, params=params, body=json, accept="application/json")
        if not response.content.strip():
            return None
        try:
            return (loads_money if money else loads)(response.content)
        except ValueError:
            raise UnexpectedResponseError(
                f"B2Brouter answered {method.upper()} {path} with a body that is not JSON",
                status_code=response.status_code,
                request_id=response.request_id,
                body=self._redact(response.text),
            ) from None

    def _download(
        self,
        path: str,
        *,
        accept: str,
        params: Mapping[str, object] | None = None,
        deadline_at: float | None = None,
    ) -> bytes:
        """GET a document and return its bytes."""
        return self._send("GET", path, params=params, body=None, accept=accept, deadline_at=deadline_at).content

    def _upload(
        self,
        method: str,
        path: str,
        content: bytes,
        *,
        content_type: str = "application/octet-stream",
        params: Mapping[str, object] | None = None,
    ) -> Any:
        """Send raw bytes as the body and return the decoded JSON answer (None when empty)."""
        response = self._send(method, path, params=params, body=None, accept="application/json",
                              raw=(bytes(content), content_type))
        if not response.content.strip():
            return None
        try:
            return loads(response.content)
        except ValueError:
            return None  # the upload succeeded (2xx); an unreadable body says nothing more

    def _deadline_at(self) -> float | None:
        """Return the monotonic time by which a call starting now must end (None: no deadline)."""
        return None if self.deadline is None else time.monotonic() + self.deadline

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None,
        body: object,
        accept: str,
        deadline_at: float | None = None,
        raw: tuple[bytes, str] | None = None,
    ) -> _Answer:
        method = method.upper()
        headers = {"Accept": accept}
        content: bytes | None = None
        if body is not None:
            content = dumps(body)
            headers["Content-Type"] = "application/json"
        elif raw is not None:
            content, headers["Content-Type"] = raw
        query: list[tuple[str, str | int | float | bool | None]] = [
            (key, _query_value(value)) for key, value in (params or {}).items() if value is not None
        ]
        request = self._http.build_request(method, path, params=query, content=content, headers=headers)
        if deadline_at is None:
            deadline_at = self._deadline_at()

        attempt = 0
        while True:
            started = time.monotonic()
            request.extensions["timeout"] = self._attempt_timeouts(deadline_at)
            token = _CALL_DEADLINE.set(deadline_at)
            try:
                response = self._http.send(request, stream=True)
                try:
                    answer = self._read_answer(response, method, path, deadline_at)
                finally:
                    response.close()
            except _DeadlineExceeded:
                raise self._deadline_error(method, path, never_sent=False) from None
            # RequestError, not only TransportError: an answer whose body cannot be decoded
            # (httpx.DecodingError, e.g. broken gzip) must not escape the client's hierarchy.
            except httpx.RequestError as exc:
                elapsed_ms = (time.monotonic() - started) * 1000
                never_sent = isinstance(exc, _NEVER_SENT)
                logger.warning(
                    "%s %s failed after %.0f ms: %s (attempt %d)",
                    method, path, elapsed_ms, type(exc).__name__, attempt + 1,
                )
                if isinstance(exc, httpx.TimeoutException) and _expired(deadline_at):
                    raise self._deadline_error(method, path, never_sent=never_sent) from exc
                retryable = not isinstance(exc, httpx.UnsupportedProtocol) and (
                    method in _RETRYABLE_METHODS or never_sent
                )
                if retryable and attempt < self.max_retries and self._wait_before_retry(
                    method, path, attempt, None, deadline_at
                ):
                    attempt += 1
                    continue
                raise self._connection_error(exc, method, path, never_sent=never_sent) from exc
            finally:
                _CALL_DEADLINE.reset(token)

            elapsed_ms = (time.monotonic() - started) * 1000
            status = answer.status_code
            logger.info(
                "%s %s -> %d in %.0f ms (request id %s, attempt %d)",
                method, path, status, elapsed_ms, answer.request_id or "none", attempt + 1,
            )
            if answer.is_success:
                return answer
            if status == 429 and self.on_rate_limited is not None:
                self.on_rate_limited(_retry_after(answer.headers))
            if status in _RETRYABLE_STATUSES and method in _RETRYABLE_METHODS and attempt < self.max_retries:
                retry_after = _retry_after(answer.headers)
                if (retry_after is None or retry_after <= MAX_RETRY_AFTER) and self._wait_before_retry(
                    method, path, attempt, retry_after, deadline_at
                ):
                    attempt += 1
                    continue
            raise self._status_error(answer, method, path)

    def _attempt_timeouts(self, deadline_at: float | None) -> dict[str, float | None]:
        """Return the httpx timeouts of an attempt: the configured ones, cut to the deadline."""
        configured = self._http.timeout.as_dict()
        if deadline_at is None:
            return dict(configured)
        # Never 0: httpx reads 0 as "fail at once", which would hide which phase ran out.
        remaining = max(deadline_at - time.monotonic(), 0.001)
        return {phase: remaining if value is None else min(value, remaining) for phase, value in configured.items()}

    def _read_answer(
        self, response: httpx.Response, method: str, path: str, deadline_at: float | None
    ) -> _Answer:
        """Read a streamed answer's body, refusing one over the size cap or past the deadline."""
        limit = self.max_response_size
        declared = response.headers.get("content-length", "")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            raise self._too_large(response, method, path, size=int(declared))
        body = bytearray()
        # Decoded bytes are counted, so a small gzip bomb is refused as well as a large body.
        for chunk in response.iter_bytes():
            body += chunk
            if limit is not None and len(body) > limit:
                raise self._too_large(response, method, path, size=None)
            if _expired(deadline_at):
                raise _DeadlineExceeded
        return _Answer(
            status_code=response.status_code,
            headers=response.headers,
            reason_phrase=response.reason_phrase,
            content=bytes(body),
            encoding=response.encoding or "utf-8",
        )

    def _wait_before_retry(
        self, method: str, path: str, attempt: int, retry_after: float | None, deadline_at: float | None
    ) -> bool:
        """Wait before retry ``attempt``; return False, without waiting, when the deadline forbids it.

        A retry needs the wait and some time for the attempt itself: when the wait alone would
        reach the deadline, the caller raises the error at hand instead.
        """
        delay = self._backoff(attempt, retry_after)
        if deadline_at is not None and time.monotonic() + delay >= deadline_at:
            logger.warning(
                "Not retrying %s %s: a %.2f s wait would pass the call's %s s deadline",
                method, path, delay, self.deadline,
            )
            return False
        logger.warning(
            "Retrying %s %s in %.2f s (retry %d of %d)", method, path, delay, attempt + 1, self.max_retries
        )
        self._sleep(delay)
        return True

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

    def _deadline_error(self, method: str, path: str, *, never_sent: bool) -> APITimeoutError:
        logger.warning("%s %s gave up: the call's %s s deadline passed", method, path, self.deadline)
        return APITimeoutError(
            f"B2Brouter did not answer within the call's {self.deadline:g} s deadline",
            method=method, path=path, maybe_applied=not never_sent and method != "GET", deadline_exceeded=True,
        )

    def _too_large(
        self, response: httpx.Response, method: str, path: str, *, size: int | None
    ) -> ResponseTooLargeError:
        limit = self.max_response_size or 0
        status = response.status_code
        logger.warning(
            "%s %s -> %d refused: the body exceeds max_response_size (%d bytes; request id %s)",
            method, path, status, limit, _request_id(response.headers) or "none",
        )
        said = f" ({size} bytes)" if size is not None else ""
        return ResponseTooLargeError(
            f"B2Brouter's answer{said} is larger than the client's max_response_size of {limit} bytes",
            method=method,
            path=path,
            maybe_applied=method != "GET" and not 400 <= status < 500,
            status_code=status,
            request_id=_request_id(response.headers),
            limit=limit,
            size=size,
        )

    def _status_error(self, response: _Answer, method: str, path: str) -> APIStatusError:
        status = response.status_code
        text = self._redact(response.text)
        details = parse_error_body(
            text, response.headers.get("content-type", ""), response.reason_phrase or f"HTTP {status}"
        )
        cls = status_error_class(status, details.code)
        kwargs: dict[str, Any] = dict(
            status_code=status,
            code=details.code,
            param=details.param,
            messages=details.messages,
            error_type=details.error_type,
            request_id=response.request_id,
            body=text,
            json_body=details.json_body,
            headers={name: self._redact(value) for name, value in response.headers.items()},
            method=method,
            path=path,
            maybe_applied=status >= 500 and method != "GET",
            retry_after=_retry_after(response.headers),
        )
        return cls(details.message, **kwargs)
