"""Our own PDF of an invoice: read back with pypdf, in the client's language, reachable, tenant-safe."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from b2binvoice.companies.models import PaymentMethod, PaymentMethodType
from b2binvoice.invoices import pdf as invoice_pdf
from b2binvoice.invoices.models import InvoiceAdjustment, InvoiceLine
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    VALID_IBAN,
    _b2brouter_settings,
    company,
    customer,
    make_invoice,
    other_web,
    user,
    vat,
    web,
)

pytestmark = pytest.mark.django_db


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    # Babel separates an amount from its symbol with a no-break space (1.815,00\xa0€).
    return "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ").replace("\u202f", " ")


def pages_of(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def bank(company):
    return PaymentMethod.objects.create(company=company, name="Main account", type=PaymentMethodType.BANK_TRANSFER,
                                        iban=VALID_IBAN, bic="CAIXESBBXXX", details="Quote the invoice number.")


def test_the_pdf_is_downloaded_from_the_invoice_page_with_its_content(web, company, customer, vat, bank):
    customer.language = "en"
    customer.save()
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank, lines=[("1000", "1.5")])
    invoice.note = "Thank you for your business."
    invoice.save()
    InvoiceAdjustment.objects.create(invoice=invoice, kind="discount", mode="percentage", value=Decimal("10"),
                                     reason="Loyal client")
    page = web.get(f"/invoices/{invoice.pk}/").content.decode()
    assert f'href="/invoices/{invoice.pk}/pdf/"' in page and "Download PDF" in page

    response = web.get(f"/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="invoice-INV-0001.pdf"'
    text = text_of(response.content)
    # 1000 x 1.5 = 1,500.00; -10 % = 1,350.00; IVA 21 % = 283.50; total 1,633.50
    for expected in ("INV-0001", "Lingua Test S.L.", "ESB12345674", "Übersetzungen Kunde S.A.", "ESB58378431",
                     "Calle Mayor 1", "08001 Barcelona", "Spain", "Translation 1", "€1,500.00", "Loyal client",
                     "€1,350.00", "€283.50", "€1,633.50", "IVA 21%", VALID_IBAN, "CAIXESBBXXX",
                     "Quote the invoice number.", "Thank you for your business.", "Nov 2, 2026", "Dec 2, 2026",
                     "Page 1 of 1"):
        assert expected in text, expected


def test_a_spanish_client_gets_a_spanish_pdf_with_spanish_amounts(web, company, customer, vat):
    customer.language = "es"
    customer.save()
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("1000", "1.5")])
    text = text_of(web.get(f"/invoices/{invoice.pk}/pdf/").content)
    assert "FACTURA" in text and "Fecha de vencimiento" in text
    assert "1.815,00 €" in text and "315,00 €" in text  # 1,500 + 21 % in Spanish notation
    assert "2 nov 2026" in text and "España" in text
    assert "Página 1 de 1" in text


def test_a_credit_note_names_the_invoice_it_corrects(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat], number="INV-0009")
    note = make_invoice(company, customer, taxes=[vat], number="INV-R-0001", lines=[("10", "-2")])
    note.kind, note.corrected_invoice = "credit_note", invoice
    note.amended_number, note.amended_date = "INV-0009", dt.date(2026, 10, 1)
    note.corrective_reason, note.correction_reason = "R1", "Wrong word count"
    note.save()
    response = web.get(f"/invoices/{note.pk}/pdf/")
    assert response["Content-Disposition"] == 'attachment; filename="credit-note-INV-R-0001.pdf"'
    text = text_of(response.content)
    assert "CREDIT NOTE" in text and "INV-0009" in text and "Oct 1, 2026" in text
    assert "Wrong word count" in text and "-€24.20" in text


def test_two_hundred_lines_run_over_numbered_pages(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat], lines=[])
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, position=i, description=f"Chapter {i + 1} translated", quantity=Decimal("1"),
                    unit="pages", unit_price=Decimal("10")) for i in range(200))
    content = web.get(f"/invoices/{invoice.pk}/pdf/").content
    count = pages_of(content)
    assert count > 2
    text = text_of(content)
    assert "Chapter 1 translated" in text and "Chapter 200 translated" in text
    assert f"Page {count} of {count}" in text and "€2,420.00" in text


def test_the_list_links_each_row_to_its_pdf(web, company, customer):
    invoice = make_invoice(company, customer)
    assert f'href="/invoices/{invoice.pk}/pdf/"' in web.get("/invoices/").content.decode()


def test_another_companys_invoice_pdf_is_not_found(other_web, company, customer):
    invoice = make_invoice(company, customer)
    assert other_web.get(f"/invoices/{invoice.pk}/pdf/").status_code == 404


def test_an_unsafe_number_gives_a_safe_file_name(web, company, customer):
    invoice = make_invoice(company, customer, number='A/2026 "x"\r\n;ñ')
    disposition = web.get(f"/invoices/{invoice.pk}/pdf/")["Content-Disposition"]
    assert disposition == 'attachment; filename="invoice-A-2026-x-n.pdf"'


def test_a_header_block_draws_at_the_top_of_the_first_page_only(company, customer):
    invoice = make_invoice(company, customer)
    calls = []

    def legend(pdf, drawn, slot):
        calls.append((drawn.pk, slot.x, slot.y))
        pdf.set_xy(slot.x, slot.y)
        pdf.cell(slot.width, 6, "HEADER-LEGEND")
        return 6

    text = text_of(invoice_pdf.render_invoice_pdf(invoice, "en", blocks=[legend]))
    assert calls == [(invoice.pk, invoice_pdf.MARGIN, invoice_pdf.MARGIN)]
    assert text.index("HEADER-LEGEND") < text.index("Lingua Test S.L.")


def test_without_a_unicode_font_the_pdf_still_renders(company, customer, vat, settings, monkeypatch):
    monkeypatch.setattr(invoice_pdf, "FONT_DIRS", ())
    settings.PDF_FONT_DIR = ""
    customer.language = "es"
    customer.save()
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("1000", "1.5")])
    text = text_of(invoice_pdf.render_invoice_pdf(invoice))
    assert "Übersetzungen Kunde S.A." in text and "1.815,00 EUR" in text


# --- Attached in B2Brouter ---------------------------------------------------------------------

from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink  # noqa: E402
from tests.app.test_einvoicing_support import account, confirmed, contact_for, integration, section, sim  # noqa: E402,F401,F811


def switch_attach_on(web, account):
    data, key = account
    response = web.post("/settings/integrations/b2brouter/", {
        "enabled": "on", "environment": "simulator", "api_key": "", "account_id": str(data["id"]),
        "send_after_create": "on", "attach_pdf": "on"})
    assert response.status_code == 302


def test_attaching_is_off_by_default(web, company, account, integration, customer, vat, sim):
    assert integration.attach_pdf is False
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    link = InvoiceLink.objects.get(invoice=invoice)
    assert sim.api("GET", f"/invoices/{link.b2brouter_id}", account[1])["invoice"]["attachments"] == []


def test_our_pdf_becomes_the_b2brouter_invoices_pdf(web, company, account, integration, customer, vat, sim):
    switch_attach_on(web, account)
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    response = confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert response.status_code in (200, 302)
    link = InvoiceLink.objects.get(invoice=invoice)
    data, key = account
    remote = sim.api("GET", f"/invoices/{link.b2brouter_id}", key)["invoice"]
    assert [(a["filename"], a["use_as_pdf_view"]) for a in remote["attachments"]] == [("invoice-INV-0001.pdf", True)]
    assert remote["state"] != "new"  # attached, then sent
    downloaded = sim.http.get(f"/sim/invoices/{link.b2brouter_id}/as/pdf.invoice", HTTP_X_B2B_API_KEY=key,
                              HTTP_X_B2B_API_VERSION="2026-03-02").content
    assert "Page 1 of 1" in text_of(downloaded) and "Übersetzungen Kunde S.A." in text_of(downloaded)
    assert InvoiceEvent.objects.filter(invoice=invoice, type="pdf_attached").exists()


def test_a_failed_upload_keeps_the_link_and_says_why(web, company, account, integration, customer, vat, sim,
                                                     monkeypatch):
    import b2brouter
    from b2binvoice.einvoicing.remote import Remote

    def refuse(self, invoice_id, content, *, filename, use_as_pdf_view):
        raise b2brouter.InvalidRequestError("<b>File rejected</b>", status_code=422, request_id="req_att")

    monkeypatch.setattr(Remote, "add_attachment", refuse)
    switch_attach_on(web, account)
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.status == "linked" and link.b2brouter_id
    page = section(web, invoice)
    assert "Our PDF was not attached in B2Brouter" in page
    assert "&lt;b&gt;File rejected&lt;/b&gt;" in page and "<b>File rejected</b>" not in page
    event = InvoiceEvent.objects.get(invoice=invoice, type="pdf_attach_failed")
    assert event.remote_message == "<b>File rejected</b>" and event.request_id == "req_att"


def test_a_pdf_that_cannot_be_drawn_does_not_hide_the_create(web, company, account, integration, customer, vat, sim,
                                                            monkeypatch):
    def broken(invoice, language=None, **kwargs):
        raise RuntimeError("no font")

    monkeypatch.setattr(invoice_pdf, "render_invoice_pdf", broken)
    switch_attach_on(web, account)
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    assert InvoiceLink.objects.get(invoice=invoice).status == "linked"
    assert "Our PDF could not be drawn" in section(web, invoice)


# --- Every amount that makes the total is on the PDF --------------------------------------------

from b2binvoice.companies.models import Tax  # noqa: E402
from b2binvoice.invoices.models import Payment  # noqa: E402


def totals_block(text: str) -> list[str]:
    """Return the lines of the totals block, from the subtotal to the total."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Subtotal"))
    end = next(i for i, line in enumerate(lines) if line.startswith("Total ") and i > start)
    return lines[start:end + 1]


