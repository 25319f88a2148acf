"""Languages: Flask-Babel set-up and the locale choice (?lang → cookie → Accept-Language)."""

from __future__ import annotations

import os
from functools import cache

from babel import Locale
from flask import Flask, Response, g, has_request_context, request
from flask_babel import Babel

babel = Babel()

#: What ``?lang=`` and the ``lang`` cookie accept, mapped to catalogue names.
LANG_ALIASES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "en": "en"}
LANG_COOKIE = "lang"


@cache
def _locale(name: str) -> Locale:
    # Babel's Locale.parse of a string scans every known locale id (about 1 ms); parse once.
    return Locale.parse(name)


def select_locale() -> Locale:
    """The request's locale as a parsed Locale (see ``choose_locale``)."""
    return _locale(choose_locale())


def choose_locale() -> str:
    """Pick the locale of this request: explicit ``?lang``, then the cookie, then the browser.

    Outside a request (CLI commands) the terminal's ``LANG`` decides.
    """
    if not has_request_context():
        return "zh_CN" if os.environ.get("LANG", "").lower().startswith("zh") else "en"
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        locale = LANG_ALIASES.get((candidate or "").lower())
        if locale:
            return locale
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best is None:
        return "zh_CN"
    return "en" if best == "en" else "zh_CN"


def remember_choice(response: Response) -> Response:
    """Keep an explicit ``?lang=`` choice in a cookie so the next pages follow it."""
    chosen = LANG_ALIASES.get((request.args.get("lang") or "").lower())
    if chosen and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def current_lang() -> str:
    """The short language of this request, ``zh`` or ``en`` (for templates and ``<html lang>``)."""
    if "lang_short" not in g:
        g.lang_short = "en" if choose_locale() == "en" else "zh"
    return g.lang_short


def init_app(app: Flask) -> None:
    """Wire Babel to the app with our locale selector."""
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.after_request(remember_choice)
    app.jinja_env.globals["current_lang"] = current_lang
