"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from traceapp import auth, db
from traceapp.errors import NotAuthenticated
from traceapp.orgs import services
from traceapp.orgs.models import OrgKind
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
    email = request.form.get("email", "")
    try:
        with guarded_sign_in(email):
            user = services.authenticate(db.session(), email=email, password=request.form.get("password", ""))
    except NotAuthenticated as exc:
        return render_template("orgs/login.html", email=email, error=exc.detail), 401
    except RateLimited as exc:
        page = render_template("orgs/login.html", email=email, error=exc.detail)
        return make_response(page, 429, {"Retry-After": str(exc.retry_after)})
    auth.sign_in(user)
    return redirect(_safe_next(request.args.get("next"), user.org.kind))


@bp.post("/logout")
def logout() -> Response:
    """Sign out."""
    auth.sign_out()
    return redirect(url_for("public.home"))
