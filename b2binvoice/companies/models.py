"""Companies (tenants), their members, taxes and payment methods."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from b2binvoice.core.validators import validate_bic, validate_iban


# The longest invoice number (``Invoice.number``); the company's numbering must fit in it.
INVOICE_NUMBER_MAX_LENGTH = 40


class Company(models.Model):
    """A legal entity that issues invoices; every record of the domain belongs to one."""

    name = models.CharField(_("name"), max_length=200)
    tin = models.CharField(_("tax id (TIN/VAT)"), max_length=32, blank=True)
    country = models.CharField(_("country"), max_length=2, default="ES", help_text=_("ISO 3166 alpha-2"))
    address = models.CharField(_("address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    province = models.CharField(_("province"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    default_currency = models.CharField(_("default currency"), max_length=3, default="EUR")
    invoice_prefix = models.CharField(_("invoice number prefix"), max_length=20, default="INV-")
    invoice_next_number = models.PositiveIntegerField(_("next invoice number"), default=1)
    invoice_number_digits = models.PositiveSmallIntegerField(_("digits"), default=4)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="companies")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def allocate_invoice_number(self) -> str:
        """Return the next invoice number and advance the sequence.

        The company row is locked for the rest of the caller's transaction, so two
        concurrent invoices never get the same number and no number is skipped
        (a rolled-back invoice rolls the sequence back with it).
        """
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("allocate_invoice_number() must run inside transaction.atomic()")
        locked = Company.objects.select_for_update().get(pk=self.pk)
        number = f"{locked.invoice_prefix}{locked.invoice_next_number:0{locked.invoice_number_digits}d}"
        Company.objects.filter(pk=self.pk).update(invoice_next_number=models.F("invoice_next_number") + 1)
        self.invoice_next_number = locked.invoice_next_number + 1
        return number


class Membership(models.Model):
    """A user's membership of a company."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "company"], name="unique_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}"


class TaxCategory(models.TextChoices):
    """EN 16931 / UNCL 5305 tax categories as B2Brouter names them."""

    STANDARD = "S", _("S – standard rate")
    REDUCED = "AA", _("AA – reduced rate")
    SUPER_REDUCED = "AAA", _("AAA – super-reduced rate")
    H = "H", _("H – higher rate")
    ZERO = "Z", _("Z – zero rated")
    EXEMPT = "E", _("E – exempt")
    REVERSE_CHARGE = "AE", _("AE – reverse charge")
    INTRA_EU = "K", _("K – intra-EU supply")
    EXPORT = "G", _("G – export outside the EU")
    OUTSIDE_SCOPE = "O", _("O – outside the scope of tax")
    NOT_SUBJECT = "NS", _("NS – not subject")


ZERO_RATE_CATEGORIES = frozenset({"Z", "E", "AE", "K", "G", "O", "NS"})


class TaxKind(models.TextChoices):
    PERCENTAGE = "percentage", _("Percentage")
    ABSOLUTE = "absolute", _("Absolute (fixed amount)")


class Tax(models.Model):
    """A tax the company applies to invoices: a percentage (VAT, IRPF) or a fixed amount (stamp duty)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="taxes")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=TaxKind.choices, default=TaxKind.PERCENTAGE)
    rate = models.DecimalField(_("rate (%)"), max_digits=7, decimal_places=4, null=True, blank=True,
                               help_text=_("Negative for withholdings such as IRPF."))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True,
                                 help_text=_("For absolute taxes, in the invoice's currency."))
    category = models.CharField(_("category"), max_length=3, choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    exemption_reason = models.CharField(_("exemption reason"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tax")
        verbose_name_plural = _("taxes")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="unique_tax_name_per_company")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Codes are specific ("rate_required", not "required"): a ModelForm replaces the message of
        # an error whose code matches one of the field's own messages with the generic one.
        errors: dict[str, ValidationError] = {}
        if self.kind == TaxKind.PERCENTAGE:
            if self.rate is None:
                errors["rate"] = ValidationError(_("Enter the rate of a percentage tax."), code="rate_required")
            elif self.category in ZERO_RATE_CATEGORIES and self.rate != Decimal(0):
                errors["rate"] = ValidationError(
                    _("Category %(category)s takes a 0 %% rate."), code="zero_rate_category", params={"category": self.category})
        elif self.amount is None:
            errors["amount"] = ValidationError(_("Enter the amount of an absolute tax."), code="amount_required")
        if self.category in {"E"} and not self.exemption_reason.strip():
            errors["exemption_reason"] = ValidationError(
                _("An exempt tax needs the exemption reason printed on the invoice."), code="reason_required")
        if errors:
            raise ValidationError(errors)


class PaymentMethodType(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CARD = "card", _("Card")
    PAYPAL = "paypal", _("PayPal")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class PaymentMethod(models.Model):
    """How the company gets paid; a bank transfer carries the company's IBAN and BIC."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="payment_methods")
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=PaymentMethodType.choices, default=PaymentMethodType.BANK_TRANSFER)
    details = models.TextField(_("details"), blank=True, help_text=_("Printed on the invoice."))
    iban = models.CharField(_("IBAN"), max_length=42, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        if self.type == PaymentMethodType.BANK_TRANSFER and not self.iban:
            errors["iban"] = ValidationError(_("A bank transfer needs the IBAN to pay into."), code="iban_required")
        if self.iban:
            try:
                validate_iban(self.iban)
            except ValidationError as exc:
                errors["iban"] = exc
        if self.bic:
            try:
                validate_bic(self.bic)
            except ValidationError as exc:
                errors["bic"] = exc
        if errors:
            raise ValidationError(errors)
