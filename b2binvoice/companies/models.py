"""Companies (tenants), their members, taxes and payment methods."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from b2binvoice.core.validators import validate_bic, validate_iban

from .taxtypes import (
    WITHHOLDING_TYPES,
    country_tax_types,
    default_tax_type,
    listed_category,
    tax_type_choices,
    tax_type_problem,
)
from .units import unit_code_choices, unit_key


# The longest invoice number (``Invoice.number``); the company's numbering must fit in it.
INVOICE_NUMBER_MAX_LENGTH = 40


class SimplifiedSector(models.TextChoices):
    """The operations for which Spain allows a simplified invoice up to 3,000 EUR, VAT included, instead of
    400 EUR (RD 1619/2012, art. 4.1, letters a to ñ)."""

    RETAIL = "retail", _("Retail sales (also by the maker of the goods)")
    ITINERANT = "itinerant", _("Street and itinerant sales or services")
    HOME = "home", _("Sales or services at the customer's home")
    PASSENGER_TRANSPORT = "transport", _("Transport of people and their luggage")
    HOSPITALITY = "hospitality", _("Hospitality and restaurants (restaurants, bars, cafés and the like; food and "
                                   "drink served to be consumed on the spot)")
    NIGHTLIFE = "nightlife", _("Dance halls and discotheques")
    TELEPHONE = "telephone", _("Public telephone booths and phone cards that do not identify their holder")
    HAIRDRESSING = "hairdressing", _("Hairdressers and beauty salons")
    SPORTS = "sports", _("Use of sports facilities")
    PHOTOGRAPHY = "photography", _("Photo developing and photo studios")
    PARKING = "parking", _("Car parks and parking")
    FILM_RENTAL = "film_rental", _("Film rental")
    LAUNDRY = "laundry", _("Dry cleaning and laundry")
    TOLLS = "tolls", _("Toll motorways")
    AUTHORISED = "authorised", _("Other operations the tax agency (Departamento de Gestión Tributaria) authorised")


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
    # Credit notes (corrective invoices) have a series of their own.
    credit_note_prefix = models.CharField(
        _("credit note number prefix"), max_length=20, blank=True,
        help_text=_("Credit notes are numbered in a series of their own, e.g. LD-R-0001. Leave empty to use the "
                    "invoice prefix followed by R- ."))
    credit_note_next_number = models.PositiveIntegerField(_("next credit note number"), default=1)
    credit_note_number_digits = models.PositiveSmallIntegerField(_("credit note digits"), default=4)
    simplified_invoice_sector = models.CharField(
        _("simplified invoices up to 3,000 EUR (Spain)"), max_length=20, blank=True, choices=SimplifiedSector.choices,
        help_text=_("Spanish rules allow a simplified invoice (a client without tax id) up to 400 EUR, VAT included, "
                    "or up to 3,000 EUR when the sale is one of these operations (RD 1619/2012, art. 4.1). Choose "
                    "yours only if your company's sales are of that kind."))
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

    @property
    def credit_note_series_prefix(self) -> str:
        """Return the prefix of credit note numbers: its own, or the invoice prefix followed by ``R-``."""
        return self.credit_note_prefix or f"{self.invoice_prefix}R-"

    def allocate_credit_note_number(self) -> str:
        """Return the next credit note number and advance that sequence (locking the row like invoices)."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("allocate_credit_note_number() must run inside transaction.atomic()")
        locked = Company.objects.select_for_update().get(pk=self.pk)
        number = f"{locked.credit_note_series_prefix}{locked.credit_note_next_number:0{locked.credit_note_number_digits}d}"
        Company.objects.filter(pk=self.pk).update(credit_note_next_number=models.F("credit_note_next_number") + 1)
        self.credit_note_next_number = locked.credit_note_next_number + 1
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
# Categories whose reason B2Brouter wants in ``comment`` (taxes_attributes guide: exempt, not subject,
# reverse charge); the reason is also the legal mention printed on the invoice.
REASON_CATEGORIES = frozenset({"E", "AE", "NS"})
RATE_CATEGORIES = frozenset({"S", "AA", "AAA", "H"})


