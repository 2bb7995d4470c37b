"""Verifactu / TicketBAI on the integration page: status read from B2Brouter, switched on after confirming."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from b2binvoice.einvoicing.models import B2BrouterIntegration
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    Sim,
    _b2brouter_settings,
    account,
    company,
    integration,
    sim,
    user,
    web,
)

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/settings/integrations/b2brouter/"
PANEL_URL = SETTINGS_URL + "tax-reporting/"
ENABLE_URL = PANEL_URL + "enable/"


def remote_settings(sim: Sim, account: tuple[dict[str, Any], str]) -> list[dict[str, Any]]:
    data, key = account
    return sim.api("GET", f"/accounts/{data['id']}/tax_report_settings", key)["tax_report_settings"]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_settings_page_loads_the_panel_lazily(web: HttpClient, integration: B2BrouterIntegration) -> None:
    page = web.get(SETTINGS_URL).content.decode()
    assert f'hx-get="{PANEL_URL}"' in page
    assert 'hx-trigger="load"' in page


def test_panel_says_off_and_offers_to_switch_on(web: HttpClient, integration: B2BrouterIntegration) -> None:
    response = web.get(PANEL_URL, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-status="off"' in html
    assert "Verifactu is not on for this B2Brouter account." in text_of(html)
    assert f'href="{ENABLE_URL}"' in html
    assert "<html" not in html  # a fragment for htmx
    assert "<html" in web.get(PANEL_URL).content.decode()  # a page when opened directly


def test_confirmation_explains_and_nothing_changes_without_the_tick(
    web: HttpClient, integration: B2BrouterIntegration, sim: Sim, account: Any
) -> None:
    page = text_of(web.get(ENABLE_URL).content.decode())
    assert "every invoice dated from the chosen day on" in page
    assert "stays on for the rest of the calendar year" in page

    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = web.post(ENABLE_URL, {"system": "verifactu", "start_date": day})
    assert response.status_code == 422
    assert "Tick the confirmation to switch it on." in response.content.decode()
    assert f'value="{day}"' in response.content.decode()  # what the user typed is kept
    assert remote_settings(sim, account) == []


def test_switching_verifactu_on(web: HttpClient, integration: B2BrouterIntegration, sim: Sim, account: Any) -> None:
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = web.post(ENABLE_URL, {"system": "verifactu", "start_date": day, "confirm": "on"})
    assert response.status_code == 302
    assert response["Location"].endswith(SETTINGS_URL + "#tax-reporting")

    [setting] = remote_settings(sim, account)
    assert (setting["code"], setting["start_date"], setting["auto_send"]) == ("verifactu", day, True)
    flash = text_of(web.get(SETTINGS_URL).content.decode())
    assert f"B2Brouter registers every invoice you send from {day}" in flash

    panel = web.get(PANEL_URL, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="on"' in panel
    assert f"is on from {day}." in text_of(panel)
    assert f'href="{ENABLE_URL}"' not in panel  # offered no more once on


def test_ticketbai_needs_its_treasury(web: HttpClient, integration: B2BrouterIntegration, sim: Sim, account: Any) -> None:
    today = timezone.localdate().isoformat()
    missing = web.post(ENABLE_URL, {"system": "tbai", "start_date": today, "confirm": "on"})
    assert missing.status_code == 422
    assert "Choose the provincial treasury" in missing.content.decode()

    done = web.post(ENABLE_URL, {"system": "tbai", "delegation": "bizkaia", "start_date": today, "confirm": "on"})
    assert done.status_code == 302
    assert remote_settings(sim, account)[0]["delegation"] == "bizkaia"
    panel = text_of(web.get(PANEL_URL, HTTP_HX_REQUEST="true").content.decode())
    assert f"TicketBAI (Basque Country) is on since {today}." in panel
    assert "Provincial treasury: Bizkaia." in panel


def test_a_day_in_the_past_is_refused(web: HttpClient, integration: B2BrouterIntegration, sim: Sim, account: Any) -> None:
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = web.post(ENABLE_URL, {"system": "verifactu", "start_date": yesterday, "confirm": "on"})
    assert response.status_code == 422
    assert "Choose today or a later day" in response.content.decode()
    assert remote_settings(sim, account) == []


def test_b2brouter_refusal_is_shown_with_its_words(
    web: HttpClient, integration: B2BrouterIntegration, sim: Sim, account: Any
) -> None:
    data, key = account
    sim.api("POST", f"/accounts/{data['id']}/tax_report_settings", key,
            {"tax_report_setting": {"code": "tbai", "delegation": "araba"}})
    response = web.post(ENABLE_URL, {"system": "verifactu", "start_date": timezone.localdate().isoformat(),
                                     "confirm": "on"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "B2Brouter did not switch Verifactu (AEAT) on." in html
    assert "another tax authority" in html
    assert 'name="confirm"' in html and "checked" in html


def test_unreachable_b2brouter_is_said_on_the_panel(
    web: HttpClient, integration: B2BrouterIntegration, sim: Sim, account: Any
) -> None:
    data, key = account
    sim.set_faults(data["id"], key, error_rate=1)
    html = web.get(PANEL_URL, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="unknown"' in html
    assert "Could not read whether Verifactu or TicketBAI is on" in html


def test_without_credentials_the_form_is_not_offered(web: HttpClient, company: Any) -> None:
    response = web.get(ENABLE_URL)
    assert response.status_code == 302 and response["Location"].endswith(SETTINGS_URL)


CODES_URL = PANEL_URL + "verifactu/codes/"


def switched_on(sim: Sim, account: Any) -> None:
    data, key = account
    sim.api("POST", f"/accounts/{data['id']}/tax_report_settings", key,
            {"tax_report_setting": {"code": "verifactu", "start_date": "2027-01-01", "reason_vat_exempt": "E1"}})


def test_the_default_codes_are_shown_and_changed_from_the_official_lists(
    web: HttpClient, integration: B2BrouterIntegration, sim: Sim, account: Any
) -> None:
    switched_on(sim, account)
    panel = web.get(PANEL_URL, HTTP_HX_REQUEST="true").content.decode()
    assert f'href="{CODES_URL}"' in panel
    assert 'data-code-field="reason_vat_exempt">E1 – Exempt under art. 20 LIVA' in panel
    assert "none (B2Brouter&#x27;s own default)" in panel or "none (B2Brouter's own default)" in panel

    form = web.get(CODES_URL).content.decode()
    assert '<option value="E1" selected>' in form and '<option value="20">20 – Simplified regime</option>' in form

    wrong = web.post(CODES_URL, {"special_regime_key": "12", "reason_no_subject": "N3", "credit_note_code": "R9"})
    assert wrong.status_code == 422
    page = text_of(wrong.content.decode())
    for code in ("12", "N3", "R9"):
        assert f"{code} is not one of the tax agency's codes for this field" in page.replace("&#x27;", "'")
    assert remote_setting_codes(sim, account) == ("01", "E1", "", "R1")  # B2Brouter's defaults: nothing saved

    done = web.post(CODES_URL, {"special_regime_key": "18", "reason_vat_exempt": "E5", "reason_no_subject": "N2",
                                "credit_note_code": "R4"})
    assert done.status_code == 302 and done["Location"].endswith(SETTINGS_URL + "#tax-reporting")
    assert remote_setting_codes(sim, account) == ("18", "E5", "N2", "R4")
    flash = text_of(web.get(SETTINGS_URL).content.decode())
    assert "The default codes of Verifactu (AEAT) are saved in B2Brouter" in flash
    panel = text_of(web.get(PANEL_URL, HTTP_HX_REQUEST="true").content.decode())
    assert "18 – Equivalence surcharge" in panel and "N2 – Not subject in Spain" in panel

    history = text_of(web.get("/settings/history/").content.decode())
    assert "Verifactu / TicketBAI" in history
    assert "Default exemption code" in history and "E1 – Exempt under art. 20 LIVA" in history
    assert "E5 – Exempt under art. 25 LIVA" in history and "18 – Equivalence surcharge" in history

    again = web.post(CODES_URL, {"special_regime_key": "18", "reason_vat_exempt": "E5", "reason_no_subject": "N2",
                                 "credit_note_code": "R4"})
    assert again.status_code == 302
    assert "Nothing changed" in text_of(web.get(SETTINGS_URL).content.decode())


def remote_setting_codes(sim: Sim, account: Any) -> tuple[str, ...]:
    [setting] = remote_settings(sim, account)
    return tuple(setting.get(name) or "" for name in
                 ("special_regime_key", "reason_vat_exempt", "reason_no_subject", "credit_note_code"))


def test_the_codes_page_of_a_system_that_is_not_on_is_not_found(
    web: HttpClient, integration: B2BrouterIntegration, sim: Sim, account: Any
) -> None:
    assert web.get(CODES_URL).status_code == 404
    assert web.post(CODES_URL, {"special_regime_key": "01"}).status_code == 404


def test_b2brouter_refusing_the_codes_is_shown_and_nothing_is_recorded(
    web: HttpClient, integration: B2BrouterIntegration, sim: Sim, account: Any
) -> None:
    from b2binvoice.companies.models import SettingsChange

    switched_on(sim, account)
    data, key = account
    sim.api("DELETE", f"/accounts/{data['id']}/tax_report_settings/verifactu", key)
    # Read as on, then gone in B2Brouter before the save: its 404 is said, and the history stays empty.
    from unittest import mock

    from b2binvoice.einvoicing import verifactu
    from b2binvoice.einvoicing.verifactu import TaxReporting

    on = [TaxReporting(code="verifactu", start_date=None, delegation="", auto_send=True, codes={})]
    with mock.patch.object(verifactu, "status", return_value=(on, None)):
        response = web.post(CODES_URL, {"special_regime_key": "02"})
    assert response.status_code == 422
    assert "B2Brouter did not change the default codes of Verifactu (AEAT)." in text_of(response.content.decode())
    assert not SettingsChange.objects.filter(area="tax_reporting").exists()


@pytest.mark.parametrize(("language", "label", "issuer"), [("es", "Desde", "Emisor"), ("ca", "Des de", "Emissor")])
def test_the_start_date_reads_from_a_day_not_the_invoices_issuer(
    web: HttpClient, integration: B2BrouterIntegration, settings: Any, language: str, label: str, issuer: str
) -> None:
    web.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = web.get(ENABLE_URL).content.decode()
    found = re.search(r'<label for="id_start_date"[^>]*>([^<]*)</label>', page)
    assert found, page
    assert found[1].strip().rstrip(":") == label
    assert f">{issuer}<" not in page
