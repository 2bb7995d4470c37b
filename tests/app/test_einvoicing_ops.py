"""Operations: the scheduled sync and abandoned tasks, the health panel, no network on a page view, a lean sync.

Requests to B2Brouter (the in-process simulator) are counted with a recording transport.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from unittest import mock

import httpx
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from b2binvoice.einvoicing import bulk, scheduler, tasks
from b2binvoice.einvoicing.models import (
    B2BrouterIntegration,
    BulkOutcome,
    BulkRunItem,
    BulkStatus,
    ContactLookup,
    InvoiceEvent,
    InvoiceLink,
    SchedulerState,
    SyncPass,
)
from b2binvoice.einvoicing.remote import Remote
from tests.app.test_einvoicing_support import (  # noqa: F401 (fixtures)
    SimulatorTransport,
    _b2brouter_settings,
    account,
    bank,
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

try:  # RQ's fixtures (Redis database 15; skipped without Redis)
    from tests.app.test_tasks_rq import redis_server, rq_settings, rq_tasks, run_rq_worker  # noqa: F401
except pytest.skip.Exception:  # the redis extra is not installed
    run_rq_worker = None

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/settings/integrations/b2brouter/"
SENT: list[httpx.Request] = []
BUILT: list[int] = []


class RecordingTransport(SimulatorTransport):
    """The simulator's transport, keeping every request that leaves."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        SENT.append(request)
        return super().handle_request(request)


def recording_transport() -> httpx.BaseTransport:
    BUILT.append(1)
    return RecordingTransport()


@pytest.fixture(autouse=True)
def _recording(settings: Any, _b2brouter_settings: Any) -> None:
    settings.B2BROUTER_TRANSPORT_FACTORY = "tests.app.test_einvoicing_ops.recording_transport"
    SENT.clear()
    BUILT.clear()


def run_worker() -> None:
    """Run every due task with the real database worker, inside the test's transaction."""
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


def paths(method: str | None = None) -> list[str]:
    return [r.url.path for r in SENT if method is None or r.method == method]


@pytest.fixture
def linked(web, company, account, integration, customer, vat, bank, sim) -> InvoiceLink:
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    assert confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/").status_code == 302
    return InvoiceLink.objects.get(invoice=invoice)


# --- 3. Fresh without cron ----------------------------------------------------------------------


def test_the_scheduler_queues_one_sync_per_interval_and_the_worker_runs_it(integration, settings):
    settings.B2BROUTER_SYNC_INTERVAL = 300
    out = io.StringIO()
    call_command("b2brouter_scheduler", "--once", stdout=out)
    assert "sync queued: yes" in out.getvalue()
    # A second worker ticking within the interval does not queue another pass.
    out = io.StringIO()
    call_command("b2brouter_scheduler", "--once", stdout=out)
    assert "sync queued: no" in out.getvalue()
    queued = DBTaskResult.objects.filter(task_path__endswith="sync_b2brouter")
    assert queued.count() == 1 and queued.get().args_kwargs["kwargs"] == {"trigger": "schedule"}
    run_worker()
    sync_pass = SyncPass.objects.get(integration=integration)
    assert sync_pass.trigger == "schedule" and sync_pass.ok
    # Once the interval has passed, the next tick queues the next pass.
    state = SchedulerState.objects.get(name=scheduler.SYNC_JOB)
    assert scheduler.tick(state.next_run_at + dt.timedelta(seconds=1))["sync_queued"] is True
    assert queued.count() == 2


def test_the_schedule_can_be_switched_off(integration, settings):
    settings.B2BROUTER_SYNC_INTERVAL = 0
    assert scheduler.tick()["sync_queued"] is False
    assert not DBTaskResult.objects.exists()


def test_only_worker_processes_start_the_scheduler_thread(settings):
    assert scheduler.start_in_worker(["b2binvoice", "runserver"]) is None
    assert scheduler.start_in_worker(["b2binvoice", "help", "db_worker"]) is None
    settings.B2BROUTER_SCHEDULER_IN_WORKER = False
    assert scheduler.start_in_worker(["b2binvoice", "db_worker"]) is None
    settings.B2BROUTER_SCHEDULER_IN_WORKER = True
    with mock.patch.object(scheduler.threading, "Thread") as thread, mock.patch.object(scheduler, "_thread", None):
        assert scheduler.start_in_worker(["b2binvoice", "db_worker", "--queue-name", "*"]) is thread.return_value
        thread.return_value.start.assert_called_once()
        assert thread.call_args.kwargs["daemon"] is True


def _claim_and_die(result_id: Any, *, started: dt.datetime, worker: str = "dead-worker") -> None:
    row = DBTaskResult.objects.get(pk=result_id)
    row.claim(worker)
    DBTaskResult.objects.filter(pk=result_id).update(started_at=started)


