"""Whether an invoice can be pushed to B2Brouter, and what to fix when it cannot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse

from b2brouter import B2BRouterError

from b2binvoice.companies.models import PaymentMethodType, TaxKind
from b2binvoice.companies.taxtypes import country_tax_types, tax_type_problem
from b2binvoice.core.validators import iban_is_valid
from b2binvoice.invoices import verifactu
from b2binvoice.invoices.models import InvoiceStatus
from b2binvoice.core.texts import gettext as _

from .models import B2BrouterIntegration


def url_or(name: str, *args: Any, fallback: str) -> str:
    """Reverse ``name`` or answer ``fallback`` when the page is not there."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def client_url(client: Any) -> str:
    """Return the page of a client."""
    return url_or("clients:detail", client.pk, fallback=f"/clients/{client.pk}/")


def client_edit_url(client: Any) -> str:
    """Return the edit page of a client."""
    return url_or("clients:edit", client.pk, fallback=f"/clients/{client.pk}/edit/")


def invoice_url(invoice: Any) -> str:
    """Return the page of an invoice."""
    return url_or("invoices:detail", invoice.pk, fallback=f"/invoices/{invoice.pk}/")


def invoice_edit_url(invoice: Any) -> str:
    """Return the edit page of an invoice."""
    return url_or("invoices:edit", invoice.pk, fallback=f"/invoices/{invoice.pk}/edit/")


def payment_method_url(method: Any) -> str:
    """Return the edit page of a payment method."""
    for name in ("companies:payment_method_edit", "companies:paymentmethod_edit", "companies:payment_method"):
        try:
            return reverse(name, args=[method.pk])
        except NoReverseMatch:
            continue
    return url_or("companies:payment_methods", fallback="/settings/")


def tax_edit_url(tax: Any) -> str:
    """Return the edit page of a company tax."""
    return url_or("companies:tax_edit", tax.pk, fallback="/settings/taxes/")


def settings_url() -> str:
    """Return the integration's settings page."""
    return reverse("einvoicing:settings")


@dataclass
class Item:
    """One line of the readiness checklist."""

    key: str
    label: str
    ok: bool
    problem: str = ""
    fix_url: str = ""
    fix_label: str = ""
    # An informational line (never blocks; ``ok`` stays True) and what it says.
    info: bool = False
    note: Any = None


@dataclass
class Readiness:
    """The checklist of an invoice, and the B2Brouter contact it resolved."""

    items: list[Item] = field(default_factory=list)
    contact_id: int | None = None
    # The B2Brouter contact the invoice would go to (a recipient.Recipient), once resolved.
    recipient: Any = None
    # True when the client has no contact in B2Brouter yet: offer to create or choose one.
    contact_missing: bool = False
    # True for a Spanish simplified invoice (F2, or its R5 correction): the client goes inline, no contact.
    simplified: bool = False

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def problems(self) -> list[str]:
        return [item.problem for item in self.items if not item.ok]


def resolve_contact(client: Any, integration: B2BrouterIntegration, remote: Any) -> tuple[int | None, str]:
    """Return the client's B2Brouter contact id (stored, else found by TIN and stored) and a problem text."""
    from .errors import describe  # noqa: PLC0415 (errors imports the client; keep this module light)

    if client.b2brouter_contact_id and client.b2brouter_account_id == str(integration.account_id):
        return client.b2brouter_contact_id, ""
    if not client.tin:
        return None, _("No matching client in B2Brouter: %(client)s has no tax id to find it by. "
                       "Add the tax id to the client, or create or choose the contact in B2Brouter.") % {
            "client": client.name}
    try:
        found = remote.find_contact_by_tin(client.tin, client.country or None)
    except B2BRouterError as exc:
        described = describe(exc)
        return None, _("Could not look the client up in B2Brouter: %(error)s") % {"error": described.text}
    if not found or not found.get("id"):
        return None, _("No matching client in B2Brouter: no contact has the tax id %(tin)s. "
                       "Create the contact from this client or choose an existing one.") % {"tin": client.tin}
    store_contact(client, integration, int(found["id"]), contact=found)
    return int(found["id"]), ""


def store_contact(client: Any, integration: B2BrouterIntegration, contact_id: int | None,
                  contact: dict[str, Any] | None = None) -> None:
    """Remember (or forget, with None) the client's contact in the integration's account.

    What the contact is matched against is remembered with it: the client's name, tax id, address
    and country now, and ``contact`` (B2Brouter's answer) when given, so that a later change to the
    client holds its invoices back until the contact is updated or confirmed (see recipient.py).
    """
    from .recipient import basis_for  # noqa: PLC0415 (recipient imports this module)

    client.b2brouter_contact_id = contact_id
    client.b2brouter_account_id = str(integration.account_id) if contact_id else ""
    client.b2brouter_contact_basis = basis_for(client, contact) if contact_id else {}
    type(client).objects.filter(pk=client.pk).update(
        b2brouter_contact_id=client.b2brouter_contact_id, b2brouter_account_id=client.b2brouter_account_id,
        b2brouter_contact_basis=client.b2brouter_contact_basis)


