"""The one place the app builds a B2Brouter client and turns its answers into plain data.

Everything else in the integration talks to B2Brouter through :class:`Remote`,
which returns plain dicts with money as ``Decimal``, so a change in the client's
response types touches this module only.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import dataclasses
import hashlib
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from b2brouter import (
    PRODUCTION_BASE_URL,
    PRODUCTION_WEB_URL,
    STAGING_BASE_URL,
    STAGING_WEB_URL,
    B2BRouter,
)

from . import contact_cache
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


#: Told the seconds of Retry-After (None when absent) of each 429 B2Brouter answers a call made in
#: the context that set it: the workers of a bulk run pause together (see bulk.py).
rate_limit_observer: contextvars.ContextVar[Callable[[float | None], None] | None] = contextvars.ContextVar(
    "b2brouter_rate_limit_observer", default=None)


@contextlib.contextmanager
def observing_rate_limits(observer: Callable[[float | None], None]) -> Iterator[None]:
    """Tell ``observer`` of every 429 B2Brouter answers the calls made in this context (thread), until the end."""
    token = rate_limit_observer.set(observer)
    try:
        yield
    finally:
        rate_limit_observer.reset(token)


def _report_rate_limit(retry_after: float | None) -> None:
    """Tell the observer of the calling context (a bulk run's worker) about a 429 and its Retry-After."""
    observer = rate_limit_observer.get()
    if observer is not None:
        observer(retry_after)


def _transport() -> Any:
    factory = getattr(settings, "B2BROUTER_TRANSPORT_FACTORY", None)
    if not factory:
        return None
    return (import_string(factory) if isinstance(factory, str) else factory)()


def build_client(*, api_key: str, environment: str) -> B2BRouter:
    """Build a new B2Brouter client for a key and environment (its own connection pool).

    Its 429s go to ``_report_rate_limit`` (the client's ``on_rate_limited``), which reads the
    observer of the calling thread's context: the client is shared, the observer is not.
    """
    return B2BRouter(
        api_key,
        base_url=api_base_url(environment),
        timeout=float(getattr(settings, "B2BROUTER_TIMEOUT", 20)),
        max_retries=int(getattr(settings, "B2BROUTER_MAX_RETRIES", 2)),
        transport=_transport(),
        on_rate_limited=_report_rate_limit,
    )


# One client per process and credentials: its connection pool keeps connections (and their TLS
# sessions) open between page views and tasks. httpx clients are safe to share between threads.
_clients: dict[tuple[str, ...], B2BRouter] = {}
_clients_lock = threading.Lock()


def shared_client(*, api_key: str, environment: str) -> B2BRouter:
    """Return this process's client for a key and environment, building it on first use."""
    key = (hashlib.sha256(api_key.encode()).hexdigest(), environment, api_base_url(environment),
           str(getattr(settings, "B2BROUTER_TIMEOUT", 20)), str(getattr(settings, "B2BROUTER_MAX_RETRIES", 2)),
           repr(getattr(settings, "B2BROUTER_TRANSPORT_FACTORY", None)))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = build_client(api_key=api_key, environment=environment)
        return client


def close_clients(**kwargs: Any) -> None:
    """Close and forget every shared client (settings changed, or the process ends)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        try:
            client.close()
        except Exception:  # noqa: BLE001 (closing must never raise)
            pass


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("B2BROUTER_") or setting == "SIMULATOR_BASE_URL":
        close_clients()


setting_changed.connect(_on_setting_changed, dispatch_uid="einvoicing.remote.clients")
atexit.register(close_clients)


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

    def __init__(self, *, api_key: str, environment: str, account_id: str, integration_id: int | None = None) -> None:
        self.environment = environment
        self.account_id = account_id
        # Contact lookups are remembered per integration (see contact_cache.py); None: always ask.
        self.integration_id = integration_id
        self.client = shared_client(api_key=api_key, environment=environment)

    @classmethod
    def for_integration(cls, integration: B2BrouterIntegration) -> "Remote":
        """Return a Remote for the integration's stored credentials (the process's shared client)."""
        return cls(api_key=integration.api_key, environment=integration.environment,
                   account_id=integration.account_id, integration_id=integration.pk)

    def _account(self) -> Any:
        # The client accepts the account as given; numeric ids are sent as such.
        return int(self.account_id) if str(self.account_id).isdigit() else self.account_id

    def account(self) -> dict[str, Any]:
        """Read the account."""
        return _unwrap(self.client.accounts.retrieve(self._account()), "account")

    def update_account(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the account's writable fields."""
        return _unwrap(self.client.accounts.update(self._account(), changes), "account")

    def find_contact_by_tin(self, tin: str, country: str | None = None, *, fresh: bool = False) -> dict[str, Any] | None:
        """Return the account's contact with this (normalised) TIN, or None.

        A remembered answer (found or not) is returned without asking B2Brouter unless ``fresh``;
        a found contact is then only ``{"id": ...}``.
        """
        if self.integration_id is not None and not fresh:
            known = contact_cache.remembered(self.integration_id, self.account_id, tin, country)
            if known is not None:
                return {"id": known.contact_id} if known.contact_id else None
        found = self.client.contacts.find_by_tin(self._account(), tin, country=country)
        contact = _unwrap(found, "contact") if found else None
        if self.integration_id is not None:
            contact_id = contact.get("id") if contact else None
            contact_cache.remember(self.integration_id, self.account_id, tin, country,
                                   int(contact_id) if contact_id else None)
        return contact

    def create_contact(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a contact in the account (which makes remembered "no contact" answers stale)."""
        created = _unwrap(self.client.contacts.create(self._account(), data), "contact")
        if self.integration_id is not None:
            contact_cache.forget_not_found(self.integration_id)
        return created

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

    def mark_as(self, invoice_id: int, state: str) -> dict[str, Any]:
        """Change an invoice's state by hand (e.g. ``paid``)."""
        return _unwrap(self.client.invoices.mark_as(invoice_id, state), "invoice")  # type: ignore[arg-type]

    def add_attachment(self, invoice_id: int, content: bytes, *, filename: str, use_as_pdf_view: bool) -> None:
        """Attach a file to an invoice (our PDF, as its PDF view when ``use_as_pdf_view``)."""
        self.client.invoices.add_attachment(invoice_id, content, filename=filename, use_as_pdf_view=use_as_pdf_view)

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

    def tax_report_settings(self) -> list[dict[str, Any]]:
        """List the account's tax report settings (Verifactu, TicketBAI)."""
        return [dict(plain(row)) for row in itertools.islice(
            iter(self.client.tax_report_settings.list(self._account())), MAX_LIST_ROWS)]

    def create_tax_report_setting(self, data: dict[str, Any]) -> dict[str, Any]:
        """Switch tax reporting on for the account (``POST .../tax_report_settings``)."""
        return _unwrap(self.client.tax_report_settings.create(self._account(), data), "tax_report_setting")

    def update_tax_report_setting(self, code: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the account's tax report setting ``code`` (``PUT .../tax_report_settings/{code}``)."""
        return _unwrap(self.client.tax_report_settings.update(self._account(), code, changes),  # type: ignore[arg-type]
                       "tax_report_setting")

    def tax_report(self, tax_report_id: int) -> dict[str, Any]:
        """Read a Verifactu/TicketBAI record (``GET /tax_reports/{id}``)."""
        return _unwrap(self.client.tax_reports.retrieve(tax_report_id), "tax_report")

    def correct_tax_report(self, tax_report_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Send a correction (subsanación) of a record (``PATCH /tax_reports/{id}``); answers the new record."""
        return _unwrap(self.client.tax_reports.update(tax_report_id, changes), "tax_report")  # type: ignore[arg-type]

    def annul_tax_report(self, tax_report_id: int) -> dict[str, Any]:
        """Cancel a record (anulación, ``DELETE /tax_reports/{id}``); answers the cancellation record."""
        return _unwrap(self.client.tax_reports.delete(tax_report_id), "tax_report")

    def directory_entry(self, country: str, scheme: str, identifier: str) -> dict[str, Any] | None:
        """Look a receiver up in B2Brouter's directory; None when it is not listed.

        Only B2Brouter's documented "resource missing" 404 means "not listed"; any other 404 (an
        environment with no directory at this path) is raised by the client, so the user is told
        the check failed instead of being told the receiver is unknown (see docs/client.md).
        """
        entry = self.client.directory.lookup(country, scheme, identifier)
        return None if entry is None else dict(plain(entry))
