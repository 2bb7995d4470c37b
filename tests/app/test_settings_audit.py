"""Settings -> History: who changed which setting, old -> new, never a secret's value, only to the company's members."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient

from b2binvoice.companies.models import Company, Membership, SettingsChange, Tax
from b2binvoice.core.texts import load
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    _b2brouter_settings,
    account,
    company,
    integration,
    other_web,
    sim,
    user,
    web,
)

pytestmark = pytest.mark.django_db

HISTORY = "/settings/history/"
SETTINGS_URL = "/settings/integrations/b2brouter/"
A_SECRET = "whsec_pasted_" + "5e1d2c" * 6 + "Kp9Z"


def read(entry: SettingsChange) -> list[dict[str, str]]:
    """Return an entry's changes as read in the active language (labels are stored untranslated)."""
    return [{key: str(load(value)) for key, value in change.items()} for change in entry.changes]


def _tax_post(tax: Tax, **changes: str) -> dict:
    data = {"name": tax.name, "tax_type": tax.tax_type, "kind": tax.kind, "rate": str(tax.rate), "amount": "",
            "category": tax.category, "exemption_reason": tax.exemption_reason, "is_active": "on"}
    data.update(changes)
    return data


@pytest.fixture
def vat(company):
    return Tax.objects.create(company=company, name="IVA 21%", tax_type="IVA", rate=Decimal("21"), category="S")


def test_a_tax_change_is_recorded_with_old_and_new_values(web, user, company, vat):
    response = web.post(f"/settings/taxes/{vat.pk}/edit/", _tax_post(vat, rate="10", category="AA"))
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = SettingsChange.objects.get(company=company, area="tax")
    assert entry.user == user and entry.action == "changed" and entry.object_repr.startswith("IVA 21%")
    changes = {c["field"]: (c["old"], c["new"]) for c in read(entry)}
    assert Decimal(changes["rate (%)"][0]) == 21 and Decimal(changes["rate (%)"][1]) == 10
    assert "name" not in changes  # unchanged fields are not listed
    page = web.get(HISTORY).content.decode()
    assert "IVA 21%" in page and "member" in page and "→" in page


def test_saving_without_a_change_records_nothing(web, company, vat):
    assert web.post(f"/settings/taxes/{vat.pk}/edit/", _tax_post(vat)).status_code == 302
    assert not SettingsChange.objects.filter(company=company, area="tax").exists()