def directory_item(client: Any, integration: B2BrouterIntegration) -> Item | None:
    """Return the checklist's information on how B2Brouter delivers to the client, if it was looked up.

    Information only (``ok`` is always True). A client never looked up gets no line: the lookup
    runs when the app creates the contact, and on request from the client's page.
    """
    from .directory import current_check, note  # noqa: PLC0415 (directory imports the client)

    check = current_check(client, integration)
    if check is None:
        return None
    return Item("directory", _("How B2Brouter delivers to %(client)s") % {"client": client.name}, True,
                info=True, note=note(check, client),
                fix_url=client_url(client), fix_label=_("Open client %(client)s") % {"client": client.name})


def exemption_code_item(invoice: Any, taxes: list[Any]) -> Item:
    """Return the checklist line saying that a Spanish invoice's exempt and not-subject taxes have their code."""
    from b2binvoice.companies.models import EXEMPT_CODE_CATEGORIES, NOT_SUBJECT_CODE_CATEGORIES  # noqa: PLC0415

    categories = EXEMPT_CODE_CATEGORIES | NOT_SUBJECT_CODE_CATEGORIES
    missing = [tax for tax in taxes if tax.category in categories and not tax.current_exemption_code]
    problem, fix_url, fix_label = "", "", ""
    if missing:
        first = missing[0]
        problem = _("%(names)s bears no VAT but does not say why in the tax agency's terms: open the tax and choose "
                    "its exemption code (E1–E6 exempt, N1–N2 not subject), then save it.") % {
            "names": ", ".join(tax.name for tax in missing)}
        if first.tax is not None:
            fix_url, fix_label = tax_edit_url(first.tax), _("Edit tax %(name)s") % {"name": first.tax.name}
        else:
            fix_url, fix_label = invoice_edit_url(invoice), _("Edit invoice %(number)s") % {"number": invoice.number}
    return Item("exemption_code", _("Exempt and not-subject taxes have their Spanish code"), not missing, problem,
                fix_url, fix_label)


