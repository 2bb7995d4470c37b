"""Every invoice's Verifactu record: followed after a send, shown with AEAT's words, corrected once, cancelled once."""

from __future__ import annotations

import json
from html import unescape
import re
import time
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient

from b2binvoice.companies.models import Tax, TaxKind
from b2binvoice.einvoicing.models import InvoiceLink, TaxRecord
from b2binvoice.einvoicing.tasks import sync_b2brouter
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    Sim,
    _b2brouter_settings,
    account,
    bank,
    company,
    confirmed,
    contact_for,
    customer,
    integration,
    make_invoice,
    section,
    sim,
    user,
    vat,
    web,
)
from tests.app.test_einvoicing_webhooks import deliver, register

pytestmark = pytest.mark.django_db


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def verifactu_on(sim: Sim, account: Any) -> None:
    data, key = account
    sim.api("POST", f"/accounts/{data['id']}/tax_report_settings", key,
            {"tax_report_setting": {"code": "verifactu", "start_date": "2026-01-01"}})


def advance(sim: Sim, report_id: int) -> dict[str, Any]:
    response = sim.http.post(f"/sim/_control/tax_reports/{report_id}/advance")
    assert response.status_code == 200, response.content
    return response.json()["tax_report"]


def remote_records(sim: Sim, account: Any) -> list[dict[str, Any]]:
    data, key = account
    return sim.api("GET", f"/accounts/{data['id']}/tax_reports", key)["tax_reports"]


@pytest.fixture
def sent(web, company, account, integration, customer, vat, bank, sim):
    """An invoice created and sent through the app on an account with Verifactu on."""
    verifactu_on(sim, account)
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    assert confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/").status_code == 302
    assert InvoiceLink.objects.get(invoice=invoice).state in ("sending", "sent")
    return invoice


def refresh(web: HttpClient, invoice: Any) -> None:
    assert web.post(f"/invoices/{invoice.pk}/b2brouter/refresh/").status_code == 302


def test_the_send_follows_the_record_and_refresh_shows_it_registered(web, sent, sim, account):
    [record] = TaxRecord.objects.filter(invoice=sent)
    assert (record.state, record.kind, record.invoice_type_code) == ("processing", "alta", "F1")
    assert record.next_check_at is not None  # polled with back-off until a final state
    page = text_of(section(web, sent))
    assert "Verifactu record" in page and "Being registered" in page

    advance(sim, record.remote_id)
    refresh(web, sent)
    record.refresh_from_db()
    assert record.state == "registered" and record.next_check_at is None
    assert record.identifier.startswith("https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=")
    html = section(web, sent)
    assert 'data-tax-state="registered"' in html and "Registered" in text_of(html)
    assert f'href="{record.identifier.replace("&", "&amp;")}"' in html
    assert "Send the correction" not in html
    assert "Cancel the record (anulación)" in text_of(html)

    listing = web.get("/invoices/").content.decode()
    assert 'data-tax-state="registered"' in listing and "Verifactu: Registered" in text_of(listing)
    needing = web.get("/invoices/?tax=action").content.decode()
    assert sent.number not in text_of(needing)


def test_a_final_record_is_not_read_again(web, sent, sim, account):
    record = TaxRecord.objects.get(invoice=sent)
    advance(sim, record.remote_id)
    refresh(web, sent)
    record.refresh_from_db()
    stamp = record.updated_at
    refresh(web, sent)
    sync_b2brouter.call(sent.company_id)
    record.refresh_from_db()
    assert record.updated_at == stamp and record.state == "registered"


def test_the_sync_polls_a_processing_record_when_due(web, sent, sim, account):
    record = TaxRecord.objects.get(invoice=sent)
    advance(sim, record.remote_id)
    TaxRecord.objects.filter(pk=record.pk).update(next_check_at=None)
    sync_b2brouter.call(sent.company_id)
    record.refresh_from_db()
    assert record.state == "registered"


@pytest.fixture
def rejecting(sim, account):
    """AEAT (simulated) rejects every record the account sends from now on."""
    data, key = account
    sim.set_faults(data["id"], key, aeat_reject_rate=1, aeat_reject_code="1106",
                   aeat_reject_message="El NIF del destinatario no está identificado <b>x</b>")


