"""Many events in one request (``POST /api/v1/events/batch``), each judged as it would be alone.

Each event is read with ``EventIn`` and recorded by ``record_event`` in a savepoint of its own:
the same rules, the same answer (201, a 200 replay, or the problem it would have had alone), and
a refused event leaves no trace and blocks nothing after it. Later events see what earlier ones
did (ship, then receive; a second shipment finds the holding the first one took).

The events go in chunks of ``CHUNK`` events, one transaction each: a chunk's commit makes its
events durable, so a batch retried after a crash replays what was committed (200) and records the
rest. A database that is busy or gone answers the whole request (503), as any write does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from traceapp.codes import normalize_trace_code
from traceapp.errors import DomainError, domain_problem, validation_problem
from traceapp.events.models import Event
from traceapp.events.recording import NAMED_ORGS, EventSettings, Lookups
from traceapp.events.schemas import EventIn
from traceapp.events.services import record
from traceapp.orgs.services import Actor

#: Events per transaction: large enough to share its fixed costs (BEGIN, COMMIT, the page bump),
#: small enough that a crash loses little work and locks are not held long.
CHUNK = 250


@dataclass(frozen=True)
class Outcome:
    """What became of one event of a batch: its HTTP status alone, and its id or its problem."""

    index: int
    event_id: Any
    status: int
    id: Any = None
    problem: dict[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.index, "event_id": self.event_id, "status": self.status}
        if self.id is not None:
            body["id"] = self.id
        if self.problem is not None:
            body["problem"] = self.problem
        return body


def record_batch(
    transaction: Callable[[], AbstractContextManager[Session]],
    actor: Actor,
    *,
    events: list[Any],
    settings: EventSettings,
) -> list[Outcome]:
    """Record ``events`` (raw bodies, as ``POST /api/v1/events`` takes them) in chunks, one
    ``transaction()`` each; return one outcome per event, in the order sent.

    Raises nothing for a refused event (its outcome carries the problem); database errors
    propagate (the whole request fails, the chunks committed before stay).
    """
    outcomes: list[Outcome] = []
    for start, chunk in _chunks(events):
        with transaction() as session:
            outcomes.extend(record_chunk(session, actor, chunk, start=start, settings=settings))
    return outcomes


def _chunks(events: list[Any]) -> Iterator[tuple[int, list[Any]]]:
    for start in range(0, len(events), CHUNK):
        yield start, events[start : start + CHUNK]


def record_chunk(
    session: Session, actor: Actor, raws: list[Any], *, start: int, settings: EventSettings
) -> list[Outcome]:
    """Read every event of a chunk, look up at once what their rules read first (their
    certificates, the organisations they name, the event ids already stored), then record
    each in order through ``record`` (its own savepoint, the same rules)."""
    schema = EventIn()  # one for the chunk: building one copies every declared field
    read = [_read(schema, raw) for raw in raws]
    bodies = [data for data in read if isinstance(data, dict)]
    lookups = Lookups.read(session, actor, _codes(bodies), _orgs(bodies))
    stored = _stored(session, actor, {data["event_id"] for data in bodies})
    outcomes = []
    for offset, (raw, data) in enumerate(zip(raws, read, strict=True)):
        given, index = _given_id(raw), start + offset
        if isinstance(data, ValidationError):
            outcomes.append(Outcome(index, given, 422, problem=validation_problem(data.messages)))
            continue
        known = stored.get(data["event_id"])
        try:
            done = record(session, actor, data=data, settings=settings, lookups=lookups, stored=known)
        except DomainError as exc:
            outcomes.append(Outcome(index, given, exc.status, problem=domain_problem(exc)))
            continue
        outcomes.append(Outcome(index, given, 201 if done.created else 200, id=str(done.event.id)))
    return outcomes


def _read(schema: EventIn, raw: Any) -> dict[str, Any] | ValidationError:
    try:
        return schema.load(raw)
    except ValidationError as exc:
        return exc


def _codes(bodies: list[dict[str, Any]]) -> set[str]:
    """The trace codes the events name (normalised), their inputs' included."""
    given = [data.get("trace_code") for data in bodies]
    given += [i.get("trace_code") for data in bodies for i in data.get("inputs") or []]
    return {code for code in map(normalize_trace_code, filter(None, given)) if code is not None}


def _orgs(bodies: list[dict[str, Any]]) -> set[Any]:
    return {data[key] for data in bodies for key in NAMED_ORGS if data.get(key) is not None}


def _stored(session: Session, actor: Actor, event_ids: set[Any]) -> dict[Any, Event]:
    """The events the organisation already stored with these event ids (one statement)."""
    if not event_ids:
        return {}
    found = session.scalars(_STORED, {"org": actor.org_id, "ids": list(event_ids)})
    return {event.client_event_id: event for event in found}


_STORED = sa.select(Event).where(
    Event.org_id == sa.bindparam("org"), Event.client_event_id.in_(sa.bindparam("ids", expanding=True))
)


def _given_id(raw: Any) -> Any:
    """The client's event id as sent (echoed even when the body is refused), if a string."""
    given = raw.get("event_id") if isinstance(raw, dict) else None
    return given if isinstance(given, str) else None


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    """How many events were created, replayed and refused."""
    created = sum(1 for o in outcomes if o.status == 201)
    replayed = sum(1 for o in outcomes if o.status == 200)
    return {"created": created, "replayed": replayed, "refused": len(outcomes) - created - replayed}
