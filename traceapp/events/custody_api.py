"""``/api/v1/handover-codes``, ``/api/v1/handovers`` and ``/api/v1/disputes``: custody at the gate
moves only with the holder's word, the holder is told, a regulator resolves disputes."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from traceapp import db
from traceapp.api import ApiBlueprint
from traceapp.auth import api_actor
from traceapp.events import custody_documents as documents
from traceapp.events import disputes, handovers
from traceapp.events.custody_schemas import (
    DisputeIn,
    DisputeListOut,
    DisputeOut,
    DisputeQuery,
    GateTakeListOut,
    HandoverCodeIn,
    HandoverCodeListOut,
    HandoverCodeOut,
    ResolutionIn,
)
from traceapp.events.recording import EventSettings

codes_blp = ApiBlueprint(
    "handover_codes_api",
    __name__,
    url_prefix="/api/v1/handover-codes",
    description="A holder's hand-over codes: its word that the gate may take its stock.",
)
takes_blp = ApiBlueprint(
    "handovers_api",
    __name__,
    url_prefix="/api/v1/handovers",
    description="Gate checks that took your organisation's stock (you may dispute them).",
)
disputes_blp = ApiBlueprint(
    "disputes_api",
    __name__,
    url_prefix="/api/v1/disputes",
    description="Disputes of gate checks: opened by the holder, resolved by a regulator.",
)


def _settings() -> handovers.HandoverSettings:
    return handovers.HandoverSettings.from_config(current_app.config)


@codes_blp.route("")
class HandoverCodes(MethodView):
    @codes_blp.response(200, HandoverCodeListOut)
    def get(self) -> dict[str, Any]:
        """Your organisation's latest hand-over codes, newest first."""
        rows = handovers.codes_of(db.session(), api_actor(), _settings())
        return {"items": [documents.code_document(r) for r in rows]}

    @codes_blp.arguments(HandoverCodeIn)
    @codes_blp.response(201, HandoverCodeOut)
    @codes_blp.alt_response(200, schema=HandoverCodeOut, description="Replay of the same event_id and body.")
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Give a single-use hand-over code for stock you hold; retries with the same event_id are safe."""
        with db.transaction() as session:
            row, created = handovers.create_handover_code(
                session, api_actor(), data=data, settings=_settings()
            )
            document = documents.code_document(handovers.code_row(session, row, _settings()))
        return document, 201 if created else 200


@takes_blp.route("")
class GateTakes(MethodView):
    @takes_blp.response(200, GateTakeListOut)
    def get(self) -> dict[str, Any]:
        """The gate checks that took your organisation's stock, newest first, with any dispute."""
        return {"items": [documents.take_document(t) for t in disputes.gate_takes(db.session(), api_actor())]}


@disputes_blp.route("")
class Disputes(MethodView):
    @disputes_blp.arguments(DisputeQuery, location="query")
    @disputes_blp.response(200, DisputeListOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Disputes you opened or that concern your gate checks (a regulator: all), open first."""
        rows = disputes.disputes_for(db.session(), api_actor(), status=args.get("status"))
        return {"items": [documents.dispute_document(r) for r in rows]}

    @disputes_blp.arguments(DisputeIn)
    @disputes_blp.response(201, DisputeOut)
    @disputes_blp.alt_response(200, schema=DisputeOut, description="Replay of the same event_id and body.")
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Dispute a gate check that took your stock; retries with the same event_id are safe."""
        with db.transaction() as session:
            actor = api_actor()
            dispute, created = disputes.open_dispute(session, actor, data=data)
            document = documents.dispute_document(disputes.dispute_for(session, actor, dispute.id))
        return document, 201 if created else 200


@disputes_blp.route("/<uuid:dispute_id>")
class DisputeById(MethodView):
    @disputes_blp.response(200, DisputeOut)
    def get(self, dispute_id: uuid.UUID) -> dict[str, Any]:
        """A dispute you are party to (a regulator: any)."""
        return documents.dispute_document(disputes.dispute_for(db.session(), api_actor(), dispute_id))


@disputes_blp.route("/<uuid:dispute_id>/resolve")
class Resolve(MethodView):
    @disputes_blp.arguments(ResolutionIn)
    @disputes_blp.response(200, DisputeOut)
    def post(self, data: dict[str, Any], dispute_id: uuid.UUID) -> dict[str, Any]:
        """Uphold (the stock goes back, by a correcting event) or dismiss a dispute (regulators)."""
        settings = EventSettings.from_config(current_app.config)
        with db.transaction() as session:
            actor = api_actor()
            disputes.resolve_dispute(session, actor, dispute_id=dispute_id, data=data, settings=settings)
            return documents.dispute_document(disputes.dispute_for(session, actor, dispute_id))
