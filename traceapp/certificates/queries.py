"""Read side of certificates: lists for the owner, look-up by code, product lists, reports."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from traceapp import codes
from traceapp.certificates.models import Certificate, CertificateKind, Product, TestReport
from traceapp.orgs.services import Actor

PHONE_MASK_RE = re.compile(r"^(\+?\d{3})(\d*)(\d{4})$")


def mask_phone(phone: str | None) -> str | None:
    """Hide the middle of a phone number: ``13812345678`` → ``138****5678``."""
    if not phone:
        return None
    digits = re.sub(r"[\s\-]", "", phone)
    match = PHONE_MASK_RE.match(digits)
    if not match or not match.group(2):
        return "****"
    return f"{match.group(1)}{'*' * len(match.group(2))}{match.group(3)}"


_BY_CODE = sa.select(Certificate).where(Certificate.trace_code == sa.bindparam("code"))


def find_by_code(session: Session, text: str) -> Certificate | None:
    """The certificate of a typed or scanned code (any case, spaces, dashes), or None.

    A code URL, a GS1 Digital Link or a GS1 element string (as a scanner sends it, FNC1 as GS
    and perhaps a symbology identifier ``]C1``, or typed in brackets ``(01)…(10)…``) is read
    too: its GTIN (01) and lot (10) name the batch, the lot being the trace code or the
    producer's lot number (as the resolver reads them); GS1 data whose GTIN is not the batch's
    names no batch.
    """
    found = codes.scanned_trace_code(text)
    if found is None:
        scan = codes.parse_scan(text)
        if scan.kind == "digital_link" and scan.gtin and scan.lot:
            return find_batch(session, scan.gtin, scan.lot)
        return None
    code, gtin = found
    certificate = session.scalar(_BY_CODE, {"code": code})
    if certificate is not None and gtin and certificate.gtin and certificate.gtin.zfill(14) != gtin:
        return None  # a Digital Link for another product
    return certificate


def gtin_spellings(gtin14: str) -> list[str]:
    """``gtin14`` and its GTIN-13, -12 and -8 spellings where its leading zeros allow them."""
    return [gtin14] + [gtin14[14 - n :] for n in (13, 12, 8) if gtin14[: 14 - n].strip("0") == ""]


def _of_gtin(gtin14: str) -> sa.Select[tuple[Certificate]]:
    return sa.select(Certificate).where(Certificate.gtin.in_(gtin_spellings(gtin14)))


PREFERRED = (
    sa.case((Certificate.kind == CertificateKind.CERTIFICATE, 0), else_=1),
    Certificate.issued_at,
    Certificate.id,
)


def find_batch(session: Session, gtin14: str, lot: str) -> Certificate | None:
    """The certificate ``/01/{gtin14}/10/{lot}`` names, or None. Lots are case-sensitive."""
    if codes.CODE_RE.fullmatch(lot):
        found = session.scalars(_of_gtin(gtin14).where(Certificate.trace_code == lot)).first()
        if found is not None:
            return found
    return session.scalars(_of_gtin(gtin14).where(Certificate.batch_no == lot).order_by(*PREFERRED)).first()


def scan_problem(session: Session, text: str) -> str | None:
    """Why a typed or scanned payload that names no batch names none, as a reason code for the
    reader (``certificates.texts.SCAN_REASONS``): the parser's (``bad_check``,
    ``bad_gtin_check_digit`` …), ``unknown_gtin`` (well-formed GS1 data with a GTIN no batch
    has), ``unknown_lot`` (a GTIN we know, another lot), ``no_lot``; None for a well-formed
    trace code or URL that matches nothing."""
    mistake = codes.scan_mistake(text)
    if mistake is not None:
        return mistake
    scan = codes.parse_scan(text)
    if scan.kind != "digital_link" or not scan.gtin:
        return None
    if session.scalar(sa.select(_of_gtin(scan.gtin).exists())) is not True:
        return "unknown_gtin"
    return "unknown_lot" if scan.lot else "no_lot"


def list_own(
    session: Session, actor: Actor, *, filters: dict[str, Any], page: int, page_size: int
) -> tuple[list[Certificate], int]:
    """One page of the actor's organisation's certificates, newest first, and the total count."""
    query = sa.select(Certificate).where(Certificate.org_id == actor.org_id)
    query = _filtered(query, filters)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Certificate.issued_at.desc(), Certificate.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return list(rows), total


def _filtered(query: sa.Select[Any], filters: dict[str, Any]) -> sa.Select[Any]:
    status = filters.get("status")
    if status == "valid":
        query = query.where(Certificate.revoked_at.is_(None))
    elif status == "revoked":
        query = query.where(Certificate.revoked_at.is_not(None))
    if filters.get("product_name"):
        query = query.where(Certificate.product_name == filters["product_name"])
    if filters.get("issued_from"):
        start = datetime.combine(filters["issued_from"], time.min, tzinfo=UTC)
        query = query.where(Certificate.issued_at >= start)
    if filters.get("issued_to"):
        end = datetime.combine(filters["issued_to"], time.max, tzinfo=UTC)
        query = query.where(Certificate.issued_at <= end)
    return query


def own_products(session: Session, actor: Actor) -> list[Product]:
    """The actor's organisation's product list, by name."""
    return list(
        session.scalars(sa.select(Product).where(Product.org_id == actor.org_id).order_by(Product.name))
    )


def report_of(session: Session, certificate: Certificate) -> TestReport | None:
    """The uploaded report of a certificate, content included."""
    if certificate.report_id is None:
        return None
    return session.scalar(
        sa.select(TestReport)
        .where(TestReport.id == certificate.report_id)
        .options(sa.orm.undefer(TestReport.content))
    )