def test_discounts_charges_and_a_withholding_are_shown_with_their_figures(web, company, customer, vat):
    customer.language = "en"
    customer.save()
    irpf = Tax.objects.create(company=company, name="IRPF 15%", tax_type="IRPF", kind="percentage",
                              rate=Decimal("-15"), category="S")
    invoice = make_invoice(company, customer, taxes=[vat, irpf], lines=[("1000", "1.5")])
    InvoiceAdjustment.objects.create(invoice=invoice, kind="discount", mode="percentage", value=Decimal("10"),
                                     reason="Loyal client")
    InvoiceAdjustment.objects.create(invoice=invoice, kind="discount", mode="absolute", value=Decimal("50"))
    InvoiceAdjustment.objects.create(invoice=invoice, kind="charge", mode="absolute", value=Decimal("25.40"),
                                     reason="Courier")
    block = totals_block(text_of(web.get(f"/invoices/{invoice.pk}/pdf/").content))
    # 1,500.00 - 150.00 - 50.00 + 25.40 = 1,325.40; IVA 278.33; IRPF -198.81; total 1,404.92
    assert block == [
        "Subtotal €1,500.00",
        "Discount (10 % of €1,500.00) · Loyal client -€150.00",
        "Discount -€50.00",
        "Charge · Courier €25.40",
        "Tax-exclusive amount €1,325.40",
        "IVA 21% (21 % of €1,325.40) €278.33",
        "IRPF 15% (-15 % of €1,325.40) -€198.81",
        "Total €1,404.92",
    ]


