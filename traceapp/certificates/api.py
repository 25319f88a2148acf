"""``/api/v1/certificates``, ``/api/v1/reports`` and ``/api/v1/codes``: issue, read, revoke, print."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_babel import gettext as _

from traceapp import db
from traceapp.api import ApiBlueprint, upload_body
from traceapp.auth import api_actor
from traceapp.certificates import documents, printing, queries, services
from traceapp.certificates.schemas import (
    CertificateIn,
    CertificateListOut,
    CertificateOut,
    CertificatePageQuery,
    RevokeIn,
    TestReportUploadOut,
)
from traceapp.errors import InvalidInput
from traceapp.inputs import one_file
from traceapp.urls import public_base_url

blp = ApiBlueprint(
    "certificates_api",
    __name__,
    url_prefix="/api/v1/certificates",
    description="Issue, read, revoke and print certificates.",
)
reports_blp = ApiBlueprint(
    "reports_api",
    __name__,
    url_prefix="/api/v1/reports",
    description="Upload lab test reports (PDF or image).",
)


def _document(certificate: Any) -> dict[str, Any]:
    return documents.certificate_document(certificate, base_url=public_base_url())


@blp.route("")
class Certificates(MethodView):
    @blp.arguments(CertificatePageQuery, location="query")
    @blp.response(200, CertificateListOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the caller's certificates, newest first."""
        page, size = args.pop("page"), args.pop("page_size")
        rows, total = queries.list_own(db.session(), api_actor(), filters=args, page=page, page_size=size)
        return {"items": [_document(c) for c in rows], "page": page, "page_size": size, "total": total}

    @blp.arguments(CertificateIn)
    @blp.response(201, CertificateOut)
    @blp.alt_response(200, schema=CertificateOut, description="Replay of the same event_id.")
    @blp.errors(403, 409)
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Issue a certificate and mint its trace code."""
        with db.transaction() as session:
            certificate, created = services.issue_certificate(session, api_actor(), data=data)
        return _document(certificate), 201 if created else 200


@blp.route("/<uuid:certificate_id>")
class CertificateById(MethodView):
    @blp.response(200, CertificateOut)
    def get(self, certificate_id: uuid.UUID) -> dict[str, Any]:
        """Read one of the caller's certificates."""
        return _document(services.get_own_certificate(db.session(), api_actor(), certificate_id))


@blp.route("/<uuid:certificate_id>/revoke")
class RevokeCertificate(MethodView):
    @blp.arguments(RevokeIn)
    @blp.response(200, CertificateOut)
    @blp.errors(403, 409)
    def post(self, data: dict[str, Any], certificate_id: uuid.UUID) -> dict[str, Any]:
        """Revoke a certificate with a reason (the only change a certificate takes)."""
        with db.transaction() as session:
            certificate = services.revoke_certificate(
                session,
                api_actor(),
                certificate_id=certificate_id,
                reason=data["reason"],
                replaced_by=data.get("replaced_by"),
            )
        return _document(certificate)


#: A file body in the OpenAPI document (so that each label URL states its content type).
BINARY = {"type": "string", "format": "binary"}


def _label_view(label: printing.LabelFile) -> type[MethodView]:
    """The view of one label file: the five differ only in query schema, content type and summary,
    each of which the OpenAPI document must state for its own URL."""

    def get(self: MethodView, *query: dict[str, Any], certificate_id: uuid.UUID) -> Response:
        certificate = services.get_own_certificate(db.session(), api_actor(), certificate_id)
        args = query[0] if query else {}
        body = printing.render_label(certificate, label.kind, args, base_url=public_base_url())
        return Response(
            body, content_type=label.mimetype, headers=printing.label_headers(certificate, label, args)
        )

    get.__doc__ = label.summary
    view = blp.response(200, BINARY, content_type=label.media_type)(get)
    if label.query is not None:
        view = blp.arguments(label.query, location="query")(view)
    if label.kind.startswith("case"):  # 409 for a batch without a GTIN
        view = blp.errors(409)(view)
    name = "".join(part.capitalize() for part in label.filename.split("."))
    return type(name, (MethodView,), {"get": view})


for _label in printing.LABEL_FILES.values():
    blp.route(f"/<uuid:certificate_id>/{_label.filename}")(_label_view(_label))


@reports_blp.route("")
class Reports(MethodView):
    @reports_blp.doc(requestBody=upload_body("The report: PDF, PNG, JPEG or WebP."))
    @reports_blp.response(201, TestReportUploadOut)
    @reports_blp.errors(403, 413, 422)
    def post(self) -> Any:
        """Upload a lab report (multipart field ``file``: PDF, PNG, JPEG or WebP)."""
        upload = one_file(request.files, "file")
        if set(request.files) != {"file"} or request.form:
            raise InvalidInput("file", _("Send exactly one file in the multipart field 'file'."))
        with db.transaction() as session:
            return services.store_test_report(
                session,
                api_actor(),
                filename=upload.filename or "",
                content=upload.read(),
                max_bytes=current_app.config["REPORT_MAX_BYTES"],
            )
