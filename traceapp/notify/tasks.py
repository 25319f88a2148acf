"""The jobs of notifications: send one delivery; the sweep's pass over lost ones."""

from __future__ import annotations

import functools
import logging
import time
import traceback
import uuid
from dataclasses import replace
from datetime import timedelta

from flask import current_app

from traceapp import jobs, sealed
from traceapp.db import transaction
from traceapp.notify import delivery, senders
from traceapp.notify.models import DeliveryStatus
from traceapp.notify.services import DELIVER_TASK

log = logging.getLogger(__name__)


def sender(channel: str) -> senders.Sender:
    """The configured sender of a channel (``NOTIFY_EMAIL_URL``, ``NOTIFY_SMS_URL``)."""
    if channel == "webhook":
        return functools.partial(
            senders.send_webhook, allow_private=bool(current_app.config["NOTIFY_WEBHOOK_ALLOW_PRIVATE"])
        )
    setting = {"email": "NOTIFY_EMAIL_URL", "sms": "NOTIFY_SMS_URL"}[channel]
    return senders.sender_for(str(current_app.config[setting] or ""), channel)


def deliver(delivery_id: str) -> str:
    """Claim the delivery, send it, mark it sent. A failure is recorded and raised again, so
    Huey retries it after its backoff while attempts remain; a delivery sent, failed for good
    or held by another run is left alone."""
    with transaction() as session:
        message = delivery.claim(session, uuid.UUID(delivery_id), lease=jobs.lease())
    if message is None:
        return "skipped"
    try:
        if message.secret:  # stored sealed (``traceapp.sealed``): opened only to sign
            message = replace(
                message, secret=sealed.unseal(sealed.app_keys(current_app.config), message.secret)
            )
        sender(message.channel)(message)
    except Exception as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()
        with transaction() as session:
            status = delivery.mark_failed(session, uuid.UUID(delivery_id), error=error)
        if status is DeliveryStatus.QUEUED:
            raise
        log.warning("notification delivery %s failed for good: %s", delivery_id, error)
        return "failed"
    with transaction() as session:
        delivery.mark_sent(session, uuid.UUID(delivery_id))
    return "sent"


def requeue_lost(budget: float) -> int:
    """The sweep's part: hand off again the deliveries whose message seems lost."""
    started = time.monotonic()
    grace = timedelta(seconds=float(current_app.config["JOBS_GRACE_SECONDS"]))
    with transaction() as session:
        ids = delivery.lost(session, grace=grace, lease=jobs.lease())
        for delivery_id in ids:
            jobs.enqueue(session, DELIVER_TASK, delivery_id=str(delivery_id))
    if time.monotonic() - started > budget:
        log.warning("the notification sweep took longer than its budget")
    return len(ids)
