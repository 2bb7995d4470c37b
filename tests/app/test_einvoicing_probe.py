"""The calculation probe: unsent probe invoices on the user's own account, compared, then deleted.

Through the command line (``b2brouter_probe``) and the settings page, against the in-process
simulator. Where a test needs B2Brouter to fail at one precise request, a transport in front of
the simulator answers that one request itself; every other request reaches the simulator.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from b2binvoice.einvoicing.models import B2BrouterIntegration, ProbeRun
from b2binvoice.einvoicing.probe import CONTACT_NAME
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    SimulatorTransport,
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
PROBE_URL = SETTINGS_URL + "probe/"
INVOICE_POST = re.compile(r"/accounts/[^/]+/invoices$")
INVOICE_PATH = re.compile(r"/invoices/(\d+)$")


class Interposed(httpx.BaseTransport):
    """The simulator's transport with a hook that may answer (or break) a request itself."""

    def __init__(self, hook: Callable[[httpx.Request, httpx.BaseTransport], httpx.Response | None]) -> None:
        self.inner = SimulatorTransport()
        self.hook = hook
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answered = self.hook(request, self.inner)
        return answered if answered is not None else self.inner.handle_request(request)


def interpose(settings: Any, hook: Callable[..., httpx.Response | None]) -> Interposed:
    transport = Interposed(hook)
    settings.B2BROUTER_TRANSPORT_FACTORY = lambda: transport
    return transport


def error_answer(status: int, code: str, message: str, request_id: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, "type": "invalid_request_error"}},
                          headers={"X-B2B-API-Request-Id": request_id})


def nth_invoice_create(n: int) -> Callable[[httpx.Request], bool]:
    seen = {"count": 0}

    def matches(request: httpx.Request) -> bool:
        if request.method == "POST" and INVOICE_POST.search(request.url.path):
            seen["count"] += 1
            return seen["count"] == n
        return False
    return matches


def probe(*args: str) -> str:
    """Run the command; return its output (raise CommandError as the command does)."""
    out = io.StringIO()
    try:
        call_command("b2brouter_probe", *args, stdout=out)
    except CommandError as exc:
        exc.output = out.getvalue()  # type: ignore[attr-defined]
        raise
    return out.getvalue()


def failing_probe(*args: str) -> tuple[str, str]:
    with pytest.raises(CommandError) as caught:
        probe(*args)
    return caught.value.output, str(caught.value)  # type: ignore[attr-defined]


def probe_contacts(sim, account) -> list[dict[str, Any]]:
    data, key = account
    contacts = sim.api("GET", f"/accounts/{data['id']}/contacts?limit=500", key)["contacts"]
    return [c for c in contacts if c["name"] == CONTACT_NAME]


# --- Matching settings ------------------------------------------------------------------------


def test_cli_verifies_a_matching_account_and_leaves_nothing_behind(integration, company, sim, account, settings):
    data, key = account
    transport = interpose(settings, lambda request, simulator: None)
    output = probe("--company", str(company.pk))

    assert re.search(r"Verified on 6 probe invoices at \d{4}-\d\d-\d\d \d\d:\d\d: B2Brouter's totals match\.", output)
    numbers = set(re.findall(r"B2BINVOICE-PROBE-\d{14}-\d", output))
    assert len(numbers) == 6
    # The cases that tell the interpretations apart, with our figures and B2Brouter's side by side.
    assert "1828.07" in output and "0.99" in output and "2.21" in output and "IRPF -15 %" in output
    assert "MISMATCH" not in output
    assert "Probe invoices created: 6, deleted: 6." in output

    assert sim.invoices(data["id"], key) == []
    assert probe_contacts(sim, account) == []
    creates = [json.loads(r.content) for r in transport.requests
               if r.method == "POST" and INVOICE_POST.search(r.url.path)]
    assert len(creates) == 6
    for body in creates:
        assert body["send_after_import"] is False
        invoice = body["invoice"]
        assert invoice["number"] in numbers
        assert "payment_method" not in invoice and "bank_account" not in invoice
        for line in invoice["invoice_lines_attributes"]:
            assert "unit" not in line
            assert {tax["name"] for tax in line["taxes_attributes"]} <= {"IVA", "IRPF"}
            assert all(set(tax) == {"name", "category", "percent"} for tax in line["taxes_attributes"])
    deletes = [r for r in transport.requests if r.method == "DELETE" and INVOICE_PATH.search(r.url.path)]
    assert len(deletes) == 6
    run = ProbeRun.objects.get(integration=integration)
    assert run.outcome == "verified" and len(run.cases) == 6 and run.undeleted == []


