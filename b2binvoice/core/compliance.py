"""Spain's declaración responsable of this invoicing software (RD 1007/2023 art. 13, Orden HAC/1177/2024 art. 15).

The page is public: the regulation wants the declaration visible in the software and available to
whoever acquires it, before logging in included; it holds no company data. The producer is whoever
deploys or distributes this copy, so its name, NIF, address, place and date come from settings
(``B2BINVOICE_PRODUCER_*``), shown as marked placeholders until set.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

SOFTWARE_NAME = "b2binvoice"


def software_version() -> str:
    """Return the version of the installed package (its metadata), or "unknown"."""
    try:
        return metadata.version(SOFTWARE_NAME)
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class Detail:
    """One identifying detail of the declaration; ``setting`` names what to set when it is missing."""

    label: str
    value: str
    setting: str = ""

    @property
    def missing(self) -> bool:
        return not self.value


def details() -> list[Detail]:
    """Return the declaration's identifying details, in the order the Orden lists them."""
    return [
        Detail(_("Name of the invoicing software"), SOFTWARE_NAME),
        Detail(_("Identifier of the software (IdSistemaInformatico)"), settings.SOFTWARE_SYSTEM_ID,
               "B2BINVOICE_SYSTEM_ID"),
        Detail(_("Version"), software_version()),
        Detail(_("Producer (company name)"), settings.SOFTWARE_PRODUCER_NAME, "B2BINVOICE_PRODUCER_NAME"),
        Detail(_("Producer's NIF"), settings.SOFTWARE_PRODUCER_NIF, "B2BINVOICE_PRODUCER_NIF"),
        Detail(_("Producer's postal address"), settings.SOFTWARE_PRODUCER_ADDRESS, "B2BINVOICE_PRODUCER_ADDRESS"),
        Detail(_("Place of signature"), settings.SOFTWARE_DECLARATION_PLACE, "B2BINVOICE_DECLARATION_PLACE"),
        Detail(_("Date of signature"), settings.SOFTWARE_DECLARATION_DATE, "B2BINVOICE_DECLARATION_DATE"),
    ]


@require_GET
def declaration(request: HttpRequest) -> HttpResponse:
    """Show the declaración responsable of this version of the software."""
    rows = details()
    return render(request, "core/compliance.html", {
        "details": rows, "incomplete": [row for row in rows if row.missing], "version": software_version(),
        "software_name": SOFTWARE_NAME})
