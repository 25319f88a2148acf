"""Producer pages: certificate list, issue form, a certificate with its labels, revoke."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from traceapp import auth, db
from traceapp.auth import login_required, page_actor
from traceapp.certificates import documents, forms, printing, queries, services
from traceapp.certificates.api import LABEL_TYPES
from traceapp.certificates.schemas import (
    CertificateIn,
    CertificatePageQuery,
    LabelQuery,
    RevokeIn,
    SheetQuery,
)
from traceapp.certificates.texts import quantity_text
from traceapp.codes import format_trace_code
from traceapp.errors import InvalidInput
from traceapp.forms import error_map
from traceapp.urls import public_base_url

bp = Blueprint("certificates", __name__, url_prefix="/certificates")


@bp.get("")
@login_required
def index() -> str:
    """The organisation's certificates, newest first, with what to do next."""
    args = forms.load_query(CertificatePageQuery, request.args)
    page, size = args.pop("page"), args.pop("page_size")
    rows, total = queries.list_own(db.session(), page_actor(), filters=args, page=page, page_size=size)
    return render_template(
        "certificates/index.html", rows=rows, total=total, page=page, size=size, user=auth.page_user()
    )


@bp.get("/new")
@login_required
def new() -> str:
    """The issue form; ``?again=1`` fills it in like the last certificate."""
    actor = page_actor()
    last = services.last_certificate(db.session(), actor) if request.args.get("again") else None
    values = forms.values_from(last) if last else forms.blank_values()
    return forms.render_issue(values, {}, actor)


@bp.post("/new")
@login_required
def create() -> BaseResponse | tuple[str, int]:
    """Issue from the form; on a bad field, the form again with the message beside it."""
    actor = page_actor()
    payload = forms.issue_payload(request.form)
    try:
        with db.transaction() as session:
            forms.attach_upload(session, actor, payload, request.files.get("file"))
            data = CertificateIn().load(payload)
            certificate, _created = services.issue_certificate(session, actor, data=data)
    except ValidationError as exc:
        return forms.render_issue(forms.values_from_form(request.form), error_map(exc.messages), actor), 422
    except InvalidInput as exc:
        return forms.render_issue(
            forms.values_from_form(request.form), error_map(errors=exc.errors), actor
        ), exc.status
    flash(_("Certificate issued. Print its labels below."))
    return redirect(url_for("certificates.show", certificate_id=certificate.id))


@bp.get("/<uuid:certificate_id>")
@login_required
def show(certificate_id: uuid.UUID) -> str:
    """One certificate: its QR, print options and the revoke form."""
    certificate = services.get_own_certificate(db.session(), page_actor(), certificate_id)
    document = documents.certificate_document(certificate, base_url=public_base_url())
    return render_template(
        "certificates/show.html",
        c=certificate,
        doc=document,
        sizes=forms.label_sizes(),
        sheets=forms.sheet_names(),
        errors={},
    )


@bp.post("/<uuid:certificate_id>/revoke")
@login_required
def revoke(certificate_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Revoke with a reason; the public page shows it at once."""
    try:
        with db.transaction() as session:
            data = RevokeIn().load(forms.plain_form(request.form))
            services.revoke_certificate(
                session, page_actor(), certificate_id=certificate_id, reason=data["reason"]
            )
    except ValidationError as exc:
        return forms.render_show_with_errors(certificate_id, error_map(exc.messages)), 422
    flash(_("Certificate revoked."))
    return redirect(url_for("certificates.show", certificate_id=certificate_id))


@bp.get("/<uuid:certificate_id>/<any(qr, label, sheet, share):name>.<any(png, pdf):ext>")
@login_required
def label_file(certificate_id: uuid.UUID, name: str, ext: str) -> Response:
    """Label files for the signed-in organisation (same renderers as the API)."""
    kind = forms.label_kind(name, ext)
    schema = {"png": LabelQuery, "pdf": LabelQuery, "sheet": SheetQuery}.get(kind)
    args: dict[str, Any] = forms.load_query(schema, request.args) if schema else {}
    certificate = services.get_own_certificate(db.session(), page_actor(), certificate_id)
    body = printing.render_label(certificate, kind, args, base_url=public_base_url())
    return Response(body, mimetype=LABEL_TYPES[kind], headers={"Cache-Control": "private, no-store"})


@bp.app_template_filter("quantity")
def quantity_filter(value: Any, unit: Any) -> str:
    """``{{ c.quantity|quantity(c.unit) }}`` → ``500 kg``."""
    return quantity_text(value, unit)


@bp.app_template_filter("trace_code")
def trace_code_filter(code: str) -> str:
    """``{{ code|trace_code }}`` → ``XXXX-XXXX-XXXX-XX``."""
    return format_trace_code(code)
