"""Operations on organisations, users and API tokens. Services flush; they never commit."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from traceapp import phones, regions, sealed, zones
from traceapp.db import utcnow
from traceapp.errors import Conflict, FieldError, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from traceapp.orgs import audit
from traceapp.orgs.models import DEFAULT_ZONE, ApiToken, Organisation, OrgKind, Role, User
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.scopes import ALL_SCOPES, Scope

TOKEN_PREFIX = "tat_"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
TOKEN_NAME_MAX = 100
#: ``last_used_at`` (and the ``token.used`` audit entry) moves at most this often per token.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
# Compared against when the e-mail is unknown, so a failed login takes the same time either way.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user or a token's owner, with their organisation; for a token,
    which one and its scopes (None: a signed-in user, not narrowed by scopes); where from."""

    user_id: uuid.UUID
    org_id: uuid.UUID
    org_kind: OrgKind
    role: Role
    token_id: uuid.UUID | None = None
    scopes: frozenset[Scope] | None = None
    address: str | None = None

    @classmethod
    def of(cls, user: User, *, address: str | None = None) -> Actor:
        return cls(user.id, user.org_id, user.org.kind, user.role, address=address)

    @classmethod
    def of_token(cls, token: ApiToken, *, address: str | None = None) -> Actor:
        user = token.user
        scopes = frozenset(Scope(name) for name in token.scopes if name in _SCOPE_NAMES)
        return cls(user.id, user.org_id, user.org.kind, user.role, token.id, scopes, address)

    def has_scope(self, scope: Scope) -> bool:
        """Whether the actor's token (if any) carries ``scope``."""
        return self.scopes is None or scope in self.scopes


_SCOPE_NAMES = {scope.value for scope in Scope}


def create_organisation(
    session: Session,
    *,
    kind: OrgKind,
    name: str,
    region_code: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    timezone: str = DEFAULT_ZONE,
) -> Organisation:
    """Create an organisation (in ``timezone``, an IANA name). Raises InvalidInput for an empty
    name, an unknown region code or time zone."""
    if not name.strip():
        raise InvalidInput("name", _("Enter a name."))
    if region_code is not None and not regions.is_known(region_code):
        raise InvalidInput("region_code", _("Unknown administrative division code."))
    org = Organisation(
        kind=kind,
        name=name.strip(),
        region_code=region_code,
        phone=phone,
        address=address,
        timezone=zones.valid_zone(timezone),
    )
    session.add(org)
    session.flush()
    return org


