"""Events, the batches they touch, temperature readings and holdings.

One row per event, shaped like EPCIS 2.0 so export needs no reshaping:
what → ``EventItem`` rows (subject, or transformation inputs/outputs, with quantities);
when → ``occurred_at`` (UTC) + ``tz_offset`` as recorded, and ``recorded_at``;
where → ``location``; why → ``biz_step`` and ``disposition``; who → ``org_id`` (recorder),
``source_org_id`` and ``destination_org_id``; sensor data → ``TemperatureReading`` rows.
Events are append-only: a correction is a new event naming the one it corrects.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceapp.certificates.models import HoldingState, Unit
from traceapp.db import Base, UUIDPk, utcnow


class EventKind(enum.Enum):
    """What happened (our kinds; each maps to an EPCIS type, bizStep and disposition)."""

    COMMISSIONING = "commissioning"
    SHIPPING = "shipping"
    RECEIVING = "receiving"
    STORING = "storing"
    TRANSPORTING = "transporting"
    INSPECTING = "inspecting"
    TRANSFORMING = "transforming"
    PORTIONING = "portioning"
    RETAIL_SELLING = "retail_selling"
    AGGREGATING = "aggregating"
    DESTROYING = "destroying"
    VOIDING = "voiding"


class ItemRole(enum.Enum):
    SUBJECT = "subject"
    INPUT = "input"
    OUTPUT = "output"


class Event(UUIDPk, Base):
    """One recorded event (the id is its EPCIS eventID, ``urn:uuid:<id>``)."""

    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "client_event_id"),
        sa.UniqueConstraint("corrects_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    client_event_id: Mapped[uuid.UUID]
    request_digest: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[EventKind]
    epcis_type: Mapped[str] = mapped_column(sa.String(32))
    action: Mapped[str | None] = mapped_column(sa.String(8))
    biz_step: Mapped[str] = mapped_column(sa.String(32))
    disposition: Mapped[str | None] = mapped_column(sa.String(32))
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    tz_offset: Mapped[str] = mapped_column(sa.String(6))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    source_org_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"))
    destination_org_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"))
    carrier_org_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    #: A receiving answers its shipping.
    answers_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("events.id"), index=True)
    #: The event this one declares erroneous (EPCIS error declaration), with the reason.
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("events.id"))
    correction_reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: Kind-specific data: inspection results and tests, cold-chain verdict, losses, notes.
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    items: Mapped[list[EventItem]] = relationship(
        back_populates="event", lazy="raise", order_by="EventItem.position"
    )


class EventItem(Base):
    """A batch an event touches, in a role, with a quantity (EPCIS quantityList entries)."""

    __tablename__ = "event_items"
    __table_args__ = (sa.Index("ix_event_items_certificate_id_role", "certificate_id", "role"),)

    event_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("events.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("certificates.id"))
    role: Mapped[ItemRole]
    quantity: Mapped[Decimal | None]
    unit: Mapped[Unit | None]

    event: Mapped[Event] = relationship(back_populates="items")


class TemperatureReading(Base):
    """One temperature reading of a transport or storage leg (EPCIS sensorReport)."""

    __tablename__ = "temperature_readings"

    event_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("events.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    celsius: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2, asdecimal=True))


class HoldingChange(Base):
    """The ledger behind holdings: every change an event made (for mass balance and reversal)."""

    __tablename__ = "holding_changes"

    event_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("events.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    state: Mapped[HoldingState]
    delta: Mapped[Decimal]


class Quarantine(UUIDPk, Base):
    """A batch that must not move on (ship, sell, portion, process) while the hold is active.

    Recalls place and release them; the events domain only enforces them.
    """

    __tablename__ = "quarantines"
    __table_args__ = (sa.Index("ix_quarantines_certificate_id_released_at", "certificate_id", "released_at"),)

    certificate_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("certificates.id"))
    reference: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(sa.String(500))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]


class HandoverCode(UUIDPk, Base):
    """A holder's word that a batch may be handed over at a market gate: a single-use code.

    The holder asks for it (its app shows it, or it is written on the delivery note); the seller
    hands it to the gate with the goods. Only its hash is stored: the code itself is derived
    from the row's id with the secret key, so the holder (and a replayed request) can be shown
    it again while nobody reading the database can redeem it.
    """

    __tablename__ = "handover_codes"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "client_event_id"),
        sa.UniqueConstraint("code_hash"),
        sa.Index("ix_handover_codes_certificate_id_org_id", "certificate_id", "org_id"),
    )

    certificate_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("certificates.id"))
    #: The holder whose stock the code hands over.
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    client_event_id: Mapped[uuid.UUID]
    request_digest: Mapped[str] = mapped_column(sa.String(64))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    #: At most this much (in the batch's unit); None: all the holder has at the gate.
    quantity: Mapped[Decimal | None]
    #: Only this market may redeem it; None: any market gate.
    to_org_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_event_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("events.id"))
    cancelled_at: Mapped[datetime | None]


class DisputeStatus(enum.Enum):
    """A dispute is open until a regulator upholds it (custody returns) or dismisses it."""

    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class CustodyDispute(UUIDPk, Base):
    """A holder's objection to a gate check that took its stock; a regulator resolves it.

    Upheld, the gate check is declared erroneous by a voiding event recorded in the regulator's
    name (``correction_event_id``), whose ledger rows give the stock back; dismissed, it stands.
    """

    __tablename__ = "custody_disputes"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "client_event_id"),
        sa.UniqueConstraint("event_id"),
        sa.Index("ix_custody_disputes_status", "status"),
    )

    #: The gate check disputed.
    event_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("events.id"))
    #: The holder that disputes it (the gate check's source).
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    opened_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    client_event_id: Mapped[uuid.UUID]
    request_digest: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(500))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[DisputeStatus] = mapped_column(default=DisputeStatus.OPEN)
    resolved_by_org_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"))
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(sa.String(500))
    correction_event_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("events.id"))


class Pallet(UUIDPk, Base):
    """A pallet (or any logistic unit) with an SSCC, and the aggregating event that packed its
    cases onto it: the event's subject items are its contents (batch and quantity)."""

    __tablename__ = "pallets"

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    #: 18 digits: extension digit, company prefix, serial reference, check digit.
    sscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    event_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("events.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
