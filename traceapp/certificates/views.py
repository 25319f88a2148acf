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
from traceapp.certificates import forms, printing, queries, services
from traceapp.certificates.schemas import CertificateIn, CertificatePageQuery, RevokeIn
from traceapp.certificates.texts import STATUS_LABELS
from traceapp.errors import InvalidInput, NotFound
from traceapp.forms import error_map
from traceapp.inputs import optional_file
from traceapp.orgs import seals
from traceapp.orgs.permissions import Action, allows, require
from traceapp.urls import public_base_url

bp = Blueprint("certificates", __name__, url_prefix="/certificates")


@bp.get("")
@login_required
def index() -> str:
    """The organisation's certificates, newest first, with what to do next."""
    args = forms.load_query(CertificatePageQuery, request.args)
    page, size = args.pop("page"), args.pop("page_size")
    actor = page_actor()
    rows, total = queries.list_own(db.session(), actor, filters=args, page=page, page_size=size)
    return render_template(
        "certificates/index.html",
        rows=rows,
        statuses=forms.batch_statuses(db.session(), rows),
        labels=STATUS_LABELS,
        total=total,
        page=page,
        size=size,
        user=auth.page_user(),
        can_issue=allows(actor, Action.ISSUE),
    )


@bp.get("/new")
@login_required
def new() -> str:
    """The issue form; ``?again=1`` fills it in like the last certificate."""
    actor = page_actor()
    require(actor, Action.ISSUE)  # no form for an organisation that never issues
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
            forms.attach_upload(session, actor, payload, optional_file(request.files, "file"))
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
    return forms.render_show_with_errors(certificate_id, {})


@bp.post("/<uuid:certificate_id>/revoke")
@login_required
def revoke(certificate_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Revoke with a reason; the public page shows it at once."""
    payload = forms.plain_form(request.form)
    # A revocation cannot be undone: the page asks the user to tick that they mean it.
    confirmed = payload.pop("confirm", None) == "yes"
    try:
        with db.transaction() as session:
            data = RevokeIn().load(payload)
            if not confirmed:
                raise ValidationError(
                    {"confirm": [_("Tick the box to confirm: a revocation cannot be undone.")]}
                )
            services.revoke_certificate(
                session,
                page_actor(),
                certificate_id=certificate_id,
                reason=data["reason"],
                replaced_by=data.get("replaced_by"),
            )
    except ValidationError as exc:
        return forms.render_show_with_errors(certificate_id, error_map(exc.messages)), 422
    flash(_("Certificate revoked."))
    return redirect(url_for("certificates.show", certificate_id=certificate_id))


@bp.get("/<uuid:certificate_id>/seal.png")
@login_required
def seal_image(certificate_id: uuid.UUID) -> Response:
    """The seal or signature image the certificate was issued with (404 if it has none)."""
    certificate = services.get_own_certificate(db.session(), page_actor(), certificate_id)
    png = seals.seal_png(db.session(), certificate.seal_id)
    if png is None:
        raise NotFound(_("This certificate carries no seal or signature image."))
    return Response(png, content_type="image/png", headers={"Cache-Control": "private, no-store"})


@bp.get(
    "/<uuid:certificate_id>/<any(qr, label, sheet, share, case):name>.<any(png, pdf, zpl, tspl, escpos):ext>"
)
@login_required
def label_file(certificate_id: uuid.UUID, name: str, ext: str) -> Response:
    """Label files for the signed-in organisation (same renderers as the API)."""
    label = forms.find_label_file(name, ext)
    args: dict[str, Any] = forms.load_query(label.query, request.args) if label.query else {}
    certificate = services.get_own_certificate(db.session(), page_actor(), certificate_id)
    body = printing.render_label(certificate, label.kind, args, base_url=public_base_url())
    return Response(
        body, content_type=label.mimetype, headers=printing.label_headers(certificate, label, args)
    )
