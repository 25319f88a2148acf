"""Reading events: the journey of a batch in a bounded number of queries, holdings, status facts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from traceapp.certificates.models import Certificate, Holding
from traceapp.certificates.status import BatchFacts, BatchStatus, batch_status
from traceapp.coldchain.verdicts import Verdict, journey_verdict
from traceapp.errors import NotFound
from traceapp.events.models import Event, EventItem, EventKind, ItemRole, Quarantine, TemperatureReading
from traceapp.events.recording import is_quarantined
from traceapp.orgs.models import Organisation
from traceapp.orgs.permissions import Action, allows


@dataclass
class Journey:
    """Everything that happened to one batch, plus where it came from and went."""

    certificate: Certificate
    events: list[Event]
    items: dict[uuid.UUID, list[EventItem]]
    codes: dict[uuid.UUID, str]
    orgs: dict[uuid.UUID, str]
    readings: dict[uuid.UUID, list[TemperatureReading]]
    corrected_by: dict[uuid.UUID, Event]
    made_from: list[tuple[str, str]] = field(default_factory=list)
    went_into: list[tuple[str, str]] = field(default_factory=list)
    holdings: list[tuple[str, str, Any]] = field(default_factory=list)
    #: The producers (name, origin) of the certificates a buyer collected and re-issued this
    #: batch from (its purchases; no phones, no photos), as the re-issue recorded them.
    collected_from: list[tuple[str, str]] = field(default_factory=list)

    @property
    def cold_chain(self) -> Verdict:
        legs = [
            Verdict(e.details["cold_chain"]["verdict"])
            for e in self.events
            if "cold_chain" in e.details and e.id not in self.corrected_by
        ]
        return journey_verdict(legs)

    @property
    def failed_inspection(self) -> bool:
        """A standing rejection by a gate that had the batch (not a mere claim)."""
        return any(is_verdict(e) and e.id not in self.corrected_by for e in self.events)

    @property
    def claims(self) -> list[Event]:
        """Standing rejections by markets that never had the batch in front of them."""
        return [e for e in self.events if is_claim(e) and e.id not in self.corrected_by]


def is_rejection(event: Event) -> bool:
    return event.kind is EventKind.INSPECTING and event.details.get("result") == "rejected"


def is_verdict(event: Event) -> bool:
    """A gate rejection that decides the batch's status: the gate had the batch."""
    return is_rejection(event) and not event.details.get("claim")


def is_claim(event: Event) -> bool:
    """A gate rejection by a market that never had the batch: its claim, not a verdict."""
    return is_rejection(event) and bool(event.details.get("claim"))


def journey(
    session: Session, certificate: Certificate, *, holdings: bool = True, issuer_name: str | None = None
) -> Journey:
    """The journey of ``certificate`` in at most five queries, whatever its length (one when
    nothing has happened yet and the issuer's name is given)."""
    events = list(session.scalars(_CHAIN_EVENTS, {"cid": certificate.id}))
    items, codes, names = _items(session, [e.id for e in events])
    made_from, went_into = _links(certificate.id, events, items, codes, names)
    if events or holdings or issuer_name is None:
        orgs = _org_names(session, events, certificate, holders=holdings)
    else:
        orgs = {certificate.org_id: issuer_name}
    trip = Journey(
        certificate,
        events,
        items,
        codes,
        orgs,
        _readings(session, events),
        {e.corrects_id: e for e in events if e.corrects_id},
        made_from,
        went_into,
        _holdings(session, certificate, orgs) if holdings else [],
    )
    trip.collected_from = _collected_from(certificate.id, events, items)
    return trip


def _collected_from(
    certificate_id: uuid.UUID, events: list[Event], items: dict[Any, list[EventItem]]
) -> Links:
    """The producers a re-issue of this batch (it an output) names in its details."""
    for event in events:
        outputs = {i.certificate_id for i in items.get(event.id, []) if i.role is ItemRole.OUTPUT}
        if certificate_id in outputs and event.details.get("collected_from"):
            return [(name, origin) for name, origin in event.details["collected_from"]]
    return []


# The hot path (every public page view) runs these statements, built once at import: SQLAlchemy
# then reuses their compiled form, and building a statement costs more than running it here.
_CID = sa.bindparam("cid", type_=sa.Uuid())
_IDS = sa.bindparam("ids", expanding=True)
MAX_PORTION_DEPTH = 20


def _portion_ancestry() -> sa.CTE:
    """The batch and the batches it was portioned from, each with the time it was split off
    (the batch itself has no cutoff). Bounded depth, so a malformed graph cannot loop."""
    return _ancestry(sa.select(_CID.label("root"), _CID.label("cid")), "chain")


