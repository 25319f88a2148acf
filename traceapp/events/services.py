"""Recording an event: idempotency, the rules of its kind, holdings, and one insert.

``record_event`` is the single entry point the API, the pages and the demo use. Each kind's
rules live in ``custody``, ``gate``, ``processing`` and ``corrections``; they all work on a
``Recording`` and never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from traceapp import idempotency
from traceapp.db import utcnow
from traceapp.errors import Conflict
from traceapp.events import pallets, queries, rules
from traceapp.events.corrections import apply_correction, declare_erroneous
from traceapp.events.handlers import HANDLERS
from traceapp.events.holdings import Ledger
from traceapp.events.models import Event, EventKind, ItemRole
from traceapp.events.recording import EventSettings, Lookups, Recording
from traceapp.events.schemas import EventIn
from traceapp.idempotency import record_once, request_digest
from traceapp.orgs.models import Organisation
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.services import Actor


@dataclass(frozen=True)
class Recorded:
    """An event just recorded (or replayed) and, when new, what the answer names, known from
    the objects written (None for a replay: read it back)."""

    event: Event
    created: bool
    answer: queries.Recorded | None


def record_event(
    session: Session, actor: Actor, *, data: dict[str, Any], settings: EventSettings
) -> tuple[Event, bool]:
    """Record one event from validated ``EventIn`` data; return it and whether it is new.

    The same ``event_id`` with the same body returns the stored event (created False). Raises
    Conflict (id reused with another body; revoked batch; quantity beyond what is held),
    NotHolder, PermissionDenied (this kind of organisation never records this kind of event, or
    corrects) and InvalidInput naming the field.
    """
    recorded = record(session, actor, data=data, settings=settings)
    return recorded.event, recorded.created


#: ``record``'s ``stored`` when nobody looked for the event id beforehand.
UNKNOWN: Any = object()


def record(
    session: Session,
    actor: Actor,
    *,
    data: dict[str, Any],
    settings: EventSettings,
    lookups: Lookups | None = None,
    stored: Event | None = UNKNOWN,
) -> Recorded:
    """``record_event``, with what a new event's answer names (same rules, same errors).

    A batch passes what it read at once for many events: ``lookups`` (certificates, named
    organisations) and ``stored``, the event its organisation already stored with this event
    id (None: none when it looked; one stored since is still told by the unique constraint).
    """
    require(actor, rules.ACTIONS[data["kind"]])
    if data.get("corrects"):
        require(actor, Action.CORRECT)
    digest = request_digest(data)
    if stored is not UNKNOWN and stored is not None:
        if stored.request_digest != digest:
            raise Conflict(_("This event_id was already used with a different body."))
        return Recorded(stored, False, None)
    recordings: list[Recording] = []

    def create() -> Event:
        recording = _recording(session, actor, data, settings, digest)
        recording.lookups = lookups
        recordings.append(recording)
        return _record(recording)

    def replay() -> Event | None:
        return idempotency.stored(
            session, Event, org_id=actor.org_id, event_id=data["event_id"], digest=digest, wait=False
        )

    event, created = record_once(session, create, replay)
    return Recorded(event, created, _answer(recordings[-1]) if created else None)


def ship_pallet(
    session: Session,
    actor: Actor,
    *,
    view: pallets.PalletView,
    data: dict[str, Any],
    settings: EventSettings,
) -> tuple[list[Recorded], bool]:
    """Ship a pallet as one: a shipping event per batch on it (its quantity on the pallet), each
    naming the SSCC, with event ids derived from ``data["event_id"]`` so that a retry replays
    them all; return them and whether any is new.

    Raises PalletElsewhere when the actor does not have the pallet (it packed it and shipped it
    already, or it was shipped to someone else), and whatever ``record`` raises for a batch (the
    caller's transaction then rolls back all of them: nothing is half shipped).
    """
    holder = pallets.holder_of(session, view)
    sscc = view.pallet.sscc
    done: list[Recorded] = []
    for i, case in enumerate(view.cases):
        # Loaded as the API loads an event (the same shape, so the same request digest).
        body = EventIn().load(
            {
                "event_id": str(uuid.uuid5(data["event_id"], f"{sscc}/{i}")),
                "kind": EventKind.SHIPPING.value,
                "occurred_at": data["occurred_at"].isoformat(),
                "trace_code": case.certificate.trace_code,
                "quantity": str(case.quantity),
                "unit": case.certificate.unit.value,
                "to_org": str(data["to_org"]),
                **({"carrier_org": str(data["carrier_org"])} if data.get("carrier_org") else {}),
                **({"location": data["location"]} if data.get("location") else {}),
            }
        )
        recorded = record(session, actor, data=body, settings=settings)
        if recorded.created:
            recorded.event.details = {**recorded.event.details, "sscc": sscc}
            session.flush()
        done.append(recorded)
    created = any(r.created for r in done)
    if created and holder != actor.org_id:
        raise pallets.PalletElsewhere(
            _("Your organisation does not have this pallet: it was shipped already.")
        )
    return done, created


def record_correction(
    session: Session,
    actor: Actor,
    *,
    target: Event,
    reason: str,
    client_event_id: uuid.UUID,
    settings: EventSettings,
) -> Event:
    """Void ``target`` in the actor's name (a regulator upholding a dispute): a voiding event
    whose ledger rows give back what ``target`` moved. Raises Conflict (already corrected;
    processing; the goods have moved on since)."""
    if session.scalar(sa.select(Event.id).where(Event.corrects_id == target.id)) is not None:
        raise Conflict(_("This event has already been corrected."))
    data = {
        "event_id": client_event_id,
        "kind": EventKind.VOIDING,
        "occurred_at": utcnow(),
        "corrects": {"event_id": target.id, "reason": reason},
    }
    recording = Recording(
        session, actor, data, settings, _new_event(actor, data, request_digest(data)), Ledger(session)
    )
    declare_erroneous(recording, target, reason)  # a voiding: copies the target's items too
    return _persist(recording)


def _answer(recording: Recording) -> queries.Recorded | None:
    """What the answer names, from the objects written: None when an item names a batch the
    recording did not read (a voiding copies its target's items)."""
    codes = {c.id: c.trace_code for c in (*recording.certificates.values(), *recording.outputs)}
    items = recording.items
    if any(i.certificate_id not in codes for i in items):
        return None
    org_id = recording.actor.org_id
    name = recording.org_name
    if name is None:
        org = recording.session.get(Organisation, org_id)
        name = org.name if org else ""
    produced = [i for i in items if i.role is ItemRole.OUTPUT]
    if recording.event.details.get("entry_record"):
        produced = [i for i in items if codes[i.certificate_id] == recording.event.details["entry_record"]]
    return queries.Recorded(recording.event, items, codes, {org_id: name}, produced)


def _recording(
    session: Session, actor: Actor, data: dict[str, Any], settings: EventSettings, digest: str
) -> Recording:
    return Recording(session, actor, data, settings, _new_event(actor, data, digest), Ledger(session))


def _record(recording: Recording) -> Event:
    if recording.data.get("corrects"):
        apply_correction(recording)
    HANDLERS[recording.data["kind"]](recording)
    return _persist(recording)


def _new_event(actor: Actor, data: dict[str, Any], digest: str) -> Event:
    shape = rules.EPCIS[data["kind"]]
    occurred = data["occurred_at"]
    return Event(
        id=uuid.uuid4(),
        org_id=actor.org_id,
        recorded_by_id=actor.user_id,
        client_event_id=data["event_id"],
        request_digest=digest,
        kind=data["kind"],
        epcis_type=shape.event_type,
        action=shape.action,
        biz_step=shape.biz_step,
        disposition=shape.disposition,
        occurred_at=occurred,
        tz_offset=_offset(occurred),
        recorded_at=utcnow(),
        location=data.get("location"),
        details={"note": data["note"]} if data.get("note") else {},
    )


def _offset(moment: Any) -> str:
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _persist(recording: Recording) -> Event:
    """Add the event, its items, readings and ledger rows, and flush them at once: one INSERT
    per table (executemany), the event first (the others name it)."""
    session, event = recording.session, recording.event
    session.add(event)
    for item in recording.items:
        item.event_id = event.id
    for reading in recording.readings:
        reading.event_id = event.id
    session.add_all(recording.items)
    session.add_all(recording.readings)
    recording.ledger.record(event.id)
    session.flush()
    for write in recording.after_persist:
        write(event)
    return event


def load_event(session: Session, event_id: uuid.UUID) -> Event:
    """An event with its items loaded (for serialising)."""
    return session.scalars(
        sa.select(Event).where(Event.id == event_id).options(selectinload(Event.items))
    ).one()
