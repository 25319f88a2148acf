"""Read side of organisations."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from traceapp.orgs.models import Organisation
from traceapp.orgs.services import Actor


def other_organisations(session: Session, actor: Actor) -> list[Organisation]:
    """Every other organisation, by name (whom one can ship to or name as carrier)."""
    return list(
        session.scalars(
            sa.select(Organisation)
            .where(Organisation.id != actor.org_id)
            .order_by(Organisation.kind, Organisation.name)
        )
    )
