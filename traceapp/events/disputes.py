"""Disputes of gate checks: the holder objects to a gate check that took its stock; a regulator
resolves it.

The holder learns of every gate check that took its stock from its list of hand-overs
(:func:`gate_takes`, the API's ``/api/v1/handovers`` and the custody page). It may dispute one
(it was not its word, or not that much); the market that recorded it sees the dispute. A
regulator upholds it (the gate check is declared erroneous by a voiding event in the
regulator's name, whose ledger rows give the stock back to where it came from) or dismisses it
(the gate check stands). Upholding fails with a Conflict while the market has moved the goods
on: the later events must be corrected first, as for any correction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, aliased

from traceapp import idempotency
from traceapp.certificates.models import Certificate
from traceapp.db import utcnow
from traceapp.errors import Conflict, InvalidInput, NotFound
from traceapp.events.models import CustodyDispute, DisputeStatus, Event, EventItem, EventKind, ItemRole
from traceapp.events.recording import EventSettings
from traceapp.events.services import record_correction
from traceapp.notify import services as notify
from traceapp.orgs import audit
from traceapp.orgs.models import Organisation
from traceapp.orgs.permissions import Action, allows, require
from traceapp.orgs.services import Actor


class DisputeResolved(Conflict):
    slug = "dispute-resolved"


def open_dispute(session: Session, actor: Actor, *, data: dict[str, Any]) -> tuple[CustodyDispute, bool]:
    """Dispute a gate check that took the actor's stock; return it and whether it is new.

    The same ``event_id`` and body return the stored dispute. Raises PermissionDenied,
    InvalidInput (``/gate_check_id``: no gate check took stock from the actor's organisation
    with this id) and Conflict (already disputed, voided since, or event_id reused).
    """
    require(actor, Action.DISPUTE)
    digest = idempotency.request_digest(data)
    return idempotency.insert_once(
        session,
        lambda: _open(session, actor, data, digest),
        lambda: idempotency.stored(
            session, CustodyDispute, org_id=actor.org_id, event_id=data["event_id"], digest=digest
        ),
    )


def _open(session: Session, actor: Actor, data: dict[str, Any], digest: str) -> CustodyDispute:
    check = session.get(Event, data["gate_check_id"])
    if check is None or check.kind is not EventKind.INSPECTING or check.source_org_id != actor.org_id:
        raise InvalidInput(
            "/gate_check_id", _("No gate check took stock from your organisation with this id.")
        )
    if session.scalar(sa.select(Event.id).where(Event.corrects_id == check.id)) is not None:
        raise Conflict(_("This gate check has been voided already."))
    if session.scalar(sa.select(CustodyDispute.id).where(CustodyDispute.event_id == check.id)) is not None:
        raise Conflict(_("This gate check is already disputed."))
    dispute = CustodyDispute(
        event_id=check.id,
        org_id=actor.org_id,
        opened_by_id=actor.user_id,
        client_event_id=data["event_id"],
        request_digest=digest,
        reason=data["reason"],
        opened_at=utcnow(),
        status=DisputeStatus.OPEN,
    )
    session.add(dispute)
    session.flush()
    audit.record_by(
        session,
        actor,
        action=audit.DISPUTE_OPENED,
        subject_type="dispute",
        subject_id=dispute.id,
        details={"gate_check_id": str(check.id)},
    )
    _tell_market(session, dispute, check)
    return dispute


def _tell_market(session: Session, dispute: CustodyDispute, check: Event) -> None:
    """The market that recorded the gate check hears of the dispute."""
    certificate_id = session.scalar(
        sa.select(EventItem.certificate_id).where(EventItem.event_id == check.id).limit(1)
    )
    notify.disputed(
        session,
        dispute_id=dispute.id,
        certificate=session.get(Certificate, certificate_id) if certificate_id else None,
        market_id=check.org_id,
        holder_id=dispute.org_id,
        reason=dispute.reason,
    )


def resolve_dispute(
    session: Session,
    actor: Actor,
    *,
    dispute_id: uuid.UUID,
    data: dict[str, Any],
    settings: EventSettings,
) -> CustodyDispute:
    """Uphold (custody returns, by a correcting voiding event) or dismiss an open dispute.

    Sending the same decision and note again returns the dispute as resolved (a safe retry).
    The dispute row is locked first, so two regulators cannot both resolve it. Raises
    PermissionDenied, NotFound, DisputeResolved (resolved otherwise before) and Conflict (the
    goods have moved on since the gate check).
    """
    require(actor, Action.RESOLVE_DISPUTE)
    dispute = session.get(CustodyDispute, dispute_id, with_for_update=True, populate_existing=True)
    if dispute is None:
        raise NotFound()
    decision, note = DisputeStatus(data["decision"]), data["note"]
    if dispute.status is not DisputeStatus.OPEN:
        if dispute.status is decision and dispute.resolution_note == note:
            return dispute
        raise DisputeResolved(_("This dispute has already been resolved."))
    if decision is DisputeStatus.UPHELD:
        check = session.get(Event, dispute.event_id)
        correction = record_correction(
            session, actor, target=check, reason=note, client_event_id=dispute.id, settings=settings
        )
        dispute.correction_event_id = correction.id
    dispute.status, dispute.resolution_note = decision, note
    dispute.resolved_by_org_id, dispute.resolved_by_id, dispute.resolved_at = (
        actor.org_id,
        actor.user_id,
        utcnow(),
    )
    session.flush()
    # In the holder's log (its admin reads what became of its dispute); the regulator acts.
    audit.record(
        session,
        action=audit.DISPUTE_RESOLVED,
        org_id=dispute.org_id,
        actor_user_id=actor.user_id,
        token_id=actor.token_id,
        subject_type="dispute",
        subject_id=dispute.id,
        details={"decision": decision.value, "by_org_id": str(actor.org_id)},
        address=actor.address,
    )
    return dispute


@dataclass(frozen=True)
class DisputeRow:
    """A dispute with the names its page and document show."""

    dispute: CustodyDispute
    trace_code: str
    holder: str
    market: str
    market_org_id: uuid.UUID


def _dispute_rows() -> sa.Select[Any]:
    holder, market = aliased(Organisation), aliased(Organisation)
    return (
        sa.select(CustodyDispute, Certificate.trace_code, holder.name, market.name, Event.org_id)
        .join(Event, Event.id == CustodyDispute.event_id)
        .join(EventItem, sa.and_(EventItem.event_id == Event.id, EventItem.role == ItemRole.SUBJECT))
        .join(Certificate, Certificate.id == EventItem.certificate_id)
        .join(holder, holder.id == CustodyDispute.org_id)
        .join(market, market.id == Event.org_id)
    )


def disputes_for(
    session: Session, actor: Actor, *, status: str | None = None, limit: int = 100
) -> list[DisputeRow]:
    """The disputes the actor may see, open first then newest: a regulator every one, an
    organisation those it opened and those against its gate checks."""
    query = _dispute_rows()
    if not allows(actor, Action.RESOLVE_DISPUTE):
        query = query.where(sa.or_(CustodyDispute.org_id == actor.org_id, Event.org_id == actor.org_id))
    if status is not None:
        query = query.where(CustodyDispute.status == DisputeStatus(status))
    order = sa.case((CustodyDispute.status == DisputeStatus.OPEN, 0), else_=1)
    rows = session.execute(query.order_by(order, CustodyDispute.opened_at.desc()).limit(limit)).all()
    return [DisputeRow(*row) for row in rows]


def dispute_for(session: Session, actor: Actor, dispute_id: uuid.UUID) -> DisputeRow:
    """One dispute the actor may see. Raises NotFound otherwise (also for another's)."""
    query = _dispute_rows().where(CustodyDispute.id == dispute_id)
    row = session.execute(query).first()
    if row is None:
        raise NotFound()
    found = DisputeRow(*row)
    parties = {found.dispute.org_id, found.market_org_id}
    if actor.org_id not in parties and not allows(actor, Action.RESOLVE_DISPUTE):
        raise NotFound()
    return found


@dataclass(frozen=True)
class GateTake:
    """A gate check that took the organisation's stock: what its holder is told."""

    event: Event
    trace_code: str
    market: str
    quantity: Any
    unit: Any
    voided: bool
    dispute: CustodyDispute | None


def gate_takes(session: Session, actor: Actor, limit: int = 100) -> list[GateTake]:
    """The gate checks that took stock from the actor's organisation, newest first, each with
    its dispute, if any, and whether it was voided since."""
    corrector = aliased(Event)
    voided = sa.exists().where(corrector.corrects_id == Event.id)
    rows = session.execute(
        sa.select(
            Event,
            Certificate.trace_code,
            Organisation.name,
            EventItem.quantity,
            EventItem.unit,
            voided,
            CustodyDispute,
        )
        .join(EventItem, sa.and_(EventItem.event_id == Event.id, EventItem.role == ItemRole.SUBJECT))
        .join(Certificate, Certificate.id == EventItem.certificate_id)
        .join(Organisation, Organisation.id == Event.org_id)
        .outerjoin(CustodyDispute, CustodyDispute.event_id == Event.id)
        .where(Event.kind == EventKind.INSPECTING, Event.source_org_id == actor.org_id)
        .order_by(Event.occurred_at.desc())
        .limit(limit)
    ).all()
    return [GateTake(*row) for row in rows]