def set_contacts(
    session: Session,
    *,
    org_id: uuid.UUID,
    email: str | None = None,
    phone: str | None = None,
    webhook_url: str | None = None,
    keys: Sequence[str | bytes],
) -> tuple[Organisation, str | None]:
    """Set where an organisation's notifications go (the given ones; "" clears one). A changed
    webhook URL gets a new signing secret, returned once (else None) and stored sealed under
    ``keys`` (``sealed.app_keys``). Raises NotFound and InvalidInput (an e-mail without ``@``, a
    webhook that is not http(s)://)."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound()
    if email is not None:
        if email.strip() and "@" not in email:
            raise InvalidInput("/email", _("Enter an e-mail address."))
        org.email = email.strip() or None
    if phone is not None:
        org.phone = phone.strip() or None
    secret = None
    if webhook_url is not None and (webhook_url.strip() or None) != org.webhook_url:
        url = webhook_url.strip()
        if url and not url.startswith(("https://", "http://")):
            raise InvalidInput("/webhook_url", _("Enter an http:// or https:// address."))
        org.webhook_url = url or None
        secret = secrets.token_urlsafe(32) if url else None
        org.webhook_secret = sealed.seal(keys, secret) if secret else None
    session.flush()
    return org, secret


def set_own_contacts(
    session: Session, actor: Actor, *, data: dict[str, str], keys: Sequence[str | bytes]
) -> tuple[Organisation, str | None]:
    """``set_contacts`` for the actor's own organisation, by its admin; in the audit log.
    Raises PermissionDenied and InvalidInput."""
    require(actor, Action.MANAGE_NOTIFICATIONS)
    org, secret = set_contacts(session, org_id=actor.org_id, **data, keys=keys)
    audit.record_by(
        session,
        actor,
        action=audit.CONTACTS_CHANGED,
        subject_type="organisation",
        subject_id=org.id,
        details={
            "email": org.email,
            "phone": org.phone,
            "webhook_url": org.webhook_url,
            "new_secret": bool(secret),
        },
    )
    return org, secret


def create_user(
    session: Session,
    *,
    org_id: uuid.UUID,
    email: str | None = None,
    password: str,
    role: Role = Role.MEMBER,
    mobile: str | None = None,
    must_change_password: bool = False,
) -> User:
    """Create a user in an organisation, signing in by e-mail, mobile number or either.

    Raises NotFound (no such organisation), InvalidInput (neither e-mail nor mobile, a bad one,
    a short password) and Conflict (e-mail or mobile already used).
    """
    if session.get(Organisation, org_id) is None:
        raise NotFound(_("No such organisation."))
    email = (email or "").strip().lower() or None
    mobile = phones.mobile_or_refuse(mobile) if (mobile or "").strip() else None
    if email is None and mobile is None:
        raise InvalidInput("mobile", _("Enter a mobile number or an e-mail address."))
    if email is not None and not EMAIL_RE.match(email):
        raise InvalidInput("email", _("Enter a valid e-mail address."))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if email is not None and session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        message = _("This e-mail address is already registered.")
        raise Conflict(message, errors=[FieldError("email", message)])
    if mobile is not None and session.scalar(sa.select(User.id).where(User.mobile == mobile)) is not None:
        message = _("This mobile number is already registered.")
        raise Conflict(message, errors=[FieldError("mobile", message)])
    user = User(
        org_id=org_id,
        email=email,
        mobile=mobile,
        password_hash=generate_password_hash(password),
        role=role,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def sign_in_name(typed: str) -> str:
    """What a person typed to sign in, as it is stored: a mobile number in E.164 (however it
    was spaced or prefixed), else an e-mail address in lower case. Also the throttle's key, so
    ``138 0013 8000`` and ``+8613800138000`` count as one account."""
    typed = typed.strip()
    if phones.looks_like_phone(typed):
        return phones.normalised_mobile(typed) or re.sub(r"[\s\-().]", "", typed)
    return typed.lower()


def user_by_sign_in_name(session: Session, typed: str) -> User | None:
    """The user a typed mobile number or e-mail address names, or None."""
    name = sign_in_name(typed)
    column = User.mobile if phones.looks_like_phone(typed) else User.email
    return session.scalar(sa.select(User).where(column == name)) if name else None


def authenticate(session: Session, *, login: str, password: str) -> User:
    """Return the user with this mobile number or e-mail and password. Raises NotAuthenticated
    otherwise (in the same time whether the account exists or not)."""
    user = user_by_sign_in_name(session, login)
    stored = user.password_hash if user else _DUMMY_HASH
    if not check_password_hash(stored, password) or user is None:
        raise NotAuthenticated(_("Wrong mobile number, e-mail address or password."))
    return user


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens carry 256 random bits, so a fast hash is safe to store."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    session: Session,
    *,
    email: str,
    name: str = "cli",
    scopes: Collection[Scope] = ALL_SCOPES,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token for the user with this e-mail (the command line: no actor); return
    it and the one-time plaintext.

    Raises NotFound when no user has that e-mail, InvalidInput for a bad name, no scopes or an
    expiry in the past.
    """
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(_("No user with this e-mail address."))
    return _mint(session, user, name=name, scopes=scopes, expires_at=expires_at, by=None)