def test_a_credit_notes_discount_is_signed_as_it_counts_in_spanish(web, company, customer, vat):
    customer.language = "es"
    customer.save()
    original = make_invoice(company, customer, taxes=[vat], number="INV-0009")
    note = make_invoice(company, customer, taxes=[vat], number="INV-R-0001", lines=[("10", "-2")])
    note.kind, note.corrected_invoice, note.amended_number = "credit_note", original, "INV-0009"
    note.save()
    InvoiceAdjustment.objects.create(invoice=note, kind="discount", mode="percentage", value=Decimal("10"))
    text = text_of(web.get(f"/invoices/{note.pk}/pdf/").content)
    # -20,00 less a 10 % discount (-2,00) is -18,00: the discount row adds 2,00.
    assert totals_block(text) == [
        "Subtotal -20,00 €",
        "Descuento (10 % de -20,00 €) 2,00 €",
        "Base imponible -18,00 €",
        "IVA 21% (21 % de -18,00 €) -3,78 €",
        "Total -21,78 €",
    ]
    assert "Corrige la factura INV-0009" in text and "−-" not in text and "+-" not in text


def test_an_exemption_is_explained_by_its_reason_or_its_code(web, company, customer):
    customer.language = "en"
    customer.save()
    exempt = Tax.objects.create(company=company, name="IVA exento", tax_type="IVA", kind="percentage",
                                rate=Decimal("0"), category="E", exemption_reason="Exempt under art. 20.1.18 LIVA",
                                exemption_code="E1")
    export = Tax.objects.create(company=company, name="IVA export", tax_type="IVA", kind="percentage",
                                rate=Decimal("0"), category="G", exemption_code="E2")
    first = make_invoice(company, customer, taxes=[exempt], lines=[("1", "100")])
    second = make_invoice(company, customer, taxes=[export], lines=[("-1", "100")], number="INV-0002")
    assert "Exempt under art. 20.1.18 LIVA" in text_of(web.get(f"/invoices/{first.pk}/pdf/").content)
    text = " ".join(text_of(web.get(f"/invoices/{second.pk}/pdf/").content).split())
    assert "E2 – Exempt under art. 21 LIVA (exports of goods outside the EU)" in text
    assert "-€0.00" not in text and "€0.00" in text  # 0 % of a negative base is no negative zero


def test_payments_and_credit_notes_so_far_are_taken_off_the_amount_asked_for(web, company, customer, vat):
    customer.language = "en"
    customer.save()
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("100", "1")])  # 121.00
    invoice.status = "issued"
    invoice.save()
    Payment.objects.create(invoice=invoice, date=dt.date(2026, 11, 10), amount=Decimal("21"))
    text = text_of(web.get(f"/invoices/{invoice.pk}/pdf/").content)
    assert "Paid so far: €21.00" in text and "Please pay €100.00 by Dec 2, 2026." in text
    assert "Please pay €121.00" not in text


