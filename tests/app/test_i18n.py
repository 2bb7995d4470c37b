"""Spanish and Catalan: complete catalogues, the language a visitor gets, the switcher and the preference."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils.html import escape

from b2binvoice.core.models import UserPreference
from b2binvoice.einvoicing.models import InvoiceEvent
from b2binvoice.invoices.models import InvoiceTax
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
    company,
    confirmed,
    contact_for,
    customer,
    integration,
    make_invoice,
    section,
    sim,
    user,
    vat,
    web,
)

REPO = Path(__file__).resolve().parents[2]
COOKIE = settings.LANGUAGE_COOKIE_NAME
PLACEHOLDER = re.compile(r"%\([A-Za-z_]+\)[sd]|%%|%[sd]")


def _text(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext's xgettext is not installed")
def test_every_user_facing_string_has_a_spanish_and_a_catalan_translation(tmp_path, monkeypatch):
    """Extract the strings of today's code (as `makemessages` does) into a copy of the catalogues.

    A string added without es/ca entries comes out untranslated; one whose English changed comes
    out fuzzy. Either fails here, with the list of what to translate (README, "Languages").
    """
    copy = tmp_path / "b2binvoice"
    shutil.copytree(REPO / "b2binvoice", copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=["es", "ca"], verbosity=0, no_obsolete=True)
    problems: list[str] = []
    for language in ("es", "ca"):
        with (copy / "locale" / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
            catalog = read_po(handle)
        assert len(catalog) > 900, "the extraction found too few strings: did it scan the app?"
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
            if message.fuzzy or not all(strings):
                state = "fuzzy (the English changed)" if message.fuzzy else "untranslated"
                problems.append(f"[{language}] {state}: {_text(message.id)!r} ({where})")
                continue
            originals = message.id if isinstance(message.id, tuple) else (message.id,)
            wanted = sorted(PLACEHOLDER.findall(originals[-1]))
            for translated in strings[1:] if len(strings) > 1 else strings:
                if sorted(PLACEHOLDER.findall(translated)) != wanted:
                    problems.append(f"[{language}] placeholders differ: {_text(message.id)!r} -> {translated!r}")
    assert not problems, f"{len(problems)} strings need a translation:\n" + "\n".join(problems)


def test_the_catalogues_are_compiled(settings):
    for language in ("es", "ca"):
        assert (Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.mo").exists()


# ---------------------------------------------------------------------------------------------
# The language a visitor gets


@pytest.mark.django_db
@pytest.mark.parametrize(("accept", "heading"), [
    ("es-ES,es;q=0.9,en;q=0.5", "Iniciar sesión"),
    ("ca", "Inicia la sessió"),
    ("en-GB,en;q=0.8", "Log in"),
    ("de-DE", "Log in"),  # a language the app does not speak: English
])
def test_the_browsers_language_chooses_the_pages_language(accept, heading):
    response = HttpClient().get("/login/", HTTP_ACCEPT_LANGUAGE=accept)
    page = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in page
    assert response["Content-Language"] == {"Iniciar sesión": "es", "Inicia la sessió": "ca"}.get(heading, "en")


@pytest.fixture
def member(db):
    from b2binvoice.companies.models import Company, Membership

    company = Company.objects.create(name="Traducciones Ejemplo S.L.", tin="ESB12345674", country="ES")
    person = get_user_model().objects.create_user("maria", password="pw-maria-12345")
    Membership.objects.create(user=person, company=company, role="owner")
    return person


def _log_in(browser: HttpClient, **headers: str):
    response = browser.post("/login/", {"username": "maria", "password": "pw-maria-12345"}, **headers)
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def test_a_logged_in_page_is_in_spanish_for_a_spanish_browser(member):
    browser = HttpClient(HTTP_ACCEPT_LANGUAGE="es")
    _log_in(browser)
    page = browser.get("/invoices/").content.decode()
    assert '<html lang="es">' in page
    for spanish in ("Facturas", "Clientes", "Nueva factura", "Cerrar sesión", "Aún no hay facturas."):
        assert spanish in page
    assert "New invoice" not in page and "Log out" not in page


def test_the_switcher_changes_the_language_of_an_anonymous_visitor(db):
    browser = HttpClient(HTTP_ACCEPT_LANGUAGE="en")
    page = browser.get("/login/").content.decode()
    assert 'action="/language/"' in page and 'value="ca"' in page  # the switcher is in the header
    response = browser.post("/language/", {"language": "ca", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert response.cookies[COOKIE].value == "ca"
    assert "<h1>Inicia la sessió</h1>" in browser.get("/login/").content.decode()


def test_the_switcher_saves_a_logged_in_users_preference(member):
    browser = HttpClient(HTTP_ACCEPT_LANGUAGE="en")
    _log_in(browser)
    assert "New invoice" in browser.get("/invoices/").content.decode()
    response = browser.post("/language/", {"language": "es", "next": "/invoices/?q=x"})
    assert response.status_code == 302 and response["Location"] == "/invoices/?q=x"
    assert UserPreference.objects.get(user=member).language == "es"
    assert "Nueva factura" in browser.get("/invoices/").content.decode()

    # Another browser (no cookie, an English Accept-Language): the saved preference wins once logged in.
    elsewhere = HttpClient(HTTP_ACCEPT_LANGUAGE="en")
    assert "<h1>Log in</h1>" in elsewhere.get("/login/").content.decode()
    login = _log_in(elsewhere)
    assert login.cookies[COOKIE].value == "es"  # the login page keeps speaking it after a logout
    assert "Nueva factura" in elsewhere.get("/invoices/").content.decode()


def test_a_saved_preference_wins_over_the_browsers_language_and_cookie(member):
    UserPreference.objects.create(user=member, language="ca")
    browser = HttpClient(HTTP_ACCEPT_LANGUAGE="es")
    browser.cookies[COOKIE] = "en"
    _log_in(browser)
    page = browser.get("/invoices/").content.decode()
    assert '<html lang="ca">' in page and "Factura nova" in page


def test_the_account_page_chooses_the_language_or_the_browsers(member):
    browser = HttpClient(HTTP_ACCEPT_LANGUAGE="es")
    _log_in(browser)
    page = browser.get("/account/").content.decode()
    assert "El idioma del navegador" in page and "Guardar idioma" in page
    response = browser.post("/language/", {"language": "ca", "next": "/account/", "from": "account"}, follow=True)
    assert UserPreference.objects.get(user=member).language == "ca"
    assert "Idioma desat." in response.content.decode()
    assert '<option value="ca" selected>' in response.content.decode()

    # Back to the browser's language: the preference is emptied and the cookie forgotten.
    response = browser.post("/language/", {"language": "", "next": "/account/", "from": "account"})
    assert UserPreference.objects.get(user=member).language == ""
    assert response.cookies[COOKIE].value == ""
    assert "<h1>Tu cuenta</h1>" in browser.get("/account/").content.decode()


def test_a_language_the_app_does_not_offer_is_refused(member):
    browser = HttpClient(HTTP_ACCEPT_LANGUAGE="en")
    _log_in(browser)
    response = browser.post("/language/", {"language": "xx", "next": "/invoices/"}, follow=True)
    assert "Choose one of the languages offered." in response.content.decode()
    assert not UserPreference.objects.filter(user=member, language="xx").exists()
    # An anonymous visitor cannot pick "the browser's language" through the header (there is no such entry).
    response = HttpClient().post("/language/", {"language": "", "next": "/login/"})
    assert COOKIE not in response.cookies


def test_the_switcher_redirects_only_to_this_site(db):
    response = HttpClient().post("/language/", {"language": "es", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_switcher_needs_the_csrf_token(db):
    browser = HttpClient(enforce_csrf_checks=True)
    assert browser.post("/language/", {"language": "es"}).status_code == 403


# ---------------------------------------------------------------------------------------------
# B2Brouter's own words stay as B2Brouter wrote them


@pytest.mark.django_db
def test_b2brouter_messages_are_shown_as_b2brouter_wrote_them(web, user, company, account, integration, customer,
                                                              vat, sim):
    web.post("/language/", {"language": "es", "next": "/"})
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat])
    InvoiceTax.objects.filter(invoice=invoice).update(category="ZZ")  # B2Brouter refuses the category
    confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/")
    event = InvoiceEvent.objects.get(invoice=invoice, type="create_failed")
    assert event.remote_message and re.search(r"[A-Za-z]{4}", event.remote_message)
    page = section(web, invoice)
    assert "B2Brouter no ha creado la factura." in page  # our words, in Spanish
    assert escape(event.remote_message) in page  # B2Brouter's, untouched


#: Imperatives that address the user formally (usted in Spanish; vostè or vosaltres in Catalan). The
#: catalogues address the user informally (tú): "Introduce", "Elige", "Corrige", "Introdueix", "Tria".
FORMAL = {
    "es": re.compile(r"\b(introduzca|elija|compruebe|revise|pulse|indique|inténtelo|escriba|abra|cambie|espere|"
                     r"pruebe|guarde|envíe|utilice|seleccione|marque|consulte|usted|ustedes|emítala|cámbielo|"
                     r"cámbiela|actualícela|actualícelo|elimínela|elimínelo|añádala|añádalo|desactívelo|"
                     r"actívelo)\b", re.IGNORECASE),
    "ca": re.compile(r"\b(introduïu|trieu|corregiu|comproveu|reviseu|premeu|indiqueu|escriviu|obriu|canvieu|"
                     r"espereu|proveu|deseu|envieu|utilitzeu|seleccioneu|marqueu|consulteu|torneu|emeteu|"
                     r"actualitzeu|restaureu|registreu|elimineu|afegiu|"
                     r"vostè|vostès)\b", re.IGNORECASE),
}
#: Texts printed on the invoice for its recipient (the client), who is addressed formally.
TO_THE_CLIENT = {"Please pay %(amount)s by %(date)s."}


@pytest.mark.parametrize("language", ["es", "ca"])
def test_the_catalogue_addresses_the_user_one_way_only(language):
    with (REPO / "b2binvoice" / "locale" / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        catalog = read_po(handle)
    formal = []
    for message in catalog:
        if not message.id or _text(message.id) in TO_THE_CLIENT:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        formal += [f"{_text(message.id)!r} -> {text!r}" for text in strings if text and FORMAL[language].search(text)]
    assert not formal, "formal address among informal ones:\n" + "\n".join(formal)


@pytest.mark.parametrize(("language", "draft", "zero"), [
    ("es", "INV-0001 es un borrador: emítela antes de registrar un pago.", "Introduce un importe mayor que cero."),
    ("ca", "INV-0001 és un esborrany: emet-la abans de registrar un pagament.", "Introdueix un import més gran que zero."),
])
def test_the_payments_section_speaks_to_the_user_informally(web, company, customer, vat, language, draft, zero):
    from b2binvoice.invoices.models import Invoice

    web.cookies[COOKIE] = language
    invoice = make_invoice(company, customer, taxes=[vat])
    assert escape(draft) in web.get(f"/invoices/{invoice.pk}/").content.decode()
    Invoice.objects.filter(pk=invoice.pk).update(status="issued")
    page = web.post(f"/invoices/{invoice.pk}/payments/", {"date": "2026-11-20", "amount": "0"}).content.decode()
    assert escape(zero) in page
