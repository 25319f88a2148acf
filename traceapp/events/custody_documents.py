"""Hand-over codes, gate takes and disputes as the API answers them."""

from __future__ import annotations

from typing import Any

from traceapp.db import utcnow
from traceapp.events.disputes import DisputeRow, GateTake
from traceapp.events.handovers import CodeRow, display


def code_document(found: CodeRow) -> dict[str, Any]:
    row = found.row
    return {
        "id": row.id,
        "code": found.code,
        "code_display": display(found.code),
        "trace_code": found.trace_code,
        "quantity": row.quantity,
        "unit": found.unit,
        "to_org": row.to_org_id,
        "to_org_name": found.to_org,
        "state": found.state(utcnow()),
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "used_at": row.used_at,
        "used_by_event": row.used_by_event_id,
    }


def take_document(take: GateTake) -> dict[str, Any]:
    event = take.event
    return {
        "gate_check_id": event.id,
        "trace_code": take.trace_code,
        "market_org_id": event.org_id,
        "market": take.market,
        "occurred_at": event.occurred_at,
        "quantity": take.quantity,
        "unit": take.unit.value if take.unit else None,
        "basis": (event.details.get("custody") or {}).get("basis", "shipment"),
        "voided": take.voided,
        "dispute_id": take.dispute.id if take.dispute else None,
        "dispute_status": take.dispute.status.value if take.dispute else None,
    }


def dispute_document(found: DisputeRow) -> dict[str, Any]:
    dispute = found.dispute
    return {
        "id": dispute.id,
        "event_id": dispute.client_event_id,
        "gate_check_id": dispute.event_id,
        "trace_code": found.trace_code,
        "holder_org_id": dispute.org_id,
        "holder": found.holder,
        "market_org_id": found.market_org_id,
        "market": found.market,
        "reason": dispute.reason,
        "opened_at": dispute.opened_at,
        "status": dispute.status.value,
        "resolved_at": dispute.resolved_at,
        "resolution_note": dispute.resolution_note,
        "correction_event_id": dispute.correction_event_id,
    }
