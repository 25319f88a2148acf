"""The published scan counts of batches as status facts (``traceapp.public.scans`` counts and
publishes them), and the suspicion rule the configuration sets."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from traceapp.certificates.models import Certificate, ScanCount, Unit
from traceapp.certificates.status import BatchFacts, ScanRule


def scan_rule(app: Flask | None = None) -> ScanRule:
    """The suspicion rule the configuration sets (``SCAN_SUSPICIOUS_*``)."""
    config = (app or current_app).config
    return ScanRule(
        per_unit=Decimal(str(config["SCAN_SUSPICIOUS_PER_UNIT"])),
        minimum=int(config["SCAN_SUSPICIOUS_MIN"]),
        places=int(config["SCAN_SUSPICIOUS_PLACES"]),
    )


def batch_size(quantity: Decimal, unit: Unit) -> Decimal:
    """A batch's size in the units the rule counts: kilograms (斤 halved), pieces or boxes."""
    return quantity / 2 if unit is Unit.JIN else quantity


def status_facts(session: Session, certificates: list[Certificate]) -> dict[uuid.UUID, tuple[int, int]]:
    """The published (scans, places) of these batches (one query; none scanned: absent)."""
    if not certificates:
        return {}
    rows = session.execute(
        sa.select(ScanCount.certificate_id, ScanCount.shown_scans, ScanCount.shown_places).where(
            ScanCount.certificate_id.in_([c.id for c in certificates])
        )
    )
    return {cid: (s, p) for cid, s, p in rows}


def with_scans(facts: BatchFacts, certificate: Certificate, counts: tuple[int, int] | None) -> BatchFacts:
    """``facts`` with the batch's published scan counts and the configured rule."""
    scans_, places = counts or (0, 0)
    return replace(
        facts,
        scans=scans_,
        places=places,
        size=batch_size(certificate.quantity, certificate.unit),
        rule=scan_rule(),
    )
