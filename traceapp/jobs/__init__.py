"""The job queue: Huey, wired to our transactions.

Work that outgrows a request (rendering stored public pages, building a large export) runs in
``traceapp worker`` processes. A service asks for it with ``enqueue(session, name, **kwargs)``
inside its write transaction; the message reaches the broker only after that transaction
commits (the session's ``after_commit``), and is dropped if it rolls back, so a worker never
acts on a write that did not happen.

What must not be lost lives in our database, written in the same transaction: stale
``public_pages`` rows for page renders, ``jobs`` rows for exports. A message lost between the
commit and the broker is therefore only late: the worker's periodic sweep (``sweep``) renders
stale pages, hands queued jobs off again after a grace period and takes back jobs whose worker
died (see ``traceapp.jobs.services``).

The broker is ``JOBS_URL``: by default a SQLite file in the instance folder (``SqliteHuey``, no
service to install), ``redis://host:port/db`` for production (``RedisHuey``, with short
connect and read timeouts, ``JOBS_BROKER_TIMEOUT``, so that a hand-off to a broker that is
down fails fast instead of holding up a committed request). The Huey instance
is built by ``init_app``, with its tasks registered on it there: nothing happens at import.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from huey.storage import SqliteStorage
from redis import ConnectionPool
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from traceapp.db import separate_transaction, transaction
from traceapp.jobs import services
from traceapp.jobs.services import Claim

log = logging.getLogger(__name__)

_EXT = "traceapp.jobs"
_PENDING = "traceapp.jobs.pending"
#: The task that runs a ``jobs`` row (claims it first).
RUN_JOB = "run_job"
#: Seconds a worker's blocking read waits on an empty Redis queue (Huey's default).
_READ_TIMEOUT = 1


class ClaimLost(Exception):
    """Raised by ``Progress`` in a handler whose job was taken back (its lease ran out, or an
    admin retried it): another run owns the job now, this one must stop. ``run_job`` lets it
    end quietly: the job is not failed, and Huey does not retry."""


class Progress:
    """Handed to a job's handler: ``progress(done, total)`` records how far it got, at most
    every ``every`` seconds, in a short transaction of its own (the handler's read may still be
    open), so the job's owner sees it while the work goes on; it also extends the lease. Raises
    ClaimLost when the job is no longer this run's."""

    def __init__(self, claim: Claim, lease: timedelta, every: float = 0.5):
        self.claim, self.lease, self.every = claim, lease, every
        self._last = 0.0

    def __call__(self, done: int, total: int | None, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.every:
            self._last = now
            with separate_transaction() as session:
                held = services.report_progress(session, self.claim, done=done, total=total, lease=self.lease)
            if not held:
                raise ClaimLost(str(self.claim.job_id))


#: A job handler: (its parameters, a progress reporter) → (file name, content type, bytes).
Handler = Callable[[dict[str, Any], Progress], tuple[str, str, bytes]]


@dataclass
class Queue:
    """The app's Huey instance, its tasks by name, and the handlers of ``jobs`` rows by kind."""

    huey: Huey
    tasks: dict[str, TaskWrapper] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)


def init_app(
    app: Flask,
    sessions: sessionmaker[Session],
    *,
    tasks: dict[str, Callable[..., Any]],
    handlers: dict[str, Handler],
    sweeps: list[Callable[[float], Any]],
) -> Queue:
    """Build the Huey instance for ``app``, register ``tasks`` (each run in an app context),
    the ``run_job`` task for the ``handlers`` of job rows, and the periodic sweep (which also
    calls each of ``sweeps`` with its time budget in seconds); hand messages to the broker when
    ``sessions`` commit."""
    queue = Queue(make_huey(app), handlers=dict(handlers))
    config = app.config
    retry = {
        "retries": int(config["JOBS_RETRIES"]),
        "retry_delay": float(config["JOBS_RETRY_DELAY"]),
        "retry_backoff": float(config["JOBS_RETRY_BACKOFF"]),
    }
    for name, func in {**tasks, RUN_JOB: run_job}.items():
        queue.tasks[name] = queue.huey.task(name=name, **retry)(_in_app_context(app, func))
    queue.tasks["sweep"] = queue.huey.periodic_task(crontab(), name="sweep")(
        _in_app_context(app, lambda: sweep(sweeps))
    )
    app.extensions[_EXT] = queue
    event.listen(sessions, "after_commit", lambda session: _hand_off(queue, session))
    event.listen(sessions, "after_transaction_end", _drop)
    return queue


