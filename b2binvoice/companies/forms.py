"""Forms of the company settings: the company itself, its taxes and payment methods."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from b2binvoice.core.localformats import LocalDecimalField
from b2binvoice.core import choices
from b2binvoice.core.validators import compact_iban, validate_tin

from .models import (
    INVOICE_NUMBER_MAX_LENGTH,
    Company,
    PaymentMethod,
    Tax,
    TaxCategory,
    TaxKind,
    UnitMapping,
)
from .taxtypes import country_vat_name, default_category, tax_type_choices
from .units import unit_code_choices, unit_key


def currency_choices() -> list[tuple[str, str]]:
    """Return the ISO 4217 currencies in use as form choices ("EUR – euro")."""
    return choices.currency_choices()


class CompanyForm(forms.ModelForm):
    """Edit the current company's identity, address, currency and numbering."""

    country = choices.country_field()
    default_currency = choices.currency_field(label=_("default currency"))

    class Meta:
        model = Company
        fields = ["name", "tin", "country", "address", "city", "postal_code", "province", "email",
                  "default_currency", "invoice_prefix", "invoice_next_number", "invoice_number_digits",
                  "credit_note_prefix", "credit_note_next_number", "credit_note_number_digits",
                  "simplified_invoice_sector"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The credit note series keeps its current values when a form leaves them out.
        for name in ("credit_note_next_number", "credit_note_number_digits"):
            self.fields[name].required = False

    def clean_credit_note_next_number(self) -> int:
        return self.cleaned_data.get("credit_note_next_number") or self.instance.credit_note_next_number

    def clean_credit_note_number_digits(self) -> int:
        return self.cleaned_data.get("credit_note_number_digits") or self.instance.credit_note_number_digits

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise ValidationError(_("Enter the two-letter ISO country code, e.g. ES."), code="invalid_country")
        return country

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        tin = cleaned.get("tin")
        if tin:
            try:
                cleaned["tin"] = validate_tin(tin, cleaned.get("country"))
            except ValidationError as exc:
                self.add_error("tin", exc)
        prefix, digits = cleaned.get("invoice_prefix"), cleaned.get("invoice_number_digits")
        next_number = cleaned.get("invoice_next_number")
        if prefix is not None and digits is not None and next_number is not None:
            longest = len(prefix) + max(digits, len(str(next_number)))
            if longest > INVOICE_NUMBER_MAX_LENGTH:
                self.add_error("invoice_number_digits", ValidationError(
                    _("Invoice numbers would be %(length)s characters long; with the prefix they can have at most "
                      "%(limit)s. Use fewer digits or a shorter prefix."), code="number_too_long",
                    params={"length": longest, "limit": INVOICE_NUMBER_MAX_LENGTH}))
        self._check_credit_note_series(cleaned)
        return cleaned

    def _check_credit_note_series(self, cleaned: dict[str, Any]) -> None:
        """Credit notes need a series of their own that fits in a number (Spain: a distinct series)."""
        prefix = cleaned.get("credit_note_prefix") or ""
        invoice_prefix = cleaned.get("invoice_prefix")
        digits, next_number = cleaned.get("credit_note_number_digits"), cleaned.get("credit_note_next_number")
        if invoice_prefix is None or digits is None or next_number is None:
            return
        series = prefix.strip() or f"{invoice_prefix}R-"
        if series == invoice_prefix:
            self.add_error("credit_note_prefix", ValidationError(
                _("Credit notes need a series of their own: choose a prefix other than the invoices' one."),
                code="same_series"))
        longest = len(series) + max(digits, len(str(next_number)))
        if longest > INVOICE_NUMBER_MAX_LENGTH:
            self.add_error("credit_note_number_digits", ValidationError(
                _("Credit note numbers would be %(length)s characters long; with the prefix they can have at most "
                  "%(limit)s. Use fewer digits or a shorter prefix."), code="number_too_long",
                params={"length": longest, "limit": INVOICE_NUMBER_MAX_LENGTH}))


class TaxForm(forms.ModelForm):
    """Create or edit a tax of the current company (model ``clean`` checks type, rate, category and reason)."""

    tax_type = forms.ChoiceField(
        label=_("B2Brouter tax type"), required=False, choices=[("", "—")] + tax_type_choices(),
        help_text=_("The name B2Brouter knows this tax by (its taxes guide lists them per country): IVA for Spanish "
                    "VAT, IRPF for the Spanish withholding, VAT, TVA, MwSt, BTW, USt elsewhere. Several taxes may "
                    "share a type (IVA 21% and IVA 10%); your name above stays on the invoice."))
    category = forms.ChoiceField(
        label=_("category"), required=False,
        choices=[("", _("Automatic – from B2Brouter's table for your country"))] + list(TaxCategory.choices),
        help_text=_("S for the standard rate, AA and AAA for the reduced rates B2Brouter's table lists for your "
                    "country; for a 0 % tax choose why: Z zero rated, E exempt, AE reverse charge (its reason goes "
                    "in the exemption reason). A withholding (IRPF) is S with a negative rate."))

    class Meta:
        model = Tax
        fields = ["name", "tax_type", "kind", "rate", "amount", "category", "exemption_reason", "exemption_code",
                  "is_active"]
        field_classes = {"rate": LocalDecimalField, "amount": LocalDecimalField}

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        self.instance.company = company
        choices = tax_type_choices(company.country)
        if self.instance.tax_type and self.instance.tax_type not in dict(choices):
            choices.append((self.instance.tax_type, self.instance.tax_type))  # shown so its error can be read
        self.fields["tax_type"].choices = [("", "—"), *choices]
        if self.instance.pk is None:
            self.initial.setdefault("tax_type", country_vat_name(company.country))
            self.initial.setdefault("category", "")
        self.fields["exemption_reason"].help_text = _(
            "Required for E (exempt), AE (reverse charge) and NS (not subject): the legal mention printed on the "
            "invoice, sent to B2Brouter as the tax comment.")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Tax.objects.filter(company=self.company, name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("There is already a tax called %(name)s; choose another name."),
                                  code="duplicate_name", params={"name": name})
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("kind") != TaxKind.PERCENTAGE:
            cleaned["category"] = cleaned.get("category") or TaxCategory.STANDARD
            return cleaned
        if not cleaned.get("category") and "rate" in cleaned and cleaned.get("rate") is not None:
            category = default_category(self.company.country, cleaned.get("tax_type") or "", cleaned["rate"])
            if category is None:
                self.add_error("category", ValidationError(
                    _("A 0 % tax needs its category chosen: Z (zero rated), E (exempt), AE (reverse charge), "
                      "K (intra-EU), G (export), O (outside the scope) or NS (not subject)."),
                    code="category_needed"))
            else:
                cleaned["category"] = category
        elif not cleaned.get("category"):
            cleaned["category"] = TaxCategory.STANDARD
        return cleaned


class UnitMappingForm(forms.ModelForm):
    """Add or edit one of the company's unit mappings."""

    code = forms.TypedChoiceField(
        label=_("B2Brouter unit code"), required=False, coerce=int, empty_value=None,
        choices=[("", _("— do not send a unit —"))] + unit_code_choices(),
        help_text=_("The code sent as the line's unit. Leave empty to send no unit for lines with this unit."))

    class Meta:
        model = UnitMapping
        fields = ["label", "code"]

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        self.instance.company = company

    def clean_label(self) -> str:
        label = " ".join((self.cleaned_data.get("label") or "").split())
        key = unit_key(label)
        if not key:
            raise ValidationError(_("Enter the unit as it is written on your invoice lines."), code="label_empty")
        taken = UnitMapping.objects.filter(company=self.company, key=key).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("There is already a mapping for “%(label)s”: edit that one."),
                                  code="duplicate_unit", params={"label": taken.first().label})
        return label


class PaymentMethodForm(forms.ModelForm):
    """Create or edit a payment method (model ``clean`` checks IBAN and BIC with python-stdnum)."""

    TYPE_HELP = _("Sent to B2Brouter as its payment code: a bank transfer (any currency) as 4 with the IBAN below, a "
                  "direct debit as 2 with the client's IBAN, cash 1, cheque 11; card, PayPal and "
                  "other as 13 with the details below as the description.")

    class Meta:
        model = PaymentMethod
        fields = ["name", "type", "iban", "bic", "details", "is_active"]
        widgets = {"details": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.company = company
        self.fields["type"].help_text = self.TYPE_HELP

    def clean_iban(self) -> str:
        return compact_iban(self.cleaned_data.get("iban") or "")

    def clean_bic(self) -> str:
        return (self.cleaned_data.get("bic") or "").replace(" ", "").upper()


class SwitchCompanyForm(forms.Form):
    """Choose the company to work in among the user's companies."""

    company = forms.ModelChoiceField(queryset=Company.objects.none())

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.filter(memberships__user=user)
        self.fields["company"].error_messages["invalid_choice"] = _("You are not a member of that company.")