def test_rejection_one_correction_then_cancellation(web, rejecting, sent, sim, account):
    data, key = account
    record = TaxRecord.objects.get(invoice=sent)
    advance(sim, record.remote_id)
    refresh(web, sent)
    record.refresh_from_db()
    assert record.state == "error" and record.errors[0]["code"] == "1106"
    html = section(web, sent)
    page = text_of(html)
    assert "The tax agency rejected the record." in page
    assert "The client's tax id is not registered with AEAT" in page  # the code in plain words
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html  # AEAT's text escaped
    assert "Send the correction" in page and "Cancel the record" not in page
    listing = text_of(web.get("/invoices/?tax=action").content.decode())
    assert sent.number in listing and "Verifactu: Rejected" in listing

    # Nothing is re-sent by itself: a sync reads nothing new and sends nothing.
    sync_b2brouter.call(sent.company_id)
    assert len(remote_records(sim, account)) == 1

    sim.set_faults(data["id"], key, aeat_reject_rate=0)
    correct = f"/invoices/{sent.pk}/b2brouter/tax-record/correct/"
    answer = web.post(correct, HTTP_HX_REQUEST="true")  # the button posts with htmx: the section comes back
    assert answer.status_code == 200 and "The correction was sent" in text_of(answer.content.decode())
    assert web.post(correct).status_code == 302  # a second click sends nothing more
    records = remote_records(sim, account)
    assert len(records) == 2 and records[1]["correction"] is True
    assert "Correction being registered" in text_of(section(web, sent))
    correction = TaxRecord.objects.get(remote_id=records[1]["id"])
    assert correction.kind == "correction" and correction.state == "processing"

    advance(sim, correction.remote_id)
    refresh(web, sent)
    html = section(web, sent)
    assert 'data-tax-state="registered"' in html and "Send the correction" not in html

    cancel = f"/invoices/{sent.pk}/b2brouter/tax-record/cancel/"
    web.post(cancel)  # without the tick: nothing is cancelled
    assert len(remote_records(sim, account)) == 2
    assert web.post(cancel, {"confirm": "1"}).status_code == 302
    records = remote_records(sim, account)
    assert len(records) == 3 and records[2]["annullation"] is True
    advance(sim, records[2]["id"])
    refresh(web, sent)
    html = section(web, sent)
    assert 'data-annulled="true"' in html and "Cancel the record" not in text_of(html)
    web.post(cancel, {"confirm": "1"})
    assert len(remote_records(sim, account)) == 3  # once only


def test_a_tax_report_notification_moves_the_record(web, sent, sim, account, integration):
    integration = register(web, integration)
    record = TaxRecord.objects.get(invoice=sent)
    link = InvoiceLink.objects.get(invoice=sent)
    payload = {"code": "tax_report.state_change", "triggered_at": int(time.time()),
               "data": {"tax_report_id": record.remote_id, "invoice_id": link.b2brouter_id, "state": "error",
                        "notes": "1100: Valor incorrecto"}}
    response = deliver(integration, payload)
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["outcome"] == "applied"
    record.refresh_from_db()
    assert record.state == "error"
    assert deliver(integration, payload).json()["outcome"] == "duplicate"
    # An unknown state is refused whole.
    bad = {**payload, "data": {**payload["data"], "state": "exploded"}}
    assert deliver(integration, bad).status_code == 400


# --- the PDF ---------------------------------------------------------------------------------

#: A QR image drawn on a PDF page: "w 0 0 h x y cm /I<n> Do" (points; the PDF's y axis points up).
IMAGE_PLACEMENT = re.compile(rb"([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm\s*/(I\w*) Do")
MM = 72 / 25.4


def qr_codes(content: bytes) -> list[dict[str, Any]]:
    """Read every QR code drawn on the PDF's pages: its text, page number, side and top (mm)."""
    import io

    import zxingcpp
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    found = []
    for number, page in enumerate(reader.pages, start=1):
        placements = {name.decode(): (float(w), float(h), float(y)) for w, h, _x, y, name
                      in IMAGE_PLACEMENT.findall(page.get_contents().get_data())}
        for image in page.images:
            for code in zxingcpp.read_barcodes(image.image.convert("L")):
                if code.format != zxingcpp.BarcodeFormat.QRCode:
                    continue
                w, h, y = placements[image.name.rsplit(".", 1)[0]]
                found.append({"text": code.text, "page": number, "ec_level": code.ec_level, "width_mm": w / MM,
                              "height_mm": h / MM, "top_mm": (float(page.mediabox.height) - y - h) / MM})
    return found


def pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_carries_the_records_qr_code_and_the_legend(web, sent, sim, account):
    before = web.get(f"/invoices/{sent.pk}/pdf/").content
    record = TaxRecord.objects.get(invoice=sent)
    advance(sim, record.remote_id)
    refresh(web, sent)
    record.refresh_from_db()
    assert record.identifier

    response = web.get(f"/invoices/{sent.pk}/pdf/")
    assert response.status_code == 200
    [qr] = qr_codes(response.content)  # once
    assert qr["text"] == record.identifier
    assert qr["text"].startswith("https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=")
    assert "numserie=INV-0001" in qr["text"] and "fecha=02-11-2026" in qr["text"]
    assert qr["page"] == 1 and qr["ec_level"] == "M"
    # 30 to 40 mm square with its quiet zone; at the top of the page (under the 15 mm margin and its label).
    assert 30 <= qr["width_mm"] <= 40 and qr["width_mm"] == pytest.approx(qr["height_mm"])
    assert qr["top_mm"] < 25
    text = pdf_text(response.content)
    assert "VERI*FACTU" in text and "QR tributario:" in text
    # A Verifactu record has its identifier from the start: the PDF printed while AEAT answered had it too.
    assert len(qr_codes(before)) == 1
    # A cancelled record's invoice is void for AEAT: its PDF prints no QR code.
    web.post(f"/invoices/{sent.pk}/b2brouter/tax-record/cancel/", {"confirm": "1"})
    cancellation = TaxRecord.objects.get(invoice=sent, kind="annullation")
    advance(sim, cancellation.remote_id)
    refresh(web, sent)
    after = web.get(f"/invoices/{sent.pk}/pdf/").content
    assert qr_codes(after) == [] and "VERI*FACTU" not in pdf_text(after)


