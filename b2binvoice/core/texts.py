"""Recorded texts that are shown in the reader's language, not the writer's.

A history entry, a bulk run's result or a sync error is written once (often by the worker, in
English) and read later by anyone. :class:`Text` keeps such a message untranslated: its msgid
and its parameters. It is a ``str`` (its value is the message in the language active when it was
made, so every caller that treats it as a string sees what it saw before), but ``str(text)`` and
templates translate it again in the language active *then*.

Modules that record texts import ``gettext`` from here as ``_``: the same msgids are extracted by
``makemessages``, and ``_("...") % {...}`` builds a :class:`Text`. Parameters may themselves be
texts (a state or field label, another message), lazy labels (``gettext_lazy``), dates and times
(shown in the reader's format) or plain values (kept verbatim: numbers, B2Brouter's words).

:class:`MessageField` (a ``TextField``) stores a text as JSON and gives it back as a
:class:`Text`; a row holding plain text (written before, or text that is not ours) is returned
as it is. :func:`dump` and :func:`load` do the same inside a ``JSONField``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _translate

_MARK = '{"msgid":'
_CONCAT = '{"concat":'


def _lazy_msgid(value: Promise) -> str | None:
    """Return the msgid of a ``gettext_lazy`` label, or None for other lazy values."""
    args = getattr(value, "_args", None)
    if isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], str) and not getattr(value, "_kw", None):
        return args[0]
    return None


def _show(value: Any) -> Any:
    """Return a parameter as the active language shows it."""
    from b2binvoice.core.localformats import local_date, local_datetime  # noqa: PLC0415 (imports forms)

    if isinstance(value, Text):
        return str(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dt.datetime):
        return local_datetime(value)
    if isinstance(value, dt.date):
        return local_date(value)
    return value


def _render(msgid: str, params: Any) -> str:
    translated = _translate(msgid) if msgid else ""
    if params is None:
        return translated
    shown = ({key: _show(value) for key, value in params.items()} if isinstance(params, dict)
             else tuple(_show(value) for value in params))
    try:
        return translated % shown
    except (KeyError, ValueError, TypeError):  # a broken translation: fall back on the original
        try:
            return msgid % shown
        except (KeyError, ValueError, TypeError):
            return msgid


class Text(str):
    """A message shown in the active language whenever it is turned into a string (see the module)."""

    msgid: str
    params: dict[str, Any] | tuple[Any, ...] | None
    parts: tuple[Any, ...] | None
    separator: str
    lowercase: bool

    def __new__(cls, msgid: str, params: dict[str, Any] | tuple[Any, ...] | None = None, *,
                lowercase: bool = False) -> Text:
        rendered = _render(msgid, params)
        obj = super().__new__(cls, rendered.lower() if lowercase else rendered)
        obj.msgid, obj.params, obj.parts, obj.separator, obj.lowercase = msgid, params, None, "", lowercase
        return obj

    @classmethod
    def joined(cls, separator: str, parts: Iterable[Any]) -> Text:
        """Return the parts (texts or plain strings) joined, each shown in the active language."""
        kept = tuple(part for part in parts if part is not None and str(part) != "")
        obj = super().__new__(cls, separator.join(str(part) for part in kept))
        obj.msgid, obj.params, obj.parts, obj.separator, obj.lowercase = "", None, kept, separator, False
        return obj

    def __str__(self) -> str:
        if self.parts is not None:
            return self.separator.join(str(part) for part in self.parts)
        rendered = _render(self.msgid, self.params)
        return rendered.lower() if self.lowercase else rendered

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __mod__(self, params: Any) -> Any:
        if self.parts is None and self.params is None and not self.lowercase:
            return Text(self.msgid, params if isinstance(params, (dict, tuple)) else (params,))
        return str(self) % params

    def __reduce__(self) -> Any:
        return (load, (dump(self),))

    def __repr__(self) -> str:
        return f"Text({str.__str__(self)!r})"

    def __add__(self, other: Any) -> Any:
        if isinstance(other, str):
            return Text.joined("", (self, other))
        return NotImplemented

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, str):
            return Text.joined("", (other, self))
        return NotImplemented


def gettext(message: str) -> Text:
    """Mark ``message`` for translation, to be translated whenever it is shown (use as ``_``)."""
    return Text(message)


def label(value: Any, *, lowercase: bool = False) -> Any:
    """Return a ``gettext_lazy`` label (a choice's, a field's) as a text, lower-cased if asked ("issued")."""
    if isinstance(value, Text):
        return Text(value.msgid, value.params, lowercase=lowercase) if value.parts is None else value
    msgid = _lazy_msgid(value) if isinstance(value, Promise) else None
    if msgid is None:
        return str(value).lower() if lowercase else str(value)
    return Text(msgid, lowercase=lowercase)


def concat(*parts: Any, separator: str = " ") -> Text:
    """Join texts (and plain strings) with ``separator``, leaving out empty ones: "text. other text"."""
    return Text.joined(separator, parts)


def join(separator: str, parts: Iterable[Any]) -> Text:
    """``separator.join(parts)`` for texts."""
    return Text.joined(separator, parts)


def clip(value: Any, length: int) -> Any:
    """Return ``value`` cut to ``length`` characters; a text that fits is kept a text."""
    if isinstance(value, Text) and len(value) <= length:
        return value
    return str.__str__(value)[:length] if isinstance(value, str) else str(value)[:length]


# --- JSON form -------------------------------------------------------------------------------

def _dump_value(value: Any) -> Any:
    if isinstance(value, Text):
        return dump(value)
    if isinstance(value, Promise):
        msgid = _lazy_msgid(value)
        return {"msgid": msgid} if msgid is not None else str(value)
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _load_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "date" in value:
            return dt.date.fromisoformat(value["date"])
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
        return load(value)
    return value


def dump(value: Any) -> Any:
    """Return ``value`` for JSON: a text as {"msgid", "params"} (or {"concat", "sep"}), anything else as a string."""
    if isinstance(value, Text):
        if value.parts is not None:
            return {"concat": [dump(part) for part in value.parts], "sep": value.separator}
        data: dict[str, Any] = {"msgid": value.msgid}
        if value.lowercase:
            data["lower"] = True
        if isinstance(value.params, dict):
            data["params"] = {key: _dump_value(item) for key, item in value.params.items()}
        elif value.params is not None:
            data["args"] = [_dump_value(item) for item in value.params]
        return data
    if isinstance(value, Promise):
        return _dump_value(value)
    return "" if value is None else str(value)


def load(value: Any) -> Any:
    """Return what :func:`dump` wrote as a :class:`Text`; a plain string (or anything else) is returned as it is."""
    if isinstance(value, dict):
        if "concat" in value:
            return Text.joined(str(value.get("sep", " ")), [load(part) for part in value["concat"]])
        if isinstance(value.get("msgid"), str):
            lowercase = bool(value.get("lower"))
            if isinstance(value.get("params"), dict):
                return Text(value["msgid"], {key: _load_value(item) for key, item in value["params"].items()},
                            lowercase=lowercase)
            if isinstance(value.get("args"), list):
                return Text(value["msgid"], tuple(_load_value(item) for item in value["args"]), lowercase=lowercase)
            return Text(value["msgid"], lowercase=lowercase)
    return value


def encode(value: Any) -> str:
    """Return the stored form of a message: JSON for a text, the string itself otherwise."""
    if isinstance(value, (Text, Promise)):
        data = dump(value)
        if isinstance(data, dict):
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        value = data
    text = "" if value is None else str(value)
    if text.startswith((_MARK, _CONCAT)):  # plain text that would read as a stored text: keep it verbatim
        return json.dumps({"concat": [text], "sep": ""}, ensure_ascii=False, separators=(",", ":"))
    return text


def decode(value: Any) -> Any:
    """Return a stored message: a :class:`Text` when it was stored as one, else the stored string as it is."""
    if isinstance(value, str) and not isinstance(value, Text) and value.startswith((_MARK, _CONCAT)):
        try:
            data = json.loads(value)
        except ValueError:
            return value
        return load(data)
    return value


class MessageField(models.TextField):
    """A text column holding our own message: a :class:`Text` is stored as JSON and read back as one.

    The column is a plain ``TextField`` (migrations see one: nothing changes in the database).
    """

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decode(value)

    def to_python(self, value: Any) -> Any:
        return decode(super().to_python(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encode(value)

    def value_to_string(self, obj: models.Model) -> str:
        return encode(self.value_from_object(obj))
