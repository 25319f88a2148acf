"""URLs in the web layer: the public base URL (from the request), and which redirect targets
a visitor may choose.

Queries and documents below the views take the base URL as an argument: they never read
``flask.request``, so the CLI, jobs and tests build the same links without a request.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

from flask import current_app, request


def public_base_url() -> str:
    """Scheme and host that public links and QR codes use (setting, else the serving host)."""
    return current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")


def same_site_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None: a redirect to a visitor's choice
    (``/login?next=``) must never leave the site, or our sign-in page becomes a phishing aid.

    Accepted: a path that starts with exactly one slash and holds no backslash, no whitespace
    and no control or invisible character; its path part (before ``?`` and ``#``) once more
    percent-decoded must pass the same test. Browsers drop tabs and newlines from a URL and
    read a backslash as a slash, so a tab or a backslash after the first slash leads to another
    host (``next=/%09/evil.example/``).
    """
    if not target or not _same_site(target):
        return None
    path = target.split("?", 1)[0].split("#", 1)[0]
    return target if _same_site(unquote(path)) else None


def _same_site(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    return not any(char.isspace() or unicodedata.category(char)[0] == "C" for char in text)
