"""The one place the app builds a B2Brouter client and turns its answers into plain data.

Everything else in the integration talks to B2Brouter through :class:`Remote`,
which returns plain dicts with money as ``Decimal``, so a change in the client's
response types touches this module only.
"""

from __future__ import annotations

import contextvars
import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from b2brouter import (
    PRODUCTION_BASE_URL,
    PRODUCTION_WEB_URL,
    STAGING_BASE_URL,
    STAGING_WEB_URL,
    B2BRouter,
)

from .models import B2BrouterIntegration, Environment

API_BASES = {Environment.PRODUCTION: PRODUCTION_BASE_URL, Environment.STAGING: STAGING_BASE_URL}
WEB_BASES = {Environment.PRODUCTION: PRODUCTION_WEB_URL, Environment.STAGING: STAGING_WEB_URL}
# Invoice lookups by number never need more than a handful of rows; the cap bounds a bad filter.
MAX_LIST_ROWS = 200


def api_base_url(environment: str) -> str:
    """Return the API base URL of ``environment``."""
    if environment == Environment.SIMULATOR:
        return str(settings.SIMULATOR_BASE_URL).rstrip("/")
    return API_BASES[Environment(environment)]


def web_invoice_url(environment: str, b2brouter_id: int) -> str:
    """Return where a user opens a B2Brouter invoice in the web app (or the simulator's pages)."""
    if environment == Environment.SIMULATOR:
        return f"{str(settings.SIMULATOR_BASE_URL).rstrip('/')}/app/invoices/{b2brouter_id}"
    return f"{WEB_BASES.get(environment, WEB_BASES[Environment.PRODUCTION])}/invoices/{b2brouter_id}"


#: Told the seconds of Retry-After (None when absent) of each 429 B2Brouter answers a Remote built in
#: the context that set it: the workers of a bulk run pause together (see bulk.py).
rate_limit_observer: contextvars.ContextVar[Callable[[float | None], None] | None] = contextvars.ContextVar(
    "b2brouter_rate_limit_observer", default=None)


def _observe_rate_limit(observer: Callable[[float | None], None]) -> Callable[[Any], None]:
    def hook(response: Any) -> None:
        if response.status_code == 429:
            try:
                observer(max(0.0, float(response.headers.get("retry-after", ""))))
            except ValueError:
                observer(None)
    return hook


def _transport() -> Any:
    factory = getattr(settings, "B2BROUTER_TRANSPORT_FACTORY", None)
    if not factory:
        return None
    return (import_string(factory) if isinstance(factory, str) else factory)()


def build_client(*, api_key: str, environment: str) -> B2BRouter:
    """Build the B2Brouter client for a key and environment."""
    return B2BRouter(
        api_key,
        base_url=api_base_url(environment),
        timeout=float(getattr(settings, "B2BROUTER_TIMEOUT", 20)),
        max_retries=int(getattr(settings, "B2BROUTER_MAX_RETRIES", 2)),
        transport=_transport(),
    )


def to_decimal(value: Any) -> Decimal | None:
    """Parse an amount sent as a JSON number or string, never through float arithmetic."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def plain(obj: Any) -> Any:
    """Turn the client's response objects (dicts, dataclasses, TypedDicts) into plain dicts and lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def _unwrap(data: Any, name: str) -> dict[str, Any]:
    data = plain(data)
    if isinstance(data, dict) and isinstance(data.get(name), dict):
        return data[name]  # a client that hands back the wire envelope
    return data if isinstance(data, dict) else {}


def _rows(result: Any, name: str) -> list[dict[str, Any]]:
    if isinstance(result, Mapping) and name in result:
        result = result[name]
    elif hasattr(result, "data") and not isinstance(result, Iterable):
        result = result.data
    return [_unwrap(row, name[:-1]) for row in itertools.islice(iter(result), MAX_LIST_ROWS)]


