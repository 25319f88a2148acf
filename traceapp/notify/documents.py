"""Notifications as the API and the inbox show them."""

from __future__ import annotations

from typing import Any

from traceapp.notify import texts
from traceapp.notify.models import Notification


def notification_document(notification: Notification) -> dict[str, Any]:
    """A notification with its title and text in the current language."""
    return {
        "id": notification.id,
        "kind": notification.kind.value,
        "title": texts.title(notification),
        "text": texts.body(notification),
        "trace_code": notification.trace_code,
        "certificate_id": notification.certificate_id,
        "facts": notification.facts,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
        "read": notification.read_at is not None,
    }
