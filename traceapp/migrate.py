"""Alembic, driven from the app: the schema only ever changes through these migrations."""

from __future__ import annotations

from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config


def alembic_config(
    connection: sa.Connection | None = None, url: str | None = None, secret_keys: list[Any] | None = None
) -> Config:
    """An Alembic config for our migrations, bound to a connection or a URL; ``secret_keys``
    (``sealed.app_keys``) for a migration that seals what was stored in clear."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("traceapp") / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    cfg.attributes["secret_keys"] = secret_keys
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head", *, secret_keys: list[Any] | None = None) -> None:
    """Apply migrations up to ``revision`` in one transaction (DDL is transactional on both)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection, secret_keys=secret_keys), revision)