def test_an_invoice_without_a_record_prints_no_qr(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    content = web.get(f"/invoices/{invoice.pk}/pdf/").content
    assert qr_codes(content) == [] and "VERI*FACTU" not in pdf_text(content)


def test_a_processing_record_is_read_with_a_growing_pause_until_final(web, sent, sim, account, settings):
    import datetime as dt

    from django.utils import timezone

    from b2binvoice.einvoicing.tasks import poll_tax_record

    settings.B2BROUTER_TAX_REPORT_BACKOFF = (30, 60, 120)
    record = TaxRecord.objects.get(invoice=sent)
    assert record.checks == 0
    assert dt.timedelta(seconds=25) < record.next_check_at - timezone.now() <= dt.timedelta(seconds=30)
    assert poll_tax_record.call(record.pk) == "not due"
    for checks, pause in ((1, 60), (2, 120), (3, 120)):
        TaxRecord.objects.filter(pk=record.pk).update(next_check_at=timezone.now())
        assert poll_tax_record.call(record.pk) == "processing"
        record.refresh_from_db()
        assert record.checks == checks
        assert dt.timedelta(seconds=pause - 5) < record.next_check_at - timezone.now() <= dt.timedelta(seconds=pause)
    advance(sim, record.remote_id)
    TaxRecord.objects.filter(pk=record.pk).update(next_check_at=timezone.now())
    assert poll_tax_record.call(record.pk) == "registered"
    record.refresh_from_db()
    assert record.next_check_at is None and record.identifier
    assert poll_tax_record.call(record.pk) == "registered"  # nothing more is read


def test_a_notification_queues_the_read_of_the_records_errors(web, rejecting, sent, sim, account, integration,
                                                              monkeypatch):
    from b2brouter_sim import webhooks as sim_webhooks
    from tests.app.test_einvoicing_webhooks import run_worker
    from tests.support import inprocess_transport

    monkeypatch.setattr(sim_webhooks, "TRANSPORT", inprocess_transport())  # the simulator posts to this app
    integration = register(web, integration)
    record = TaxRecord.objects.get(invoice=sent)
    advance(sim, record.remote_id)  # the simulator notifies the registered receiver...
    run_worker()  # ...its delivery runs, and the read it queues
    record.refresh_from_db()
    assert record.state == "error"
    assert record.errors == [{"code": "1106", "message": "El NIF del destinatario no está identificado <b>x</b>"}]
    assert record.next_check_at is None
    from b2binvoice.einvoicing.models import WebhookEvent

    assert list(WebhookEvent.objects.filter(code="tax_report.state_change").values_list("state", "outcome")) == [
        ("error", "applied")]


def test_a_credit_note_prints_its_r_code_and_the_original(web, company, customer, vat):
    import datetime as dt

    invoice = make_invoice(company, customer, taxes=[vat], number="INV-0009")
    note = make_invoice(company, customer, taxes=[vat], number="INV-R-0001", lines=[("10", "-2")])
    note.kind, note.corrected_invoice = "credit_note", invoice
    note.amended_number, note.amended_date = "INV-0009", dt.date(2026, 10, 1)
    note.corrective_reason = "R4"
    note.save()
    text = pdf_text(web.get(f"/invoices/{note.pk}/pdf/").content)
    assert "Corrects invoice INV-0009 of Oct 1, 2026" in text
    assert "R4" in text


@pytest.mark.parametrize("params", [{}, {"tax": "action"}])
def test_the_list_shows_records_in_constant_queries(web, company, customer, vat, params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            invoice = make_invoice(company, customer, number=f"VF-{n:03d}")
            TaxRecord.objects.create(invoice=invoice, account_id="1", remote_id=n, type="Verifactu",
                                     state="error" if n % 2 else "registered")

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = web.get("/invoices/", params)
        assert response.status_code == 200
        return len(captured), text_of(response.content.decode())

    add(2, 1)
    queries()  # the first request of a session loads what later ones find cached
    few, page = queries()
    add(20, 3)
    many, page = queries()
    assert few == many
    if params:
        assert "VF-001" in page and "VF-002" not in page and page.count("Verifactu: Rejected") == 11
        assert "Verifactu: Registered" not in page
    else:
        assert page.count("Verifactu: Rejected") == 11 and page.count("Verifactu: Registered") == 11


def test_an_identifier_that_is_not_an_https_url_is_shown_as_text(web, sent):
    TaxRecord.objects.filter(invoice=sent).update(identifier='javascript:alert(1)//"><b>x</b>')
    html = section(web, sent)
    assert 'href="javascript:' not in html and "<b>x</b>" not in html
    assert '<code class="b2b-tax-identifier">javascript:alert(1)//&quot;&gt;&lt;b&gt;x&lt;/b&gt;</code>' in html


def test_a_rejected_cancellation_is_shown_and_may_be_sent_again(web, sent, sim, account):
    data, key = account
    record = TaxRecord.objects.get(invoice=sent)
    advance(sim, record.remote_id)
    refresh(web, sent)
    cancel = f"/invoices/{sent.pk}/b2brouter/tax-record/cancel/"
    sim.set_faults(data["id"], key, aeat_reject_rate=1)
    assert web.post(cancel, {"confirm": "1"}).status_code == 302
    [_, annulment] = remote_records(sim, account)
    assert annulment["annullation"] is True
    advance(sim, annulment["id"])
    refresh(web, sent)
    assert TaxRecord.objects.get(remote_id=annulment["id"]).state == "error"
    page = text_of(section(web, sent))
    assert "The tax agency rejected the cancellation." in page
    assert "Cancel the record" in page  # offered again, with the agency's reasons above it
    listing = text_of(web.get("/invoices/?tax=action").content.decode())
    assert sent.number in listing  # the list and the page agree: it needs action

    sim.set_faults(data["id"], key, aeat_reject_rate=0)
    assert web.post(cancel, {"confirm": "1"}).status_code == 302
    records = remote_records(sim, account)
    assert len(records) == 3 and records[2]["annullation"] is True
    advance(sim, records[2]["id"])
    refresh(web, sent)
    html = section(web, sent)
    assert 'data-annulled="true"' in html and "Cancel the record" not in text_of(html)
    web.post(cancel, {"confirm": "1"})
    assert len(remote_records(sim, account)) == 3  # once it is cancelled, never again


def test_a_correction_of_an_invoice_with_irpf_sends_the_vat_not_the_withholding(
        web, rejecting, company, account, integration, customer, vat, bank, sim):
    data, key = account
    verifactu_on(sim, account)
    contact_for(sim, account, customer)
    irpf = Tax.objects.create(company=company, name="IRPF -15%", tax_type="IRPF", kind=TaxKind.PERCENTAGE,
                              rate=Decimal("-15"), category="S")
    invoice = make_invoice(company, customer, taxes=[vat, irpf], payment_method=bank, lines=[("1", "1000")])
    assert confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/").status_code == 302
    record = TaxRecord.objects.get(invoice=invoice)
    advance(sim, record.remote_id)
    refresh(web, invoice)
    sim.set_faults(data["id"], key, aeat_reject_rate=0)
    assert web.post(f"/invoices/{invoice.pk}/b2brouter/tax-record/correct/").status_code == 302
    original, correction = remote_records(sim, account)
    assert correction["correction"] is True
    # 1000 + IVA 210; the 150 of IRPF is withheld from the payment, not part of the record.
    for sent_record in (original, correction):
        assert (sent_record["tax_amount"], sent_record["tax_inclusive_amount"]) == ("210.00", "1210.00")


def remote_setting(sim: Sim, account: Any) -> dict[str, Any]:
    data, key = account
    return sim.api("GET", f"/accounts/{data['id']}/tax_report_settings/verifactu", key)["tax_report_setting"]


def rejected(web, sim, account, invoice) -> TaxRecord:
    """Send ``invoice`` (AEAT rejects it), read the rejection, and let AEAT accept what comes next."""
    data, key = account
    assert confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/").status_code == 302
    record = TaxRecord.objects.get(invoice=invoice)
    advance(sim, record.remote_id)
    refresh(web, invoice)
    sim.set_faults(data["id"], key, aeat_reject_rate=0)
    return record


def test_a_correction_sends_each_rates_breakdown_with_the_accounts_regime_key(
        web, rejecting, company, account, integration, customer, vat, bank, sim):
    verifactu_on(sim, account)
    contact_for(sim, account, customer)
    irpf = Tax.objects.create(company=company, name="IRPF -15%", tax_type="IRPF", kind=TaxKind.PERCENTAGE,
                              rate=Decimal("-15"), category="S")
    invoice = make_invoice(company, customer, taxes=[vat, irpf], payment_method=bank, lines=[("2", "500")])
    rejected(web, sim, account, invoice)
    # The account's regime key, changed on the settings page after the rejection, goes on the correction.
    codes = "/settings/integrations/b2brouter/tax-reporting/verifactu/codes/"
    assert web.post(codes, {"special_regime_key": "05"}).status_code == 302

    assert web.post(f"/invoices/{invoice.pk}/b2brouter/tax-record/correct/").status_code == 302
    original, correction = remote_records(sim, account)
    assert correction["correction"] is True
    [line] = correction["tax_breakdowns"]  # the VAT only: the IRPF withheld is not part of the record
    assert (line["category"], line["non_exemption_code"], line["percent"]) == ("S", "S1", "21")
    assert (line["taxable_base"], line["tax_amount"], line["special_regime_key"]) == ("1000.00", "210.00", "05")
    assert (correction["tax_amount"], correction["tax_inclusive_amount"]) == ("210.00", "1210.00")


def test_a_correction_of_an_exempt_invoice_sends_the_taxs_exemption_code(
        web, rejecting, company, account, integration, customer, bank, sim):
    verifactu_on(sim, account)
    contact_for(sim, account, customer)
    export = Tax.objects.create(company=company, name="Export", tax_type="IVA", kind=TaxKind.PERCENTAGE,
                                rate=Decimal("0"), category="E", exemption_code="E2",
                                exemption_reason="Exenta art. 21 LIVA")
    invoice = make_invoice(company, customer, taxes=[export], payment_method=bank, lines=[("1", "800")])
    rejected(web, sim, account, invoice)
    assert web.post(f"/invoices/{invoice.pk}/b2brouter/tax-record/correct/").status_code == 302
    original, correction = remote_records(sim, account)
    [line] = correction["tax_breakdowns"]
    assert (line["category"], line["exemption_code"], line["taxable_base"]) == ("E", "E2", "800.00")
    assert line["percent"] is None and line["non_exemption_code"] is None
    assert (correction["tax_amount"], correction["tax_inclusive_amount"]) == ("0.00", "800.00")


def test_an_exempt_tax_without_a_code_or_a_default_is_not_sent_and_says_what_to_fix(
        web, rejecting, company, account, integration, customer, bank, sim):
    verifactu_on(sim, account)
    contact_for(sim, account, customer)
    exempt = Tax.objects.create(company=company, name="Exempt", tax_type="IVA", kind=TaxKind.PERCENTAGE,
                                rate=Decimal("0"), category="E", exemption_code="E1",
                                exemption_reason="Exenta art. 20 LIVA")
    invoice = make_invoice(company, customer, taxes=[exempt], payment_method=bank, lines=[("1", "100")])
    rejected(web, sim, account, invoice)
    # A tax copied before codes existed: neither it nor its company tax says why.
    invoice.taxes.update(exemption_code="")
    Tax.objects.filter(pk=exempt.pk).update(exemption_code="")
    answer = web.post(f"/invoices/{invoice.pk}/b2brouter/tax-record/correct/", follow=True)
    page = text_of(answer.content.decode())
    assert "bears no VAT but does not say why" in page and "default exemption code" in page
    assert len(remote_records(sim, account)) == 1  # nothing was sent
    assert "Send the correction" in text_of(section(web, invoice))  # still offered once fixed

    codes = "/settings/integrations/b2brouter/tax-reporting/verifactu/codes/"
    assert web.post(codes, {"reason_vat_exempt": "E6"}).status_code == 302
    assert web.post(f"/invoices/{invoice.pk}/b2brouter/tax-record/correct/").status_code == 302
    assert remote_records(sim, account)[1]["tax_breakdowns"][0]["exemption_code"] == "E6"
