"""Invoice forms: the invoice itself, its lines and its discounts/charges (inline formsets)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from b2binvoice.clients.models import Client
from b2binvoice.core import choices
from b2binvoice.companies.models import Company, PaymentMethod, Tax
from b2binvoice.core.localformats import LocalDecimalField
from b2binvoice.core.money import minor_units, quantum

from . import verifactu
from .models import CorrectiveReason, Invoice, InvoiceAdjustment, InvoiceLine

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InvoiceForm(forms.ModelForm):
    """The invoice header: number, client, dates, currency, payment method, status, note and taxes."""

    currency = choices.currency_field()
    taxes = forms.ModelMultipleChoiceField(
        label=_("taxes"), queryset=Tax.objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Each tax is copied into the invoice when saved, so later changes to the tax leave it as issued."))

    class Meta:
        model = Invoice
        fields = ["number", "client", "issue_date", "due_date", "currency", "payment_method", "status",
                  "buyer_reference", "purchase_order", "project_reference", "note"]
        widgets = {"issue_date": DATE_WIDGET, "due_date": DATE_WIDGET, "note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        self.instance.company = company
        creating = self.instance.pk is None
        self.fields["number"].required = not creating
        if creating:
            self.fields["number"].help_text = _("Leave empty to use the next number of the sequence.")
            # Choosing the client refreshes its default taxes and payment method in place.
            self.fields["client"].widget.attrs.update({
                "hx-get": reverse("invoices:create"), "hx-target": "#client-defaults",
                "hx-select": "#client-defaults", "hx-swap": "outerHTML", "hx-trigger": "change"})
        self.fields["client"].queryset = Client.objects.filter(company=company).order_by("name")
        # Inactive methods and taxes stay choosable on the invoices that already use them.
        methods = Q(is_active=True)
        taxes = Q(is_active=True)
        if not creating:
            if self.instance.payment_method_id:
                methods |= Q(pk=self.instance.payment_method_id)
            taxes |= Q(pk__in=[t.tax_id for t in self.instance.taxes.all() if t.tax_id])
            self.initial.setdefault("taxes", [t.tax_id for t in self.instance.taxes.all() if t.tax_id])
        self.fields["payment_method"].queryset = PaymentMethod.objects.filter(methods, company=company).order_by("name")
        self.fields["taxes"].queryset = Tax.objects.filter(taxes, company=company).order_by("name")

    def clean_number(self) -> str:
        number = (self.cleaned_data.get("number") or "").strip()
        if number and Invoice.objects.filter(company=self.company, number=number).exclude(pk=self.instance.pk).exists():
            raise ValidationError(
                _("Invoice number %(number)s is already used by another invoice; choose another number."),
                code="duplicate_number", params={"number": number})
        # B2Brouter may hold the invoice under its number while a create is unconfirmed (einvoicing).
        reason = getattr(getattr(self.instance, "b2brouter_link", None), "number_locked_reason", None)
        if reason and self.instance.pk and number != self.instance.number:
            raise ValidationError(reason, code="number_in_b2brouter")
        return number

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        issue, due = cleaned.get("issue_date"), cleaned.get("due_date")
        if issue and due and due < issue:
            self.add_error("due_date", ValidationError(_("The due date cannot be before the issue date."),
                                                       code="due_before_issue"))
        return cleaned


class LineForm(forms.ModelForm):
    """One invoice line."""

    class Meta:
        model = InvoiceLine
        fields = ["description", "quantity", "unit", "unit_price"]
        field_classes = {"quantity": LocalDecimalField, "unit_price": LocalDecimalField}
        widgets = {
            "description": forms.TextInput(attrs={"class": "wide"}),
            "quantity": forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
            "unit": forms.TextInput(attrs={"class": "short"}),
            "unit_price": forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
        }


class AdjustmentForm(forms.ModelForm):
    """An invoice-level discount or charge."""

    class Meta:
        model = InvoiceAdjustment
        fields = ["kind", "mode", "value", "reason"]
        field_classes = {"value": LocalDecimalField}
        widgets = {"value": forms.TextInput(attrs={"inputmode": "decimal", "class": "num"})}

    def clean_value(self) -> Decimal:
        value = self.cleaned_data["value"]
        if value is not None and value < 0:
            raise ValidationError(_("Enter a positive value; choose “Discount” or “Charge” for the direction."),
                                  code="negative")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("mode") == "percentage" and cleaned.get("value") is not None and cleaned["value"] > 100:
            self.add_error("value", ValidationError(_("A percentage cannot exceed 100."), code="over_100"))
        return cleaned


def check_absolute_adjustments(adjustments: BaseInlineFormSet, currency: str) -> bool:
    """Refuse absolute discounts and charges finer than ``currency``'s minor unit; return whether all fit.

    The amount is part of the invoice as typed: B2Brouter takes a fixed allowance or
    charge as given and rounds only the subtotal, so 0.5 JPY or 10.005 EUR would make
    its totals differ from ours.
    """
    fits = True
    for form in adjustments.forms:
        data = getattr(form, "cleaned_data", None) or {}
        value = data.get("value")
        if data.get("DELETE") or data.get("mode") != "absolute" or value is None:
            continue
        if value != value.quantize(quantum(currency)):
            form.add_error("value", ValidationError(
                _("A %(currency)s amount has at most %(places)s decimals: enter the amount as it should appear on "
                  "the invoice."), code="too_many_decimals",
                params={"currency": currency, "places": minor_units(currency)}))
            fits = False
    return fits


class OwnRowField(forms.ModelChoiceField):
    """The hidden id of an inline row: only a row of the invoice being edited, refused with one clear message."""

    def __init__(self, *args: Any, message: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.message = message

    def to_python(self, value: Any) -> Any:
        try:
            row = super().to_python(value)
        except ValidationError:
            raise ValidationError(self.message, code="foreign_row") from None
        if row is None and self.required:
            raise ValidationError(self.message, code="foreign_row")
        return row


class OwnRowsFormSet(BaseInlineFormSet):
    """An inline formset whose rows accept only ids of the parent's own rows.

    Django's model formsets accept any row id of the model and, when the id is not one
    of the parent's rows, build a new row instead; a tampered id would then add a row
    to this invoice. Here an existing row must carry one of the invoice's own ids and
    an added row none at all, or the form is refused and nothing is saved.
    """

    foreign_row_message: Any = _("This row does not belong to this invoice.")

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        name = self._pk_field.name
        existing = index is not None and index < self.initial_form_count()
        current = form.fields[name]
        form.fields[name] = OwnRowField(
            self.get_queryset() if existing else self.model._default_manager.none(), message=self.foreign_row_message,
            required=existing, initial=current.initial, widget=current.widget)


class LineFormSet(OwnRowsFormSet):
    """The lines of an invoice; at least one is required."""

    foreign_row_message = _("This line does not belong to this invoice.")

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise ValidationError(_("Add at least one line."), code="no_lines")


class AdjustmentFormSet(OwnRowsFormSet):
    """The discounts and charges of an invoice."""

    foreign_row_message = _("This discount or charge does not belong to this invoice.")


def line_formset(*, extra: int) -> type[BaseInlineFormSet]:
    """Return the lines formset class with ``extra`` empty rows."""
    return inlineformset_factory(Invoice, InvoiceLine, form=LineForm, formset=LineFormSet, extra=extra,
                                 can_delete=True)


def adjustment_formset(*, extra: int) -> type[BaseInlineFormSet]:
    """Return the discounts/charges formset class with ``extra`` empty rows."""
    return inlineformset_factory(Invoice, InvoiceAdjustment, form=AdjustmentForm, formset=AdjustmentFormSet,
                                 extra=extra, can_delete=True)


class InvoiceHeaderForm(forms.ModelForm):
    """The fields of a locked invoice (or a draft credit note) that may still change; see ``lock.py``.

    Build it with :func:`header_form` for the fields the invoice's lock leaves editable.
    """

    class Meta:
        model = Invoice
        fields = ["status"]
        widgets = {"issue_date": DATE_WIDGET, "due_date": DATE_WIDGET, "note": forms.Textarea(attrs={"rows": 3}),
                   "correction_reason": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, company: Company, statuses: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        if "status" in self.fields:
            self.fields["status"].choices = [(v, label) for v, label in self.fields["status"].choices if v in statuses]
        if "correction_reason" in self.fields:
            self.fields["correction_reason"].required = True
        if "corrective_reason" in self.fields:
            self.fields["corrective_reason"].required = True

    clean_number = InvoiceForm.clean_number

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        issue = cleaned.get("issue_date", self.instance.issue_date)
        due = cleaned.get("due_date", self.instance.due_date)
        if "due_date" in self.fields and issue and due and due < issue:
            self.add_error("due_date", ValidationError(_("The due date cannot be before the issue date."),
                                                       code="due_before_issue"))
        original = self.instance.amended_date
        if "issue_date" in self.fields and original and issue and issue < original:
            self.add_error("issue_date", ValidationError(
                _("A credit note cannot be dated before the invoice it corrects (%(date)s)."),
                code="before_original", params={"date": original.isoformat()}))
        return cleaned


def header_form(fields: tuple[str, ...]) -> type[InvoiceHeaderForm]:
    """Return the header form class limited to ``fields`` (in the order of the full form)."""
    order = ["number", "issue_date", "due_date", "status", "corrective_reason", "correction_reason",
             "buyer_reference", "purchase_order", "project_reference", "note"]
    return forms.modelform_factory(Invoice, form=InvoiceHeaderForm, fields=[f for f in order if f in fields])


class CreditNoteForm(forms.Form):
    """Create a credit note: the reason, the date and the quantity to credit of each line.

    "Everything left" credits every remaining quantity; otherwise the quantities typed
    are credited (0 leaves a line out).
    """

    SCOPES = [("full", _("Everything left to credit (full credit note)")),
              ("partial", _("Only the lines and quantities below (partial credit note)"))]

    scope = forms.ChoiceField(label=_("what to credit"), choices=SCOPES, initial="full", widget=forms.RadioSelect)
    corrective_reason = forms.ChoiceField(
        label=_("reason code"), choices=[("", "—")] + list(CorrectiveReason.choices),
        help_text=_("The Spanish code of a corrective invoice (factura rectificativa), sent to B2Brouter."))
    correction_reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}),
                                        help_text=_("What is corrected and why, in your words."))
    issue_date = forms.DateField(label=_("issue date"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, original: Invoice, rows: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.original = original
        self.rows = rows
        if verifactu.applies(original) and verifactu.is_simplified(verifactu.type_code(original)):
            self.fields["corrective_reason"].initial = "R5"  # the only code a simplified invoice's correction takes
        for row in rows:
            self.fields[f"line_{row.line.pk}"] = LocalDecimalField(
                label=row.line.description, required=False, min_value=Decimal(0), max_digits=18, decimal_places=4,
                initial=row.remaining.normalize() if row.remaining else Decimal(0),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}))

    def line_fields(self) -> list[tuple[Any, Any]]:
        """Return (creditable line, bound quantity field) pairs for the template."""
        return [(row, self[f"line_{row.line.pk}"]) for row in self.rows]

    def clean_corrective_reason(self) -> str:
        reason = self.cleaned_data["corrective_reason"]
        problem = verifactu.corrective_reason_problem(self.original, reason)
        if problem:
            raise ValidationError(problem, code="corrective_reason_kind")
        return reason

    def clean_issue_date(self) -> Any:
        date = self.cleaned_data["issue_date"]
        if date < self.original.issue_date:
            raise ValidationError(_("A credit note cannot be dated before the invoice it corrects (%(date)s)."),
                                  code="before_original", params={"date": self.original.issue_date.isoformat()})
        return date

    def quantities(self) -> dict[int, Decimal]:
        """Return the quantity to credit of each line (after validation)."""
        if self.cleaned_data.get("scope") == "full":
            return {row.line.pk: row.remaining for row in self.rows}
        return {row.line.pk: self.cleaned_data.get(f"line_{row.line.pk}") or Decimal(0) for row in self.rows}