def test_a_task_left_running_by_a_dead_worker_is_requeued_after_the_timeout(integration, settings):
    settings.B2BROUTER_TASK_STALE_AFTER = 600
    result = tasks.sync_b2brouter.enqueue(company_id=integration.company_id, trigger="manual")
    now = timezone.now()
    _claim_and_die(result.id, started=now - dt.timedelta(seconds=300))
    assert scheduler.requeue_stale(now) == {"requeued": 0, "failed": 0}  # still within the timeout
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.RUNNING
    DBTaskResult.objects.filter(pk=result.id).update(started_at=now - dt.timedelta(seconds=601))
    assert scheduler.requeue_stale(now) == {"requeued": 1, "failed": 0}
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.READY
    run_worker()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL and len(row.worker_ids) == 2
    assert SyncPass.objects.filter(integration=integration, trigger="manual").count() == 1


def test_a_task_that_keeps_killing_its_worker_is_failed_not_requeued_for_ever(integration, settings):
    settings.B2BROUTER_TASK_STALE_AFTER = 60
    result = tasks.refresh_link.enqueue(1)
    old = timezone.now() - dt.timedelta(hours=1)
    for attempt in range(scheduler.MAX_CLAIMS):
        _claim_and_die(result.id, started=old, worker=f"worker-{attempt}")
        outcome = scheduler.requeue_stale()
    assert outcome == {"requeued": 0, "failed": 1}
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED and "never finished" in row.traceback


class _WorkerKilled(BaseException):
    """Stands for the worker process dying (not an Exception: the run cannot catch it and say so)."""


def test_a_bulk_run_whose_worker_was_killed_resumes_with_the_invoices_still_waiting(
        company, account, integration, customer, vat, bank, sim, settings):
    settings.B2BROUTER_TASK_STALE_AFTER = 600
    contact_for(sim, account, customer)
    chosen = [make_invoice(company, customer, number=f"INV-{n:04d}", taxes=[vat], payment_method=bank)
              for n in range(1, 4)]
    run = bulk.start_run(company=company, user=None, action="send", invoices=chosen, concurrency=1)
    result = tasks.bulk_run.enqueue(run.pk)

    def die(item: Any, outcome: Any) -> None:
        raise _WorkerKilled

    # The worker claimed the task, pushed the first invoice and was killed.
    now = timezone.now()
    _claim_and_die(result.id, started=now - dt.timedelta(seconds=601))
    with pytest.raises(_WorkerKilled):
        bulk.run_bulk(run.pk, on_done=die)
    run.refresh_from_db()
    assert run.status == BulkStatus.RUNNING
    assert sorted(run.items.values_list("outcome", flat=True)) == [BulkOutcome.SENT] + [BulkOutcome.WAITING] * 2
    # An invoice finished within the timeout: a long run still working is not queued beside itself.
    assert scheduler.requeue_stale(now) == {"requeued": 0, "failed": 0}
    # No invoice has finished for longer than the timeout: the task goes back to the queue and resumes.
    BulkRunItem.objects.filter(run=run).update(finished_at=now - dt.timedelta(seconds=700))
    assert scheduler.requeue_stale(now) == {"requeued": 1, "failed": 0}
    run_worker()
    run.refresh_from_db()
    assert run.status == BulkStatus.DONE
    assert list(run.items.values_list("outcome", flat=True)) == [BulkOutcome.SENT] * 3
    remote = sim.invoices(account[0]["id"], account[1])
    assert sorted(i["number"] for i in remote) == ["INV-0001", "INV-0002", "INV-0003"]  # each once
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL


# --- 2. Health panel ------------------------------------------------------------------------------


def test_the_health_panel_shows_sync_quota_and_what_needs_a_look(web, linked, sim, account, integration):
    data, key = account
    page = web.get(SETTINGS_URL).content.decode()
    assert 'id="health"' in page and "Last sync pass" in page and "none yet" in page
    # The send counted against the quota, and the quota is read again after it (it stayed 0 before).
    run_worker()
    integration.refresh_from_db()
    assert integration.transactions_count == 1
    assert "1 of" in web.get(SETTINGS_URL).content.decode()

    # B2Brouter reports a change; Sync now brings it.
    sim.api("POST", f"/invoices/{linked.b2brouter_id}/mark_as", key, {"state": "refused", "reason": "No PO"})
    response = web.post(f"{SETTINGS_URL}sync/")
    assert response.status_code == 302 and response["Location"].endswith("#health")
    run_worker()
    sync_pass = SyncPass.objects.get(integration=integration)
    assert sync_pass.trigger == "manual" and sync_pass.ok and sync_pass.changed == 1
    panel = web.get(f"{SETTINGS_URL}health/").content.decode()
    assert "Sync now" in panel and "1 changed in B2Brouter, 1 updated here" in panel
    InvoiceLink.objects.filter(pk=linked.pk).update(state="error")
    panel = web.get(f"{SETTINGS_URL}health/").content.decode()
    failed = panel.split('data-kind="failed"')[1].split("</div>")[0]
    assert f'href="/invoices/{linked.invoice_id}/"' in failed and linked.invoice.number in failed
    InvoiceEvent.objects.create(invoice=linked.invoice, type="send_failed", outcome="failure",
                                message="<b>rejected</b> by the receiver")
    panel = web.get(f"{SETTINGS_URL}health/").content.decode()
    assert "&lt;b&gt;rejected&lt;/b&gt; by the receiver" in panel  # remote text escaped