class ExemptionCode(models.TextChoices):
    """Spain's codes for why an operation bears no VAT (AEAT's Verifactu lists L10 and L9, "CausaExencion"
    and "CalificacionOperacion"), sent to B2Brouter in the tax's ``comment`` as its taxes guide shows ("E2")."""

    E1 = "E1", _("E1 – Exempt under art. 20 LIVA (health, education, finance, insurance, housing rentals, …)")
    E2 = "E2", _("E2 – Exempt under art. 21 LIVA (exports of goods outside the EU)")
    E3 = "E3", _("E3 – Exempt under art. 22 LIVA (operations treated as exports: ships, aircraft, "
                 "international transport)")
    E4 = "E4", _("E4 – Exempt under art. 23 and 24 LIVA (customs warehouses, free zones and similar regimes)")
    E5 = "E5", _("E5 – Exempt under art. 25 LIVA (goods delivered to a business in another EU country)")
    E6 = "E6", _("E6 – Exempt for another reason")
    N1 = "N1", _("N1 – Not subject under art. 7 or 14 LIVA or other rules (e.g. transfer of a whole business)")
    N2 = "N2", _("N2 – Not subject in Spain by the place-of-supply rules (e.g. services to a business in "
                 "another EU country or outside the EU)")


EXEMPT_CODES = frozenset({"E1", "E2", "E3", "E4", "E5", "E6"})
NOT_SUBJECT_CODES = frozenset({"N1", "N2"})
# Categories that take an exemption code (E1-E6): exempt, intra-EU supply (art. 25), export (art. 21),
# and those that take a not-subject code (N1-N2): not subject, outside the scope of tax.
EXEMPT_CODE_CATEGORIES = frozenset({"E", "K", "G"})
NOT_SUBJECT_CODE_CATEGORIES = frozenset({"NS", "O"})


class TaxKind(models.TextChoices):
    PERCENTAGE = "percentage", _("Percentage")
    ABSOLUTE = "absolute", _("Absolute (fixed amount)")


