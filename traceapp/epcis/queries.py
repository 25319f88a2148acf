"""Reading a batch's journey as EPCIS: the events domain reads, ``documents`` writes the JSON-LD."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from traceapp.certificates.models import Certificate
from traceapp.db import utcnow
from traceapp.epcis import documents as epcis
from traceapp.events.documents import public_details
from traceapp.events.queries import journey, sees_everything


def epcis_journey(
    session: Session, certificate: Certificate, *, base_url: str, actor: Any = None
) -> dict[str, Any]:
    """The journey of a batch as an EPCIS 2.0 EPCISDocument (issue, then every event).

    For an ``actor`` that never handled the batch (and is no regulator), the events carry only
    the details the public page shows (no people at the gate, testers, notes or custody).
    """
    trip = journey(session, certificate, holdings=False)
    full = actor is None or sees_everything(session, actor, trip)
    ids = {i.certificate_id for group in trip.items.values() for i in group}
    batches = {c.id: c for c in session.scalars(sa.select(Certificate).where(Certificate.id.in_(ids)))}
    views = [epcis.commissioning_view(certificate)] if certificate.kind.value == "certificate" else []
    views += [
        epcis.EventView.of(
            e,
            items=[epcis.ItemView.of(i, batches[i.certificate_id]) for i in trip.items.get(e.id, [])],
            readings=trip.readings.get(e.id, []),
        )
        for e in trip.events
    ]
    if not full:
        views = [replace(v, details=public_details(dict(v.details))) for v in views]
    return epcis.epcis_document(views, base_url=base_url, created_at=utcnow())
