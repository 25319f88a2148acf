"""Organisations, users (with a role inside their organisation), their sign-in sessions, hashed
API tokens with scopes, and the audit log."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceapp.db import Base, UUIDPk, utcnow

#: Where an organisation is unless it says otherwise (most users are in China).
DEFAULT_ZONE = "Asia/Shanghai"


class OrgKind(enum.Enum):
    """What an organisation does in the chain (the contract's KIND values)."""

    PRODUCER = "producer"
    MARKET = "market"
    CARRIER = "carrier"
    PROCESSOR = "processor"
    RETAILER = "retailer"
    REGULATOR = "regulator"


class Role(enum.Enum):
    """A user's role inside an organisation."""

    ADMIN = "admin"
    MEMBER = "member"


class Organisation(UUIDPk, Base):
    __tablename__ = "organisations"

    kind: Mapped[OrgKind]
    name: Mapped[str] = mapped_column(sa.String(200))
    region_code: Mapped[str | None] = mapped_column(sa.String(6))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    #: The operator's own address (经营者地址), never a certificate's place of production.
    address: Mapped[str | None] = mapped_column(sa.String(300))
    #: The operator as NY/T 4712 names it (``orgs/operators.py``): a legal person's unified
    #: social credit code, or a natural person's (a farm household's) name and identity number,
    #: and the national platform's operator code (主体码) where it has one.
    credit_code: Mapped[str | None] = mapped_column(sa.String(18))
    person_name: Mapped[str | None] = mapped_column(sa.String(100))
    #: Read in full only by its own organisation and regulators; masked for everyone else
    #: (``identity.mask_id_number``). Not encrypted at rest: see the README.
    id_number: Mapped[str | None] = mapped_column(sa.String(18))
    platform_code: Mapped[str | None] = mapped_column(sa.String(32))
    #: The IANA time zone its dates are shown in and its "today" is taken in (``traceapp/zones.py``).
    timezone: Mapped[str] = mapped_column(sa.String(64), default=DEFAULT_ZONE, server_default=DEFAULT_ZONE)
    #: Where notifications go besides the users' own addresses (``traceapp.notify``): the
    #: contact e-mail, SMS to ``phone``, and a webhook whose bodies are signed with the secret.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    webhook_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: Sealed (``traceapp/sealed.py``): a database copy alone does not give it away.
    webhook_secret: Mapped[str | None] = mapped_column(sa.String(255))
    #: Its GS1 company prefix (6 to 12 digits), from which its pallets' SSCCs are allocated.
    gs1_company_prefix: Mapped[str | None] = mapped_column(sa.String(12), unique=True)
    #: Its GS1 Global Location Number (13 digits, GS1 check digit), set by an admin: the party
    #: its EPCIS events name resolves through ``/414/{gln}`` and ``/417/{gln}``.
    gln: Mapped[str | None] = mapped_column(sa.String(13), unique=True)
    #: The serial reference of the last SSCC allocated (``traceapp/events/pallets.py``).
    sscc_last_serial: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    #: How long collected certificates and purchases are kept, in months (at least 6, the 2026
    #: certificate rule); None: forever. Only ``traceapp purchases purge`` deletes by it.
    retention_months: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="org")


class OrgSeal(UUIDPk, Base):
    """One version of an organisation's seal or signature image (盖章或签名), re-encoded as PNG.

    Never changed or deleted: a certificate keeps the version it was issued with
    (``certificates.seal_id``). The newest version not ``retired_at`` is the current one.
    """

    __tablename__ = "org_seals"
    __table_args__ = (sa.Index("ix_org_seals_org_id_created_at", "org_id", "created_at"),)

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    width: Mapped[int]
    height: Mapped[int]
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class User(UUIDPk, Base):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("email IS NOT NULL OR mobile IS NOT NULL", name="email_or_mobile"),)

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    # One of the two at least: farmers sign in by mobile number, seldom have an e-mail.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: E.164, ``+8613800138000`` (``traceapp/phones.py``).
    mobile: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(default=Role.MEMBER)
    #: A first password set by an admin: the pages send the user to change it before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")


class ApiToken(UUIDPk, Base):
    """An API token; only its SHA-256 is stored, the token itself is shown once.

    ``scopes`` lists what it may be used for (``orgs/scopes.py``); past ``expires_at`` or once
    revoked it answers 401. ``last_used_at`` moves at most once a minute.
    """

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    name: Mapped[str] = mapped_column(sa.String(100))
    scopes: Mapped[list[str]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class UserSession(UUIDPk, Base):
    """A page sign-in on the server: the signed cookie carries a random key whose SHA-256 is
    ``key_hash``; the session is live until ``expires_at`` unless ``ended_at`` is set (signing
    out, a password change elsewhere)."""

    __tablename__ = "user_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class AuditEntry(UUIDPk, Base):
    """One line of the audit log: who did what to what, when and from where. Append-only.

    ``org_id`` is the organisation the entry belongs to (its admins read it); None for a failed
    sign-in of an unknown account (only regulators read those).
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_org_id_at", "org_id", "at"),)

    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    org_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    token_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("api_tokens.id"))
    subject_type: Mapped[str | None] = mapped_column(sa.String(40))
    subject_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    address: Mapped[str | None] = mapped_column(sa.String(64))

    actor: Mapped[User | None] = relationship(lazy="joined")