def make_huey(app: Flask) -> Huey:
    """The Huey instance ``JOBS_URL`` names: ``redis://...`` or ``sqlite:///path`` (default: a
    SQLite file in the instance folder). Raises ValueError for another scheme.

    Redis connections time out after ``JOBS_BROKER_TIMEOUT`` seconds (reads after that plus
    the worker's blocking read): a hand-off runs in the request, after its commit, and must
    fail fast (logged, sent again by the sweep) rather than hang the answer on a dead broker."""
    url = str(app.config["JOBS_URL"] or f"sqlite:///{Path(app.instance_path) / 'jobs.sqlite3'}")
    name = str(app.config["JOBS_NAME"])
    # No result store: what a job produced is in our database (a task's return value would
    # pile up in the broker, one per page render).
    if url.startswith(("redis://", "rediss://", "unix://")):
        timeout = float(app.config["JOBS_BROKER_TIMEOUT"])
        pool = ConnectionPool.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout + _READ_TIMEOUT
        )
        return RedisHuey(name, connection_pool=pool, read_timeout=_READ_TIMEOUT, utc=True, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), utc=True, results=False, storage_class=_SqliteStorage)
    raise ValueError(f"TRACEAPP_JOBS_URL must start with redis:// or sqlite:///, not {url!r}")


class _SqliteStorage(SqliteStorage):
    """Huey's SQLite storage with ``synchronous=NORMAL`` (as our own database), not FULL: WAL
    stays safe from corruption, and a message lost to a power cut is only late (the sweep sends
    it again), while FULL would cost an fsync on every write that hands off a job."""

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


def queue() -> Queue:
    """The current app's queue."""
    return current_app.extensions[_EXT]


def _in_app_context(app: Flask, func: Callable[..., Any]) -> Callable[..., Any]:
    # A fresh app context per run: its own ``g`` and so its own database session, also when
    # Huey runs a task in the process that enqueued it.
    def run(*args: Any, **kwargs: Any) -> Any:
        with app.app_context():
            return func(*args, **kwargs)

    run.__name__ = run.__qualname__ = getattr(func, "__name__", "task")
    return run


# -- enqueueing inside the transaction -------------------------------------------------------


def enqueue(session: Session, name: str, **kwargs: Any) -> None:
    """Send task ``name`` with ``kwargs`` (JSON-like values) when ``session``'s transaction
    commits; nothing is sent if it rolls back."""
    session.info.setdefault(_PENDING, []).append((name, kwargs))


def _hand_off(queue: Queue, session: Session) -> None:
    for name, kwargs in session.info.pop(_PENDING, []):
        try:
            queue.tasks[name](**kwargs)
        except Exception:
            # The write is committed and must stay so; its durable state (stale page, queued
            # job row) lets the sweep send this again.
            log.exception("could not hand %s to the job broker; the sweep will", name)


def _drop(session: Session, transaction: Any) -> None:
    # The outermost transaction ended without a commit (after a commit the list is gone
    # already). A savepoint rolled back inside a committed transaction keeps its messages:
    # every task checks the database first (the page is current, the job row is not queued),
    # so such a message does nothing.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# -- running jobs rows ---------------------------------------------------------------------------


def lease(app: Flask | None = None) -> timedelta:
    return timedelta(seconds=float((app or current_app).config["JOBS_LEASE_SECONDS"]))


def run_job(job_id: str) -> str:
    """Claim the job and run its handler: done with its file, or failed (queued again while
    attempts remain: the error is raised again so that Huey retries it after its backoff).
    A job another worker holds, or already done, is left alone; so is a job taken back from
    this run while it ran (``ClaimLost``, or nothing matched at the end): the run that holds
    it now decides, and Huey does not retry this one."""
    with transaction() as session:
        claim = services.claim(session, uuid.UUID(job_id), lease=lease())
    if claim is None:
        return "skipped"
    try:
        filename, content_type, data = queue().handlers[claim.kind](claim.params, Progress(claim, lease()))
    except ClaimLost:
        log.warning("job %s was taken back from this run; it stops", job_id)
        return "lost"
    except Exception as exc:
        with transaction() as session:
            status = services.fail(
                session, claim, error="".join(traceback.format_exception_only(exc)).strip()
            )
        if status is None:
            log.warning("job %s failed after it was taken back from this run: %s", job_id, exc)
            return "lost"
        raise
    with transaction() as session:
        finished = services.finish(session, claim, filename=filename, content_type=content_type, data=data)
    if not finished:
        log.warning("job %s was taken back from this run; its file is dropped", job_id)
        return "lost"
    return "done"


def sweep(sweeps: list[Callable[[float], Any]]) -> int:
    """The periodic pass (every minute, in one worker at a time): hand queued jobs off again
    and take back those of dead workers, then let each of ``sweeps`` (stale pages) work for
    its time budget. Returns how many jobs were handed off."""
    budget = float(current_app.config["JOBS_SWEEP_SECONDS"])
    with transaction() as session:
        if not services.take_lease(session, "sweep", seconds=budget + 10):
            return 0
        ids = services.recover(
            session, grace=timedelta(seconds=float(current_app.config["JOBS_GRACE_SECONDS"]))
        )
        for job_id in ids:
            enqueue(session, RUN_JOB, job_id=str(job_id))
    for work in sweeps:
        work(budget)
    return len(ids)
