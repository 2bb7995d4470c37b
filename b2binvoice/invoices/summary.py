"""The list of every error of the invoice form, shown at its top, each linking to its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class FormError:
    """One error: where it is (an element id, or "" when the whole form), what it is about, the message."""

    anchor: str
    label: str
    message: str


def _form_errors(form: Any, prefix: str = "") -> list[FormError]:
    found = [FormError("", prefix.rstrip(" ·"), str(message)) for message in form.non_field_errors()]
    first = next(iter(form.visible_fields()), None)
    for field in form:
        for message in field.errors:
            anchor = first.auto_id if field.is_hidden and first is not None else field.auto_id
            found.append(FormError(anchor, f"{prefix}{capfirst(field.label or field.name)}", str(message)))
    return found


def error_summary(form: Any, lines: Any, adjustments: Any) -> list[FormError]:
    """Return every error of the invoice form and its formsets, in the order the page shows them."""
    found = _form_errors(form)
    found += [FormError("lines-table", _("Lines"), str(m)) for m in lines.non_form_errors()]
    for number, row in enumerate(lines.forms, start=1):
        found += _form_errors(row, _("Line %(number)s") % {"number": number} + " · ")
    found += [FormError("adjustments-table", _("Discounts and charges"), str(m)) for m in adjustments.non_form_errors()]
    for number, row in enumerate(adjustments.forms, start=1):
        found += _form_errors(row, _("Discount or charge %(number)s") % {"number": number} + " · ")
    return found
