"""Demo data: the company "Lingua Demo S.L." with its clients, taxes, payment methods and invoices.

Everything is looked up by a natural key (user name, company name, client/tax/payment
method name, invoice number) and only created when missing, so seeding twice changes
nothing. The names and tax ids of the first clients and invoice LD-0001 match the
B2Brouter simulator's demo seed (``sim_seed_demo``), so the two can be linked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import (
    Company,
    Membership,
    PaymentMethod,
    PaymentMethodType,
    Tax,
    TaxKind,
    UnitMapping,
)
from b2binvoice.companies.units import UNITS
from b2binvoice.invoices.models import Invoice, InvoiceAdjustment, InvoiceLine, InvoiceStatus, InvoiceTax

DEMO_COMPANY = {
    "name": "Lingua Demo S.L.", "tin": "ESA28017895", "country": "ES", "address": "Carrer de Mallorca 401",
    "city": "Barcelona", "postal_code": "08013", "province": "Barcelona", "email": "facturas@lingua-demo.example",
    "default_currency": "EUR", "invoice_prefix": "LD-", "invoice_number_digits": 4,
}
OTHER_COMPANY = {
    "name": "Other Translations Ltd", "tin": "GB980780684", "country": "GB", "address": "12 Fleet Street",
    "city": "London", "postal_code": "EC4Y 1AA", "email": "accounts@other-translations.example",
    "default_currency": "GBP", "invoice_prefix": "OT-", "invoice_number_digits": 4,
}

IVA = "IVA 21%"
IVA_REDUCED = "IVA 10%"
IVA_EXEMPT = "IVA 0% exempt"
IRPF = "IRPF -15%"
STAMP = "Stamp duty 1.50 EUR"
BANK = "Bank transfer (CaixaBank)"
LEGACY_BANK = "Legacy bank transfer"

# Each label is the company's own; ``tax_type`` is the name B2Brouter's taxes guide gives it in Spain,
# with the category of its country table (IVA 21 % standard S, 10 % reduced AA).
TAXES = [
    {"name": IVA, "tax_type": "IVA", "kind": TaxKind.PERCENTAGE, "rate": Decimal("21"), "category": "S"},
    {"name": IVA_REDUCED, "tax_type": "IVA", "kind": TaxKind.PERCENTAGE, "rate": Decimal("10"), "category": "AA"},
    {"name": IVA_EXEMPT, "tax_type": "IVA", "kind": TaxKind.PERCENTAGE, "rate": Decimal("0"), "category": "E",
     "exemption_reason": "Exento de IVA (art. 20 Ley 37/1992 del IVA)", "exemption_code": "E1"},
    {"name": IRPF, "tax_type": "IRPF", "kind": TaxKind.PERCENTAGE, "rate": Decimal("-15"), "category": "S"},
    {"name": STAMP, "kind": TaxKind.ABSOLUTE, "amount": Decimal("1.50"), "category": "S"},
]
# Units the built-in table does not know: "characters" are counted like words (code 1, units).
# "minutes" stays unmapped, so LD-0007's line is sent without a unit.
UNIT_MAPPINGS = [("characters", UNITS)]

NORDLICHT = "Nordlicht Übersetzungen GmbH"
LUMIERE = "Traductions Lumière SARL"
DELTA = "Vertaalbureau Delta B.V."
SOL_Y_MAR = "Editorial Sol y Mar S.L."
BABEL = "Agencia Babel Madrid S.A."
FREELANCER = "Freelance reviewer without TIN"

CLIENTS = [
    {"name": NORDLICHT, "tin": "DE136695976", "country": "DE", "address": "Friedrichstraße 68", "city": "Berlin",
     "postal_code": "10117", "email": "buchhaltung@nordlicht.example", "language": "de", "taxes": [IVA]},
    {"name": LUMIERE, "tin": "FR40303265045", "country": "FR", "address": "12 Rue de la République", "city": "Lyon",
     "postal_code": "69002", "email": "compta@lumiere.example", "language": "fr", "taxes": [IVA]},
    {"name": DELTA, "tin": "NL004495445B01", "country": "NL", "address": "Keizersgracht 123", "city": "Amsterdam",
     "postal_code": "1015 CJ", "email": "administratie@delta.example", "language": "nl", "taxes": [IVA]},
    {"name": SOL_Y_MAR, "tin": "ESB58378431", "country": "ES", "address": "Passeig de Gràcia 12", "city": "Barcelona",
     "postal_code": "08007", "province": "Barcelona", "email": "admin@solymar.example", "language": "es",
     "taxes": [IVA, IRPF]},
    {"name": BABEL, "tin": "ESA78304516", "country": "ES", "address": "Calle de Alcalá 50", "city": "Madrid",
     "postal_code": "28014", "province": "Madrid", "email": "facturacion@babel.example", "language": "es",
     "taxes": [IVA]},
    {"name": FREELANCER, "tin": "", "country": "ES", "address": "Calle Mayor 3", "city": "Valencia",
     "postal_code": "46001", "province": "Valencia", "language": "es", "taxes": []},
]


def _line(description: str, quantity: str, unit: str, price: str) -> dict[str, Any]:
    return {"description": description, "quantity": Decimal(quantity), "unit": unit, "unit_price": Decimal(price)}


INVOICES: list[dict[str, Any]] = [
    # Matches the invoice the simulator seeds: 12000 x 0.085 = 1020.00, IVA 214.20, total 1234.20.
    {"number": "LD-0001", "client": NORDLICHT, "issue": "2026-11-02", "due": "2026-12-02", "status": InvoiceStatus.ISSUED,
     "lines": [_line("Translation DE>EN, technical manual (12,000 words)", "12000", "words", "0.085")],
     "taxes": [IVA]},
    {"number": "LD-0002", "client": LUMIERE, "issue": "2026-11-04", "due": "2026-12-04", "status": InvoiceStatus.ISSUED,
     "lines": [_line("Translation FR>ES, marketing brochure", "3450", "words", "0.09"),
               _line("Proofreading", "4", "hours", "35")],
     "taxes": [IVA]},
    {"number": "LD-0003", "client": DELTA, "issue": "2026-11-06", "due": "2026-12-06", "status": InvoiceStatus.PAID,
     "lines": [_line("Translation NL>ES, annual report", "5000", "words", "0.08"),
               _line("Desktop publishing", "2", "hours", "45")],
     "adjustments": [{"kind": "discount", "mode": "percentage", "value": Decimal("10"),
                      "reason": "Loyal customer discount"}],
     "taxes": [IVA]},
    {"number": "LD-0004", "client": SOL_Y_MAR, "issue": "2026-11-09", "due": "2026-12-09",
     "lines": [_line("Literary translation EN>ES, chapter 3", "8200", "words", "0.07")],
     "taxes": [IVA, IRPF], "note": "Retención IRPF 15 % (actividad profesional)."},
    {"number": "LD-0005", "client": BABEL, "issue": "2026-11-10", "due": "2026-12-10",
     "lines": [_line("Sworn translation, birth certificate", "3", "pages", "40")],
     "taxes": [IVA, STAMP]},
    {"number": "LD-0006", "client": FREELANCER, "issue": "2026-11-12", "due": "2026-12-12",
     "lines": [_line("Glossary review", "2.5", "hours", "30")], "taxes": []},
    {"number": "LD-0007", "client": SOL_Y_MAR, "issue": "2026-11-13", "due": "2026-12-13", "method": LEGACY_BANK,
     "lines": [_line("Subtitling ES>EN, documentary", "42.5", "minutes", "3.2")], "taxes": [IVA]},
    {"number": "LD-0008", "client": DELTA, "issue": "2026-11-16", "due": "2026-12-16", "currency": "USD",
     "lines": [_line("Localization EN>NL, app strings", "2345", "words", "0.11")], "taxes": [IVA_EXEMPT]},
    {"number": "LD-0009", "client": BABEL, "issue": "2026-11-18", "due": "2026-12-18",
     "lines": [_line("Translation EN>ES, press release (1,234 words)", "1234", "words", "0.085"),
               _line("Translation EN>ES, web update (987.5 weighted words)", "987.5", "words", "0.0925")],
     "taxes": [IVA]},
    {"number": "LD-0010", "client": NORDLICHT, "issue": "2026-11-20", "due": "2026-12-20", "currency": "JPY",
     "lines": [_line("Translation JA>DE, product labels", "3200", "characters", "12.5")], "taxes": []},
]


@dataclass
class SeedReport:
    """What a seeding run created (empty lists when everything was already there)."""

    created: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.created.append(what)


def _user(username: str, password: str, report: SeedReport) -> Any:
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model.objects.create_user(username=username, password=password)
        report.add(f"user {username}")
    return user


def _company(data: dict[str, Any], owner: Any, report: SeedReport) -> Company:
    company = Company.objects.filter(name=data["name"]).first()
    if company is None:
        company = Company.objects.create(**data)
        report.add(f"company {company.name}")
    _, created = Membership.objects.get_or_create(user=owner, company=company,
                                                  defaults={"role": Membership.Role.OWNER})
    if created:
        report.add(f"membership {owner.username} @ {company.name}")
    return company


def _get_or_create(model: Any, report: SeedReport, label: str, company: Company, name: str,
                   **defaults: Any) -> tuple[Any, bool]:
    obj = model.objects.filter(company=company, name=name).first()
    if obj is not None:
        return obj, False
    obj = model(company=company, name=name, **defaults)
    obj.save()  # no full_clean: the legacy payment method is stored invalid on purpose
    report.add(f"{label} {name}")
    return obj, True


def _invoice(company: Company, data: dict[str, Any], clients: dict[str, Client], taxes: dict[str, Tax],
             methods: dict[str, PaymentMethod], report: SeedReport) -> None:
    if Invoice.objects.filter(company=company, number=data["number"]).exists():
        return
    invoice = Invoice.objects.create(
        company=company, number=data["number"], client=clients[data["client"]],
        issue_date=dt.date.fromisoformat(data["issue"]), due_date=dt.date.fromisoformat(data["due"]),
        currency=data.get("currency", company.default_currency), payment_method=methods[data.get("method", BANK)],
        status=data.get("status", InvoiceStatus.DRAFT), note=data.get("note", ""))
    for position, line in enumerate(data["lines"]):
        InvoiceLine.objects.create(invoice=invoice, position=position, **line)
    for adjustment in data.get("adjustments", []):
        InvoiceAdjustment.objects.create(invoice=invoice, **adjustment)
    for name in data["taxes"]:
        InvoiceTax.copy_of(taxes[name], invoice).save()
    report.add(f"invoice {invoice.number}")


def _continue_sequence(company: Company) -> None:
    """Make the company's sequence continue after the highest seeded number."""
    prefix = company.invoice_prefix
    numbers = [int(n[len(prefix):]) for n in Invoice.objects.filter(company=company, number__startswith=prefix)
               .values_list("number", flat=True) if n[len(prefix):].isdigit()]
    if numbers and company.invoice_next_number <= max(numbers):
        Company.objects.filter(pk=company.pk).update(invoice_next_number=max(numbers) + 1)


