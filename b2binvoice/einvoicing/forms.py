"""Forms of the B2Brouter integration."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from b2binvoice.companies.models import EXEMPT_CODES, NOT_SUBJECT_CODES, ExemptionCode
from b2binvoice.invoices.models import CorrectiveReason

from .models import B2BrouterIntegration, Environment
from .verifactu import REGIME_KEYS, REGIME_KEYS_IGIC


def environment_choices(current: str | None = None) -> list[tuple[str, Any]]:
    """Return the environments a user may pick: the simulator only while it is enabled."""
    choices = [(Environment.PRODUCTION.value, Environment.PRODUCTION.label),
               (Environment.STAGING.value, Environment.STAGING.label)]
    if getattr(settings, "SIMULATOR_ENABLED", False):
        choices.append((Environment.SIMULATOR.value, Environment.SIMULATOR.label))
    return choices


class IntegrationSettingsForm(forms.Form):
    """Settings -> Integrations -> B2Brouter. The API key is write-only: blank keeps the stored one."""

    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    environment = forms.ChoiceField(label=_("Environment"), choices=())
    api_key = forms.CharField(
        label=_("API key"), required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))
    account_id = forms.CharField(label=_("Account ID"), required=False, max_length=64, strip=True)
    send_after_create = forms.BooleanField(
        label=_("Send after create"), required=False,
        help_text=_("On: when you confirm Create, B2Brouter creates the invoice and, once its totals are confirmed to "
                    "match ours, sends it to the recipient right away; a sent invoice is a legal document, corrected "
                    "only by a credit note. Off: invoices are created unsent in B2Brouter, and you send each one "
                    "with Send after checking it. The confirmation before Create says which applies."))

    attach_pdf = forms.BooleanField(
        label=_("Attach our PDF to B2Brouter invoices"), required=False,
        help_text=_("On: after creating an invoice in B2Brouter (and before sending it) our own PDF of it is uploaded "
                    "as its PDF view, so the recipient sees the same PDF as the invoice page's Download PDF. A failed "
                    "upload is reported and never undoes the create."))

    def __init__(self, *args: Any, integration: B2BrouterIntegration | None = None, **kwargs: Any) -> None:
        self.integration = integration
        if integration is not None and "initial" not in kwargs:
            kwargs["initial"] = {"enabled": integration.enabled, "environment": integration.environment,
                                 "account_id": integration.account_id,
                                 "send_after_create": integration.send_after_create,
                                 "attach_pdf": integration.attach_pdf}
        elif "initial" not in kwargs:
            kwargs["initial"] = {"send_after_create": True,
                                 "environment": Environment.SIMULATOR if getattr(settings, "SIMULATOR_ENABLED", False)
                                 else Environment.PRODUCTION}
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = environment_choices()
        if integration is not None and integration.api_key:
            self.fields["api_key"].help_text = _("Stored key: %(masked)s. Leave blank to keep it.") % {
                "masked": integration.masked_key}

    def clean_api_key(self) -> str:
        key = (self.cleaned_data.get("api_key") or "").strip()
        # The key travels in an HTTP header: printable ASCII only (B2Brouter's keys are letters, digits, _ and -).
        if key and not (key.isascii() and key.isprintable() and " " not in key):
            raise ValidationError(_("An API key has only letters, digits and punctuation, without spaces: "
                                    "copy it again from B2Brouter."), code="invalid")
        return key

    def clean_account_id(self) -> str:
        value = self.cleaned_data["account_id"]
        if value and not value.replace("-", "").replace("_", "").isalnum():
            raise ValidationError(_("An account ID holds only letters and digits, as B2Brouter shows it."),
                                  code="invalid_account_id")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("enabled"):
            stored_key = self.integration.api_key if self.integration is not None else ""
            if not data.get("api_key") and not stored_key:
                self.add_error("api_key", ValidationError(_("Enter the API key from B2Brouter."), code="required"))
            if not data.get("account_id"):
                self.add_error("account_id", ValidationError(_("Enter the B2Brouter account ID."), code="required"))
        return data


class WebhookSecretForm(forms.Form):
    """The signing secret B2Brouter shows for an endpoint added under Developers -> Webhooks. Write-only."""

    signing_secret = forms.CharField(
        label=_("Signing secret"), max_length=500, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Paste the signing secret B2Brouter shows for the endpoint.")})

    def __init__(self, *args: Any, integration: B2BrouterIntegration | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if integration is not None and integration.webhook_secret:
            self.fields["signing_secret"].help_text = _(
                "Stored secret: %(masked)s. Paste a new one to replace it.") % {
                "masked": integration.masked_webhook_secret}

    def clean_signing_secret(self) -> str:
        value: str = self.cleaned_data["signing_secret"]
        if any(ch.isspace() for ch in value):
            raise ValidationError(_("A signing secret has no spaces or line breaks: copy it again from B2Brouter."),
                                  code="invalid_secret")
        if len(value) < 8:
            raise ValidationError(_("This is too short to be a signing secret: copy the whole secret from "
                                    "B2Brouter."), code="secret_too_short")
        return value


class LinkSearchForm(forms.Form):
    """Search B2Brouter invoices to link."""

    number = forms.CharField(label=_("Invoice number in B2Brouter"), required=False, max_length=64)


class ChooseForm(forms.Form):
    """Pick one B2Brouter record by id (B2Brouter's ids fit a 64-bit integer, as ours must)."""

    b2brouter_id = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class ContactSearchForm(forms.Form):
    """Search B2Brouter contacts by name or tax id."""

    q = forms.CharField(label=_("Name or tax id"), required=False, max_length=100)


class TaxReportingForm(forms.Form):
    """Switch Verifactu or TicketBAI on for the B2Brouter account, after an explicit confirmation."""

    system = forms.ChoiceField(label=_("System"), choices=(), widget=forms.RadioSelect)
    delegation = forms.ChoiceField(label=_("Provincial treasury (TicketBAI only)"), required=False, choices=())
    start_date = forms.DateField(
        # "From" a date, as the invoice list's date range says it (plain "From" is the invoice's issuer).
        label=pgettext_lazy("date range", "From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Every invoice dated from this day on is registered with the tax authority when it is issued; earlier-dated invoices are not."))
    confirm = forms.BooleanField(
        label=_("I understand: every invoice dated from that day on is registered with the tax authority, and "
                "once I opt in it stays on for the rest of the calendar year."),
        required=True, error_messages={"required": _("Tick the confirmation to switch it on.")})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .verifactu import DELEGATIONS, SYSTEMS

        super().__init__(*args, **kwargs)
        self.fields["system"].choices = list(SYSTEMS.items())
        self.fields["delegation"].choices = [("", "—"), *DELEGATIONS.items()]

    def clean_start_date(self) -> Any:
        from django.utils import timezone

        value = self.cleaned_data["start_date"]
        if value < timezone.localdate():
            raise ValidationError(_("Choose today or a later day: invoices already sent are not registered."),
                                  code="start_in_past")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("system") == "tbai" and not cleaned.get("delegation"):
            self.add_error("delegation", ValidationError(
                _("Choose the provincial treasury you report to (Araba, Bizkaia or Gipuzkoa)."), code="delegation"))
        return cleaned


def _code_field(label: Any, choices: list[tuple[str, Any]], help_text: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, required=False, choices=[("", _("— none (B2Brouter's own default)")), *choices],
        help_text=help_text,
        error_messages={"invalid_choice": _("%(value)s is not one of the tax agency's codes for this field: choose "
                                            "one from the list.")})


class TaxReportingCodesForm(forms.Form):
    """The account's default Verifactu/TicketBAI codes, each from the tax agency's official list.

    B2Brouter applies them to a record when the invoice does not carry its own code (an exempt tax
    without its E code, a credit note without its R code); the regime key goes on every line.
    """

    special_regime_key = _code_field(
        _("Special regime key (VAT)"), list(REGIME_KEYS.items()),
        _("AEAT's ClaveRegimen for the lines of every record: 01 unless your company is under a special regime."))
    special_regime_key_igic = _code_field(
        _("Special regime key (IGIC, Canary Islands)"), list(REGIME_KEYS_IGIC.items()),
        _("The same for invoices that charge IGIC instead of VAT."))
    reason_vat_exempt = _code_field(
        _("Default exemption code"), [(c.value, c.label) for c in ExemptionCode if c.value in EXEMPT_CODES],
        _("Used for an exempt line whose tax does not say why (Settings → Taxes gives each exempt tax its own)."))
    reason_no_subject = _code_field(
        _("Default not-subject code"), [(c.value, c.label) for c in ExemptionCode if c.value in NOT_SUBJECT_CODES],
        _("Used for a not-subject line whose tax does not say why."))
    credit_note_code = _code_field(
        _("Default corrective invoice code"), list(CorrectiveReason.choices),
        _("Used for a credit note sent without its own R code (the app sends each credit note's code)."))
