"""The client form: the TIN is checked with python-stdnum when given."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from b2binvoice.companies.models import Company, PaymentMethod, Tax
from b2binvoice.core import choices
from b2binvoice.core.validators import compact_iban, validate_iban, validate_tin

from .models import Client


class ClientForm(forms.ModelForm):
    """Create or edit a client of the current company."""

    country = choices.country_field(initial=Client._meta.get_field("country").default)
    language = choices.language_field(initial=Client._meta.get_field("language").default,
                                      help_text=_("The language of the invoices for this client."))

    class Meta:
        model = Client
        fields = ["name", "tin", "country", "address", "city", "postal_code", "province", "email", "language",
                  "iban", "mandate_reference", "peppol_scheme", "peppol_id", "default_taxes", "default_payment_method"]
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

    def clean_iban(self) -> str:
        iban = compact_iban(self.cleaned_data.get("iban") or "")
        if iban:
            validate_iban(iban)
        return iban

    def clean_peppol_scheme(self) -> str:
        scheme = (self.cleaned_data.get("peppol_scheme") or "").strip()
        if scheme and not (len(scheme) == 4 and scheme.isdigit()):
            raise ValidationError(_("Enter the 4-digit scheme of the Peppol address, e.g. 0208 or 9925."),
                                  code="invalid_peppol_scheme")
        return scheme

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        scheme, peppol_id = cleaned.get("peppol_scheme"), (cleaned.get("peppol_id") or "").strip()
        cleaned["peppol_id"] = peppol_id
        if bool(scheme) != bool(peppol_id) and "peppol_scheme" not in self.errors:
            self.add_error("peppol_id" if scheme else "peppol_scheme", ValidationError(
                _("A Peppol address has both a scheme and an ID: enter both, or neither."), code="peppol_incomplete"))
        tin = cleaned.get("tin")
        if tin and "country" in cleaned:
            try:
                cleaned["tin"] = validate_tin(tin, cleaned["country"])
            except ValidationError as exc:
                self.add_error("tin", exc)
        return cleaned
