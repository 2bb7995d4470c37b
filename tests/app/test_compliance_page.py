"""The declaración responsable: public, with the software's identity, its version and the producer's details."""

from __future__ import annotations

import html
from importlib import metadata

import pytest
from django.test import Client as HttpClient

from tests.app.test_einvoicing_support import company, user, web  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def page(http: HttpClient) -> str:
    response = http.get("/about/compliance/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_anyone_reads_the_declaration_with_the_installed_version(client):
    text = page(client)
    version = metadata.version("b2binvoice")
    assert f"invoicing software b2binvoice, version {version}" in text
    assert "Real Decreto 1007/2023, art. 13; Orden HAC/1177/2024, art. 15" in text
    assert "Works exclusively as a VERI*FACTU system" in text
    assert "an issued invoice cannot be edited or deleted" in text
    assert "complies with article 29.2.j) of Ley 58/2003 General Tributaria" in text


def test_unset_producer_details_are_marked_and_named(client, settings):
    settings.SOFTWARE_PRODUCER_NAME = ""
    settings.SOFTWARE_PRODUCER_NIF = ""
    text = page(client)
    assert "This declaration is not complete" in text
    assert "[not set: B2BINVOICE_PRODUCER_NAME]" in text and "[not set: B2BINVOICE_PRODUCER_NIF]" in text


def test_the_producer_set_in_settings_is_declared(client, settings):
    settings.SOFTWARE_PRODUCER_NAME = "Programari Lliure S.L."
    settings.SOFTWARE_PRODUCER_NIF = "B12345674"
    settings.SOFTWARE_PRODUCER_ADDRESS = "Carrer Major 1, 08001 Barcelona"
    settings.SOFTWARE_SYSTEM_ID = "BI"
    settings.SOFTWARE_DECLARATION_PLACE = "Barcelona"
    settings.SOFTWARE_DECLARATION_DATE = "2026-12-01"
    text = page(client)
    assert "This declaration is not complete" not in text and "not set:" not in text
    for value in ("Programari Lliure S.L.", "B12345674", "Carrer Major 1, 08001 Barcelona", "2026-12-01"):
        assert value in text


def test_every_page_links_to_it(web):
    assert 'href="/about/compliance/"' in web.get("/invoices/").content.decode()
    assert 'href="/about/compliance/"' in HttpClient().get("/login/").content.decode()
