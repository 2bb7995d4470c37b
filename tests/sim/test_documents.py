"""Downloads: the PDF, the UBL whose totals agree with the JSON, the original request."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from tests.sim.conftest import Account, line

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


@pytest.fixture
def invoice(account: Account) -> dict:
    taxes = [{"name": "IVA", "category": "S", "percent": "21"}, {"name": "IRPF", "category": "S", "percent": "-15"}]
    return account.invoice(
        number="D-1",
        invoice_lines_attributes=[
            {"description": "Übersetzung €", "quantity": "3", "price": "333.33", "taxes_attributes": taxes},
            line("1", "50", "10"),
        ],
        allowance_charges_attributes=[{"allowance_charge_indicator": "allowance", "percentage": "5", "reason": "Loyal"}],
    )


def test_pdf(account: Account, invoice: dict) -> None:
    response = account.call("GET", f"invoices/{invoice['id']}/as/pdf.invoice")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 1000


def test_ubl_totals_equal_the_json_totals(account: Account, invoice: dict) -> None:
    response = account.call("GET", f"invoices/{invoice['id']}/as/xml.ubl.invoice.bis3")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag.endswith("Invoice")
    assert root.findtext("cbc:ID", namespaces=NS) == "D-1"
    totals = root.find("cac:LegalMonetaryTotal", NS)
    assert totals.findtext("cbc:TaxExclusiveAmount", namespaces=NS) == invoice["subtotal"]
    assert totals.findtext("cbc:PayableAmount", namespaces=NS) == invoice["total"]
    assert totals.findtext("cbc:TaxInclusiveAmount", namespaces=NS) == invoice["total"]
    subtotals = root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    assert [(s.findtext("cbc:TaxableAmount", namespaces=NS), s.findtext("cbc:TaxAmount", namespaces=NS)) for s in subtotals] == [
        (t["base"], t["amount"]) for t in invoice["taxes"]
    ]
    tax_total = Decimal(root.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS))
    assert Decimal(invoice["subtotal"]) + tax_total == Decimal(invoice["total"])
    assert [line.findtext("cbc:LineExtensionAmount", namespaces=NS) for line in root.findall("cac:InvoiceLine", NS)] == [
        "999.99", "50.00"
    ]


def test_original_returns_the_request(account: Account, invoice: dict) -> None:
    response = account.call("GET", f"invoices/{invoice['id']}/as/original")
    assert response.status_code == 200
    body = response.json()["invoice"]
    assert body["number"] == "D-1"
    assert body["invoice_lines_attributes"][0]["price"] == "333.33"


def test_other_document_types(account: Account, invoice: dict) -> None:
    facturae = account.call("GET", f"invoices/{invoice['id']}/as/xml.facturae.3.2.2")
    assert facturae.status_code == 400
    unknown = account.call("GET", f"invoices/{invoice['id']}/as/docx")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "resource_missing"
