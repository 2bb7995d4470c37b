"""Forms of the company settings: the company itself, its taxes and payment methods."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from b2binvoice.core.money import currency_codes
from b2binvoice.core.validators import compact_iban, validate_tin

from .models import INVOICE_NUMBER_MAX_LENGTH, Company, PaymentMethod, Tax


def currency_choices() -> list[tuple[str, str]]:
    """Return the ISO 4217 codes as form choices."""
    return [(code, code) for code in currency_codes()]


class CompanyForm(forms.ModelForm):
    """Edit the current company's identity, address, currency and numbering."""

    default_currency = forms.ChoiceField(label=_("default currency"), choices=currency_choices)

    class Meta:
        model = Company
        fields = ["name", "tin", "country", "address", "city", "postal_code", "province", "email",
                  "default_currency", "invoice_prefix", "invoice_next_number", "invoice_number_digits"]

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
        return cleaned


class TaxForm(forms.ModelForm):
    """Create or edit a tax of the current company (model ``clean`` checks rate, amount and reason)."""

    class Meta:
        model = Tax
        fields = ["name", "kind", "rate", "amount", "category", "exemption_reason", "is_active"]

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        self.instance.company = company

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Tax.objects.filter(company=self.company, name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("There is already a tax called %(name)s; choose another name."),
                                  code="duplicate_name", params={"name": name})
        return name


class PaymentMethodForm(forms.ModelForm):
    """Create or edit a payment method (model ``clean`` checks IBAN and BIC with python-stdnum)."""

    class Meta:
        model = PaymentMethod
        fields = ["name", "type", "iban", "bic", "details", "is_active"]
        widgets = {"details": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.company = company

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
