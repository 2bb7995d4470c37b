"""Seed the simulator with the demo company's account, contacts and one invoice (idempotent)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from b2brouter_sim import backend
from b2brouter_sim.models import SimAccount, SimContact, SimInvoice, hash_api_key
from b2brouter_sim.validation import normalise_tin

DEMO_ACCOUNT = {
    "name": "Lingua Demo S.L.",
    "tin_value": "ESA28017895",
    "country": "es",
    "currency": "EUR",
    # Deliberately not the required half_up / true / false, so the app's settings check warns.
    "rounding_method": "bankers",
    "round_before_sum": False,
    "apply_taxes_per_line": True,
}
# The directory knows two of them: Nordlicht receives on Peppol, Lumière by email; Delta is not
# listed. So the app's directory lookup shows every answer on the demo data.
DEMO_DIRECTORY = [
    ("de", "9930", "DE136695976", {"name": "Nordlicht Übersetzungen GmbH", "transport_type_code": "peppol",
                                   "document_type_code": "xml.ubl.invoice.bis3"}),
    ("fr", "9957", "FR40303265045", {"name": "Traductions Lumière SARL", "transport_type_code": "email",
                                     "document_type_code": "pdf.invoice"}),
]
DEMO_CONTACTS = [
    {"name": "Nordlicht Übersetzungen GmbH", "tin_value": "DE136695976", "country": "de"},
    {"name": "Traductions Lumière SARL", "tin_value": "FR40303265045", "country": "fr"},
    {"name": "Vertaalbureau Delta B.V.", "tin_value": "NL004495445B01", "country": "nl"},
]
# Tax names as B2Brouter documents them for a Spanish company (IVA, category S), not local labels.
DEMO_INVOICE = {
    "number": "LD-0001",
    "date": "2026-11-02",
    "due_date": "2026-12-02",
    "currency": "EUR",
    "invoice_lines_attributes": [
        {
            "description": "Translation DE>EN, technical manual (12,000 words)",
            "quantity": "12000",
            "price": "0.085",
            "taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"}],
        }
    ],
}


def demo_api_key() -> str:
    """Return the demo account's key: derived from SECRET_KEY, so stable per installation."""
    digest = hmac.new(settings.SECRET_KEY.encode(), b"b2brouter-sim-demo-account", hashlib.sha256).hexdigest()
    return "sim_demo_" + digest[:32]


class Command(BaseCommand):
    help = "Create (or reuse) the simulator's demo account for Lingua Demo S.L. and print its ID and API key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default=getattr(settings, "SIMULATOR_BASE_URL", "http://127.0.0.1:8000/sim"))

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        key = demo_api_key()
        account = SimAccount.objects.filter(tin_value=DEMO_ACCOUNT["tin_value"], name=DEMO_ACCOUNT["name"]).first()
        if account is None:
            account, _ = backend.create_account(**DEMO_ACCOUNT, api_key=key)  # type: ignore[arg-type]
        elif account.api_key_hash != hash_api_key(key):
            # SECRET_KEY changed since the last seed: re-key so the printed key works.
            account.api_key_hash = hash_api_key(key)
            account.save(update_fields=["api_key_hash"])
        for country, scheme, identifier, entry in DEMO_DIRECTORY:
            backend.register_participant(country, scheme, identifier, entry)
        contacts = {}
        for data in DEMO_CONTACTS:
            contact = SimContact.objects.filter(account=account, tin_key=normalise_tin(data["tin_value"])).first()
            if contact is None:
                contact = backend.create_contact(account, {**data, "is_client": True})
            contacts[data["tin_value"]] = contact
        if not SimInvoice.objects.filter(account=account, number=DEMO_INVOICE["number"]).exists():
            backend.create_invoice(account, {**DEMO_INVOICE, "contact_id": contacts["DE136695976"].pk})
        base_url = options["base_url"].rstrip("/")
        self.stdout.write(f"  B2Brouter simulator account: ID {account.pk}, API key {key}")
        self.stdout.write(f"  Simulator API base URL: {base_url}  (web app: {base_url}/app/)")
