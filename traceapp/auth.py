"""Who is asking: page sign-in (a server-side session named by the signed cookie) and API
bearer tokens (with scopes, expiry and revocation).

Both end in an ``Actor``; services decide what that actor may do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from traceapp import db
from traceapp.errors import NotAuthenticated
from traceapp.notify.queries import unread_count_of
from traceapp.orgs import sessions
from traceapp.orgs.models import ApiToken, User, UserSession
from traceapp.orgs.services import Actor, note_token_use, token_for, token_use_due

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
#: The cookie's one entry: the key of the server-side session (``orgs/sessions.py``).
SESSION_KEY = "sid"


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building a signing serializer (an HMAC set-up)
    on every request that carries no session cookie: consumers scanning a QR code never do."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def forget_caller() -> None:
    """Drop the caller looked up by ``api_actor`` and ``page_user`` (``g.actor``,
    ``g.page_session``), so that the next look-up reads this request's token or cookie."""
    g.pop("actor", None)
    g.pop("page_session", None)


def api_actor() -> Actor:
    """The actor of an API request, from ``Authorization: Bearer``. Raises NotAuthenticated
    (no token, an unknown, revoked or expired one)."""
    if "actor" not in g:
        scheme, _sep, plaintext = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not plaintext.strip():
            raise NotAuthenticated(_("Send a valid API token as 'Authorization: Bearer <token>'."))

        def look_up(s: Session) -> ApiToken:
            return token_for(s, plaintext.strip())

        def note(s: Session, token: ApiToken) -> object:
            return note_token_use(s, token, address=request.remote_addr)

        token = _look_up_and_note(look_up, token_use_due, note)
        assert token is not None  # token_for raises rather than answer None
        g.actor = Actor.of_token(token, address=request.remote_addr)
    return g.actor


#: How long noting a token's use or a session's sight may wait for SQLite's write lock: a read
#: (a scan at the gate) must not wait for another request's write to finish.
NOTE_WAIT_SECONDS = 0.2


def _look_up_and_note(
    look_up: Callable[[Session], T | None], due: Callable[[T], bool], note: Callable[[Session, T], object]
) -> T | None:
    """Look up who is asking in the request's session (one indexed query), and when a note is
    due (a token's last use, a session's last sight: at most once a minute) commit it at once,
    in a transaction of its own before the request's: it stands whatever becomes of the
    request's own. A database too busy for the note costs the note, not the request."""
    request_session = db.session()
    found = look_up(request_session)
    if found is not None and due(found):
        try:
            with db.transaction(wait=NOTE_WAIT_SECONDS) as own:
                note(own, found)
        except OperationalError:
            current_app.logger.warning("could not note a sign-in's use", exc_info=True)
            found = look_up(request_session)
    return found


def _page_session() -> tuple[UserSession, User, int] | None:
    # The unread count for the navigation's badge comes with the session's look-up: a page
    # still costs one query to know who asks.
    if "page_session" not in g:
        key = session.get(SESSION_KEY)
        g.page_session = None
        if isinstance(key, str):
            unread = unread_count_of(User.org_id)
            g.page_session = _look_up_and_note(
                lambda s: sessions.live_session(s, key, unread),  # type: ignore[arg-type,return-value]
                lambda found: sessions.seen_due(found[0]),
                lambda s, found: sessions.note_seen(s, found[0]),
            )
    return g.page_session


def page_user() -> User | None:
    """The signed-in user of a page request (a live server-side session), or None."""
    found = _page_session()
    return found[1] if found else None


def page_unread_count() -> int:
    """The signed-in organisation's unread notifications, as read with its session (0 when
    nobody is signed in)."""
    found = _page_session()
    return int(found[2] or 0) if found else 0


def page_session_id() -> Any:
    """The id of the page request's live session, or None."""
    found = _page_session()
    return found[0].id if found else None


def page_actor() -> Actor:
    """The signed-in actor of a page request. Raises NotAuthenticated when nobody is signed in."""
    user = page_user()
    if user is None:
        raise NotAuthenticated()
    return Actor.of(user, address=request.remote_addr)


def sign_in(db_session: Any, user: User) -> None:
    """Start a page session for ``user`` in ``db_session``'s transaction (a fresh cookie, so a
    planted cookie is worthless); audited."""
    lifetime = current_app.permanent_session_lifetime
    _row, key = sessions.start_session(db_session, user, lifetime=lifetime, address=request.remote_addr)
    session.clear()
    session[SESSION_KEY] = key
    session.permanent = True
    g.pop("page_session", None)


def sign_out(db_session: Any) -> None:
    """End the page session on the server (a saved copy of the cookie is worthless) and clear
    the cookie."""
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        sessions.end_session(db_session, key, address=request.remote_addr)
    session.clear()
    g.pop("page_session", None)


#: The one page a user with a first password (``must_change_password``) may open.
PASSWORD_ENDPOINT = "orgs.password"


def login_required(view: F) -> F:
    """Send anonymous visitors to the sign-in page, then back here; a user still on the first
    password an admin gave, to the password page first."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = page_user()
        if user is None:
            return redirect(url_for("orgs.login", next=request.full_path.rstrip("?")))
        if user.must_change_password and request.endpoint != PASSWORD_ENDPOINT:
            return redirect(url_for(PASSWORD_ENDPOINT, next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
