"""Pages and actions of the B2Brouter integration; every one is scoped to the user's current company."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from b2binvoice.clients.models import Client
from b2binvoice.core.tenancy import company_required
from b2binvoice.invoices.models import Invoice, InvoiceStatus

from . import actions, directory, recipient, tasks, tax_records, webhook_guard, webhooks
from .actions import Result
from .comparison import compare, link_figures
from .forms import ChooseForm, ContactSearchForm, IntegrationSettingsForm, LinkSearchForm, WebhookSecretForm
from .models import REQUIRED_CALCULATION_SETTINGS, InvoiceLink, LinkStatus
from .readiness import check_readiness, client_url, invoice_url
from .remote import Remote, web_invoice_url

FLASH_KEY = "einvoicing_flash"
DOCUMENTS = {
    "pdf": ("pdf.invoice", "application/pdf", "pdf"),
    "ubl": ("xml.ubl.invoice.bis3", "application/xml", "xml"),
}


# --- Helpers ----------------------------------------------------------------------------------


def _company(request: HttpRequest) -> Any:
    company = getattr(request, "company", None)
    if company is None:
        raise Http404("no current company")
    return company


STATUS_AT_LOAD = "b2binvoice_invoice_status_at_load"


def _invoice(request: HttpRequest, pk: int) -> Invoice:
    # Readiness, payload and comparison each read the lines, taxes and adjustments: fetch them once.
    invoice = get_object_or_404(Invoice.objects.select_related("client", "payment_method", "company")
                                .prefetch_related("lines", "taxes", "adjustments"),
                                company=_company(request), pk=pk)
    # The status before any action of this request (an action may change it on this very object).
    loaded = getattr(request, STATUS_AT_LOAD, None)
    if loaded is None:
        loaded = {}
        setattr(request, STATUS_AT_LOAD, loaded)
    loaded.setdefault(invoice.pk, invoice.status)
    return invoice


def _client(request: HttpRequest, pk: int) -> Client:
    return get_object_or_404(Client.objects.select_related("company"), company=_company(request), pk=pk)


def flash(request: HttpRequest, scope: str, result: Result) -> None:
    """Keep an action's result for the next rendering of its section."""
    store = dict(request.session.get(FLASH_KEY) or {})
    store[scope] = result.as_dict()
    request.session[FLASH_KEY] = store


def pop_flash(request: HttpRequest, scope: str) -> dict[str, str] | None:
    """Take the result waiting for a section, if any."""
    store = dict(request.session.get(FLASH_KEY) or {})
    if scope not in store:
        return None
    found = store.pop(scope)
    request.session[FLASH_KEY] = store
    return found


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def _settings_context(integration: Any) -> dict[str, Any]:
    mismatches = integration.settings_mismatches() if integration is not None and integration.settings_known else []
    return {
        "integration": integration,
        "required_settings": REQUIRED_CALCULATION_SETTINGS,
        "mismatches": mismatches,
    }


# --- Settings ---------------------------------------------------------------------------------


def _no_credentials() -> Result:
    return Result("error", _("Save a working API key and account ID first."))


def _settings_action(request: HttpRequest, run: Any) -> HttpResponse:
    """Run ``run(integration)`` for the company's verified integration, flash its result, back to settings."""
    integration = actions.get_integration(_company(request))
    if integration is None or not integration.has_credentials:
        result = _no_credentials()
    else:
        result = run(integration)
    flash(request, "settings", result)
    return HttpResponseRedirect(reverse("einvoicing:settings"))


def receiver_url(request: HttpRequest, token: str) -> str:
    """Return the absolute URL of the webhook receiver for ``token``, as B2Brouter must call it."""
    return request.build_absolute_uri(reverse("einvoicing:webhook", args=[token]))