def _ancestry(start: sa.Select[Any], name: str) -> sa.CTE:
    """The portion ancestry of each batch ``start`` selects (as ``root`` and ``cid``): rows of
    the batch it started from (``root``), one batch of its chain (``cid``) and that batch's
    cutoff (None for the root itself)."""
    out, inp = aliased(EventItem), aliased(EventItem)
    chain = start.add_columns(
        sa.null().cast(Event.occurred_at.type).label("cutoff"), sa.literal(0).label("depth")
    ).cte(name, recursive=True)
    step = (
        sa.select(chain.c.root, inp.certificate_id, Event.occurred_at, chain.c.depth + 1)
        .select_from(chain)
        .join(out, out.certificate_id == chain.c.cid)
        .join(Event, sa.and_(Event.id == out.event_id, Event.kind == EventKind.PORTIONING))
        .join(inp, sa.and_(inp.event_id == Event.id, inp.role == ItemRole.INPUT))
        .where(out.role == ItemRole.OUTPUT, chain.c.depth < MAX_PORTION_DEPTH)
    )
    return chain.union_all(step)


def _chain_events_statement() -> sa.Select[tuple[Event]]:
    """The batch's events and, for a portion, its source's events up to the portioning (so a
    buyer's page shows the whole chain), in one statement."""
    chain, happened = _portion_ancestry(), aliased(Event)
    touching = (
        sa.select(EventItem.event_id)
        .join(chain, chain.c.cid == EventItem.certificate_id)
        .join(happened, happened.id == EventItem.event_id)
        .where(sa.or_(chain.c.cutoff.is_(None), happened.occurred_at <= chain.c.cutoff))
    )
    return sa.select(Event).where(Event.id.in_(touching)).order_by(Event.occurred_at, Event.recorded_at)


_CHAIN_EVENTS = _chain_events_statement()
_ITEMS = (
    sa.select(EventItem, Certificate.trace_code, Certificate.product_name)
    .join(Certificate, Certificate.id == EventItem.certificate_id)
    .where(EventItem.event_id.in_(_IDS))
    .order_by(EventItem.position)
)
_ORG_NAMES = sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(_IDS))
_READINGS = (
    sa.select(TemperatureReading)
    .where(TemperatureReading.event_id.in_(_IDS))
    .order_by(TemperatureReading.position)
)


Items = dict[uuid.UUID, list[EventItem]]


