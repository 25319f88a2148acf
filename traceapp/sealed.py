"""Secrets we must read back, sealed at rest: a webhook's signing secret.

A password or an API token is stored as a hash; a webhook secret cannot be, since each delivery
signs its body with it. It is stored sealed instead: Fernet (AES-128-CBC with HMAC-SHA256, from
the ``cryptography`` package) under a key derived with HKDF-SHA256 from the app's
``SECRET_KEY``, so a copy of the database alone (a backup, a replica, a dump) reveals no
secret. ``SECRET_KEY_FALLBACKS`` (Flask's setting for rotating the key) still opens what an
older key sealed; sealing always uses ``SECRET_KEY``.

Pure: the callers pass the keys (``app_keys(app.config)``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: What a sealed value starts with (a secret stored before sealing never does).
PREFIX = "fernet:"
_INFO = b"traceapp sealed secrets v1"


class Unsealable(ValueError):
    """A stored value no key we have opens (sealed under a key since dropped, or not sealed)."""


def app_keys(config: Mapping[str, Any]) -> list[str | bytes]:
    """``SECRET_KEY`` first, then ``SECRET_KEY_FALLBACKS``."""
    return [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])]


def _fernet(key: str | bytes) -> Fernet:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(raw)
    return Fernet(base64.urlsafe_b64encode(derived))


def _box(keys: Sequence[str | bytes]) -> MultiFernet:
    if not keys:
        raise ValueError("no key to seal with")
    return MultiFernet([_fernet(key) for key in keys])


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(keys: Sequence[str | bytes], plain: str) -> str:
    """``plain`` sealed under the first of ``keys``, as text for a column."""
    return PREFIX + _box(keys).encrypt(plain.encode("utf-8")).decode("ascii")


def unseal(keys: Sequence[str | bytes], stored: str) -> str:
    """What :func:`seal` sealed, opened with any of ``keys``. Raises Unsealable."""
    if not is_sealed(stored):
        raise Unsealable("the stored value is not sealed")
    try:
        return _box(keys).decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise Unsealable(
            "sealed under a key that is neither SECRET_KEY nor in SECRET_KEY_FALLBACKS"
        ) from None
