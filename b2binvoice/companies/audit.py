"""The audit trail of settings: record who changed what in a company's settings, never a secret's value.

One function, :func:`record`, compares a model instance about to be saved with its stored row
and appends a :class:`~b2binvoice.companies.models.SettingsChange` listing each field's old and
new value. Secret fields (the API key, the webhook secret) are written only as "set", "changed"
or "removed": their values never reach the record, masked or not.

The user is taken from the argument or else from the request being served (set by
:class:`~b2binvoice.companies.middleware.CurrentCompanyMiddleware`), so actions that do not know
the user (the integration's, the admin's membership saves) still record who.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models.signals import post_delete, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy

from b2binvoice.core import texts

from .models import Company, Membership, SettingsChange

current_user: contextvars.ContextVar[Any] = contextvars.ContextVar("b2binvoice_settings_user", default=None)

# What each area records: the fields worth a line in the history, and which of them are secrets.
INTEGRATION_FIELDS = ("enabled", "environment", "account_id", "send_after_create", "attach_pdf", "api_key",
                      "rounding_method", "round_before_sum", "apply_taxes_per_line", "webhook_setup", "webhook_token",
                      "webhook_secret")
SECRET_FIELDS = frozenset({"api_key", "webhook_secret", "webhook_token"})
SECRET_LABELS = {"webhook_token": gettext_lazy("receiver URL")}


def _text(instance: models.Model, field: models.Field, value: Any) -> Any:
    """Return ``value`` of ``field`` as a person reads it (choice labels, related objects' names).

    Labels are kept untranslated (:func:`b2binvoice.core.texts.dump`), so the history shows them in
    the reader's language; other values are plain strings.
    """
    if value is None or value == "":
        return ""
    if field.choices:
        return texts.dump(texts.label(dict(field.flatchoices).get(value, value)))
    if isinstance(field, models.ForeignKey):
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else str(value)
    if isinstance(field, models.BooleanField):
        return texts.dump(texts.gettext("yes") if value else texts.gettext("no"))
    return str(value)


def _field_changes(old: models.Model | None, new: models.Model, names: Iterable[str]) -> list[dict[str, str]]:
    changes = []
    for name in names:
        field = new._meta.get_field(name)
        before = getattr(old, field.attname) if old is not None else None
        after = getattr(new, field.attname)
        if before == after or (before in (None, "") and after in (None, "")):
            continue
        label = texts.dump(texts.label(SECRET_LABELS.get(name) or field.verbose_name))
        if name in SECRET_FIELDS:
            change = "removed" if not after else ("set" if not before else "changed")
            changes.append({"field": label, "change": change})
        else:
            changes.append({"field": label, "old": _text(new, field, before), "new": _text(new, field, after)})
    return changes


def _tracked_fields(instance: models.Model) -> list[str]:
    return [f.name for f in instance._meta.concrete_fields
            if f.editable and not f.primary_key and f.name not in ("company", "key")]


def record(instance: models.Model, *, area: str, company: Company | None = None, user: Any = None,
           fields: Iterable[str] | None = None, deleted: bool = False) -> SettingsChange | None:
    """Record how ``instance`` (not yet saved, or being deleted) differs from its stored row; return the entry.

    Nothing is recorded when no tracked field changed.
    """
    company = company or getattr(instance, "company", None)
    if company is None:
        return None
    names = list(fields) if fields is not None else _tracked_fields(instance)
    stored = type(instance)._default_manager.filter(pk=instance.pk).first() if instance.pk is not None else None
    if deleted:
        action = SettingsChange.Action.DELETED
        changes = [{"field": c["field"], "old": c["new"], "new": ""}
                   for c in _field_changes(None, stored or instance, names)]
    else:
        action = SettingsChange.Action.CHANGED if stored is not None else SettingsChange.Action.CREATED
        changes = _field_changes(stored, instance, names)
        if not changes:
            return None
    user = user if user is not None else current_user.get()
    user = user if getattr(user, "is_authenticated", False) else None
    return SettingsChange.objects.create(
        company=company, user=user, username=user.get_username() if user is not None else "", area=area,
        action=action, object_repr=str(instance)[:200], changes=changes)


def record_values(company: Company, *, area: str, object_repr: str, before: dict[str, str], after: dict[str, str],
                  labels: dict[str, Any], user: Any = None) -> SettingsChange | None:
    """Record settings kept outside our tables (in B2Brouter) that changed from ``before`` to ``after``.

    ``labels`` names each key as the page does; values are recorded as the person chose them (codes).
    Nothing is recorded when no value changed.
    """
    changes = [{"field": texts.dump(texts.label(labels.get(name, name))), "old": before.get(name) or "",
                "new": after.get(name) or ""}
               for name in after if (before.get(name) or "") != (after.get(name) or "")]
    if not changes:
        return None
    user = user if user is not None else current_user.get()
    user = user if getattr(user, "is_authenticated", False) else None
    return SettingsChange.objects.create(
        company=company, user=user, username=user.get_username() if user is not None else "", area=area,
        action=SettingsChange.Action.CHANGED, object_repr=object_repr[:200], changes=changes)


def record_integration(integration: Any) -> SettingsChange | None:
    """Record the B2Brouter integration's changed settings; call it just before ``integration.save()``."""
    return record(integration, area=SettingsChange.Area.INTEGRATION, fields=INTEGRATION_FIELDS)


# Memberships are managed in the admin (and the demo seed): record them wherever they are saved.
@receiver(pre_save, sender=Membership, dispatch_uid="audit_membership_saved")
def _membership_saved(sender: type, instance: Membership, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        record(instance, area=SettingsChange.Area.MEMBERSHIP, fields=("user", "role"))


@receiver(post_delete, sender=Membership, dispatch_uid="audit_membership_deleted")
def _membership_deleted(sender: type, instance: Membership, origin: Any = None, **kwargs: Any) -> None:
    # Only a membership deleted for itself: deleting its user or company takes it (and its history) along.
    model = getattr(origin, "model", type(origin))
    if model is Membership:
        record(instance, area=SettingsChange.Area.MEMBERSHIP, fields=("user", "role"), deleted=True)
