"""Read side of certificates: lists for the owner, look-up by code, product lists, reports."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from traceapp import codes
from traceapp.certificates.models import Certificate, Product, TestReport
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

    A code URL or a GS1 Digital Link with the trace code as lot is read too; a Digital Link
    whose GTIN is not the batch's names no batch.
    """
    found = codes.scanned_trace_code(text)
    if found is None:
        return None
    code, gtin = found
    certificate = session.scalar(_BY_CODE, {"code": code})
    if certificate is not None and gtin and certificate.gtin and certificate.gtin.zfill(14) != gtin:
        return None  # a Digital Link for another product
    return certificate


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
