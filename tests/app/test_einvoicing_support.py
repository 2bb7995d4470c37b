"""Fixtures and helpers for the B2Brouter integration tests (no tests here): the real simulator, in-process."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import Company, Membership, PaymentMethod, PaymentMethodType, Tax, TaxKind
from b2binvoice.einvoicing.models import B2BrouterIntegration
from b2binvoice.invoices.models import Invoice, InvoiceLine, InvoiceTax
from tests.support import inprocess_transport

API_VERSION = "2026-03-02"
VALID_IBAN = "ES9121000418450200051332"
INVALID_IBAN = "ES9121000418450200051331"
CLIENT_TIN = "ESB58378431"


class SimulatorTransport(httpx.BaseTransport):
    """The in-process transport, turning the simulator's "no answer" fault on a POST into a read timeout.

    Over a socket the withheld answer makes the client time out; in-process the answer
    arrives with ``X-Sim-Fault: no-answer``, so this does what the network would have done.
    """

    def __init__(self) -> None:
        self.inner = inprocess_transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and response.headers.get("X-Sim-Fault") == "no-answer":
            response.read()
            raise httpx.ReadTimeout("simulated: the answer never came", request=request)
        return response


class Counting(SimulatorTransport):
    """The simulator's transport, keeping every request that leaves (a test installs it as the factory)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)

    def reads_of(self, contact_id: int) -> int:
        """Return how many times contact ``contact_id`` was read since the last count."""
        count = sum(1 for r in self.requests if r.method == "GET" and r.url.path.endswith(f"/contacts/{contact_id}"))
        self.requests.clear()
        return count


def simulator_transport() -> httpx.BaseTransport:
    """Return the transport the app's B2Brouter client uses in these tests."""
    return SimulatorTransport()


@pytest.fixture(autouse=True)
def _b2brouter_settings(settings: Any) -> None:
    settings.B2BROUTER_TRANSPORT_FACTORY = "tests.app.test_einvoicing_support.simulator_transport"
    settings.SIMULATOR_BASE_URL = "http://testserver/sim"
    settings.B2BROUTER_MAX_RETRIES = 0
    settings.B2BROUTER_TIMEOUT = 5