def test_an_invoice_stuck_in_sending_is_listed(web, linked, settings):
    settings.B2BROUTER_STUCK_AFTER = 3600
    InvoiceLink.objects.filter(pk=linked.pk).update(state="sending",
                                                    state_updated_at=timezone.now() - dt.timedelta(hours=2))
    panel = web.get(f"{SETTINGS_URL}health/").content.decode()
    stuck = panel.split('data-kind="stuck"')[1].split("</div>")[0]
    assert "Sending for more than 60 minutes" in stuck and linked.invoice.number in stuck


def test_sync_now_needs_an_enabled_integration_and_a_member(web, client, integration):
    B2BrouterIntegration.objects.filter(pk=integration.pk).update(enabled=False)
    web.post(f"{SETTINGS_URL}sync/")
    assert not DBTaskResult.objects.filter(task_path__endswith="sync_b2brouter").exists()
    assert client.post(f"{SETTINGS_URL}sync/").status_code in (302, 403)
    assert not DBTaskResult.objects.exists()
    assert web.get(f"{SETTINGS_URL}sync/").status_code == 405


# --- 5. No network on a page view ------------------------------------------------------------------


def test_an_unlinked_invoice_whose_client_has_no_contact_asks_b2brouter_once(web, company, integration, customer,
                                                                              vat, bank, sim, account):
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    SENT.clear()
    section(web, invoice)
    first = paths()
    assert first and set(first) == {f"/sim/accounts/{account[0]['id']}/contacts"}  # one lookup by tax id
    SENT.clear()
    for _ in range(3):
        assert "No matching client in B2Brouter" in section(web, invoice)
    assert SENT == []  # "not found" is remembered
    lookup = ContactLookup.objects.get(integration=integration)
    assert lookup.contact_id is None and lookup.checked_at is not None

    # A contact created behind the app's back is found when the user asks again.
    contact = contact_for(sim, account, customer)
    SENT.clear()
    assert web.post(f"/clients/{customer.pk}/b2brouter/match/").status_code == 302
    assert 1 <= len(paths("GET")) <= len(first)  # "Match by tax id" asks B2Brouter again
    customer.refresh_from_db()
    assert customer.b2brouter_contact_id == contact["id"]


def test_a_client_change_forgets_the_remembered_answer(web, company, integration, customer, vat, bank):
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    section(web, invoice)
    SENT.clear()
    customer.name = "Renamed Kunde S.A."
    customer.save()
    assert not ContactLookup.objects.exists()
    section(web, invoice)
    asked = len(paths())
    section(web, invoice)
    assert asked and len(paths()) == asked


def test_one_client_per_process_and_integration_is_reused(web, company, integration, customer, vat, bank):
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    BUILT.clear()
    first = Remote.for_integration(integration).client
    second = Remote.for_integration(integration).client
    assert first is second
    section(web, invoice)
    section(web, invoice)
    assert BUILT == []  # no new client (nor connection pool) for the page views


# --- 6. A sync that writes only what changed --------------------------------------------------------


def _invoices(web, company, customer, vat, bank, count: int) -> list[InvoiceLink]:
    links = []
    for n in range(count):
        invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank, number=f"OPS-{n:03}")
        assert confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/").status_code == 302
        links.append(InvoiceLink.objects.get(invoice=invoice))
    return links


def _writes(queries: CaptureQueriesContext, table: str) -> list[str]:
    """Return the statements writing ``table`` (an executemany is one statement, logged as "N times: SQL")."""
    statements = [re.sub(r"^\d+ times: ", "", q["sql"]) for q in queries.captured_queries]
    return [sql for sql in statements if sql.startswith(("UPDATE", "INSERT")) and table in sql]


