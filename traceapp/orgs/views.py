"""Sign-in and sign-out, the password, API tokens, the audit log, and the admin's pages: the
organisation's members and settings."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from traceapp import auth, clock, db, phones, zones
from traceapp.auth import login_required, page_actor
from traceapp.errors import Conflict, DomainError, InvalidInput, NotAuthenticated
from traceapp.forms import error_map
from traceapp.i18n import current_lang
from traceapp.inputs import optional_file, unstorable
from traceapp.orgs import documents, forms, operators, queries, seals, services, sessions, texts
from traceapp.orgs import members as org_members
from traceapp.orgs.models import OrgKind, Role
from traceapp.orgs.permissions import Action, allows, require
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
    """Sign in with a mobile number or e-mail and the password (throttled on the normalised
    name before the password is hashed)."""
    if request.method == "GET":
        return render_template("orgs/login.html", login="", error=None)
    # ``email`` was the field's name before mobile numbers: a saved script still signs in.
    typed = request.form.get("login") or request.form.get("email", "")
    password = request.form.get("password", "")
    if unstorable(typed) or unstorable(password):  # no account has one; PostgreSQL refuses NUL
        error = _("Text may not contain a NUL character or a lone surrogate.")
        return render_template("orgs/login.html", login="", error=error), 422
    try:
        with guarded_sign_in(services.sign_in_name(typed)):
            user = services.authenticate(db.session(), login=typed, password=password)
    except NotAuthenticated as exc:
        with db.transaction() as session:
            sessions.record_failed_sign_in(session, login=typed, address=request.remote_addr)
        return render_template("orgs/login.html", login=typed, error=exc.detail), 401
    except RateLimited as exc:
        page = render_template("orgs/login.html", login=typed, error=exc.detail)
        return make_response(page, 429, {"Retry-After": str(exc.retry_after)})
    with db.transaction() as session:
        auth.sign_in(session, user)
    if user.must_change_password:
        return redirect(url_for("orgs.password", next=same_site_path(request.args.get("next"))))
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
    """Change one's password; every other session of the account ends. A first password an
    admin gave must be changed here before any other page opens."""
    first = bool(auth.page_user() and auth.page_user().must_change_password)  # type: ignore[union-attr]
    if request.method == "GET":
        return render_template("orgs/password.html", errors={}, first=first)
    try:
        with db.transaction() as session:
            arguments = forms.password_arguments(request.form)
            sessions.change_password(
                session, page_actor(), keep_session_id=auth.page_session_id(), **arguments
            )
    except ValidationError as exc:
        page = render_template("orgs/password.html", errors=error_map(exc.messages), first=first)
        return page, 422
    except DomainError as exc:
        page = render_template("orgs/password.html", errors=error_map(errors=exc.errors), first=first)
        return page, exc.status
    flash(_("Password changed. Every other session of this account has ended."))
    if first:
        return redirect(_safe_next(request.args.get("next"), page_actor().org_kind))
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


@bp.get("/org/members")
@login_required
def members() -> str:
    """The organisation's members with their roles; adding one, resetting a password (admins)."""
    return _members_page({})[0]


@bp.post("/org/members")
@login_required
def add_member() -> Response | tuple[str, int]:
    """Add a member by mobile number and/or e-mail with a first password to change."""
    require(page_actor(), Action.MANAGE_MEMBERS)
    try:
        with db.transaction() as session:
            user = org_members.add_member(session, page_actor(), **forms.member_arguments(request.form))
    except ValidationError as exc:
        return _members_page(error_map(exc.messages), status=422)
    except (InvalidInput, Conflict) as exc:
        return _members_page(error_map(errors=exc.errors), status=exc.status)
    flash(
        _(
            "%(who)s added. They sign in with the first password you gave and then choose their own.",
            who=_member_name(user),
        )
    )
    return redirect(url_for("orgs.members"))


@bp.post("/org/members/<uuid:user_id>/password")
@login_required
def reset_member_password(user_id: uuid.UUID) -> Response | tuple[str, int]:
    """Give a member a new first password; every session of theirs ends."""
    require(page_actor(), Action.MANAGE_MEMBERS)
    try:
        with db.transaction() as session:
            org_members.reset_password(
                session, page_actor(), user_id=user_id, **forms.reset_arguments(request.form)
            )
    except ValidationError as exc:
        return _members_page({}, status=422, reset_errors=(user_id, error_map(exc.messages)))
    except InvalidInput as exc:
        return _members_page({}, status=exc.status, reset_errors=(user_id, error_map(errors=exc.errors)))
    flash(
        _("Password reset. The member's sessions have ended; they choose a new password at the next sign-in.")
    )
    return redirect(url_for("orgs.members"))


def _member_name(user: Any) -> str:
    return phones.display(user.mobile) if user.mobile else str(user.email)


