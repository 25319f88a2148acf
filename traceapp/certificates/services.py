"""Issuing and revoking certificates, storing test reports. Services flush; they never commit."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from traceapp import codes, idempotency
from traceapp.certificates import queries
from traceapp.certificates.models import (
    Category,
    Certificate,
    CertificateKind,
    Holding,
    HoldingState,
    Product,
    TestReport,
)
from traceapp.certificates.reports import check_report_file
from traceapp.db import utcnow
from traceapp.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from traceapp.idempotency import insert_once, request_digest
from traceapp.orgs import audit
from traceapp.orgs.models import Organisation
from traceapp.orgs.permissions import Action, allows, require
from traceapp.orgs.seals import current_seal_id
from traceapp.orgs.services import Actor


def issue_certificate(
    session: Session, actor: Actor, *, data: dict[str, Any], issued_at: datetime | None = None
) -> tuple[Certificate, bool]:
    """Issue a certificate from validated ``CertificateIn`` data; mint its trace code.

    ``issued_at`` is now unless given (only the demo gives it, to tell a journey that is over).

    Returns the certificate and whether it was created now (False: an idempotent replay of the
    same ``event_id`` with the same body). Raises PermissionDenied (this kind of organisation does
    not issue), InvalidInput (a report that is not the actor's) and Conflict (``event_id`` reused
    with a different body).
    """
    require(actor, Action.ISSUE)
    digest = request_digest(data)

    def create() -> Certificate:
        certificate = _new_certificate(session, actor, data, digest)
        if issued_at is not None:
            certificate.issued_at = issued_at
        session.add(certificate)
        session.flush()
        if data.get("replaces"):
            _replace(session, actor, data["replaces"], certificate)
        return certificate

    certificate, created = insert_once(
        session,
        create,
        lambda: idempotency.stored(
            session, Certificate, org_id=actor.org_id, event_id=data.get("event_id"), digest=digest
        ),
    )
    if created:
        _remember_product(session, actor, certificate)
        add_initial_holding(session, certificate)
    return certificate, created


def _replace(session: Session, actor: Actor, code: str, replacement: Certificate) -> None:
    """Name ``replacement`` as the replacement of the revoked certificate ``code`` (the
    organisation's own, not yet replaced)."""
    old = queries.find_by_code(session, code)
    if old is None or old.org_id != actor.org_id:
        raise InvalidInput("/replaces", _("No certificate of your organisation has this trace code."))
    if not old.is_revoked or old.replaced_by_id is not None:
        raise InvalidInput("/replaces", _("Only a revoked certificate not yet replaced can be replaced."))
    old.replaced_by_id = replacement.id
    session.flush()


def add_initial_holding(session: Session, certificate: Certificate) -> None:
    """The issuer holds the whole batch on hand at issue."""
    session.add(
        Holding(
            certificate_id=certificate.id,
            org_id=certificate.org_id,
            state=HoldingState.ON_HAND,
            quantity=certificate.quantity,
        )
    )
    session.flush()


def issue_portions(
    session: Session,
    actor: Actor,
    *,
    source: Certificate,
    quantities: list[Decimal],
    kind: CertificateKind = CertificateKind.PORTION,
) -> list[Certificate]:
    """New certificates, each with its own code, for parts of ``source``, issued by the actor,
    who holds each whole on hand; two flushes however many (a stall may cut thousands).

    They carry the source's product, origin, producer, commitments and basis (the grower's
    promise travels with the portion); the link back is recorded by the event that made them.
    """
    fields = {name: getattr(source, name) for name in _INHERITED}
    portions = [
        Certificate(
            **fields,
            kind=kind,
            trace_code=codes.mint_trace_code(),
            org_id=actor.org_id,
            issued_by_id=actor.user_id,
            quantity=quantity,
            unit=source.unit,
        )
        for quantity in quantities
    ]
    session.add_all(portions)
    session.flush()
    session.add_all(
        Holding(certificate_id=p.id, org_id=p.org_id, state=HoldingState.ON_HAND, quantity=p.quantity)
        for p in portions
    )
    session.flush()
    return portions


_INHERITED = (
    "product_name",
    "category",
    "origin_region_code",
    "origin_address",
    "harvest_date",
    "batch_no",
    "gtin",
    "commitments",
    "basis",
    "lab_name",
    "report_number",
    "report_id",
    "producer_name",
    "producer_phone",
    "producer_region_code",
    "seal_id",
)


def issue_entry_record(session: Session, actor: Actor, *, data: dict[str, Any]) -> Certificate:
    """A market's record, with its own code, for a batch that arrived without a certificate.

    It carries no commitments (none were made); the producer is who brought the batch.
    """
    record = Certificate(
        kind=CertificateKind.ENTRY_RECORD,
        trace_code=codes.mint_trace_code(),
        org_id=actor.org_id,
        issued_by_id=actor.user_id,
        product_name=data["product_name"],
        category=data.get("category"),
        quantity=data["quantity"],
        unit=data["unit"],
        origin_region_code=data["origin"]["region_code"],
        origin_address=data["origin"].get("address"),
        commitments=[],
        basis=[],
        producer_name=data["producer"]["name"],
        producer_phone=data["producer"].get("phone"),
    )
    session.add(record)
    session.flush()
    add_initial_holding(session, record)
    return record


def _new_certificate(session: Session, actor: Actor, data: dict[str, Any], digest: str) -> Certificate:
    org = session.get_one(Organisation, actor.org_id)
    producer = data.get("producer") or {}
    report = data.get("test_report") or {}
    return Certificate(
        trace_code=codes.mint_trace_code(),
        org_id=org.id,
        issued_by_id=actor.user_id,
        client_event_id=data.get("event_id"),
        request_digest=digest,
        product_name=data["product_name"],
        category=data.get("category") or _known_category(session, actor, data["product_name"]),
        quantity=data["quantity"],
        unit=data["unit"],
        origin_region_code=data["origin"]["region_code"],
        origin_address=data["origin"].get("address"),
        harvest_date=data.get("harvest_date"),
        batch_no=data.get("batch_no"),
        gtin=data.get("gtin"),
        commitments=[c.value for c in data["commitments"]],
        basis=[b.value for b in data["basis"]],
        lab_name=report.get("lab_name"),
        report_number=report.get("report_number"),
        report_id=_own_report(session, actor, report.get("report_id")),
        producer_name=producer.get("name") or org.name,
        producer_phone=producer.get("phone") or org.phone,
        producer_region_code=org.region_code,
        seal_id=current_seal_id(session, org.id),
    )


def _known_category(session: Session, actor: Actor, product_name: str) -> Category | None:
    return session.scalar(
        sa.select(Product.category).where(Product.org_id == actor.org_id, Product.name == product_name)
    )


def _own_report(session: Session, actor: Actor, report_id: uuid.UUID | None) -> uuid.UUID | None:
    if report_id is None:
        return None
    owner = session.scalar(sa.select(TestReport.org_id).where(TestReport.id == report_id))
    if owner != actor.org_id:
        raise InvalidInput("/test_report/report_id", _("No such report uploaded by your organisation."))
    return report_id


def _remember_product(session: Session, actor: Actor, certificate: Certificate) -> None:
    """Add a newly typed product to the organisation's list (the list grows as it issues)."""
    product = session.scalar(
        sa.select(Product).where(Product.org_id == actor.org_id, Product.name == certificate.product_name)
    )
    if product is None:
        session.add(
            Product(
                org_id=actor.org_id,
                name=certificate.product_name,
                category=certificate.category,
                unit=certificate.unit,
            )
        )
    elif product.category is None and certificate.category is not None:
        product.category = certificate.category
    session.flush()


def get_own_certificate(session: Session, actor: Actor, certificate_id: uuid.UUID) -> Certificate:
    """The actor's organisation's certificate. Raises NotFound for unknown or other organisations'."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None or certificate.org_id != actor.org_id:
        raise NotFound(_("No such certificate."))
    return certificate


def revoke_certificate(
    session: Session, actor: Actor, *, certificate_id: uuid.UUID, reason: str, replaced_by: str | None = None
) -> Certificate:
    """Revoke a certificate with a reason: the only change a certificate ever takes.

    Allowed to the user who issued it and to an admin of the issuing organisation. Raises
    PermissionDenied (a kind of organisation that never revokes; another member's certificate),
    NotFound (not the actor's organisation's), InvalidInput (empty reason) and Conflict (already
    revoked). ``replaced_by``: the trace code of the organisation's certificate that replaces
    this one (standing, not this one); its public page links to it (InvalidInput otherwise).
    """
    require(actor, Action.REVOKE)
    certificate = get_own_certificate(session, actor, certificate_id)
    if not may_revoke(actor, certificate):
        raise PermissionDenied(_("Only an administrator or the issuer can revoke a certificate."))
    if not reason.strip():
        raise InvalidInput("/reason", _("Give the reason for revoking."))
    if certificate.is_revoked:
        raise Conflict(_("This certificate is already revoked."))
    replacement = None
    if replaced_by and replaced_by.strip():
        replacement = queries.find_by_code(session, replaced_by)
        if replacement is None or replacement.org_id != actor.org_id:
            raise InvalidInput("/replaced_by", _("No certificate of your organisation has this trace code."))
        if replacement.id == certificate.id or replacement.is_revoked:
            raise InvalidInput(
                "/replaced_by", _("The replacement must be another certificate that is not revoked.")
            )
        certificate.replaced_by_id = replacement.id
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = actor.user_id
    certificate.revoke_reason = reason.strip()
    session.flush()
    audit.record_by(
        session,
        actor,
        action=audit.CERTIFICATE_REVOKED,
        subject_type="certificate",
        subject_id=certificate.id,
        details={
            "trace_code": certificate.trace_code,
            "reason": certificate.revoke_reason,
            **({"replaced_by": replacement.trace_code} if replacement else {}),
        },
    )
    return certificate


def may_revoke(actor: Actor, certificate: Certificate) -> bool:
    """Whether the actor may revoke this certificate of its organisation: the user who issued
    it, or an admin (for the revoke form to show only to them)."""
    mine = certificate.issued_by_id == actor.user_id
    return allows(actor, Action.REVOKE) and (mine or allows(actor, Action.REVOKE_COLLEAGUES))


def store_test_report(
    session: Session, actor: Actor, *, filename: str, content: bytes, max_bytes: int
) -> TestReport:
    """Store an uploaded lab report after checking its size and real type (PDF, PNG, JPEG, WebP).

    Raises PermissionDenied (organisation does not issue), PayloadTooLarge and InvalidInput.
    """
    require(actor, Action.UPLOAD_REPORT)
    content_type = check_report_file(content, max_bytes=max_bytes)
    report = TestReport(
        org_id=actor.org_id,
        filename=_safe_filename(filename),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(report)
    session.flush()
    return report


def _safe_filename(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:200] or "report"


def last_certificate(session: Session, actor: Actor) -> Certificate | None:
    """The most recent certificate the actor's organisation issued (for "issue again")."""
    return session.scalar(
        sa.select(Certificate)
        .where(Certificate.org_id == actor.org_id)
        .order_by(Certificate.issued_at.desc())
        .limit(1)
    )
