"""Reading a batch's journey as EPCIS: the events domain reads, ``documents`` writes the JSON-LD."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from traceapp.certificates.models import Certificate
from traceapp.db import utcnow
from traceapp.epcis import documents as epcis
from traceapp.epcis import standard
from traceapp.epcis.errors import NoSuchEvent
from traceapp.epcis.models import EpcisCapture, EpcisEvent, EpcisIdentifier, IdentifierRole
from traceapp.epcis.params import MATCHES, EventQuery
from traceapp.events.documents import public_details
from traceapp.events.queries import journey, sees_everything
from traceapp.inputs import unstorable
from traceapp.orgs.permissions import Action, allows, require
from traceapp.orgs.services import Actor


def epcis_journey(
    session: Session, certificate: Certificate, *, base_url: str, actor: Any = None
) -> dict[str, Any]:
    """The journey of a batch as an EPCIS 2.0 EPCISDocument (issue, then every event).

    For an ``actor`` that never handled the batch (and is no regulator), the events carry only
    the details the public page shows (no people at the gate, testers, notes or custody).
    """
    trip = journey(session, certificate, holdings=False)
    full = actor is None or sees_everything(session, actor, trip)
    ids = {i.certificate_id for group in trip.items.values() for i in group}
    batches = {c.id: c for c in session.scalars(sa.select(Certificate).where(Certificate.id.in_(ids)))}
    views = [epcis.commissioning_view(certificate)] if certificate.kind.value == "certificate" else []
    views += [
        epcis.EventView.of(
            e,
            items=[epcis.ItemView.of(i, batches[i.certificate_id]) for i in trip.items.get(e.id, [])],
            readings=trip.readings.get(e.id, []),
        )
        for e in trip.events
    ]
    if not full:
        views = [replace(v, details=public_details(dict(v.details))) for v in views]
    return epcis.epcis_document(views, base_url=base_url, created_at=utcnow())


# -- the EPCIS repository (/epcis) -------------------------------------------------------------


def _visible(actor: Actor) -> Any:
    """Which captured events the actor sees: its organisation's, a regulator's every one."""
    if allows(actor, Action.SEE_ALL_EPCIS):
        return sa.true()
    return EpcisEvent.org_id == actor.org_id


def find_events(session: Session, actor: Actor, query: EventQuery) -> tuple[list[EpcisEvent], bool]:
    """One page of the events the actor sees that match ``query``, and whether more follow.
    Raises PermissionDenied."""
    require(actor, Action.QUERY_EPCIS)
    order = getattr(EpcisEvent, query.order_by)
    statement = sa.select(EpcisEvent).where(_visible(actor), *_filters(query))
    if query.after is not None:
        value, pk = standard.parse_time(query.after[0]), query.after[1]
        if query.descending:
            beyond = sa.or_(order < value, sa.and_(order == value, EpcisEvent.id < pk))
        else:
            beyond = sa.or_(order > value, sa.and_(order == value, EpcisEvent.id > pk))
        statement = statement.where(beyond)
    direction = sa.desc if query.descending else sa.asc
    statement = statement.order_by(direction(order), direction(EpcisEvent.id)).limit(query.per_page + 1)
    rows = list(session.scalars(statement))
    return rows[: query.per_page], len(rows) > query.per_page


def _filters(query: EventQuery) -> list[Any]:
    out: list[Any] = []
    for values, column in (
        (query.event_types, EpcisEvent.event_type),
        (query.actions, EpcisEvent.action),
        (query.biz_steps, EpcisEvent.biz_step),
        (query.dispositions, EpcisEvent.disposition),
        (query.read_points, EpcisEvent.read_point),
        (query.biz_locations, EpcisEvent.biz_location),
        (query.event_ids, EpcisEvent.event_id),
    ):
        if values:
            out.append(column.in_(values))
    for bound, column, above in (
        (query.ge_event_time, EpcisEvent.event_time, True),
        (query.lt_event_time, EpcisEvent.event_time, False),
        (query.ge_record_time, EpcisEvent.record_time, True),
        (query.lt_record_time, EpcisEvent.record_time, False),
    ):
        if bound is not None:
            out.append(column >= bound if above else column < bound)
    for name, values in query.matches:
        out.append(_match(MATCHES[name], values))
    return out


def _match(roles: tuple[str, ...], values: tuple[str, ...]) -> Any:
    """EXISTS an identifier of the event in ``roles`` equal to one of ``values`` (an EPC
    pattern, ``urn:epc:idpat:…`` with ``*``, matches the EPCs it covers)."""
    exact = [v for v in values if not v.startswith("urn:epc:idpat:")]
    patterns = [_like(v) for v in values if v.startswith("urn:epc:idpat:")]
    value = EpcisIdentifier.value
    alternatives = ([value.in_(exact)] if exact else []) + [value.like(p, escape="\\") for p in patterns]
    return sa.exists().where(
        EpcisIdentifier.event_pk == EpcisEvent.id,
        EpcisIdentifier.role.in_([IdentifierRole(r) for r in roles]),
        sa.or_(*alternatives),
    )


def _like(pattern: str) -> str:
    body = pattern.replace("urn:epc:idpat:", "urn:epc:id:", 1)
    body = body.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return body.replace("*", "%")


#: A regulator reading an eventID gets at most this many organisations' copies of it.
EVENT_COPIES_LIMIT = 100


def get_event(session: Session, actor: Actor, event_id: str) -> list[EpcisEvent]:
    """The captured events of this eventID (or, for one sent without, its hash) the actor
    sees: one (its organisation's), or for a regulator each capturing organisation's copy,
    oldest first. Raises PermissionDenied, NoSuchEvent."""
    require(actor, Action.QUERY_EPCIS)
    if unstorable(event_id):  # no event has one (PostgreSQL refuses a NUL even to compare)
        raise NoSuchEvent()
    events = list(
        session.scalars(
            sa.select(EpcisEvent)
            .where(EpcisEvent.event_id == event_id, _visible(actor))
            .order_by(EpcisEvent.id)
            .limit(EVENT_COPIES_LIMIT)
        )
    )
    if not events:
        raise NoSuchEvent()
    return events


#: The dimension lists answer at most this many values.
DIMENSION_LIMIT = 1000
DIMENSIONS = {
    "bizSteps": EpcisEvent.biz_step,
    "dispositions": EpcisEvent.disposition,
    "readPoints": EpcisEvent.read_point,
    "bizLocations": EpcisEvent.biz_location,
}


def dimension_values(session: Session, actor: Actor, dimension: str) -> list[str]:
    """The distinct values of a dimension (bizSteps, …, epcs) among the events the actor sees."""
    require(actor, Action.QUERY_EPCIS)
    if dimension == "epcs":
        statement = (
            sa.select(EpcisIdentifier.value)
            .join(EpcisEvent, EpcisEvent.id == EpcisIdentifier.event_pk)
            .where(
                _visible(actor),
                EpcisIdentifier.role.in_([IdentifierRole(r) for r in MATCHES["MATCH_anyEPC"]]),
            )
            .distinct()
            .order_by(EpcisIdentifier.value)
        )
    else:
        column = DIMENSIONS[dimension]
        statement = sa.select(column).where(_visible(actor), column.is_not(None)).distinct().order_by(column)
    return [v for v in session.scalars(statement.limit(DIMENSION_LIMIT))]


def list_captures(session: Session, actor: Actor, *, limit: int) -> list[EpcisCapture]:
    """The actor's organisation's latest capture jobs, newest first."""
    require(actor, Action.CAPTURE_EPCIS)
    statement = (
        sa.select(EpcisCapture)
        .where(EpcisCapture.org_id == actor.org_id)
        .order_by(EpcisCapture.created_at.desc(), EpcisCapture.id)
        .limit(limit)
    )
    return list(session.scalars(statement))
