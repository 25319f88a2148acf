"""Database plumbing: the declarative Base, engine set-up, request sessions and ``transaction()``.

``transaction()`` (and ``separate_transaction()`` beside it) are the only places in the
application that commit.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC on every backend (SQLite keeps no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Quantity(sa.TypeDecorator[Decimal]):
    """An exact decimal quantity with three places, stored as integer thousandths.

    Integers sum exactly on SQLite and PostgreSQL alike, which quantity conservation relies on.
    """

    impl = sa.BigInteger
    cache_ok = True
    SCALE = 1000

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * self.SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"quantity {value} has more than three decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: sa.Dialect) -> Decimal | None:
        return None if value is None else (Decimal(value) / self.SCALE).quantize(Decimal("0.001"))


def _enum_values(enum_cls: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_cls]


class Base(DeclarativeBase):
    """The one declarative base: constraint names are stable and enums are stored by value."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        enum.Enum: sa.Enum(
            enum.Enum,
            native_enum=False,
            length=32,
            values_callable=_enum_values,
            validate_strings=True,
        ),
        datetime: UTCDateTime(),
        Decimal: Quantity(),
        uuid.UUID: sa.Uuid(),
    }


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UUIDPk:
    """Mixin: a random UUID primary key (no enumerable ids in URLs)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


def make_engine(url: str, *, busy_timeout: float = 10.0, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite, enforce foreign keys, make BEGIN/SAVEPOINT real, let a
    writer wait up to ``busy_timeout`` seconds for the write lock, and begin the transactions
    of ``transaction()`` as writers (see ``_fix_sqlite``)."""
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _fix_sqlite(engine, busy_timeout)
    return engine


#: Execution option of a connection whose transaction will write (set by ``transaction()``).
WRITES = "traceapp_writes"


def _fix_sqlite(engine: Engine, busy_timeout: float) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over, as the
    # SQLAlchemy SQLite dialect docs ("Serializable isolation / Savepoints") recommend.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # A writer takes the write lock at BEGIN. A deferred transaction that reads, then writes
    # cannot wait for it: once another writer has committed since its read began, its snapshot
    # is stale and the upgrade fails at once with "database is locked", busy_timeout or not.
    # BEGIN IMMEDIATE queues writers on busy_timeout instead, one after the other, so each sees
    # what the one before committed (the holding it took, the event id it stored). Reads stay
    # deferred: in WAL mode they never wait for a writer, nor a writer for them.
    # A writer that may give up soon (WRITES is its wait in seconds: a note beside a read, not
    # the request's own write) waits that long for the lock instead of the busy timeout.
    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        writes = conn.get_execution_options().get(WRITES)
        if not writes:
            conn.exec_driver_sql("BEGIN")
        elif writes is True:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={int(writes * 1000)}")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")


@dataclass
class Database:
    """The app's engine and session factory (kept in ``app.extensions``), and an engine for
    single-statement reads in autocommit (``RawQuery``): one round trip, no BEGIN, ROLLBACK or
    ping around it."""

    engine: Engine
    sessions: sessionmaker[Session]
    reads: Engine

    def dispose(self) -> None:
        """Close every pooled connection (before the database goes away)."""
        self.engine.dispose()
        self.reads.dispose()


def init_app(app: Any) -> Database:
    """Create the engine and session factory for ``app`` and close request sessions on teardown."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    busy = float(app.config["DATABASE_BUSY_TIMEOUT"])
    engine = make_engine(url, busy_timeout=busy, pool_pre_ping=not url.startswith("sqlite"))
    reads = make_engine(url, busy_timeout=busy, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    database = Database(engine, sessionmaker(engine, expire_on_commit=False), reads)
    app.extensions["traceapp.db"] = database
    app.teardown_appcontext(_close_session)
    return database


def database() -> Database:
    """The current app's Database."""
    return current_app.extensions["traceapp.db"]


def session() -> Session:
    """The session of the current request or CLI command (created on first use)."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


@dataclass(frozen=True)
class RawQuery:
    """A read compiled once for the engine's driver, run on a bare DB-API cursor.

    For the one read that carries most of our traffic (the stored public page). On SQLite the
    ORM session costs ~310 µs per look-up and a Core connection ~160 µs (begin, result
    machinery, reset), the driver's cursor ~35 µs; on PostgreSQL a pooled connection in a
    transaction (ping, BEGIN, SELECT, ROLLBACK) ~380 µs, one autocommit SELECT ~130 µs.
    Only plain reads of plain columns.
    """

    sql: str
    names: tuple[str, ...] | None  # parameter order for positional drivers (SQLite's ``?``)

    @classmethod
    def compile(cls, statement: sa.Executable, engine: Engine) -> RawQuery:
        compiled = statement.compile(dialect=engine.dialect)
        names = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        return cls(compiled.string, names)

    def first(self, params: dict[str, Any], on: Database) -> tuple[Any, ...] | None:
        """The first row, on the connection ``on``'s sessions would use (in tests, the test's
        own connection, so uncommitted test data is seen)."""
        args: Any = tuple(params[n] for n in self.names) if self.names is not None else params
        bind = on.sessions.kw.get("bind")
        if isinstance(bind, sa.Connection):
            return self._fetch(bind.connection.dbapi_connection, args)  # type: ignore[arg-type]
        # Autocommit, no ping: a connection the server dropped fails here once, is thrown
        # away, and the read runs again on a new one.
        for attempt in (1, 2):
            connection = on.reads.raw_connection()
            try:
                return self._fetch(connection, args)
            except on.reads.dialect.loaded_dbapi.Error as exc:
                if attempt == 2 or not on.reads.dialect.is_disconnect(exc, connection, None):
                    raise
                connection.invalidate()
            finally:
                connection.close()
        raise AssertionError("unreachable")

    def _fetch(self, connection: Any, args: Any) -> tuple[Any, ...] | None:
        cursor = connection.cursor()
        try:
            cursor.execute(self.sql, args)
            return cursor.fetchone()
        finally:
            cursor.close()


@contextmanager
def transaction(*, write: bool = True, wait: float | None = None) -> Iterator[Session]:
    """Yield the request session; commit if the block completes, roll back if it raises.

    On SQLite the transaction takes the write lock at its start (waiting up to the busy
    timeout), so writes queue instead of failing; ``write=False`` for a long read that must not
    hold writers up (an export job's, which writes its progress beside it); ``wait`` (seconds,
    SQLite) for a write that had better give up than hold its request up that long."""
    db_session = session()
    if write:
        _begin_writing(db_session, wait)
    try:
        yield db_session
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise


@contextmanager
def separate_transaction() -> Iterator[Session]:
    """A transaction on a session of its own, beside the current one: commits if the block
    completes. For a job's progress, written while the job's own read is still open."""
    db_session = database().sessions()
    try:
        _begin_writing(db_session)
        yield db_session
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
    finally:
        db_session.close()


def _begin_writing(db_session: Session, wait: float | None = None) -> None:
    """On SQLite, make the session's transaction a writer's from its BEGIN (see ``_fix_sqlite``)."""
    if db_session.get_bind().dialect.name != "sqlite":
        return
    if db_session.in_transaction():
        if db_session.connection().get_execution_options().get(WRITES):
            return  # already writing (a transaction() inside another)
        # A read made before on this session (the signed-in user, say) cannot become a write:
        # end it. Nothing it loaded is expired (expire_on_commit=False).
        db_session.commit()
    db_session.connection(execution_options={WRITES: True if wait is None else float(wait)})
