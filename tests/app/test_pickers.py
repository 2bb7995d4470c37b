"""Countries, languages and currencies are picked from ISO lists named in the user's language."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from b2binvoice.clients.models import Client
from b2binvoice.invoices.models import Invoice

pytestmark = pytest.mark.django_db


def options(html: str, name: str) -> list[tuple[str, str, bool]]:
    """The (value, label, selected) options of the select named ``name``."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select named {name}"
    return [(value, label.strip(), bool(selected)) for value, selected, label in
            re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))]


def selected(html: str, name: str) -> tuple[str, str]:
    chosen = [(value, label) for value, label, is_selected in options(html, name) if is_selected]
    assert len(chosen) == 1, chosen
    return chosen[0]


@pytest.fixture
def spanish_web(demo_web) -> HttpClient:
    demo_web.post("/language/", {"language": "es", "next": "/"})
    return demo_web


def test_the_client_form_offers_countries_and_languages_named_in_spanish(spanish_web):
    html = spanish_web.get("/clients/new/").content.decode()
    countries = options(html, "country")
    assert len(countries) == 249  # ISO 3166-1: no EU, Canary Islands, Kosovo's user-assigned XK, ...
    labels = [label for _value, label, _selected in countries]
    assert ("DE", "Alemania", False) in countries and ("GB", "Reino Unido", False) in countries
    assert labels.index("Alemania") < labels.index("Bélgica") < labels.index("Francia") < labels.index("Islas Aland") < labels.index("Italia")
    assert selected(html, "country") == ("ES", "España")
    languages = options(html, "language")
    assert len(languages) == 183  # ISO 639-1
    assert ("de", "Alemán", False) in languages and ("ca", "Catalán", False) in languages
    assert selected(html, "language") == ("en", "Inglés")
    assert "Spani" not in html


def test_catalan_names_in_catalan(demo_web):
    demo_web.post("/language/", {"language": "ca", "next": "/"})
    html = demo_web.get("/clients/new/").content.decode()
    assert selected(html, "country") == ("ES", "Espanya")
    assert ("DE", "Alemanya", False) in options(html, "country")
    assert ("es", "Espanyol", False) in options(html, "language")


def test_a_language_that_is_not_an_iso_code_is_refused_with_a_clear_error(spanish_web, lingua):
    response = spanish_web.post("/clients/new/", {"name": "Agencia Nueva", "country": "ES", "language": "Spani"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "«Spani» no es un código de idioma ISO 639-1" in html
    assert 'value="Agencia Nueva"' in html
    assert not Client.objects.filter(company=lingua, name="Agencia Nueva").exists()
    response = spanish_web.post("/clients/new/", {"name": "Agencia Nueva", "country": "XX", "language": "es"})
    assert "«XX» no es un código de país ISO 3166" in response.content.decode()
    response = spanish_web.post("/clients/new/", {"name": "Agencia Nueva", "country": "pt", "language": "PT"})
    assert response.status_code == 302
    client = Client.objects.get(company=lingua, name="Agencia Nueva")
    assert (client.country, client.language) == ("PT", "pt")


def test_only_currencies_in_use_are_offered(demo_web, lingua):
    for page, name in (("/settings/company/", "default_currency"), ("/invoices/new/", "currency")):
        html = demo_web.get(page).content.decode()
        codes = [value for value, _label, _selected in options(html, name)]
        assert {"EUR", "USD", "GBP", "CHF", "JPY", "MXN"} <= set(codes)
        assert not {"ADP", "DEM", "ESP", "FRF", "XDR", "XAU"} & set(codes)
        assert 140 < len(codes) < 170 and codes == sorted(codes)
        assert ("EUR", "EUR – Euro", True) in options(html, name)
    # A dead currency is refused on a new invoice.
    response = demo_web.post("/settings/company/", {
        "name": lingua.name, "tin": lingua.tin, "country": "ES", "default_currency": "ESP",
        "invoice_prefix": lingua.invoice_prefix, "invoice_next_number": lingua.invoice_next_number,
        "invoice_number_digits": lingua.invoice_number_digits})
    assert response.status_code == 200
    assert "“ESP” is not a currency in use (ISO 4217)" in response.content.decode()


def test_a_stored_value_outside_the_lists_still_shows_and_saves(spanish_web, lingua):
    # Records from before the pickers: a free-text language and a peseta invoice.
    client = Client.objects.filter(company=lingua).first()
    Client.objects.filter(pk=client.pk).update(language="Spani")
    html = spanish_web.get(f"/clients/{client.pk}/edit/").content.decode()
    assert selected(html, "language") == ("Spani", "Spani")
    response = spanish_web.post(f"/clients/{client.pk}/edit/", {
        "name": client.name, "tin": client.tin, "country": client.country, "language": "Spani",
        "email": client.email or ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    client.refresh_from_db()
    assert client.language == "Spani"

    lingua.default_currency = "ESP"
    lingua.save(update_fields=["default_currency"])
    html = spanish_web.get("/settings/company/").content.decode()
    assert selected(html, "default_currency") == ("ESP", "ESP – Peseta española")
    invoice = Invoice.objects.filter(company=lingua, status="draft").first()
    Invoice.objects.filter(pk=invoice.pk).update(currency="DEM")
    html = spanish_web.get(f"/invoices/{invoice.pk}/edit/").content.decode()
    assert selected(html, "currency") == ("DEM", "DEM – Marco alemán")


def test_the_client_page_names_the_country_and_language(spanish_web, lingua):
    client = Client.objects.filter(company=lingua).first()
    Client.objects.filter(pk=client.pk).update(country="DE", language="de")
    html = spanish_web.get(f"/clients/{client.pk}/").content.decode()
    assert "<br>Alemania</dd>" in html and "<dd>Alemán</dd>" in html
