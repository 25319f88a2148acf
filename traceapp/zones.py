"""Each organisation's time zone (``organisations.timezone``, Asia/Shanghai unless it says
otherwise) and which one a page's dates are in.

Flask-Babel's ``format_datetime``/``format_date`` (the ``datetimeformat`` filter) and
``to_user_timezone`` ask ``select_zone``: the zone set by ``in_zone`` (the issuing
organisation's on the public page and on labels), else the signed-in user's organisation's,
else ``BABEL_DEFAULT_TIMEZONE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh

from traceapp import clock
from traceapp.errors import InvalidInput

#: The zones the settings page offers first (any other IANA name may be typed).
COMMON_ZONES = (
    ("Asia/Shanghai", _l("China (Beijing time)")),
    ("Asia/Urumqi", _l("Xinjiang time")),
    ("Asia/Hong_Kong", _l("Hong Kong")),
    ("Asia/Taipei", _l("Taipei")),
    ("Asia/Tokyo", _l("Tokyo")),
    ("Asia/Singapore", _l("Singapore")),
    ("Europe/Berlin", _l("Berlin")),
    ("Europe/London", _l("London")),
    ("America/New_York", _l("New York")),
    ("UTC", _l("UTC")),
)
_OVERRIDE = "traceapp_zone"


def valid_zone(name: str, field: str = "timezone") -> str:
    """The IANA zone name as given (trimmed), or InvalidInput naming ``field``."""
    name = (name or "").strip()
    try:
        if not name or name not in _known():
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(field, _("Not a known time zone, such as Asia/Shanghai.")) from exc
    return name


def _known() -> set[str]:
    if not hasattr(_known, "names"):
        _known.names = available_timezones()  # type: ignore[attr-defined]
    return _known.names  # type: ignore[attr-defined]


def default_zone() -> str:
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def page_zone() -> str:
    """The zone of this request's dates: ``in_zone``'s, else the signed-in user's organisation's,
    else the default."""
    override = g.get(_OVERRIDE)
    if override:
        return str(override)
    if has_request_context():
        from traceapp.auth import page_user  # auth imports the services that import this

        user = page_user()
        if user is not None and user.org.timezone:
            return user.org.timezone
    return default_zone()


def org_zone(session: Any, org_id: Any) -> str:
    """The time zone of the organisation with this id (the default when it has none)."""
    from traceapp.orgs.models import Organisation  # the models import this module's default

    zone = session.scalar(sa.select(Organisation.timezone).where(Organisation.id == org_id))
    return zone or default_zone()


def select_zone() -> str:
    """Flask-Babel's timezone selector."""
    return page_zone()


def today() -> date:
    """Today in this request's zone (the signed-in user's organisation's)."""
    return clock.today_in(page_zone())


@contextmanager
def in_zone(zone: str | None) -> Iterator[None]:
    """Format dates in ``zone`` inside the block (the issuing organisation's, for a page or a
    label about its certificate); None keeps the request's."""
    if not zone:
        yield
        return
    before = g.get(_OVERRIDE)
    setattr(g, _OVERRIDE, zone)
    refresh()
    try:
        yield
    finally:
        setattr(g, _OVERRIDE, before)
        refresh()
