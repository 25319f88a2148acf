"""Recalls: the batches they cover (kept after closing) and the parties who must act."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from traceapp.db import Base, UUIDPk, utcnow


class Severity(enum.Enum):
    """Recall classes as food regulators use them (I: serious risk ... III: unlikely harm)."""

    CLASS_I = "class_i"
    CLASS_II = "class_ii"
    CLASS_III = "class_iii"


class RecallStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class Recall(UUIDPk, Base):
    __tablename__ = "recalls"

    opened_by_org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    opened_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(500))
    instructions: Mapped[str | None] = mapped_column(sa.String(500))
    severity: Mapped[Severity]
    status: Mapped[RecallStatus] = mapped_column(default=RecallStatus.OPEN)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    close_note: Mapped[str | None] = mapped_column(sa.String(500))


class RecallBatch(Base):
    """A batch a recall covers: one of the recalled codes (root) or downstream of one."""

    __tablename__ = "recall_batches"

    recall_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("recalls.id"), primary_key=True)
    certificate_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("certificates.id"), primary_key=True, index=True
    )
    root: Mapped[bool] = mapped_column(default=False)


class RecallParty(Base):
    """An organisation that handled a recalled batch, and whether it has acknowledged."""

    __tablename__ = "recall_parties"

    recall_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("recalls.id"), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), primary_key=True, index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
