"""Test fixtures: a migrated database per session, a rolled-back transaction per test.

The database is SQLite (a file in a temporary folder) unless ``TRACEAPP_TEST_DATABASE_URL``
names another, such as ``postgresql+psycopg://postgres@127.0.0.1:5432/test``. The schema is
built by running the migrations, never by ``create_all``. Each test runs inside an outer
transaction on one connection; the app's sessions join it with savepoints, so services and
views really commit, and everything is rolled back at teardown (STYLE rule 25).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from tests import factories
from tests.stored import assert_stored_pages_current
from traceapp import create_app, migrate
from traceapp.db import make_engine

SHARED = Path(__file__).resolve().parents[2] / "shared"


def _test_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TRACEAPP_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _reset(engine: sa.Engine) -> None:
    """Start PostgreSQL from an empty schema (SQLite starts from a new file anyway)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of the session's test database."""
    return _test_database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the test database, migrated to head once per session."""
    engine = make_engine(database_url)
    _reset(engine)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture(scope="session", autouse=True)
def jobs_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The job broker of the suite: ``TRACEAPP_TEST_JOBS_URL`` (such as
    ``redis://127.0.0.1:6379/15``, the production broker), else a SQLite file (the default).
    Also the broker of every app the suite builds, here or in a server it starts, so none
    writes to the instance folder."""
    url = (
        os.environ.get("TRACEAPP_TEST_JOBS_URL") or f"sqlite:///{tmp_path_factory.mktemp('jobs') / 'jobs.db'}"
    )
    before = os.environ.get("TRACEAPP_JOBS_URL")
    os.environ["TRACEAPP_JOBS_URL"] = url
    yield url
    if before is None:
        os.environ.pop("TRACEAPP_JOBS_URL", None)
    else:
        os.environ["TRACEAPP_JOBS_URL"] = before


@pytest.fixture(scope="session", autouse=True)
def ratelimit_url(tmp_path_factory: pytest.TempPathFactory, jobs_url: str) -> Iterator[str]:
    """The rate-limit storage of the suite: ``TRACEAPP_TEST_RATELIMIT_URL``, else Redis when the
    job broker is Redis (production runs both on it), else a SQLite file (the default). Also the
    storage of every app the suite builds, here or in a server it starts, so none writes to the
    instance folder. Every test starts from empty counters (see ``app``)."""
    url = os.environ.get("TRACEAPP_TEST_RATELIMIT_URL") or (
        jobs_url if jobs_url.startswith("redis://") else ""
    )
    url = url or f"sqlite:///{tmp_path_factory.mktemp('ratelimits') / 'ratelimits.sqlite3'}"
    before = os.environ.get("TRACEAPP_RATELIMIT_STORAGE_URL")
    os.environ["TRACEAPP_RATELIMIT_STORAGE_URL"] = url
    yield url
    if before is None:
        os.environ.pop("TRACEAPP_RATELIMIT_STORAGE_URL", None)
    else:
        os.environ["TRACEAPP_RATELIMIT_STORAGE_URL"] = before


#: GS1's EPCIS schema and context, read from the conformance material beside the checkout (not
#: shipped: see traceapp/epcis/cli.py), for the suite's apps and every server it starts.
EPCIS_ARTEFACTS = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "epcis"


@pytest.fixture(scope="session", autouse=True)
def epcis_artefacts() -> Iterator[Path]:
    before = os.environ.get("TRACEAPP_EPCIS_ARTEFACTS_DIR")
    os.environ["TRACEAPP_EPCIS_ARTEFACTS_DIR"] = str(EPCIS_ARTEFACTS)
    yield EPCIS_ARTEFACTS
    if before is None:
        os.environ.pop("TRACEAPP_EPCIS_ARTEFACTS_DIR", None)
    else:
        os.environ["TRACEAPP_EPCIS_ARTEFACTS_DIR"] = before


