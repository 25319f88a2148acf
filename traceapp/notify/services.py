"""Telling organisations what happened to their batches, and their inbox.

``tell`` is called by the write that causes the notification (a gate rejection, a recall, a
dispute, a short receipt), in its transaction: the notification, a delivery per address and
the jobs that send them are written, or none is. Services flush; they never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from traceapp import jobs
from traceapp.certificates.models import Certificate
from traceapp.db import utcnow
from traceapp.errors import NotFound
from traceapp.notify.models import Channel, Delivery, Notification, NotificationKind
from traceapp.notify.queries import unread_count_of
from traceapp.notify.rules import covers
from traceapp.orgs.models import Organisation, OrgKind, User
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.services import Actor

#: The job that sends one delivery (``traceapp.notify.tasks.deliver``).
DELIVER_TASK = "deliver_notification"


@dataclass(frozen=True)
class Cause:
    """What happened, as every organisation told of it reads it."""

    kind: NotificationKind
    subject_id: str
    certificate: Certificate | None
    facts: dict[str, Any]


def tell(session: Session, org_ids: Iterable[uuid.UUID], cause: Cause) -> list[Notification]:
    """One notification of ``cause`` to each organisation (once: one already told of this
    cause is skipped), with its deliveries queued. Returns the new notifications."""
    wanted = list(dict.fromkeys(org_ids))
    if not wanted:
        return []
    told = set(
        session.scalars(
            sa.select(Notification.org_id).where(
                Notification.org_id.in_(wanted),
                Notification.kind == cause.kind,
                Notification.subject_id == cause.subject_id,
            )
        )
    )
    certificate = cause.certificate
    created = [
        Notification(
            id=uuid.uuid4(),
            org_id=org_id,
            kind=cause.kind,
            subject_id=cause.subject_id,
            certificate_id=certificate.id if certificate else None,
            trace_code=certificate.trace_code if certificate else None,
            facts={"product": certificate.product_name if certificate else "", **cause.facts},
            created_at=utcnow(),
        )
        for org_id in wanted
        if org_id not in told
    ]
    session.add_all(created)
    session.flush()
    _queue_deliveries(session, created)
    return created


def _queue_deliveries(session: Session, notifications: list[Notification]) -> None:
    if not notifications:
        return
    addresses = recipients(session, [n.org_id for n in notifications])
    attempts = int(current_app.config["JOBS_RETRIES"]) + 1
    deliveries = [
        Delivery(
            id=uuid.uuid4(), notification_id=n.id, channel=channel, address=address, max_attempts=attempts
        )
        for n in notifications
        for channel, address in addresses.get(n.org_id, [])
    ]
    session.add_all(deliveries)
    session.flush()
    for delivery in deliveries:
        jobs.enqueue(session, DELIVER_TASK, delivery_id=str(delivery.id))


def recipients(session: Session, org_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[Channel, str]]]:
    """Where each organisation's notifications go: its contact e-mail and its users' e-mail
    addresses, SMS to its phone, its webhook (two queries)."""
    found: dict[uuid.UUID, list[tuple[Channel, str]]] = {}
    for org in session.scalars(sa.select(Organisation).where(Organisation.id.in_(org_ids))):
        rows = found.setdefault(org.id, [])
        if org.email:
            rows.append((Channel.EMAIL, org.email.strip().lower()))
        if org.phone:
            rows.append((Channel.SMS, org.phone.strip()))
        if org.webhook_url:
            rows.append((Channel.WEBHOOK, org.webhook_url))
    users = sa.select(User.org_id, User.email).where(User.org_id.in_(org_ids)).order_by(User.created_at)
    for org_id, email in session.execute(users):
        entry = (Channel.EMAIL, email.strip().lower())
        if entry not in found.setdefault(org_id, []):
            found[org_id].append(entry)
    return found


# -- the causes ---------------------------------------------------------------------------------


def gate_rejected(
    session: Session, *, event_id: uuid.UUID, certificate: Certificate, market_id: uuid.UUID, tests: list[str]
) -> list[Notification]:
    """A gate rejected a batch: tell its issuer, and the regulators whose region holds the
    market or the batch's origin (not the organisation that rejected it)."""
    market = session.get(Organisation, market_id)
    regulators = [
        r.id
        for r in session.scalars(sa.select(Organisation).where(Organisation.kind == OrgKind.REGULATOR))
        if covers(r.region_code, market.region_code if market else None)
        or covers(r.region_code, certificate.origin_region_code)
    ]
    facts = {"market": market.name if market else "", "tests": tests, "event_id": str(event_id)}
    orgs = [o for o in [certificate.org_id, *regulators] if o != market_id]
    return tell(session, orgs, Cause(NotificationKind.REJECTED, str(event_id), certificate, facts))


