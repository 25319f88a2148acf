"""Reading notifications."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from traceapp.notify.models import Notification


def unread_count_of(org_id: Any) -> sa.ScalarSelect[int]:
    """A scalar subquery: how many notifications of ``org_id`` (a column or value) are unread,
    to read beside another row (the page's session look-up) in the same query."""
    return (
        sa.select(sa.func.count())
        .where(Notification.org_id == org_id, Notification.read_at.is_(None))
        .correlate_except(Notification)
        .scalar_subquery()
    )