@pytest.fixture(scope="session", autouse=True)
def scan_counter_url(tmp_path_factory: pytest.TempPathFactory, jobs_url: str) -> Iterator[str]:
    """The scan counter of the suite: Redis when the job broker is Redis (its default), else a
    file in a temporary folder; also that of every server the suite starts, so none writes to
    the instance folder. Every test starts from an empty counter (see ``app``)."""
    url = (
        jobs_url
        if jobs_url.startswith("redis://")
        else f"file://{tmp_path_factory.mktemp('scans') / 'scans.log'}"
    )
    before = os.environ.get("TRACEAPP_SCAN_COUNTER_URL")
    os.environ["TRACEAPP_SCAN_COUNTER_URL"] = url
    yield url
    if before is None:
        os.environ.pop("TRACEAPP_SCAN_COUNTER_URL", None)
    else:
        os.environ["TRACEAPP_SCAN_COUNTER_URL"] = before


@pytest.fixture()
def app(
    connection: sa.Connection, database_url: str, jobs_url: str, ratelimit_url: str, scan_counter_url: str
) -> Iterator[Flask]:
    """The app, its sessions bound to the test's connection (pytest-flask uses this).

    At teardown, every stored public page the test left current must equal the page rendered
    live from the data: a write that changes a page without bumping it fails here, whichever
    test made it.
    """
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "PUBLIC_BASE_URL": "https://trace.example.cn",
            "JOBS_URL": jobs_url,
            "JOBS_NAME": f"traceapp-test{os.environ.get('PYTEST_XDIST_WORKER', '')}",
            "JOBS_RETRY_DELAY": 0.01,
            "RATELIMIT_STORAGE_URL": ratelimit_url,
            "SCAN_COUNTER_URL": scan_counter_url,
            "SCAN_FILE_GRACE_SECONDS": 0,  # one process: the flush closes its own file
        }
    )
    app.extensions["traceapp.scans"].counter.reset()  # scans belong to one test
    app.extensions["traceapp.throttle"].limiter.storage.reset()  # counts belong to one test
    app.extensions["traceapp.db"].sessions.configure(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    huey = app.extensions["traceapp.jobs"].huey
    huey.flush()  # messages a test handed off belong to that test
    yield app
    huey.flush()
    huey.storage.close()
    if connection.in_transaction() and not connection.invalidated:
        assert_stored_pages_current(app)


@pytest.fixture()
def dbsession(app: Flask) -> Iterator[Session]:
    """A session for factories and assertions, on the same transaction as the app (and, like
    the app's, storing public pages when it commits)."""
    session = app.extensions["traceapp.db"].sessions()
    yield session
    session.close()


@pytest.fixture()
def make(dbsession: Session, app: Flask) -> factories.Factory:
    """Factories bound to the test's session: ``make.org()``, ``make.certificate(...)`` ..."""
    return factories.Factory(dbsession, app)


@pytest.fixture(autouse=True)
def _push_request_context() -> None:
    """Replace pytest-flask's autouse request context: with it, every test-client request would
    share one app context (and ``g``, and a database session), hiding per-request bugs."""


class QueryCounter:
    """Counts the SQL statements sent on a connection while active."""

    def __init__(self, connection: sa.Connection):
        self.connection = connection
        self.statements: list[str] = []

    def _record(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        self.statements = []
        sa.event.listen(self.connection, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(self.connection, "before_cursor_execute", self._record)

    @property
    def selects(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]

    @property
    def writes(self) -> list[str]:
        verbs = ("INSERT", "UPDATE", "DELETE")
        return [s for s in self.statements if s.lstrip().upper().startswith(verbs)]


@pytest.fixture()
def count_queries(connection: sa.Connection) -> QueryCounter:
    """``with count_queries as q: ...`` then ``q.selects`` / ``q.writes`` (deterministic)."""
    return QueryCounter(connection)


def pytest_terminal_summary(terminalreporter):
    """The GS1 conformance run's pass/skip/fail counts, and every skip with its reason."""
    counts = {}
    skipped = []
    for outcome in ("passed", "skipped", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            # one parametrized case per vector record; teardown reports are not outcomes
            if "test_gs1_conformance.py" not in nodeid or "[" not in nodeid or report.when == "teardown":
                continue
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == "skipped":
                skipped.append(f"  {report.nodeid.rpartition('::')[2]}: {report.longrepr[2]}")
    if counts:
        terminalreporter.section("GS1 conformance vectors (../shared/conformance/digital-link)")
        summary = ", ".join(
            f"{counts.get(outcome, 0)} {outcome}" for outcome in ("passed", "skipped", "failed")
        )
        terminalreporter.write_line(f"vectors: {summary}")
        for line in skipped:
            terminalreporter.write_line(line)
