"""The job rows' life: create, claim, report, finish, fail, recover, retry. Services flush;
they never commit.

One claim at a time: a worker runs a job only after winning its claim, one conditional UPDATE
(queued → running ``WHERE status = 'queued'``); of two workers holding the same message, or
two messages for the same job, one wins and the other does nothing. A worker that dies, or
does not report within its lease (a long step), leaves a lease that expires; the sweep then
puts the job back in the queue (counting the attempt), so a job is never lost. Each claim
gets a random ``claim_id`` of its own, and reporting progress (which extends the lease),
finishing and failing are conditional on it: a worker whose job was taken back (its lease
ran out, an admin retried it) matches nothing, so it cannot overwrite the result, and its
progress reporter stops it (``ClaimLost``). So a job may be started more than once, but its
result is stored once, by the run that holds it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from traceapp.db import utcnow
from traceapp.errors import Conflict, NotFound
from traceapp.jobs.models import Job, JobFile, JobLease, JobStatus

#: Longest error text kept on a failed job (the traceback's last line is what an admin needs).
ERROR_MAX = 2000
#: The error of a job taken back from a worker, for an admin: English, not translated (it is
#: stored, and a worker has no reader's locale); the job's owner gets a message of its own.
LOST = "worker stopped: its lease ran out before the job finished (it died, or a step outlasted the lease)"


@dataclass(frozen=True)
class Claim:
    """A won claim: the job's id, kind and parameters, which attempt this run is, and the
    claim's own id (what fences this run off from any later one)."""

    job_id: uuid.UUID
    kind: str
    params: dict[str, Any]
    attempt: int
    claim_id: uuid.UUID


def create_job(
    session: Session,
    *,
    kind: str,
    params: dict[str, Any],
    org_id: uuid.UUID,
    created_by_id: uuid.UUID | None,
    max_attempts: int,
) -> Job:
    """A queued job row (hand it to the broker with ``traceapp.jobs.enqueue`` in the same
    transaction)."""
    job = Job(
        id=uuid.uuid4(),
        kind=kind,
        params=params,
        org_id=org_id,
        created_by_id=created_by_id,
        max_attempts=max_attempts,
    )
    session.add(job)
    session.flush()
    return job


def claim(session: Session, job_id: uuid.UUID, *, lease: timedelta) -> Claim | None:
    """Take a queued job for this worker; None when another worker has it, or it is done,
    failed or unknown (a duplicate message)."""
    now, claim_id = utcnow(), uuid.uuid4()
    won = session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            claim_id=claim_id,
            started_at=now,
            lease_until=now + lease,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        return None
    row = session.execute(sa.select(Job.kind, Job.params, Job.attempts).where(Job.id == job_id)).one()
    return Claim(job_id, row.kind, row.params, row.attempts, claim_id)


def _running(claim: Claim) -> Any:
    return sa.and_(Job.id == claim.job_id, Job.status == JobStatus.RUNNING, Job.claim_id == claim.claim_id)


def report_progress(
    session: Session, claim: Claim, *, done: int, total: int | None, lease: timedelta
) -> bool:
    """Record how far the run got (``total`` None: not known yet) and extend its lease; False
    if the job was taken back."""
    result = session.execute(
        sa.update(Job)
        .where(_running(claim))
        .values(progress_done=done, progress_total=total, lease_until=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish(session: Session, claim: Claim, *, filename: str, content_type: str, data: bytes) -> bool:
    """Store the run's file and mark the job done; False if the job was taken back meanwhile."""
    result = session.execute(
        sa.update(Job)
        .where(_running(claim))
        .values(status=JobStatus.DONE, finished_at=utcnow(), lease_until=None, error=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.add(JobFile(job_id=claim.job_id, filename=filename, content_type=content_type, data=data))
    session.flush()
    return True


def fail(session: Session, claim: Claim, *, error: str) -> JobStatus | None:
    """Record a failed run: back to queued while attempts remain (the broker retries it after
    its backoff), else failed for good, kept with its error. Returns the new status, or None
    if the job was taken back meanwhile."""
    row = session.execute(
        sa.select(Job.max_attempts).where(_running(claim)).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return None
    status = JobStatus.FAILED if claim.attempt >= row else JobStatus.QUEUED
    session.execute(
        sa.update(Job)
        .where(_running(claim))
        .values(
            status=status,
            error=error[-ERROR_MAX:],
            lease_until=None,
            handed_off_at=utcnow(),
            finished_at=utcnow() if status is JobStatus.FAILED else None,
        )
        .execution_options(synchronize_session=False)
    )
    return status


def recover(session: Session, *, grace: timedelta) -> list[uuid.UUID]:
    """Take back running jobs whose lease ran out (queued again, or failed when that was the
    last attempt), and return the queued jobs to hand to the broker again: those taken back
    and those handed off more than ``grace`` ago that no worker claimed (a lost message)."""
    now = utcnow()
    expired = (Job.status == JobStatus.RUNNING, Job.lease_until < now)
    session.execute(
        sa.update(Job)
        .where(*expired, Job.attempts >= Job.max_attempts)
        .values(status=JobStatus.FAILED, error=LOST, lease_until=None, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.update(Job)
        .where(*expired)
        .values(status=JobStatus.QUEUED, error=LOST, lease_until=None, handed_off_at=now - grace)
        .execution_options(synchronize_session=False)
    )
    ids = list(
        session.scalars(
            sa.select(Job.id).where(Job.status == JobStatus.QUEUED, Job.handed_off_at <= now - grace)
        )
    )
    if ids:
        session.execute(
            sa.update(Job)
            .where(Job.id.in_(ids))
            .values(handed_off_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def retry_job(session: Session, job_id: uuid.UUID) -> Job:
    """Put a failed job back in the queue with its attempts, error and progress reset (an
    admin's decision; hand it to the broker with ``traceapp.jobs.enqueue``). Raises NotFound,
    and Conflict when the job has not failed."""
    # (fresh from the database: the other services change job rows with bulk UPDATEs)
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFound(_("No such job."))
    if job.status is not JobStatus.FAILED:
        raise Conflict(
            _("Only a failed job can be retried; this one is %(status)s.", status=job.status.value)
        )
    job.status, job.attempts, job.handed_off_at, job.finished_at = JobStatus.QUEUED, 0, utcnow(), None
    job.error, job.progress_done, job.progress_total = None, 0, None
    session.flush()
    return job


def list_jobs(session: Session, *, failed_only: bool = False, limit: int = 100) -> Sequence[Job]:
    """The latest jobs, newest first (only the failed ones with ``failed_only``)."""
    query = sa.select(Job).order_by(Job.created_at.desc()).limit(limit)
    if failed_only:
        query = query.where(Job.status == JobStatus.FAILED)
    return session.scalars(query).all()


def job_file(session: Session, job_id: uuid.UUID) -> JobFile | None:
    """The file a done job produced."""
    return session.get(JobFile, job_id)


def take_lease(session: Session, name: str, *, seconds: float, now: datetime | None = None) -> bool:
    """Hold the lease ``name`` for ``seconds`` unless someone else holds it now."""
    now = now or utcnow()
    until = now + timedelta(seconds=seconds)
    taken = session.execute(
        sa.update(JobLease)
        .where(JobLease.name == name, JobLease.held_until < now)
        .values(held_until=until)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        return True
    if session.get(JobLease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(JobLease(name=name, held_until=until))
    except IntegrityError:  # another worker created it first: it holds it
        return False
    return True