def _seed_lingua(report: SeedReport) -> Company:
    owner = _user("demo", "demo", report)
    company = _company(DEMO_COMPANY, owner, report)
    taxes = {}
    for data in TAXES:
        values = dict(data)
        taxes[data["name"]], _ = _get_or_create(Tax, report, "tax", company, values.pop("name"), **values)
    for label, code in UNIT_MAPPINGS:
        if not UnitMapping.objects.filter(company=company, label=label).exists():
            UnitMapping.objects.create(company=company, label=label, code=code)
            report.add(f"unit mapping {label}")
    methods = {}
    methods[BANK], _ = _get_or_create(
        PaymentMethod, report, "payment method", company, BANK, type=PaymentMethodType.BANK_TRANSFER,
        iban="ES9121000418450200051332", bic="CAIXESBBXXX", details="CaixaBank, Barcelona")
    # Stored as if imported before IBAN validation existed: the checksum is wrong.
    methods[LEGACY_BANK], _ = _get_or_create(
        PaymentMethod, report, "payment method", company, LEGACY_BANK, type=PaymentMethodType.BANK_TRANSFER,
        iban="ES0000000000000000000000", details="Imported from the previous invoicing tool")
    clients = {}
    for data in CLIENTS:
        values = dict(data)
        default_taxes = values.pop("taxes")
        client, created = _get_or_create(Client, report, "client", company, values.pop("name"),
                                         default_payment_method=methods[BANK], **values)
        if created:
            client.default_taxes.set([taxes[name] for name in default_taxes])
        clients[client.name] = client
    for data in INVOICES:
        _invoice(company, data, clients, taxes, methods, report)
    _continue_sequence(company)
    return company


