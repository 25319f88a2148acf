"""Purchase rules as pure functions: what a line must carry, retention, producers of a re-issue."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from traceapp.orgs.members import MIN_RETENTION_MONTHS

#: Reasons a lot may be bought without a certificate: the buyer's own produce (自产), or a
#: reason in its own words (``other`` with a note). Anything else is "无证不收".
EXEMPTIONS = ("own_produce", "other")
#: What each kind of collected certificate needs in its line.
REQUIRED: dict[str, tuple[str, ...]] = {
    "ours": ("code",),
    "foreign": ("code", "url"),
    "paper": ("photo_id", "producer_name", "issue_date", "origin"),
    "none": ("exemption",),
}


def missing_fields(collected: str, line: dict[str, object]) -> list[str]:
    """The fields a line of this kind lacks (empty: complete). ``none`` with ``other`` needs a note."""
    missing = [name for name in REQUIRED[collected] if not line.get(name)]
    if collected == "none" and line.get("exemption") == "other" and not line.get("exemption_note"):
        missing.append("exemption_note")
    return missing


def is_web_url(text: str) -> bool:
    """Whether ``text`` is an absolute http(s) URL with a host (a QR's link, kept as scanned)."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and " " not in text


def purge_cutoff(now: datetime, months: int | None) -> datetime | None:
    """Purchases recorded before this moment are past retention (None: keep everything)."""
    if months is None:
        return None
    return months_before(now, max(months, MIN_RETENTION_MONTHS))


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the 31st falls to the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def producers(names_and_origins: Iterable[tuple[str | None, str | None]]) -> list[tuple[str, str]]:
    """The distinct producers (name, origin) of collected certificates, in first-seen order; a
    producer named twice with one origin counts once."""
    seen: dict[tuple[str, str], None] = {}
    for name, origin in names_and_origins:
        key = ((name or "").strip(), (origin or "").strip())
        if key[0]:
            seen.setdefault(key, None)
    return list(seen)
