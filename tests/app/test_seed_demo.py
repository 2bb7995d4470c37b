"""The demo data: `b2binvoice seed_demo` is idempotent and the demo invoices show the right totals."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from stdnum.eu import vat

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import Company, Membership, PaymentMethod, Tax, UnitMapping
from b2binvoice.core.validators import iban_is_valid
from b2binvoice.invoices.calculations import calculate_invoice
from b2binvoice.invoices.models import Invoice, InvoiceAdjustment, InvoiceLine, InvoiceTax

pytestmark = pytest.mark.django_db

MODELS = [get_user_model(), Company, Membership, Client, Tax, PaymentMethod, Invoice, InvoiceLine, InvoiceTax,
          InvoiceAdjustment, UnitMapping]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_twice_creates_nothing_the_second_time():
    first = StringIO()
    call_command("seed_demo", stdout=first)
    assert "company Lingua Demo S.L." in first.getvalue() and "invoice LD-0001" in first.getvalue()
    assert "password" not in first.getvalue()
    after_first = counts()
    assert after_first["Invoice"] >= 9 and after_first["Client"] >= 7
    second = StringIO()
    call_command("seed_demo", stdout=second)
    assert counts() == after_first
    assert "nothing to create" in second.getvalue()
    assert Company.objects.get(name="Lingua Demo S.L.").invoice_next_number == 11


def test_seed_demo_fills_in_what_was_deleted():
    call_command("seed_demo", stdout=StringIO())
    Invoice.objects.filter(number="LD-0005").delete()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert out.getvalue().strip().splitlines()[1:] == ["  invoice LD-0005"]


def test_demo_data_matches_the_simulator_seed_and_is_valid(seeded, lingua):
    assert (lingua.tin, lingua.country, lingua.default_currency, lingua.invoice_prefix) == \
        ("ESA28017895", "ES", "EUR", "LD-")
    clients = {c.name: c for c in Client.objects.filter(company=lingua)}
    assert clients["Nordlicht Übersetzungen GmbH"].tin == "DE136695976"
    assert clients["Traductions Lumière SARL"].tin == "FR40303265045"
    assert clients["Vertaalbureau Delta B.V."].tin == "NL004495445B01"
    assert clients["Freelance reviewer without TIN"].tin == ""
    for client in clients.values():
        if client.tin:
            assert vat.is_valid(client.tin), client.name
    methods = {m.name: m for m in PaymentMethod.objects.filter(company=lingua)}
    assert iban_is_valid(methods["Bank transfer (CaixaBank)"].iban)
    assert not iban_is_valid(methods["Legacy bank transfer"].iban)
    ld1 = Invoice.objects.get(company=lingua, number="LD-0001")
    assert (ld1.client.name, str(ld1.issue_date), str(ld1.due_date), ld1.currency, ld1.payment_method.name) == \
        ("Nordlicht Übersetzungen GmbH", "2026-11-02", "2026-12-02", "EUR", "Bank transfer (CaixaBank)")
    line = ld1.lines.get()
    assert (line.description, line.quantity, line.unit, line.unit_price) == \
        ("Translation DE>EN, technical manual (12,000 words)", Decimal("12000"), "words", Decimal("0.085"))
    assert [t.name for t in ld1.taxes.all()] == ["IVA 21%"]


def test_demo_taxes_carry_their_b2brouter_type_and_category(seeded, lingua, other_company, demo_web):
    taxes = {t.name: (t.tax_type, t.category, t.rate) for t in Tax.objects.filter(company=lingua)}
    assert taxes == {
        "IVA 21%": ("IVA", "S", Decimal("21")), "IVA 10%": ("IVA", "AA", Decimal("10")),
        "IVA 0% exempt": ("IVA", "E", Decimal("0")), "IRPF -15%": ("IRPF", "S", Decimal("-15")),
        "Stamp duty 1.50 EUR": ("", "S", None)}
    assert Tax.objects.get(company=lingua, name="IVA 0% exempt").exemption_reason.startswith("Exento de IVA")
    assert Tax.objects.get(company=other_company).tax_type == "VAT"
    # The copies on the invoices carry the type too.
    ld4 = Invoice.objects.get(company=lingua, number="LD-0004")
    assert [(t.name, t.tax_type) for t in ld4.taxes.all()] == [("IVA 21%", "IVA"), ("IRPF -15%", "IRPF")]
    page = demo_web.get("/settings/taxes/").content.decode()
    assert page.count("<td>IVA</td>") == 3 and "<td>IRPF</td>" in page


def test_demo_units_extend_the_built_in_table(seeded, lingua, demo_web):
    assert [(m.label, m.code) for m in UnitMapping.objects.filter(company=lingua)] == [("characters", 1)]
    page = demo_web.get("/settings/units/").content.decode()
    assert "characters" in page and "<td>words</td><td>1 – units (pieces, words, pages)</td>" in page
    assert "<td>hours</td><td>2 – hours</td>" in page


EXPECTED_TOTALS = {
    "LD-0001": "1234.20",  # 12000 x 0.085, IVA 21 %
    "LD-0002": "545.11",   # 310.50 + 140.00, IVA 21 %
    "LD-0003": "533.61",   # 490.00 - 10 % = 441.00, IVA 92.61
    "LD-0004": "608.44",   # 574.00 + IVA 120.54 - IRPF 86.10
    "LD-0005": "146.70",   # 120.00 + IVA 25.20 + stamp duty 1.50
    "LD-0006": "75.00",    # no tax
    "LD-0007": "164.56",   # invalid IBAN payment method
    "LD-0008": "257.95",   # USD, exempt
    "LD-0009": "237.44",   # 1234 x 0.085 = 104.89 + 987.5 x 0.0925 = 91.34, IVA 41.21
    "LD-0010": "40000",    # JPY, no decimals
}


def test_demo_invoices_cover_the_cases_with_the_right_totals(seeded, lingua):
    invoices = {i.number: i for i in Invoice.objects.filter(company=lingua)}
    assert {n: str(calculate_invoice(i).total) for n, i in invoices.items()} == EXPECTED_TOTALS
    assert invoices["LD-0003"].adjustments.get().mode == "percentage"
    assert invoices["LD-0007"].payment_method.name == "Legacy bank transfer"
    assert {invoices["LD-0008"].currency, invoices["LD-0010"].currency} == {"USD", "JPY"}
    assert any(line.quantity != line.quantity.to_integral() for line in invoices["LD-0009"].lines.all())


def test_demo_invoice_list_shows_the_totals(demo_web):
    page = demo_web.get("/invoices/").content.decode()
    for shown in ("1,234.20 EUR", "533.61 EUR", "608.44 EUR", "146.70 EUR", "257.95 USD", "40,000 JPY"):
        assert shown in page, shown


def test_demo_invoice_page_shows_each_tax_with_its_base(demo_web, lingua):
    invoice = Invoice.objects.get(company=lingua, number="LD-0004")
    page = demo_web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "IVA 21% (21 % of 574.00)" in page and "120.54" in page
    assert "IRPF -15% (-15 % of 574.00)" in page and "-86.10" in page
    assert "608.44 EUR" in page
    exempt = Invoice.objects.get(company=lingua, number="LD-0008")
    assert "Exento de IVA" in demo_web.get(f"/invoices/{exempt.pk}/").content.decode()


def test_seed_demo_from_the_command_line(tmp_path):
    env = {"B2BINVOICE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "b2binvoice"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True, capture_output=True)
    first = subprocess.run([*run, "seed_demo"], env=env, check=True, capture_output=True, text=True)
    assert "invoice LD-0010" in first.stdout
    second = subprocess.run([*run, "seed_demo"], env=env, check=True, capture_output=True, text=True)
    assert "nothing to create" in second.stdout