def attachments(sim, account, link):
    remote = sim.api("GET", f"/invoices/{link.b2brouter_id}", account[1])["invoice"]
    return [(a["filename"], a["use_as_pdf_view"]) for a in remote["attachments"]]


def crashed_create(sim, account, invoice, contact):
    """The create reached B2Brouter, then our process died before recording the answer: a pending row."""
    import datetime as _dt

    from django.utils import timezone

    data, key = account
    remote = sim.api("POST", f"/accounts/{data['id']}/invoices", key, {"invoice": {
        "number": invoice.number, "date": "2026-11-02", "currency": "EUR", "contact_id": contact["id"],
        "invoice_lines_attributes": [{"description": "Translation 1", "quantity": "1234", "price": "0.085",
                                      "taxes_attributes": [{"name": "IVA", "category": "S", "percent": "21"}]}]},
        "send_after_import": False})["invoice"]
    link = InvoiceLink.objects.create(invoice=invoice, account_id=str(data["id"]), number=invoice.number,
                                      contact_id=contact["id"],
                                      attempt_started_at=timezone.now() - _dt.timedelta(hours=1))
    return remote, link


def test_a_create_whose_answer_was_lost_gets_our_pdf_once_found(web, company, account, integration, customer, vat,
                                                                sim):
    from b2binvoice.einvoicing import actions

    switch_attach_on(web, account)
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    remote, stale = crashed_create(sim, account, invoice, contact)
    web.post(f"/invoices/{invoice.pk}/b2brouter/reconcile/")  # "Check B2Brouter" finds it
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.status == "linked" and link.b2brouter_id == remote["id"]
    assert attachments(sim, account, link) == [("invoice-INV-0001.pdf", True)]
    assert link.pdf_attached_to == remote["id"]
    # Another path that read the same attempt before it was settled (the background check) finds
    # it too: the PDF is not attached a second time.
    actions.settle(stale, by="the background check")
    assert attachments(sim, account, link) == [("invoice-INV-0001.pdf", True)]
    assert InvoiceEvent.objects.filter(invoice=invoice, type="pdf_attached").count() == 1


def test_the_background_check_attaches_our_pdf_to_a_create_it_confirms(web, company, account, integration, customer,
                                                                        vat, sim):
    from b2binvoice.einvoicing import actions

    switch_attach_on(web, account)
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    _remote, link = crashed_create(sim, account, invoice, contact)
    assert actions.settle_in_background(link.pk) == "settled"
    link.refresh_from_db()
    assert link.state == "new"  # found after the user's request: never sent without a click
    assert attachments(sim, account, link) == [("invoice-INV-0001.pdf", True)]


def test_without_attaching_on_a_found_create_gets_no_pdf(web, company, account, integration, customer, vat, sim):
    contact = contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    _remote, link = crashed_create(sim, account, invoice, contact)
    web.post(f"/invoices/{invoice.pk}/b2brouter/reconcile/")
    link.refresh_from_db()
    assert link.status == "linked" and attachments(sim, account, link) == []


def test_a_bulk_push_attaches_our_pdf_to_each_invoice(web, company, account, integration, customer, vat, sim,
                                                      settings):
    from b2binvoice.einvoicing import bulk

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    switch_attach_on(web, account)
    contact_for(sim, account, customer)
    chosen = [make_invoice(company, customer, taxes=[vat], number=f"INV-000{n}") for n in (1, 2)]
    bulk.run_bulk(bulk.start_run(company=company, user=None, action="send", invoices=chosen).pk)
    for invoice in chosen:
        link = InvoiceLink.objects.get(invoice=invoice)
        assert attachments(sim, account, link) == [(f"invoice-{invoice.number}.pdf", True)]


@pytest.mark.parametrize("lost", [True, False])
def test_an_upload_without_an_answer_is_not_repeated_and_a_refused_one_may_be(web, company, account, integration,
                                                                              customer, vat, sim, monkeypatch, lost):
    import b2brouter
    from b2binvoice.einvoicing.remote import Remote

    def fail(self, invoice_id, content, *, filename, use_as_pdf_view):
        if lost:
            raise b2brouter.APIConnectionError("timed out", method="POST", path="/add_attachment", maybe_applied=True)
        raise b2brouter.InvalidRequestError("File rejected", status_code=422, request_id="req_att")

    monkeypatch.setattr(Remote, "add_attachment", fail)
    switch_attach_on(web, account)
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    link = InvoiceLink.objects.get(invoice=invoice)
    page = section(web, invoice)
    if lost:
        assert "B2Brouter did not confirm that our PDF was attached" in page
        assert link.pdf_attached_to == link.b2brouter_id  # kept: it may be there
    else:
        assert "Our PDF was not attached in B2Brouter" in page
        assert link.pdf_attached_to is None  # refused: nothing is there
