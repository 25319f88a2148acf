"""``/api/v1/trace/{code}`` and ``/api/v1/recalls``: trace, recall, acknowledge, close, export."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, stream_with_context, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from traceapp import db, zones
from traceapp.api import ApiBlueprint
from traceapp.auth import api_actor
from traceapp.certificates.queries import find_by_code, scan_problem
from traceapp.certificates.texts import scan_reason
from traceapp.errors import NotFound
from traceapp.jobs.models import Job
from traceapp.recalls import documents, export, exports, queries, services
from traceapp.recalls.export import XLSX
from traceapp.recalls.models import Recall
from traceapp.recalls.schemas import (
    CloseIn,
    ExportJobIn,
    ExportJobOut,
    ExportQuery,
    RecallIn,
    RecallListOut,
    RecallOut,
    TraceOut,
    TraceQuery,
)
from traceapp.urls import public_base_url

trace_blp = ApiBlueprint(
    "trace_api",
    __name__,
    url_prefix="/api/v1/trace",
    description="Trace a batch backward to its sources or forward to where it went.",
)
blp = ApiBlueprint(
    "recalls_api",
    __name__,
    url_prefix="/api/v1/recalls",
    description="Open, acknowledge, close and export recalls.",
)


@trace_blp.route("/<code>")
class Trace(MethodView):
    @trace_blp.arguments(TraceQuery, location="query")
    @trace_blp.response(200, TraceOut)
    def get(self, args: dict[str, Any], code: str) -> dict[str, Any]:
        """Trace a code: every batch and organisation reached, with mass balance."""
        certificate = find_by_code(db.session(), code)
        if certificate is None:
            raise NotFound(
                scan_reason(scan_problem(db.session(), code)) or _("No certificate has this trace code.")
            )
        found = queries.trace(db.session(), api_actor(), certificate, direction=args["direction"])
        return documents.trace_document(found, base_url=public_base_url())


@blp.route("")
class Recalls(MethodView):
    @blp.response(200, RecallListOut)
    def get(self) -> dict[str, Any]:
        """Recalls the caller sees (regulators: all; others: those they are party to)."""
        session = db.session()
        return {"items": [recall_document(session, r) for r in queries.visible_recalls(session, api_actor())]}

    @blp.arguments(RecallIn)
    @blp.response(201, RecallOut)
    @blp.errors(403, 404)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Recall batches and everything made from them."""
        with db.transaction() as session:
            recall = services.open_recall(session, api_actor(), data=data)
        return recall_document(db.session(), recall)


@blp.route("/<uuid:recall_id>")
class RecallById(MethodView):
    @blp.response(200, RecallOut)
    def get(self, recall_id: uuid.UUID) -> dict[str, Any]:
        """A recall, its batches and who has and has not acknowledged."""
        recall = services.get_visible_recall(db.session(), api_actor(), recall_id)
        return recall_document(db.session(), recall)


@blp.route("/<uuid:recall_id>/acknowledge")
class Acknowledge(MethodView):
    @blp.response(200, RecallOut)
    @blp.errors(403)
    def post(self, recall_id: uuid.UUID) -> dict[str, Any]:
        """Acknowledge a recall on behalf of the caller's organisation."""
        with db.transaction() as session:
            recall = services.acknowledge_recall(session, api_actor(), recall_id=recall_id)
        return recall_document(db.session(), recall)


@blp.route("/<uuid:recall_id>/close")
class Close(MethodView):
    @blp.arguments(CloseIn)
    @blp.response(200, RecallOut)
    @blp.errors(403, 409)
    def post(self, data: dict[str, Any], recall_id: uuid.UUID) -> dict[str, Any]:
        """Close a recall (its history stays) and release its holds."""
        with db.transaction() as session:
            recall = services.close_recall(session, api_actor(), recall_id=recall_id, note=data["note"])
        return recall_document(db.session(), recall)