def _render_settings(request: HttpRequest, integration: Any, *, form: IntegrationSettingsForm,
                     secret_form: WebhookSecretForm | None = None, result: Result | None = None,
                     status: int = 200) -> HttpResponse:
    actions.recheck_settings_if_stale(integration)
    context: dict[str, Any] = {
        "form": form, "flash": result.as_dict() if result else pop_flash(request, "settings"),
        **_settings_context(integration)}
    if integration is not None and integration.has_credentials:
        # The receiver URL is shown before any secret exists: B2Brouter asks for it first.
        context["receiver_url"] = receiver_url(request, actions.ensure_webhook_token(integration))
        context["secret_form"] = secret_form or WebhookSecretForm(integration=integration)
    return render(request, "einvoicing/settings.html", context, status=status)


@sensitive_post_parameters("api_key")
@company_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """Show and update the company's B2Brouter settings, verifying them before saving."""
    company = _company(request)
    integration = actions.get_integration(company)
    result = None
    if request.method == "POST":
        form = IntegrationSettingsForm(request.POST, integration=integration)
        if form.is_valid():
            data = form.cleaned_data
            result = actions.save_settings(
                company=company, enabled=data["enabled"], environment=data["environment"],
                api_key=data["api_key"], account_id=data["account_id"],
                send_after_create=data["send_after_create"], attach_pdf=data["attach_pdf"])
            if result.ok or result.level == "success":
                flash(request, "settings", result)
                return HttpResponseRedirect(reverse("einvoicing:settings"))
            integration = actions.get_integration(company)
            # Keep what was typed, except the key: a secret never travels back to the page.
            form = IntegrationSettingsForm(
                initial={k: v for k, v in data.items() if k != "api_key"}, integration=integration)
    else:
        form = IntegrationSettingsForm(integration=integration)
    return _render_settings(request, integration, form=form, result=result)


@company_required
@require_POST
def settings_check(request: HttpRequest) -> HttpResponse:
    """Read the account's calculation settings again."""
    return _settings_action(request, actions.check_settings)


@company_required
@require_http_methods(["GET", "POST"])
def settings_apply(request: HttpRequest) -> HttpResponse:
    """Confirm, then write the required calculation settings to the B2Brouter account."""
    integration = actions.get_integration(_company(request))
    if integration is None or not integration.has_credentials:
        flash(request, "settings", _no_credentials())
        return HttpResponseRedirect(reverse("einvoicing:settings"))
    if request.method == "GET":
        return render(request, "einvoicing/settings_apply.html", _settings_context(integration))
    flash(request, "settings", actions.apply_required_settings(integration))
    return HttpResponseRedirect(reverse("einvoicing:settings"))


@company_required
@require_POST
def settings_webhook(request: HttpRequest) -> HttpResponse:
    """Register this company's receiver URL in B2Brouter so state changes arrive without a click."""
    return _settings_action(request, lambda integration: actions.register_webhook(
        integration, build_url=lambda token: receiver_url(request, token)))


@sensitive_post_parameters("signing_secret")
@company_required
@require_POST
def settings_webhook_secret(request: HttpRequest) -> HttpResponse:
    """Keep the signing secret of the endpoint the user added in B2Brouter (Developers -> Webhooks)."""
    integration = actions.get_integration(_company(request))
    if integration is None or not integration.has_credentials:
        flash(request, "settings", _no_credentials())
        return HttpResponseRedirect(reverse("einvoicing:settings"))
    secret_form = WebhookSecretForm(request.POST, integration=integration)
    if not secret_form.is_valid():
        # The typed value never comes back: the widget does not render it.
        return _render_settings(request, integration, form=IntegrationSettingsForm(integration=integration),
                                secret_form=secret_form)
    flash(request, "settings", actions.save_webhook_secret(
        integration, secret=secret_form.cleaned_data["signing_secret"],
        build_url=lambda token: receiver_url(request, token)))
    return HttpResponseRedirect(reverse("einvoicing:settings") + "#webhook")


# --- The webhook receiver ---------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, token: str) -> HttpResponse:
    """Receive a signed B2Brouter notification: verify, record once, update the link, answer fast."""
    refused = webhook_guard.screen(request, token)  # rate, size and nesting, before anything is parsed
    if refused is not None:
        return refused
    integration = webhooks.find_integration(token)
    if integration is None:
        raise Http404("unknown webhook endpoint")
    received = webhooks.receive(integration, body=request.body,
                                header=request.headers.get(webhooks.SIGNATURE_HEADER, ""))
    if received.needs_refresh and received.link_id is not None:
        tasks.queue_refresh(received.link_id)
    return JsonResponse({"received": received.status == 200, "outcome": str(received.outcome)},
                        status=received.status)


