"""Events as the API answers them (``EventOut``, ``CodeOut``), from what the queries read."""

from __future__ import annotations

import uuid
from typing import Any

from traceapp.certificates.documents import certificate_document, issue_event_document
from traceapp.certificates.queries import mask_phone
from traceapp.codes import code_url
from traceapp.events.models import Event, EventItem
from traceapp.events.queries import Journey, Recorded, Verification


def event_document(
    event: Event,
    *,
    items: list[EventItem],
    codes: dict[uuid.UUID, str],
    orgs: dict[uuid.UUID, str],
    corrected_by: Event | None = None,
    outputs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An event as ``EventOut`` expects it."""
    return {
        "id": event.id,
        "event_id": event.client_event_id,
        "kind": event.kind.value,
        "occurred_at": event.occurred_at,
        "tz_offset": event.tz_offset,
        "recorded_at": event.recorded_at,
        "org_id": event.org_id,
        "org_name": orgs.get(event.org_id, ""),
        "biz_step": event.biz_step,
        "disposition": event.disposition,
        "location": event.location,
        "source_org_id": event.source_org_id,
        "destination_org_id": event.destination_org_id,
        "items": [
            {
                "trace_code": codes.get(i.certificate_id, ""),
                "role": i.role.value,
                "quantity": i.quantity,
                "unit": i.unit.value if i.unit else None,
            }
            for i in items
        ],
        "details": event.details,
        "corrects": event.corrects_id,
        "corrected_by": corrected_by.id if corrected_by else None,
        "outputs": outputs or [],
    }


#: The details of an event that its public page shows too: what an organisation that never
#: handled the batch may read (no people at the gate, testers, notes or custody parties).
PUBLIC_DETAILS = frozenset(
    {"result", "certificate_status", "tests", "cold_chain", "shipped", "received", "lost", "claim"}
)
PUBLIC_TEST_FIELDS = frozenset({"method", "item", "value", "value_unit", "result"})


def public_details(details: dict[str, Any]) -> dict[str, Any]:
    """An event's details cut down to what its public page shows."""
    shown = {k: v for k, v in details.items() if k in PUBLIC_DETAILS}
    if "tests" in shown:
        shown["tests"] = [{k: v for k, v in t.items() if k in PUBLIC_TEST_FIELDS} for t in shown["tests"]]
    return shown


def holders_document(journey: Journey) -> list[dict[str, Any]]:
    """Who holds the batch now, and how much (on hand or in transit to them)."""
    unit = journey.certificate.unit.value
    return [
        {"org_id": org_id, "org_name": name, "state": state.value, "quantity": quantity, "unit": unit}
        for org_id, name, (state, quantity) in journey.holdings
    ]


def code_document(found: Verification, *, base_url: str, full: bool = True) -> dict[str, Any]:
    """What ``GET /api/v1/codes/{code}`` answers: status, certificate, holders, journey.

    Not ``full`` (an organisation that never handled the batch): only what the public page
    shows: the producer's phone masked, no holders, events' details as on the page.
    """
    trip = found.trip
    certificate = trip.certificate
    issuer = trip.orgs.get(certificate.org_id, "")
    steps = [issue_event_document(certificate, issuer)] + [
        event_document(
            e,
            items=trip.items[e.id],
            codes=trip.codes,
            orgs=trip.orgs,
            corrected_by=trip.corrected_by.get(e.id),
        )
        for e in trip.events
    ]
    shown = certificate_document(certificate, base_url=base_url)
    if not full:
        shown["producer"] = {**shown["producer"], "phone": mask_phone(shown["producer"]["phone"])}
        for step in steps:
            step["details"] = public_details(step["details"])
    return {
        "trace_code": certificate.trace_code,
        "status": found.status.value,
        "certificate": shown,
        "holders": holders_document(trip) if full else [],
        "claims": [
            {
                "event_id": e.id,
                "org_id": e.org_id,
                "org_name": trip.orgs.get(e.org_id, ""),
                "occurred_at": e.occurred_at,
            }
            for e in trip.claims
        ],
        "cold_chain": trip.cold_chain.value,
        "made_from": [c for c, _n in trip.made_from],
        "went_into": [c for c, _n in trip.went_into],
        "events": steps,
    }


def recorded_document(rec: Recorded, *, base_url: str) -> dict[str, Any]:
    """A recorded (or replayed) event with the certificates it produced."""
    outputs = [
        {
            "certificate_id": str(i.certificate_id),
            "trace_code": rec.codes[i.certificate_id],
            "public_url": code_url(base_url, rec.codes[i.certificate_id]),
        }
        for i in rec.produced
    ]
    return event_document(rec.event, items=rec.items, codes=rec.codes, orgs=rec.orgs, outputs=outputs)
