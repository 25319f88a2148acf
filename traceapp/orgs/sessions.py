"""Page sign-in sessions kept on the server, so that signing out (or a password change) ends
them: the signed cookie carries only a random key, and every page request looks it up.

Services flush; they never commit.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from traceapp.db import utcnow
from traceapp.errors import InvalidInput
from traceapp.orgs import audit
from traceapp.orgs.models import User, UserSession
from traceapp.orgs.services import MIN_PASSWORD_LENGTH, Actor, hash_token, sign_in_name, user_by_sign_in_name
from traceapp.phones import looks_like_phone

#: ``last_seen_at`` moves at most this often (a write per page view would be a write per click).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def start_session(
    session: Session, user: User, *, lifetime: timedelta, address: str | None
) -> tuple[UserSession, str]:
    """Start a session for a user who just proved their password; return it and the key for
    the cookie (only its hash is stored). Audited as a sign-in."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        user_id=user.id, key_hash=hash_token(key), created_at=now, last_seen_at=now, expires_at=now + lifetime
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        action=audit.SIGN_IN,
        org_id=user.org_id,
        actor_user_id=user.id,
        subject_type="session",
        subject_id=row.id,
        address=address,
    )
    return row, key


def live_session(session: Session, key: str, *also: Any) -> tuple[Any, ...] | None:
    """The live session with this cookie key and its user (with the organisation), and the
    values of the columns ``also`` (a page's unread count), in one indexed query; None when
    unknown, ended or expired."""
    query = (
        sa.select(UserSession, User, *also)
        .join(User, UserSession.user_id == User.id)
        .where(
            UserSession.key_hash == hash_token(key),
            UserSession.ended_at.is_(None),
            UserSession.expires_at > utcnow(),
        )
    )
    row = session.execute(query).first()
    return tuple(row) if row else None


def seen_due(user_session: UserSession) -> bool:
    """Whether the session's ``last_seen_at`` is due to move (over a minute old)."""
    return utcnow() - user_session.last_seen_at >= LAST_SEEN_RESOLUTION


def note_seen(session: Session, user_session: UserSession) -> bool:
    """Move ``last_seen_at`` if it is older than a minute (one conditional UPDATE: two
    instances racing move it once)."""
    now = utcnow()
    moved = session.execute(
        sa.update(UserSession)
        .where(UserSession.id == user_session.id, UserSession.last_seen_at <= now - LAST_SEEN_RESOLUTION)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount == 1  # type: ignore[attr-defined]


def end_session(session: Session, key: str, *, address: str | None) -> bool:
    """End the live session with this cookie key (signing out), audited. Whether one was live."""
    found = live_session(session, key)
    if found is None:
        return False
    user_session, user = found
    user_session.ended_at = utcnow()
    session.flush()
    audit.record(
        session,
        action=audit.SIGN_OUT,
        org_id=user.org_id,
        actor_user_id=user.id,
        subject_type="session",
        subject_id=user_session.id,
        address=address,
    )
    return True


def record_failed_sign_in(session: Session, *, login: str, address: str | None) -> None:
    """Audit a failed sign-in: against the account's organisation when the mobile number or
    e-mail is known, else against no organisation (only regulators read those)."""
    name = sign_in_name(login)[:254]
    user = user_by_sign_in_name(session, login)
    audit.record(
        session,
        action=audit.SIGN_IN_FAILED,
        org_id=user.org_id if user else None,
        subject_type="user" if user else None,
        subject_id=user.id if user else None,
        details={"mobile" if looks_like_phone(login) else "email": name},
        address=address,
    )


def change_password(
    session: Session,
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    keep_session_id: uuid.UUID | None,
) -> int:
    """Change the actor's password and end every other session of theirs; return how many.

    API tokens stay (they are revoked one by one). Raises InvalidInput (wrong current password,
    a new one too short or equal to the old one).
    """
    user = session.get(User, actor.user_id)
    assert user is not None
    if not check_password_hash(user.password_hash, current_password):
        raise InvalidInput("current_password", _("This is not your current password."))
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("new_password", _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if new_password == current_password:
        raise InvalidInput("new_password", _("Choose a password other than the current one."))
    user.password_hash = generate_password_hash(new_password)
    user.must_change_password = False
    others = [UserSession.user_id == user.id, UserSession.ended_at.is_(None)]
    if keep_session_id is not None:
        others.append(UserSession.id != keep_session_id)
    ended = session.execute(
        sa.update(UserSession)
        .where(*others)
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.flush()
    audit.record_by(
        session,
        actor,
        action=audit.PASSWORD_CHANGED,
        subject_type="user",
        subject_id=user.id,
        details={"sessions_ended": ended},
    )
    return int(ended)