@blp.route("/<uuid:recall_id>/export.csv")
class ExportCsv(MethodView):
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, content_type="text/csv")
    @blp.errors(403, 413)
    def get(self, args: dict[str, Any], recall_id: uuid.UUID) -> Response:
        """The affected events as CSV, one row per event (FSMA 204 key data elements).

        Above ``EXPORT_SYNC_MAX_ROWS`` rows: 413, start an export job instead."""
        recall = _small_recall(recall_id)
        zone = zones.org_zone(db.session(), api_actor().org_id)
        body = stream_with_context(export.to_csv(db.session(), recall.id, columns=args["columns"], zone=zone))
        return Response(body, mimetype="text/csv", headers=_attachment(recall.id, "csv"))


@blp.route("/<uuid:recall_id>/export.xlsx")
class ExportXlsx(MethodView):
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, content_type=XLSX)
    @blp.errors(403, 413)
    def get(self, args: dict[str, Any], recall_id: uuid.UUID) -> Response:
        """The affected events as an XLSX workbook with a filterable header.

        Above ``EXPORT_SYNC_MAX_ROWS`` rows: 413, start an export job instead."""
        recall = _small_recall(recall_id)
        zone = zones.org_zone(db.session(), api_actor().org_id)
        body = export.to_xlsx(db.session(), recall.id, columns=args["columns"], zone=zone)
        return Response(body, mimetype=XLSX, headers=_attachment(recall.id, "xlsx"))


def _small_recall(recall_id: uuid.UUID) -> Any:
    limit = int(current_app.config["EXPORT_SYNC_MAX_ROWS"])
    return exports.recall_for_direct_export(db.session(), api_actor(), recall_id, limit=limit)


def recall_document(session: Session, recall: Recall) -> dict[str, Any]:
    """The recall as ``RecallOut`` serialises it."""
    return documents.recall_document(queries.recall_detail(session, recall))


def _attachment(recall_id: uuid.UUID, ext: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{export.filename(recall_id, ext)}"'}


@blp.route("/<uuid:recall_id>/exports")
class Exports(MethodView):
    @blp.arguments(ExportJobIn)
    @blp.response(
        202, ExportJobOut, headers={"Location": {"description": "the job", "schema": {"type": "string"}}}
    )
    @blp.errors(403)
    def post(self, data: dict[str, Any], recall_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, str]]:
        """Start building an export (any size) as a job; poll the job, then download its file."""
        with db.transaction() as session:
            job = exports.start_export(
                session,
                api_actor(),
                recall_id=recall_id,
                fmt=data["format"],
                columns=data["columns"],
                max_attempts=int(current_app.config["JOBS_RETRIES"]) + 1,
            )
        document = export_job_document(job)
        return document, {"Location": document["url"]}


@blp.route("/<uuid:recall_id>/exports/<uuid:job_id>")
class ExportJob(MethodView):
    @blp.response(200, ExportJobOut)
    def get(self, recall_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
        """An export job: status, progress, whether it failed, and when done its download link."""
        job = exports.get_export_job(db.session(), api_actor(), recall_id=recall_id, job_id=job_id)
        return export_job_document(job)


@blp.route("/<uuid:recall_id>/exports/<uuid:job_id>/file")
class ExportJobFile(MethodView):
    @blp.response(200, content_type="application/octet-stream")
    @blp.errors(403, 409)
    def get(self, recall_id: uuid.UUID, job_id: uuid.UUID) -> Response:
        """The file of a done export job (409 while it is not done)."""
        stored = exports.get_export_file(db.session(), api_actor(), recall_id=recall_id, job_id=job_id)
        headers = {"Content-Disposition": f'attachment; filename="{stored.filename}"'}
        return Response(stored.data, content_type=stored.content_type, headers=headers)


def export_job_document(job: Job) -> dict[str, Any]:
    """``ExportJobOut`` of a job, with the URLs of the job and (once done) of its file."""
    ids = {"recall_id": job.params["recall_id"], "job_id": job.id}
    return documents.export_job_document(
        job,
        url=url_for("recalls_api.ExportJob", **ids, _external=True),
        file_url=url_for("recalls_api.ExportJobFile", **ids, _external=True),
    )
