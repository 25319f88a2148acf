"""An organisation's people and settings, looked after by its administrators: add a member
(by mobile number and/or e-mail, with a first password they must change), reset a member's
password, set the organisation's time zone. Every change is audited.

Services flush; they never commit.
"""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from traceapp import gs1, zones
from traceapp.db import utcnow
from traceapp.errors import InvalidInput, NotFound
from traceapp.orgs import audit
from traceapp.orgs.models import Organisation, Role, User, UserSession
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.services import MIN_PASSWORD_LENGTH, Actor, create_user


def members(session: Session, actor: Actor) -> list[User]:
    """The users of the actor's organisation, administrators first."""
    require(actor, Action.MANAGE_MEMBERS)
    query = sa.select(User).where(User.org_id == actor.org_id)
    users = list(session.scalars(query.order_by(User.created_at, User.id)))
    return sorted(users, key=lambda u: u.role is not Role.ADMIN)


def add_member(
    session: Session,
    actor: Actor,
    *,
    mobile: str | None,
    email: str | None,
    password: str,
    role: Role = Role.MEMBER,
) -> User:
    """Add a user to the actor's organisation with a first password they must change at their
    first sign-in. Raises PermissionDenied, InvalidInput and Conflict (``create_user``)."""
    require(actor, Action.MANAGE_MEMBERS)
    user = create_user(
        session,
        org_id=actor.org_id,
        mobile=mobile,
        email=email,
        password=password,
        role=role,
        must_change_password=True,
    )
    audit.record_by(
        session,
        actor,
        action=audit.MEMBER_ADDED,
        subject_type="user",
        subject_id=user.id,
        details={"mobile": user.mobile, "email": user.email, "role": role.value},
    )
    return user


def reset_password(session: Session, actor: Actor, *, user_id: uuid.UUID, password: str) -> int:
    """Give a member of the actor's organisation a new first password (to change at the next
    sign-in) and end every session of theirs; return how many. API tokens stay.

    Raises PermissionDenied, NotFound (no such user in the actor's organisation: another
    organisation's members are not there to find) and InvalidInput (a short password).
    """
    require(actor, Action.MANAGE_MEMBERS)
    user = session.get(User, user_id)
    if user is None or user.org_id != actor.org_id:
        raise NotFound(_("No such member."))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    user.password_hash = generate_password_hash(password)
    user.must_change_password = True
    ended = session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.flush()
    audit.record_by(
        session,
        actor,
        action=audit.PASSWORD_RESET,
        subject_type="user",
        subject_id=user.id,
        details={"sessions_ended": int(ended)},
    )
    return int(ended)


def set_company_prefix(session: Session, actor: Actor, *, prefix: str | None) -> Organisation:
    """Set (or, with None or "", clear) the organisation's GS1 company prefix, from which its
    pallets' SSCCs are allocated. Raises PermissionDenied and InvalidInput (not 6 to 12
    digits)."""
    require(actor, Action.MANAGE_SETTINGS)
    prefix = (prefix or "").strip() or None
    if prefix is not None and not re.fullmatch("[0-9]{6,12}", prefix):
        raise InvalidInput("gs1_company_prefix", _("A GS1 company prefix is 6 to 12 digits."))
    org = session.get(Organisation, actor.org_id)
    assert org is not None
    if prefix is None or prefix == org.gs1_company_prefix:
        _change_setting(session, actor, org, "gs1_company_prefix", prefix)
        return org
    _lock_prefixes(session)
    if _prefix_taken(session, prefix, org.id):
        # Two organisations whose prefixes overlap (one the start of the other) would allocate
        # the same SSCCs and could claim each other's GLNs: GS1 licenses a prefix to one
        # company. We cannot ask GS1 who holds it, so the first organisation to claim it keeps it.
        raise InvalidInput("gs1_company_prefix", _prefix_taken_message())
    try:
        with session.begin_nested():  # two admins saving one prefix at once: the constraint decides
            _change_setting(session, actor, org, "gs1_company_prefix", prefix)
    except sa.exc.IntegrityError:
        raise InvalidInput("gs1_company_prefix", _prefix_taken_message()) from None
    return org


def _prefix_taken_message() -> str:
    """Read in the request's language (hence a function)."""
    return _("Another organisation uses this GS1 company prefix (or one that overlaps it).")


#: The key of the PostgreSQL advisory lock that orders prefix claims (any fixed 64-bit number).
_PREFIX_LOCK = 0x6751_5072_6566  # "gQPref"


