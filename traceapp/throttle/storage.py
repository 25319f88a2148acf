"""A rate-limit storage for the ``limits`` library on a SQLite file: the embedded default.

``memory://`` counts per process, so ``traceapp serve --workers 4`` would allow four times
every limit. A SQLite file in the instance folder is shared by every process on the machine,
needs no service, and survives a restart of the workers. Several hosts need one storage they
all reach: ``redis://`` (see ``TRACEAPP_RATELIMIT_STORAGE_URL``).

Counters are rows ``(key, value, expires_at)``; one ``INSERT ... ON CONFLICT ... RETURNING``
increments a counter atomically, restarting it when its window has passed, so no read comes
before a write. The file runs in WAL mode with ``synchronous=NORMAL``: a commit does not wait
for the disk (a counter lost in a power cut costs nothing), and readers never block the writer.
Expired rows are deleted now and then by a write. Fixed-window strategy only (the default).
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from limits.storage import Storage

#: This thread's connections, by file (see ``SQLiteStorage._connection``).
_connections = threading.local()
#: About one write in this many also deletes the expired rows.
_PURGE_EVERY = 2000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters ("
    " key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID"
)
_INCR = (
    "INSERT INTO counters (key, value, expires_at) VALUES (:key, :amount, :expires_at) "
    "ON CONFLICT (key) DO UPDATE SET "
    " value = CASE WHEN expires_at <= :now THEN excluded.value ELSE value + excluded.value END,"
    " expires_at = CASE WHEN expires_at <= :now THEN excluded.expires_at ELSE expires_at END "
    "RETURNING value"
)


class SQLiteStorage(Storage):
    """``sqlite:///relative/file`` or ``sqlite:////absolute/file``, as in SQLAlchemy URLs."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        uri = uri or ""
        if not uri.startswith("sqlite:///") or uri == "sqlite:///":
            raise ValueError(f"a rate-limit SQLite URL names a file (sqlite:///path), not {uri!r}")
        self.path = Path(uri.removeprefix("sqlite:///"))
        self.timeout = float(options.get("timeout", 2.0))

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per file, thread and process (a connection must not cross a fork),
        # whatever the number of apps built on the file (the tests build hundreds).
        if getattr(_connections, "pid", None) != os.getpid():
            _connections.pid, _connections.by_path = os.getpid(), {}
        conn = _connections.by_path.get(self.path)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            _connections.by_path[self.path] = conn
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        conn = self._connection()
        row = conn.execute(_INCR, {"key": key, "amount": amount, "expires_at": now + expiry, "now": now})
        value = int(row.fetchone()[0])
        if random.randrange(_PURGE_EVERY) == 0:
            conn.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        return value

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row[1]) if row else time.time()

    def _row(self, key: str) -> tuple[int, float] | None:
        return (
            self._connection()
            .execute(
                "SELECT value, expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
            )
            .fetchone()
        )

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))
