"""The public base URL, worked out in the web layer (views and API) from the request.

Queries and documents below the views take the base URL as an argument: they never read
``flask.request``, so the CLI, jobs and tests build the same links without a request.
"""

from __future__ import annotations

from flask import current_app, request


def public_base_url() -> str:
    """Scheme and host that public links and QR codes use (setting, else the serving host)."""
    return current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")
