"""Exceptions raised by the B2Brouter client.

Every exception the client raises on purpose derives from :class:`B2BRouterError`::

    B2BRouterError
    ├── APIConnectionError            no usable HTTP answer: DNS, refused, reset, TLS, timeout
    │   ├── APITimeoutError           a timeout expired, or the call's total deadline passed
    │   └── ResponseTooLargeError     the answer's body is larger than max_response_size
    ├── APIStatusError                B2Brouter answered a non-2xx status
    │   ├── InvalidRequestError       400, 422 (code, param and every message)
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403
    │   │   └── AccountNotEnabledError    403 no_account_group: the key is not enabled yet
    │   ├── NotFoundError             404
    │   │   └── DocumentNotReadyError     a download still 404 after waiting for generation
    │   ├── ConflictError             409 (e.g. updating an invoice that was already sent)
    │   ├── RateLimitError            429 (retry_after, in seconds, from Retry-After)
    │   └── ServerError               5xx
    ├── UnexpectedResponseError       a 2xx answer whose body is not what the API promises
    └── WebhookSignatureError         a webhook whose signature header does not verify

``APIConnectionError`` and ``APIStatusError`` carry ``maybe_applied``: True when the request
changes state (anything but GET) and may have been processed even though no success answer
arrived. B2Brouter has no idempotency key, so on ``maybe_applied`` reconcile (e.g. look the
invoice up by number) instead of sending the request again.

No exception message ever contains the API key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AccountNotEnabledError",
    "AuthenticationError",
    "B2BRouterError",
    "ConflictError",
    "DocumentNotReadyError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ServerError",
    "UnexpectedResponseError",
    "WebhookSignatureError",
]

# Long bodies (an HTML error page) are cut so a message stays readable in a log line.
_MAX_MESSAGE_CHARS = 500
_MAX_MESSAGES = 50


class B2BRouterError(Exception):
    """Base class of every error the client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class APIConnectionError(B2BRouterError):
    """No HTTP answer arrived: the connection failed, broke or timed out.

    ``maybe_applied`` is False when the request provably never reached B2Brouter
    (the connection could not be opened) or only reads (GET); otherwise it is True
    and the caller must reconcile before repeating a POST.
    """

    def __init__(self, message: str, *, method: str, path: str, maybe_applied: bool) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.maybe_applied = maybe_applied

    def __str__(self) -> str:
        text = f"{self.message} ({self.method} {self.path})"
        if self.maybe_applied:
            text += "; the request may have been applied: check before repeating it"
        return text


class APITimeoutError(APIConnectionError):
    """A connect, write, read or pool timeout expired, or the call's total deadline passed.

    ``deadline_exceeded`` is True when the call ran out of its total deadline (the client's
    ``deadline``), e.g. against a server that trickles its answer byte by byte.
    """

    def __init__(
        self, message: str, *, method: str, path: str, maybe_applied: bool, deadline_exceeded: bool = False
    ) -> None:
        super().__init__(message, method=method, path=path, maybe_applied=maybe_applied)
        self.deadline_exceeded = deadline_exceeded


