"""Who is asking: page sign-in (session cookie) and API bearer tokens.

Both end in an ``Actor``; services decide what that actor may do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext as _

from traceapp import db
from traceapp.errors import NotAuthenticated
from traceapp.orgs.models import User
from traceapp.orgs.services import Actor, user_for_token

F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "user_id"


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building a signing serializer (an HMAC set-up)
    on every request that carries no session cookie: consumers scanning a QR code never do."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def api_actor() -> Actor:
    """The actor of an API request, from ``Authorization: Bearer``. Raises NotAuthenticated."""
    if "actor" not in g:
        scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
        user = user_for_token(db.session(), token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise NotAuthenticated(_("Send a valid API token as 'Authorization: Bearer <token>'."))
        g.actor = Actor.of(user)
    return g.actor


def page_user() -> User | None:
    """The signed-in user of a page request, or None."""
    if "page_user" not in g:
        raw = session.get(SESSION_KEY)
        g.page_user = db.session().get(User, uuid.UUID(raw)) if raw else None
    return g.page_user


def page_actor() -> Actor:
    """The signed-in actor of a page request. Raises NotAuthenticated when nobody is signed in."""
    user = page_user()
    if user is None:
        raise NotAuthenticated()
    return Actor.of(user)


def sign_in(user: User) -> None:
    """Start a page session for ``user`` (a fresh session, so a planted cookie is worthless)."""
    session.clear()
    session[SESSION_KEY] = str(user.id)
    session.permanent = True


def sign_out() -> None:
    """End the page session."""
    session.clear()


def login_required(view: F) -> F:
    """Send anonymous visitors to the sign-in page, then back here."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if page_user() is None:
            return redirect(url_for("orgs.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