def check_readiness(invoice: Any, integration: B2BrouterIntegration | None, *, remote: Any = None) -> Readiness:
    """Return the readiness checklist of ``invoice``; look the contact up through ``remote`` when given."""
    result = Readiness()
    items = result.items
    ready = integration is not None and integration.is_ready
    items.append(Item(
        "integration", _("B2Brouter integration enabled with working credentials"), ready,
        _("Enable the B2Brouter integration and save a working API key and account ID.") if not ready else "",
        settings_url(), _("Open the B2Brouter settings")))

    settings_ok = ready and integration is not None and integration.settings_match
    problem = ""
    if ready and integration is not None and not settings_ok:
        if not integration.settings_known:
            problem = _("The account's calculation settings have not been checked yet: check them on the settings page.")
        else:
            problem = _("The account's calculation settings differ from the required ones: %(names)s. "
                        "Apply the required settings so B2Brouter computes the same totals.") % {
                "names": ", ".join(m["name"] for m in integration.settings_mismatches())}
    elif not ready:
        problem = _("Connect the integration first; then the calculation settings are checked.")
    items.append(Item("settings", _("Calculation settings match"), settings_ok, problem,
                      settings_url(), _("Open the B2Brouter settings")))

    client = invoice.client
    code = verifactu.computed_type_code(invoice)
    if code:
        problem = verifactu.simplified_problem(invoice)
        fix_url, fix_label = client_edit_url(client), _("Edit client %(client)s") % {"client": client.name}
        if not problem and invoice.is_credit_note and invoice.corrected_invoice is not None:
            problem = verifactu.corrective_reason_problem(invoice.corrected_invoice, invoice.corrective_reason)
            if problem:
                fix_url = invoice_edit_url(invoice)
                fix_label = _("Edit credit note %(number)s") % {"number": invoice.number}
        items.append(Item("kind", _("The right kind of invoice for Spain: %(kind)s") % {"kind": verifactu.label(code)},
                          not problem, problem, fix_url, fix_label))
        result.simplified = verifactu.is_simplified(code) and not problem
    if result.simplified:
        # B2Brouter takes a simplified invoice's client inline (it ignores contact_id): nothing to look up.
        items.append(Item("contact", _("Simplified invoice: the client is named on it, no B2Brouter contact needed"),
                          True))
    elif ready and integration is not None and remote is not None:
        contact_id, problem = resolve_contact(client, integration, remote)
    elif ready and integration is not None and client.b2brouter_contact_id \
            and client.b2brouter_account_id == str(integration.account_id):
        contact_id, problem = client.b2brouter_contact_id, ""
    else:
        contact_id = None
        problem = _("No matching client in B2Brouter for %(client)s.") % {"client": client.name} if ready else \
            _("Connect the integration first; then the client's B2Brouter contact is looked up.")
    if not result.simplified:
        result.contact_id = contact_id
        result.contact_missing = ready and contact_id is None
        items.append(Item("contact", _("The client has a B2Brouter contact"), contact_id is not None, problem,
                          client_url(client), _("Open client %(client)s") % {"client": client.name}))
    if result.contact_id is not None and integration is not None:
        from .recipient import checklist_items  # noqa: PLC0415 (recipient imports this module)

        recipient_items, result.recipient = checklist_items(client, contact_id, remote)
        items.extend(recipient_items)
        delivery = directory_item(client, integration)
        if delivery is not None:
            items.append(delivery)

    taxes = list(invoice.taxes.all())
    items.append(Item("tax", _("At least one tax"), bool(taxes),
                      "" if taxes else _("B2Brouter needs at least one tax on the invoice: add one "
                                         "(for example an exempt tax with its reason)."),
                      invoice_edit_url(invoice), _("Edit invoice %(number)s") % {"number": invoice.number}))

    absolute = [tax.name for tax in taxes if tax.kind == TaxKind.ABSOLUTE]
    items.append(Item(
        "absolute_tax", _("Only percentage taxes"), not absolute,
        "" if not absolute else _("B2Brouter accepts only percentage taxes: remove or replace %(names)s.") % {
            "names": ", ".join(absolute)},
        invoice_edit_url(invoice), _("Edit invoice %(number)s") % {"number": invoice.number}))

    country = invoice.company.country
    untyped = [tax for tax in taxes
               if tax.kind == TaxKind.PERCENTAGE and tax_type_problem(country, tax.b2brouter_name) is not None]
    problem, fix_url, fix_label = "", "", ""
    if untyped:
        first = untyped[0]
        names = ", ".join(tax.name for tax in untyped)
        if tax_type_problem(country, first.b2brouter_name) == "country":
            problem = _("B2Brouter expects the taxes of a company in %(country)s to be named %(allowed)s, and "
                        "%(names)s is %(type)s: open the tax, choose its B2Brouter tax type and save it.") % {
                "country": country, "allowed": ", ".join(sorted(country_tax_types(country))), "names": names,
                "type": first.b2brouter_name}
        else:
            problem = _("B2Brouter knows taxes by the names its guide lists (IVA, IRPF, VAT, ...), and %(names)s "
                        "has none: open the tax, choose its B2Brouter tax type and save it.") % {"names": names}
        if first.tax is not None:
            fix_url, fix_label = tax_edit_url(first.tax), _("Edit tax %(name)s") % {"name": first.tax.name}
        else:  # the company tax was deleted: the invoice must use another one
            fix_url, fix_label = invoice_edit_url(invoice), _("Edit invoice %(number)s") % {"number": invoice.number}
            problem = _("%(names)s has no B2Brouter tax type B2Brouter accepts and its tax no longer exists: replace "
                        "it with a tax that has one.") % {"names": names}
    items.append(Item("tax_type", _("Every tax has a B2Brouter tax type"), not untyped, problem, fix_url, fix_label))
    if (country or "").upper() == "ES":
        items.append(exemption_code_item(invoice, taxes))

    method = invoice.payment_method
    payment_ok, problem, fix_url, fix_label = True, "", "", ""
    if method is not None and method.type == PaymentMethodType.BANK_TRANSFER:
        fix_url, fix_label = payment_method_url(method), _("Edit payment method %(name)s") % {"name": method.name}
        if not method.iban:
            payment_ok = False
            problem = _("Payment method %(name)s has no IBAN: add the IBAN to pay into.") % {"name": method.name}
        elif not iban_is_valid(method.iban):
            payment_ok = False
            problem = _("The IBAN of payment method %(name)s is invalid (%(iban)s): correct it.") % {
                "name": method.name, "iban": method.iban}
    elif method is not None and method.type == PaymentMethodType.DIRECT_DEBIT:
        # A direct debit is collected from the payer's account: B2Brouter needs the client's IBAN.
        fix_url, fix_label = client_edit_url(client), _("Edit client %(client)s") % {"client": client.name}
        if not client.iban:
            payment_ok = False
            problem = _("Invoice %(number)s is paid by direct debit, but client %(client)s has no IBAN to debit: "
                        "add the client's IBAN.") % {"number": invoice.number, "client": client.name}
        elif not iban_is_valid(client.iban):
            payment_ok = False
            problem = _("The IBAN of client %(client)s is invalid (%(iban)s): correct it before collecting by "
                        "direct debit.") % {"client": client.name, "iban": client.iban}
    items.append(Item("payment", _("Valid payment details"), payment_ok, problem, fix_url, fix_label))

    has_lines = invoice.lines.exists()
    items.append(Item("lines", _("At least one line"), has_lines,
                      "" if has_lines else _("Add at least one line to the invoice."),
                      invoice_edit_url(invoice), _("Edit invoice %(number)s") % {"number": invoice.number}))

    if invoice.status == InvoiceStatus.CANCELLED:  # listed only when it fails: a rare case
        items.append(Item("status", _("Not cancelled"), False,
                          _("Invoice %(number)s is cancelled: it is not sent to B2Brouter. If it was cancelled by "
                            "mistake, change its status.") % {"number": invoice.number},
                          invoice_edit_url(invoice), _("Edit invoice %(number)s") % {"number": invoice.number}))
    return result