def test_the_button_verifies_and_the_result_stays_beside_the_plate(web, integration, sim, account):
    data, key = account
    page = web.get(SETTINGS_URL).content.decode()
    assert "Verify the arithmetic on this account" in page
    assert 'data-probe="none"' in page

    response = web.post(PROBE_URL)
    assert response.status_code == 302 and response["Location"].endswith("#probe")
    page = web.get(SETTINGS_URL).content.decode()
    assert re.search(r"Verified on 6 probe invoices at \d{4}-\d\d-\d\d \d\d:\d\d: B2Brouter&#x27;s totals match\.",
                     page)
    assert 'data-probe="verified"' in page
    assert page.index("plate plate-ok") < page.index('data-probe="verified"')  # beside the plate
    assert sim.invoices(data["id"], key) == []
    # Shown again on the next visit (stored, not only flashed).
    assert 'data-probe="verified"' in web.get(SETTINGS_URL).content.decode()


def test_an_existing_probe_contact_is_reused_and_kept(integration, company, sim, account):
    data, key = account
    existing = sim.create_contact(data["id"], key, name=CONTACT_NAME, tin_value="ESB76543214", country="es")
    probe("--company", company.name)
    assert [c["id"] for c in probe_contacts(sim, account)] == [existing["id"]]
    assert ProbeRun.objects.get().contact_id is None  # not created by the run, so not deleted


def test_an_account_outside_spain_gets_vat_and_a_line_tie_instead_of_irpf(web, company, sim):
    data, key = sim.create_account(name="Lingua GmbH", tin_value="DE136695976", country="de")
    web.post(SETTINGS_URL, {"enabled": "on", "environment": "simulator", "api_key": key,
                            "account_id": str(data["id"]), "send_after_create": "on"})
    output = probe()
    assert "Verified on 6 probe invoices" in output
    assert "MwSt 21 %" in output and "IRPF" not in output and "IVA" not in output
    assert "a line of 2.345" in output
    assert sim.invoices(data["id"], key) == []


def default_tax_type(web) -> str:
    """Return the B2Brouter tax type the company's new-tax form proposes."""
    page = web.get("/settings/taxes/new/").content.decode()
    select = re.search(r'<select name="tax_type".*?</select>', page, re.S)
    assert select is not None, page
    chosen = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', select.group())
    assert chosen is not None, select.group()
    return chosen[1]


@pytest.mark.parametrize("country, tin", [("ES", "ESB12345674"), ("FR", "FR11123456782"), ("DE", "DE136695976"),
                                          ("NL", "NL004495445B01"), ("AT", "ATU12345675")])
def test_the_probe_names_its_vat_as_the_companys_taxes_default_to(web, company, sim, settings, country, tin):
    company.country = country
    company.save()
    data, key = sim.create_account(name="Lingua", tin_value=tin, country=country.lower())
    web.post(SETTINGS_URL, {"enabled": "on", "environment": "simulator", "api_key": key,
                            "account_id": str(data["id"]), "send_after_create": "on"})
    transport = interpose(settings, lambda request, simulator: None)
    probe()
    names = {tax["name"] for request in transport.requests
             if request.method == "POST" and INVOICE_POST.search(request.url.path)
             for line in json.loads(request.content)["invoice"]["invoice_lines_attributes"]
             for tax in line["taxes_attributes"] if not str(tax["percent"]).startswith("-")}  # not the IRPF
    assert names == {default_tax_type(web)}