def test_the_sync_writes_changed_links_in_one_batch_and_unchanged_ones_not_at_all(
        web, company, integration, customer, vat, bank, sim, account):
    data, key = account
    contact_for(sim, account, customer)
    links = _invoices(web, company, customer, vat, bank, 5)
    call_command("b2brouter_sync", stdout=io.StringIO())  # first pass: nothing to compare against
    for link in links[:4]:
        sim.api("POST", f"/invoices/{link.b2brouter_id}/mark_as", key, {"state": "accepted"})
    with CaptureQueriesContext(connection) as queries:
        call_command("b2brouter_sync", stdout=io.StringIO())
    link_writes = _writes(queries, "einvoicing_invoicelink")
    assert len(link_writes) == 1  # one bulk UPDATE for the four changed links
    assert len(_writes(queries, "einvoicing_invoiceevent")) == 1  # one bulk INSERT of their history
    states = dict(InvoiceLink.objects.filter(pk__in=[link.pk for link in links]).values_list("pk", "state"))
    assert [states[link.pk] for link in links] == ["accepted"] * 4 + ["sending"]
    # The overlapping next pass re-reads them and writes nothing.
    with CaptureQueriesContext(connection) as queries:
        call_command("b2brouter_sync", stdout=io.StringIO())
    assert _writes(queries, "einvoicing_invoicelink") == []
    assert _writes(queries, "einvoicing_invoiceevent") == []
    assert SyncPass.objects.filter(integration=integration).order_by("started_at").last().changed == 0


@pytest.mark.skipif(run_rq_worker is None, reason="the redis extra (django-tasks-rq) is not installed")
def test_an_rq_job_abandoned_by_a_killed_worker_is_requeued_and_runs(request, integration):
    request.getfixturevalue("rq_tasks")
    import django_rq
    from rq.job import JobStatus

    result = tasks.sync_b2brouter.enqueue(company_id=integration.company_id, trigger="manual")
    queue = django_rq.get_queue("default")
    job = queue.fetch_job(result.id)
    # A worker took the job and was killed: the job stays STARTED, its registry entry expires.
    queue.remove(job)
    job.set_status(JobStatus.STARTED)
    queue.connection.zadd(queue.started_job_registry.key, {f"{job.id}:killed": 1})
    assert scheduler.requeue_stale() == {"requeued": 1, "failed": 0}
    assert job.id in queue.get_job_ids()
    run_rq_worker()
    assert SyncPass.objects.filter(integration=integration, trigger="manual").count() == 1


def health_errors(web) -> tuple[int, str]:
    panel = web.get(f"{SETTINGS_URL}health/").content.decode()
    block = panel.split('data-kind="errors"')[1].split("</div>")[0]
    return int(re.search(r'<span class="b2b-count">(\d+)</span>', block)[1]), block


def test_a_429_that_the_bulk_push_retried_is_not_counted_among_the_errors(web, company, account, integration,
                                                                          customer, vat, bank, sim, settings):
    import time

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    data, key = account
    contact_for(sim, account, customer)
    chosen = [make_invoice(company, customer, number=f"INV-{n:04d}", taxes=[vat], payment_method=bank)
              for n in range(1, 6)]
    # Four requests a second: the run meets 429s, pauses, tries again, and every invoice gets through.
    sim.set_faults(data["id"], key, rate_limit={"requests": 4, "per_seconds": 1})
    run = bulk.run_bulk(bulk.start_run(company=company, user=None, action="send", invoices=chosen).pk)
    time.sleep(1.1)
    sim.set_faults(data["id"], key)
    assert run.rate_limited >= 1
    assert list(run.items.values_list("outcome", flat=True)) == [BulkOutcome.SENT] * 5
    count, block = health_errors(web)
    assert count == 0, block
    assert "(429)" not in block
    # Whether the client's own retry or the run's back-off absorbed a 429 depends on timing; a 429 the
    # history recorded and a later send overcame is, in any case, not counted.
    InvoiceEvent.objects.create(invoice=chosen[2], type="send_failed", outcome="failure",
                                message="B2Brouter is limiting the request rate (429): try again in a minute.")
    assert health_errors(web)[0] == 1
    InvoiceEvent.objects.create(invoice=chosen[2], type="sent", outcome="success", message="sent after the pause")
    count, block = health_errors(web)
    assert count == 0 and "(429)" not in block, block

    # A failure nothing overcame still counts, and so does one that came after the success.
    InvoiceEvent.objects.create(invoice=chosen[0], type="send_failed", outcome="failure", message="refused later")
    InvoiceEvent.objects.create(invoice=chosen[1], type="refresh_failed", outcome="failure", message="no answer")
    count, block = health_errors(web)
    assert count == 2 and "refused later" in block and "no answer" in block
    # Refreshing the second invoice again, successfully, overcomes its failed refresh.
    web.post(f"/invoices/{chosen[1].pk}/b2brouter/refresh/")
    count, block = health_errors(web)
    assert count == 1 and "no answer" not in block
