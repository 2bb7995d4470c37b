"""Turn B2Brouter client errors into messages that say what went wrong and what to do."""

from __future__ import annotations

from dataclasses import dataclass


import b2brouter
from b2binvoice.core.texts import gettext as _


@dataclass
class Described:
    """An error as the integration shows and logs it."""

    text: str
    remote_message: str = ""
    request_id: str = ""


def _remote_message(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    if messages and isinstance(messages, (list, tuple)) and len(messages) > 1:
        return "; ".join(str(m) for m in messages)
    return str(getattr(exc, "message", "") or "")


#: B2Brouter's code for a key that is valid but not (yet) enabled for the API: staging keys wait for
#: B2Brouter's support to assign them an account group (developer.b2brouter.net, "Error codes").
NO_ACCOUNT_GROUP_CODE = "no_account_group"


def is_no_account_group(exc: Exception) -> bool:
    """Return whether B2Brouter refused a valid key that is not enabled for the API (403 no_account_group)."""
    return isinstance(exc, b2brouter.PermissionDeniedError) and getattr(exc, "code", None) == NO_ACCOUNT_GROUP_CODE


def no_account_group_text() -> str:
    """Say what a 403 no_account_group means and what to do about it."""
    return _("This API key is valid but not yet enabled for the API in this environment (B2Brouter code "
             "no_account_group). Ask B2Brouter support to enable API access for your account group.")


def is_connection_error(exc: Exception) -> bool:
    """Return whether the request never got an answer."""
    return isinstance(exc, b2brouter.APIConnectionError)


def describe(exc: Exception) -> Described:
    """Describe a client error; the remote text is returned apart so templates escape it."""
    request_id = str(getattr(exc, "request_id", "") or "")
    remote = _remote_message(exc)
    if isinstance(exc, b2brouter.APIConnectionError):
        return Described(_("B2Brouter did not answer (the connection failed or timed out)."), "", "")
    if isinstance(exc, b2brouter.AuthenticationError):
        text = _("B2Brouter refused the API key (401): check the key, and that it belongs to the chosen environment.")
    elif is_no_account_group(exc):
        text = no_account_group_text()
    elif isinstance(exc, b2brouter.PermissionDeniedError):
        text = _("The API key has no access to this B2Brouter account (403): check the account ID.")
    elif isinstance(exc, b2brouter.NotFoundError):
        text = _("B2Brouter could not find it (404).")
    elif isinstance(exc, b2brouter.ConflictError):
        text = _("B2Brouter refused the change in the invoice's current state (409).")
    elif isinstance(exc, b2brouter.RateLimitError):
        text = _("B2Brouter is limiting the request rate (429): try again in a minute.")
    elif isinstance(exc, b2brouter.ServerError):
        text = _("B2Brouter had an internal error (%(status)s): try again later.") % {
            "status": getattr(exc, "status_code", "5xx")}
    elif isinstance(exc, b2brouter.InvalidRequestError):
        text = _("B2Brouter rejected the request: fix what its message says and try again.")
    else:
        text = _("B2Brouter answered with an error.")
    return Described(text, remote, request_id)
