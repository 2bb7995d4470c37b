"""TASKS_BACKEND=rq end to end: the project's tasks go through Redis and run in RQ's worker.

The settings are the ones ``b2binvoice/settings.py`` builds for ``TASKS_BACKEND=rq``, pointed at
database 15 of the Redis in ``REDIS_URL``. The worker is django-rq's ``rqworker`` command, as the
README runs it, in burst mode with RQ's SimpleWorker so the tasks run in this process, inside the
test's transaction. Without Redis the tests that need it are skipped, except under CI=true.
"""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import pytest

pytest.importorskip("django_tasks_rq", reason="the redis extra (django-tasks-rq) is not installed")

import django_rq  # noqa: E402
import redis  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django_rq.management.commands import rqworker  # noqa: E402
from django_tasks import default_task_backend  # noqa: E402

import b2binvoice.settings as project_settings  # noqa: E402
from b2brouter_sim import webhooks as sim_webhooks  # noqa: E402
from b2binvoice.einvoicing.models import InvoiceEvent, InvoiceLink  # noqa: E402
from tests.app.test_einvoicing_support import (  # noqa: E402, F401 (fixtures)
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
from tests.app.test_einvoicing_webhooks import register  # noqa: E402
from tests.support import inprocess_transport  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# A database of its own, so the test empties only RQ's keys there and touches nothing else.
REDIS_DB = 15
LOCK = "b2binvoice:tests:rq-lock"

Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def redis_test_url() -> str:
    """Return REDIS_URL (default redis://127.0.0.1:6379/0) with database 15."""
    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return urlunsplit(parts._replace(path=f"/{REDIS_DB}"))


def shown(url: str) -> str:
    """Return the URL without its credentials, for messages."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")))


@pytest.fixture(scope="module")
def redis_server() -> redis.Redis:
    url = redis_test_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires Redis for the TASKS_BACKEND=rq tests ({shown(url)}: {exc})")
        pytest.skip(f"Redis not reachable at {shown(url)} ({exc}): TASKS_BACKEND=rq is not tested")
    return client


@pytest.fixture(scope="module")
def rq_settings() -> dict[str, Any]:
    """Evaluate b2binvoice/settings.py as TASKS_BACKEND=rq would, with the test's Redis."""
    env = {"TASKS_BACKEND": "rq", "REDIS_URL": redis_test_url()}
    with mock.patch.dict(os.environ, env):
        return runpy.run_path(project_settings.__file__)


def clear_rq_keys(client: redis.Redis) -> None:
    for key in client.scan_iter("rq:*", count=500):
        client.delete(key)


@pytest.fixture
def rq_tasks(settings: Any, redis_server: redis.Redis, rq_settings: dict[str, Any]) -> Iterator[None]:
    """Send the project's tasks to RQ (queue "default" in Redis database 15) for one test.

    The queue name is the project's, so two runs at once (another engineer's, the other database's
    pass) would share it; a lock makes them take turns.
    """
    lock = redis_server.lock(LOCK, timeout=300, blocking_timeout=300)
    assert lock.acquire(), "another run held the RQ test lock for 5 minutes"
    try:
        clear_rq_keys(redis_server)
        # Changing TASKS resets django_tasks' cached backends; django-rq reads RQ_QUEUES and RQ on each use.
        settings.RQ_QUEUES = rq_settings["RQ_QUEUES"]
        settings.RQ = rq_settings["RQ"]
        settings.TASKS = rq_settings["TASKS"]
        yield
    finally:
        clear_rq_keys(redis_server)
        lock.release()


def run_rq_worker() -> None:
    """Run every queued (and every due scheduled) task with `rqworker --burst`, inside the test's transaction."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # The command closes the database connections before a worker forks; SimpleWorker does not
        # fork, and closing would end the test's transaction (db_worker's tests patch the same).
        with mock.patch.object(rqworker, "reset_db_connections"):
            call_command(rqworker.Command(), "default", "--burst", "--with-scheduler",
                         "--worker-class", "rq.SimpleWorker", verbosity=0)
    finally:
        for sig, handler in handlers.items():  # the worker installs its own; give pytest back its Ctrl-C
            signal.signal(sig, handler)
    # RQ only logs a task's exception; say which task failed and why.
    failed = django_rq.get_queue("default").failed_job_registry.get_job_ids()
    errors = [default_task_backend.get_result(job_id).errors for job_id in failed]
    assert not failed, "\n".join(e[-1].traceback if e else job_id for job_id, e in zip(failed, errors, strict=True))


def work_off(capture: Capture, rounds: int = 20) -> None:
    """Run the worker until no task queues another one.

    With RQ the simulator hands a task to Redis only when its transaction commits. A test never
    commits, so each round runs the commit callbacks its tasks left, as a real commit would.
    """
    for _ in range(rounds):
        with capture(execute=True) as callbacks:
            run_rq_worker()
        if not callbacks:
            return
    raise AssertionError(f"tasks were still queueing tasks after {rounds} worker runs")


def test_the_rq_settings_pass_the_system_checks_and_provide_the_worker(tmp_path: Path) -> None:
    env = {**os.environ, "TASKS_BACKEND": "rq", "REDIS_URL": redis_test_url(), "B2BINVOICE_DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}"}
    env.pop("SECRET_KEY", None)
    check = subprocess.run([sys.executable, "-m", "b2binvoice", "check"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    worker = subprocess.run([sys.executable, "-m", "b2binvoice", "rqworker", "--help"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    assert "--with-scheduler" in worker.stdout


def test_an_invoice_moves_on_through_rq_and_the_app_follows_its_notifications(
        rq_tasks, django_capture_on_commit_callbacks, settings, monkeypatch, web, integration, company, account,
        customer, vat, bank, sim):
    # Every kind of project task goes through Redis: the simulated recipient's steps and webhook
    # deliveries (b2brouter_sim.tasks), and the app's read after each notification (refresh_link).
    settings.B2BROUTER_SIM_STEP_DELAY = 0
    settings.B2BROUTER_SIM_WEBHOOK_BACKOFF = 0
    monkeypatch.setattr(sim_webhooks, "TRANSPORT", inprocess_transport())  # the simulator POSTs to this app
    register(web, integration)
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    with django_capture_on_commit_callbacks(execute=True):
        assert confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/").status_code == 302
    link = InvoiceLink.objects.get(invoice=invoice)
    assert link.state == "sending" and link.refreshed_at is not None
    created_read = link.refreshed_at

    work_off(django_capture_on_commit_callbacks)

    data, key = account
    assert sim.api("GET", f"/invoices/{link.b2brouter_id}", key)["invoice"]["state"] == "accepted"
    hook = sim.api("GET", "/web_hooks", key)["web_hooks"][0]
    deliveries = sim.api("GET", f"/web_hooks/{hook['id']}", key)["web_hook"]["deliveries"]
    assert [(d["state"], d["status"]) for d in deliveries] == [
        ("sending", "delivered"), ("sent", "delivered"), ("accepted", "delivered")]
    page = section(web, invoice)
    assert "State: sent" in page and "State: accepted" in page  # the notifications, in the invoice's history
    notified = [m for t, m in InvoiceEvent.objects.filter(invoice=invoice).order_by("pk").values_list("type", "message")
                if t == "state_notified"]
    assert notified == ["State: sending", "State: sent", "State: accepted"]
    link.refresh_from_db()
    assert link.state == "accepted"
    assert link.refreshed_at > created_read  # refresh_link read the invoice after a notification


def test_deferred_steps_wait_in_rqs_schedule_until_due(rq_tasks, django_capture_on_commit_callbacks, settings, web,
                                                        integration, company, account, customer, vat, bank, sim):
    # The simulator plans each step `B2BROUTER_SIM_STEP_DELAY` seconds ahead: RQ keeps such a task
    # in its schedule, and only a worker started --with-scheduler moves it to the queue when due.
    settings.B2BROUTER_SIM_STEP_DELAY = 2  # RQ schedules by whole seconds: 1 could already be due
    contact_for(sim, account, customer)
    invoice = make_invoice(company, customer, taxes=[vat], payment_method=bank)
    with django_capture_on_commit_callbacks(execute=True):
        assert confirmed(web, f"/invoices/{invoice.pk}/b2brouter/create/").status_code == 302
    b2brouter_id = InvoiceLink.objects.get(invoice=invoice).b2brouter_id
    data, key = account

    def remote_state() -> str:
        return sim.api("GET", f"/invoices/{b2brouter_id}", key)["invoice"]["state"]

    run_rq_worker()
    assert remote_state() == "sending"  # not due yet
    deadline = time.monotonic() + 15
    while remote_state() == "sending" and time.monotonic() < deadline:
        time.sleep(0.25)
        with django_capture_on_commit_callbacks(execute=True):
            run_rq_worker()
    assert remote_state() == "sent"
