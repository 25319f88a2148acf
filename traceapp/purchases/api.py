"""``/api/v1/purchases``: record (收购), read, list, void; photos of paper certificates; retention."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView

from traceapp import db
from traceapp.api import ApiBlueprint, upload_body
from traceapp.auth import api_actor
from traceapp.events.recording import EventSettings
from traceapp.inputs import one_file
from traceapp.orgs import members
from traceapp.purchases import services
from traceapp.purchases.queries import purchase_answer as answer
from traceapp.purchases.schemas import (
    PhotoOut,
    PurchaseIn,
    PurchaseListOut,
    PurchaseOut,
    PurchaseQuery,
    RetentionIn,
    RetentionOut,
    VoidIn,
)

blp = ApiBlueprint(
    "purchases_api",
    __name__,
    url_prefix="/api/v1/purchases",
    description="Purchases (收购): lots bought with the certificates collected (无证不收).",
)


def _settings() -> EventSettings:
    return EventSettings.from_config(current_app.config)


@blp.route("")
class Purchases(MethodView):
    @blp.arguments(PurchaseIn)
    @blp.response(201, PurchaseOut)
    @blp.alt_response(200, schema=PurchaseOut, description="Replay of the same event_id and body.")
    @blp.errors(403, 409)
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Record a purchase; retries with the same event_id are safe."""
        with db.transaction() as session:
            purchase, created = services.record_purchase(
                session, api_actor(), data=data, settings=_settings()
            )
            document = answer(session, services.get_purchase(session, api_actor(), purchase.id))
        return document, 201 if created else 200

    @blp.arguments(PurchaseQuery, location="query")
    @blp.response(200, PurchaseListOut)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List the purchases the caller may read (its own, of its lots; a regulator's: all)."""
        with db.transaction() as session:
            found = services.list_purchases(session, api_actor(), **query)
            return {"items": [answer(session, p) for p in found]}


@blp.route("/<uuid:purchase_id>")
class PurchaseOne(MethodView):
    @blp.response(200, PurchaseOut)
    @blp.errors(404)
    def get(self, purchase_id: uuid.UUID) -> dict[str, Any]:
        """One purchase, for its buyer, its seller organisation or a regulator."""
        with db.transaction() as session:
            return answer(session, services.get_purchase(session, api_actor(), purchase_id))


@blp.route("/<uuid:purchase_id>/void")
class PurchaseVoid(MethodView):
    @blp.arguments(VoidIn)
    @blp.response(200, PurchaseOut)
    @blp.errors(403, 404, 409)
    def post(self, data: dict[str, Any], purchase_id: uuid.UUID) -> dict[str, Any]:
        """Void a purchase with a reason (it is never edited)."""
        with db.transaction() as session:
            actor = api_actor()
            services.void_purchase(
                session, actor, purchase_id=purchase_id, reason=data["reason"], settings=_settings()
            )
            return answer(session, services.get_purchase(session, actor, purchase_id))


@blp.route("/photos")
class Photos(MethodView):
    @blp.doc(requestBody=upload_body("A photo of the paper certificate: JPEG or PNG."))
    @blp.response(201, PhotoOut)
    @blp.errors(403, 413, 422)
    def post(self) -> Any:
        """Upload a photo of a paper certificate (multipart field ``file``), re-encoded without EXIF."""
        upload = one_file(request.files, "file")
        limit = current_app.config["PURCHASE_PHOTO_MAX_BYTES"]
        with db.transaction() as session:
            return services.upload_photo(
                session, api_actor(), content=upload.read(limit + 1), max_bytes=limit
            )


@blp.route("/photos/<uuid:photo_id>")
class PhotoOne(MethodView):
    @blp.response(200, description="The photo (JPEG or PNG).")
    @blp.errors(404)
    def get(self, photo_id: uuid.UUID) -> Response:
        """A photo, for the buyer that took it or a regulator."""
        with db.transaction() as session:
            photo = services.get_photo(session, api_actor(), photo_id)
            body, kind = photo.content, photo.content_type
        headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
        return Response(body, mimetype=kind, headers=headers)


@blp.route("/retention")
class Retention(MethodView):
    @blp.arguments(RetentionIn)
    @blp.response(200, RetentionOut)
    @blp.errors(403, 422)
    def put(self, data: dict[str, Any]) -> dict[str, Any]:
        """Keep purchases and collected certificates this many months (at least 6; null: forever)."""
        with db.transaction() as session:
            org = members.set_retention(session, api_actor(), months=data["retention_months"])
            return {"retention_months": org.retention_months}
