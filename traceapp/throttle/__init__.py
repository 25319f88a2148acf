"""Rate limits: Flask-Limiter on a storage every instance shares, answered with 429 and Retry-After.

What is limited (each limit a setting, see ``config.defaults``):

- the public page ``/t/<code>`` and its report, per client address: counted by the front layer
  (``public.stored_wsgi``) before a stored page is served, so every page counts once;
- the typed-code look-up ``/t?code=``, per address (a Flask-Limiter limit on the view);
- the JSON API, per token (the SHA-256 of the presented token, which identifies the token as
  its stored hash does, without a query before the check), per address without one;
- sign-in, per address and per account, with a growing wait after failures (``signin``).

The storage is ``RATELIMIT_STORAGE_URL``: ``redis://`` in production (several hosts count as
one), by default a SQLite file in the instance folder (``storage``), shared by the processes of
one machine. A storage that fails does not take the site down: the request is let through and
the failure logged.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, make_response, request
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from traceapp.errors import DomainError, handle_domain_error
from traceapp.throttle import storage as _storage  # noqa: F401 - registers the sqlite:// scheme
from traceapp.throttle.slots import HashSlots

EXTENSION = "traceapp.throttle"
#: Set in the WSGI environ by the front layer when the address is over the public page's limit:
#: seconds to wait. Flask then answers the 429 page in the visitor's language.
THROTTLED = "traceapp.throttled"


class RateLimited(DomainError):
    """Too many requests: wait ``retry_after`` seconds (sent as ``Retry-After``)."""

    status = 429
    slug = "too-many-requests"
    title = _l("Too many requests")

    def __init__(self, detail: str | None = None, *, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            detail
            or _(
                "Too many requests from your address. Wait %(wait)s, then try again.",
                wait=wait_text(self.retry_after),
            )
        )


def wait_text(seconds: float) -> str:
    """A wait in words, in the request's language ("2 minutes", "2分钟")."""
    return format_timedelta(
        timedelta(seconds=seconds), granularity="second", threshold=1.5, add_direction=False
    )


def client_address(environ: dict[str, Any], trusted_proxies: int) -> str:
    """The address a request came from, as a rate-limit key.

    Behind ``trusted_proxies`` proxies, the address the outermost of them saw (X-Forwarded-For,
    counted from the right: entries further left are whatever the client wrote). An IPv6
    address counts by its /64, the block one subscriber gets.
    """
    address = environ.get("REMOTE_ADDR") or ""
    if trusted_proxies:
        forwarded = [a.strip() for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            address = forwarded[-min(trusted_proxies, len(forwarded))]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6 and not ip.ipv4_mapped:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


class Throttle:
    """The app's limiter, its parsed limits and the password-hash slots."""

    def __init__(self, app: Flask):
        config = self.config = app.config
        self.logger = app.logger
        self.enabled = bool(config["RATELIMIT_ENABLED"])
        storage_url = (
            config["RATELIMIT_STORAGE_URL"] or f"sqlite:///{Path(app.instance_path) / 'ratelimits.sqlite3'}"
        )
        self.limiter = Limiter(
            key_func=self.address,
            storage_uri=storage_url,
            strategy=config["RATELIMIT_STRATEGY"],
            swallow_errors=True,
            key_prefix="traceapp",
            enabled=self.enabled,
        )
        self.limiter.init_app(app)
        self.hash_slots = HashSlots.for_deployment(
            app.instance_path, str(config["DATABASE_URL"]), int(config["PASSWORD_HASH_SLOTS"])
        )

    def limits(self, setting: str) -> list[RateLimitItem]:
        """The limits a setting names, such as ``RATELIMIT_PUBLIC``."""
        return _parsed(str(self.config[setting]))

    @property
    def proxies(self) -> int:
        return int(self.config["RATELIMIT_TRUSTED_PROXIES"])

    def address(self) -> str:
        """The current request's address key (Flask-Limiter's key function)."""
        return client_address(request.environ, self.proxies)

    def hit(self, limits: Iterable[RateLimitItem], *identifiers: str) -> float | None:
        """Count one request against ``limits``; None if all allow it, else seconds to wait.

        A storage that fails lets the request through (logged): rate limits protect the site,
        they must not be what takes it down.
        """
        if not self.enabled:
            return None
        strategy = self.limiter.limiter
        try:
            for item in limits:
                if not strategy.hit(item, "traceapp", *identifiers):
                    reset = strategy.get_window_stats(item, "traceapp", *identifiers).reset_time
                    return max(1.0, reset - time.time())
        except Exception:  # noqa: BLE001 - see the docstring
            self.logger.exception("rate-limit storage failed; request let through")
        return None

    def hit_public(self, environ: dict[str, Any]) -> float | None:
        """Count a public page request of this environ's address (used by the front layer)."""
        return self.hit(self.limits("RATELIMIT_PUBLIC"), "public", client_address(environ, self.proxies))


@lru_cache(maxsize=64)
def _parsed(setting: str) -> list[RateLimitItem]:
    return parse_many(setting)


def throttle(app: Flask | None = None) -> Throttle:
    """The app's ``Throttle``."""
    return (app or current_app).extensions[EXTENSION]


def _api_key() -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        import hashlib

        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return "address:" + throttle().address()


def _retry_after_of_limiter() -> float:
    limit = throttle().limiter.current_limit
    return max(1.0, limit.reset_at - time.time()) if limit else 60.0


def handle_rate_limited(exc: RateLimited) -> Response:
    """The 429 answer: problem+json under /api/, else a page in the visitor's language, with
    ``Retry-After`` either way."""
    response = make_response(handle_domain_error(exc))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def handle_too_many_requests(_exc: TooManyRequests) -> Response:
    """Flask-Limiter's breach, answered as ours."""
    return handle_rate_limited(RateLimited(retry_after=_retry_after_of_limiter()))


def _refuse_if_throttled() -> None:
    wait = request.environ.get(THROTTLED)
    if wait is not None:
        raise RateLimited(retry_after=wait)


def init_app(app: Flask, *, api_blueprints: Iterable[Any], lookup_endpoint: str) -> None:
    """Build the app's ``Throttle``; limit the API blueprints and the look-up view; register the
    429 handlers (after the blueprints, before the front layer is installed)."""
    state = Throttle(app)
    app.extensions[EXTENSION] = state
    app.before_request(_refuse_if_throttled)
    app.register_error_handler(RateLimited, handle_rate_limited)
    app.register_error_handler(TooManyRequests, handle_too_many_requests)
    if not state.enabled:
        return
    for blueprint in api_blueprints:
        state.limiter.shared_limit(_setting("RATELIMIT_API"), scope="api", key_func=_api_key)(blueprint)
    view = app.view_functions[lookup_endpoint]
    app.view_functions[lookup_endpoint] = state.limiter.limit(
        _setting("RATELIMIT_LOOKUP"), exempt_when=lambda: not request.args.get("code", "").strip()
    )(view)


def _setting(name: str) -> Callable[[], str]:
    # Read when a request is checked, so a changed setting (tests set small ones) applies.
    return lambda: str(current_app.config[name])
