"""``/api/v1/events`` (record any hop), ``/api/v1/codes/{code}`` (verify), logger-file parsing."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_babel import gettext as _

from traceapp import db, zones
from traceapp.api import ApiBlueprint, upload_body
from traceapp.auth import api_actor
from traceapp.certificates import queries as certificate_queries
from traceapp.certificates.texts import scan_reason
from traceapp.coldchain.loggers import LoggerFileError
from traceapp.coldchain.texts import logger_error_message
from traceapp.coldchain.uploads import parse_upload
from traceapp.errors import InvalidInput, NotFound
from traceapp.events import batch, documents, queries, services
from traceapp.events.schemas import CodeOut, EventBatchIn, EventBatchOut, EventIn, EventOut, ParsedLogOut
from traceapp.inputs import one_file
from traceapp.urls import public_base_url

blp = ApiBlueprint(
    "events_api",
    __name__,
    url_prefix="/api/v1/events",
    description="Record hops: shipping, receiving, storing, transporting, inspecting, "
    "transforming, portioning, retail selling, destroying, voiding.",
)
codes_blp = ApiBlueprint(
    "codes_api",
    __name__,
    url_prefix="/api/v1/codes",
    description="Verify a trace code, as a gate scanner does.",
)
logs_blp = ApiBlueprint(
    "logs_api",
    __name__,
    url_prefix="/api/v1/temperature-logs",
    description="Read data-logger CSV files into temperature readings.",
)


def settings() -> services.EventSettings:
    return services.EventSettings.from_config(current_app.config)


@blp.route("")
class Events(MethodView):
    @blp.arguments(EventIn)
    @blp.response(201, EventOut)
    @blp.alt_response(200, schema=EventOut, description="Replay of the same event_id and body.")
    @blp.errors(403, 409)
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Record an event; retries with the same event_id are safe."""
        # The answer is read inside the write transaction: a second one would cost a BEGIN and a
        # ROLLBACK (and psycopg's prepared statements) per event.
        with db.transaction() as session:
            done = services.record(session, api_actor(), data=data, settings=settings())
            answer = done.answer or queries.recorded(session, done.event)
            document = documents.recorded_document(answer, base_url=public_base_url())
        return document, 201 if done.created else 200


@blp.route("/batch")
class EventBatch(MethodView):
    @blp.arguments(EventBatchIn)
    @blp.response(200, EventBatchOut)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Record many events at once, each judged as it would be alone.

        Each outcome carries the status the event would have had alone (201, 200 for a replay,
        or a 4xx with its problem); a refused event blocks none of the others. The events are
        committed in chunks, in order: a retry after a failure replays what was committed.
        """
        outcomes = batch.record_batch(db.transaction, api_actor(), events=data["events"], settings=settings())
        return {"results": [o.document() for o in outcomes], "counts": batch.counts(outcomes)}


@blp.route("/<uuid:event_id>")
class EventById(MethodView):
    @blp.response(200, EventOut)
    def get(self, event_id: uuid.UUID) -> dict[str, Any]:
        """Read an event your organisation recorded, sent or received."""
        event = queries.visible_event(db.session(), api_actor(), event_id)
        return documents.recorded_document(queries.recorded(db.session(), event), base_url=public_base_url())


@codes_blp.route("/<code>")
class CodeLookup(MethodView):
    @codes_blp.response(200, CodeOut)
    def get(self, code: str) -> dict[str, Any]:
        """Verify a trace code: status, certificate, current holders and the journey.

        An organisation that never handled the batch (and is no regulator) reads only what the
        public page shows: the producer's phone masked, no holders, no gate people or notes.
        """
        actor = api_actor()
        certificate = certificate_queries.find_by_code(db.session(), code)
        if certificate is None:
            raise NotFound(
                scan_reason(certificate_queries.scan_problem(db.session(), code))
                or _("No certificate has this trace code.")
            )
        found = queries.verification(db.session(), certificate)
        full = queries.sees_everything(db.session(), actor, found.trip)
        return documents.code_document(found, base_url=public_base_url(), full=full)


@logs_blp.route("/parse")
class ParseLog(MethodView):
    @logs_blp.doc(requestBody=upload_body("A logger CSV file (UTF-8 or GBK)."))
    @logs_blp.response(200, ParsedLogOut)
    @logs_blp.errors(413, 422)
    def post(self) -> dict[str, Any]:
        """Read a logger CSV (multipart field ``file``) into readings, or say which line is wrong."""
        actor = api_actor()
        upload = one_file(request.files, "file")
        zone = zones.org_zone(db.session(), actor.org_id)
        try:
            layout, readings = parse_upload(upload, current_app.config, zone=zone)
        except LoggerFileError as exc:
            raise InvalidInput("file", logger_error_message(exc)) from exc
        return {
            "layout": layout,
            "readings": [{"at": r.at.isoformat(), "celsius": str(r.celsius)} for r in readings],
        }