def test_payment_method_and_unit_changes_are_recorded(web, company):
    response = web.post("/settings/payment-methods/new/", {"name": "Cash", "type": "cash", "details": "",
                                                           "iban": "", "bic": "", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SettingsChange.objects.get(company=company, area="payment_method").action == "created"
    assert web.post("/settings/units/new/", {"label": "pages", "code": "1"}).status_code == 302
    assert SettingsChange.objects.filter(company=company, area="unit", action="created").exists()


def test_the_api_key_and_webhook_secret_are_recorded_only_as_changed(web, company, account, integration, sim):
    data, first_key = account
    created = SettingsChange.objects.get(company=company, area="integration")
    assert created.action == "created"
    assert any(c.get("change") == "set" and "key" in c["field"].lower() for c in read(created))
    other_data, new_key = sim.create_account(name="Lingua Test S.L.", tin_value="ESB12345674", country="es",
                                             rounding_method="half_up", round_before_sum=True,
                                             apply_taxes_per_line=False)
    response = web.post(SETTINGS_URL, {"enabled": "on", "environment": "simulator", "api_key": new_key,
                                       "account_id": str(other_data["id"]), "send_after_create": "on"})
    assert response.status_code == 302
    assert web.post(f"{SETTINGS_URL}webhook/secret/", {"signing_secret": A_SECRET}).status_code == 302
    entries = list(SettingsChange.objects.filter(company=company, area="integration"))
    assert len(entries) == 3
    stored = json.dumps([e.changes for e in entries]) + "".join(e.object_repr for e in entries)
    key_changes = [c for e in entries for c in read(e) if "key" in c["field"].lower()]
    assert {c.get("change") for c in key_changes} == {"set", "changed"}
    assert all("old" not in c and "new" not in c for c in key_changes)
    secret_changes = [c for e in entries for c in read(e) if "secret" in c["field"].lower()]
    assert [c["change"] for c in secret_changes] == ["set"]
    page = web.get(HISTORY).content.decode()
    for secret in (first_key, new_key, A_SECRET, first_key[-4:], new_key[-4:], A_SECRET[-4:]):
        assert secret not in stored
        assert secret not in page
    assert str(other_data["id"]) in page  # the account id is not a secret: old -> new is shown


def test_another_company_never_sees_the_history(web, other_web, company, vat):
    web.post(f"/settings/taxes/{vat.pk}/edit/", _tax_post(vat, rate="10"))
    assert SettingsChange.objects.filter(company=company).exists()
    page = other_web.get(HISTORY)
    assert page.status_code == 200
    assert "IVA 21%" not in page.content.decode()
    assert "Lingua Test" not in page.content.decode()


def test_history_needs_a_login(company):
    response = HttpClient().get(HISTORY)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_membership_changes_in_the_admin_are_recorded(company, user):
    admin = get_user_model().objects.create_superuser("root", password="pw-root-1")
    Membership.objects.create(user=admin, company=company, role="owner")
    browser = HttpClient()
    browser.force_login(admin)
    membership = Membership.objects.get(user=user, company=company)
    response = browser.post(f"/admin/companies/membership/{membership.pk}/change/",
                            {"user": str(user.pk), "company": str(company.pk), "role": "member"})
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = SettingsChange.objects.filter(company=company, area="membership", action="changed").get()
    assert entry.username == "root"
    assert read(entry) == [{"field": "role", "old": "Owner", "new": "Member"}]
    assert browser.post(f"/admin/companies/membership/{membership.pk}/delete/", {"post": "yes"}).status_code == 302
    assert SettingsChange.objects.filter(company=company, area="membership", action="deleted").exists()
    # The member sees it on the history page; deleting a whole company takes its history along.
    page = browser.get(HISTORY).content.decode()
    assert "Membership" in page and "Owner → Member" in page
    Company.objects.get(pk=company.pk).delete()
    assert not SettingsChange.objects.exists()


def test_history_is_newest_first_and_paginated(web, company, vat):
    for n in range(1, 56):
        assert web.post(f"/settings/taxes/{vat.pk}/edit/", _tax_post(vat, name=f"VAT n{n:02d}")).status_code == 302
        vat.refresh_from_db()
    first = web.get(HISTORY).content.decode()
    assert "Page 1 of 2" in first
    assert first.index("→ VAT n55") < first.index("→ VAT n54")
    assert "→ VAT n05<" not in first
    second = web.get(HISTORY + "?page=2").content.decode()
    assert "→ VAT n05<" in second and "→ VAT n55<" not in second


def test_applying_the_required_settings_is_recorded(web, user, company, sim):
    data, key = sim.create_account(name="Mismatched S.L.", tin_value="ESB12345674", country="es",
                                   rounding_method="bankers", round_before_sum=False, apply_taxes_per_line=True)
    assert web.post(SETTINGS_URL, {"enabled": "on", "environment": "simulator", "api_key": key,
                                   "account_id": str(data["id"])}).status_code == 302
    assert web.post(SETTINGS_URL + "apply/").status_code == 302
    entry = SettingsChange.objects.filter(company=company, area="integration").order_by("-pk").first()
    assert entry.user == user and entry.action == "changed"
    changes = {c["field"]: (c["old"], c["new"]) for c in read(entry)}
    assert changes["rounding method"] == ("bankers", "half_up")
    assert changes["round before sum"] == ("no", "yes")
    assert changes["apply taxes per line"] == ("yes", "no")
    assert key not in web.get(HISTORY).content.decode()
