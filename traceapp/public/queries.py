"""What the public page of a code shows, read in one query and handed to the template ready."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import to_user_timezone
from sqlalchemy.orm import Session

from traceapp import codes, regions
from traceapp.certificates.models import Basis, Certificate, Commitment
from traceapp.certificates.queries import find_by_code, mask_phone
from traceapp.certificates.texts import BASIS_LABELS, CATEGORY_LABELS, COMMITMENT_LABELS, quantity_text


@dataclass(frozen=True)
class PublicCertificate:
    """Everything the consumer page shows, already formatted (strings translate at render)."""

    trace_code: str
    code_display: str
    status: str
    revoked_at: datetime | None
    revoke_reason: str | None
    product_name: str
    category: object | None
    quantity: str
    producer_name: str
    producer_phone: str | None
    producer_region: str
    origin: str
    origin_code: str
    issued_on: date
    harvest_date: date | None
    batch_no: str | None
    commitments: list[object]
    basis: list[object]
    lab_name: str | None
    report_number: str | None
    has_report: bool


def public_certificate(session: Session, code: str) -> PublicCertificate | None:
    """The public view of a code, or None when no certificate has it (one query)."""
    certificate = find_by_code(session, code)
    return None if certificate is None else _present(certificate)


def _present(c: Certificate) -> PublicCertificate:
    return PublicCertificate(
        trace_code=c.trace_code, code_display=codes.format_trace_code(c.trace_code),
        status=c.status.value, revoked_at=c.revoked_at, revoke_reason=c.revoke_reason,
        product_name=c.product_name, category=CATEGORY_LABELS.get(c.category) if c.category else None,
        quantity=quantity_text(c.quantity, c.unit), producer_name=c.producer_name,
        producer_phone=mask_phone(c.producer_phone),
        producer_region=regions.full_name(c.producer_region_code or ""),
        origin=regions.full_name(c.origin_region_code) + (c.origin_address or ""),
        origin_code=c.origin_region_code, issued_on=to_user_timezone(c.issued_at).date(),
        harvest_date=c.harvest_date, batch_no=c.batch_no,
        commitments=[COMMITMENT_LABELS[Commitment(v)] for v in c.commitments],
        basis=[BASIS_LABELS[Basis(v)] for v in c.basis],
        lab_name=c.lab_name, report_number=c.report_number, has_report=c.report_id is not None,
    )