# --- The invoice section ----------------------------------------------------------------------


def invoice_section_context(request: HttpRequest, invoice: Invoice) -> dict[str, Any]:
    """Build what the invoice's B2Brouter section shows."""
    integration = actions.get_integration(invoice.company)
    actions.recheck_settings_if_stale(integration)
    link = InvoiceLink.objects.filter(invoice=invoice).first()
    context: dict[str, Any] = {
        "invoice": invoice,
        "integration": integration,
        "link": link,
        "events": list(invoice.b2brouter_events.select_related("user")[:30]),
        "flash": pop_flash(request, f"invoice:{invoice.pk}"),
        "section_url": reverse("einvoicing:invoice", args=[invoice.pk]),
        "invoice_url": invoice_url(invoice),
        **_settings_context(integration),
    }
    if link is not None and link.status == LinkStatus.LINKED:
        comparison = compare(invoice, link_figures(link))
        context.update({
            "comparison": comparison,
            "open_url": web_invoice_url(link.environment or (integration.environment if integration else ""),
                                        link.b2brouter_id),
            "can_send": link.can_send,
            "can_recreate": link.state in ("new", "error") and not comparison.equal,
            "can_delete": link.state in recipient.DELETABLE_STATES and not link.send_uncertain,
            "cannot_delete": (refusal.text if (refusal := recipient.deletion_refusal(invoice, link)) is not None
                              else ""),
            "recipient": recipient.linked_recipient(invoice, link, integration),
            "tax": tax_records.summary(invoice),
        })
        if link.can_send and comparison.equal:
            # What would stop a Send because of the recipient, told before the button is pressed.
            context["recipient_problems"] = recipient.send_problems(invoice, link, integration, None)
            context["contact_out_of_date"] = bool(recipient.changes_since_match(invoice.client)) \
                and link.contact_id == invoice.client.b2brouter_contact_id
    elif link is not None:
        context["pending_stale"] = actions.pending_is_stale(link)
    else:
        remote = Remote.for_integration(integration) if integration is not None and integration.is_ready else None
        context["readiness"] = check_readiness(invoice, integration, remote=remote)
    return context


def render_invoice_section(request: HttpRequest, invoice: Invoice) -> str:
    """Render the invoice's B2Brouter section (used by the template tag and the section page).

    An htmx answer also carries the invoice's status badge as an out-of-band swap, so the page's
    header says "Issued" as soon as a send marks the invoice issued, without a reload.
    """
    section = render_to_string("einvoicing/invoice_section.html", invoice_section_context(request, invoice),
                               request=request)
    if getattr(request, "htmx", False):
        status = Invoice.objects.filter(pk=invoice.pk).values_list("status", flat=True).first() or invoice.status
        section += render_to_string("einvoicing/_status_badge.html", {
            "status": status, "label": InvoiceStatus(status).label}, request=request)
    return section


@company_required
@require_http_methods(["GET"])
def invoice_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the invoice's B2Brouter section on its own page (also the htmx fragment)."""
    invoice = _invoice(request, pk)
    section = render_invoice_section(request, invoice)
    if getattr(request, "htmx", False):
        return HttpResponse(section)
    return render(request, "einvoicing/invoice_page.html", {"invoice": invoice, "section": section,
                                                            "invoice_url": invoice_url(invoice)})


def _invoice_action(request: HttpRequest, pk: int, run: Any) -> HttpResponse:
    invoice = _invoice(request, pk)
    return _answer(request, invoice, run(invoice))


