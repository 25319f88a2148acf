"""``/api/v1/codes/{code}/epcis``: a batch's journey as an EPCIS 2.0 document."""

from __future__ import annotations

import json

from flask import Response
from flask.views import MethodView
from flask_babel import gettext as _

from traceapp import db
from traceapp.api import ApiBlueprint
from traceapp.auth import api_actor
from traceapp.certificates.queries import find_by_code, scan_problem
from traceapp.certificates.texts import scan_reason
from traceapp.epcis import queries
from traceapp.errors import NotFound
from traceapp.urls import public_base_url

blp = ApiBlueprint(
    "epcis_api",
    __name__,
    url_prefix="/api/v1/codes",
    description="A batch's journey as GS1 EPCIS 2.0 (JSON-LD).",
)


@blp.route("/<code>/epcis")
class CodeEpcis(MethodView):
    @blp.response(200, {"type": "object"}, content_type="application/ld+json")
    def get(self, code: str) -> Response:
        """The journey of a code as an EPCIS 2.0 JSON-LD document (EPCISDocument).

        An organisation that never handled the batch (and is no regulator) gets the events with
        only the details the public page shows.
        """
        actor = api_actor()
        certificate = find_by_code(db.session(), code)
        if certificate is None:
            raise NotFound(
                scan_reason(scan_problem(db.session(), code)) or _("No certificate has this trace code.")
            )
        document = queries.epcis_journey(db.session(), certificate, base_url=public_base_url(), actor=actor)
        disposition = f'inline; filename="{certificate.trace_code}-epcis.jsonld"'
        return Response(
            json.dumps(document, ensure_ascii=False),
            mimetype="application/ld+json",
            headers={"Content-Disposition": disposition},
        )
