"""Operations on organisations, users and API tokens. Services flush; they never commit."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from traceapp import regions
from traceapp.db import utcnow
from traceapp.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from traceapp.orgs.models import ApiToken, Organisation, OrgKind, Role, User

TOKEN_PREFIX = "tat_"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
# Compared against when the e-mail is unknown, so a failed login takes the same time either way.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user or a token's owner, with their organisation."""

    user_id: uuid.UUID
    org_id: uuid.UUID
    org_kind: OrgKind
    role: Role

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.org_id, user.org.kind, user.role)


def create_organisation(
    session: Session,
    *,
    kind: OrgKind,
    name: str,
    region_code: str | None = None,
    phone: str | None = None,
    address: str | None = None,
) -> Organisation:
    """Create an organisation. Raises InvalidInput for an empty name or unknown region code."""
    if not name.strip():
        raise InvalidInput("name", _("Enter a name."))
    if region_code is not None and not regions.is_known(region_code):
        raise InvalidInput("region_code", _("Unknown administrative division code."))
    org = Organisation(kind=kind, name=name.strip(), region_code=region_code, phone=phone, address=address)
    session.add(org)
    session.flush()
    return org


def create_user(
    session: Session, *, org_id: uuid.UUID, email: str, password: str, role: Role = Role.MEMBER
) -> User:
    """Create a user in an organisation.

    Raises NotFound (no such organisation), InvalidInput (e-mail, short password) and Conflict
    (e-mail already used).
    """
    if session.get(Organisation, org_id) is None:
        raise NotFound(_("No such organisation."))
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise InvalidInput("email", _("Enter a valid e-mail address."))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(_("This e-mail address is already registered."))
    user = User(org_id=org_id, email=email, password_hash=generate_password_hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """Return the user with this e-mail and password. Raises NotAuthenticated otherwise."""
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    stored = user.password_hash if user else _DUMMY_HASH
    if not check_password_hash(stored, password) or user is None:
        raise NotAuthenticated(_("Wrong e-mail address or password."))
    return user


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens carry 256 random bits, so a fast hash is safe to store."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, *, email: str) -> tuple[ApiToken, str]:
    """Create an API token for the user with this e-mail; return it and the one-time plaintext.

    Raises NotFound when no user has that e-mail.
    """
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(_("No user with this e-mail address."))
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=hash_token(plaintext), prefix=plaintext[:10])
    session.add(token)
    session.flush()
    return token, plaintext


def user_for_token(session: Session, plaintext: str) -> User | None:
    """The user a live token belongs to, or None for an unknown or revoked token."""
    token = session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext), ApiToken.revoked_at.is_(None))
    )
    return token.user if token else None


def revoke_api_token(session: Session, actor: Actor, *, token_id: uuid.UUID) -> None:
    """Revoke one of the actor's own tokens. Raises NotFound for anyone else's."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise NotFound(_("No such token."))
    token.revoked_at = token.revoked_at or utcnow()
    session.flush()
