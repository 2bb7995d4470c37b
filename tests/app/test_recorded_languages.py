"""Recorded history follows the reader's language: texts written in English are read in Spanish or Catalan.

B2Brouter's history of an invoice, the invoice's own history and the settings history are written
once (often by the worker, in English) and read by anyone: each reader sees them in their own
language, with dates and times as their language writes them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from b2binvoice.companies.models import SettingsChange
from b2binvoice.einvoicing import bulk
from b2binvoice.einvoicing.models import EventType, InvoiceEvent, Outcome, SyncPass
from b2binvoice.einvoicing.tasks import settle_attempt
from b2binvoice.invoices.models import InvoiceChange
from tests.app.test_einvoicing_converge import (  # noqa: F401 (fixtures)
    apply_later,
    created_unsent,
    ready,
    time_passes,
)
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
    bank,
    company,
    confirmed,
    contact_for,
    customer,
    integration,
    make_invoice,
    sim,
    user,
    vat,
    web,
)
from tests.app.test_einvoicing_settings import answering, b2brouter_error
from tests.app.test_einvoicing_webhooks import deliver, event, register

pytestmark = pytest.mark.django_db


def page(web, invoice, language: str) -> str:
    response = web.get(f"/invoices/{invoice.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def b2brouter_history(text: str) -> str:
    """Return the "B2Brouter history" table of an invoice page."""
    return text.split('<details class="b2b-events"')[1].split("</details>")[0]


def invoice_history(text: str) -> str:
    return text.split('<section class="history')[1].split("</section>")[0]


def test_a_send_confirmed_by_the_worker_in_english_reads_in_spanish_and_catalan(web, created_unsent, sim,
                                                                                   account):
    invoice = created_unsent.invoice
    apply_later(sim, account, operations=["send"])
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/send/")
    time_passes(sim, account)
    with translation.override("en"):  # the worker speaks English
        assert settle_attempt.call(created_unsent.pk) == "settled"
    sent = InvoiceEvent.objects.get(invoice=invoice, type=EventType.SENT)

    english = b2brouter_history(page(web, invoice, "en"))
    assert "Confirmed through the background check: B2Brouter reports it sending." in english
    spanish = b2brouter_history(page(web, invoice, "es"))
    # The message and the name of the check (a parameter) are in Spanish; B2Brouter's state stays as it said it.
    assert "Confirmado mediante la comprobación en segundo plano: B2Brouter la indica como sending." in spanish
    assert "Confirmed through" not in spanish and "background check" not in spanish
    catalan = b2brouter_history(page(web, invoice, "ca"))
    assert "Confirmat mitjançant la comprovació en segon pla: B2Brouter la indica com a sending." in catalan
    assert "Confirmed through" not in catalan

    # When: the reader's date format, in the configured time zone.
    moment = timezone.localtime(sent.created_at)
    assert moment.strftime("%d/%m/%Y %H:%M:%S") in spanish and moment.strftime("%Y-%m-%d %H:%M:%S") not in spanish
    assert moment.strftime("%Y-%m-%d %H:%M:%S") in english

    # The invoice's own history: the status B2Brouter's send changed, in the reader's language and format.
    history = invoice_history(page(web, invoice, "es"))
    assert "Borrador → Emitida" in history
    change = InvoiceChange.objects.filter(invoice=invoice, action="status").latest("pk")
    assert timezone.localtime(change.at).strftime("%d/%m/%Y %H:%M") in history


def test_a_notification_received_in_english_reads_in_spanish(web, integration, ready, sim, account):
    confirmed(web, f"/invoices/{ready.pk}/b2brouter/create/")
    link = ready.b2brouter_link
    registered = register(web, integration)
    # The receiver answers B2Brouter, which sends no language: English.
    assert deliver(registered, event(link, state="accepted", event_id=77)).json()["outcome"] == "applied"
    stale = event(link, state="sent", event_id=78, triggered_at=int(dt.datetime(2020, 1, 1).timestamp()))
    assert deliver(registered, stale).json()["outcome"] == "stale"
    stored = InvoiceEvent.objects.filter(invoice=ready, type=EventType.STATE_NOTIFIED).get().message
    assert str(stored) == "State: accepted"  # read back in the active (English) language

    spanish = b2brouter_history(page(web, ready, "es"))
    assert "Estado: accepted" in spanish and "State: accepted" not in spanish
    assert ("El estado notificado sent es anterior al estado conocido accepted: se mantiene accepted."
            in spanish)
    catalan = b2brouter_history(page(web, ready, "ca"))
    assert "Estat: accepted" in catalan


def test_an_old_plain_text_row_still_shows_as_written(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat])
    InvoiceEvent.objects.create(invoice=invoice, type=EventType.REFRESHED, outcome=Outcome.SUCCESS,
                                message="Estado: sent (written before <b>texts</b> were kept untranslated)",
                                b2brouter_id=5)
    odd = InvoiceEvent.objects.create(invoice=invoice, type=EventType.REFRESHED, outcome=Outcome.SUCCESS,
                                      b2brouter_id=6)
    with connection.cursor() as cursor:  # a row as an older version (or another tool) may have written it
        cursor.execute(f"UPDATE {InvoiceEvent._meta.db_table} SET message = %s WHERE id = %s",
                       ['{"msgid": not json', odd.pk])
    # Plain text that looks like a stored text is kept verbatim when written now.
    InvoiceEvent.objects.create(invoice=invoice, type=EventType.REFRESHED, outcome=Outcome.SUCCESS,
                                message='{"msgid":"Refreshed"} typed', b2brouter_id=7)
    InvoiceChange.objects.create(company=company, invoice=invoice, number=invoice.number, action="delete_refused",
                                 changes={"reason": "No se puede eliminar.", "adjustments": {
                                     "removed": [], "added": ["Descuento 10 %"]}})
    for language in ("en", "es"):
        text = page(web, invoice, language)
        assert "Estado: sent (written before &lt;b&gt;texts&lt;/b&gt; were kept untranslated)" in text
        assert "{&quot;msgid&quot;: not json" in text
        assert "{&quot;msgid&quot;:&quot;Refreshed&quot;} typed" in text
        assert "No se puede eliminar." in text and "Descuento 10 %" in text


def test_the_invoice_history_follows_the_reader(web, company, customer, vat):
    invoice = make_invoice(company, customer, taxes=[vat], lines=[("100", "1")])
    invoice.status = "issued"
    invoice.save()
    # An English-speaking colleague tries to delete it and records a payment.
    assert web.post(f"/invoices/{invoice.pk}/delete/", HTTP_ACCEPT_LANGUAGE="en").status_code == 403
    web.post(f"/invoices/{invoice.pk}/payments/", {"date": "2026-11-20", "amount": "21.00", "method": "cash",
                                                   "note": ""}, HTTP_ACCEPT_LANGUAGE="en")
    english = invoice_history(page(web, invoice, "en"))
    assert "is issued: an issued invoice cannot be deleted." in english
    assert "21.00 EUR on 2026-11-20 · Cash" in english

    spanish = invoice_history(page(web, invoice, "es"))
    # The refusal and the status in it (a label) are in Spanish; the payment's date and method too.
    assert f"{invoice.number} está emitida: una factura emitida no se puede eliminar." in spanish
    assert "21,00 EUR el 20/11/2026 · Efectivo" in spanish
    assert "2026-11-20" not in spanish and "cannot be deleted" not in spanish
    catalan = invoice_history(page(web, invoice, "ca"))
    assert f"{invoice.number} està emesa: una factura emesa no es pot eliminar." in catalan
    assert "20/11/2026" in catalan
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", spanish)


def test_the_settings_history_follows_the_reader(web, integration):
    # The integration's settings were saved in English (the fixture's browser sends no language).
    change = SettingsChange.objects.filter(area=SettingsChange.Area.INTEGRATION).latest("pk")
    english = web.get("/settings/history/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "API key: set" in english
    spanish = web.get("/settings/history/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Clave de API: establecido" in spanish and "API key: set" not in spanish
    assert "activada: — → sí" in spanish  # a field label and a yes/no value, both in Spanish
    catalan = web.get("/settings/history/", HTTP_ACCEPT_LANGUAGE="ca").content.decode()
    assert "Clau d&#x27;API: establert" in catalan and "activada: — → sí" in catalan
    assert timezone.localtime(change.at).strftime("%d/%m/%Y %H:%M") in spanish


def test_a_failed_sync_pass_reads_in_the_readers_language(web, integration, company, settings):
    answering(settings, lambda request: b2brouter_error(500, "internal", "Upstream <down>")
              if request.method == "GET" and request.url.path.endswith("/invoices") else None)
    with translation.override("en"), contextlib.suppress(CommandError):  # the scheduler's pass, in English
        call_command("b2brouter_sync", "--company", str(company.pk), stdout=io.StringIO(), stderr=io.StringIO())
    sync_pass = SyncPass.objects.get(integration=integration)
    assert str(sync_pass.error).startswith("Could not list B2Brouter's invoices.")

    panel = web.get("/settings/integrations/b2brouter/health/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "No se han podido listar las facturas de B2Brouter. B2Brouter ha tenido un error interno (500)" in panel
    assert "Could not list" not in panel and "internal error" not in panel
    assert timezone.localtime(sync_pass.started_at).strftime("%d/%m/%Y %H:%M:%S") in panel


def test_a_bulk_run_made_in_english_reads_in_catalan(web, company, account, integration, customer, vat, bank,
                                                      settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    blocked = make_invoice(company, customer, number="INV-0001", taxes=[vat], payment_method=bank)
    with translation.override("en"):  # the worker's run
        run = bulk.run_bulk(bulk.start_run(company=company, user=None, action="send", invoices=[blocked]).pk)
    catalan = web.get(f"/invoices/b2brouter/bulk/{run.pk}/", HTTP_ACCEPT_LANGUAGE="ca").content.decode()
    assert f"cap contacte no té el NIF {customer.tin}" in catalan
    assert "no contact has the tax id" not in catalan
