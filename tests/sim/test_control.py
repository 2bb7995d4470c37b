"""The control surface, the management commands, the demo seed and the web-app pages."""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from tests.sim.conftest import Account, Sim, line


def test_control_creates_accounts_with_options(sim: Sim) -> None:
    response = sim.client.post("/sim/_control/accounts", json.dumps({
        "name": "Options S.A.", "tin_value": "ESA28017895", "country": "ES", "rounding_method": "truncate",
        "round_before_sum": False, "apply_taxes_per_line": True}), content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["account"]["name"] == "Options S.A."
    assert (body["account"]["country"], body["account"]["rounding_method"]) == ("es", "truncate")
    assert (body["account"]["round_before_sum"], body["account"]["apply_taxes_per_line"]) == (False, True)
    # The key works at once; without a body the defaults apply.
    assert sim.call("GET", "accounts", body["api_key"]).status_code == 200
    default = sim.client.post("/sim/_control/accounts")
    assert default.status_code == 201
    assert default.json()["account"]["rounding_method"] == "half_up"
    bad = sim.client.post("/sim/_control/accounts", json.dumps({"rounding_method": "up"}), content_type="application/json")
    assert bad.status_code == 422


def test_sim_account_command_prints_json(sim: Sim) -> None:
    out = StringIO()
    call_command("sim_account", "--json", "--name", "Cmd S.L.", "--tin-value", "ESB12345674", "--country", "es",
                 "--rounding-method", "bankers", "--round-before-sum", "false", "--apply-taxes-per-line", "true", stdout=out)
    body = json.loads(out.getvalue())
    assert body["account"]["name"] == "Cmd S.L."
    assert (body["account"]["rounding_method"], body["account"]["round_before_sum"],
            body["account"]["apply_taxes_per_line"]) == ("bankers", False, True)
    assert sim.call("GET", f"accounts/{body['account']['id']}", body["api_key"]).status_code == 200


def seed() -> tuple[str, str, str]:
    out = StringIO()
    call_command("sim_seed_demo", "--base-url", "http://127.0.0.1:8123/sim", stdout=out)
    text = out.getvalue()
    match = re.search(r"B2Brouter simulator account: ID (\d+), API key (\S+)", text)
    assert match, text
    return match.group(1), match.group(2), text


def test_demo_seed_is_idempotent_and_matches_the_app_demo(sim: Sim) -> None:
    first_id, first_key, text = seed()
    assert "http://127.0.0.1:8123/sim" in text
    second_id, second_key, _ = seed()
    assert (first_id, first_key) == (second_id, second_key)
    account = sim.call("GET", f"accounts/{first_id}", first_key).json()["account"]
    assert (account["name"], account["tin_value"], account["country"], account["currency"]) == (
        "Lingua Demo S.L.", "ESA28017895", "es", "EUR")
    # Deliberately not the required half_up / true / false.
    assert (account["rounding_method"], account["round_before_sum"], account["apply_taxes_per_line"]) == ("bankers", False, True)
    contacts = sim.call("GET", f"accounts/{first_id}/contacts", first_key).json()
    assert sorted((c["name"], c["tin_value"], c["country"], c["is_client"], c["integration_code"]) for c in contacts["contacts"]) == [
        ("Nordlicht Übersetzungen GmbH", "DE136695976", "de", True, ""),
        ("Traductions Lumière SARL", "FR40303265045", "fr", True, ""),
        ("Vertaalbureau Delta B.V.", "NL004495445B01", "nl", True, ""),
    ]
    invoices = sim.call("GET", f"accounts/{first_id}/invoices", first_key).json()
    assert invoices["meta"]["total_count"] == 1
    invoice = invoices["invoices"][0]
    assert (invoice["number"], invoice["date"], invoice["due_date"], invoice["state"], invoice["currency"]) == (
        "LD-0001", "2026-11-02", "2026-12-02", "new", "EUR")
    assert invoice["contact"]["name"] == "Nordlicht Übersetzungen GmbH"
    assert invoice["invoice_lines"][0]["description"] == "Translation DE>EN, technical manual (12,000 words)"
    assert (invoice["subtotal"], invoice["taxes"][0]["amount"], invoice["total"]) == ("1020.00", "214.20", "1234.20")
    assert [(t["name"], t["category"], t["percent"]) for t in invoice["taxes"]] == [("IVA", "S", "21")]
    # The directory lists two of the demo clients: one on Peppol, one by email.
    peppol = sim.call("GET", "directory/de/9930/DE136695976", first_key).json()
    assert peppol["directory_entry"]["Invoice"]["transport_type_code"] == "peppol"
    email = sim.call("GET", "directory/fr/9957/FR40303265045", first_key).json()["directory_entry"]
    assert email["Invoice"]["transport_type_code"] == "email"
    assert sim.call("GET", "directory/nl/9944/NL004495445B01", first_key).status_code == 404
    by_name = {c["name"]: c for c in contacts["contacts"]}
    assert by_name["Nordlicht Übersetzungen GmbH"]["transport_type_code"] == "peppol"


def test_pages_list_accounts_contacts_and_invoices(signed_in: Sim, account: Account) -> None:
    sim = signed_in
    contact = account.contact(name="<script>alert(1)</script> GmbH")
    invoice = account.invoice(contact_id=contact["id"], number="<b>N-1</b>")
    listing = sim.client.get("/sim/app/")
    assert listing.status_code == 200 and b"Test Co S.L." in listing.content
    page = sim.client.get(f"/sim/app/accounts/{account.id}").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; GmbH" in page and "<script>alert" not in page
    detail = sim.client.get(f"/sim/app/invoices/{invoice['id']}").content.decode()
    assert "&lt;b&gt;N-1&lt;/b&gt;" in detail
    assert "121.00" in detail and "new" in detail
    assert f"/sim/app/invoices/{invoice['id']}/pdf" in detail
    assert sim.client.get(f"/sim/app/invoices/{invoice['id']}/pdf").content.startswith(b"%PDF")
    missing = sim.client.get("/sim/app/invoices/999999")
    assert missing.status_code == 404
    assert listing["X-B2B-API-Request-Id"] != missing["X-B2B-API-Request-Id"]


def test_page_shows_errors_and_refusals(signed_in: Sim, account: Account) -> None:
    sim = signed_in
    contact = account.contact(scenario="refuse")
    invoice = account.invoice(contact_id=contact["id"])
    account.call("POST", f"invoices/send_invoice/{invoice['id']}")
    sim.client.post(f"/sim/_control/invoices/{invoice['id']}/advance")
    sim.client.post(f"/sim/_control/invoices/{invoice['id']}/advance")
    detail = sim.client.get(f"/sim/app/invoices/{invoice['id']}").content.decode()
    assert "refused" in detail and "purchase order reference is missing" in detail


def test_sim_account_command_takes_the_control_options_in_every_spelling(sim: Sim) -> None:
    out = StringIO()
    call_command("sim_account", "--json", "--tin_value", "ESA28017895", "--rounding_method", "truncate",
                 "--round-before-sum", "0", "--apply-taxes-per-line", stdout=out)
    account = json.loads(out.getvalue())["account"]
    assert (account["tin_value"], account["rounding_method"], account["round_before_sum"],
            account["apply_taxes_per_line"]) == ("ESA28017895", "truncate", False, True)


def test_control_account_options_may_be_null(sim: Sim) -> None:
    response = sim.client.post("/sim/_control/accounts", json.dumps({"name": None, "round_before_sum": None}),
                               content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["account"]["round_before_sum"] is True


def test_python_m_b2binvoice_sim_account(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    env = os.environ | {"B2BINVOICE_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = lambda *args: subprocess.run([sys.executable, "-m", "b2binvoice", *args], env=env, capture_output=True,  # noqa: E731
                                       text=True, timeout=120, check=True)
    run("migrate", "-v0")
    result = run("sim_account", "--json", "--name", "Cli S.L.", "--rounding-method", "bankers",
                 "--round-before-sum", "false", "--apply-taxes-per-line", "true")
    body = json.loads(result.stdout)
    assert set(body) == {"account", "api_key", "options"}
    assert body["options"] == {"minimal_answers": False, "document_delay_seconds": 0}
    assert (body["account"]["name"], body["account"]["rounding_method"], body["account"]["round_before_sum"],
            body["account"]["apply_taxes_per_line"]) == ("Cli S.L.", "bankers", False, True)


def test_sim_account_demo_prints_the_seeded_demo_account_and_creates_nothing(sim: Sim) -> None:
    from django.core.management.base import CommandError

    from b2brouter_sim.models import SimAccount

    with pytest.raises(CommandError, match="run `sim_seed_demo`"):
        call_command("sim_account", "--demo", stdout=StringIO())
    account_id, key, _ = seed()
    before = SimAccount.objects.count()
    out = StringIO()
    call_command("sim_account", "--demo", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert (str(body["account"]["id"]), body["api_key"]) == (account_id, key)
    assert body["account"]["name"] == "Lingua Demo S.L."
    assert SimAccount.objects.count() == before
    text = StringIO()
    call_command("sim_account", "--demo", stdout=text)
    assert text.getvalue().strip() == f"B2Brouter simulator account: ID {account_id}, API key {key}"
    # Without --demo a new, empty account is made (as the README says).
    call_command("sim_account", "--json", stdout=StringIO())
    assert SimAccount.objects.count() == before + 1
