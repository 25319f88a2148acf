"""Read side of certificates: lists for the owner, public look-up, documents for the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from sqlalchemy.orm import Session

from traceapp import codes, regions
from traceapp.certificates.models import Certificate, Product, TestReport
from traceapp.orgs.services import Actor

PHONE_MASK_RE = re.compile(r"^(\+?\d{3})(\d*)(\d{4})$")


def public_base_url() -> str:
    """Scheme and host that public links and QR codes use (setting, else the serving host)."""
    return current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")


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
    """The certificate of a typed or scanned code (any case, spaces, dashes), or None."""
    code = codes.normalize_trace_code(text)
    if code is None:
        return None
    return session.scalar(_BY_CODE, {"code": code})


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


def certificate_document(
    certificate: Certificate, *, base_url: str, api_root: str = "/api/v1"
) -> dict[str, Any]:
    """The certificate as ``CertificateOut`` expects it, with public URL and label links."""
    own = f"{base_url}{api_root}/certificates/{certificate.id}"
    public = codes.code_url(base_url, certificate.trace_code)
    return {
        **{k: getattr(certificate, k) for k in _PLAIN_FIELDS},
        "trace_code_display": codes.format_trace_code(certificate.trace_code),
        "public_url": public,
        "status": certificate.status.value,
        "category": certificate.category.value if certificate.category else None,
        "unit": certificate.unit.value,
        "origin": {
            "region_code": certificate.origin_region_code,
            "region_name": regions.full_name(certificate.origin_region_code),
            "address": certificate.origin_address,
        },
        "test_report": _report_document(certificate, public),
        "producer": {
            "name": certificate.producer_name,
            "phone": certificate.producer_phone,
            "region_code": certificate.producer_region_code,
        },
        "revocation": (
            {"at": certificate.revoked_at, "reason": certificate.revoke_reason}
            if certificate.is_revoked
            else None
        ),
        "links": {
            "public": public,
            "qr_png": f"{own}/qr.png",
            "label_png": f"{own}/label.png",
            "label_pdf": f"{own}/label.pdf",
            "sheet_pdf": f"{own}/sheet.pdf",
            "share_png": f"{own}/share.png",
        },
    }


_PLAIN_FIELDS = (
    "id",
    "trace_code",
    "product_name",
    "quantity",
    "harvest_date",
    "batch_no",
    "gtin",
    "commitments",
    "basis",
    "issued_at",
)


def _report_document(certificate: Certificate, public_url: str) -> dict[str, Any] | None:
    if not certificate.lab_name:
        return None
    return {
        "lab_name": certificate.lab_name,
        "report_number": certificate.report_number,
        "report_url": f"{public_url}/report" if certificate.report_id else None,
    }


def issue_event(certificate: Certificate, issuer_name: str) -> dict[str, Any]:
    """The issue of a certificate as the first step of its journey (EPCIS commissioning)."""
    return {
        "id": certificate.id,
        "event_id": certificate.client_event_id or certificate.id,
        "kind": "commissioning",
        "occurred_at": certificate.issued_at,
        "tz_offset": "+00:00",
        "recorded_at": certificate.issued_at,
        "org_id": certificate.org_id,
        "org_name": issuer_name,
        "biz_step": "commissioning",
        "disposition": "active",
        "location": None,
        "source_org_id": None,
        "destination_org_id": None,
        "details": {},
        "corrects": None,
        "corrected_by": None,
        "outputs": [],
        "items": [
            {
                "trace_code": certificate.trace_code,
                "role": "subject",
                "quantity": certificate.quantity,
                "unit": certificate.unit.value,
            }
        ],
    }