def _answer(request: HttpRequest, invoice: Invoice, result: Result) -> HttpResponse:
    """Flash an action's result, then answer the section (htmx) or go back to the invoice.

    When the action changed the invoice's status (a Create or Send issues a draft), more than the
    section is out of date: the page's buttons (Edit, Delete draft), its lock notice, payments and
    history. The htmx answer then asks for the page to be loaded again (HX-Refresh); the result waits
    in the session and is shown in the section of the reloaded page.
    """
    flash(request, f"invoice:{invoice.pk}", result)
    if getattr(request, "htmx", False):
        before = getattr(request, STATUS_AT_LOAD, {}).get(invoice.pk)
        now = Invoice.objects.filter(pk=invoice.pk).values_list("status", flat=True).first()
        if before is not None and now is not None and now != before:
            return HttpResponseClientRefresh()
        return HttpResponse(render_invoice_section(request, invoice))
    return _back(request, invoice_url(invoice))


def _confirmation(request: HttpRequest, invoice: Invoice, outgoing: recipient.Outgoing, *, title: str,
                  button: str, warning: str = "") -> HttpResponse:
    """Show what would leave and ask to confirm it: in place of the section (htmx) or as a page."""
    changed = request.method == "POST" and bool(request.POST.get(recipient.CONFIRM_FIELD))
    context = {
        "invoice": invoice, "outgoing": outgoing, "title": title, "button": button, "warning": warning,
        "action_url": request.path, "invoice_url": invoice_url(invoice), "changed": changed,
        "confirm_field": recipient.CONFIRM_FIELD, "htmx": bool(getattr(request, "htmx", False)),
    }
    if context["htmx"]:
        return HttpResponse(render_to_string("einvoicing/outgoing_section.html", context, request=request))
    return render(request, "einvoicing/outgoing.html", context)


def _ready_remote(integration: Any) -> Remote | None:
    return Remote.for_integration(integration) if integration is not None and integration.is_ready else None


def _confirmed(request: HttpRequest, outgoing: recipient.Outgoing) -> bool:
    return request.method == "POST" and outgoing.confirmed_by(request.POST.get(recipient.CONFIRM_FIELD))


@company_required
@require_http_methods(["GET", "POST"])
def invoice_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Show what creating the invoice in B2Brouter sends, to whom, and whether right away; create it once confirmed.

    Only a POST carrying the token of what was shown creates (then compares, links and maybe
    sends). Any other POST, a forged one included, is answered with the confirmation; a POST on a
    blocked invoice is recorded as blocked and sends nothing.
    """
    invoice = _invoice(request, pk)
    integration = actions.get_integration(invoice.company)
    readiness = check_readiness(invoice, integration, remote=_ready_remote(integration))
    outgoing = recipient.prepare_create(invoice, integration, readiness)
    if request.method == "POST" and not readiness.ok:
        return _answer(request, invoice, recipient.refuse_create(invoice=invoice, user=request.user,
                                                                 problems=readiness.problems))
    if _confirmed(request, outgoing):
        # A second confirmation of the same figures reaches the action too: its pending row refuses it.
        return _answer(request, invoice, actions.create_invoice(invoice=invoice, user=request.user,
                                                                readiness=readiness))
    if InvoiceLink.objects.filter(invoice=invoice).exists():
        if request.method == "GET":  # a page view records nothing
            return _answer(request, invoice, Result("error", _("This invoice is already linked (or being created) "
                                                               "in B2Brouter.")))
        return _answer(request, invoice, recipient.refuse_existing(invoice=invoice, user=request.user))
    return _confirmation(
        request, invoice, outgoing,
        title=_("Create invoice %(number)s in B2Brouter?") % {"number": invoice.number},
        button=_("Confirm: create and send") if outgoing.sends_now else _("Confirm: create unsent"))


@company_required
@require_POST
def invoice_reconcile(request: HttpRequest, pk: int) -> HttpResponse:
    """Settle a pending creation by looking the number up in B2Brouter."""
    def run(inv: Invoice) -> Result:
        link = InvoiceLink.objects.filter(invoice=inv, status=LinkStatus.PENDING).first()
        if link is not None and not actions.pending_is_stale(link):
            return Result("info", _("The creation is still in progress: check again in a moment."))
        return actions.reconcile(invoice=inv, user=request.user)
    return _invoice_action(request, pk, run)


@company_required
@require_POST
def invoice_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    """Read the linked invoice from B2Brouter again."""
    return _invoice_action(request, pk, lambda inv: actions.refresh_invoice(invoice=inv, user=request.user))


@company_required
@require_http_methods(["GET", "POST"])
def invoice_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Show what sending the linked invoice hands to whom; send it through B2Brouter once confirmed."""
    invoice = _invoice(request, pk)
    link = InvoiceLink.objects.filter(invoice=invoice, status=LinkStatus.LINKED).first()
    if link is None:
        return _answer(request, invoice, Result("error", _("This invoice is not linked to a B2Brouter invoice.")))
    integration = actions.get_integration(invoice.company)
    outgoing = recipient.prepare_send(invoice, link, integration, _ready_remote(integration))
    if request.method == "POST" and not outgoing.ok:
        return _answer(request, invoice, recipient.refuse_send(invoice=invoice, user=request.user, link=link,
                                                               problems=outgoing.problems))
    if _confirmed(request, outgoing):
        return _answer(request, invoice, actions.send_invoice(invoice=invoice, user=request.user))
    return _confirmation(
        request, invoice, outgoing,
        title=_("Send invoice %(number)s through B2Brouter?") % {"number": invoice.number},
        button=_("Confirm: send"))


