"""Capturing EPCIS 2.0 documents into the repository: validate, hash, store, per-event outcome.

``prepare_capture`` takes a whole document: GS1's schema and JSON-LD context are checked first
(a document that fails is refused as a whole, 400, nothing stored); ``start_capture`` stores
it. A small document is captured at once, in the request's transaction; a large one is
stored with its capture job and captured by a worker (``run_capture``), in the worker's
transaction. ``capture_events`` is the one place events enter the repository, and it answers
an outcome per event: the step where a later wave
maps captured events onto our own custody and cold-chain rules.

Expensive work (JSON-LD expansion, the event hash) is done by ``prepare_capture`` before the
write transaction opens, so a capture holds the database's write lock only to store rows.

Idempotency: an eventID the capturing organisation already stored with the same GS1 event
hash is a no-op success (a replay); with another hash it is refused
(``ResourceAlreadyExistsException``). EventIDs are the capturing organisation's: another
organisation's events are never looked at, so two organisations capturing the same event
each keep their own copy. An event without
an eventID is named by its hash, so a replay of it is a no-op as well. Error behaviour
``rollback`` (the binding's default): one refused event stores none of the document's;
``proceed``: the others are stored.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from traceapp import jobs
from traceapp.db import utcnow
from traceapp.epcis import standard
from traceapp.epcis.errors import CaptureLimitExceeded, EventIdReused, NoSuchCapture, ValidationProblem
from traceapp.epcis.models import CaptureStatus, EpcisCapture, EpcisEvent, EpcisIdentifier, IdentifierRole
from traceapp.jobs import services as job_services
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.services import Actor

#: The kind of the ``jobs`` rows that capture large documents.
CAPTURE_JOB = "epcis_capture"
BEHAVIOURS = ("rollback", "proceed")


@dataclass(frozen=True)
class Limits:
    """How much one capture may hold, and up to how many events it runs inline."""

    max_events: int
    inline_events: int
    max_attempts: int = 3


@dataclass(frozen=True)
class EventOutcome:
    """What became of one event of a capture."""

    index: int
    event_id: str
    status: str  # captured, duplicate, refused
    problem: dict[str, Any] | None = None
    event_pk: int | None = None


@dataclass(frozen=True)
class Prepared:
    """A checked document's events, and (for an inline capture) their hashes, computed before
    any transaction opens."""

    behaviour: str
    events: list[dict[str, Any]]
    hashes: list[str] | None


def prepare_capture(
    actor: Actor, *, document: Any, behaviour: str, artefacts: standard.Artefacts, limits: Limits
) -> Prepared:
    """Check a document (no database): schema, contexts, limits, each event's facts; hash the
    events of a capture small enough to run inline. Raises PermissionDenied, ValidationProblem,
    CaptureLimitExceeded."""
    events = checked_events(actor, document=document, behaviour=behaviour, artefacts=artefacts, limits=limits)
    hashes = hashes_of(artefacts, events) if len(events) <= limits.inline_events else None
    return Prepared(behaviour, events, hashes)


def hashes_of(artefacts: standard.Artefacts, events: list[dict[str, Any]]) -> list[str]:
    """The events' hashes. Raises ValidationProblem where JSON-LD refuses an event."""
    try:
        return standard.event_hashes(artefacts, events)
    except standard.InvalidDocument as exc:
        raise ValidationProblem(exc.message, field=exc.pointer) from exc


def start_capture(
    session: Session, actor: Actor, *, prepared: Prepared, artefacts: standard.Artefacts, limits: Limits
) -> EpcisCapture:
    """Capture a prepared document (inline when small, else on the job queue)."""
    events = prepared.events
    capture = _new_capture(session, actor, behaviour=prepared.behaviour, count=len(events))
    if prepared.hashes is not None:
        capture_events(session, capture, events, artefacts=artefacts, hashes=prepared.hashes)
        return capture
    capture.pending = events
    job = job_services.create_job(
        session,
        kind=CAPTURE_JOB,
        params={"capture": str(capture.id)},
        org_id=actor.org_id,
        created_by_id=actor.user_id,
        max_attempts=limits.max_attempts,
    )
    capture.job_id = job.id
    session.flush()
    jobs.enqueue(session, jobs.RUN_JOB, job_id=str(job.id))
    return capture


def prepare_single_event(
    actor: Actor, *, event: Any, artefacts: standard.Artefacts, limits: Limits
) -> Prepared:
    """``POST /events``: one event (with its own ``@context``) checked and hashed, before any
    transaction opens. Raises PermissionDenied, ValidationProblem."""
    document = single_event_document(event)
    events = checked_events(
        actor, document=document, behaviour="rollback", artefacts=artefacts, limits=limits
    )
    return Prepared("rollback", events, hashes_of(artefacts, events))


