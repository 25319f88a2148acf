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
from traceapp.epcis.errors import ArtefactsMissing
from traceapp.jobs import Progress

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


def capture_document(job_params: dict[str, Any], progress: Progress) -> tuple[str, str, bytes]:
    """Capture the pending events of a capture; the job's file is the capture job resource."""
    with transaction() as session:
        done = capture.run_capture(session, uuid.UUID(job_params["capture"]), artefacts=artefacts())
        answer = documents.capture_job(done)
    progress(done.event_count, done.event_count, force=True)
    return "capture.json", "application/json", json.dumps(answer).encode()