def _items(
    session: Session, event_ids: list[uuid.UUID]
) -> tuple[Items, dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """The events' items, and the trace code and product of every batch they name (one query)."""
    grouped: Items = defaultdict(list)
    codes: dict[uuid.UUID, str] = {}
    names: dict[uuid.UUID, str] = {}
    if event_ids:
        for item, code, name in session.execute(_ITEMS, {"ids": event_ids}):
            grouped[item.event_id].append(item)
            codes[item.certificate_id], names[item.certificate_id] = code, name
    return grouped, codes, names


Links = list[tuple[str, str]]


def _links(
    certificate_id: uuid.UUID,
    events: list[Event],
    items: Items,
    codes: dict[uuid.UUID, str],
    names: dict[uuid.UUID, str],
) -> tuple[Links, Links]:
    """Direct inputs ("made from") and outputs ("went into") of the batch, read off the items of
    its transformations and portionings (no query of its own)."""
    made_from: Links = []
    went_into: Links = []
    for event in events:
        group = items.get(event.id, [])
        roles = {i.role for i in group if i.certificate_id == certificate_id}
        other = {ItemRole.OUTPUT: ItemRole.INPUT, ItemRole.INPUT: ItemRole.OUTPUT}
        for role in roles - {ItemRole.SUBJECT}:
            found = made_from if role is ItemRole.OUTPUT else went_into
            found += [
                (codes[i.certificate_id], names[i.certificate_id]) for i in group if i.role is other[role]
            ]
    return made_from, went_into


def _org_names(
    session: Session, events: list[Event], certificate: Certificate | None, *, holders: bool = False
) -> dict[uuid.UUID, str]:
    ids = {certificate.org_id} if certificate else set()
    for e in events:
        ids.update(i for i in (e.org_id, e.source_org_id, e.destination_org_id, e.carrier_org_id) if i)
    if certificate is not None and holders:
        ids.update(session.scalars(sa.select(Holding.org_id).where(Holding.certificate_id == certificate.id)))
    return dict(session.execute(_ORG_NAMES, {"ids": list(ids)}).all())


def _readings(session: Session, events: list[Event]) -> dict[uuid.UUID, list[TemperatureReading]]:
    legs = [e.id for e in events if "cold_chain" in e.details]
    grouped: dict[uuid.UUID, list[TemperatureReading]] = defaultdict(list)
    if legs:
        for reading in session.scalars(_READINGS, {"ids": legs}):
            grouped[reading.event_id].append(reading)
    return grouped


def _holdings(
    session: Session, certificate: Certificate, orgs: dict[uuid.UUID, str]
) -> list[tuple[str, str, Any]]:
    rows = session.execute(
        sa.select(Holding.org_id, Holding.state, Holding.quantity).where(
            Holding.certificate_id == certificate.id, Holding.quantity > 0
        )
    ).all()
    return [(str(org_id), orgs.get(org_id, ""), (state, quantity)) for org_id, state, quantity in rows]


@dataclass(frozen=True)
class Verification:
    """What a scanner's look-up of a code reads: the batch's journey and its status."""

    trip: Journey
    status: BatchStatus


def batch_facts(session: Session, trip: Journey) -> BatchFacts:
    """The facts the batch's status is decided from (two queries: the recall hold, the published
    scan counts). No certificate carries a best-before date yet, so none is passed."""
    from traceapp.certificates.scans import status_facts, with_scans

    certificate = trip.certificate
    facts = BatchFacts(
        revoked=certificate.is_revoked,
        recalled=is_quarantined(session, certificate.id),
        failed_inspection=trip.failed_inspection,
    )
    return with_scans(facts, certificate, status_facts(session, [certificate]).get(certificate.id))


def batch_facts_of(session: Session, certificates: list[Certificate]) -> dict[uuid.UUID, BatchFacts]:
    """The status facts of many batches at once, by certificate id (three queries)."""
    from traceapp.certificates.scans import status_facts, with_scans

    ids = [c.id for c in certificates]
    held, rejected = held_batches(session, ids), rejected_batches(session, ids)
    scanned = status_facts(session, certificates)
    return {
        c.id: with_scans(
            BatchFacts(revoked=c.is_revoked, recalled=c.id in held, failed_inspection=c.id in rejected),
            c,
            scanned.get(c.id),
        )
        for c in certificates
    }


def held_by_org(session: Session, certificate_ids: list[uuid.UUID], org_id: uuid.UUID) -> bool:
    """Whether the organisation holds (on hand or on its way to it) any of these batches."""
    return (
        session.scalar(
            sa.select(Holding.certificate_id)
            .where(
                Holding.certificate_id.in_(certificate_ids), Holding.org_id == org_id, Holding.quantity > 0
            )
            .limit(1)
        )
        is not None
    )


def held_batches(session: Session, certificate_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these batches an active hold (a recall) keeps from moving on."""
    if not certificate_ids:
        return set()
    return set(
        session.scalars(
            sa.select(Quarantine.certificate_id).where(
                Quarantine.certificate_id.in_(certificate_ids), Quarantine.released_at.is_(None)
            )
        )
    )


def handled_by(session: Session, trip: Journey, org_id: uuid.UUID) -> bool:
    """Whether an organisation ever handled the batch: issued it, held it (on hand or on its
    way to it), or was named as the source, destination or carrier of one of its events.
    Recording an event alone is not handling it: a gate check that moved nothing (or a
    claim) does not open the batch's holders and contacts to the market that made it."""
    certificate = trip.certificate
    if certificate.org_id == org_id:
        return True
    if any(org_id in (e.source_org_id, e.destination_org_id, e.carrier_org_id) for e in trip.events):
        return True
    holding = sa.select(Holding.org_id).where(
        Holding.certificate_id == certificate.id, Holding.org_id == org_id
    )
    return session.scalar(holding.limit(1)) is not None


def sees_everything(session: Session, actor: Any, trip: Journey) -> bool:
    """Whether the actor reads a batch's holders, contacts and gate details: a regulator
    (who traces everything), or an organisation that handled the batch."""
    return allows(actor, Action.TRACE_FULL) or handled_by(session, trip, actor.org_id)


def verification(session: Session, certificate: Certificate) -> Verification:
    """The journey of a batch with its holders, and its status (``GET /api/v1/codes/{code}``)."""
    trip = journey(session, certificate)
    return Verification(trip, batch_status(batch_facts(session, trip)))


@dataclass(frozen=True)
class Recorded:
    """A recorded event with its items, the codes and organisations they name, and the batches
    it produced (the outputs of a transformation or portioning, or a market's entry record)."""

    event: Event
    items: list[EventItem]
    codes: dict[uuid.UUID, str]
    orgs: dict[uuid.UUID, str]
    produced: list[EventItem]


def recorded(session: Session, event: Event) -> Recorded:
    """A just-recorded (or replayed, or looked-up) event and what it names (three queries)."""
    grouped, code_of, _names = _items(session, [event.id])
    items = grouped[event.id]
    orgs = _org_names(session, [event], _any_certificate(session, items))
    produced = [i for i in items if i.role is ItemRole.OUTPUT]
    if event.details.get("entry_record"):
        produced = [i for i in items if code_of[i.certificate_id] == event.details["entry_record"]]
    return Recorded(event, items, code_of, orgs, produced)


def _any_certificate(session: Session, items: list[EventItem]) -> Certificate | None:
    return session.get(Certificate, items[0].certificate_id) if items else None


def visible_event(session: Session, actor: Any, event_id: uuid.UUID) -> Event:
    """An event the actor's organisation recorded, sent or received. Raises NotFound otherwise."""
    event = session.get(Event, event_id)
    parties = {event.org_id, event.source_org_id, event.destination_org_id} if event else set()
    if event is None or actor.org_id not in parties:
        raise NotFound()
    return event


@dataclass(frozen=True)
class BatchRow:
    """One batch an organisation holds (or has on its way to it), for its lists."""

    certificate: Certificate
    state: str
    quantity: Any
    status: BatchStatus


def org_batches(session: Session, org_id: uuid.UUID) -> list[BatchRow]:
    """What the organisation holds on hand or in transit to it, newest batches first, each with
    its status (3 queries)."""
    rows = session.execute(
        sa.select(Certificate, Holding.state, Holding.quantity)
        .join(Holding, Holding.certificate_id == Certificate.id)
        .where(Holding.org_id == org_id, Holding.quantity > 0)
        .order_by(Certificate.issued_at.desc())
        .limit(200)
    ).all()
    facts = batch_facts_of(session, [c for c, _s, _q in rows])
    return [BatchRow(c, state.value, quantity, batch_status(facts[c.id])) for c, state, quantity in rows]


@dataclass(frozen=True)
class CarriedShipment:
    """A shipment in a carrier's care: sent, naming it as carrier, not yet received."""

    shipment: Event
    certificate: Certificate
    quantity: Any
    status: BatchStatus
    sender: str | None
    receiver: str | None


def carried_shipments(session: Session, org_id: uuid.UUID, limit: int = 200) -> list[CarriedShipment]:
    """The shipments that name the organisation as carrier and are still on their way (neither
    received nor voided), oldest first: what is in its care now (3 queries)."""
    from traceapp.events.custody import open_shipments  # custody imports the recording layer

    rows = session.execute(
        open_shipments()
        .add_columns(Certificate)
        .join(Certificate, Certificate.id == EventItem.certificate_id)
        .where(Event.carrier_org_id == org_id)
        .order_by(Event.occurred_at)
        .limit(limit)
    ).all()
    events = [event for event, _q, _c in rows]
    names = _org_names(session, events, None)
    facts = batch_facts_of(session, [c for _e, _q, c in rows])
    return [
        CarriedShipment(
            event,
            certificate,
            quantity,
            batch_status(facts[certificate.id]),
            names.get(event.source_org_id or event.org_id),
            names.get(event.destination_org_id),
        )
        for event, quantity, certificate in rows
    ]


def rejected_batches(session: Session, certificate_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these batches were rejected at a gate (and not corrected since) by a gate that
    had them (claims do not count), counting for a portion its source's rejections before the
    cut, as its journey does (``Journey``)."""
    if not certificate_ids:
        return set()
    start = sa.select(Certificate.id.label("root"), Certificate.id.label("cid"))
    chain = _ancestry(start.where(Certificate.id.in_(certificate_ids)), "chains")
    corrector = aliased(Event)
    corrected = sa.exists().where(corrector.corrects_id == Event.id)  # an anti-join, not a scan
    rows = session.execute(
        sa.select(chain.c.root, Event.details)
        .join(EventItem, EventItem.certificate_id == chain.c.cid)
        .join(Event, Event.id == EventItem.event_id)
        .where(
            Event.kind == EventKind.INSPECTING,
            sa.or_(chain.c.cutoff.is_(None), Event.occurred_at <= chain.c.cutoff),
            ~corrected,
        )
    ).all()
    return {
        root for root, details in rows if details.get("result") == "rejected" and not details.get("claim")
    }


def recent_events(session: Session, org_id: uuid.UUID, limit: int = 20) -> list[tuple[Event, str]]:
    """The latest events the organisation recorded, with the first batch's trace code."""
    first_item = (
        sa.select(Certificate.trace_code)
        .join(EventItem, EventItem.certificate_id == Certificate.id)
        .where(EventItem.event_id == Event.id)
        .order_by(EventItem.position)
        .limit(1)
        .correlate(Event)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(Event, first_item)
        .where(Event.org_id == org_id)
        .order_by(Event.recorded_at.desc())
        .limit(limit)
    ).all()
    return [(event, code or "") for event, code in rows]
