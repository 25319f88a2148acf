"""A notification's words, rendered at read time in the reader's language from its facts."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _

from traceapp.certificates.models import Unit
from traceapp.certificates.texts import quantity_text
from traceapp.codes import format_trace_code
from traceapp.notify.models import Notification, NotificationKind


def title(notification: Notification) -> str:
    """One line: what happened, to which product."""
    product = notification.facts.get("product", "")
    titles = {
        NotificationKind.REJECTED: _("Rejected at a market gate: %(product)s", product=product),
        NotificationKind.RECALLED: _("Recalled: %(product)s", product=product),
        NotificationKind.DISPUTED: _("Gate check disputed: %(product)s", product=product),
        NotificationKind.SHORT: _("Received short: %(product)s", product=product),
    }
    return titles[notification.kind]


def body(notification: Notification) -> str:
    """A sentence or two: who, what, why."""
    facts = notification.facts
    code = format_trace_code(notification.trace_code) if notification.trace_code else ""
    kind = notification.kind
    if kind is NotificationKind.REJECTED:
        text = _("%(market)s rejected batch %(code)s at its gate.", market=facts.get("market", ""), code=code)
        if facts.get("tests"):
            text += _separator() + _("Positive tests: %(tests)s.", tests=_listed(facts["tests"]))
        return text
    if kind is NotificationKind.RECALLED:
        text = _("%(by)s recalled batch %(code)s.", by=facts.get("by", ""), code=code)
        more = int(facts.get("batches", 1)) - 1
        if more > 0:
            text += _separator() + ngettext(
                "It also holds %(num)d other batch of yours.",
                "It also holds %(num)d other batches of yours.",
                more,
            )
        return text + _separator() + _("Reason: %(reason)s", reason=facts.get("reason", ""))
    if kind is NotificationKind.DISPUTED:
        return _(
            "%(holder)s disputes your gate check of batch %(code)s. Reason: %(reason)s",
            holder=facts.get("holder", ""),
            code=code,
            reason=facts.get("reason", ""),
        )
    unit = Unit(facts["unit"]) if facts.get("unit") else Unit.KG
    return _(
        "%(receiver)s received %(received)s of the %(shipped)s you shipped of batch %(code)s.",
        receiver=facts.get("receiver", ""),
        received=quantity_text(Decimal(facts.get("received", "0")), unit),
        shipped=quantity_text(Decimal(facts.get("shipped", "0")), unit),
        code=code,
    )


def _chinese() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def _separator() -> str:
    """Between sentences: none after a full-width stop, a space in English."""
    return "" if _chinese() else " "


def _listed(items: list[str]) -> str:
    return ("、" if _chinese() else ", ").join(items)


def both_languages(notification: Notification) -> tuple[str, str]:
    """Subject and text for a message sent out of any request (e-mail, SMS): Chinese first,
    then English, since the recipient's language is not known."""
    parts = []
    for locale in ("zh_CN", "en"):
        with force_locale(locale):
            parts.append((title(notification), body(notification)))
    (zh_title, zh_body), (en_title, en_body) = parts
    return f"{zh_title} / {en_title}", f"{zh_title}\n{zh_body}\n\n{en_title}\n{en_body}\n"
