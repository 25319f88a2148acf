"""Trace a batch backward or forward with what its mass balance needs; read recalls. Bounded
round trips; ``documents`` turns what these read into the API's answers."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from traceapp.certificates.models import Certificate, Holding, HoldingState
from traceapp.errors import NotFound
from traceapp.events.models import Event, EventItem, EventKind, HoldingChange
from traceapp.orgs.models import Organisation
from traceapp.orgs.permissions import Action, allows
from traceapp.orgs.services import Actor
from traceapp.recalls import graph
from traceapp.recalls.models import Recall, RecallBatch, RecallParty, RecallStatus

#: Where quantity goes, by the kind of event that took it.
OUTFLOWS = {
    EventKind.TRANSFORMING: "consumed",
    EventKind.PORTIONING: "consumed",
    EventKind.RETAIL_SELLING: "sold",
    EventKind.DESTROYING: "destroyed",
    EventKind.RECEIVING: "lost",
    EventKind.INSPECTING: "lost",
    EventKind.VOIDING: "corrected",
}


def trace_scope(session: Session, actor: Actor, certificate: Certificate) -> str:
    """``full`` for regulators and parties to a recall of the batch; ``direct`` (one hop) for an
    organisation that handled it. Raises NotFound for anyone else."""
    if allows(actor, Action.TRACE_FULL):
        return "full"
    party = (
        sa.select(RecallParty.org_id)
        .join(RecallBatch, RecallBatch.recall_id == RecallParty.recall_id)
        .where(RecallBatch.certificate_id == certificate.id, RecallParty.org_id == actor.org_id)
    )
    if session.scalar(party.limit(1)) is not None:
        return "full"
    handled = sa.select(HoldingChange.org_id).where(
        HoldingChange.certificate_id == certificate.id, HoldingChange.org_id == actor.org_id
    )
    if certificate.org_id == actor.org_id or session.scalar(handled.limit(1)) is not None:
        return "direct"
    raise NotFound(_("No certificate has this trace code."))


Flows = dict[uuid.UUID, dict[str, Decimal]]


def _ledger(session: Session, batch_ids: set[uuid.UUID]) -> tuple[Flows, dict[uuid.UUID, set[uuid.UUID]]]:
    """Outflows per batch by where they went, and which batches each organisation received."""
    rows = session.execute(
        sa.select(
            HoldingChange.certificate_id,
            HoldingChange.org_id,
            Event.kind,
            HoldingChange.state,
            sa.func.sum(HoldingChange.delta),
        )
        .join(Event, Event.id == HoldingChange.event_id)
        .where(HoldingChange.certificate_id.in_(batch_ids))
        .group_by(HoldingChange.certificate_id, HoldingChange.org_id, Event.kind, HoldingChange.state)
    ).all()
    flows: dict[uuid.UUID, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    received: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for cid, org_id, kind, state, total in rows:
        total = total or Decimal(0)
        if kind in OUTFLOWS:
            flows[cid][OUTFLOWS[kind]] -= total
        if total > 0 and state is HoldingState.ON_HAND:
            received[org_id].add(cid)
    return flows, received


Held = dict[uuid.UUID, list[tuple[uuid.UUID, Any]]]


def _holdings(session: Session, batch_ids: set[uuid.UUID]) -> Held:
    held: Held = defaultdict(list)
    for row in session.scalars(
        sa.select(Holding).where(Holding.certificate_id.in_(batch_ids), Holding.quantity > 0)
    ):
        held[row.certificate_id].append((row.org_id, (row.state, row.quantity)))
    return held


@dataclass(frozen=True)
class Trace:
    """What a trace reached: the batches, the links between them, their ledger and holdings,
    and the organisations to name (``org_ids``, looked up in ``orgs``)."""

    root: Certificate
    direction: str
    scope: str
    batches: dict[uuid.UUID, Certificate]
    links: list[graph.Link]
    flows: Flows
    received: dict[uuid.UUID, set[uuid.UUID]]
    held: Held
    org_ids: set[uuid.UUID]
    orgs: dict[uuid.UUID, Organisation]
    #: The pallets (SSCC) carrying any batch reached → those batches.
    pallets: dict[str, list[uuid.UUID]] = field(default_factory=dict)


def trace(session: Session, actor: Actor, certificate: Certificate, *, direction: str) -> Trace:
    """Batches and organisations reached from a code, with what the mass balance needs.

    Seven round trips whatever the depth: closure, batches, links, ledger, holdings, organisations,
    pallets.
    Raises NotFound when the actor may not trace the batch (see ``trace_scope``).
    """
    scope = trace_scope(session, actor, certificate)
    forward = direction == "forward"
    batch_ids = (
        graph.closure(session, [certificate.id], forward=forward) if scope == "full" else {certificate.id}
    )
    batches = {c.id: c for c in session.scalars(sa.select(Certificate).where(Certificate.id.in_(batch_ids)))}
    links = graph.links(session, batch_ids)
    flows, received = _ledger(session, batch_ids)
    held = _holdings(session, batch_ids)
    org_ids = {c.org_id for c in batches.values()} | {o for per in received.values() for o in per}
    if scope == "direct":
        org_ids = _direct_orgs(session, actor, certificate, forward=forward)
    orgs = _orgs(session, org_ids | {o for per in held.values() for o, _s in per})
    on_pallets = graph.pallets(session, batch_ids)
    return Trace(
        certificate, direction, scope, batches, links, flows, received, held, org_ids, orgs, on_pallets
    )


def _direct_orgs(
    session: Session, actor: Actor, certificate: Certificate, *, forward: bool
) -> set[uuid.UUID]:
    """One hop: whom the actor passed the batch to, or whom it got it from (and the issuer)."""
    mine, theirs = (
        (Event.source_org_id, Event.destination_org_id)
        if forward
        else (Event.destination_org_id, Event.source_org_id)
    )
    rows = session.scalars(
        sa.select(theirs)
        .join(EventItem, EventItem.event_id == Event.id)
        .where(EventItem.certificate_id == certificate.id, mine == actor.org_id, theirs.is_not(None))
    )
    return set(rows) | ({certificate.org_id} if not forward else set())


def _orgs(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)))}


_OPEN_RECALL = (
    sa.select(Recall)
    .join(RecallBatch, RecallBatch.recall_id == Recall.id)
    .where(
        RecallBatch.certificate_id == sa.bindparam("cid", type_=sa.Uuid()), Recall.status == RecallStatus.OPEN
    )
    .order_by(Recall.opened_at)
    .limit(1)
)


def open_recall_of(session: Session, certificate_id: uuid.UUID, *, fresh: bool = False) -> Recall | None:
    """The open recall covering a batch, if any (one query; for the public page). ``fresh``
    reloads a recall the session already holds (it may have been closed since)."""
    options = {"populate_existing": True} if fresh else {}
    return session.scalar(_OPEN_RECALL, {"cid": certificate_id}, execution_options=options)


@dataclass(frozen=True)
class RecallDetail:
    """A recall with its batches (trace code, product, whether it is a root) and its parties
    (each with when it acknowledged, if it has)."""

    recall: Recall
    batches: list[tuple[str, str, bool]]
    parties: list[tuple[Organisation, Any]]
    #: The SSCCs of the pallets that carry any of its batches.
    pallets: list[str] = field(default_factory=list)


def recall_detail(session: Session, recall: Recall) -> RecallDetail:
    """A recall with its batches, who has and has not acknowledged, and the pallets carrying its
    batches (four queries)."""
    batches = session.execute(
        sa.select(Certificate.trace_code, Certificate.product_name, RecallBatch.root)
        .join(RecallBatch, RecallBatch.certificate_id == Certificate.id)
        .where(RecallBatch.recall_id == recall.id)
    ).all()
    parties = session.execute(
        sa.select(Organisation, RecallParty.acknowledged_at)
        .join(RecallParty, RecallParty.org_id == Organisation.id)
        .where(RecallParty.recall_id == recall.id)
        .order_by(Organisation.name)
    ).all()
    batch_ids = set(
        session.scalars(sa.select(RecallBatch.certificate_id).where(RecallBatch.recall_id == recall.id))
    )
    on_pallets = sorted(graph.pallets(session, batch_ids))
    return RecallDetail(recall, [tuple(row) for row in batches], [tuple(row) for row in parties], on_pallets)


def visible_recalls(session: Session, actor: Actor) -> list[Recall]:
    """Recalls the actor sees: all for regulators, else those its organisation is party to."""
    query = sa.select(Recall).order_by(Recall.opened_at.desc()).limit(200)
    if not allows(actor, Action.SEE_ALL_RECALLS):
        query = query.join(RecallParty, RecallParty.recall_id == Recall.id).where(
            RecallParty.org_id == actor.org_id
        )
    return list(session.scalars(query))
