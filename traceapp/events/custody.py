"""Custody rules: ship, receive, sell, destroy, and the store/transport legs with temperatures."""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, aliased

from traceapp.certificates.models import Certificate, HoldingState
from traceapp.coldchain import verdicts as coldchain
from traceapp.coldchain.documents import leg_document
from traceapp.errors import Conflict, InvalidInput
from traceapp.events.holdings import held
from traceapp.events.models import Event, EventItem, EventKind, ItemRole, TemperatureReading
from traceapp.events.recording import NotHolder, Recording
from traceapp.notify import services as notify
from traceapp.schemas import decimal_text


def ship(rec: Recording) -> None:
    """The holder sends all or part of a batch to another organisation (in transit until received)."""
    certificate = rec.batch()
    rec.refuse_revoked(certificate)
    amount = rec.quantity(certificate)
    destination = rec.org_id("to_org")
    carrier = rec.org_id("carrier_org") if rec.data.get("carrier_org") else None
    if destination == rec.actor.org_id:
        raise InvalidInput("/to_org", _("Ship to another organisation."))
    rec.take_held(certificate, amount)
    rec.ledger.give(certificate.id, destination, amount, HoldingState.IN_TRANSIT)
    rec.event.source_org_id, rec.event.destination_org_id = rec.actor.org_id, destination
    rec.event.carrier_org_id = carrier
    rec.add_item(certificate, ItemRole.SUBJECT, amount)


def receive(rec: Recording) -> None:
    """The receiver confirms a shipment with the quantity actually received; the gap is kept."""
    certificate = rec.batch()
    received = rec.quantity(certificate)
    shipping = pending_shipment(rec, certificate)
    shipped = shipped_quantity(rec, shipping)
    if received > shipped:
        raise InvalidInput(
            "/quantity", _("More than was shipped (%(shipped)s).", shipped=decimal_text(shipped))
        )
    take_delivery(rec, certificate, shipping, shipped, received)
    record_leg(rec, certificate)


def take_delivery(
    rec: Recording, certificate: Certificate, shipping: Event, shipped: Decimal, received: Decimal
) -> None:
    """Move a shipment from in transit to on hand, recording any difference as lost."""
    rec.ledger.take(certificate.id, rec.actor.org_id, shipped, HoldingState.IN_TRANSIT)
    rec.ledger.give(certificate.id, rec.actor.org_id, received)
    rec.event.answers_id = shipping.id
    rec.event.source_org_id, rec.event.destination_org_id = shipping.org_id, rec.actor.org_id
    rec.event.details = {
        **rec.event.details,
        "shipped": decimal_text(shipped),
        "received": decimal_text(received),
        "lost": decimal_text(shipped - received),
    }
    rec.add_item(certificate, ItemRole.SUBJECT, received)
    if received < shipped:
        rec.after_persist.append(
            lambda event: notify.received_short(
                rec.session,
                event_id=event.id,
                certificate=certificate,
                shipper_id=shipping.org_id,
                receiver_id=rec.actor.org_id,
                shipped=decimal_text(shipped),
                received=decimal_text(received),
            )
        )


def pending_shipment(rec: Recording, certificate: Certificate) -> Event:
    """The shipment of this batch to the actor that this receipt answers.

    Raises InvalidInput for an unknown ``shipping_event_id`` or when several are pending, and
    Conflict when nothing is on its way to the actor.
    """
    pending = pending_shipments(rec, certificate)
    wanted = rec.data.get("shipping_event_id")
    if wanted is not None:
        chosen = [e for e in pending if wanted in (e.id, e.client_event_id)]
        if not chosen:
            raise InvalidInput("/shipping_event_id", _("No pending shipment to you has this id."))
        return chosen[0]
    if not pending:
        raise Conflict(_("Nothing of this batch is on its way to your organisation."))
    if len(pending) > 1:
        raise InvalidInput("/shipping_event_id", _("Several shipments are pending; say which."))
    return pending[0]


def pending_shipments(rec: Recording, certificate: Certificate) -> list[Event]:
    """Shipments of the batch to the actor that are neither received nor voided, oldest first
    (their shipped quantities kept on the recording for ``shipped_quantity``).

    NOT EXISTS anti-joins on indexed columns, so the cost does not grow with the number of
    events in the database (a NOT IN over all corrections and receipts did).
    """
    rows = rec.session.execute(_PENDING, {"certificate": certificate.id, "org": rec.actor.org_id}).all()
    for event, quantity in rows:
        rec.shipped[event.id] = quantity
    return [event for event, _quantity in rows]