class Remote:
    """The B2Brouter calls the integration makes, answering plain data."""

    def __init__(self, *, api_key: str, environment: str, account_id: str) -> None:
        self.environment = environment
        self.account_id = account_id
        self.client = build_client(api_key=api_key, environment=environment)
        observer = rate_limit_observer.get()
        http = getattr(self.client, "_http", None)
        if observer is not None and http is not None:
            http.event_hooks["response"].append(_observe_rate_limit(observer))

    def __del__(self) -> None:
        # Release the connection pool with the object; a Remote lives for one request.
        client = getattr(self, "client", None)
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 (closing at collection must never raise)
                pass

    @classmethod
    def for_integration(cls, integration: B2BrouterIntegration) -> "Remote":
        """Return a Remote for the integration's stored credentials."""
        return cls(api_key=integration.api_key, environment=integration.environment,
                   account_id=integration.account_id)

    def _account(self) -> Any:
        # The client accepts the account as given; numeric ids are sent as such.
        return int(self.account_id) if str(self.account_id).isdigit() else self.account_id

    def account(self) -> dict[str, Any]:
        """Read the account."""
        return _unwrap(self.client.accounts.retrieve(self._account()), "account")

    def update_account(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the account's writable fields."""
        return _unwrap(self.client.accounts.update(self._account(), changes), "account")

    def find_contact_by_tin(self, tin: str, country: str | None = None) -> dict[str, Any] | None:
        """Return the account's contact with this (normalised) TIN, or None."""
        found = self.client.contacts.find_by_tin(self._account(), tin, country=country)
        return _unwrap(found, "contact") if found else None

    def create_contact(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a contact in the account."""
        return _unwrap(self.client.contacts.create(self._account(), data), "contact")

    def contacts(self, **filters: Any) -> list[dict[str, Any]]:
        """List the account's contacts matching ``filters``."""
        return _rows(self.client.contacts.list(self._account(), **filters), "contacts")

    def contact(self, contact_id: int) -> dict[str, Any]:
        """Read one contact."""
        return _unwrap(self.client.contacts.retrieve(contact_id), "contact")

    def update_contact(self, contact_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Change a contact's fields (``PUT /contacts/{id}``)."""
        return _unwrap(self.client.contacts.update(contact_id, changes), "contact")

    def create_invoice(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create an invoice, unsent."""
        return _unwrap(self.client.invoices.create(self._account(), data, send_after_import=False), "invoice")

    def invoices(self, **filters: Any) -> list[dict[str, Any]]:
        """List the account's invoices matching ``filters``."""
        return _rows(self.client.invoices.list(self._account(), **filters), "invoices")

    def invoice(self, invoice_id: int) -> dict[str, Any]:
        """Read one invoice."""
        return _unwrap(self.client.invoices.retrieve(invoice_id), "invoice")

    def send_invoice(self, invoice_id: int) -> dict[str, Any]:
        """Send an invoice; answer what B2Brouter returned (possibly nothing)."""
        return _unwrap(self.client.invoices.send(invoice_id), "invoice")

    def delete_invoice(self, invoice_id: int) -> None:
        """Delete an invoice (only possible in new or error)."""
        self.client.invoices.delete(invoice_id)

    def download(self, invoice_id: int, document_type: str) -> bytes:
        """Download a document of the invoice."""
        return bytes(self.client.invoices.download(invoice_id, document_type))

    def iter_invoices(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Yield every invoice of the account matching ``filters``, page after page."""
        for row in self.client.invoices.list(self._account(), **filters):
            yield _unwrap(row, "invoice")

    def register_webhook(self, *, url: str, events: list[str]) -> dict[str, Any]:
        """Register an endpoint for ``events``; the answer carries the signing secret, once."""
        return _unwrap(self.client.web_hooks.create(url, events=list(events), enabled=True), "web_hook")

    def delete_webhook(self, webhook_id: str) -> None:
        """Remove a registered endpoint."""
        self.client.web_hooks.delete(webhook_id)

    def directory_entry(self, country: str, scheme: str, identifier: str) -> dict[str, Any] | None:
        """Look a receiver up in B2Brouter's directory; None when it is not listed.

        Only B2Brouter's documented "resource missing" 404 means "not listed"; any other 404 (an
        environment with no directory at this path) is raised by the client, so the user is told
        the check failed instead of being told the receiver is unknown (see docs/client.md).
        """
        entry = self.client.directory.lookup(country, scheme, identifier)
        return None if entry is None else dict(plain(entry))
