"""Read side of organisations."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from traceapp.orgs.models import AuditEntry, Organisation
from traceapp.orgs.permissions import Action, allows, require
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


def audit_log(
    session: Session, actor: Actor, *, page: int, page_size: int, org_id: uuid.UUID | None = None
) -> tuple[list[AuditEntry], int]:
    """A page of the audit log, newest first, and the number of entries: a regulator reads
    every organisation's (``org_id`` narrows it), an organisation's admin its own.

    Raises PermissionDenied for anyone else.
    """
    if allows(actor, Action.SEE_ALL_AUDIT_LOGS):
        where = [] if org_id is None else [AuditEntry.org_id == org_id]
    else:
        require(actor, Action.SEE_AUDIT_LOG)
        where = [AuditEntry.org_id == actor.org_id]
    total = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(*where)) or 0
    rows = session.scalars(
        sa.select(AuditEntry)
        .where(*where)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return list(rows), total