@company_required
@require_http_methods(["GET", "POST"])
def invoice_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then forget the link (nothing is deleted in B2Brouter)."""
    if request.method == "GET":
        invoice = _invoice(request, pk)
        link = get_object_or_404(InvoiceLink, invoice=invoice, status=LinkStatus.LINKED)
        return render(request, "einvoicing/confirm.html", {
            "invoice": invoice, "link": link, "action": reverse("einvoicing:invoice_unlink", args=[pk]),
            "title": _("Unlink from B2Brouter invoice #%(id)s?") % {"id": link.b2brouter_id},
            "warning": _("The link is forgotten here; nothing is deleted in B2Brouter. You can link it again later."),
            "button": _("Unlink"), "cancel_url": invoice_url(invoice)})
    return _invoice_action(request, pk, lambda inv: actions.unlink_invoice(invoice=inv, user=request.user))


@company_required
@require_http_methods(["GET", "POST"])
def invoice_recreate(request: HttpRequest, pk: int) -> HttpResponse:
    """Show what is deleted and what is created (and maybe sent) again; do it once confirmed."""
    invoice = _invoice(request, pk)
    link = get_object_or_404(InvoiceLink, invoice=invoice, status=LinkStatus.LINKED)
    refusal = actions.recreate_refusal(link)
    if refusal is not None:  # a sent invoice is not offered for deletion, even by URL
        return _answer(request, invoice, refusal)
    integration = actions.get_integration(invoice.company)
    readiness = check_readiness(invoice, integration, remote=_ready_remote(integration))
    outgoing = recipient.prepare_create(invoice, integration, readiness, action="recreate")
    outgoing.b2brouter_id = link.b2brouter_id
    if _confirmed(request, outgoing):
        return _answer(request, invoice, actions.delete_and_recreate(invoice=invoice, user=request.user))
    return _confirmation(
        request, invoice, outgoing,
        title=_("Delete B2Brouter invoice #%(id)s and create it again?") % {"id": link.b2brouter_id},
        warning=_("The unsent invoice is deleted in B2Brouter and created again from this invoice with the "
                  "account's current settings. Fix the calculation settings first."),
        button=_("Confirm: delete in B2Brouter and create again"))


@company_required
@require_http_methods(["GET", "POST"])
def invoice_delete_remote(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete the unsent invoice in B2Brouter and remove the link (a sent one is refused)."""
    invoice = _invoice(request, pk)
    if request.method == "POST":
        return _answer(request, invoice, recipient.delete_remote_invoice(invoice=invoice, user=request.user))
    link = get_object_or_404(InvoiceLink, invoice=invoice, status=LinkStatus.LINKED)
    refusal = recipient.deletion_refusal(invoice, link)
    if refusal is not None:  # a sent invoice is corrected by a credit note, never deleted
        return _answer(request, invoice, refusal)
    return render(request, "einvoicing/confirm.html", {
        "invoice": invoice, "link": link, "action": reverse("einvoicing:invoice_delete_remote", args=[pk]),
        "title": _("Delete B2Brouter invoice #%(id)s?") % {"id": link.b2brouter_id},
        "warning": _("Invoice #%(id)s (%(state)s, never sent) is deleted in B2Brouter. Invoice %(number)s stays here, "
                     "no longer linked, and can be created again.") % {
            "id": link.b2brouter_id, "state": link.state, "number": invoice.number},
        "button": _("Delete in B2Brouter"), "cancel_url": invoice_url(invoice)})


