"""Corrections: events are never edited; a new event declares an earlier one erroneous.

Declaring an event erroneous undoes what it did to holdings, as long as that is still possible
(the goods have not moved on since). A correction of the same kind then records the right
facts in the same transaction; a ``voiding`` event only declares the error.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from traceapp.errors import Conflict, InvalidInput
from traceapp.events.models import Event, EventItem, EventKind, HoldingChange
from traceapp.events.recording import Recording

IRREVERSIBLE = frozenset({EventKind.TRANSFORMING, EventKind.PORTIONING})


def apply_correction(rec: Recording) -> None:
    """Declare the event in ``corrects`` erroneous and undo its holding changes.

    Raises InvalidInput (no such event of the actor's; a different kind) and Conflict (already
    corrected; processing, whose outputs must be revoked instead; goods moved on since).
    """
    target = _target(rec)
    kind = rec.data["kind"]
    if kind is not EventKind.VOIDING and kind is not target.kind:
        raise InvalidInput("/kind", _("A correction must be of the same kind as the event it corrects."))
    declare_erroneous(rec, target, rec.data["corrects"]["reason"])


def declare_erroneous(rec: Recording, target: Event, reason: str) -> None:
    """Make ``rec`` the correction of ``target`` and undo its holding changes (its recorder's
    own correction, or a regulator's upholding a dispute). Raises Conflict (processing; goods
    moved on since)."""
    if target.kind in IRREVERSIBLE:
        raise Conflict(_("Processing cannot be undone: revoke the certificates it produced."))
    _reverse(rec, target)
    rec.event.corrects_id = target.id
    rec.event.correction_reason = reason


def _target(rec: Recording) -> Event:
    wanted = rec.data["corrects"]["event_id"]
    target = rec.session.scalar(
        sa.select(Event).where(
            Event.org_id == rec.actor.org_id, sa.or_(Event.client_event_id == wanted, Event.id == wanted)
        )
    )
    if target is None:
        raise InvalidInput("/corrects/event_id", _("No event of your organisation has this id."))
    if rec.session.scalar(sa.select(Event.id).where(Event.corrects_id == target.id)) is not None:
        raise Conflict(_("This event has already been corrected."))
    return target


def _reverse(rec: Recording, target: Event) -> None:
    changes = rec.session.scalars(
        sa.select(HoldingChange)
        .where(HoldingChange.event_id == target.id)
        .order_by(HoldingChange.position.desc())
    ).all()
    try:
        for change in changes:
            if change.delta > 0:
                rec.ledger.take(change.certificate_id, change.org_id, change.delta, change.state)
            else:
                rec.ledger.give(change.certificate_id, change.org_id, -change.delta, change.state)
    except Conflict as exc:
        raise Conflict(
            _("The goods have moved on since this event; correct the later events first.")
        ) from exc
    if rec.data["kind"] is EventKind.VOIDING:
        copy_items(rec, target)


def copy_items(rec: Recording, target: Event) -> None:
    for item in rec.session.scalars(sa.select(EventItem).where(EventItem.event_id == target.id)):
        rec.items.append(
            EventItem(
                position=len(rec.items),
                certificate_id=item.certificate_id,
                role=item.role,
                quantity=None,
                unit=None,
            )
        )


def void(_rec: Recording) -> None:
    """A voiding event does nothing beyond the correction already applied."""
