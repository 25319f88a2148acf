"""App-wide Jinja filters, registered on the app in create_app (not on one blueprint)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from flask_babel import get_locale

from traceapp.certificates.models import Unit
from traceapp.certificates.texts import quantity_text
from traceapp.codes import format_trace_code


def quantity_filter(value: Any, unit: Any) -> str:
    """``{{ c.quantity|quantity(c.unit) }}`` → ``500 kg`` / ``500 千克``; the unit may be given by
    its value (``"kg"``), as documents carry it, and the quantity as its decimal text."""
    return quantity_text(Decimal(value), unit if isinstance(unit, Unit) else Unit(unit))


def trace_code_filter(code: str) -> str:
    """``{{ code|trace_code }}`` → ``XXXX-XXXX-XXXX-XX``."""
    return format_trace_code(code)


def signed_in_may(*actions: str) -> bool:
    """``{% if may("see_audit_log") %}``: whether the signed-in user may do any of ``actions``
    (names of ``Action``), so a page offers only links that will not answer 403."""
    from traceapp.auth import page_actor, page_user
    from traceapp.orgs.permissions import Action, allows

    if page_user() is None:
        return False
    actor = page_actor()
    return any(allows(actor, Action(name)) for name in actions)


def unread_notifications() -> int:
    """``{{ unread_notifications() }}``: the signed-in organisation's unread notifications, for
    the badge in the navigation (read with the page's session: no query of its own)."""
    from traceapp.auth import page_unread_count

    return page_unread_count()


def _chinese() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def labelled(text: str) -> str:
    """``{{ _("Trace code")|labelled }}`` → ``追溯码：`` in Chinese (full-width, no space),
    ``Trace code: `` in English."""
    return f"{text}：" if _chinese() else f"{text}: "


def list_separator() -> str:
    """Between the items of a list in running text: ``、`` in Chinese, ``, `` in English."""
    return "、" if _chinese() else ", "


def init_app(app: Flask) -> None:
    """Register the filters and the helpers every template may use."""
    app.jinja_env.globals["may"] = signed_in_may
    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.add_template_filter(quantity_filter, "quantity")
    app.add_template_filter(trace_code_filter, "trace_code")
    app.add_template_filter(labelled, "labelled")
    app.jinja_env.globals["list_separator"] = list_separator