@company_required
@require_http_methods(["GET", "POST"])
def invoice_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Search B2Brouter for this invoice, show candidates with their differences, link the chosen one."""
    invoice = _invoice(request, pk)
    if request.method == "POST":
        form = ChooseForm(request.POST)
        if not form.is_valid():
            flash(request, f"invoice:{invoice.pk}", Result("error", _("Choose a B2Brouter invoice to link.")))
            return HttpResponseRedirect(reverse("einvoicing:invoice_link", args=[pk]))
        result = actions.link_existing(invoice=invoice, user=request.user,
                                       b2brouter_id=form.cleaned_data["b2brouter_id"])
        flash(request, f"invoice:{invoice.pk}", result)
        return _back(request, invoice_url(invoice))
    search = LinkSearchForm(request.GET or None, initial={"number": invoice.number})
    number = search.cleaned_data["number"] if search.is_valid() else invoice.number
    if InvoiceLink.objects.filter(invoice=invoice).exists():
        candidates, error = [], Result("error", _("This invoice is already linked (or being created): unlink it "
                                                  "first."))
    else:
        candidates, error = actions.find_candidates(invoice=invoice, number=number,
                                                    typed="number" in request.GET and search.is_valid())
    return render(request, "einvoicing/link.html", {
        "invoice": invoice, "form": search, "number": number, "candidates": candidates,
        "error": error.as_dict() if error else None, "invoice_url": invoice_url(invoice),
        "flash": pop_flash(request, f"invoice:{invoice.pk}")})


@company_required
@require_http_methods(["GET"])
def invoice_download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Proxy the linked invoice's PDF or UBL from B2Brouter."""
    if kind not in DOCUMENTS:
        raise Http404("unknown document")
    invoice = _invoice(request, pk)
    document_type, content_type, extension = DOCUMENTS[kind]
    content, error = actions.download(invoice=invoice, user=request.user, document_type=document_type)
    if error is not None or content is None:
        flash(request, f"invoice:{invoice.pk}", error or Result("error", _("Empty document.")))
        return HttpResponseRedirect(invoice_url(invoice))
    safe_number = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in invoice.number) or str(invoice.pk)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{safe_number}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- The client section -----------------------------------------------------------------------


def client_section_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    """Build what the client's B2Brouter section shows."""
    integration = actions.get_integration(client.company)
    mapped = bool(integration and client.b2brouter_contact_id
                  and client.b2brouter_account_id == str(integration.account_id))
    check = directory.current_check(client, integration)
    changes = recipient.changes_since_match(client) if mapped else []
    return {"client": client, "integration": integration, "mapped": mapped,
            "directory": directory.note(check, client) if check is not None else None,
            "contact": recipient.remembered_contact(client) if mapped else None,
            "changes": changes, "out_of_date": recipient.out_of_date_problem(client, changes) if changes else "",
            "flash": pop_flash(request, f"client:{client.pk}")}


def render_client_section(request: HttpRequest, client: Client) -> str:
    """Render the client's B2Brouter section."""
    return render_to_string("einvoicing/client_section.html", client_section_context(request, client),
                            request=request)


def _client_action(request: HttpRequest, pk: int, run: Any) -> HttpResponse:
    client = _client(request, pk)
    flash(request, f"client:{client.pk}", run(client))
    if getattr(request, "htmx", False):
        return HttpResponse(render_client_section(request, client))
    return _back(request, client_url(client))