def received_short(
    session: Session,
    *,
    event_id: uuid.UUID,
    certificate: Certificate,
    shipper_id: uuid.UUID,
    receiver_id: uuid.UUID,
    shipped: str,
    received: str,
) -> list[Notification]:
    """A receiver took in less than was shipped: tell the shipper."""
    receiver = session.get(Organisation, receiver_id)
    facts = {
        "receiver": receiver.name if receiver else "",
        "shipped": shipped,
        "received": received,
        "unit": certificate.unit.value,
        "event_id": str(event_id),
    }
    return tell(session, [shipper_id], Cause(NotificationKind.SHORT, str(event_id), certificate, facts))


def disputed(
    session: Session,
    *,
    dispute_id: uuid.UUID,
    certificate: Certificate | None,
    market_id: uuid.UUID,
    holder_id: uuid.UUID,
    reason: str,
) -> list[Notification]:
    """A holder disputes a gate check: tell the market that recorded it."""
    holder = session.get(Organisation, holder_id)
    facts = {"holder": holder.name if holder else "", "reason": reason, "dispute_id": str(dispute_id)}
    return tell(session, [market_id], Cause(NotificationKind.DISPUTED, str(dispute_id), certificate, facts))


def recalled(
    session: Session, *, recall_id: uuid.UUID, by_id: uuid.UUID, reason: str, batches: list[Certificate]
) -> list[Notification]:
    """A recall holds batches: tell each issuer of one (but the organisation recalling), once
    per recall, naming its first batch and how many of its batches the recall holds."""
    by = session.get(Organisation, by_id)
    mine: dict[uuid.UUID, list[Certificate]] = {}
    for certificate in batches:
        mine.setdefault(certificate.org_id, []).append(certificate)
    told = []
    for org_id, own in mine.items():
        if org_id == by_id:
            continue
        facts = {
            "by": by.name if by else "",
            "reason": reason,
            "batches": len(own),
            "recall_id": str(recall_id),
        }
        told += tell(session, [org_id], Cause(NotificationKind.RECALLED, str(recall_id), own[0], facts))
    return told


# -- the inbox ------------------------------------------------------------------------------------


def list_notifications(
    session: Session, actor: Actor, *, unread: bool | None, page: int, page_size: int
) -> tuple[list[Notification], int]:
    """One page of the actor's organisation's notifications, newest first, and the total."""
    require(actor, Action.READ_NOTIFICATIONS)
    query = sa.select(Notification).where(Notification.org_id == actor.org_id)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return list(rows), total


def unread_count(session: Session, org_id: uuid.UUID) -> int:
    """How many of the organisation's notifications are unread (one query)."""
    return session.scalar(sa.select(unread_count_of(org_id))) or 0


def mark_read(session: Session, actor: Actor, *, notification_id: uuid.UUID) -> Notification:
    """Mark one of the organisation's notifications read (again: keeps the first time).
    Raises NotFound for another organisation's, or an unknown one."""
    require(actor, Action.READ_NOTIFICATIONS)
    notification = session.get(Notification, notification_id)
    if notification is None or notification.org_id != actor.org_id:
        raise NotFound(_("No such notification."))
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.flush()
    return notification


def mark_all_read(session: Session, actor: Actor) -> int:
    """Mark every unread notification of the organisation read; how many were."""
    require(actor, Action.READ_NOTIFICATIONS)
    result = session.execute(
        sa.update(Notification)
        .where(Notification.org_id == actor.org_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
