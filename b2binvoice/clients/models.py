"""Clients: the customers a company invoices."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from b2binvoice.companies.models import Company, PaymentMethod, Tax
from b2binvoice.core.search import search_text


class Client(models.Model):
    """A customer of a company."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(_("name"), max_length=200)
    tin = models.CharField(_("tax id (TIN/VAT)"), max_length=32, blank=True)
    country = models.CharField(_("country"), max_length=2, default="ES", help_text=_("ISO 3166 alpha-2"))
    address = models.CharField(_("address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    province = models.CharField(_("province"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(_("language"), max_length=5, default="en")
    iban = models.CharField(_("IBAN"), max_length=42, blank=True,
                            help_text=_("The client's account, debited when an invoice is paid by direct debit."))
    mandate_reference = models.CharField(
        _("direct debit mandate reference"), max_length=35, blank=True,
        help_text=_("The reference of the SEPA mandate the client signed, quoted on direct debit invoices."))
    peppol_scheme = models.CharField(
        _("Peppol scheme"), max_length=4, blank=True,
        help_text=_("The 4-digit scheme of the client's Peppol address (e.g. 0208 for a Belgian company number), "
                    "when the client receives invoices through Peppol."))
    peppol_id = models.CharField(_("Peppol ID"), max_length=60, blank=True,
                                 help_text=_("The identifier of the client's Peppol address, without the scheme."))
    default_taxes = models.ManyToManyField(Tax, blank=True, related_name="+", verbose_name=_("default taxes"))
    default_payment_method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("default payment method"))
    # The client's contact in B2Brouter, for the account it was matched in.
    b2brouter_contact_id = models.BigIntegerField(null=True, blank=True, editable=False)
    b2brouter_account_id = models.CharField(max_length=64, blank=True, editable=False)
    # What the contact was matched against (the client's name, tax id, address and country then, and
    # the contact as B2Brouter showed it), so a later change to the client is noticed before sending.
    b2brouter_contact_basis = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Name, TIN and city folded (core.search.fold) for case- and accent-insensitive search; written on save.
    search_text = models.TextField(blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name"]
        indexes = [models.Index(fields=["company", "name", "id"], name="client_company_name_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save the client, refreshing its search column and, after a rename, its invoices' one."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not {"name", "tin", "city"} & set(update_fields):
            super().save(*args, **kwargs)  # e.g. the B2Brouter contact id: nothing searchable changed
            return
        self.search_text = search_text([self.name, self.tin, self.city])
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text"}
        renamed = self.pk is not None and type(self).objects.filter(pk=self.pk).exclude(name=self.name).exists()
        super().save(*args, **kwargs)
        if renamed:
            for invoice in self.invoices.only("pk", "number", "client_id"):  # type: ignore[attr-defined]
                invoice.client = self
                invoice.refresh_search_text()
                type(invoice).objects.filter(pk=invoice.pk).update(search_text=invoice.search_text)
