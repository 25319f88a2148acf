"""Sign-in and sign-out, the password, API tokens and the audit log pages."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from traceapp import auth, db
from traceapp.auth import login_required, page_actor
from traceapp.errors import DomainError, NotAuthenticated
from traceapp.forms import error_map
from traceapp.inputs import unstorable
from traceapp.orgs import documents, forms, queries, services, sessions, texts
from traceapp.orgs.models import OrgKind
from traceapp.orgs.permissions import Action, allows
from traceapp.orgs.schemas import AuditQuery
from traceapp.orgs.scopes import Scope
from traceapp.throttle import RateLimited
from traceapp.throttle.signin import guarded_sign_in
from traceapp.urls import same_site_path

bp = Blueprint("orgs", __name__)


#: Where each kind of organisation starts after signing in.
LANDING = {
    OrgKind.REGULATOR: "recalls.regulator_overview",
    OrgKind.MARKET: "events.batches",
    OrgKind.CARRIER: "events.batches",
    OrgKind.RETAILER: "events.batches",
}


def _safe_next(target: str | None, kind: OrgKind) -> str:
    # Only same-site paths (urls.same_site_path), else where this kind of organisation starts.
    return same_site_path(target) or url_for(LANDING.get(kind, "certificates.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Sign in with e-mail and password (throttled before the password is hashed)."""
    if request.method == "GET":
        return render_template("orgs/login.html", email="", error=None)
    email, password = request.form.get("email", ""), request.form.get("password", "")
    if unstorable(email) or unstorable(password):  # no account has one; PostgreSQL refuses NUL
        error = _("Text may not contain a NUL character or a lone surrogate.")
        return render_template("orgs/login.html", email="", error=error), 422
    try:
        with guarded_sign_in(email):
            user = services.authenticate(db.session(), email=email, password=password)
    except NotAuthenticated as exc:
        with db.transaction() as session:
            sessions.record_failed_sign_in(session, email=email, address=request.remote_addr)
        return render_template("orgs/login.html", email=email, error=exc.detail), 401
    except RateLimited as exc:
        page = render_template("orgs/login.html", email=email, error=exc.detail)
        return make_response(page, 429, {"Retry-After": str(exc.retry_after)})
    with db.transaction() as session:
        auth.sign_in(session, user)
    return redirect(_safe_next(request.args.get("next"), user.org.kind))


@bp.post("/logout")
def logout() -> Response:
    """Sign out: the session ends on the server too."""
    with db.transaction() as session:
        auth.sign_out(session)
    return redirect(url_for("public.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Response | str | tuple[str, int]:
    """Change one's password; every other session of the account ends."""
    if request.method == "GET":
        return render_template("orgs/password.html", errors={})
    try:
        with db.transaction() as session:
            arguments = forms.password_arguments(request.form)
            sessions.change_password(
                session, page_actor(), keep_session_id=auth.page_session_id(), **arguments
            )
    except ValidationError as exc:
        return render_template("orgs/password.html", errors=error_map(exc.messages)), 422
    except DomainError as exc:
        return render_template("orgs/password.html", errors=error_map(errors=exc.errors)), exc.status
    flash(_("Password changed. Every other session of this account has ended."))
    return redirect(url_for("orgs.tokens"))


@bp.get("/tokens")
@login_required
def tokens() -> str:
    """The API tokens the user may see, and the form to create one."""
    return _tokens_page({})[0]


@bp.post("/tokens")
@login_required
def create_token() -> str | tuple[str, int]:
    """Create a token; the page shows its secret this once."""
    try:
        with db.transaction() as session:
            token, plaintext = services.create_own_token(
                session, page_actor(), **forms.token_arguments(request.form)
            )
    except ValidationError as exc:
        return _tokens_page(error_map(exc.messages), status=422)
    except DomainError as exc:
        return _tokens_page(error_map(errors=exc.errors), status=exc.status)
    return _tokens_page({}, created=(token.name, plaintext))


@bp.post("/tokens/<uuid:token_id>/revoke")
@login_required
def revoke_token(token_id: uuid.UUID) -> Response:
    """Revoke a token."""
    with db.transaction() as session:
        token = services.revoke_api_token(session, page_actor(), token_id=token_id)
    flash(_("Token %(name)s revoked.", name=token.name))
    return redirect(url_for("orgs.tokens"))


def _tokens_page(
    errors: dict[str, str], *, status: int = 200, created: tuple[str, str] | None = None
) -> tuple[str, int]:
    rows = [documents.token_document(t) for t in services.visible_tokens(db.session(), page_actor())]
    html = render_template(
        "orgs/tokens.html",
        rows=rows,
        errors=errors,
        created=created,
        scopes=[(s.value, texts.SCOPE_LABELS[s]) for s in Scope],
        expiries=[(str(d), texts.expiry_label(d)) for d in forms.EXPIRY_DAYS],
        values=request.form if request.method == "POST" and not created else {},
        chosen=request.form.getlist("scopes") if request.method == "POST" and not created else [],
        statuses=texts.TOKEN_STATUSES,
    )
    return html, status


@bp.get("/audit")
@login_required
def audit_log() -> str:
    """The audit log, newest first: the organisation's own (admins), every one (regulators)."""
    args: dict[str, Any] = forms.load_query(AuditQuery, request.args)
    rows, total = queries.audit_log(db.session(), page_actor(), **args)
    return render_template(
        "orgs/audit.html",
        rows=rows,
        total=total,
        page=args["page"],
        size=args["page_size"],
        actions=texts.AUDIT_ACTIONS,
        all_orgs=allows(page_actor(), Action.SEE_ALL_AUDIT_LOGS),
    )
