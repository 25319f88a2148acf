"""A delivery's life: claimed by one run, sent, marked sent; or failed, queued again while
attempts remain. The claim is a conditional UPDATE, so of two runs of one delivery's job (a
message handed off twice, a retry racing the sweep) only one sends it, and none once sent."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from traceapp.db import utcnow
from traceapp.notify import texts
from traceapp.notify.models import Channel, Delivery, DeliveryStatus, Notification
from traceapp.notify.senders import Message
from traceapp.orgs.models import Organisation


def claim(session: Session, delivery_id: uuid.UUID, *, lease: timedelta) -> Message | None:
    """Take the delivery for this run (``sending``, one more attempt) and return what to send;
    None when it is sent, failed for good, or another run holds it (its lease not run out)."""
    now = utcnow()
    claimable = sa.or_(
        Delivery.status == DeliveryStatus.QUEUED,
        sa.and_(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < now - lease),
    )
    result = session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, claimable, Delivery.attempts < Delivery.max_attempts)
        .values(status=DeliveryStatus.SENDING, attempts=Delivery.attempts + 1, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    delivery = session.scalars(
        sa.select(Delivery)
        .where(Delivery.id == delivery_id)
        .options(joinedload(Delivery.notification))
        .execution_options(populate_existing=True)
    ).one()
    return message_of(session, delivery)


def message_of(session: Session, delivery: Delivery) -> Message:
    """The message a delivery sends: both languages; for a webhook, the JSON document."""
    notification = delivery.notification
    subject, text = texts.both_languages(notification)
    secret = None
    if delivery.channel is Channel.WEBHOOK:
        org = session.get(Organisation, notification.org_id)
        secret = org.webhook_secret if org else None
    return Message(
        delivery_id=str(delivery.id),
        channel=delivery.channel.value,
        to=delivery.address,
        subject=subject,
        text=text,
        body=webhook_body(notification, delivery, subject, text),
        secret=secret,
    )


def webhook_body(notification: Notification, delivery: Delivery, subject: str, text: str) -> dict:
    """The webhook's JSON (also the source of the SMS template's parameters)."""
    return {
        "delivery_id": str(delivery.id),
        "notification_id": str(notification.id),
        "org_id": str(notification.org_id),
        "kind": notification.kind.value,
        "trace_code": notification.trace_code,
        "certificate_id": str(notification.certificate_id) if notification.certificate_id else None,
        "facts": notification.facts,
        "created_at": notification.created_at.isoformat(),
        "subject": subject,
        "text": text,
        "sms_params": [subject.split(" / ")[0][:20], notification.trace_code or ""],
    }


def mark_sent(session: Session, delivery_id: uuid.UUID) -> bool:
    """Record that the claimed delivery left; False if the claim was lost meanwhile."""
    result = session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.SENT, sent_at=utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def mark_failed(session: Session, delivery_id: uuid.UUID, *, error: str) -> DeliveryStatus | None:
    """Record a failed attempt: queued again while attempts remain, else failed for good.
    Returns the new status (None if the claim was lost meanwhile)."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True, populate_existing=True)
    if delivery is None or delivery.status is not DeliveryStatus.SENDING:
        return None
    spent = delivery.attempts >= delivery.max_attempts
    delivery.status = DeliveryStatus.FAILED if spent else DeliveryStatus.QUEUED
    delivery.last_error = error[:2000]
    session.flush()
    return delivery.status


def lost(session: Session, *, grace: timedelta, lease: timedelta, limit: int = 500) -> list[uuid.UUID]:
    """Deliveries whose message seems lost: queued for longer than ``grace`` since their last
    claim (or creation), or held by a run whose lease ran out."""
    now = utcnow()
    stale_queued = sa.and_(
        Delivery.status == DeliveryStatus.QUEUED,
        sa.func.coalesce(Delivery.claimed_at, Delivery.created_at) < now - grace,
    )
    stale_sending = sa.and_(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < now - lease)
    query = (
        sa.select(Delivery.id)
        .where(sa.or_(stale_queued, stale_sending), Delivery.attempts < Delivery.max_attempts)
        .order_by(Delivery.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))