class Sim:
    """Drive the simulator's control surface and API the way a test needs."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def create_account(self, **options: Any) -> tuple[dict[str, Any], str]:
        # The app's integration tests run with answers as lean as B2Brouter documents them
        # (no taxes[].category, no event_id in notifications) unless a test asks otherwise.
        options.setdefault("minimal_answers", True)
        response = self.http.post("/sim/_control/accounts", data=json.dumps(options), content_type="application/json")
        assert response.status_code == 201, response.content
        body = response.json()
        return body["account"], body["api_key"]

    def api(self, method: str, path: str, key: str, body: Any = None) -> Any:
        kwargs: dict[str, Any] = {"HTTP_X_B2B_API_KEY": key, "HTTP_X_B2B_API_VERSION": API_VERSION}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        response = getattr(self.http, method.lower())(f"/sim{path}", **kwargs)
        assert response.status_code < 400, response.content
        return response.json() if response.content else None

    def invoices(self, account_id: int, key: str) -> list[dict[str, Any]]:
        return self.api("GET", f"/accounts/{account_id}/invoices?limit=500", key)["invoices"]

    def set_faults(self, account_id: int, key: str, **faults: Any) -> None:
        self.api("PUT", f"/_control/accounts/{account_id}/faults", key, faults)

    def update_account(self, account_id: int, key: str, **changes: Any) -> dict[str, Any]:
        return self.api("PUT", f"/accounts/{account_id}", key, {"account": changes})["account"]

    def create_contact(self, account_id: int, key: str, **contact: Any) -> dict[str, Any]:
        return self.api("POST", f"/accounts/{account_id}/contacts", key, {"contact": contact})["contact"]

    def list_participant(self, country: str, scheme: str, identifier: str, **entry: Any) -> dict[str, Any]:
        """List a receiver in the simulated directory (transport peppol and document UBL BIS 3 by default)."""
        response = self.http.put(f"/sim/_control/directory/{country}/{scheme}/{identifier}",
                                 data=json.dumps(entry), content_type="application/json")
        assert response.status_code == 200, response.content
        return response.json()["directory_entry"]

    def unlist_participant(self, country: str, scheme: str, identifier: str) -> None:
        """Remove a receiver from the simulated directory."""
        response = self.http.delete(f"/sim/_control/directory/{country}/{scheme}/{identifier}")
        assert response.status_code == 200, response.content


@pytest.fixture
def sim(db: Any) -> Sim:
    return Sim(HttpClient())


@pytest.fixture
def company(db: Any) -> Company:
    return Company.objects.create(name="Lingua Test S.L.", tin="ESB12345674", country="ES")


@pytest.fixture
def user(company: Company) -> Any:
    member = get_user_model().objects.create_user("member", password="pw-member-1")
    Membership.objects.create(user=member, company=company, role="owner")
    return member


@pytest.fixture
def web(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def other_web(db: Any) -> HttpClient:
    other = Company.objects.create(name="Other Company B.V.", tin="NL004495445B01", country="NL")
    outsider = get_user_model().objects.create_user("outsider", password="pw-outsider-1")
    Membership.objects.create(user=outsider, company=other)
    http = HttpClient()
    http.force_login(outsider)
    return http


@pytest.fixture
def account(sim: Sim) -> tuple[dict[str, Any], str]:
    """A simulator account with the required calculation settings."""
    return sim.create_account(name="Lingua Test S.L.", tin_value="ESB12345674", country="es",
                              rounding_method="half_up", round_before_sum=True, apply_taxes_per_line=False)


@pytest.fixture
def integration(company: Company, account: tuple[dict[str, Any], str], web: HttpClient) -> B2BrouterIntegration:
    """The company connected to the simulator account through the settings page."""
    data, key = account
    response = web.post("/settings/integrations/b2brouter/", {
        "enabled": "on", "environment": "simulator", "api_key": key, "account_id": str(data["id"]),
        "send_after_create": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return B2BrouterIntegration.objects.get(company=company)


@pytest.fixture
def bank(company: Company) -> PaymentMethod:
    return PaymentMethod.objects.create(company=company, name="Main account", type=PaymentMethodType.BANK_TRANSFER,
                                        iban=VALID_IBAN, bic="CAIXESBBXXX")


@pytest.fixture
def vat(company: Company) -> Tax:
    return Tax.objects.create(company=company, name="IVA 21%", kind=TaxKind.PERCENTAGE, rate=Decimal("21"),
                              category="S")


@pytest.fixture
def customer(company: Company) -> Client:
    return Client.objects.create(company=company, name="Übersetzungen Kunde S.A.", tin=CLIENT_TIN, country="ES",
                                 address="Calle Mayor 1", city="Barcelona", postal_code="08001")


def make_invoice(company: Company, client: Client, *, number: str = "INV-0001", taxes: list[Tax] = (),
                 payment_method: PaymentMethod | None = None,
                 lines: list[tuple[str, str]] = (("1234", "0.085"),)) -> Invoice:
    """Create an invoice with (quantity, unit price) lines and copies of ``taxes``."""
    invoice = Invoice.objects.create(company=company, client=client, number=number, issue_date=dt.date(2026, 11, 2),
                                     due_date=dt.date(2026, 12, 2), currency="EUR", payment_method=payment_method)
    for position, (quantity, price) in enumerate(lines):
        InvoiceLine.objects.create(invoice=invoice, position=position, description=f"Translation {position + 1}",
                                   quantity=Decimal(quantity), unit="words", unit_price=Decimal(price))
    for tax in taxes:
        InvoiceTax.copy_of(tax, invoice).save()
    return invoice


def contact_for(sim: Sim, account: tuple[dict[str, Any], str], client: Client) -> dict[str, Any]:
    """Create the client's contact in the simulator behind the app's back (as if made in B2Brouter)."""
    data, key = account
    return sim.create_contact(data["id"], key, name=client.name, tin_value=client.tin, country="es", is_client=True)


def section(web: HttpClient, invoice: Invoice) -> str:
    """Return the invoice's B2Brouter section as a user sees it."""
    response = web.get(f"/invoices/{invoice.pk}/b2brouter/")
    assert response.status_code == 200
    return response.content.decode()


#: The hidden field of a confirmation (Create, Send, Delete and create again) and its token.
CONFIRM_TOKEN = re.compile(r'name="confirm" value="([0-9a-f]+)"')


def confirmed(web: HttpClient, url: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    """POST an action that asks first, as a user does: press it, read the confirmation, confirm it.

    The first POST is answered with the confirmation (what leaves, to whom) and its token; the
    second carries the token. When the first is refused or blocked, there is nothing to confirm and
    its answer is returned.
    """
    asked = web.post(url, data or {}, **extra)
    found = CONFIRM_TOKEN.search(asked.content.decode()) if asked.status_code == 200 else None
    if found is None:
        return asked
    return web.post(url, {**(data or {}), "confirm": found[1]}, **extra)
