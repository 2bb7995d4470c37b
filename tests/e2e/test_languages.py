"""Spanish and Catalan in a browser: the browser's language, the header's switcher, the account page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from b2binvoice.core.demo import seed_demo
from b2binvoice.core.models import UserPreference

expect.set_options(timeout=10_000)


@pytest.fixture
def seeded(transactional_db: None, live_server: Any) -> str:
    seed_demo()
    return live_server.url


def test_a_spanish_browser_gets_spanish_and_the_switcher_saves_catalan(browser: Browser, seeded: str) -> None:
    context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(seeded + "/login/")
    expect(page.locator("h1")).to_have_text("Iniciar sesión")
    page.get_by_label("Nombre de usuario").fill("demo")
    page.get_by_label("Contraseña").fill("demo")
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.locator("h1")).to_have_text("Facturas")
    expect(page.get_by_role("link", name="Nueva factura")).to_be_visible()

    # The header's switcher submits on change (static JS, no inline script) and stays on the page.
    # Its script is deferred: wait for the page's load event so the listener is there to hear it.
    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.locator("#switch-language").select_option("ca")
    expect(page.locator("h1")).to_have_text("Factures")
    assert page.url.endswith("/invoices/")
    assert UserPreference.objects.get(user__username="demo").language == "ca"

    # A new client: countries and languages from lists, named in Catalan.
    page.goto(seeded + "/clients/new/")
    expect(page.locator("#id_country option:checked")).to_have_text("Espanya")
    page.locator("#id_language").select_option(label="Alemany")
    page.get_by_label("Nom", exact=True).fill("Übersetzungen Nord")
    page.locator("#id_country").select_option(label="Alemanya")
    page.get_by_role("button", name="Desa").click()
    expect(page.locator(".facts")).to_contain_text("Alemanya")
    expect(page.locator(".facts")).to_contain_text("Alemany")

    # Another browser, English this time: the saved preference wins once logged in.
    elsewhere = browser.new_context(locale="en-GB").new_page()
    elsewhere.goto(seeded + "/login/")
    expect(elsewhere.locator("h1")).to_have_text("Log in")
    elsewhere.get_by_label("Username").fill("demo")
    elsewhere.get_by_label("Password").fill("demo")
    elsewhere.get_by_role("button", name="Log in").click()
    expect(elsewhere.locator("h1")).to_have_text("Factures")
    context.close()