def capture_single_event(
    session: Session, actor: Actor, *, prepared: Prepared, artefacts: standard.Artefacts
) -> tuple[EpcisEvent, bool]:
    """``POST /events``: capture one prepared event at once; answer the stored event (the
    actor's organisation's) and whether it was a replay. Raises EventIdReused."""
    require(actor, Action.CAPTURE_EPCIS)
    capture = _new_capture(session, actor, behaviour="rollback", count=1)
    (outcome,) = capture_events(
        session, capture, prepared.events, artefacts=artefacts, hashes=prepared.hashes
    )
    if outcome.status == "refused":
        raise EventIdReused(str((outcome.problem or {}).get("detail")), field="/eventID")
    stored = session.scalar(
        sa.select(EpcisEvent).where(
            EpcisEvent.org_id == actor.org_id, EpcisEvent.event_id == outcome.event_id
        )
    )
    assert stored is not None
    return stored, outcome.status == "duplicate"


def checked_events(
    actor: Actor, *, document: Any, behaviour: str, artefacts: standard.Artefacts, limits: Limits
) -> list[dict[str, Any]]:
    """The events of a document that passes GS1's schema and context, within the limits.
    Raises PermissionDenied, ValidationProblem, CaptureLimitExceeded."""
    require(actor, Action.CAPTURE_EPCIS)
    if behaviour not in BEHAVIOURS:
        raise ValidationProblem(
            _("GS1-Capture-Error-Behaviour must be rollback or proceed."), field="GS1-Capture-Error-Behaviour"
        )
    try:
        standard.validate_document(artefacts, document)
        events = standard.events_of(document)
    except standard.InvalidDocument as exc:
        raise ValidationProblem(exc.message, field=exc.pointer) from exc
    if len(events) > limits.max_events:
        raise CaptureLimitExceeded(
            _(
                "A capture holds at most %(limit)d events; this one has %(count)d.",
                limit=limits.max_events,
                count=len(events),
            )
        )
    return events


def _new_capture(session: Session, actor: Actor, *, behaviour: str, count: int) -> EpcisCapture:
    capture = EpcisCapture(
        capture_id=secrets.token_urlsafe(18),
        org_id=actor.org_id,
        created_by_id=actor.user_id,
        behaviour=behaviour,
        event_count=count,
    )
    session.add(capture)
    session.flush()
    return capture


def run_capture(
    session: Session,
    capture_pk: uuid.UUID,
    *,
    artefacts: standard.Artefacts,
    hashes: list[str] | None = None,
) -> EpcisCapture:
    """Capture the pending events of a large document (the job's work). A capture no longer
    running (a retried job whose first run committed) is left as it is."""
    capture = session.get(EpcisCapture, capture_pk, with_for_update=True)
    if capture is None:
        raise NoSuchCapture()
    if capture.status is CaptureStatus.RUNNING and capture.pending is not None:
        capture_events(session, capture, list(capture.pending), artefacts=artefacts, hashes=hashes)
    return capture


def pending_events(session: Session, capture_pk: uuid.UUID) -> list[dict[str, Any]] | None:
    """The events a running capture waits to store (None: nothing left to do). Reads only."""
    capture = session.get(EpcisCapture, capture_pk)
    if capture is None or capture.status is not CaptureStatus.RUNNING or capture.pending is None:
        return None
    return list(capture.pending)


def fail_capture(session: Session, capture_pk: uuid.UUID, *, detail: str) -> EpcisCapture | None:
    """Mark a capture that cannot run (or ran out of attempts) failed, nothing stored, with
    the reason. A capture no longer running is left as it is. Flushes, never commits."""
    capture = session.get(EpcisCapture, capture_pk, with_for_update=True)
    if capture is None or capture.status is not CaptureStatus.RUNNING:
        return capture
    capture.status = CaptureStatus.FAILED
    capture.errors = [
        {
            "type": "epcisException:ImplementationException",
            "title": _("The capture could not run"),
            "detail": detail[:1000],
            "status": 500,
        }
    ]
    capture.pending = None
    capture.finished_at = utcnow()
    session.flush()
    return capture


def capture_events(
    session: Session,
    capture: EpcisCapture,
    events: list[dict[str, Any]],
    *,
    artefacts: standard.Artefacts,
    hashes: list[str] | None = None,
) -> list[EventOutcome]:
    """Store the events of ``capture`` (each with its ``@context`` attached), by its error
    behaviour; finish the capture and answer each event's outcome. ``hashes``: the events'
    hashes computed beforehand (else here). Flushes, never commits."""
    if hashes is None:
        hashes = hashes_of(artefacts, events)
    ids = [str(e.get("eventID") or h) for e, h in zip(events, hashes, strict=True)]
    try:
        with session.begin_nested():
            outcomes = _store(session, capture, events, ids, hashes)
    except IntegrityError:
        # Another capture stored one of these eventIDs between our look-up and our insert: look
        # again (it is committed now), and classify against it.
        with session.begin_nested():
            outcomes = _store(session, capture, events, ids, hashes)
    refused = [o for o in outcomes if o.status == "refused"]
    capture.errors = [{"index": o.index, "eventID": o.event_id, **(o.problem or {})} for o in refused]
    capture.status = CaptureStatus.FAILED if refused else CaptureStatus.SUCCESS
    capture.pending = None
    capture.finished_at = utcnow()
    session.flush()
    return outcomes


