"""The job that captures a large EPCIS document (``jobs`` rows of kind ``epcis_capture``).

The document's events wait in their capture row (``pending``), written in the request that
accepted it; the worker captures them in one transaction of its own, so the capture is all or
nothing like an inline one, and a retried job finds the capture finished and does nothing.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from traceapp.db import transaction
from traceapp.epcis import capture, documents, standard
from traceapp.epcis.errors import ArtefactsMissing, EpcisProblem
from traceapp.jobs import Progress
from traceapp.jobs.models import Job

_EXT = "traceapp.epcis.artefacts"


def artefacts() -> standard.Artefacts:
    """GS1's schema and context, read once per app from ``EPCIS_ARTEFACTS_DIR``. Raises
    ArtefactsMissing (503) while the folder lacks them."""
    found = current_app.extensions.get(_EXT)
    if found is None:
        folder = Path(current_app.config["EPCIS_ARTEFACTS_DIR"])
        candidate = standard.Artefacts(folder)
        if missing := candidate.missing():
            raise ArtefactsMissing(
                _(
                    "GS1's %(files)s are not in %(folder)s: an operator runs "
                    "“traceapp epcis fetch-artefacts” once to download them from ref.gs1.org.",
                    files=", ".join(missing),
                    folder=str(folder),
                )
            )
        found = current_app.extensions[_EXT] = candidate
    return found


#: Errors of the events themselves: a retry would meet them again, so the capture fails now.
_CANNOT_RUN = (EpcisProblem, ValueError, OverflowError, KeyError, TypeError)


def capture_document(job_params: dict[str, Any], progress: Progress) -> tuple[str, str, bytes]:
    """Capture the pending events of a capture; the job's file is the capture job resource.
    The events are hashed before the write transaction opens. Events that cannot be read fail
    the capture at once (with the reason in its errors); any other error fails it after the
    job's last attempt, so a capture never stays running for ever."""
    pk = uuid.UUID(job_params["capture"])
    count = 0
    try:
        with transaction() as session:
            pending = capture.pending_events(session, pk)
        count = len(pending or [])
        hashes = capture.hashes_of(artefacts(), pending) if pending is not None else None
        with transaction() as session:
            done = capture.run_capture(session, pk, artefacts=artefacts(), hashes=hashes)
            answer = documents.capture_job(done)
    except ArtefactsMissing:
        if progress.claim.attempt >= _max_attempts(progress.claim.job_id):
            _failed(pk, ArtefactsMissing())
        raise  # an operator fetches them: the next attempt may run
    except _CANNOT_RUN as exc:
        answer = _failed(pk, exc)
    except Exception as exc:
        if progress.claim.attempt >= _max_attempts(progress.claim.job_id):
            _failed(pk, exc)
        raise
    progress(count, count, force=True)
    return "capture.json", "application/json", json.dumps(answer).encode()


def _failed(pk: uuid.UUID, exc: Exception) -> dict[str, Any]:
    detail = exc.detail if isinstance(exc, EpcisProblem) and exc.detail else type(exc).__name__
    with transaction() as session:
        failed = capture.fail_capture(session, pk, detail=str(detail))
        if failed is None:
            raise exc
        return documents.capture_job(failed)


def _max_attempts(job_id: uuid.UUID) -> int:
    with transaction() as session:
        return session.get(Job, job_id).max_attempts