def open_shipments() -> sa.Select:
    """Shipments neither voided nor answered by a receipt that stands, each with its quantity
    (of any batch: add ``_OF_BATCH`` for one)."""
    voider, answer, answer_voider = aliased(Event), aliased(Event), aliased(Event)
    voided = sa.exists().where(voider.corrects_id == Event.id)
    answered = sa.exists().where(
        answer.answers_id == Event.id, ~sa.exists().where(answer_voider.corrects_id == answer.id)
    )
    return (
        sa.select(Event, EventItem.quantity)
        .join(EventItem, EventItem.event_id == Event.id)
        .where(Event.kind == EventKind.SHIPPING, ~voided, ~answered)
    )


_OF_BATCH = EventItem.certificate_id == sa.bindparam("certificate")


# Built once: three aliased entities per request cost more than the query itself.
_PENDING = (
    open_shipments()
    .where(_OF_BATCH, Event.destination_org_id == sa.bindparam("org"))
    .order_by(Event.occurred_at)
)
_ON_ITS_WAY = (
    open_shipments()
    .with_only_columns(Event.id)
    .where(
        _OF_BATCH,
        sa.or_(
            Event.carrier_org_id == sa.bindparam("org"),
            sa.and_(Event.destination_org_id == sa.bindparam("org"), Event.carrier_org_id.is_(None)),
        ),
    )
    .limit(1)
)


def open_shipment(session: Session, certificate_id: uuid.UUID, org_id: uuid.UUID) -> Decimal | None:
    """The quantity of the oldest shipment of the batch to ``org_id`` still on its way (the one
    a gate acceptance takes in), or None when none is."""
    row = session.execute(_PENDING, {"certificate": certificate_id, "org": org_id}).first()
    return None if row is None else row[1]


def shipped_quantity(rec: Recording, shipping: Event) -> Decimal:
    quantity = rec.shipped.get(shipping.id)
    if quantity is None:
        quantity = rec.session.scalar(sa.select(EventItem.quantity).where(EventItem.event_id == shipping.id))
    return quantity or Decimal(0)


def consume(rec: Recording) -> None:
    """Sell at retail or destroy: the quantity leaves the holder's stock for good."""
    certificate = rec.batch()
    if rec.data["kind"] is EventKind.RETAIL_SELLING:
        rec.refuse_revoked(certificate)
    amount = rec.quantity(certificate)
    rec.take_held(certificate, amount)
    rec.add_item(certificate, ItemRole.SUBJECT, amount)


def leg(rec: Recording) -> None:
    """A storage or transport leg, recorded only while the goods are in the recorder's hands:
    it holds them, or carries a shipment still on its way (named as its carrier, or as its
    receiver fetching it when no carrier was named)."""
    certificate = rec.batch()
    if not _handles(rec, certificate):
        raise NotHolder(_("Your organisation neither holds nor carries this batch."))
    amount = rec.quantity(certificate) if rec.data.get("quantity") is not None else None
    rec.add_item(certificate, ItemRole.SUBJECT, amount)
    record_leg(rec, certificate)


def _handles(rec: Recording, certificate: Certificate) -> bool:
    if held(rec.session, certificate.id, rec.actor.org_id) > 0:
        return True
    found = rec.session.scalar(_ON_ITS_WAY, {"certificate": certificate.id, "org": rec.actor.org_id})
    return found is not None


def record_leg(rec: Recording, certificate: Certificate) -> None:
    """Judge and keep the temperatures of a leg (readings, or a min/max pair), if any."""
    allowed = _allowed_range(rec, certificate)
    readings = [coldchain.Reading(r["at"], r["celsius"]) for r in rec.data.get("temperatures") or []]
    low, high = rec.data.get("temperature_min"), rec.data.get("temperature_max")
    if readings:
        verdict = coldchain.judge_readings(readings, allowed, max_gap=rec.settings.max_gap)
    elif low is not None or high is not None:
        verdict = coldchain.judge_min_max(
            low if low is not None else high, high if high is not None else low, allowed
        )
    else:
        return
    rec.readings = [
        TemperatureReading(position=i, at=r.at, celsius=r.celsius)
        for i, r in enumerate(sorted(readings, key=lambda r: r.at))
    ]
    rec.event.details = {**rec.event.details, "cold_chain": leg_document(verdict, allowed)}


def _allowed_range(rec: Recording, certificate: Certificate) -> coldchain.Range | None:
    given = rec.data.get("temperature_range")
    if given and (given.get("low") is not None or given.get("high") is not None):
        return coldchain.Range(given.get("low"), given.get("high"))
    return rec.settings.ranges.get(certificate.category) if certificate.category else None
