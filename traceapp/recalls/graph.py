"""The batch graph: recursive queries over transformation and portion links.

Batches are nodes; an event with inputs and outputs links each input to each output. The
closures use ``UNION`` (not ``UNION ALL``) in a recursive CTE, which PostgreSQL and SQLite both
evaluate with set semantics: a batch already reached is not expanded again, so even a cyclic
graph (which the services cannot create) terminates. Each query is one round trip; the cost
grows with the answer, not with the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from traceapp.certificates.models import Certificate, Unit
from traceapp.events.models import EventItem, ItemRole


def closure(session: Session, roots: Iterable[uuid.UUID], *, forward: bool) -> set[uuid.UUID]:
    """Every batch reachable from ``roots`` (roots included), downstream or upstream."""
    start = list(roots)
    if not start:
        return set()
    near, far = aliased(EventItem), aliased(EventItem)
    near_role, far_role = (ItemRole.INPUT, ItemRole.OUTPUT) if forward else (ItemRole.OUTPUT, ItemRole.INPUT)
    seed = (
        sa.select(Certificate.id.label("cid")).where(Certificate.id.in_(start)).cte("reach", recursive=True)
    )
    step = (
        sa.select(far.certificate_id)
        .select_from(seed)
        .join(near, near.certificate_id == seed.c.cid)
        .join(far, far.event_id == near.event_id)
        .where(near.role == near_role, far.role == far_role)
    )
    reach = seed.union(step)
    return set(session.scalars(sa.select(reach.c.cid)))


def pallets(session: Session, batches: set[uuid.UUID]) -> dict[str, list[uuid.UUID]]:
    """The pallets (SSCC) that carry any of ``batches``, each with those of them it carries (one
    query). Aggregating moves no custody and makes no batch: a pallet is a node beside the graph,
    reached from its batches, and from which its batches are reached (a recall by SSCC)."""
    from traceapp.events.pallets import pallets_of

    found: dict[str, list[uuid.UUID]] = {}
    for sscc, batch in pallets_of(session, batches):
        found.setdefault(sscc, []).append(batch)
    return found


@dataclass(frozen=True)
class Link:
    """Part of an input batch went into an output batch through one event."""

    event_id: uuid.UUID
    source: uuid.UUID
    target: uuid.UUID
    consumed: Decimal | None
    consumed_unit: Unit | None
    produced: Decimal | None


def links(session: Session, batches: set[uuid.UUID]) -> list[Link]:
    """The input → output links among ``batches`` (one query)."""
    if not batches:
        return []
    src, dst = aliased(EventItem), aliased(EventItem)
    rows = session.execute(
        sa.select(src.event_id, src.certificate_id, dst.certificate_id, src.quantity, src.unit, dst.quantity)
        .join(dst, sa.and_(dst.event_id == src.event_id, dst.role == ItemRole.OUTPUT))
        .where(src.role == ItemRole.INPUT, src.certificate_id.in_(batches), dst.certificate_id.in_(batches))
    ).all()
    return [Link(*row) for row in rows]