def _members_page(
    errors: dict[str, str], *, status: int = 200, reset_errors: tuple[uuid.UUID, dict[str, str]] | None = None
) -> tuple[str, int]:
    actor = page_actor()
    rows = [
        {
            "id": u.id,
            "mobile": phones.display(u.mobile) if u.mobile else "",
            "email": u.email or "",
            "role": texts.ROLE_LABELS[u.role],
            "first_password": u.must_change_password,
            "me": u.id == actor.user_id,
        }
        for u in org_members.members(db.session(), actor)
    ]
    html = render_template(
        "orgs/members.html",
        rows=rows,
        errors=errors,
        values=request.form if request.method == "POST" and errors else {},
        # A member unless the admin chooses otherwise: administrator is not the default.
        roles=[(r.value, texts.ROLE_LABELS[r]) for r in (Role.MEMBER, Role.ADMIN)],
        reset_errors=reset_errors,
    )
    return html, status


@bp.route("/org/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response | str | tuple[str, int]:
    """The organisation's settings (admins): its time zone, GS1 company prefix and GLN, the
    operator fields and how long purchases are kept."""
    actor = page_actor()
    require(actor, Action.MANAGE_SETTINGS)
    if request.method == "POST":
        try:
            with db.transaction() as session:
                org_members.set_timezone(session, actor, **forms.settings_arguments(request.form))
                org_members.set_company_prefix(
                    session, actor, prefix=request.form.get("gs1_company_prefix", "")
                )
                org_members.set_gln(session, actor, gln=request.form.get("gln", ""))
                operators.set_operator(session, actor, changes=forms.operator_arguments(request.form))
                if (retention := forms.retention_arguments(request.form)) is not None:
                    org_members.set_retention(session, actor, **retention)
        except ValidationError as exc:
            return _settings_page(error_map(exc.messages)), 422
        except DomainError as exc:
            return _settings_page(error_map(errors=exc.errors)), exc.status
        flash(_("Settings saved."))
        return redirect(url_for("orgs.settings"))
    return _settings_page({})


def _settings_page(errors: dict[str, str], *, seal_errors: dict[str, str] | None = None) -> str:
    current = auth.page_user().org.timezone  # type: ignore[union-attr]
    if request.method == "POST" and errors:
        current = request.form.get("timezone_other") or request.form.get("timezone") or current
    prefix = auth.page_user().org.gs1_company_prefix or ""  # type: ignore[union-attr]
    gln = auth.page_user().org.gln or ""  # type: ignore[union-attr]
    kept = auth.page_user().org.retention_months  # type: ignore[union-attr]
    retention = "" if kept is None else str(kept)
    if request.method == "POST" and errors:
        prefix = request.form.get("gs1_company_prefix", "")
        gln = request.form.get("gln", "")
        retention = request.form.get("retention_months", retention)
    common = [name for name, _label in zones.COMMON_ZONES]
    opening, closing = ("（", "）") if current_lang() == "zh" else (" (", ")")  # full-width in Chinese
    return render_template(
        "orgs/settings.html",
        errors=errors,
        zones=[(name, f"{label}{opening}{name}{closing}") for name, label in zones.COMMON_ZONES],
        current=current,
        other="" if current in common else current,
        prefix=prefix,
        gln=gln,
        retention=retention,
        min_retention=org_members.MIN_RETENTION_MONTHS,
        now=clock.now(),
        operator=_operator_values(errors),
        seal=seals.current_seal_id(db.session(), auth.page_user().org_id),  # type: ignore[union-attr]
        seal_errors=seal_errors or {},
    )


def _operator_values(errors: dict[str, str]) -> dict[str, str]:
    """The operator fields as stored (the admin reads its own in full), or as typed again."""
    if request.method == "POST" and errors:
        return {name: request.form.get(name, "") for name in forms.OPERATOR_FIELDS}
    org = auth.page_user().org  # type: ignore[union-attr]
    return {name: getattr(org, name) or "" for name in forms.OPERATOR_FIELDS}


@bp.post("/org/seal")
@login_required
def upload_seal() -> Response | tuple[str, int]:
    """Upload a new seal or signature image (admins); issued certificates keep theirs."""
    actor = page_actor()
    require(actor, Action.MANAGE_SETTINGS)
    try:
        upload = optional_file(request.files, "seal")
        if upload is None:
            raise InvalidInput("seal", _("Choose a PNG or JPEG image of the seal or signature."))
        limit = current_app.config["SEAL_MAX_BYTES"]
        with db.transaction() as session:
            seals.upload_seal(session, actor, data=upload.read(limit + 1), max_bytes=limit)
    except DomainError as exc:
        return _settings_page({}, seal_errors=error_map(errors=exc.errors)), exc.status
    flash(_("Seal saved. Certificates you issue from now on carry it."))
    return redirect(url_for("orgs.settings"))


@bp.post("/org/seal/remove")
@login_required
def remove_seal() -> Response:
    """Stop putting a seal on new certificates (admins)."""
    with db.transaction() as session:
        seals.remove_seal(session, page_actor())
    flash(_("Seal removed. Certificates issued before keep theirs."))
    return redirect(url_for("orgs.settings"))


@bp.get("/org/seal.png")
@login_required
def seal_image() -> Response:
    """The organisation's current seal image (its members see it on the settings page)."""
    seal = seals.current_seal(db.session(), page_actor())
    return make_response(
        seal.content, 200, {"Content-Type": "image/png", "Cache-Control": "private, no-store"}
    )
