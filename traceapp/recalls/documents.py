"""Traces and recalls as the API answers them (``TraceOut``, ``RecallOut``), from what the
queries read."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from traceapp import codes, regions
from traceapp.certificates.models import Certificate, HoldingState
from traceapp.jobs.models import Job, JobStatus
from traceapp.orgs.models import Organisation
from traceapp.recalls import exports
from traceapp.recalls.queries import RecallDetail, Trace
from traceapp.schemas import decimal_text


def trace_document(found: Trace, *, base_url: str) -> dict[str, Any]:
    """Batches and organisations reached from a code, with quantities and mass balance."""
    batches, orgs = found.batches, found.orgs
    return {
        "root": found.root.trace_code,
        "direction": found.direction,
        "scope": found.scope,
        "batches": [
            _batch(c, found.flows[c.id], found.held[c.id], orgs, base_url)
            for c in sorted(batches.values(), key=lambda c: c.issued_at)
        ],
        "links": [
            {
                "event_id": str(k.event_id),
                "from": batches[k.source].trace_code,
                "to": batches[k.target].trace_code,
                "consumed": _num(k.consumed),
                "unit": k.consumed_unit.value if k.consumed_unit else None,
                "produced": _num(k.produced),
            }
            for k in found.links
        ],
        "organisations": [
            _org(orgs[o], found.received, batches) for o in sorted(found.org_ids, key=str) if o in orgs
        ],
        "pallets": [
            {"sscc": sscc, "trace_codes": [batches[b].trace_code for b in carried if b in batches]}
            for sscc, carried in sorted(found.pallets.items())
        ],
    }


def _batch(
    c: Certificate,
    flows: dict[str, Decimal],
    held: list[tuple[uuid.UUID, Any]],
    orgs: dict[uuid.UUID, Organisation],
    base_url: str,
) -> dict[str, Any]:
    on_hand = [(o, q) for o, (state, q) in held if state is HoldingState.ON_HAND]
    in_transit = sum((q for _o, (state, q) in held if state is HoldingState.IN_TRANSIT), Decimal(0))
    accounted = sum((q for _o, q in on_hand), Decimal(0)) + in_transit + sum(flows.values(), Decimal(0))
    return {
        "trace_code": c.trace_code,
        "public_url": codes.code_url(base_url, c.trace_code),
        "kind": c.kind.value,
        "product_name": c.product_name,
        "quantity": _num(c.quantity),
        "unit": c.unit.value,
        "issuer": orgs[c.org_id].name if c.org_id in orgs else None,
        "revoked": c.is_revoked,
        "mass_balance": {
            "held": [{"org": orgs[o].name if o in orgs else str(o), "quantity": _num(q)} for o, q in on_hand],
            "in_transit": _num(in_transit),
            **{k: _num(v) for k, v in sorted(flows.items())},
            "accounted": _num(accounted),
            "unaccounted": _num(c.quantity - accounted),
        },
    }


def _org(
    org: Organisation, received: dict[uuid.UUID, set[uuid.UUID]], batches: dict[uuid.UUID, Certificate]
) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "name": org.name,
        "kind": org.kind.value,
        "phone": org.phone,
        "address": org.address,
        "region": regions.full_name(org.region_code or ""),
        "received": sorted(batches[c].trace_code for c in received.get(org.id, ()) if c in batches),
    }


def _num(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def recall_document(detail: RecallDetail) -> dict[str, Any]:
    """A recall with its batches and who has and has not acknowledged."""
    recall = detail.recall
    return {
        "id": str(recall.id),
        "status": recall.status.value,
        "severity": recall.severity.value,
        "reason": recall.reason,
        "instructions": recall.instructions,
        "opened_at": recall.opened_at,
        "closed_at": recall.closed_at,
        "close_note": recall.close_note,
        "trace_codes": sorted(code for code, _n, root in detail.batches if root),
        "batches": [
            {"trace_code": code, "product_name": name, "root": root} for code, name, root in detail.batches
        ],
        "parties": [
            {
                "org_id": str(org.id),
                "name": org.name,
                "kind": org.kind.value,
                "phone": org.phone,
                "acknowledged_at": at,
                "opened_recall": org.id == recall.opened_by_org_id,
            }
            for org, at in detail.parties
        ],
        "pallets": detail.pallets,
    }


def export_job_document(job: Job, *, url: str, file_url: str) -> dict[str, Any]:
    """An export job: what it builds, how far it got, whether an attempt failed (a message
    for its owner, never the error itself: see ``exports.owner_error``), and the ``file_url``
    to download once it is done (None before)."""
    return {
        "id": str(job.id),
        "url": url,
        "recall_id": job.params["recall_id"],
        "format": job.params["format"],
        "columns": job.params["columns"],
        "status": job.status.value,
        "progress": {"done": job.progress_done, "total": job.progress_total, "percent": exports.percent(job)},
        "attempts": job.attempts,
        "error": exports.owner_error(job),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "download_url": file_url if job.status is JobStatus.DONE else None,
    }
