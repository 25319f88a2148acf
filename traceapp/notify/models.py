"""A notification (one per organisation and cause) and its deliveries (one per channel and
address), with the state that makes a delivery run once however often its job runs."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceapp.db import Base, UUIDPk, utcnow


class NotificationKind(enum.Enum):
    """What happened to the batch."""

    REJECTED = "rejected"  # rejected at a market gate
    RECALLED = "recalled"
    DISPUTED = "disputed"  # the holder disputes a gate check the organisation recorded
    SHORT = "short"  # received less than the organisation shipped


class Notification(UUIDPk, Base):
    """What an organisation is told. ``facts`` holds what its text is rendered from at read
    time, in the reader's language (never rendered text); ``subject_id`` names the cause (the
    event, recall or dispute), unique per organisation and kind, so a cause tells once."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "kind", "subject_id"),
        sa.Index("ix_notifications_org_id_created_at", "org_id", "created_at"),
        # Every signed-in page counts the unread ones (the navigation's badge).
        sa.Index("ix_notifications_org_id_read_at", "org_id", "read_at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    kind: Mapped[NotificationKind]
    subject_id: Mapped[str] = mapped_column(sa.String(64))
    certificate_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("certificates.id"))
    trace_code: Mapped[str | None] = mapped_column(sa.String(14))
    facts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="notification")


class Channel(enum.Enum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.Enum):
    """``queued`` (waiting for its job), ``sending`` (claimed by a run, until ``claimed_at`` +
    the lease), ``sent``, ``failed`` (no attempts left)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(UUIDPk, Base):
    """One notification to one address by one channel. Its id is the idempotency key every
    sender passes on (Message-ID, webhook header, SMS session context)."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel", "address"),
        sa.Index("ix_notification_deliveries_status_claimed_at", "status", "claimed_at"),
    )

    notification_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("notifications.id"), index=True)
    channel: Mapped[Channel]
    address: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[DeliveryStatus] = mapped_column(default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=4)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    notification: Mapped[Notification] = relationship(back_populates="deliveries")
