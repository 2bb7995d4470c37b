"""Keep B2Brouter states current without cron: the sync queued on a schedule, and tasks a dead worker left behind.

The task worker runs the scheduler itself: ``b2binvoice db_worker`` (the embedded database queue) and
``b2binvoice rqworker`` (RQ) start :func:`run` in a background thread of the worker process (see
``apps.py``). Every few seconds it calls :func:`tick`, which

* queues the sync task (:func:`tasks.sync_b2brouter`) when ``B2BROUTER_SYNC_INTERVAL`` seconds have
  passed since the last one was queued. Several workers agree through one database row: only the
  worker whose conditional UPDATE moves ``next_run_at`` forward queues, so a pass is queued once per
  interval however many workers run;
* re-queues tasks that a worker claimed and never finished (the process was killed): on the database
  queue, a task RUNNING for longer than ``B2BROUTER_TASK_STALE_AFTER`` seconds goes back to READY; on
  RQ, the jobs RQ itself declares abandoned (their worker stopped sending heartbeats before the job's
  timeout) are put back in their queue. A task claimed ``MAX_CLAIMS`` times without finishing is
  marked failed instead, so a task that kills its worker cannot loop for ever.

``b2binvoice b2brouter_scheduler`` runs the same loop as a process of its own (``--once``: one tick),
for deployments whose workers should not carry it; cron running ``b2brouter_sync`` still works too.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from .models import SchedulerState

logger = logging.getLogger(__name__)

SYNC_JOB = "b2brouter_sync"
#: A task claimed this many times without finishing is failed instead of re-queued.
MAX_CLAIMS = 3
#: The commands whose process runs the scheduler thread.
WORKER_COMMANDS = frozenset({"db_worker", "rqworker"})


def sync_interval() -> dt.timedelta | None:
    """Return how often the sync is queued (``B2BROUTER_SYNC_INTERVAL`` seconds, default 300); None: never."""
    seconds = float(getattr(settings, "B2BROUTER_SYNC_INTERVAL", 300) or 0)
    return dt.timedelta(seconds=seconds) if seconds > 0 else None


def stale_after() -> dt.timedelta:
    """Return after how long a RUNNING task is taken for abandoned (``B2BROUTER_TASK_STALE_AFTER``, default 1800 s)."""
    return dt.timedelta(seconds=float(getattr(settings, "B2BROUTER_TASK_STALE_AFTER", 1800)))


def queue_sync_if_due(now: dt.datetime | None = None) -> bool:
    """Queue the sync of every enabled integration if the interval has passed; answer whether this call queued it."""
    interval = sync_interval()
    if interval is None:
        return False
    now = now or timezone.now()
    state, _ = SchedulerState.objects.get_or_create(name=SYNC_JOB)
    if state.next_run_at is not None and state.next_run_at > now:
        return False
    # Compare and set: of the workers that saw the same next_run_at, one moves it forward and queues.
    won = SchedulerState.objects.filter(pk=state.pk, next_run_at=state.next_run_at).update(
        next_run_at=now + interval, last_run_at=now)
    if not won:
        return False
    from .tasks import sync_b2brouter  # noqa: PLC0415 (tasks import the app's models lazily)

    sync_b2brouter.enqueue(trigger="schedule")
    return True


def _backend() -> Any:
    from .tasks import sync_b2brouter  # noqa: PLC0415

    return sync_b2brouter.get_backend()  # the backend itself, not the settings proxy


def requeue_stale(now: dt.datetime | None = None) -> dict[str, int]:
    """Put back in their queue the tasks a dead worker left RUNNING; answer how many were re-queued and failed."""
    backend = _backend()
    if type(backend).__module__.startswith("django_tasks_db"):
        return _requeue_stale_db(backend, now or timezone.now())
    if type(backend).__module__.startswith("django_tasks_rq"):
        return _requeue_stale_rq(backend)
    return {"requeued": 0, "failed": 0}


def _requeue_stale_db(backend: Any, now: dt.datetime) -> dict[str, int]:
    from django_tasks.base import TaskResultStatus  # noqa: PLC0415
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415

    counts = {"requeued": 0, "failed": 0}
    stale = DBTaskResult.objects.running().filter(backend_name=backend.alias, started_at__lt=now - stale_after())
    for row in stale.only("pk", "worker_ids", "task_path", "args_kwargs"):
        if _bulk_run_still_working(row, now):
            continue
        running = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING)
        if len(row.worker_ids or []) >= MAX_CLAIMS:
            counts["failed"] += running.update(
                status=TaskResultStatus.FAILED, finished_at=now,
                exception_class_path="b2binvoice.einvoicing.scheduler.WorkerLost",
                traceback=f"The task was claimed {len(row.worker_ids)} times and never finished: "
                          f"its worker stopped each time.")
        else:
            counts["requeued"] += running.update(status=TaskResultStatus.READY, started_at=None, run_after=now)
    if counts["requeued"] or counts["failed"]:
        logger.warning("Tasks left running by a stopped worker: %(requeued)s re-queued, %(failed)s failed", counts)
    return counts


def _bulk_run_still_working(row: Any, now: dt.datetime) -> bool:
    """Tell whether a long bulk run's task is alive: one of its invoices finished within the timeout.

    A bulk run of thousands of invoices may run longer than ``B2BROUTER_TASK_STALE_AFTER``; its items
    finishing one after another show its worker is alive, so it is not re-queued beside itself. When
    its worker was killed, the items stop finishing and the task is re-queued: the run resumes with the
    invoices still waiting (``bulk.run_bulk``), the one in flight included (its create converges
    through the link's attempt record, never a duplicate).
    """
    if not row.task_path.endswith(".bulk_run"):
        return False
    from .models import BulkRunItem  # noqa: PLC0415

    args = (row.args_kwargs or {}).get("args") or []
    run_id = args[0] if args else (row.args_kwargs or {}).get("kwargs", {}).get("run_id")
    if run_id is None:
        return False
    return BulkRunItem.objects.filter(run_id=run_id, finished_at__gte=now - stale_after()).exists()


def _requeue_stale_rq(backend: Any) -> dict[str, int]:
    from rq.registry import FailedJobRegistry, StartedJobRegistry  # noqa: PLC0415

    counts = {"requeued": 0, "failed": 0}
    for queue in backend._get_queues():  # noqa: SLF001 (the backend's own list of RQ queues)
        # RQ's cleanup moves jobs whose worker stopped heartbeating past their timeout to the failed registry.
        StartedJobRegistry(queue=queue).cleanup()
        failed = FailedJobRegistry(queue=queue)
        for job_id in failed.get_job_ids():
            job = queue.fetch_job(job_id)
            result = job.latest_result() if job is not None else None
            if job is None or result is None or "AbandonedJobError" not in (result.exc_string or ""):
                continue
            claims = int(job.meta.get("b2binvoice_claims", 1))
            if claims >= MAX_CLAIMS:
                continue  # stays failed
            job.meta["b2binvoice_claims"] = claims + 1
            job.save_meta()
            failed.requeue(job)
            counts["requeued"] += 1
    if counts["requeued"]:
        logger.warning("RQ jobs abandoned by a stopped worker: %(requeued)s re-queued", counts)
    return counts


def tick(now: dt.datetime | None = None) -> dict[str, Any]:
    """Do what is due once: re-queue abandoned tasks, queue the sync if its time has come."""
    counts = requeue_stale(now)
    return {"sync_queued": queue_sync_if_due(now), **counts}


def poll_seconds() -> float:
    interval = sync_interval()
    return min(interval.total_seconds(), 30.0) if interval else 30.0


def run(stop: threading.Event, poll: float | None = None) -> None:
    """Tick every ``poll`` seconds until ``stop`` is set; a failing tick is logged and retried next time."""
    poll = poll or poll_seconds()
    while not stop.is_set():
        try:
            close_old_connections()
            tick()
        except Exception:  # noqa: BLE001 (a database or Redis outage must not end the loop)
            logger.exception("The B2Brouter scheduler could not run")
        finally:
            close_old_connections()
        stop.wait(poll)


_thread: threading.Thread | None = None


def start_in_worker(argv: list[str]) -> threading.Thread | None:
    """Start the scheduler thread when this process is a task worker (``argv`` names the command)."""
    global _thread  # noqa: PLW0603 (one scheduler thread per process)
    if _thread is not None or not getattr(settings, "B2BROUTER_SCHEDULER_IN_WORKER", True):
        return _thread
    if len(argv) < 2 or argv[1] not in WORKER_COMMANDS:
        return None
    _thread = threading.Thread(target=run, args=(threading.Event(),), name="b2brouter-scheduler", daemon=True)
    _thread.start()
    return _thread
