"""Opening, acknowledging and closing recalls. Services flush; they never commit."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from traceapp.certificates.models import Certificate, Holding
from traceapp.certificates.queries import find_by_code, scan_problem
from traceapp.certificates.texts import scan_reason
from traceapp.db import utcnow
from traceapp.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from traceapp.events import pallets
from traceapp.events.models import Event, EventItem, HoldingChange, Quarantine
from traceapp.notify import services as notify
from traceapp.orgs import audit
from traceapp.orgs.permissions import Action, allows, require
from traceapp.orgs.services import Actor
from traceapp.recalls import graph
from traceapp.recalls.models import Recall, RecallBatch, RecallParty, RecallStatus, Severity


def open_recall(session: Session, actor: Actor, *, data: dict[str, Any]) -> Recall:
    """Recall batches and everything made from them; hold them and tell every party.

    A regulator may recall any batch; whoever issued a batch (a producer, a processor for what
    it made, a market for its portions) may recall its own. Raises PermissionDenied (a kind that
    never recalls; a batch another organisation issued) and InvalidInput (unknown code, named by
    index).
    """
    require(actor, Action.RECALL)
    roots = list(
        {
            c.id: c for index, code in enumerate(data["trace_codes"]) for c in _roots(session, code, index)
        }.values()
    )
    if not allows(actor, Action.RECALL_ANY) and any(c.org_id != actor.org_id for c in roots):
        raise PermissionDenied(_("A producer recalls only batches it issued; ask the regulator."))
    recall = Recall(
        id=uuid.uuid4(),
        opened_by_org_id=actor.org_id,
        opened_by_id=actor.user_id,
        reason=data["reason"],
        instructions=data.get("instructions"),
        severity=data["severity"],
    )
    session.add(recall)
    session.flush()
    affected = graph.closure(session, {c.id for c in roots}, forward=True)
    root_ids = {c.id for c in roots}
    session.add_all(
        RecallBatch(recall_id=recall.id, certificate_id=cid, root=cid in root_ids) for cid in affected
    )
    session.add_all(
        Quarantine(certificate_id=cid, reference=recall.id, reason=recall.reason) for cid in affected
    )
    session.flush()
    # The organisation that opens the recall knows of it: its row is acknowledged by the act of
    # opening, so it is never asked to confirm its own recall.
    session.add_all(
        RecallParty(recall_id=recall.id, org_id=org_id)
        for org_id in parties(session, recall.id) - {actor.org_id}
    )
    session.add(
        RecallParty(
            recall_id=recall.id,
            org_id=actor.org_id,
            acknowledged_at=recall.opened_at,
            acknowledged_by_id=actor.user_id,
        )
    )
    session.flush()
    audit.record_by(
        session,
        actor,
        action=audit.RECALL_OPENED,
        subject_type="recall",
        subject_id=recall.id,
        details={
            "trace_codes": [c.trace_code for c in roots],
            "severity": Severity(recall.severity).value,
            "batches": len(affected),
        },
    )
    _tell_issuers(session, actor, recall, root_ids)
    return recall


def _tell_issuers(session: Session, actor: Actor, recall: Recall, root_ids: set[uuid.UUID]) -> None:
    """Each organisation that issued a recalled batch hears of it (its first root batch first)."""
    batches = session.scalars(
        sa.select(Certificate)
        .join(RecallBatch, RecallBatch.certificate_id == Certificate.id)
        .where(RecallBatch.recall_id == recall.id, Certificate.org_id != actor.org_id)
        .order_by(RecallBatch.root.desc(), Certificate.issued_at)
    ).all()
    notify.recalled(
        session, recall_id=recall.id, by_id=actor.org_id, reason=recall.reason, batches=list(batches)
    )


def _roots(session: Session, code: str, index: int) -> list[Certificate]:
    """The batches a recall names: a trace code's, or every batch on a pallet given by its SSCC
    (18 digits, as its label's barcode reads without the "(00)")."""
    sscc = code.strip()
    if sscc.startswith("(00)"):
        sscc = sscc[4:]
    elif len(sscc) == 20 and sscc.startswith("00"):
        sscc = sscc[2:]
    if pallets.is_valid_sscc(sscc):
        view = pallets.find_pallet(session, sscc)
        if view is not None:
            return [c.certificate for c in view.cases]
    return [_root(session, code, index)]


def _root(session: Session, code: str, index: int) -> Certificate:
    certificate = find_by_code(session, code)
    if certificate is None:
        reason = scan_reason(scan_problem(session, code))
        raise InvalidInput(f"/trace_codes/{index}", reason or _("No certificate has this trace code."))
    return certificate


def parties(session: Session, recall_id: uuid.UUID) -> set[uuid.UUID]:
    """Every organisation that issued, recorded, sent, received or holds any batch of the recall.

    The batches come from ``recall_batches`` in a subquery: one parameter instead of four lists
    of thousands of ids to expand, send and parse, and a semi-join the planner sizes right.
    """
    batches = sa.select(RecallBatch.certificate_id).where(RecallBatch.recall_id == recall_id)
    issuers = sa.select(Certificate.org_id).where(Certificate.id.in_(batches))
    ledger = sa.select(HoldingChange.org_id).where(HoldingChange.certificate_id.in_(batches))
    holders = sa.select(Holding.org_id).where(Holding.certificate_id.in_(batches))
    recorders = (
        sa.select(Event.org_id)
        .join(EventItem, EventItem.event_id == Event.id)
        .where(EventItem.certificate_id.in_(batches))
    )
    return set(session.scalars(sa.union(issuers, ledger, holders, recorders)))


def get_visible_recall(session: Session, actor: Actor, recall_id: uuid.UUID) -> Recall:
    """A recall the actor may see: regulators see all, others those they are party to.

    Raises NotFound otherwise.
    """
    recall = session.get(Recall, recall_id)
    if recall is None or not (allows(actor, Action.SEE_ALL_RECALLS) or _party(session, recall.id, actor)):
        raise NotFound(_("No such recall."))
    return recall


def _party(session: Session, recall_id: uuid.UUID, actor: Actor) -> RecallParty | None:
    return session.get(RecallParty, (recall_id, actor.org_id))


def acknowledge_recall(session: Session, actor: Actor, *, recall_id: uuid.UUID) -> Recall:
    """The actor's organisation confirms it has seen the recall and acted. Raises NotFound for a
    recall it is not party to (PermissionDenied if the table ever refuses a kind); acknowledging
    twice keeps the first time."""
    require(actor, Action.ACKNOWLEDGE_RECALL)
    recall = get_visible_recall(session, actor, recall_id)
    party = _party(session, recall.id, actor)
    if party is None:
        raise NotFound(_("Your organisation is not party to this recall."))
    if party.acknowledged_at is None:
        party.acknowledged_at, party.acknowledged_by_id = utcnow(), actor.user_id
        audit.record_by(
            session, actor, action=audit.RECALL_ACKNOWLEDGED, subject_type="recall", subject_id=recall.id
        )
    session.flush()
    return recall


def may_close(actor: Actor, recall: Recall) -> bool:
    """Whether the actor may close this recall: its opener, or a kind that closes any."""
    if allows(actor, Action.CLOSE_ANY_RECALL):
        return True
    return allows(actor, Action.CLOSE_RECALL) and recall.opened_by_org_id == actor.org_id


def close_recall(session: Session, actor: Actor, *, recall_id: uuid.UUID, note: str) -> Recall:
    """Close a recall (its history stays) and release its holds. Only the organisation that
    opened it, or a regulator. Raises PermissionDenied (a kind that never closes recalls; one
    another organisation opened), NotFound (not party to it) and Conflict (already closed)."""
    require(actor, Action.CLOSE_RECALL)
    recall = get_visible_recall(session, actor, recall_id)
    if not may_close(actor, recall):
        raise PermissionDenied(_("Only who opened the recall, or a regulator, can close it."))
    if recall.status is RecallStatus.CLOSED:
        raise Conflict(_("This recall is already closed."))
    recall.status, recall.closed_at, recall.closed_by_id = RecallStatus.CLOSED, utcnow(), actor.user_id
    recall.close_note = note
    session.execute(
        sa.update(Quarantine)
        .where(Quarantine.reference == recall.id, Quarantine.released_at.is_(None))
        .values(released_at=recall.closed_at)
    )
    session.flush()
    audit.record_by(
        session,
        actor,
        action=audit.RECALL_CLOSED,
        subject_type="recall",
        subject_id=recall.id,
        details={"note": note},
    )
    return recall
