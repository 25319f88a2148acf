"""Headers that make every answer defend itself, set in one place for both ways out.

Flask's answers get them from an ``after_request`` hook (``init_app``); the stored pages that
the front layer (``public.stored_wsgi``) answers without Flask add ``Policies.headers`` to
theirs. A header a view set itself (the lab report's own policy) is kept.

- ``Content-Security-Policy``: no script on any page (the API docs page runs Swagger UI from
  our static folder: ``script-src 'self'`` there, still no inline script), no framing
  (``frame-ancestors 'none'``), images, fonts and form posts from this site only, no
  ``<base>``. The pages' stylesheet is inline, so a consumer's phone gets the public page
  in one round trip, and it is allowed by its SHA-256 hash, not by ``'unsafe-inline'``: an
  injected ``<style>`` or ``style=""`` attribute is not applied. So is the one that names the
  bundled Chinese web font (``font_style``), which a page includes only when asked: pages draw
  Chinese with the device's own fonts (every phone sold in China has one), so a first visit
  downloads no font; a device without any asks for ``?font=cjk`` (a link on the public page).
- ``X-Content-Type-Options: nosniff``: an uploaded lab report is never run as a script or
  read as a page; ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``.
- ``Referrer-Policy: same-origin``: no URL of ours (a recall, a code, a ``next=``) is sent to
  another site; same-site posts keep their Referer, which CSRF checks over https need.
- ``Strict-Transport-Security`` when ``TRACEAPP_PUBLIC_BASE_URL`` is https.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote, urlsplit

from flask import Flask, current_app, request
from markupsafe import Markup
from werkzeug.wrappers import Response

#: The endpoint flask-smorest gives the Swagger UI page (its docs blueprint is ``api-docs``).
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
#: Staff pages that load a script of ours from the static folder (the gate page's camera):
#: ``script-src 'self'``, still no inline script. The public page is never one of them.
SCRIPT_ENDPOINTS = frozenset({"gate.page", "gate.record"})
#: The template of the pages' stylesheet and the font it names (``static/fonts/``).
STYLE_TEMPLATE = "_style.css"
FONT_STYLE_TEMPLATE = "_font.css"
FONT = "fonts/NotoSansSC-Subset.woff2"
HSTS = "max-age=31536000; includeSubDomains"
_EXTENSION = "traceapp.headers"
#: Script roots whose stylesheet is remembered (they come from the server's set-up, a few at
#: most; a bound, so a proxy passing odd prefixes cannot grow the memo).
_MAX_ROOTS = 8

_COMMON = "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
_PAGE_POLICY = "default-src 'none'; {scripts}style-src {styles}; img-src 'self'; font-src 'self'; " + _COMMON
# Swagger UI draws its icons as data: images and fetches the OpenAPI document ("Try it out"
# calls the API) from this site.
_DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; " + _COMMON
)


class Policies:
    """The headers of one app, worked out once per script root and remembered (a pure function
    of the app's templates and settings: every process computes the same)."""

    def __init__(self, app: Flask):
        self.app = app
        base_url = str(app.config["PUBLIC_BASE_URL"])
        # Stored pages are rendered under the public base URL's path (``public.pages.render``).
        self.stored_root = urlsplit(base_url).path.rstrip("/")
        self._fixed = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
        ]
        if base_url.lower().startswith("https://"):
            self._fixed.append(("Strict-Transport-Security", HSTS))
        self._css: dict[tuple[str, str], str] = {}
        self._headers: dict[tuple[str, bool, bool], list[tuple[str, str]]] = {}

    def css(self, root: str, template: str = STYLE_TEMPLATE) -> str:
        """A stylesheet of the pages for an app served under ``root`` (the font's URL starts with it)."""
        css = self._css.get((root, template))
        if css is None:
            font_url = quote(f"{root}{self.app.static_url_path}/{FONT}", safe="/")
            css = self.app.jinja_env.get_template(template).render(font_url=font_url)
            if len(self._css) < 2 * _MAX_ROOTS:
                self._css[(root, template)] = css
        return css

    def style_sources(self, root: str) -> list[str]:
        """The CSP sources that allow the stylesheets of ``root`` and nothing else."""
        return [
            f"'sha256-{base64.b64encode(hashlib.sha256(self.css(root, t).encode()).digest()).decode()}'"
            for t in (STYLE_TEMPLATE, FONT_STYLE_TEMPLATE)
        ]

    def headers(self, root: str = "", docs: bool = False, scripts: bool = False) -> list[tuple[str, str]]:
        """Every header for an answer under ``root``: the docs page's policy, or the pages' one
        (allowing both the stylesheet of ``root`` and that of the stored pages, and with
        ``scripts`` our own script files)."""
        key = (root, docs, scripts)
        found = self._headers.get(key)
        if found is None:
            if docs:
                policy = _DOCS_POLICY
            else:
                styles = dict.fromkeys([*self.style_sources(root), *self.style_sources(self.stored_root)])
                policy = _PAGE_POLICY.format(
                    styles=" ".join(styles), scripts="script-src 'self'; " if scripts else ""
                )
            found = [("Content-Security-Policy", policy), *self._fixed]
            if len(self._headers) < 2 * _MAX_ROOTS:
                self._headers[key] = found
        return found


def policies(app: Flask) -> Policies:
    """The ``Policies`` of ``app`` (made by ``init_app``)."""
    return app.extensions[_EXTENSION]


def page_style() -> Markup:
    """``<style>{{ page_style() }}</style>``: the stylesheet whose hash the policy allows."""
    return Markup(policies(current_app).css(request.script_root))


def font_style() -> Markup:
    """``<style>{{ font_style() }}</style>``: the bundled Chinese web font, for a device that
    has no Chinese font of its own (allowed by the policy like ``page_style``)."""
    return Markup(policies(current_app).css(request.script_root, FONT_STYLE_TEMPLATE))


def init_app(app: Flask) -> None:
    """Add the headers to everything Flask answers, and ``page_style``/``font_style`` to the templates."""
    found = app.extensions[_EXTENSION] = Policies(app)
    app.add_template_global(page_style, "page_style")
    app.add_template_global(font_style, "font_style")

    @app.after_request
    def _defend(response: Response) -> Response:
        endpoint = request.endpoint
        docs, scripts = endpoint == DOCS_ENDPOINT, endpoint in SCRIPT_ENDPOINTS
        for name, value in found.headers(request.script_root, docs, scripts):
            response.headers.setdefault(name, value)
        return response