class ResponseTooLargeError(APIConnectionError):
    """The answer's body is larger than the client's ``max_response_size``; it was not kept.

    ``status_code`` and ``request_id`` are those of the refused answer, ``limit`` the cap in
    bytes and ``size`` the declared Content-Length (None when the body was cut while reading).
    ``maybe_applied`` is True when the request changes state and the status is not a 4xx: a
    2xx or 5xx answer to a POST may mean it was applied, so reconcile before repeating it.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        maybe_applied: bool,
        status_code: int,
        request_id: str | None,
        limit: int,
        size: int | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, maybe_applied=maybe_applied)
        self.status_code = status_code
        self.request_id = request_id
        self.limit = limit
        self.size = size

    @property
    def status(self) -> int:
        """The HTTP status code of the refused answer (the same as ``status_code``)."""
        return self.status_code

    def __str__(self) -> str:
        text = (
            f"{self.message} (status {self.status_code}, request id: {self.request_id or 'none'}; "
            f"{self.method} {self.path})"
        )
        if self.maybe_applied:
            text += "; the request may have been applied: check before repeating it"
        return text


class APIStatusError(B2BRouterError):
    """B2Brouter answered with a non-2xx status.

    Attributes: ``status_code`` (also as ``status``); ``code`` (e.g. ``parameter_taken``) and
    ``param`` when the body names them; ``message`` and ``messages`` (every message the body
    holds); ``request_id`` from ``X-B2B-API-Request-Id`` (``X-Request-Id`` for older API
    versions); ``body`` (the text) and ``json_body`` (the parsed JSON, or None); ``headers``;
    ``method`` and ``path`` of the request;
    ``retry_after`` (seconds from a ``Retry-After`` header, or None); ``maybe_applied`` (True
    for a 5xx answer to a request that changes state).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        param: str | None = None,
        messages: list[str] | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        body: str = "",
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        method: str = "",
        path: str = "",
        maybe_applied: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.param = param
        self.messages = list(messages) if messages is not None else ([message] if message else [])
        self.error_type = error_type
        self.request_id = request_id
        self.body = body
        self.json_body = json_body
        self.headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.method = method
        self.path = path
        self.maybe_applied = maybe_applied
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        """The HTTP status code (the same as ``status_code``)."""
        return self.status_code

    def __str__(self) -> str:
        head = f"{self.status_code} {self.code}" if self.code else str(self.status_code)
        where = f"; {self.method} {self.path}" if self.method else ""
        text = f"{head}: {self.message} (request id: {self.request_id or 'none'}{where})"
        if self.maybe_applied:
            text += "; the request may have been applied: check before repeating it"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class InvalidRequestError(APIStatusError):
    """400 or 422: the request or its data is invalid; ``messages`` lists every problem."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not act on this account or resource."""


class AccountNotEnabledError(PermissionDeniedError):
    """403 ``no_account_group``: the API key is valid but no account group is enabled for it.

    B2Brouter documents this for staging keys that support has not enabled yet (sandbox keys
    are enabled automatically). Nothing on the caller's side fixes it: ask B2Brouter support
    to enable API access for the key. ``code`` is ``"no_account_group"``.
    """


class NotFoundError(APIStatusError):
    """404: the resource does not exist (or is not visible to this key)."""