def _lock_prefixes(session: Session) -> None:
    """On PostgreSQL, wait for any other transaction claiming a prefix to end, so the overlap
    look-up that follows sees its commit (the unique constraint alone stops only equal
    prefixes, not one that starts another). SQLite runs one writer at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_PREFIX_LOCK)))


def set_gln(session: Session, actor: Actor, *, gln: str | None) -> Organisation:
    """Set (or, with None or "", clear) the organisation's GS1 Global Location Number, which
    ``/414/{gln}`` and ``/417/{gln}`` resolve to its party page. The GLN must be allocated
    from the organisation's own GS1 company prefix (set it first, in the same transaction):
    the prefix, the location reference, the check digit last. Raises PermissionDenied and
    InvalidInput (not 13 digits, a wrong check digit, no prefix, outside the prefix, another
    organisation's GLN)."""
    require(actor, Action.MANAGE_SETTINGS)
    gln = (gln or "").strip() or None
    if gln is not None and not re.fullmatch("[0-9]{13}", gln):
        raise InvalidInput("gln", _("A GLN is 13 digits."))
    if gln is not None and not gs1.is_valid_gtin(gln):  # the same mod-10 check digit
        raise InvalidInput("gln", _("The GLN's check digit is wrong: a digit was mistyped."))
    org = session.get(Organisation, actor.org_id)
    assert org is not None
    if gln is not None and not org.gs1_company_prefix:
        raise InvalidInput("gln", _("Set your GS1 company prefix first: a GLN is allocated from it."))
    if gln is not None and not gln_under_prefix(gln, org.gs1_company_prefix or ""):
        raise InvalidInput(
            "gln",
            _(
                "This GLN is not allocated from your GS1 company prefix %(prefix)s: it must start with it.",
                prefix=org.gs1_company_prefix,
            ),
        )
    if gln is not None and gln != org.gln:
        taken = session.scalar(
            sa.select(Organisation.id).where(Organisation.gln == gln, Organisation.id != org.id)
        )
        if taken is not None:
            raise InvalidInput("gln", _("Another organisation has this GLN."))
    try:
        with session.begin_nested():  # two admins saving one GLN at once: the constraint decides
            _change_setting(session, actor, org, "gln", gln)
    except sa.exc.IntegrityError:
        raise InvalidInput("gln", _("Another organisation has this GLN.")) from None
    return org


def gln_under_prefix(gln: str, prefix: str) -> bool:
    """Whether a 13-digit GLN is allocated from a GS1 company prefix: the prefix, then the
    location reference (none with a 12-digit prefix), then the check digit."""
    return bool(prefix) and gln[:-1].startswith(prefix)


def _prefix_taken(session: Session, prefix: str, org_id: uuid.UUID) -> bool:
    """Whether another organisation's prefix equals this one, starts it, or starts with it."""
    other = session.scalar(
        sa.select(Organisation.id)
        .where(
            Organisation.id != org_id,
            Organisation.gs1_company_prefix.is_not(None),
            sa.or_(
                Organisation.gs1_company_prefix.startswith(prefix, autoescape=True),
                sa.literal(prefix, sa.String).startswith(Organisation.gs1_company_prefix),
            ),
        )
        .limit(1)
    )
    return other is not None


def _change_setting(session: Session, actor: Actor, org: Organisation, name: str, value: object) -> None:
    """Set one of the organisation's settings and audit the change (nothing when it is the same)."""
    before = getattr(org, name)
    if before == value:
        return
    setattr(org, name, value)
    session.flush()
    audit.record_by(
        session,
        actor,
        action=audit.SETTINGS_CHANGED,
        subject_type="organisation",
        subject_id=org.id,
        details={name: {"from": before, "to": value}},
    )


def set_timezone(session: Session, actor: Actor, *, timezone: str) -> Organisation:
    """Set the actor's organisation's time zone (an IANA name). Raises PermissionDenied and
    InvalidInput (an unknown zone)."""
    require(actor, Action.MANAGE_SETTINGS)
    timezone = zones.valid_zone(timezone)
    org = session.get(Organisation, actor.org_id)
    assert org is not None
    _change_setting(session, actor, org, "timezone", timezone)
    return org


#: The 2026 certificate rule: collected certificates are kept at least six months.
MIN_RETENTION_MONTHS = 6
MAX_RETENTION_MONTHS = 1200


def set_retention(session: Session, actor: Actor, *, months: int | None) -> Organisation:
    """Set how many months the organisation keeps its purchases and collected certificates
    (None: forever, the default). Raises PermissionDenied and InvalidInput (under six months,
    or past a hundred years)."""
    require(actor, Action.MANAGE_SETTINGS)
    if months is not None and months < MIN_RETENTION_MONTHS:
        raise InvalidInput(
            "/retention_months",
            _(
                "Collected certificates must be kept at least %(months)d months.",
                months=MIN_RETENTION_MONTHS,
            ),
        )
    if months is not None and months > MAX_RETENTION_MONTHS:
        raise InvalidInput("/retention_months", _("At most %(months)d months.", months=MAX_RETENTION_MONTHS))
    org = session.get(Organisation, actor.org_id)
    assert org is not None
    _change_setting(session, actor, org, "retention_months", months)
    return org
