"""The data migration that gives existing taxes, and the tax copies on invoices, their B2Brouter tax type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

CLIENTS = ("clients", "0002_b2brouter_fields")
BEFORE = [("companies", "0002_b2brouter_fields"), ("invoices", "0002_b2brouter_fields"), CLIENTS]
AFTER = [("companies", "0003_tax_types"), ("invoices", "0003_invoice_tax_types"), CLIENTS]

LEGACY = {
    # country, label, rate -> expected type
    ("ES", "IVA 21%", "21"): "IVA",
    ("ES", "iva reducido 10%", "10"): "IVA",
    ("ES", "IGIC 7%", "7"): "IGIC",
    ("ES", "IPSI 4%", "4"): "IPSI",
    ("ES", "IRPF -15%", "-15"): "IRPF",
    ("ES", "Retención profesional", "-7"): "IRPF",
    ("ES", "VAT 21%", "21"): "IVA",
    ("ES", "Exento", "0"): "IVA",
    ("DE", "MwSt 19%", "19"): "MwSt",
    ("DE", "Umsatzsteuer 7%", "7"): "MwSt",
    ("DE", "VAT 19%", "19"): "MwSt",
    ("FR", "TVA 20%", "20"): "TVA",
    ("NL", "BTW 21%", "21"): "BTW",
    ("AT", "USt 20%", "20"): "USt",
    ("IT", "Ritenuta d'acconto", "-20"): "IRPEF",
    ("GB", "VAT 20%", "20"): "VAT",
    ("US", "Sales tax 8.25%", "8.25"): "VAT",
    ("GB", "CIS deduction", "-20"): "",  # a withholding the guide names for no country but ES and IT
}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Leave the test database fully migrated, whatever the test migrated it back to."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_existing_taxes_and_invoice_copies_get_a_type_from_their_label_and_country():
    apps = migrate(BEFORE)
    Company = apps.get_model("companies", "Company")
    Tax = apps.get_model("companies", "Tax")
    Client = apps.get_model("clients", "Client")
    Invoice = apps.get_model("invoices", "Invoice")
    InvoiceTax = apps.get_model("invoices", "InvoiceTax")
    companies = {}
    taxes = {}
    for country, label, rate in LEGACY:
        company = companies.get(country) or Company.objects.create(name=f"Legacy {country}", country=country)
        companies[country] = company
        taxes[(country, label, rate)] = Tax.objects.create(company=company, name=label, rate=Decimal(rate),
                                                           category="S")
    stamp = Tax.objects.create(company=companies["ES"], name="Timbre", kind="absolute", amount=Decimal("1.50"))
    client = Client.objects.create(company=companies["ES"], name="Cliente")
    invoice = Invoice.objects.create(company=companies["ES"], client=client, number="OLD-1",
                                     issue_date=dt.date(2025, 1, 2))
    iva = taxes[("ES", "IVA 21%", "21")]
    copy = InvoiceTax.objects.create(invoice=invoice, tax=iva, name="IVA 21% (as issued)", rate=Decimal("21"))
    # A copy whose company tax was deleted keeps only its own label.
    orphan = InvoiceTax.objects.create(invoice=invoice, tax=None, name="IRPF 15%", rate=Decimal("-15"))
    absolute = InvoiceTax.objects.create(invoice=invoice, tax=stamp, name="Timbre", kind="absolute",
                                         amount=Decimal("1.50"))

    apps = migrate(AFTER)
    Tax = apps.get_model("companies", "Tax")
    InvoiceTax = apps.get_model("invoices", "InvoiceTax")
    found = {key: Tax.objects.get(pk=tax.pk).tax_type for key, tax in taxes.items()}
    assert found == LEGACY
    assert Tax.objects.get(pk=stamp.pk).tax_type == ""
    assert [InvoiceTax.objects.get(pk=c.pk).tax_type for c in (copy, orphan, absolute)] == ["IVA", "IRPF", ""]
    # Two taxes of the same type live side by side: labels stay unique, types need not be.
    assert Tax.objects.filter(company_id=companies["ES"].pk, tax_type="IVA").count() == 4
