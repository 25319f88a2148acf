"""A purchase (收购) by a buyer organisation, its lines and the certificate collected with each.

A purchase is never edited after recording: a wrong one is voided with a reason. A line's
``remaining`` is what of it is still free for a re-issue (in the line's unit); it only falls,
by a conditional UPDATE, so concurrent re-issues never take more than was bought.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceapp.certificates.models import Unit
from traceapp.db import Base, UUIDPk, utcnow


class CollectedKind(enum.Enum):
    """The certificate a line was bought with: one of ours (its trace code), another system's
    (its code and the URL its QR carried), a paper one (a photograph and its fields typed), or
    none, with the reason the buyer gives (自产, or its own words)."""

    OURS = "ours"
    FOREIGN = "foreign"
    PAPER = "paper"
    NONE = "none"


class Purchase(UUIDPk, Base):
    """One purchase: who sold, when and where, under which document, and its lines."""

    __tablename__ = "purchases"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "client_event_id"),
        sa.Index("ix_purchases_org_id_purchased_at", "org_id", "purchased_at"),
    )

    #: The buyer.
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    client_event_id: Mapped[uuid.UUID]
    request_digest: Mapped[str] = mapped_column(sa.String(64))
    #: A seller we know, or one typed (a farm household without an account).
    seller_org_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    seller_name: Mapped[str] = mapped_column(sa.String(200))
    seller_phone: Mapped[str | None] = mapped_column(sa.String(32))
    seller_region_code: Mapped[str | None] = mapped_column(sa.String(6))
    purchased_at: Mapped[datetime]
    tz_offset: Mapped[str] = mapped_column(sa.String(6))
    place: Mapped[str | None] = mapped_column(sa.String(200))
    #: The buyer's own document, e.g. the 收购单 number.
    reference_document: Mapped[str | None] = mapped_column(sa.String(60))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[datetime | None]
    voided_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(sa.String(500))

    lines: Mapped[list[PurchaseLine]] = relationship(
        back_populates="purchase", lazy="raise", order_by="PurchaseLine.position"
    )


class PurchasePhoto(UUIDPk, Base):
    """A photograph of a paper certificate, re-encoded on upload (no EXIF, no GPS, nothing but
    pixels), stored in the database as lab reports are so every instance sees it."""

    __tablename__ = "purchase_photos"

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    content_type: Mapped[str] = mapped_column(sa.String(32))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurchaseLine(Base):
    """A lot bought: product, quantity and unit, and the certificate collected with it."""

    __tablename__ = "purchase_lines"
    __table_args__ = (
        sa.UniqueConstraint("purchase_id", "position"),
        sa.CheckConstraint("remaining >= 0", name="not_negative"),
        sa.CheckConstraint("remaining <= quantity", name="within_quantity"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    purchase_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("purchases.id", ondelete="CASCADE"))
    position: Mapped[int]
    product_name: Mapped[str] = mapped_column(sa.String(60))
    quantity: Mapped[Decimal]
    unit: Mapped[Unit]
    remaining: Mapped[Decimal]
    collected: Mapped[CollectedKind]
    #: ours: the certificate, and the receiving that took the seller's shipment, if one was on
    #: its way to the buyer.
    certificate_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    receiving_event_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("events.id"))
    #: foreign: the other system's code and the URL its QR carried, as scanned (never fetched).
    external_code: Mapped[str | None] = mapped_column(sa.String(200))
    external_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: paper: the photograph, and what the buyer typed from it.
    photo_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("purchase_photos.id", ondelete="SET NULL")
    )
    #: The producer and origin as the collected certificate states them (ours: a snapshot).
    producer_name: Mapped[str | None] = mapped_column(sa.String(200))
    origin: Mapped[str | None] = mapped_column(sa.String(200))
    issue_date: Mapped[date | None]
    #: none: why the lot came without a certificate.
    exemption: Mapped[str | None] = mapped_column(sa.String(20))
    exemption_note: Mapped[str | None] = mapped_column(sa.String(200))

    purchase: Mapped[Purchase] = relationship(back_populates="lines")


class ReissueSource(Base):
    """What of a purchase line a re-issue (a transforming event) consumed, in the line's unit."""

    __tablename__ = "reissue_sources"

    event_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("events.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("purchase_lines.id"), index=True)
    quantity: Mapped[Decimal]
