"""The app's clock: what "now" and "today" are for defaults (a harvest date, an event's time).

Real time unless the ``CLOCK_NOW`` setting names a moment (ISO 8601 with its offset, such as
``2026-12-03T17:30:00Z``): a setting, so a test or a demo can stand at a given moment through
the app's configuration, as with any other setting. Timestamps of records (issued, signed in)
stay with ``db.utcnow``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    fixed = current_app.config.get("CLOCK_NOW") if has_app_context() else None
    if not fixed:
        return datetime.now(UTC)
    moment = fixed if isinstance(fixed, datetime) else datetime.fromisoformat(str(fixed))
    if moment.tzinfo is None:
        raise ValueError("CLOCK_NOW needs an offset, such as 2026-12-03T17:30:00Z")
    return moment.astimezone(UTC)


def now_in(zone: str) -> datetime:
    """The current moment in the time zone ``zone`` (an IANA name)."""
    return now().astimezone(ZoneInfo(zone))


def today_in(zone: str) -> date:
    """Today's date in ``zone``: in Hubei at 07:00 it is already today, not UTC's yesterday."""
    return now_in(zone).date()