class Tax(models.Model):
    """A tax the company applies to invoices: a percentage (VAT, IRPF) or a fixed amount (stamp duty).

    ``name`` is the company's own label, shown on invoices; ``tax_type`` is the name
    B2Brouter knows the tax by (IVA, IRPF, VAT, ...), so IVA 21 % and IVA 10 % are two
    taxes of the same type. A withholding (IRPF) has a negative rate, which the
    invoice arithmetic subtracts.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="taxes")
    name = models.CharField(_("name"), max_length=100, help_text=_("Your label, printed on invoices (e.g. IVA 21%)."))
    tax_type = models.CharField(
        _("B2Brouter tax type"), max_length=8, blank=True, choices=tax_type_choices(),
        help_text=_("The tax name B2Brouter expects for your country; several taxes may share one "
                    "(IVA 21% and IVA 10% are both IVA)."))
    kind = models.CharField(_("kind"), max_length=10, choices=TaxKind.choices, default=TaxKind.PERCENTAGE)
    rate = models.DecimalField(_("rate (%)"), max_digits=7, decimal_places=4, null=True, blank=True,
                               help_text=_("Negative for withholdings such as IRPF."))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True,
                                 help_text=_("For absolute taxes, in the invoice's currency."))
    category = models.CharField(_("category"), max_length=3, choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    exemption_reason = models.CharField(_("exemption reason"), max_length=255, blank=True)
    exemption_code = models.CharField(
        _("exemption code (Spain)"), max_length=2, blank=True, choices=ExemptionCode.choices,
        help_text=_("Why the operation bears no Spanish VAT, as the tax agency codes it: E1–E6 for exempt "
                    "operations, N1–N2 for operations not subject to Spanish VAT. Required in Spain for the "
                    "categories E, K, G (exempt) and NS, O (not subject)."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tax")
        verbose_name_plural = _("taxes")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="unique_tax_name_per_company")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        # A percentage tax created without a type (fixtures, imports, the admin) gets the one its
        # label and the company's country suggest, as the data migration did for existing taxes.
        if not self.tax_type and self.kind == TaxKind.PERCENTAGE and self.company_id:
            self.tax_type = default_tax_type(self.company.country, self.name, self.rate)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        # Codes are specific ("rate_required", not "required"): a ModelForm replaces the message of
        # an error whose code matches one of the field's own messages with the generic one.
        errors: dict[str, ValidationError] = {}
        if self.kind == TaxKind.PERCENTAGE:
            errors.update(self._percentage_errors())
        elif self.amount is None:
            errors["amount"] = ValidationError(_("Enter the amount of an absolute tax."), code="amount_required")
        if self.category in REASON_CATEGORIES and not self.exemption_reason.strip():
            errors["exemption_reason"] = ValidationError(
                _("Category %(category)s needs the reason printed on the invoice (e.g. the article of the law "
                  "that exempts it); it is sent to B2Brouter as the tax comment."),
                code="reason_required", params={"category": self.category})
        code_error = self.exemption_code_error()
        if code_error is not None:
            errors["exemption_code"] = code_error
        if errors:
            raise ValidationError(errors)

    def exemption_code_error(self) -> ValidationError | None:
        """Return what is wrong with the exemption code for the tax's category (None when it is right).

        A Spanish company's exempt and not-subject taxes must say why (Verifactu records carry the
        code); a code must belong to the category's family (E codes for exempt, N codes for not subject).
        """
        spanish = self.company_id is not None and (self.company.country or "").upper() == "ES"
        code = self.exemption_code
        if self.category in EXEMPT_CODE_CATEGORIES:
            if code in NOT_SUBJECT_CODES:
                return ValidationError(
                    _("%(code)s is a not-subject code, and category %(category)s is an exempt operation: choose one "
                      "of E1–E6, or change the category to NS (not subject)."),
                    code="exemption_code_family", params={"code": code, "category": self.category})
            if not code and spanish:
                return ValidationError(
                    _("A Spanish company's exempt tax (category %(category)s) needs its exemption code (E1–E6), "
                      "which the tax agency's record of each invoice carries: choose the article that exempts it."),
                    code="exemption_code_required", params={"category": self.category})
        elif self.category in NOT_SUBJECT_CODE_CATEGORIES:
            if code in EXEMPT_CODES:
                return ValidationError(
                    _("%(code)s is an exemption code, and category %(category)s is not subject to VAT: choose N1 or "
                      "N2, or change the category to E (exempt)."),
                    code="exemption_code_family", params={"code": code, "category": self.category})
            if not code and spanish:
                return ValidationError(
                    _("A Spanish company's not-subject tax (category %(category)s) needs its code: N2 when the "
                      "place-of-supply rules put the operation outside Spain (e.g. services to a business in "
                      "another EU country), N1 otherwise."),
                    code="exemption_code_required", params={"category": self.category})
        elif code:
            return ValidationError(
                _("Only exempt (E, K, G) and not-subject (NS, O) taxes take an exemption code: clear it, or change "
                  "the category."), code="exemption_code_category")
        return None

    def _percentage_errors(self) -> dict[str, ValidationError]:
        errors: dict[str, ValidationError] = {}
        country = self.company.country if self.company_id else ""
        problem = tax_type_problem(country, self.tax_type)
        if problem == "missing":
            errors["tax_type"] = ValidationError(
                _("Choose the B2Brouter tax type (for example IVA, IRPF or VAT)."), code="tax_type_required")
        elif problem == "unknown":
            errors["tax_type"] = ValidationError(
                _("%(type)s is not a tax name B2Brouter documents: choose one from the list."),
                code="tax_type_unknown", params={"type": self.tax_type})
        elif problem == "country":
            errors["tax_type"] = ValidationError(
                _("B2Brouter expects the taxes of a company in %(country)s to be named %(names)s, not %(type)s."),
                code="tax_type_country", params={"country": country, "type": self.tax_type,
                                                 "names": ", ".join(sorted(country_tax_types(country)))})
        if self.rate is None:
            errors["rate"] = ValidationError(_("Enter the rate of a percentage tax."), code="rate_required")
            return errors
        withholding = self.tax_type in WITHHOLDING_TYPES
        if withholding and self.rate >= 0:
            errors["rate"] = ValidationError(
                _("%(type)s is a withholding: enter its rate as a negative number (e.g. -15)."),
                code="withholding_not_negative", params={"type": self.tax_type})
        elif not withholding and self.rate < 0 and self.tax_type:
            errors["rate"] = ValidationError(
                _("Only withholdings (IRPF, IRNR, IRPEF) have a negative rate: choose the withholding type or enter "
                  "a positive rate."), code="negative_rate")
        elif self.category in ZERO_RATE_CATEGORIES and self.rate != Decimal(0):
            errors["rate"] = ValidationError(
                _("Category %(category)s takes a 0 %% rate."), code="zero_rate_category", params={"category": self.category})
        elif self.rate == 0 and self.category in RATE_CATEGORIES:
            errors["category"] = ValidationError(
                _("A 0 % tax needs the category that says why: Z (zero rated), E (exempt), AE (reverse charge), "
                  "K (intra-EU), G (export), O (outside the scope) or NS (not subject)."),
                code="zero_rate_needs_category")
        elif not withholding and self.category in RATE_CATEGORIES and self.company_id:
            listed = listed_category(self.company.country, self.tax_type, self.rate)
            if listed and listed != self.category:
                errors["category"] = ValidationError(
                    _("B2Brouter's table for %(country)s gives %(type)s at %(rate)s %% the category %(listed)s: "
                      "choose %(listed)s."), code="category_mismatch",
                    params={"country": self.company.country, "type": self.tax_type,
                            "rate": format(self.rate.normalize(), "f"), "listed": listed})
        return errors


class PaymentMethodType(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CARD = "card", _("Card")
    PAYPAL = "paypal", _("PayPal")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    OTHER = "other", _("Other")


class PaymentMethod(models.Model):
    """How the company gets paid; a bank transfer carries the company's IBAN and BIC."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="payment_methods")
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=PaymentMethodType.choices, default=PaymentMethodType.BANK_TRANSFER)
    details = models.TextField(_("details"), blank=True, help_text=_("Printed on the invoice."))
    iban = models.CharField(_("IBAN"), max_length=42, blank=True,
                            help_text=_("The account to pay into (a bank transfer). A direct debit takes the payer's "
                                        "IBAN from the client."))
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


