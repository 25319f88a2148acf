"""Committed databases for tests that cannot run inside the rolled-back test transaction
(live servers in another process, real concurrency): a temp SQLite file, or on PostgreSQL a
database of its own next to the test database, dropped afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from traceapp import migrate
from traceapp.db import make_engine


def postgres_url() -> sa.URL | None:
    """The PostgreSQL test URL, if the suite runs on PostgreSQL."""
    raw = os.environ.get("TRACEAPP_TEST_DATABASE_URL")
    if not raw:
        return None
    url = make_url(raw)
    return url if url.get_backend_name() == "postgresql" else None


@contextmanager
def committed_database(suffix: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a fresh, migrated database named after ``suffix``."""
    base = postgres_url()
    if base is None:
        url = f"sqlite:///{folder / f'{suffix}.sqlite3'}"
        _migrate(url)
        yield url
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"{base.database or 'test'}_{suffix}{'_' + worker if worker else ''}"
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
