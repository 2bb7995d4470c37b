"""Typed errors raised by the simulator's backend and their wire format.

    SimError                     -> {"error": {"code", "message", "type", "param"?}}
     ├── BadRequest              400 invalid_request_params
     ├── InvalidQuery            400 invalid_query (a list's `query` or `type` it cannot read)
     ├── MissingApiVersion       400 missing_api_version
     ├── InvalidApiVersion       400 invalid_api_version
     ├── Unauthorized            401 unauthorized
     ├── NotFound                404 resource_missing
     ├── MethodNotAllowed        405 method_not_allowed
     ├── Conflict                409 conflict
     ├── ValidationFailed        422 (code chosen by the raiser: parameter_blank, parameter_taken, ...)
     ├── RateLimited             429 rate_limited (+ Retry-After)
     ├── InjectedServerError     500 internal_error
     └── NotSimulated            501 not_simulated (a B2Brouter route the simulator lacks)
"""

from __future__ import annotations

from django.http import JsonResponse


class SimError(Exception):
    """An error the API answers with a JSON error body."""

    status = 400
    code = "invalid_request_params"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param

    def body(self) -> dict[str, object]:
        """Return the error body in B2Brouter's wire format."""
        error: dict[str, object] = {"code": self.code, "message": self.message, "type": "invalid_request_error"}
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}

    def to_response(self) -> JsonResponse:
        """Return the error as an HTTP response."""
        return JsonResponse(self.body(), status=self.status)


class BadRequest(SimError):
    status = 400
    code = "invalid_request_params"


class InvalidQuery(SimError):
    status = 400
    code = "invalid_query"


class MissingApiVersion(SimError):
    status = 400
    code = "missing_api_version"


class InvalidApiVersion(SimError):
    status = 400
    code = "invalid_api_version"


class Unauthorized(SimError):
    status = 401
    code = "unauthorized"


class NotFound(SimError):
    status = 404
    code = "resource_missing"


class MethodNotAllowed(SimError):
    status = 405
    code = "method_not_allowed"


class Conflict(SimError):
    status = 409
    code = "conflict"


class ValidationFailed(SimError):
    status = 422
    code = "invalid_request_params"


class RateLimited(SimError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_response(self) -> JsonResponse:
        """Return the 429 response with its Retry-After header."""
        response = super().to_response()
        response["Retry-After"] = str(self.retry_after)
        return response


class InjectedServerError(SimError):
    status = 500
    code = "internal_error"


class NotSimulated(SimError):
    status = 501
    code = "not_simulated"
