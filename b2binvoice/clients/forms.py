"""The client form: the TIN is checked with python-stdnum when given."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from b2binvoice.companies.models import Company, PaymentMethod, Tax
from b2binvoice.core.validators import validate_tin

from .models import Client


class ClientForm(forms.ModelForm):
    """Create or edit a client of the current company."""

    class Meta:
        model = Client
        fields = ["name", "tin", "country", "address", "city", "postal_code", "province", "email", "language",
                  "default_taxes", "default_payment_method"]
        widgets = {"default_taxes": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.company = company
        # Only the company's own taxes and payment methods can be chosen.
        self.fields["default_taxes"].queryset = Tax.objects.filter(company=company).order_by("name")
        self.fields["default_payment_method"].queryset = PaymentMethod.objects.filter(company=company).order_by("name")

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise ValidationError(_("Enter the two-letter ISO country code, e.g. DE."), code="invalid_country")
        return country

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        tin = cleaned.get("tin")
        if tin and "country" in cleaned:
            try:
                cleaned["tin"] = validate_tin(tin, cleaned["country"])
            except ValidationError as exc:
                self.add_error("tin", exc)
        return cleaned
