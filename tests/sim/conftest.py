"""Fixtures for the simulator's tests: talk to /sim/ over HTTP with Django's test client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

VERSION = "2026-03-02"


class Sim:
    """A small HTTP helper around Django's test client for the simulated API."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def new_account(self, **options: Any) -> tuple[dict[str, Any], str]:
        """Create an account through the control surface; return (account, api_key)."""
        response = self.client.post("/sim/_control/accounts", json.dumps(options), content_type="application/json")
        assert response.status_code == 201, response.content
        body = response.json()
        return body["account"], body["api_key"]

    def sign_in(self) -> None:
        """Log the client in to the host app: the web app's pages under /sim/app/ require it."""
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.get_or_create(username="sim-web-user")
        self.client.force_login(user)

    def call(self, method: str, path: str, key: str | None, body: Any = None, *, version: str | None = VERSION,
             **query: Any) -> Any:
        """Call the API with the usual headers; `path` is relative to /sim/."""
        headers: dict[str, str] = {"HTTP_ACCEPT": "application/json"}
        if key is not None:
            headers["HTTP_X_B2B_API_KEY"] = key
        if version is not None:
            headers["HTTP_X_B2B_API_VERSION"] = version
        url = "/sim/" + path.lstrip("/")
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        elif query:
            kwargs = {"data": query}
        return getattr(self.client, method.lower())(url, **kwargs, **headers)


class Account:
    """An account created for a test, with shortcuts for its contacts and invoices."""

    def __init__(self, sim: Sim, data: dict[str, Any], key: str) -> None:
        self.sim, self.data, self.key, self.id = sim, data, key, data["id"]

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.sim.call(method, path, self.key, body, **kwargs)

    def contact(self, **fields: Any) -> dict[str, Any]:
        data = {"name": "Acme Ltd", "tin_value": "DE136695976", "country": "de", "is_client": True} | fields
        response = self.call("POST", f"accounts/{self.id}/contacts", {"contact": data})
        assert response.status_code == 201, response.content
        return response.json()["contact"]

    def create_invoice(self, send_after_import: bool = False, **fields: Any) -> Any:
        return self.call("POST", f"accounts/{self.id}/invoices", {"invoice": fields, "send_after_import": send_after_import})

    def invoice(self, **fields: Any) -> dict[str, Any]:
        if "contact_id" not in fields and "contact" not in fields:
            fields["contact_id"] = self.contact(tin_value=fields.pop("_tin", "DE136695976"))["id"]
        data = {"number": "INV-1", "date": "2026-01-15", "invoice_lines_attributes": [line()]} | fields
        response = self.create_invoice(**data)
        assert response.status_code == 201, response.content
        return response.json()["invoice"]


def line(quantity: Any = "1", price: Any = "100", percent: Any = "21", **extra: Any) -> dict[str, Any]:
    """Return an invoice line with one IVA tax."""
    return {
        "description": "Translation",
        "quantity": quantity,
        "price": price,
        "taxes_attributes": [{"name": "IVA", "category": "S", "percent": percent}],
    } | extra


@pytest.fixture
def sim(client: Client, db: None) -> Sim:
    return Sim(client)


@pytest.fixture
def signed_in(sim: Sim) -> Sim:
    """The simulator's client, logged in to the host app (for the pages under /sim/app/)."""
    sim.sign_in()
    return sim


@pytest.fixture
def account(sim: Sim) -> Account:
    data, key = sim.new_account(name="Test Co S.L.", tin_value="ESB12345674")
    return Account(sim, data, key)


@pytest.fixture
def instant_tasks(settings: Any) -> None:
    """Make state changes and webhook retries due immediately, so a batch worker runs them."""
    settings.B2BROUTER_SIM_STEP_DELAY = 0
    settings.B2BROUTER_SIM_WEBHOOK_BACKOFF = 0
