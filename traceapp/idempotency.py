"""Idempotent writes (STYLE rule 7): a client-chosen event id, a fingerprint of the body, and
one insert in a savepoint.

The same id with the same body gives back the stored row; another body is a 409. Two ways:

- ``record_once`` (events): the write runs first, in a savepoint, and the unique constraint
  (organisation, client event id) tells a repeat. No read comes before it, so a new event costs
  no look-up. A repeat is told in one of two ways, both ending in ``stored()``: its INSERT fails
  on the unique index (on PostgreSQL it waits there for a racing original to commit or roll
  back), or its rules refuse it first (the original took the holding, received the shipment,
  or the batch was revoked since). A racing retry that finds the holding gone waits on the
  holding's row lock for the original to commit, so its ``stored()`` reads the original: it
  answers as a replay, not with a 409 the client would take for a rejection. On SQLite every
  write transaction holds the write lock from its start, so the original has committed before
  the retry begins.
- ``insert_once`` (certificates, hand-over codes, disputes): ``stored()`` looks first, waiting
  on PostgreSQL on a transaction-level advisory lock on (organisation, event id) for any other
  transaction writing that id; the unique constraint stays the last guard.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from traceapp.errors import Conflict, DomainError

T = TypeVar("T")


def request_digest(data: dict[str, Any]) -> str:
    """A stable fingerprint of a validated request body, to tell a replay from a reuse."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=_plain).encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (date, uuid.UUID)):  # datetimes included: offsets are kept
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def stored(
    session: Session,
    model: Any,
    *,
    org_id: uuid.UUID,
    event_id: uuid.UUID | None,
    digest: str,
    wait: bool = True,
) -> Any | None:
    """The row an organisation already wrote with this event id, if any.

    With ``wait``, first waits for any other transaction writing this event id to end (see the
    module's docstring). Raises Conflict when it was written from a different body.
    """
    if event_id is None:
        return None
    if wait:
        _wait_for_writers_of(session, org_id, event_id)
    row = session.scalar(sa.select(model).where(model.org_id == org_id, model.client_event_id == event_id))
    if row is not None and row.request_digest != digest:
        raise Conflict(_("This event_id was already used with a different body."))
    return row


def _wait_for_writers_of(session: Session, org_id: uuid.UUID, event_id: uuid.UUID) -> None:
    # Held until this transaction ends; taking it again in the same one returns at once.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key(org_id, event_id))))


def _lock_key(org_id: uuid.UUID, event_id: uuid.UUID) -> int:
    """A signed 64-bit advisory lock key for (organisation, event id); a collision only makes
    two unrelated writes wait for each other."""
    digest = hashlib.sha256(b"traceapp.idempotency" + org_id.bytes + event_id.bytes).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def insert_once(session: Session, create: Callable[[], T], replay: Callable[[], T | None]) -> tuple[T, bool]:
    """Run ``create`` in a savepoint unless ``replay`` finds the row; return it and whether it is new."""
    found = replay()
    if found is not None:
        return found, False
    try:
        with session.begin_nested():
            return create(), True
    except IntegrityError:
        # The same event id committed by a concurrent request won the race.
        found = replay()
        if found is None:
            raise
        return found, False


def record_once(session: Session, create: Callable[[], T], replay: Callable[[], T | None]) -> tuple[T, bool]:
    """Run ``create`` in a savepoint; if the unique constraint or the rules refuse it, ``replay``
    decides: the stored row (a repeat, not new), a Conflict (the id reused with another body),
    or, when nothing is stored, the refusal itself. Returns the row and whether it is new."""
    try:
        with session.begin_nested():
            return create(), True
    except (IntegrityError, DomainError):
        found = replay()
        if found is None:
            raise
        return found, False
