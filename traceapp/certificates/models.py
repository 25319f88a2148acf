"""Certificates, the producer's product list and uploaded test reports.

A certificate is immutable once issued; revocation (with a reason) is the only change, and a
mapper guard refuses any other UPDATE.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceapp.certificates.status import CertificateStatus, certificate_status
from traceapp.db import Base, UUIDPk, utcnow


class Unit(enum.Enum):
    """Units of quantity on a certificate (斤 is half a kilogram)."""

    KG = "kg"
    JIN = "jin"
    PIECE = "piece"
    BOX = "box"


class Category(enum.Enum):
    """Produce categories the certificate rules name (provinces may add more)."""

    VEGETABLE = "vegetable"
    EDIBLE_FUNGUS = "edible_fungus"
    FRUIT = "fruit"
    TEA = "tea"
    LIVESTOCK = "livestock"
    POULTRY = "poultry"
    EGG = "egg"
    AQUATIC = "aquatic"
    OTHER = "other"


class Commitment(enum.Enum):
    """The three commitments of the national template; all are required."""

    NO_BANNED_SUBSTANCES = "no_banned_substances"
    RESIDUES_WITHIN_LIMITS = "residues_within_limits"
    TRUTHFUL = "truthful"


class Basis(enum.Enum):
    """The basis of the commitment (承诺依据); one or more."""

    COMMISSIONED_TEST = "commissioned_test"
    SELF_TEST = "self_test"
    INTERNAL_QC = "internal_qc"
    SELF_COMMITMENT = "self_commitment"


class CertificateKind(enum.Enum):
    """A producer's commitment certificate, a portion a market sold on (its own code, linked to
    the source), or a market's entry record for a batch that arrived without a certificate."""

    CERTIFICATE = "certificate"
    PORTION = "portion"
    ENTRY_RECORD = "entry_record"


class HoldingState(enum.Enum):
    ON_HAND = "on_hand"
    IN_TRANSIT = "in_transit"


class Product(UUIDPk, Base):
    """A product on an organisation's own list; grows as the organisation issues."""

    __tablename__ = "products"
    __table_args__ = (sa.UniqueConstraint("org_id", "name"),)

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(sa.String(60))
    category: Mapped[Category | None]
    unit: Mapped[Unit]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TestReport(UUIDPk, Base):
    """An uploaded lab report (PDF or image), stored in the database so every instance sees it."""

    __tablename__ = "test_reports"

    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(UUIDPk, Base):
    """One certificate for one batch, with its trace code. Producer details are a snapshot."""

    __tablename__ = "certificates"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "client_event_id"),
        sa.Index("ix_certificates_org_id_issued_at", "org_id", "issued_at"),
        # The resolver's look-up: /01/{gtin}/10/{lot} on every scan of a GTIN's QR.
        sa.Index("ix_certificates_gtin_batch_no", "gtin", "batch_no"),
    )

    trace_code: Mapped[str] = mapped_column(sa.String(14), unique=True)
    kind: Mapped[CertificateKind] = mapped_column(
        default=CertificateKind.CERTIFICATE, server_default="certificate"
    )
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    issued_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    client_event_id: Mapped[uuid.UUID | None]
    request_digest: Mapped[str | None] = mapped_column(sa.String(64))

    product_name: Mapped[str] = mapped_column(sa.String(60))
    category: Mapped[Category | None]
    quantity: Mapped[Decimal]
    unit: Mapped[Unit]
    origin_region_code: Mapped[str] = mapped_column(sa.String(6))
    origin_address: Mapped[str | None] = mapped_column(sa.String(200))
    harvest_date: Mapped[date | None]
    batch_no: Mapped[str | None] = mapped_column(sa.String(40))
    gtin: Mapped[str | None] = mapped_column(sa.String(14))
    commitments: Mapped[list[str]] = mapped_column(sa.JSON)
    basis: Mapped[list[str]] = mapped_column(sa.JSON)
    lab_name: Mapped[str | None] = mapped_column(sa.String(100))
    report_number: Mapped[str | None] = mapped_column(sa.String(60))
    report_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("test_reports.id"))

    producer_name: Mapped[str] = mapped_column(sa.String(200))
    producer_phone: Mapped[str | None] = mapped_column(sa.String(32))
    producer_region_code: Mapped[str | None] = mapped_column(sa.String(6))
    #: The seal or signature image (盖章或签名) the certificate was issued with, if any: a later
    #: change of seal does not alter it.
    seal_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("org_seals.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)

    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: The certificate of the same organisation that replaces this revoked one (its public page
    #: links to it); named at revocation, or by issuing the new one "to replace" this one.
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("certificates.id"))

    report: Mapped[TestReport | None] = relationship(lazy="raise")

    @property
    def status(self) -> CertificateStatus:
        """The certificate's own state (the batch's status also weighs recalls and gates)."""
        return certificate_status(revoked=self.is_revoked)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


#: The only columns that may change after issue.
MUTABLE_AFTER_ISSUE = frozenset({"revoked_at", "revoked_by_id", "revoke_reason", "replaced_by_id"})


class CertificateImmutable(Exception):
    """Raised by the mapper guard when code tries to edit an issued certificate."""


@event.listens_for(Certificate, "before_update")
def _refuse_edits(_mapper: Any, _connection: Any, target: Certificate) -> None:
    state = sa.inspect(target)
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    forbidden = changed - MUTABLE_AFTER_ISSUE - {"report"}
    if forbidden:
        raise CertificateImmutable(f"certificate fields cannot change after issue: {forbidden}")


class Holding(Base):
    """How much of a batch an organisation holds, on hand or in transit to it.

    Changed only by conditional UPDATEs (``quantity >= :amount``), so concurrent requests on
    any number of instances can never take more than is there.
    """

    __tablename__ = "holdings"
    __table_args__ = (sa.CheckConstraint("quantity >= 0", name="not_negative"),)

    certificate_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("certificates.id"), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), primary_key=True, index=True)
    state: Mapped[HoldingState] = mapped_column(primary_key=True)
    quantity: Mapped[Decimal]


class ScanCount(Base):
    """How often a code's page was opened, flushed from the scan counter by a job
    (``traceapp.public.scans``): the request that counts a scan writes nothing here.

    ``scans``/``places``/``last_scanned_at`` are the running totals; ``shown_*`` what the
    pages and every status show, published by the flush with a page bump (so a stored page
    always equals its live render), at most every ``SCAN_PAGE_REFRESH_SECONDS`` unless the
    first scan or a change of status asks for it at once.
    """

    __tablename__ = "scan_counts"

    certificate_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    first_scanned_at: Mapped[datetime]
    last_scanned_at: Mapped[datetime]
    scans: Mapped[int]
    places: Mapped[int]
    shown_scans: Mapped[int] = mapped_column(default=0, server_default="0")
    shown_places: Mapped[int] = mapped_column(default=0, server_default="0")
    shown_at: Mapped[datetime | None]


class ScanPlace(Base):
    """One coarse place a code was scanned from (a hash of the /24 or /48 network, or of the
    region a proxy names): their number is ``ScanCount.places``. No address is kept."""

    __tablename__ = "scan_places"

    certificate_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    place: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
