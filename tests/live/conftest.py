"""The backend of the live contract suite: the simulator in-process, or a real B2Brouter.

By default (``make test``, CI) every test here runs against the simulator, in-process: no
port, no network. Only ``make test-live`` selects a real B2Brouter environment: it sets
``B2BROUTER_LIVE_SUITE=1``, and the credentials come from ``B2BROUTER_LIVE_API_KEY`` and
``B2BROUTER_LIVE_ACCOUNT_ID`` (``B2BROUTER_LIVE_BASE_URL`` for staging; production's host
otherwise, where a ``test_`` key is the sandbox). Credentials alone never select it.

Against a real environment the tests create only unsent invoices and contacts whose number or
name starts with ``B2BINVOICE-LIVE-<random>``, and delete them when each test ends.
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from b2brouter import PRODUCTION_BASE_URL, B2BRouter, NotFoundError

LIVE_FLAG = "B2BROUTER_LIVE_SUITE"
KEY_VAR = "B2BROUTER_LIVE_API_KEY"
ACCOUNT_VAR = "B2BROUTER_LIVE_ACCOUNT_ID"
BASE_URL_VAR = "B2BROUTER_LIVE_BASE_URL"
ALLOW_PRODUCTION_VAR = "B2BROUTER_LIVE_ALLOW_PRODUCTION"

#: Every record the suite creates starts with this, so a stray one is easy to recognise.
PREFIX = f"B2BINVOICE-LIVE-{secrets.token_hex(4).upper()}"

SIM_BASE_URL = "http://testserver/sim"
LIVE_DIR = os.path.dirname(__file__)


def live_selected() -> bool:
    """Tell whether this run targets a real B2Brouter (only under ``make test-live``)."""
    return os.environ.get(LIVE_FLAG) == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Against the simulator the tests need the test database; against B2Brouter they do not.
    if live_selected():
        return
    for item in items:
        if str(item.path).startswith(LIVE_DIR):
            item.add_marker(pytest.mark.django_db)


@dataclass
class Backend:
    """Where the contract tests run: a client, the account it acts on, and what it created."""

    name: str  # "simulator" or "live"
    client: B2BRouter
    account_id: int
    base_url: str
    api_key: str = field(repr=False)
    invoices: list[int] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)

    @property
    def is_live(self) -> bool:
        return self.name == "live"

    def new_client(self, api_key: str) -> B2BRouter:
        """Return another client on the same backend, e.g. with a wrong key."""
        if self.is_live:
            return B2BRouter(api_key, base_url=self.base_url, app_info="b2binvoice-live-suite")
        from tests.support import inprocess_transport

        return B2BRouter(api_key, base_url=self.base_url, transport=inprocess_transport())

    def cleanup(self) -> list[str]:
        """Delete what the test created (invoices first); return what could not be deleted."""
        left: list[str] = []
        for kind, ids, delete in (
            ("invoice", self.invoices, self.client.invoices.delete),
            ("contact", self.contacts, self.client.contacts.delete),
        ):
            for record_id in reversed(ids):
                try:
                    delete(record_id)
                except NotFoundError:
                    pass  # the test deleted it already
                except Exception as exc:  # noqa: BLE001 - report every leftover, then go on
                    left.append(f"{kind} {record_id}: {exc}")
            ids.clear()
        return left


def _live_backend() -> Backend:
    key = os.environ.get(KEY_VAR, "").strip()
    account = os.environ.get(ACCOUNT_VAR, "").strip()
    if not key or not account:
        pytest.skip(f"live contract suite skipped: set {KEY_VAR} and {ACCOUNT_VAR}")
    base_url = os.environ.get(BASE_URL_VAR, "").strip() or PRODUCTION_BASE_URL
    production_host = base_url.rstrip("/") == PRODUCTION_BASE_URL
    if production_host and not key.startswith("test_") and os.environ.get(ALLOW_PRODUCTION_VAR) != "1":
        pytest.exit(
            f"refusing to run the live contract suite with a production key on {base_url}: use a sandbox "
            f"key (test_...), a staging key with {BASE_URL_VAR}, or set {ALLOW_PRODUCTION_VAR}=1 to create "
            "and delete unsent draft invoices on the production account",
            returncode=2,
        )
    try:
        account_id = int(account)
    except ValueError:
        pytest.exit(f"{ACCOUNT_VAR} must be the account's numeric id, got {account!r}", returncode=2)
    client = B2BRouter(key, base_url=base_url, app_info="b2binvoice-live-suite")
    return Backend("live", client, account_id, base_url, key)


def _simulator_backend() -> Backend:
    from django.conf import settings

    if "b2brouter_sim" not in settings.INSTALLED_APPS:
        pytest.skip("the simulator is not enabled")
    import httpx

    from tests.support import inprocess_transport

    with httpx.Client(transport=inprocess_transport(), base_url=SIM_BASE_URL) as http:
        response = http.post("/_control/accounts", json={"name": "Contract Live S.L.", "tin_value": "ESB12345674"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    key = body["api_key"]
    client = B2BRouter(key, base_url=SIM_BASE_URL, transport=inprocess_transport())
    return Backend("simulator", client, int(body["account"]["id"]), SIM_BASE_URL, key)


@pytest.fixture
def backend() -> Iterator[Backend]:
    """The backend of one test; whatever the test registered is deleted afterwards."""
    chosen = _live_backend() if live_selected() else _simulator_backend()
    try:
        yield chosen
    finally:
        try:
            left = chosen.cleanup()
        finally:
            chosen.client.close()
        if left:
            warnings.warn(f"could not delete records of the live suite ({PREFIX}): {'; '.join(left)}", stacklevel=1)
