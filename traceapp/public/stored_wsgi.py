"""Stored consumer pages answered in front of Flask: the cache-middleware pattern, for the one
URL that carries most of our traffic (every QR scan).

``GET /t/<code>`` (or ``/T/``, as QR codes print it) with no query string is answered here when
its stored page is current: the same look-up, language choice and response as the Flask view
(``pages.stored_page``, ``i18n.locale_for``, ``pages.answer``), without a request context,
routing, hooks or a session. Everything else, and any page not stored as current, goes on to
Flask unchanged: ``?lang=`` (which sets a cookie), the report, unknown codes, pages that render
live. A failure here is logged and the request goes on to Flask, which answers it properly.
Its answers carry the same defending headers as Flask's (``traceapp.headers``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.http import parse_cookie

from traceapp import codes, headers
from traceapp.i18n import LANG_COOKIE, locale_for, short_lang
from traceapp.public.pages import answer, stored_page
from traceapp.public.scans import is_scan, scans
from traceapp.throttle import THROTTLED, throttle

_STATUS = {200: "200 OK", 304: "304 Not Modified"}
#: Set in the WSGI environ when this layer looked the page up and found none current, so the
#: Flask view does not look it up again.
LOOKED_UP = "traceapp.stored_page_missed"


class StoredPages:
    """WSGI middleware over ``app.wsgi_app`` (installed by ``install``)."""

    def __init__(self, app: Flask, wrapped: Any):
        self.app = app
        self.wrapped = wrapped
        self.policies = headers.policies(app)
        self.throttle = throttle(app)
        self.scans = scans(app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path[:3] in ("/t/", "/T/"):
            # Every request for a public page counts here, once, whoever answers it; one over
            # the limit goes to Flask, which answers the 429 in the visitor's language.
            wait = self.throttle.hit_public(environ)
            if wait is not None:
                environ[THROTTLED] = wait
                return self.wrapped(environ, start_response)
        if (
            environ.get("REQUEST_METHOD") == "GET"
            and is_scan(environ)  # what is stored is the page of the bare code URL
            and path[:3] in ("/t/", "/T/")
            and "/" not in path[3:]
        ):
            try:
                served = self._serve(environ, path[3:])
            except Exception:  # noqa: BLE001 - Flask answers it, with its own error handling
                self.app.logger.exception("stored page look-up failed; handing to Flask")
                served = None
            if served is not None:
                status, answered, body = served
                defending = self.policies.headers(environ.get("SCRIPT_NAME", ""))
                start_response(_STATUS[status], answered + defending)
                return [body]
        return self.wrapped(environ, start_response)

    def _serve(self, environ: dict[str, Any], typed: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
        code = typed if codes.looks_canonical(typed) else codes.normalize_trace_code(typed)
        if code is None:
            return None
        cookie = parse_cookie(environ).get(LANG_COOKIE) if environ.get("HTTP_COOKIE") else None
        lang = short_lang(locale_for(None, cookie, environ.get("HTTP_ACCEPT_LANGUAGE", "")))
        stored = stored_page(code, lang, self.app)
        if stored is None:
            environ[LOOKED_UP] = True
            return None
        self.scans.note(environ, code)  # noted outside the database (``public.scans``)
        return answer(
            stored, lang, environ.get("HTTP_IF_NONE_MATCH", ""), environ.get("HTTP_ACCEPT_ENCODING", "")
        )


def install(app: Flask) -> None:
    """Put ``StoredPages`` in front of ``app``'s WSGI pipeline."""
    app.wsgi_app = StoredPages(app, app.wsgi_app)  # type: ignore[method-assign]