# --- Mismatched settings ----------------------------------------------------------------------


def test_bankers_rounding_names_the_invoice_and_the_figure(web, integration, company, sim, account):
    data, key = account
    # Changed in B2Brouter after the settings were read: the plate still says they match.
    sim.update_account(data["id"], key, rounding_method="bankers")
    output, error = failing_probe("--company", str(company.pk))
    assert "totals differ" in error
    assert "MISMATCH" in output
    assert re.search(r"Probe invoice 1 \(B2BINVOICE-PROBE-\d{14}-1: a tax of exactly half a cent .*\) differs in "
                     r"IVA 21 %: ours 2\.21, B2Brouter's 2\.20; Taxes: ours 2\.21, B2Brouter's 2\.20; "
                     r"Total: ours 12\.71, B2Brouter's 12\.70\. This points to rounding_method "
                     r"\(b2binvoice needs half_up; the account reports bankers\)\.", output), output
    # The withholding rounds away from zero here, to the even cent under bankers rounding.
    assert re.search(r"Probe invoice 6 \(B2BINVOICE-PROBE-\d{14}-6: .*\) differs in IRPF -15 %: ours -1\.55, "
                     r"B2Brouter's -1\.54;", output), output
    # Under bankers the other cases have no tie: they match, and are not named.
    assert "differ from b2binvoice's on 2 of 6 probe invoices" in output
    assert not re.search(r"Probe invoice [2-5] ", output)
    assert sim.invoices(data["id"], key) == []

    page = web.get(SETTINGS_URL).content.decode()
    assert "plate plate-ok" in page  # the settings as last read...
    assert 'data-probe="mismatch"' in page  # ...and what the totals say
    assert re.search(r'<td class="ours num">2\.21</td><td class="theirs num">2\.20</td><td class="points-to" rowspan="3">'
                     r"rounding_method \(b2binvoice needs half_up; the account reports bankers\)</td>", page)


def test_taxes_per_line_names_the_per_line_invoice(web, integration, company, sim, account):
    data, key = account
    sim.update_account(data["id"], key, apply_taxes_per_line=True)
    response = web.post(PROBE_URL)
    assert response.status_code == 302
    page = web.get(SETTINGS_URL).content.decode()
    assert 'data-probe="mismatch"' in page
    assert re.search(r"2\. B2BINVOICE-PROBE-\d{14}-2<br><small>7886\.64 \+ 818\.44 at 21 %", page)
    assert re.search(r'<td class="ours num">1,828\.07</td><td class="theirs num">1,828\.06</td><td class="points-to" rowspan="3">'
                     r"apply_taxes_per_line \(b2binvoice needs false; the account reports true\)</td>", page)
    assert sim.invoices(data["id"], key) == []


# --- Production keys --------------------------------------------------------------------------


def production(integration: B2BrouterIntegration, key: str | None = None) -> None:
    B2BrouterIntegration.objects.filter(pk=integration.pk).update(environment="production",
                                                                  **({"api_key": key} if key else {}))
    integration.refresh_from_db()


