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

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from traceapp.errors import DomainError, domain_problem, validation_problem
from traceapp.events.recording import EventSettings
from traceapp.events.schemas import EventIn
from traceapp.events.services import record_event
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
            outcomes.extend(
                record_one(session, actor, raw, index=start + offset, settings=settings)
                for offset, raw in enumerate(chunk)
            )
    return outcomes


def _chunks(events: list[Any]) -> Iterator[tuple[int, list[Any]]]:
    for start in range(0, len(events), CHUNK):
        yield start, events[start : start + CHUNK]


def record_one(session: Session, actor: Actor, raw: Any, *, index: int, settings: EventSettings) -> Outcome:
    """Read and record one event of a batch; a refusal becomes its outcome."""
    given = _given_id(raw)
    try:
        data = EventIn().load(raw)
    except ValidationError as exc:
        return Outcome(index, given, 422, problem=validation_problem(exc.messages))
    try:
        event, created = record_event(session, actor, data=data, settings=settings)
    except DomainError as exc:
        return Outcome(index, given, exc.status, problem=domain_problem(exc))
    return Outcome(index, given, 201 if created else 200, id=str(event.id))


def _given_id(raw: Any) -> Any:
    """The client's event id as sent (echoed even when the body is refused), if a string."""
    given = raw.get("event_id") if isinstance(raw, dict) else None
    return given if isinstance(given, str) else None


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    """How many events were created, replayed and refused."""
    created = sum(1 for o in outcomes if o.status == 201)
    replayed = sum(1 for o in outcomes if o.status == 200)
    return {"created": created, "replayed": replayed, "refused": len(outcomes) - created - replayed}
