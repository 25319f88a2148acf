"""The EPCIS repository: captured events as received, their identifiers, and capture jobs.

An event is stored as received (``body``: the JSON event with the document's ``@context``
attached, so that it expands on its own exactly as it did inside the document), beside the
columns the standard query filters on. ``event_id`` is unique within the capturing
organisation (``(org_id, event_id)``): two organisations may capture the same event (GS1's
examples, a shared shipment), each keeps its own copy, and neither learns of the other's; an
event sent without one is named by its GS1 event hash (``ni:///``),
which is also what its ``eventID`` reads in query answers.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceapp.db import Base, UTCDateTime, UUIDPk, utcnow


class CaptureStatus(enum.Enum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"  # rollback: nothing stored; proceed: some events refused


class IdentifierRole(enum.Enum):
    """Where in an event an identifier stands (which MATCH_ parameters find it)."""

    EPC = "epc"  # epcList
    CHILD = "child"  # childEPCs
    PARENT = "parent"  # parentID
    INPUT = "input"  # inputEPCList
    OUTPUT = "output"  # outputEPCList
    CLASS = "class"  # quantityList / childQuantityList epcClass
    INPUT_CLASS = "input_class"  # inputQuantityList epcClass
    OUTPUT_CLASS = "output_class"  # outputQuantityList epcClass


class EpcisCapture(UUIDPk, Base):
    """One capture request (the binding's capture job), of one organisation."""

    __tablename__ = "epcis_captures"

    #: The binding's ``captureID``: random, unguessable, in the ``Location`` URL.
    capture_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    #: ``rollback`` (all or nothing, the default) or ``proceed``.
    behaviour: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[CaptureStatus] = mapped_column(default=CaptureStatus.RUNNING)
    event_count: Mapped[int] = mapped_column(default=0)
    #: Per refused event: ``{"index", "eventID", "type", "title", "detail"}``.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    #: The events waiting for a worker (large documents); emptied once they are captured.
    pending: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    #: The ``jobs`` row that captures a large document (none for an inline capture).
    job_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("jobs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))


class EpcisEvent(Base):
    """One captured EPCIS event, as received, with the columns queries filter on."""

    __tablename__ = "epcis_events"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "event_id", name="uq_epcis_events_org_id_event_id"),
        sa.Index("ix_epcis_events_org_id_event_time", "org_id", "event_time"),
        sa.Index("ix_epcis_events_org_id_record_time", "org_id", "record_time"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(500), index=True)
    #: GS1's event hash (``ni:///sha-256;…?ver=CBV2.0``): same event, same hash.
    event_hash: Mapped[str] = mapped_column(sa.String(120), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    capture_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("epcis_captures.id"), index=True)
    event_type: Mapped[str] = mapped_column(sa.String(40), index=True)
    event_time: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    event_time_zone_offset: Mapped[str] = mapped_column(sa.String(6))
    record_time: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    action: Mapped[str | None] = mapped_column(sa.String(10))
    biz_step: Mapped[str | None] = mapped_column(sa.String(500), index=True)
    disposition: Mapped[str | None] = mapped_column(sa.String(500), index=True)
    read_point: Mapped[str | None] = mapped_column(sa.String(500), index=True)
    biz_location: Mapped[str | None] = mapped_column(sa.String(500), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    identifiers: Mapped[list[EpcisIdentifier]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )


class EpcisIdentifier(Base):
    """An EPC or EPC class an event names, and where (for the MATCH_ parameters)."""

    __tablename__ = "epcis_identifiers"
    __table_args__ = (sa.Index("ix_epcis_identifiers_value_role", "value", "role"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    event_pk: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("epcis_events.id", ondelete="CASCADE"),
        index=True,
    )
    role: Mapped[IdentifierRole]
    value: Mapped[str] = mapped_column(sa.String(500))

    event: Mapped[EpcisEvent] = relationship(back_populates="identifiers")
