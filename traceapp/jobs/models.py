"""The durable side of the job queue: a row per job that must not be lost, and sweep leases.

The broker (Huey on SQLite or Redis) only carries "run job X now"; what a job is, how far it
got, how often it failed and its result live here, in the application's database, written in
the same transaction as the request that asked for it. A message lost between the commit and
the broker (a process killed, the broker down) is handed off again by the sweep.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from traceapp.db import Base, UUIDPk, utcnow


class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(UUIDPk, Base):
    """One piece of work an organisation asked for (an export), claimed by one worker at a time."""

    __tablename__ = "jobs"

    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[JobStatus] = mapped_column(default=JobStatus.QUEUED, index=True)
    #: Runs started (a claim counts one); the job fails for good at ``max_attempts``.
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Last hand-off to the broker; the sweep hands a queued job off again after a grace period.
    handed_off_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    #: A fresh random id per claim (never reused, unlike ``attempts``, which an admin's retry
    #: resets): a run may report, extend its lease, finish or fail only while it still matches.
    claim_id: Mapped[uuid.UUID | None]
    #: A running job whose worker has not reported before this time is taken back.
    lease_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class JobFile(Base):
    """The file a job produced, in the database so that any instance can serve it."""

    __tablename__ = "job_files"

    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class JobLease(Base):
    """A named lease (the periodic sweep): one holder at a time across every worker and host,
    and it expires by itself if the holder dies."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    held_until: Mapped[datetime]
