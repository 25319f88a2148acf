"""``/api/v1/certificates``, ``/api/v1/reports`` and ``/api/v1/codes``: issue, read, revoke, print."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_babel import gettext as _

from traceapp import db
from traceapp.api import ApiBlueprint
from traceapp.auth import api_actor
from traceapp.certificates import documents, printing, queries, services
from traceapp.certificates.schemas import (
    CertificateIn,
    CertificateListOut,
    CertificateOut,
    CertificatePageQuery,
    LabelQuery,
    RevokeIn,
    SheetQuery,
    TestReportUploadOut,
)
from traceapp.errors import InvalidInput
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

LABEL_TYPES = {
    "qr": "image/png",
    "png": "image/png",
    "pdf": "application/pdf",
    "sheet": "application/pdf",
    "share": "image/png",
}


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
    def post(self, data: dict[str, Any], certificate_id: uuid.UUID) -> dict[str, Any]:
        """Revoke a certificate with a reason (the only change a certificate takes)."""
        with db.transaction() as session:
            certificate = services.revoke_certificate(
                session, api_actor(), certificate_id=certificate_id, reason=data["reason"]
            )
        return _document(certificate)


def _label_file(certificate_id: uuid.UUID, kind: str, args: dict[str, Any]) -> Response:
    certificate = services.get_own_certificate(db.session(), api_actor(), certificate_id)
    body = printing.render_label(certificate, kind, args, base_url=public_base_url())
    return Response(body, mimetype=LABEL_TYPES[kind], headers={"Cache-Control": "private, no-store"})


@blp.route("/<uuid:certificate_id>/qr.png")
class QrPng(MethodView):
    @blp.response(200, content_type="image/png")
    def get(self, certificate_id: uuid.UUID) -> Response:
        """The QR code alone, as PNG."""
        return _label_file(certificate_id, "qr", {})


@blp.route("/<uuid:certificate_id>/label.png")
class LabelPng(MethodView):
    @blp.arguments(LabelQuery, location="query")
    @blp.response(200, content_type="image/png")
    def get(self, args: dict[str, Any], certificate_id: uuid.UUID) -> Response:
        """One label as PNG at 203 or 300 dpi, for label printers."""
        return _label_file(certificate_id, "png", args)


@blp.route("/<uuid:certificate_id>/label.pdf")
class LabelPdf(MethodView):
    @blp.arguments(LabelQuery, location="query")
    @blp.response(200, content_type="application/pdf")
    def get(self, args: dict[str, Any], certificate_id: uuid.UUID) -> Response:
        """Labels as PDF, one label per page at the label's size, ``copies`` pages."""
        return _label_file(certificate_id, "pdf", args)


@blp.route("/<uuid:certificate_id>/sheet.pdf")
class SheetPdf(MethodView):
    @blp.arguments(SheetQuery, location="query")
    @blp.response(200, content_type="application/pdf")
    def get(self, args: dict[str, Any], certificate_id: uuid.UUID) -> Response:
        """An A4 sheet of labels (a full sheet unless ``copies`` says otherwise)."""
        return _label_file(certificate_id, "sheet", args)


@blp.route("/<uuid:certificate_id>/share.png")
class SharePng(MethodView):
    @blp.response(200, content_type="image/png")
    def get(self, certificate_id: uuid.UUID) -> Response:
        """The e-certificate image, for sharing in a chat app."""
        return _label_file(certificate_id, "share", {})


@reports_blp.route("")
class Reports(MethodView):
    @reports_blp.response(201, TestReportUploadOut)
    def post(self) -> Any:
        """Upload a lab report (multipart field ``file``: PDF, PNG, JPEG or WebP)."""
        upload = request.files.get("file")
        if upload is None or set(request.files) != {"file"} or request.form:
            raise InvalidInput("file", _("Send exactly one file in the multipart field 'file'."))
        with db.transaction() as session:
            return services.store_test_report(
                session,
                api_actor(),
                filename=upload.filename or "",
                content=upload.read(),
                max_bytes=current_app.config["REPORT_MAX_BYTES"],
            )
