"""Remembered contact lookups: showing an invoice never asks B2Brouter which contact has the client's tax id.

:meth:`Remote.find_contact_by_tin` answers from :class:`ContactLookup` when the same question (account,
tax id, country) was answered before, found or not found. An answer is forgotten when a client of the
company with that tax id changes its name, tax id or country, when a contact is created in the account,
and when the user asks B2Brouter again ("Match by tax id" asks with ``fresh=True``).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models.signals import pre_save
from django.utils import timezone

from .models import ContactLookup

_WATCHED = ("name", "tin", "country")


def normalise_tin(tin: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", tin or "").upper()[:64]


def remembered(integration_id: int, account_id: str, tin: str, country: str | None) -> ContactLookup | None:
    """Return the remembered answer to this lookup, or None when B2Brouter was never asked."""
    return ContactLookup.objects.filter(integration_id=integration_id, account_id=str(account_id),
                                        tin=normalise_tin(tin), country=(country or "")[:2]).first()


def remember(integration_id: int, account_id: str, tin: str, country: str | None, contact_id: int | None) -> None:
    """Store B2Brouter's answer (contact_id None: no contact has this tax id)."""
    ContactLookup.objects.update_or_create(
        integration_id=integration_id, account_id=str(account_id), tin=normalise_tin(tin), country=(country or "")[:2],
        defaults={"contact_id": contact_id, "checked_at": timezone.now()})


def forget_not_found(integration_id: int) -> None:
    """Forget every "no contact" answer of the integration (a contact was just created there)."""
    ContactLookup.objects.filter(integration_id=integration_id, contact_id__isnull=True).delete()


def _client_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    old = type(instance).objects.filter(pk=instance.pk).values(*_WATCHED).first()
    if old is None or all(old[name] == getattr(instance, name) for name in _WATCHED):
        return
    ContactLookup.objects.filter(
        integration__company_id=instance.company_id,
        tin__in={normalise_tin(old["tin"]), normalise_tin(instance.tin)}).delete()


def connect() -> None:
    """Forget remembered lookups when a client's name, tax id or country changes."""
    pre_save.connect(_client_changed, sender="clients.Client", dispatch_uid="einvoicing.contact_cache")