class UnitMapping(models.Model):
    """A company's own translation of a line unit ("folios", "jornadas") into B2Brouter's unit code.

    It adds to, or overrides, the built-in table of :mod:`b2binvoice.companies.units`;
    an empty code means "do not send a unit for this one".
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="unit_mappings")
    label = models.CharField(_("unit as written on lines"), max_length=20,
                             help_text=_("Matched ignoring case and accents: “Horas” also matches “horas”."))
    key = models.CharField(max_length=20, editable=False)
    code = models.PositiveSmallIntegerField(_("B2Brouter unit code"), null=True, blank=True,
                                            choices=unit_code_choices(),
                                            help_text=_("Leave empty to send no unit for this one."))

    class Meta:
        verbose_name = _("unit mapping")
        verbose_name_plural = _("unit mappings")
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["company", "key"], name="unique_unit_mapping_per_company")]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: object, **kwargs: object) -> None:
        self.key = unit_key(self.label)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class SettingsChange(models.Model):
    """One recorded change to a company's settings: who, when, what (field: old -> new); never a secret's value.

    Written by :mod:`b2binvoice.companies.audit`; append-only, shown on Settings -> History.
    """

    class Area(models.TextChoices):
        COMPANY = "company", _("Company")
        TAX = "tax", _("Tax")
        PAYMENT_METHOD = "payment_method", _("Payment method")
        UNIT = "unit", _("Unit")
        MEMBERSHIP = "membership", _("Membership")
        INTEGRATION = "integration", _("B2Brouter integration")
        TAX_REPORTING = "tax_reporting", _("Verifactu / TicketBAI")

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        CHANGED = "changed", _("changed")
        DELETED = "deleted", _("deleted")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="settings_changes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    # Kept as written at the time, so the entry still says who after the user is deleted.
    username = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    area = models.CharField(max_length=20, choices=Area.choices)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.CHANGED)
    object_repr = models.CharField(max_length=200, blank=True)
    # [{"field": label, "old": text, "new": text}] or, for a secret, [{"field": label, "change": "set"}].
    changes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["company", "-at"], name="settingschange_company_at")]

    def __str__(self) -> str:
        return f"{self.get_area_display()} {self.object_repr} {self.action}"
