"""Thin HTTP views of the simulated API: parse the request, call the backend, serialise.

Every response, errors included, carries X-B2B-API-Request-Id.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt

from . import backend, deferred, documents, faults, serializers
from . import tax_reports as tr
from . import validation as v
from .exceptions import BadRequest, InjectedServerError, MethodNotAllowed, NotFound, NotSimulated, SimError
from .models import SimAccount, SimInvoice, SimTaxReport, SimWebhook
from .webhooks import create_webhook

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-B2B-API-Request-Id"
FAULT_HEADER = "X-Sim-Fault"
OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")

Handler = Callable[..., HttpResponse]


class SimulatedConnectionDrop(ConnectionResetError):
    """Raised while streaming a response to drop the connection after the first bytes."""


def body_of(request: HttpRequest, wrapper: str | None = None) -> Any:
    """Parse the JSON body with numbers as Decimal (never float); an empty body is {}.

    A body nested too deeply or that is not JSON is 400; text no column can store (NUL,
    unpaired surrogates) or numbers out of range anywhere in it are 422 with their param,
    named inside ``wrapper`` (``invoice_lines_attributes[0].description``, not ``invoice.``...).
    """
    if not request.body:
        return {}
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # A form post without fields (e.g. `curl -X POST` or a bare test client post) is "no body".
        if not request.POST:
            return {}
        raise BadRequest("Send the body as JSON (Content-Type: application/json)")
    body = v.parse_json(request.body)
    v.check_storable(body, wrapper)
    return body


def check_request_text(request: HttpRequest, path_values: dict[str, Any]) -> None:
    """Refuse NUL characters in the query string (400) and in the path (404: no record has such an id)."""
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise BadRequest(f"Query parameter {name[:40]!r} contains a NUL character", param=name.replace("\x00", ""))
    if any(isinstance(value, str) and "\x00" in value for value in path_values.values()):
        raise NotFound("Not found: the path contains a NUL character")


def ok(data: dict[str, Any], status: int = 200) -> JsonResponse:
    """Return a JSON response."""
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def listing(request: HttpRequest, key: str, qs: QuerySet[Any], serialise: Callable[[Any], dict[str, Any]]) -> JsonResponse:
    """Return one page of `qs` as {key: [...], "meta": {total_count, offset, limit}}."""
    offset, limit = backend.page(request.GET.dict())
    total = qs.count()
    # An offset past the end is an empty page (and never reaches SQL, where it may not fit).
    items = [serialise(obj) for obj in qs[offset : offset + limit]] if offset < total else []
    return ok({key: items, "meta": {"total_count": total, "offset": offset, "limit": limit}})


def _withhold(response: HttpResponse, decision: faults.Decision) -> HttpResponse:
    response[FAULT_HEADER] = "no-answer"
    # The work is committed; the caller times out waiting (over a socket) or sees the header (in-process).
    time.sleep(decision.delay)
    return response


def _client_socket(environ: dict[str, Any]) -> socket.socket | None:
    """Return the request's client socket where the server exposes it, else None (in-process)."""
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        return sock
    # Django's development server (wsgiref) reads wsgi.input from the socket's file object:
    # LimitedStream -> BufferedReader -> SocketIO -> socket. There is no public way to reach it.
    reader = getattr(getattr(environ.get("wsgi.input"), "_read", None), "__self__", None)
    sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _drop(response: HttpResponse, environ: dict[str, Any]) -> HttpResponse:
    content = response.content
    half = content[: max(1, len(content) // 2)]
    sock = _client_socket(environ)

    def chunks() -> Iterator[bytes]:
        yield half
        # The half is on the wire (the server writes and flushes each chunk). Close the socket
        # before the server sees the error: a WSGI server keeps a kept-alive connection open
        # after an error in the body and waits for the next request, while the client waits
        # for the rest of the promised body until its read timeout (80 s for B2Brouter's PHP
        # SDK). A closed socket ends both at once: the client sees a short body.
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise SimulatedConnectionDrop("Simulated connection drop after the first bytes of the answer")

    streaming = StreamingHttpResponse(chunks(), status=response.status_code)
    # Keep every header of the real answer (the request id, a download's file name) ...
    for header, value in response.items():
        streaming[header] = value
    # ... and promise the full length so a client over a socket notices the body was cut short.
    streaming["Content-Length"] = str(len(content))
    streaming[FAULT_HEADER] = "drop"
    return streaming


def endpoint(kind: str = "api", **handlers: Handler) -> Callable[..., HttpResponse]:
    """Build a view dispatching on the HTTP method.

    `kind` is "api" (versioned, keyed, faulted, atomic), "control" (atomic) or "static".
    """

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        request_id = "req_" + uuid.uuid4().hex
        decision = faults.Decision()
        held = False
        try:
            method = request.method or "GET"
            # HEAD is answered like GET (the server leaves the body out), as Django's views do.
            handler = handlers.get(method) or (handlers.get("GET") if method == "HEAD" else None)
            if handler is None:
                raise MethodNotAllowed(f"{request.method} is not allowed here; use {', '.join(handlers)}")
            check_request_text(request, kwargs)
            if kind == "api":
                backend.check_version(request.headers.get("X-B2B-API-Version"))
                account = backend.authenticate(request.headers.get("X-B2B-API-Key"))
                # What the "apply later" fault held back and is due by now happens first.
                deferred.apply_due(account)
                decision = faults.before_request(account)
                operation = DEFERRABLE.get(handler)
                with transaction.atomic():
                    response = handler(request, account, **kwargs)
                    held = decision.defers(operation) and response.status_code < 400
                    if held:
                        # Validated and answered, but not applied: undo it and keep it for later.
                        transaction.set_rollback(True)
                if held and operation is not None:
                    target = kwargs.get("account_id") if operation == "create" else kwargs.get("invoice_id")
                    deferred.hold(account, operation, str(target), request.body, decision.apply_later_delay)
            elif kind == "control":
                with transaction.atomic():
                    response = handler(request, **kwargs)
            else:  # static: no database involved
                response = handler(request, **kwargs)
        except SimError as error:
            response = error.to_response()
        except Exception:
            logger.exception("Simulator error on %s %s (request %s)", request.method, request.path, request_id)
            response = InjectedServerError("Internal simulator error", code="internal_error").to_response()
        response[REQUEST_ID_HEADER] = request_id
        if (decision.no_answer or held) and response.status_code < 400:
            if decision.mode == "drop":
                return _drop(response, request.environ)
            return _withhold(response, decision)
        return response

    return view


# --- accounts -------------------------------------------------------------------------------


def list_accounts(request: HttpRequest, account: SimAccount) -> HttpResponse:
    """List the accounts the key can see (its own), filtered by `query`."""
    return listing(request, "accounts", backend.list_accounts(account, request.GET.dict()), serializers.account)


def get_account(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    return ok({"account": serializers.account(backend.get_account(account, account_id))})


def update_account(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    target = backend.get_account(account, account_id)
    data = v.wrapped(body_of(request, "account"), "account")
    return ok({"account": serializers.account(backend.update_account(target, data))})


# --- contacts -------------------------------------------------------------------------------


def list_contacts(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    target = backend.get_account(account, account_id)
    return listing(request, "contacts", backend.list_contacts(target, request.GET.dict()), serializers.contact)


def create_contact(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    target = backend.get_account(account, account_id)
    data = v.wrapped(body_of(request, "contact"), "contact")
    return ok({"contact": serializers.contact(backend.create_contact(target, data))}, status=201)


def get_contact(request: HttpRequest, account: SimAccount, contact_id: int) -> HttpResponse:
    return ok({"contact": serializers.contact(backend.get_contact(account, contact_id))})


def update_contact(request: HttpRequest, account: SimAccount, contact_id: int) -> HttpResponse:
    contact = backend.get_contact(account, contact_id)
    data = v.wrapped(body_of(request, "contact"), "contact")
    return ok({"contact": serializers.contact(backend.update_contact(contact, data))})


def delete_contact(request: HttpRequest, account: SimAccount, contact_id: int) -> HttpResponse:
    contact = backend.get_contact(account, contact_id)
    data = serializers.deleted(serializers.contact(contact))
    backend.delete_contact(contact)
    return ok({"contact": data})


# --- invoices -------------------------------------------------------------------------------


def list_invoices(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    target = backend.get_account(account, account_id)
    return listing(request, "invoices", backend.list_invoices(target, request.GET.dict()), serializers.invoice)


def create_invoice(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    target = backend.get_account(account, account_id)
    body = body_of(request, "invoice")
    data = v.wrapped(body, "invoice")
    send = v.boolean(body.get("send_after_import", False), "send_after_import")
    invoice = backend.create_invoice(target, data, send_after_import=send)
    return ok({"invoice": serializers.invoice(_fresh(invoice))}, status=201)


def _fresh(invoice: SimInvoice) -> SimInvoice:
    # An immediate task backend may have moved the invoice on while we held a stale copy.
    return SimInvoice.objects.select_related("contact", "account").get(pk=invoice.pk)


def get_invoice(request: HttpRequest, account: SimAccount, invoice_id: int) -> HttpResponse:
    return ok({"invoice": serializers.invoice(backend.get_invoice(account, invoice_id))})


def update_invoice(request: HttpRequest, account: SimAccount, invoice_id: int) -> HttpResponse:
    invoice = backend.get_invoice(account, invoice_id)
    data = v.wrapped(body_of(request, "invoice"), "invoice")
    return ok({"invoice": serializers.invoice(backend.update_invoice(invoice, data))})


def delete_invoice(request: HttpRequest, account: SimAccount, invoice_id: int) -> HttpResponse:
    invoice = backend.get_invoice(account, invoice_id)
    data = serializers.deleted(serializers.invoice(invoice))
    backend.delete_invoice(invoice)
    return ok({"invoice": data})


def validate_invoice(request: HttpRequest, account: SimAccount, invoice_id: int) -> HttpResponse:
    invoice = backend.get_invoice(account, invoice_id)
    problems = backend.validate_invoice(invoice)
    return ok({"invoice": serializers.invoice(invoice), "valid": not problems, "errors": problems})


def send_invoice(request: HttpRequest, account: SimAccount, invoice_id: int) -> HttpResponse:
    invoice = backend.get_invoice(account, invoice_id)
    backend.send_invoice(invoice)
    return ok({"invoice": serializers.invoice(_fresh(invoice))})


def mark_as(request: HttpRequest, account: SimAccount, invoice_id: int) -> HttpResponse:
    invoice = backend.get_invoice(account, invoice_id)
    body = body_of(request, "invoice")
    if isinstance(body, dict) and isinstance(body.get("invoice"), dict):
        body = body["invoice"]
    if not isinstance(body, dict) or not body.get("state"):
        raise v.ValidationFailed("State can't be blank", code="parameter_blank", param="state")
    reason_param = "reason" if body.get("reason") else "refuse_reason"
    reason = v.text(body.get(reason_param) or None, reason_param, v.max_length(SimInvoice, "refuse_reason"))
    backend.mark_as(invoice, body["state"], reason or None)
    return ok({"invoice": serializers.invoice(_fresh(invoice))})


def add_attachment(request: HttpRequest, account: SimAccount, invoice_id: int) -> HttpResponse:
    """Attach the body's bytes to the invoice as ``filename``; 204 as B2Brouter answers."""
    invoice = backend.get_invoice(account, invoice_id)
    filename = request.GET.get("filename", "").strip()
    if not filename:
        raise v.ValidationFailed("Filename can't be blank", code="parameter_blank", param="filename")
    # Only a file name, never a path; control characters would break a later Content-Disposition.
    filename = "".join(ch for ch in filename.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable())
    filename = v.text(filename, "filename", 255)
    if not filename:
        raise v.ValidationFailed("Filename can't be blank", code="parameter_blank", param="filename")
    raw_flag = request.GET.get("use_as_pdf_view")
    use_as_pdf_view = v.boolean(raw_flag, "use_as_pdf_view") if raw_flag not in (None, "") else False
    try:
        content = request.body
    except RequestDataTooBig:
        raise v.ValidationFailed("The attachment is too large", param="body") from None
    backend.add_attachment(invoice, filename=filename, content=content, use_as_pdf_view=use_as_pdf_view)
    return HttpResponse(status=204)


DISPOSITIONS = ("inline", "attachment")


def download(request: HttpRequest, account: SimAccount, invoice_id: int, document_type: str) -> HttpResponse:
    """Serve a document; `disposition` (inline/attachment) and `filename` shape Content-Disposition."""
    invoice = backend.get_invoice(account, invoice_id)
    disposition = request.GET.get("disposition") or "inline"
    if disposition not in DISPOSITIONS:
        raise BadRequest("disposition must be inline or attachment", param="disposition")
    if invoice.documents_ready_at is not None and timezone.now() < invoice.documents_ready_at:
        # Documents are generated asynchronously: until then B2Brouter answers the download's
        # documented 404. The header tells a reader of the simulator's answer why.
        response = NotFound("Invoice not found").to_response()
        response[FAULT_HEADER] = "document-pending"
        return response
    content, content_type, filename = documents.render(invoice, document_type)
    wanted = request.GET.get("filename", "").strip()
    if wanted:
        # Only a file name, never a path; control characters would break the header.
        filename = "".join(ch for ch in wanted.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()) or filename
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(disposition == "attachment", filename)
    return response


# --- directory ------------------------------------------------------------------------------


def directory_lookup(request: HttpRequest, account: SimAccount, country: str, scheme: str, identifier: str) -> HttpResponse:
    """Answer how a listed participant receives documents; 404 when it is not listed."""
    return ok({"directory_entry": serializers.directory_entry(backend.lookup_participant(country, scheme, identifier))})


# --- webhooks -------------------------------------------------------------------------------


def list_webhooks(request: HttpRequest, account: SimAccount) -> HttpResponse:
    return listing(request, "web_hooks", SimWebhook.objects.filter(account=account), serializers.webhook)


def create_webhook_view(request: HttpRequest, account: SimAccount) -> HttpResponse:
    hook = create_webhook(account, v.wrapped(body_of(request, "web_hook"), "web_hook"))
    return ok({"web_hook": serializers.webhook(hook, with_secret=True)}, status=201)


def _webhook(account: SimAccount, hook_id: int) -> SimWebhook:
    hook = SimWebhook.objects.filter(account=account, pk=backend.int_or_none(hook_id)).first()
    if hook is None:
        raise NotFound("Web hook not found")
    return hook


def get_webhook(request: HttpRequest, account: SimAccount, hook_id: int) -> HttpResponse:
    return ok({"web_hook": serializers.webhook(_webhook(account, hook_id), with_deliveries=True)})


def delete_webhook(request: HttpRequest, account: SimAccount, hook_id: int) -> HttpResponse:
    hook = _webhook(account, hook_id)
    data = serializers.deleted(serializers.webhook(hook))
    hook.delete()
    return ok({"web_hook": data})


# --- tax reports (Verifactu, TicketBAI) -----------------------------------------------------


def list_tax_report_settings(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    target = backend.get_account(account, account_id)
    return listing(request, "tax_report_settings", tr.list_settings(target), serializers.tax_report_setting)


def create_tax_report_setting(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    target = backend.get_account(account, account_id)
    data = v.wrapped(body_of(request, "tax_report_setting"), "tax_report_setting")
    return ok({"tax_report_setting": serializers.tax_report_setting(tr.create_setting(target, data))}, status=201)


def get_tax_report_setting(request: HttpRequest, account: SimAccount, account_id: int, code: str) -> HttpResponse:
    target = backend.get_account(account, account_id)
    return ok({"tax_report_setting": serializers.tax_report_setting(tr.get_setting(target, code))})


def update_tax_report_setting(request: HttpRequest, account: SimAccount, account_id: int, code: str) -> HttpResponse:
    setting = tr.get_setting(backend.get_account(account, account_id), code)
    data = v.wrapped(body_of(request, "tax_report_setting"), "tax_report_setting")
    return ok({"tax_report_setting": serializers.tax_report_setting(tr.update_setting(setting, data))})


def delete_tax_report_setting(request: HttpRequest, account: SimAccount, account_id: int, code: str) -> HttpResponse:
    setting = tr.get_setting(backend.get_account(account, account_id), code)
    data = serializers.deleted(serializers.tax_report_setting(setting))
    tr.delete_setting(setting)
    return ok({"tax_report_setting": data})


def list_tax_reports(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    target = backend.get_account(account, account_id)
    return listing(request, "tax_reports", tr.list_reports(target, request.GET.dict()), serializers.tax_report)


def create_tax_report(request: HttpRequest, account: SimAccount, account_id: int) -> HttpResponse:
    target = backend.get_account(account, account_id)
    data = v.wrapped(body_of(request, "tax_report"), "tax_report")
    return ok({"tax_report": serializers.tax_report(tr.create_report(target, data))}, status=201)


def get_tax_report(request: HttpRequest, account: SimAccount, tax_report_id: str) -> HttpResponse:
    return ok({"tax_report": serializers.tax_report(tr.get_report(account, tax_report_id))})


def correct_tax_report(request: HttpRequest, account: SimAccount, tax_report_id: str) -> HttpResponse:
    report = tr.get_report(account, tax_report_id)
    data = v.wrapped(body_of(request, "tax_report"), "tax_report")
    return ok({"tax_report": serializers.tax_report(tr.correct(report, data))})


def annul_tax_report(request: HttpRequest, account: SimAccount, tax_report_id: str) -> HttpResponse:
    report = tr.get_report(account, tax_report_id)
    return ok({"tax_report": serializers.tax_report(tr.annul(report))})


def download_tax_report(request: HttpRequest, account: SimAccount, tax_report_id: str) -> HttpResponse:
    report = tr.get_report(account, tax_report_id)
    response = HttpResponse(tr.xml(report), content_type="application/xml")
    response["Content-Disposition"] = content_disposition_header(False, f"tax_report_{report.pk}.xml")
    return response


# --- control surface ------------------------------------------------------------------------


def control_create_account(request: HttpRequest) -> HttpResponse:
    """Create an account and return it with its API key."""
    body = body_of(request, "account")
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object")
    data = body["account"] if isinstance(body.get("account"), dict) else body
    account, key = backend.create_account(**account_options(data))
    return ok(
        {"account": serializers.account(account), "api_key": key, "options": backend.options_of(account)}, status=201
    )


ACCOUNT_TEXT_OPTIONS = ("name", "tin_value", "country", "currency", "email", "rounding_method",
                        "phone", "website", "address", "city", "postalcode", "province")


def account_options(data: dict[str, Any]) -> dict[str, Any]:
    """Pick and check the options of a new account from a JSON object."""
    options: dict[str, Any] = {}
    for name in ACCOUNT_TEXT_OPTIONS:
        if data.get(name) not in (None, ""):
            options[name] = v.text(data[name], name, v.max_length(SimAccount, name))
    for flag in ("round_before_sum", "apply_taxes_per_line", "minimal_answers"):
        if data.get(flag) not in (None, ""):
            options[flag] = v.boolean(data[flag], flag)
    if data.get("document_delay_seconds") not in (None, ""):
        options["document_delay_seconds"] = v.seconds(data["document_delay_seconds"], "document_delay_seconds")
    return options


def _control_account(request: HttpRequest, account_id: int) -> SimAccount:
    account = backend.authenticate(request.headers.get("X-B2B-API-Key"))
    return backend.get_account(account, account_id)


def control_get_options(request: HttpRequest, account_id: int) -> HttpResponse:
    return ok({"options": backend.options_of(_control_account(request, account_id))})


def control_set_options(request: HttpRequest, account_id: int) -> HttpResponse:
    """Change an account's simulator options (minimal_answers, document_delay_seconds)."""
    account = _control_account(request, account_id)
    body = body_of(request, "options")
    data = body["options"] if isinstance(body, dict) and isinstance(body.get("options"), dict) else body
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object of options")
    return ok({"options": backend.options_of(backend.set_options(account, data))})


def control_directory_put(request: HttpRequest, country: str, scheme: str, identifier: str) -> HttpResponse:
    """List (or relist) a participant in the simulated directory."""
    body = body_of(request, "participant")
    data = body["participant"] if isinstance(body, dict) and isinstance(body.get("participant"), dict) else body
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object")
    entry = backend.register_participant(country, scheme, identifier, data)
    return ok({"directory_entry": serializers.directory_entry(entry)})


def control_directory_delete(request: HttpRequest, country: str, scheme: str, identifier: str) -> HttpResponse:
    """Remove a participant from the simulated directory."""
    entry = backend.lookup_participant(country, scheme, identifier)
    data = serializers.deleted(serializers.directory_entry(entry))
    entry.delete()
    return ok({"directory_entry": data})


def control_get_faults(request: HttpRequest, account_id: int) -> HttpResponse:
    return ok({"faults": faults.current(_control_account(request, account_id))})


def control_set_faults(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _control_account(request, account_id)
    body = body_of(request, "faults")
    data = body["faults"] if isinstance(body, dict) and isinstance(body.get("faults"), dict) else body
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object of faults")
    return ok({"faults": faults.set_faults(account, data)})


def control_get_deferred(request: HttpRequest, account_id: int) -> HttpResponse:
    """List the operations the "apply later" fault held back for the account, pending first."""
    account = _control_account(request, account_id)
    operations = sorted(account.deferred_operations.all(), key=lambda op: (op.status != "pending", op.due_at, op.pk))
    return ok({"deferred": [deferred.describe(op) for op in operations]})


def control_apply_deferred(request: HttpRequest, account_id: int) -> HttpResponse:
    """Apply every held-back operation of the account now, due or not."""
    account = _control_account(request, account_id)
    return ok({"deferred": [deferred.describe(op) for op in deferred.apply_due(account, everything=True)]})


def control_advance(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = (SimInvoice.objects.select_for_update().select_related("contact", "account")
               .filter(pk=backend.int_or_none(invoice_id)).first())
    if invoice is None:
        raise NotFound("Invoice not found")
    backend.advance(invoice)
    backend.schedule_next(invoice)
    return ok({"invoice": serializers.invoice(_fresh(invoice))})


def control_advance_tax_report(request: HttpRequest, tax_report_id: str) -> HttpResponse:
    """Apply the simulated authority's pending answer to a record now."""
    report = (SimTaxReport.objects.select_for_update(of=("self",)).select_related("account", "corrected")
              .filter(pk=backend.int_or_none(tax_report_id)).first())
    if report is None:
        raise NotFound("Tax report not found")
    tr.advance(report)
    return ok({"tax_report": serializers.tax_report(report)})


#: The handlers whose work the "apply later" fault can hold back, by the fault's operation name.
DEFERRABLE: dict[Handler, str] = {create_invoice: "create", send_invoice: "send"}


def openapi(request: HttpRequest) -> HttpResponse:
    return HttpResponse(OPENAPI_PATH.read_bytes(), content_type="application/yaml; charset=utf-8")


def not_simulated(request: HttpRequest, path: str = "") -> HttpResponse:
    raise NotSimulated(
        f"{request.method} {request.path} is not simulated: the simulator implements the routes in /sim/openapi.yaml"
    )