def create_own_token(
    session: Session,
    actor: Actor,
    *,
    name: str,
    scopes: Collection[Scope],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for the actor's own user (API or page); return it and the plaintext.

    A token may create only tokens with scopes it has itself, expiring no later than itself.
    Raises InvalidInput (name, scopes, expiry in the past) and PermissionDenied (more than the
    calling token may give).
    """
    require(actor, Action.MANAGE_TOKENS)
    if actor.scopes is not None:
        _require_scopes(actor, scopes)
        own = session.get(ApiToken, actor.token_id)
        if own is not None and own.expires_at is not None:
            if expires_at is None or expires_at > own.expires_at:
                raise PermissionDenied(_("A token cannot create a token that outlives it."))
    user = session.get(User, actor.user_id)
    assert user is not None
    return _mint(session, user, name=name, scopes=scopes, expires_at=expires_at, by=actor)


def _mint(
    session: Session,
    user: User,
    *,
    name: str,
    scopes: Collection[Scope],
    expires_at: datetime | None,
    by: Actor | None,
) -> tuple[ApiToken, str]:
    name = name.strip()
    if not name or len(name) > TOKEN_NAME_MAX:
        raise InvalidInput("name", _("Give the token a name of up to %(n)d characters.", n=TOKEN_NAME_MAX))
    if not scopes:
        raise InvalidInput("scopes", _("Choose at least one scope."))
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("expires_at", _("Choose an expiry in the future."))
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=hash_token(plaintext),
        prefix=plaintext[:10],
        name=name,
        scopes=sorted(scope.value for scope in scopes),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    details = {"name": name, "scopes": token.scopes, "owner": user.email or user.mobile}
    _audit_token(session, audit.TOKEN_CREATED, token, by=by, details=details)
    return token, plaintext


def _audit_token(
    session: Session, action: str, token: ApiToken, *, by: Actor | None, details: dict[str, object]
) -> None:
    if by is None:  # the command line: an operator on the server, no user
        details = {**details, "via": "cli"}
        audit.record(
            session,
            action=action,
            org_id=token.user.org_id,
            subject_type="token",
            subject_id=token.id,
            details=details,
        )
    else:
        audit.record_by(
            session, by, action=action, subject_type="token", subject_id=token.id, details=details
        )


def _require_scopes(actor: Actor, scopes: Collection[Scope]) -> None:
    for scope in sorted(scopes, key=lambda s: s.value):
        if not actor.has_scope(scope):
            raise PermissionDenied(_("This token lacks the scope '%(scope)s'.", scope=scope.value))


def token_for(session: Session, plaintext: str) -> ApiToken:
    """The live token with this plaintext (its user and organisation loaded in the same query).

    Raises NotAuthenticated for an unknown, revoked or expired token.
    """
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext)))
    if token is None:
        raise NotAuthenticated(_("Send a valid API token as 'Authorization: Bearer <token>'."))
    if token.revoked_at is not None:
        raise NotAuthenticated(_("This API token was revoked."))
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise NotAuthenticated(_("This API token has expired."))
    return token


def user_for_token(session: Session, plaintext: str) -> User | None:
    """The user a live token belongs to, or None for an unknown, revoked or expired token."""
    try:
        return token_for(session, plaintext).user
    except NotAuthenticated:
        return None


def token_use_due(token: ApiToken) -> bool:
    """Whether the token's use is due to be noted (never noted, or over a minute ago)."""
    return token.last_used_at is None or utcnow() - token.last_used_at >= TOKEN_USE_RESOLUTION


def note_token_use(session: Session, token: ApiToken, *, address: str | None) -> bool:
    """Move the token's ``last_used_at`` and audit its use, at most once a minute (one
    conditional UPDATE: two instances racing record it once). Whether it was recorded."""
    now = utcnow()
    moved = session.execute(
        sa.update(ApiToken)
        .where(
            ApiToken.id == token.id,
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    first = token.last_used_at is None
    audit.record(
        session,
        action=audit.TOKEN_USED,
        org_id=token.user.org_id,
        actor_user_id=token.user_id,
        token_id=token.id,
        subject_type="token",
        subject_id=token.id,
        details={"first": True} if first else None,
        address=address,
    )
    return True


def visible_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The actor's own tokens; an organisation's admin sees all its users' tokens. Newest first."""
    require(actor, Action.MANAGE_TOKENS)
    query = sa.select(ApiToken).join(User, ApiToken.user_id == User.id)
    if actor.role is Role.ADMIN:
        query = query.where(User.org_id == actor.org_id)
    else:
        query = query.where(ApiToken.user_id == actor.user_id)
    return list(session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id)))


def revoke_api_token(session: Session, actor: Actor, *, token_id: uuid.UUID) -> ApiToken:
    """Revoke one of the actor's own tokens (an admin: any of its organisation's).

    A token may revoke itself, or another token whose scopes it has all of. Revoking a revoked
    token changes nothing. Raises NotFound (anyone else's token) and PermissionDenied.
    """
    require(actor, Action.MANAGE_TOKENS)
    token = session.get(ApiToken, token_id)
    mine = token is not None and token.user_id == actor.user_id
    admin_of = token is not None and actor.role is Role.ADMIN and token.user.org_id == actor.org_id
    if token is None or not (mine or admin_of):
        raise NotFound(_("No such token."))
    if token.id != actor.token_id:
        _require_scopes(actor, [Scope(name) for name in token.scopes if name in _SCOPE_NAMES])
    return _revoke(session, token, by=actor)


def revoke_token_by_id(session: Session, *, token_id: uuid.UUID) -> ApiToken:
    """Revoke any token (the command line, an operator on the server). Raises NotFound."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("No such token."))
    return _revoke(session, token, by=None)


def _revoke(session: Session, token: ApiToken, *, by: Actor | None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        _audit_token(session, audit.TOKEN_REVOKED, token, by=by, details={"name": token.name})
    return token


def all_tokens(session: Session, *, email: str | None = None) -> list[ApiToken]:
    """Every token (of one user's e-mail if given), newest first: for the command line."""
    query = sa.select(ApiToken).join(User, ApiToken.user_id == User.id)
    if email is not None:
        query = query.where(User.email == email.strip().lower())
    return list(session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id)))


def set_role(session: Session, *, email: str, role: Role) -> User:
    """Give the user with this e-mail ``role`` in its organisation (the command line), audited.

    Raises NotFound when no user has that e-mail.
    """
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(_("No user with this e-mail address."))
    if user.role is not role:
        before, user.role = user.role, role
        session.flush()
        audit.record(
            session,
            action=audit.ROLE_CHANGED,
            org_id=user.org_id,
            subject_type="user",
            subject_id=user.id,
            details={"email": user.email, "from": before.value, "to": role.value, "via": "cli"},
        )
    return user
