"""Recall exports as jobs: asked for in a request, built by a worker, stored in the database.

``start_export`` writes a ``jobs`` row and hands it to the broker when the request commits;
``build_export`` (the job's handler, in ``traceapp worker``) builds the same file the
synchronous ``export.csv``/``export.xlsx`` would, reporting rows done; the file is stored with
the job, so any instance serves it. Only the organisation that asked, and while it may still
see the recall, reads the job and its file.

The synchronous exports stay for small recalls: above ``EXPORT_SYNC_MAX_ROWS`` rows they
answer 413 and point at the job flow (``check_sync_export``).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from traceapp import jobs, zones
from traceapp.db import transaction
from traceapp.errors import Conflict, NotFound, PayloadTooLarge
from traceapp.jobs import services as job_services
from traceapp.jobs.models import Job, JobFile, JobStatus
from traceapp.orgs.models import DEFAULT_ZONE
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.services import Actor
from traceapp.recalls import export
from traceapp.recalls.models import Recall
from traceapp.recalls.services import get_visible_recall

#: The kind of the ``jobs`` rows of recall exports.
EXPORT_JOB = "recall_export"


def start_export(
    session: Session, actor: Actor, *, recall_id: uuid.UUID, fmt: str, columns: str, max_attempts: int
) -> Job:
    """Queue the export of a recall the actor may see, as ``fmt`` (csv, xlsx) with ``columns``
    (en, zh); a worker builds it once the transaction commits. Raises PermissionDenied, NotFound."""
    require(actor, Action.EXPORT_RECALL)
    recall = get_visible_recall(session, actor, recall_id)
    job = job_services.create_job(
        session,
        kind=EXPORT_JOB,
        params={
            "recall_id": str(recall.id),
            "format": fmt,
            "columns": columns,
            "timezone": zones.org_zone(session, actor.org_id),
        },
        org_id=actor.org_id,
        created_by_id=actor.user_id,
        max_attempts=max_attempts,
    )
    jobs.enqueue(session, jobs.RUN_JOB, job_id=str(job.id))
    return job


def get_export_job(session: Session, actor: Actor, *, recall_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """An export job of this recall that the actor's organisation asked for, while it may still
    see the recall. Raises NotFound (also for another organisation's job: its existence is
    not theirs to learn)."""
    get_visible_recall(session, actor, recall_id)
    job = session.get(Job, job_id)
    if (
        job is None
        or job.kind != EXPORT_JOB
        or job.org_id != actor.org_id
        or job.params.get("recall_id") != str(recall_id)
    ):
        raise NotFound(_("No such export."))
    return job


def get_export_file(session: Session, actor: Actor, *, recall_id: uuid.UUID, job_id: uuid.UUID) -> JobFile:
    """The file of a done export job (see ``get_export_job``). Raises NotFound, and Conflict
    while the job is not done."""
    job = get_export_job(session, actor, recall_id=recall_id, job_id=job_id)
    stored = job_services.job_file(session, job.id) if job.status is JobStatus.DONE else None
    if stored is None:
        raise Conflict(_("This export is not ready: it is %(status)s.", status=job.status.value))
    return stored


def recall_for_direct_export(session: Session, actor: Actor, recall_id: uuid.UUID, *, limit: int) -> Recall:
    """The recall whose export the actor downloads at once (not as a job): one it may see and
    export, of at most ``limit`` rows. Raises PermissionDenied, NotFound, PayloadTooLarge."""
    require(actor, Action.EXPORT_RECALL)
    recall = get_visible_recall(session, actor, recall_id)
    check_sync_export(session, recall.id, limit=limit)
    return recall


def check_sync_export(session: Session, recall_id: uuid.UUID, *, limit: int) -> None:
    """Refuse a synchronous export of more than ``limit`` rows. Raises PayloadTooLarge, whose
    detail points at the job flow."""
    count = export.count_rows(session, recall_id)
    if count > limit:
        raise PayloadTooLarge(
            _(
                "This export has %(count)d rows, more than %(limit)d for a direct download. Start an "
                "export job instead: POST /api/v1/recalls/%(id)s/exports, or “Build the export” on "
                "the recall page.",
                count=count,
                limit=limit,
                id=recall_id,
            )
        )


def build_export(params: dict[str, Any], progress: jobs.Progress) -> tuple[str, str, bytes]:
    """The job's handler: the export file, byte for byte what the synchronous export gives,
    with rows done reported as it goes. Counting the rows and putting the file together
    report nothing while they run, so it reports (extending the lease) right before and after
    each: a step longer than the lease still lets another worker take the job over."""
    recall_id, fmt = uuid.UUID(params["recall_id"]), params["format"]
    with transaction(write=False) as session:  # one read; progress is written beside it
        progress(0, None, force=True)
        total = export.count_rows(session, recall_id)
        progress(0, total, force=True)
        data = export.to_file(
            session,
            recall_id,
            fmt=fmt,
            columns=params["columns"],
            zone=params.get("timezone") or DEFAULT_ZONE,  # jobs queued before time zones: Beijing
            on_row=lambda done: progress(done, total),
            on_rows_done=lambda done: progress(done, total, force=True),
        )
    progress(total, total, force=True)
    return export.filename(recall_id, fmt), export.CONTENT_TYPES[fmt], data


def owner_error(job: Job) -> str | None:
    """What the organisation that asked learns of a failed attempt, in its language. The error
    itself stays in the job row for an administrator (``traceapp jobs list``): it may name
    database hosts, SQL or driver internals."""
    if job.status is JobStatus.FAILED:
        return ngettext(
            "The export could not be built after %(num)d attempt; an administrator has been told "
            "why and can retry it.",
            "The export could not be built after %(num)d attempts; an administrator has been told "
            "why and can retry it.",
            job.attempts,
        )
    if job.status is JobStatus.QUEUED and job.error is not None:
        return _("An attempt to build the export failed; it will be tried again.")
    return None


def percent(job: Job) -> int:
    """How far a job got, 0 to 100 (100 when done)."""
    if job.status is JobStatus.DONE:
        return 100
    if not job.progress_total:
        return 0
    return min(100, job.progress_done * 100 // job.progress_total)
