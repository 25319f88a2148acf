"""Certificates as the API answers them (``CertificateOut``), from rows the queries read."""

from __future__ import annotations

from typing import Any

from traceapp import codes, regions
from traceapp.certificates.models import Certificate


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
            "label_zpl": f"{own}/label.zpl",
            "label_tspl": f"{own}/label.tspl",
            "label_escpos": f"{own}/label.escpos",
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


def issue_event_document(certificate: Certificate, issuer_name: str) -> dict[str, Any]:
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