def _store(
    session: Session, capture: EpcisCapture, events: list[dict[str, Any]], ids: list[str], hashes: list[str]
) -> list[EventOutcome]:
    known = _stored_hashes(session, capture.org_id, ids)
    outcomes: list[EventOutcome] = []
    rows: list[dict[str, Any]] = []
    facts: list[standard.EventFacts] = []
    now = utcnow()
    for index, (event, event_id, event_hash) in enumerate(zip(events, ids, hashes, strict=True)):
        if event_id in known:
            same = known[event_id] == event_hash
            outcomes.append(
                EventOutcome(index, event_id, "duplicate" if same else "refused", None if same else _reused())
            )
            continue
        known[event_id] = event_hash
        fact = standard.facts_of(event)
        facts.append(fact)
        outcomes.append(EventOutcome(index, event_id, "captured"))
        rows.append(_row(capture, event, event_id, event_hash, fact, now))
    if capture.behaviour == "rollback" and any(o.status == "refused" for o in outcomes):
        return [
            o if o.status == "refused" else EventOutcome(o.index, o.event_id, "rolled_back") for o in outcomes
        ]
    if rows:
        pks = session.scalars(
            sa.insert(EpcisEvent).returning(EpcisEvent.id, sort_by_parameter_order=True), rows
        ).all()
        idents = [
            {"event_pk": pk, "role": IdentifierRole(role), "value": value}
            for pk, fact in zip(pks, facts, strict=True)
            for role, value in fact.identifiers
        ]
        if idents:
            session.execute(sa.insert(EpcisIdentifier), idents)
        captured = iter(pks)
        outcomes = [
            EventOutcome(o.index, o.event_id, o.status, o.problem, next(captured))
            if o.status == "captured"
            else o
            for o in outcomes
        ]
    return outcomes


def _stored_hashes(session: Session, org_id: uuid.UUID, ids: list[str]) -> dict[str, str]:
    """The hashes of the events among ``ids`` that the organisation ``org_id`` stored."""
    found: dict[str, str] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        query = sa.select(EpcisEvent.event_id, EpcisEvent.event_hash).where(
            EpcisEvent.org_id == org_id, EpcisEvent.event_id.in_(chunk)
        )
        found.update({row.event_id: row.event_hash for row in session.execute(query)})
    return found


def _reused() -> dict[str, Any]:
    return {
        "type": "epcisException:ResourceAlreadyExistsException",
        "title": _("EventID already used"),
        "detail": _("An event with this eventID and other content is already stored."),
        "status": 409,
    }


def _row(
    capture: EpcisCapture,
    event: dict[str, Any],
    event_id: str,
    event_hash: str,
    fact: standard.EventFacts,
    now: Any,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_hash": event_hash,
        "org_id": capture.org_id,
        "capture_id": capture.id,
        "event_type": fact.event_type,
        "event_time": fact.event_time,
        "event_time_zone_offset": fact.offset,
        "record_time": now,
        "action": fact.action,
        "biz_step": fact.biz_step,
        "disposition": fact.disposition,
        "read_point": fact.read_point,
        "biz_location": fact.biz_location,
        "body": event,
    }


def single_event_document(event: Any) -> dict[str, Any]:
    """``POST /events``: one event (with its own ``@context``) as a one-event EPCISDocument."""
    if not isinstance(event, dict) or "@context" not in event:
        raise ValidationProblem(_("A single event must carry its @context."), field="/@context")
    body = {k: v for k, v in event.items() if k != "@context"}
    return {
        "@context": event["@context"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": utcnow().isoformat().replace("+00:00", "Z"),
        "epcisBody": {"eventList": [body]},
    }


def get_capture(session: Session, actor: Actor, capture_id: str) -> EpcisCapture:
    """A capture job of the actor's organisation. Raises NoSuchCapture (also for another
    organisation's: its existence is not theirs to learn)."""
    require(actor, Action.CAPTURE_EPCIS)
    capture = session.scalar(sa.select(EpcisCapture).where(EpcisCapture.capture_id == capture_id))
    if capture is None or capture.org_id != actor.org_id:
        raise NoSuchCapture()
    return capture