def _seed_other(report: SeedReport) -> Company:
    owner = _user("other", "other", report)
    company = _company(OTHER_COMPANY, owner, report)
    vat, _ = _get_or_create(Tax, report, "tax", company, "VAT 20%", tax_type="VAT", kind=TaxKind.PERCENTAGE,
                            rate=Decimal("20"), category="S")
    method, _ = _get_or_create(PaymentMethod, report, "payment method", company, "Bank transfer (Barclays)",
                               type=PaymentMethodType.BANK_TRANSFER, iban="GB82WEST12345698765432")
    client, created = _get_or_create(Client, report, "client", company, "Northern Words Ltd", tin="GB980780684",
                                     country="GB", city="Manchester", default_payment_method=method)
    if created:
        client.default_taxes.set([vat])
    _invoice(company, {"number": "OT-0001", "client": client.name, "issue": "2026-11-03", "due": "2026-12-03",
                       "method": method.name, "lines": [_line("Proofreading EN, website", "6", "hours", "40")],
                       "taxes": [vat.name]},
             {client.name: client}, {vat.name: vat}, {method.name: method}, report)
    _continue_sequence(company)
    return company


def seed_demo() -> SeedReport:
    """Create whatever of the demo data is missing and report what was created."""
    report = SeedReport()
    with transaction.atomic():
        _seed_lingua(report)
        _seed_other(report)
    return report
