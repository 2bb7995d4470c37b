"""Case- and accent-insensitive search that behaves the same on SQLite and PostgreSQL.

SQLite's ``lower()`` folds only ASCII and neither database strips accents without an
extension, so the folding happens in Python: a model keeps a denormalised ``search_text``
column holding :func:`fold` of its searchable fields, written on save, and a query is folded
the same way before a ``contains`` lookup on that column.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

#: Separates the folded fields of a ``search_text`` column, so a query never matches across two of them.
SEPARATOR = "\x1f"


def fold(text: str) -> str:
    """Return ``text`` without accents, case-folded and with its whitespace collapsed ("Ñandú" -> "nandu")."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\x00", ""))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def search_text(values: Iterable[str | None]) -> str:
    """Return the ``search_text`` column of a record from its searchable fields."""
    return SEPARATOR.join(fold(value or "") for value in values)


def clean_query(raw: str | None, *, max_length: int = 100) -> str:
    """Return a search box's value as typed, minus NUL bytes (PostgreSQL refuses them) and surrounding blanks."""
    return (raw or "").replace("\x00", "").strip()[:max_length]