@company_required
@require_POST
def client_match(request: HttpRequest, pk: int) -> HttpResponse:
    """Find the client's contact in B2Brouter by tax id."""
    return _client_action(request, pk, lambda c: actions.match_contact(client=c))


@company_required
@require_POST
def client_create_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Create the client as a contact in B2Brouter."""
    return _client_action(request, pk, lambda c: actions.create_contact(client=c))


@company_required
@require_POST
def client_check_directory(request: HttpRequest, pk: int) -> HttpResponse:
    """Look the client up in B2Brouter's directory again."""
    return _client_action(request, pk, lambda c: actions.check_directory(client=c))


@company_required
@require_POST
def client_forget_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Forget the client's B2Brouter contact (nothing changes in B2Brouter)."""
    return _client_action(request, pk, lambda c: actions.forget_contact(client=c))


@company_required
@require_POST
def client_update_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the client's current name, tax id, address and country to its B2Brouter contact."""
    return _client_action(request, pk, lambda c: _also_on_invoice(request, recipient.update_contact(client=c)))


@company_required
@require_POST
def client_confirm_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm that the client's B2Brouter contact is still right after the client changed."""
    return _client_action(request, pk, lambda c: _also_on_invoice(request, recipient.confirm_contact(client=c)))


def _also_on_invoice(request: HttpRequest, result: Result) -> Result:
    """Show a contact action's result on the invoice it was started from, too."""
    invoice_pk = request.POST.get("invoice", "")
    if invoice_pk.isdigit():
        flash(request, f"invoice:{int(invoice_pk)}", result)
    return result


@company_required
@require_http_methods(["GET", "POST"])
def client_choose_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Search B2Brouter's contacts and choose the one that is this client.

    A contact with another tax id than the client's is refused; a client without a tax id
    cannot be checked, so its choice is taken only after a warning the user confirms.
    """
    client = _client(request, pk)
    if request.method == "POST":
        form = ChooseForm(request.POST)
        if not form.is_valid():
            flash(request, f"client:{client.pk}", Result("error", _("Choose a contact.")))
            return _back(request, client_url(client))
        contact_id = form.cleaned_data["b2brouter_id"]
        confirmed = request.POST.get("confirm_no_tax_id") == "1"
        result = actions.choose_contact(client=client, contact_id=contact_id, confirmed=confirmed)
        if result.level == "warning" and not client.tin and not confirmed:
            return render(request, "einvoicing/contact_confirm.html", {
                "client": client, "contact_id": contact_id, "warning": result.text, "client_url": client_url(client),
                "next": request.POST.get("next", "")})
        flash(request, f"client:{client.pk}", result)
        if not result.ok:
            # Back to the list, where the refusal is shown beside the contacts.
            target = reverse("einvoicing:client_choose_contact", args=[client.pk])
            if request.POST.get("next"):
                target += "?" + urlencode({"next": request.POST["next"]})
            return HttpResponseRedirect(target)
        return _back(request, client_url(client))
    search = ContactSearchForm(request.GET or None, initial={"q": client.tin or client.name})
    query = search.cleaned_data["q"] if search.is_valid() else (client.tin or client.name)
    contacts, error = actions.search_contacts(company=client.company, query=query)
    rows = [{"contact": contact, "conflict": recipient.tax_id_conflict(client, contact)} for contact in contacts]
    return render(request, "einvoicing/contacts.html", {
        "client": client, "form": search, "query": query, "rows": rows, "contacts": contacts,
        "error": error.as_dict() if error else None, "client_url": client_url(client),
        "flash": pop_flash(request, f"client:{client.pk}"), "next": request.GET.get("next", "")})


@company_required
@require_POST
def invoice_tax_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Send one correction of the invoice's rejected Verifactu record, with the invoice's data as it is now."""
    return _invoice_action(request, pk, lambda inv: tax_records.send_correction(invoice=inv, user=request.user))


@company_required
@require_POST
def invoice_tax_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel (anulación) the invoice's registered record, after the user ticked the confirmation."""
    return _invoice_action(request, pk, lambda inv: tax_records.cancel_record(
        invoice=inv, user=request.user, confirmed=request.POST.get("confirm") == "1"))
