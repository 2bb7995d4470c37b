"""Invoices, their lines, taxes (copied from the company's taxes) and adjustments."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from b2binvoice.clients.models import Client
from b2binvoice.companies.models import (
    INVOICE_NUMBER_MAX_LENGTH,
    Company,
    PaymentMethod,
    PaymentMethodType,
    Tax,
    TaxCategory,
    TaxKind,
)
from b2binvoice.companies.taxtypes import tax_type_problem
from b2binvoice.core.search import search_text
from b2binvoice.core.texts import MessageField


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class CorrectiveReason(models.TextChoices):
    """Spain's codes of a corrective invoice (factura rectificativa), as B2Brouter's ``amend_reason`` takes them."""

    R1 = "R1", _("R1 – Error founded in law (art. 80.1, 80.2 and 80.6 LIVA): wrong figures, returns, discounts "
                 "after the sale, cancelled operations")
    R2 = "R2", _("R2 – Art. 80.3 LIVA: the customer is in insolvency proceedings")
    R3 = "R3", _("R3 – Art. 80.4 LIVA: bad debt the customer never paid")
    R4 = "R4", _("R4 – Other causes (e.g. wrong data other than the amounts)")
    R5 = "R5", _("R5 – Correction of a simplified invoice (ticket)")


class Invoice(models.Model):
    """An invoice issued by a company to one of its clients, or a credit note correcting one.

    A credit note (``kind`` credit_note) is an invoice of its own number series whose lines
    are the credited quantities of the original's lines at the negated unit price, so its
    totals are negative (B2Brouter's Spanish rectificativa example sends a negative price
    with ``is_credit_note: true``). It keeps the original's number and date as issued.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(_("number"), max_length=INVOICE_NUMBER_MAX_LENGTH)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("client"))
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    payment_method = models.ForeignKey(PaymentMethod, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="invoices", verbose_name=_("payment method"))
    note = models.TextField(_("note"), blank=True)
    # References the customer sees in the e-invoice (EN 16931 business terms).
    buyer_reference = models.CharField(
        _("buyer reference"), max_length=100, blank=True,
        help_text=_("The reference your customer asked you to quote (BT-10); public bodies require it "
                    "(e.g. their order or cost-centre code)."))
    purchase_order = models.CharField(_("purchase order"), max_length=100, blank=True,
                                      help_text=_("The customer's purchase order number (BT-13)."))
    project_reference = models.CharField(_("project reference"), max_length=100, blank=True,
                                         help_text=_("The project this invoice is for (BT-11)."))
    status = models.CharField(_("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    kind = models.CharField(_("kind"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    # A credit note: the invoice it corrects, and that invoice's number and date as they were issued.
    corrected_invoice = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="credit_notes", verbose_name=_("corrected invoice"))
    amended_number = models.CharField(_("corrected invoice number"), max_length=INVOICE_NUMBER_MAX_LENGTH, blank=True)
    amended_date = models.DateField(_("corrected invoice date"), null=True, blank=True)
    corrective_reason = models.CharField(_("reason code"), max_length=2, choices=CorrectiveReason.choices, blank=True)
    correction_reason = models.TextField(_("reason"), blank=True)
    # Spain: the kind of invoice (Verifactu invoice type F1, F2, R1-R5) it was created as in B2Brouter.
    verifactu_kind = models.CharField(_("kind of invoice (Spain)"), max_length=2, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The number and the client's name folded (core.search.fold) for case- and accent-insensitive
    # search; written on save and when the client is renamed.
    search_text = models.TextField(blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-number"]
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="unique_invoice_number_per_company")]
        # The list's orderings and filters, each served by an index scan (the number ordering by
        # the unique constraint's index); see docs/architecture.md, "Fast lists".
        indexes = [
            models.Index(fields=["company", "-issue_date", "-id"], name="invoice_company_date_idx"),
            models.Index(fields=["company", "status", "-issue_date", "-id"], name="invoice_company_status_idx"),
            models.Index(fields=["client", "-issue_date", "-id"], name="invoice_client_date_idx"),
            models.Index(fields=["company", "status", "due_date"], name="invoice_company_due_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def refresh_search_text(self) -> None:
        """Recompute the search column from the number and the client's name."""
        self.search_text = search_text([self.number, self.client.name if self.client_id else ""])

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            self.refresh_search_text()
        elif {"number", "client", "client_id"} & set(update_fields):
            self.refresh_search_text()
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE


class InvoiceLine(models.Model):
    """One line: quantity (up to 4 decimals) x unit price (up to 6 decimals)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=20, blank=True,
                            help_text=_("e.g. words, hours, pages; sent to B2Brouter as the code that Settings → "
                                        "Units gives it"))
    unit_price = models.DecimalField(_("unit price"), max_digits=20, decimal_places=6)
    # On a credit note: the line of the corrected invoice this line credits.
    credited_line = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="credit_lines")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.description


class InvoiceTax(models.Model):
    """A tax applied to the whole invoice, copied from the company's tax when added."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="taxes")
    tax = models.ForeignKey(Tax, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    tax_type = models.CharField(_("B2Brouter tax type"), max_length=8, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=TaxKind.choices, default=TaxKind.PERCENTAGE)
    rate = models.DecimalField(_("rate (%)"), max_digits=7, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    category = models.CharField(_("category"), max_length=3, choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    exemption_reason = models.CharField(_("exemption reason"), max_length=255, blank=True)
    exemption_code = models.CharField(_("exemption code (Spain)"), max_length=2, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def b2brouter_name(self) -> str:
        """Return the tax name sent to B2Brouter: the copy's type, or its company tax's current one.

        The company tax's type is used when the copy has none or one B2Brouter does not accept for
        the company's country (data from before tax types), so correcting the tax corrects the
        invoices that use it.
        """
        if self.tax is None or tax_type_problem(self.invoice.company.country, self.tax_type) is None:
            return self.tax_type
        return self.tax.tax_type or self.tax_type

    @property
    def current_exemption_code(self) -> str:
        """Return the copy's exemption code, or its company tax's when the copy was made before it had one."""
        if self.exemption_code or self.tax is None:
            return self.exemption_code
        return self.tax.exemption_code

    @classmethod
    def copy_of(cls, tax: Tax, invoice: Invoice) -> "InvoiceTax":
        """Return an unsaved copy of ``tax`` for ``invoice``."""
        return cls(invoice=invoice, tax=tax, name=tax.name, tax_type=tax.tax_type, kind=tax.kind, rate=tax.rate,
                   amount=tax.amount, category=tax.category, exemption_reason=tax.exemption_reason,
                   exemption_code=tax.exemption_code)


class AdjustmentKind(models.TextChoices):
    DISCOUNT = "discount", _("Discount")
    CHARGE = "charge", _("Charge")


class AdjustmentMode(models.TextChoices):
    PERCENTAGE = "percentage", _("Percentage")
    ABSOLUTE = "absolute", _("Absolute")


class InvoiceAdjustment(models.Model):
    """An invoice-level discount or extra charge, as a percentage of the subtotal or a fixed amount."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(_("kind"), max_length=10, choices=AdjustmentKind.choices, default=AdjustmentKind.DISCOUNT)
    mode = models.CharField(_("mode"), max_length=10, choices=AdjustmentMode.choices, default=AdjustmentMode.PERCENTAGE)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4,
                                help_text=_("Percent for a percentage, amount for an absolute adjustment."))
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class ChangeAction(models.TextChoices):
    CREATED = "created", _("Created")
    EDITED = "edited", _("Edited")
    STATUS = "status", _("Status changed")
    EDIT_REFUSED = "edit_refused", _("Change refused: the invoice is locked")
    DELETE_REFUSED = "delete_refused", _("Deletion refused: the invoice is locked")
    DELETED = "deleted", _("Deleted")
    CREDITED = "credited", _("Credit note created")
    PAYMENT = "payment", _("Payment recorded")
    PAYMENT_DELETED = "payment_deleted", _("Payment deleted")


class InvoiceChange(models.Model):
    """One entry of an invoice's append-only history: who did what, when, field by field.

    ``changes`` holds ``{"fields": [{"field", "old", "new"}], "lines"|"taxes"|"adjustments":
    {"removed": [...], "added": [...]}, "total": {"old", "new"}}`` for edits, and what the
    action needs otherwise (the attempted fields of a refused change, the credit note made).
    The entry outlives a deleted draft (``invoice`` becomes null; ``number`` stays).
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invoice_changes")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    number = models.CharField(max_length=INVOICE_NUMBER_MAX_LENGTH)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    # Who acted when no user did (e.g. "B2Brouter" when a send marked the invoice issued).
    via = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=20, choices=ChangeAction.choices)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("invoice change")
        verbose_name_plural = _("invoice changes")

    def __str__(self) -> str:
        return f"{self.number} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("invoice changes are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Payment(models.Model):
    """Money received against an invoice: partial or whole; the invoice is paid once they cover it.

    Recording a payment never edits the invoice's content (a locked invoice takes payments);
    only its status follows the amount due (see :mod:`b2binvoice.invoices.payments`).
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=4)
    method = models.CharField(_("method"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Why B2Brouter was not told the invoice is paid when this payment covered it (empty: it was,
    # or nothing was to tell), with B2Brouter's own words and request id.
    remote_error = MessageField(blank=True)  # our text, shown in the reader's language (core/texts.py)
    remote_message = models.TextField(blank=True)
    remote_request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.date} {self.amount}"

    @property
    def method_label(self) -> str:
        """Return the method's name (the form offers the payment method types)."""
        return str(dict(PaymentMethodType.choices).get(self.method, self.method))
