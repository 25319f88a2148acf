"""Sign-in under attack: limits per address, a growing wait after failures, bounded hashing.

Before a password is hashed, in this order:

1. the address's attempts (``RATELIMIT_SIGNIN``, every attempt counts);
2. the account's and the address's wait: after ``RATELIMIT_SIGNIN_FREE_FAILURES`` failures on
   one account (``..._PER_ADDRESS`` from one address), each further failure makes the next
   attempt wait, ``RATELIMIT_SIGNIN_BACKOFF_SECONDS`` after the first, doubling up to
   ``RATELIMIT_SIGNIN_BACKOFF_MAX_SECONDS``; failures are counted for
   ``RATELIMIT_SIGNIN_FAILURES_SECONDS`` from the first one;
3. a hashing slot (``slots``): none free means 429 at once.

A success clears the account's failures and wait; the address's stay until they expire (or an
attacker with one account of their own would clear their address's wait by signing in). The
account is the sign-in name as stored (``orgs.services.sign_in_name``: a mobile number in E.164
however it was typed, an e-mail in lower case), known or not, so a 429 says nothing about
whether an account exists; it is hashed in the key, so the storage holds no e-mail addresses
or mobile numbers.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from flask_babel import gettext as _

from traceapp.errors import NotAuthenticated
from traceapp.throttle import RateLimited, Throttle, throttle, wait_text


def backoff_seconds(failures: int, *, free: int, first: float, longest: float) -> float:
    """The wait before the next attempt after ``failures`` failures: none for the first
    ``free``, then ``first``, doubling with each further failure, at most ``longest``."""
    if failures <= free:
        return 0.0
    return min(longest, first * 2 ** min(failures - free - 1, 30))


def _keys(state: Throttle, name: str) -> dict[str, str]:
    account = hashlib.sha256(name.encode()).hexdigest()[:32]
    return {"account": f"account:{account}", "address": f"address:{state.address()}"}


def _refused(seconds: float) -> RateLimited:
    return RateLimited(
        _("Too many sign-in attempts. Wait %(wait)s, then try again.", wait=wait_text(seconds)),
        retry_after=seconds,
    )


class _Backoff:
    """Failure counters and waits in the limiter's storage, one pair per account and address."""

    def __init__(self, state: Throttle, keys: dict[str, str]):
        config = current_app.config
        self.storage = state.limiter.storage
        self.keys = keys
        self.free = {
            "account": int(config["RATELIMIT_SIGNIN_FREE_FAILURES"]),
            "address": int(config["RATELIMIT_SIGNIN_FREE_FAILURES_PER_ADDRESS"]),
        }
        self.first = float(config["RATELIMIT_SIGNIN_BACKOFF_SECONDS"])
        self.longest = float(config["RATELIMIT_SIGNIN_BACKOFF_MAX_SECONDS"])
        self.memory = int(config["RATELIMIT_SIGNIN_FAILURES_SECONDS"])

    def wait(self) -> float:
        """Seconds until the next attempt is allowed (0: now)."""
        waits = [
            self.storage.get_expiry(f"traceapp/signin-wait/{k}")
            for k in self.keys.values()
            if self.storage.get(f"traceapp/signin-wait/{k}")
        ]
        return max((w - time.time() for w in waits), default=0.0)

    def failed(self) -> None:
        for kind, key in self.keys.items():
            failures = self.storage.incr(f"traceapp/signin-failures/{key}", self.memory)
            wait = backoff_seconds(failures, free=self.free[kind], first=self.first, longest=self.longest)
            if wait:
                self.storage.clear(f"traceapp/signin-wait/{key}")
                self.storage.incr(f"traceapp/signin-wait/{key}", max(1, round(wait)))

    def succeeded(self) -> None:
        key = self.keys["account"]
        self.storage.clear(f"traceapp/signin-failures/{key}")
        self.storage.clear(f"traceapp/signin-wait/{key}")


@contextmanager
def guarded_sign_in(name: str) -> Iterator[None]:
    """Run a password check (the block) only if this address and account (``name``, the
    normalised sign-in name) may try now.

    Raises RateLimited before the block runs: too many attempts from the address, a wait after
    failures not over, or every hashing slot busy. A NotAuthenticated from the block counts as a
    failure (and goes on); a block that ends normally clears the account's failures.
    """
    state = throttle()
    backoff = _Backoff(state, _keys(state, name)) if state.enabled else None
    if backoff is not None:
        over = state.hit(state.limits("RATELIMIT_SIGNIN"), "signin", backoff.keys["address"])
        if over is not None:
            raise _refused(over)
        wait = _storage_call(backoff.wait, 0.0)
        if wait > 0:
            raise _refused(wait)
    with state.hash_slots.take() as slot:
        if not slot:
            raise RateLimited(
                _("Many people are signing in right now. Try again in a moment."), retry_after=1
            )
        try:
            yield
        except NotAuthenticated:
            if backoff is not None:
                _storage_call(backoff.failed, None)
            raise
    if backoff is not None:
        _storage_call(backoff.succeeded, None)


def _storage_call(fn, default):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except Exception:  # noqa: BLE001 - a failing storage lets sign-in through (hashing stays bounded)
        current_app.logger.exception("rate-limit storage failed during sign-in")
        return default