class DocumentNotReadyError(NotFoundError):
    """A document download still answered 404 after waiting for B2Brouter to generate it.

    B2Brouter generates an invoice's documents (PDF, UBL, ...) asynchronously: right after the
    invoice is created a download may answer 404. Raised by ``invoices.download(...,
    wait_for_generation=N)`` once the N retries are spent (or the deadline would pass);
    ``attempts`` counts the downloads tried. The other attributes are those of the last 404.
    """

    def __init__(self, message: str, *, attempts: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.attempts = attempts


class ConflictError(APIStatusError):
    """409: the resource's state forbids the operation (e.g. editing a sent invoice)."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` holds the seconds B2Brouter asked to wait, if any."""


class ServerError(APIStatusError):
    """5xx: B2Brouter (or a proxy in front of it) failed."""


class UnexpectedResponseError(B2BRouterError):
    """A 2xx answer whose body could not be read as the API promises (e.g. not JSON)."""

    def __init__(self, message: str, *, status_code: int, request_id: str | None, body: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
        self.body = body

    @property
    def status(self) -> int:
        """The HTTP status code (the same as ``status_code``)."""
        return self.status_code

    def __str__(self) -> str:
        return f"{self.message} (status {self.status_code}, request id: {self.request_id or 'none'})"


class WebhookSignatureError(B2BRouterError):
    """A webhook's signature header is malformed, does not match, or is too old or too new."""


def status_error_class(status_code: int, code: str | None = None) -> type[APIStatusError]:
    """Return the exception class for an HTTP status (and the body's error ``code``)."""
    if status_code == 403 and code == "no_account_group":
        return AccountNotEnabledError
    if status_code in (400, 422):
        return InvalidRequestError
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, APIStatusError)


_BY_STATUS: dict[int, type[APIStatusError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


@dataclass
class ErrorDetails:
    """What an error body says, whatever its shape."""

    message: str
    code: str | None = None
    param: str | None = None
    error_type: str | None = None
    messages: list[str] = field(default_factory=list)
    json_body: Any = None


def parse_error_body(text: str, content_type: str, fallback: str) -> ErrorDetails:
    """Read an error body: ``{"error": {...}}``, ``{"errors": [...]}``, text, XML/HTML or nothing.

    ``fallback`` (the HTTP reason phrase) is the message of an empty or unreadable body.
    """
    stripped = text.strip()
    if not stripped:
        return ErrorDetails(message=fallback)
    content_type = content_type.lower()
    if "json" in content_type or stripped[0] in "{[":
        try:
            data = json.loads(stripped, parse_float=Decimal)
        except ValueError:
            pass
        else:
            return _from_json(data, fallback)
    if "xml" in content_type or "html" in content_type or stripped.startswith("<"):
        return _from_markup(stripped, fallback)
    line = _clip(" ".join(stripped.split()))
    return ErrorDetails(message=line, messages=[line])


def _from_json(data: Any, fallback: str) -> ErrorDetails:
    details = ErrorDetails(message="", json_body=data)
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            details.code = _opt_str(error.get("code"))
            details.param = _opt_str(error.get("param"))
            details.error_type = _opt_str(error.get("type"))
            details.message = _opt_str(error.get("message")) or ""
            for key in ("messages", "errors", "details"):
                details.messages.extend(_messages(error.get(key), details))
        elif error is not None:
            details.message = _text(error)
        details.messages.extend(_messages(data.get("errors"), details))
        if not details.message:
            details.message = _opt_str(data.get("message")) or ""
        details.code = details.code or _opt_str(data.get("code"))
        details.param = details.param or _opt_str(data.get("param"))
    elif isinstance(data, list):
        details.messages.extend(_messages(data, details))
    elif data is not None:
        details.message = _text(data)
    if details.message and not details.messages:
        details.messages.append(details.message)
    details.messages = [_clip(m) for m in details.messages if m][:_MAX_MESSAGES]
    if not details.message:
        details.message = "; ".join(details.messages) or fallback
    details.message = _clip(details.message)
    return details


def _messages(value: Any, details: ErrorDetails) -> list[str]:
    """Flatten a list, a ``{"field": [...]}`` mapping or a string of error messages."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, dict):
                message = _opt_str(item.get("message")) or _opt_str(item.get("detail"))
                details.code = details.code or _opt_str(item.get("code"))
                details.param = details.param or _opt_str(item.get("param") or item.get("field"))
                out.append(message or _text(item))
            else:
                out.append(_text(item))
        return out
    if isinstance(value, dict):
        out = []
        for name, problems in value.items():
            details.param = details.param or str(name)
            for problem in problems if isinstance(problems, list) else [problems]:
                # Rails' convention: errors on :base read as whole sentences.
                out.append(_text(problem) if name == "base" else f"{name} {_text(problem)}")
        return out
    return [_text(value)]


class _TextCollector(HTMLParser):
    """Collect the text of each element of an XML or HTML body, skipping scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[tuple[str, str]] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        tag = self._stack[-1] if self._stack else ""
        if tag in ("script", "style"):
            return
        text = " ".join(data.split())
        if text:
            self.pieces.append((tag, text))


def _from_markup(text: str, fallback: str) -> ErrorDetails:
    collector = _TextCollector()
    try:
        collector.feed(text)
        collector.close()
    except Exception:  # noqa: BLE001 - an unreadable error page must not hide the status error
        pass
    pieces = collector.pieces
    code = next((t for tag, t in pieces if tag == "code"), None)
    chosen = [t for tag, t in pieces if tag in ("error", "message")] or [t for _, t in pieces if t != code]
    messages: list[str] = []
    for piece in chosen:
        if not messages or messages[-1] != piece:  # an HTML page repeats its title in an <h1>
            messages.append(_clip(piece))
    messages = messages[:_MAX_MESSAGES]
    return ErrorDetails(message=_clip("; ".join(messages)) or fallback, code=code, messages=messages)


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else _text(value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _clip(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > _MAX_MESSAGE_CHARS:
        return text[: _MAX_MESSAGE_CHARS - 1] + "…"
    return text
