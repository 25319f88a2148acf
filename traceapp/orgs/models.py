"""Organisations, users (with a role inside their organisation) and hashed API tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceapp.db import Base, UUIDPk, utcnow


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
    address: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="org")


class User(UUIDPk, Base):
    __tablename__ = "users"

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(default=Role.MEMBER)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")


class ApiToken(UUIDPk, Base):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")
