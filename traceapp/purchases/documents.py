"""Purchases as JSON: times in the buyer's time zone, quantities as decimal strings."""

from __future__ import annotations

from typing import Any

from traceapp.purchases.models import Purchase, PurchaseLine
from traceapp.schemas import decimal_text


def purchase_document(purchase: Purchase, codes: dict[Any, str], zone: Any) -> dict[str, Any]:
    """A purchase for ``PurchaseOut``; ``codes`` maps certificate ids to trace codes."""
    return {
        "id": purchase.id,
        "event_id": purchase.client_event_id,
        "buyer_org_id": purchase.org_id,
        "seller": {
            "org_id": purchase.seller_org_id,
            "name": purchase.seller_name,
            "phone": purchase.seller_phone,
            "region_code": purchase.seller_region_code,
        },
        "purchased_at": purchase.purchased_at.astimezone(zone).isoformat(),
        "place": purchase.place,
        "reference_document": purchase.reference_document,
        "recorded_at": purchase.recorded_at.astimezone(zone).isoformat(),
        "voided": purchase.voided_at is not None,
        "voided_at": purchase.voided_at.astimezone(zone).isoformat() if purchase.voided_at else None,
        "void_reason": purchase.void_reason,
        "lines": [_line(line, codes) for line in purchase.lines],
    }


def _line(line: PurchaseLine, codes: dict[Any, str]) -> dict[str, Any]:
    return {
        "id": line.id,
        "position": line.position,
        "product_name": line.product_name,
        "quantity": decimal_text(line.quantity),
        "unit": line.unit.value,
        "remaining": decimal_text(line.remaining),
        "collected": line.collected.value,
        "trace_code": codes.get(line.certificate_id),
        "receiving_event_id": line.receiving_event_id,
        "external_code": line.external_code,
        "external_url": line.external_url,
        "photo_id": line.photo_id,
        "producer_name": line.producer_name,
        "origin": line.origin,
        "issue_date": line.issue_date,
        "exemption": line.exemption,
        "exemption_note": line.exemption_note,
    }
