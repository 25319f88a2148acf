"""Reading purchases for their answers (reads only)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from traceapp import zones
from traceapp.certificates.models import Certificate
from traceapp.purchases import documents
from traceapp.purchases.models import Purchase


def purchase_answer(session: Session, purchase: Purchase) -> dict[str, Any]:
    """A purchase (its lines loaded) as its answer: trace codes named, times in the buyer's zone."""
    ids = [line.certificate_id for line in purchase.lines if line.certificate_id]
    codes = dict(
        session.execute(
            sa.select(Certificate.id, Certificate.trace_code).where(Certificate.id.in_(ids))
        ).all()
    )
    return documents.purchase_document(purchase, codes, ZoneInfo(zones.org_zone(session, purchase.org_id)))