def test_a_production_key_is_refused_without_confirmation(web, integration, company, sim, account, settings):
    data, key = account
    production(integration)
    transport = interpose(settings, lambda request, simulator: None)
    output, error = failing_probe("--company", str(company.pk))
    assert "production API key" in error and "--yes-create-drafts" in error
    assert "creates 6 draft invoices in your live B2Brouter account" in error and "deletes them" in error

    # The button asks first, saying what it does; a post without the confirmation only asks again.
    response = web.post(PROBE_URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "creates and deletes draft invoices in your live account" in page
    assert 'name="confirm" value="create-and-delete-drafts"' in page
    assert transport.requests == [] and not ProbeRun.objects.exists()


def test_a_confirmed_production_probe_runs(web, integration, company, sim, account, settings):
    data, key = account

    def to_simulator(request: httpx.Request, simulator: httpx.BaseTransport) -> httpx.Response:
        # Production's host, served by the simulator: no test ever reaches B2Brouter.
        assert request.url.host == "api.b2brouter.net"
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        return simulator.handle_request(httpx.Request(
            request.method, f"http://testserver/sim{request.url.raw_path.decode()}", headers=headers,
            content=request.content))

    production(integration)
    interpose(settings, to_simulator)
    response = web.post(PROBE_URL, {"confirm": "create-and-delete-drafts"})
    assert response.status_code == 302
    assert 'data-probe="verified"' in web.get(SETTINGS_URL).content.decode()
    output = probe("--company", str(company.pk), "--yes-create-drafts")
    assert "Verified on 6 probe invoices" in output
    assert sim.invoices(data["id"], key) == []


def test_a_sandbox_key_runs_without_confirmation(integration, company, settings):
    production(integration, key="test_" + "k" * 24)
    seen: list[str] = []

    def sandbox(request: httpx.Request, simulator: httpx.BaseTransport) -> httpx.Response:
        seen.append(request.url.host)
        return error_answer(401, "unauthorized", "Invalid API key", "req_sandbox")
    interpose(settings, sandbox)
    output, error = failing_probe("--company", str(company.pk))
    assert "--yes-create-drafts" not in error
    assert seen and set(seen) == {"api.b2brouter.net"}  # it asked B2Brouter: no confirmation needed
    assert "refused the API key (401)" in output and "req_sandbox" in output


# --- Errors -----------------------------------------------------------------------------------


def test_an_api_error_midway_still_deletes_what_was_created(web, integration, company, sim, account, settings):
    data, key = account
    fourth = nth_invoice_create(4)
    interpose(settings, lambda request, simulator: error_answer(500, "internal_error", "Something <b>broke</b>",
                                                              "req_probe_500") if fourth(request) else None)
    output, error = failing_probe("--company", str(company.pk))
    assert "did not complete" in error
    text = output
    assert re.search(r"B2Brouter did not create probe invoice 4 \(B2BINVOICE-PROBE-\d{14}-4\)\. B2Brouter had an "
                     r"internal error \(500\)", text), output
    assert "B2Brouter said: Something <b>broke</b>" in output and "Request id: req_probe_500" in output
    assert "Probe invoices created: 3, deleted: 3." in output
    assert sim.invoices(data["id"], key) == []
    assert probe_contacts(sim, account) == []

    page = web.get(SETTINGS_URL).content.decode()
    assert 'data-probe="error"' in page
    assert "Something &lt;b&gt;broke&lt;/b&gt;" in page and "<b>broke" not in page
    assert "<code>req_probe_500</code>" in page


def test_a_lost_answer_is_looked_up_by_number_and_deleted(integration, company, sim, account, settings):
    data, key = account
    second = nth_invoice_create(2)

    def lose(request: httpx.Request, simulator: httpx.BaseTransport) -> httpx.Response | None:
        if second(request):
            simulator.handle_request(request).read()  # B2Brouter creates it; the answer never arrives
            raise httpx.ReadTimeout("simulated: the answer never came", request=request)
        return None
    interpose(settings, lose)
    output, _error = failing_probe("--company", str(company.pk))
    assert "did not answer" in output
    assert "Probe invoices created: 2, deleted: 2." in output
    assert sim.invoices(data["id"], key) == []


def test_an_invoice_that_cannot_be_deleted_is_reported_with_its_id(web, integration, company, sim, account, settings):
    data, key = account
    refused: list[str] = []

    def refuse_first_delete(request: httpx.Request, simulator: httpx.BaseTransport) -> httpx.Response | None:
        match = INVOICE_PATH.search(request.url.path)
        if request.method == "DELETE" and match and not refused:
            refused.append(match.group(1))
            return error_answer(409, "conflict", "Invoice cannot be deleted in state sent", "req_probe_409")
        return None
    interpose(settings, refuse_first_delete)
    output, _error = failing_probe("--company", str(company.pk))
    left = sim.invoices(data["id"], key)
    assert [str(invoice["id"]) for invoice in left] == refused
    assert re.search(rf"Could not delete probe invoice #{refused[0]} \(B2BINVOICE-PROBE-\d{{14}}-1\): delete it in "
                     r"B2Brouter\.", output), output
    # The contact still has that invoice, so B2Brouter keeps it too: named as well.
    assert "Could not delete the probe contact #" in output
    page = web.get(SETTINGS_URL).content.decode()
    assert f"probe invoice #{refused[0]}" in page and "req_probe_409" in page


def test_an_account_that_does_not_report_its_settings_is_measured_all_the_same(integration, company, sim, account,
                                                                               settings):
    data, key = account
    sim.update_account(data["id"], key, rounding_method="bankers")

    def without_settings(request: httpx.Request, simulator: httpx.BaseTransport) -> httpx.Response | None:
        # An account answer without the calculation settings (B2Brouter does not document their values).
        if request.method == "GET" and request.url.path.endswith(f"/accounts/{data['id']}"):
            answer = simulator.handle_request(request)
            body = json.loads(answer.read())
            for name in ("rounding_method", "round_before_sum", "apply_taxes_per_line"):
                body["account"].pop(name, None)
            return httpx.Response(answer.status_code, json=body, headers={"X-B2B-API-Request-Id": "req_account"})
        return None
    interpose(settings, without_settings)
    output, _error = failing_probe("--company", str(company.pk))
    assert re.search(r"Probe invoice 1 .* differs in IVA 21 %: ours 2\.21, B2Brouter's 2\.20; .* This points to "
                     r"rounding_method \(b2binvoice needs half_up; the account does not report it\)\.", output), output
    assert sim.invoices(data["id"], key) == []


def test_a_second_probe_waits_for_the_running_one_and_an_interrupted_one_names_its_invoices(
        web, integration, company, sim, account):
    import datetime as dt

    from django.utils import timezone

    data, key = account
    running = ProbeRun.objects.create(integration=integration, environment=integration.environment,
                                      account_id=integration.account_id, started_at=timezone.now(),
                                      created=[{"id": 4242, "number": "B2BINVOICE-PROBE-20261130120000-1"}])
    web.post(PROBE_URL)
    page = web.get(SETTINGS_URL).content.decode()
    assert "A probe of this account is already running" in page
    assert 'data-probe="running"' in page
    assert sim.invoices(data["id"], key) == []

    # Ten minutes later it is taken as interrupted: it names what it may have left, and a new probe runs.
    ProbeRun.objects.filter(pk=running.pk).update(started_at=timezone.now() - dt.timedelta(minutes=11))
    page = web.get(SETTINGS_URL).content.decode()
    assert 'data-probe="interrupted"' in page
    assert "#4242 (B2BINVOICE-PROBE-20261130120000-1)" in page
    assert "Verified on 6 probe invoices" in probe("--company", str(company.pk))


def test_an_unexpected_failure_still_deletes_and_never_reads_as_verified(web, integration, company, sim, account,
                                                                          settings):
    data, key = account
    third = nth_invoice_create(3)

    def crash(request: httpx.Request, simulator: httpx.BaseTransport) -> httpx.Response | None:
        if third(request):
            raise RuntimeError("the process is going down")
        return None
    interpose(settings, crash)
    with pytest.raises(RuntimeError):
        probe("--company", str(company.pk))
    assert sim.invoices(data["id"], key) == []
    assert probe_contacts(sim, account) == []
    run = ProbeRun.objects.get()
    assert run.outcome == "error" and run.error == "The probe stopped unexpectedly (RuntimeError)."
    assert 'data-probe="error"' in web.get(SETTINGS_URL).content.decode()
