"""``/api/v1/organisation`` (the caller's organisation as an operator: read, and its admin sets
the fields and the seal image) and ``/api/v1/organisations/{id}`` (another's, as the caller may
read it: the identity number masked unless the caller is a regulator)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_babel import gettext as _

from traceapp import db
from traceapp.api import ApiBlueprint, upload_body
from traceapp.auth import api_actor
from traceapp.errors import InvalidInput
from traceapp.inputs import one_file
from traceapp.orgs import operators, seals
from traceapp.orgs.schemas import OperatorIn, OperatorOut, SealOut

blp = ApiBlueprint(
    "organisation_api",
    __name__,
    url_prefix="/api/v1",
    description="Organisations as operators: credit code or natural person, platform code, seal image.",
)


@blp.route("/organisation")
class OwnOrganisation(MethodView):
    @blp.response(200, OperatorOut)
    def get(self) -> dict[str, Any]:
        """Read the caller's organisation as an operator (every field in full)."""
        actor = api_actor()
        return operators.operator_of(db.session(), actor, actor.org_id)

    @blp.arguments(OperatorIn)
    @blp.response(200, OperatorOut)
    @blp.errors(403, 422)
    def patch(self, data: dict[str, Any]) -> dict[str, Any]:
        """Set or clear operator fields (an admin); the change is audited."""
        actor = api_actor()
        with db.transaction() as session:
            operators.set_operator(session, actor, changes=data)
            return operators.operator_of(session, actor, actor.org_id)


@blp.route("/organisation/seal")
class OwnSeal(MethodView):
    @blp.response(200, SealOut)
    @blp.errors(404)
    def get(self) -> Any:
        """Read the current seal or signature image's details (404 when there is none)."""
        return seals.current_seal(db.session(), api_actor())

    @blp.doc(requestBody=upload_body("The seal or signature: PNG (transparency kept) or JPEG, at most 2 MB."))
    @blp.response(201, SealOut)
    @blp.errors(403, 413, 422)
    def post(self) -> Any:
        """Upload a new seal or signature image (an admin); certificates issued before keep theirs."""
        upload = one_file(request.files, "seal")
        if set(request.files) != {"seal"} or request.form:
            raise InvalidInput("seal", _("Send exactly one file in the multipart field 'seal'."))
        limit = current_app.config["SEAL_MAX_BYTES"]
        with db.transaction() as session:
            return seals.upload_seal(session, api_actor(), data=upload.read(limit + 1), max_bytes=limit)

    @blp.response(204)
    @blp.errors(403)
    def delete(self) -> None:
        """Stop putting a seal on new certificates (an admin); issued ones keep theirs."""
        with db.transaction() as session:
            seals.remove_seal(session, api_actor())


@blp.route("/organisation/seal.png")
class OwnSealImage(MethodView):
    @blp.response(200, content_type="image/png")
    @blp.errors(404)
    def get(self) -> Response:
        """The current seal or signature image, as stored (re-encoded PNG)."""
        seal = seals.current_seal(db.session(), api_actor())
        return current_app.response_class(
            seal.content, mimetype="image/png", headers={"Cache-Control": "private, no-store"}
        )


@blp.route("/organisations/<uuid:org_id>")
class Organisation(MethodView):
    @blp.response(200, OperatorOut)
    @blp.errors(404)
    def get(self, org_id: uuid.UUID) -> dict[str, Any]:
        """Read an organisation as an operator: the identity number in full only for itself and
        regulators, masked for everyone else."""
        return operators.operator_of(db.session(), api_actor(), org_id)
