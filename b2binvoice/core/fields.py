"""A model field that keeps secrets encrypted at rest with Fernet (``FIELD_ENCRYPTION_KEYS``)."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(value: str) -> str:
    """Encrypt ``value`` with the first configured key."""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt ``token`` with any configured key; raise ValueError when none fits."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong or rotated-away key
        raise ValueError("cannot decrypt a stored secret: check FIELD_ENCRYPTION_KEYS") from exc


class EncryptedTextField(models.TextField):
    """Store text encrypted; Python code sees the plain value."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


def mask_secret(value: str | None) -> str:
    """Return a masked form of a secret showing only its last four characters."""
    if not value:
        return ""
    return "••••" + value[-4:] if len(value) > 8 else "••••"
