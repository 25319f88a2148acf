"""Languages: Flask-Babel set-up and the locale choice (?lang → cookie → Accept-Language)."""

from __future__ import annotations

import os
from functools import cache, lru_cache
from typing import Any

from babel import Locale
from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

babel = Babel()

#: What ``?lang=`` and the ``lang`` cookie accept, mapped to catalogue names.
LANG_ALIASES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "en": "en"}
LANG_COOKIE = "lang"


@cache
def _locale(name: str) -> Locale:
    # Babel's Locale.parse of a string scans every known locale id (about 1 ms); parse once.
    return Locale.parse(name)


def locale_of(lang: str) -> Locale:
    """The Locale of a short language, ``zh`` or ``en`` (for ``force_locale``)."""
    return _locale("en" if lang == "en" else "zh_CN")


def select_locale() -> Locale:
    """The request's locale as a parsed Locale (see ``choose_locale``)."""
    return _locale(choose_locale())


def choose_locale() -> str:
    """Pick the locale of this request: explicit ``?lang``, then the cookie, then the browser.

    Outside a request (CLI commands) the terminal's ``LANG`` decides.
    """
    if not has_request_context():
        return "zh_CN" if os.environ.get("LANG", "").lower().startswith("zh") else "en"
    return locale_for(
        request.args.get("lang"), request.cookies.get(LANG_COOKIE), request.headers.get("Accept-Language", "")
    )


def locale_for(asked: str | None, cookie: str | None, accept_language: str) -> str:
    """The locale for an explicit ``?lang``, the ``lang`` cookie and the Accept-Language
    header, in that order (also used before Flask, by ``public.stored_wsgi``)."""
    for candidate in (asked, cookie):
        locale = LANG_ALIASES.get((candidate or "").lower())
        if locale:
            return locale
    return _from_accept_language(accept_language)


def short_lang(locale: str) -> str:
    """``zh`` or ``en`` for a catalogue name."""
    return "en" if locale == "en" else "zh"


@lru_cache(maxsize=512)
def _from_accept_language(header: str) -> str:
    # Browsers send a handful of distinct headers; parse each once per process.
    best = parse_accept_header(header, LanguageAccept).best_match(["zh-CN", "zh", "en"])
    if best is None:
        return "zh_CN"
    return "en" if best == "en" else "zh_CN"


def remember_choice(response: Response) -> Response:
    """Keep an explicit ``?lang=`` choice in a cookie so the next pages follow it."""
    chosen = LANG_ALIASES.get((request.args.get("lang") or "").lower())
    if chosen and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
    vary = response.headers.get("Vary")
    if vary is None:  # the common case, without parsing and re-joining a header set
        response.headers["Vary"] = "Accept-Language, Cookie"
    elif not vary.startswith("Accept-Language, Cookie"):
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def current_lang() -> str:
    """The short language in force, ``zh`` or ``en`` (for templates and ``<html lang>``): the
    request's, or the one ``force_locale`` set while a stored page renders."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def bound_gettext() -> dict[str, Any]:
    """Template context: ``gettext``/``ngettext`` bound to this render's catalogue.

    Jinja's ``_()`` calls the context's ``gettext``; Flask-Babel's global one finds the
    catalogue anew on every call (about 25 µs, some twenty times per page). These find it once
    per render and behave as Jinja's new-style gettext: always %-formatted, escaped in HTML.
    """
    translations = get_translations()

    @pass_context
    def gettext(context: Any, string: str, **variables: Any) -> str:
        text = translations.ugettext(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return {"gettext": gettext, "ngettext": ngettext}


def init_app(app: Flask) -> None:
    """Wire Babel to the app with our locale and time-zone selectors."""
    from traceapp.zones import select_zone

    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_zone,
        default_translation_directories="translations",
    )
    app.after_request(remember_choice)
    app.context_processor(bound_gettext)
    app.jinja_env.globals["current_lang"] = current_lang
