"""The durable outbox: every scan, in a local SQLite file, before any network I/O.

A scan is ``pending`` until the server answers 2xx (``sent``) or refuses it with a 4xx
(``rejected``, with the server's problem ``detail`` and ``errors`` for the operator). Each has
a client UUID ``event_id`` and, once the batch's status is known, the exact JSON ``body`` to
POST; the body is written once and never changed, so a replay is byte-identical and the server
answers it 200 instead of recording it twice. Nothing is ever deleted.

Durability: WAL journal with ``synchronous=FULL``: a write is on disk when its commit returns,
and the gate shows a verdict only after that. Several processes may use the file at once
(``gate`` and ``sync``, or ``status`` while either runs).

The same file caches the last verification of each code (:meth:`Outbox.remember`), for the
verdict when the server cannot be reached.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

STATES = ("pending", "sent", "rejected")
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    trace_code TEXT NOT NULL,
    scanned_at TEXT NOT NULL,
    options TEXT NOT NULL,
    body TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at REAL,
    last_error TEXT,
    http_status INTEGER,
    detail TEXT,
    errors TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scans_by_state ON scans (state, id);
CREATE TABLE IF NOT EXISTS verifications (
    trace_code TEXT PRIMARY KEY,
    verified_at TEXT NOT NULL,
    summary TEXT NOT NULL
);
"""


def now_iso() -> str:
    """The local time with its UTC offset, to the millisecond (what the gate's clock says)."""
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Scan:
    """One row of the outbox."""

    id: int
    event_id: str
    trace_code: str
    scanned_at: str
    options: dict[str, Any]
    body: str | None
    state: str
    attempts: int
    retry_at: float | None
    last_error: str | None
    http_status: int | None
    detail: str | None
    errors: list[dict[str, Any]]
    updated_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Scan:
        values = dict(row)
        values["options"] = json.loads(values["options"])
        values["errors"] = json.loads(values["errors"]) if values["errors"] else []
        return cls(**values)


class Outbox:
    """The outbox file of one home folder; one instance per thread, closed after use."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        self._depth = 0
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except sqlite3.Error:
            self._db.close()
            raise

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        with self._transaction():
            if self._db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One committed write transaction (BEGIN IMMEDIATE: writers queue up, never deadlock).

        Inside :meth:`together`, the writes join the open transaction instead.
        """
        if self._depth:
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth -= 1
        self._db.execute("COMMIT")

    @contextmanager
    def together(self) -> Iterator[None]:
        """Make every write inside the block one commit: all of them are on disk, or none.

        A flush applies the outcomes of one batch request this way: one fsync instead of one per
        scan, and a process killed midway leaves the whole page pending, to be replayed (200).
        """
        with self._transaction():
            yield

    # -- scans ---------------------------------------------------------------------------------

    def add(self, *, code: str, scanned_at: str, options: dict[str, Any]) -> Scan:
        """Queue a new scan with a fresh client event_id; it is on disk when this returns."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO scans (event_id, trace_code, scanned_at, options, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (str(uuid.uuid4()), code, scanned_at, json.dumps(options, ensure_ascii=False), now_iso()),
            )
        assert cursor.lastrowid is not None
        return self.get(cursor.lastrowid)

    def get(self, scan_id: int) -> Scan:
        """The scan with this id. Raises KeyError if there is none."""
        row = self._db.execute("SELECT * FROM scans WHERE id = ?", (scan_id,)).fetchone()
        if row is None:
            raise KeyError(scan_id)
        return Scan.from_row(row)

    def set_body(
        self, scan_id: int, body: str, *, code: str | None = None, summary: dict[str, Any] | None = None
    ) -> str:
        """Store the JSON body to send, unless one is stored already; return the stored one.

        With ``code`` and ``summary``, also cache that verification, in the same commit.
        """
        with self._transaction() as db:
            db.execute(
                "UPDATE scans SET body = ?, updated_at = ? WHERE id = ? AND body IS NULL",
                (body, now_iso(), scan_id),
            )
            if code is not None and summary is not None:
                self._remember(db, code, summary)
        return str(self.get(scan_id).body)

    def mark_sent(self, scan_id: int, status: int) -> None:
        """The server recorded the scan (201) or already had it (200)."""
        self._update(scan_id, state="sent", http_status=status, last_error=None, retry_at=None)

    def mark_rejected(
        self, scan_id: int, status: int, detail: str, errors: Sequence[dict[str, Any]] = ()
    ) -> None:
        """The server refused the scan: keep its answer for ``trace-scan rejected``."""
        self._update(
            scan_id,
            state="rejected",
            http_status=status,
            detail=detail,
            errors=json.dumps(list(errors), ensure_ascii=False),
            retry_at=None,
        )

    def mark_failed(
        self, scan_id: int, error: str, *, retry_at: float | None = None, status: int | None = None
    ) -> None:
        """An attempt failed without an answer about the scan: it stays pending."""
        self._update(scan_id, last_error=error, retry_at=retry_at, http_status=status)

    def _update(self, scan_id: int, **values: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in values)
        with self._transaction() as db:
            db.execute(
                f"UPDATE scans SET {columns}, attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (*values.values(), now_iso(), scan_id),
            )

    def due(self, *, after_id: int = 0, limit: int = 200, now: float | None = None) -> list[Scan]:
        """Pending scans after ``after_id``, oldest first; with ``now``, only those due by then."""
        rows = self._db.execute(
            "SELECT * FROM scans WHERE state = 'pending' AND id > ?"
            " AND (? IS NULL OR retry_at IS NULL OR retry_at <= ?) ORDER BY id LIMIT ?",
            (after_id, now, now, limit),
        ).fetchall()
        return [Scan.from_row(row) for row in rows]

    def pending_before(self, scan_id: int) -> int:
        """How many pending scans are older than this one."""
        return int(
            self._db.execute(
                "SELECT count(*) FROM scans WHERE state = 'pending' AND id < ?", (scan_id,)
            ).fetchone()[0]
        )

    def counts(self) -> dict[str, int]:
        """``{"pending": n, "sent": n, "rejected": n}``."""
        found = dict(self._db.execute("SELECT state, count(*) FROM scans GROUP BY state").fetchall())
        return {state: int(found.get(state, 0)) for state in STATES}

    def by_state(self, state: str) -> list[Scan]:
        """Every scan in ``state``, oldest first."""
        rows = self._db.execute("SELECT * FROM scans WHERE state = ? ORDER BY id", (state,))
        return [Scan.from_row(row) for row in rows.fetchall()]

    def requeue(self, ids: Sequence[int] | None) -> int:
        """Move rejected scans (all when ``ids`` is None) back to pending; how many moved.

        They keep their event_id and body, so the server can never record one twice.
        """
        where, params = "state = 'rejected'", []
        if ids is not None and not ids:
            return 0
        if ids is not None:
            where += f" AND id IN ({', '.join('?' * len(ids))})"
            params = list(ids)
        with self._transaction() as db:
            cursor = db.execute(
                f"UPDATE scans SET state = 'pending', retry_at = NULL, "
                f"last_error = 'requeued after: ' || coalesce(detail, ''), "
                f"updated_at = ? WHERE {where}",
                (now_iso(), *params),
            )
        return cursor.rowcount

    # -- verification cache --------------------------------------------------------------------

    def _remember(self, db: sqlite3.Connection, code: str, summary: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO verifications (trace_code, verified_at, summary) VALUES (?, ?, ?)"
            " ON CONFLICT (trace_code) DO UPDATE SET verified_at = excluded.verified_at,"
            " summary = excluded.summary",
            (code, now_iso(), json.dumps(summary, ensure_ascii=False)),
        )

    def remember(self, code: str, summary: dict[str, Any]) -> None:
        """Cache the latest verification of ``code``."""
        with self._transaction() as db:
            self._remember(db, code, summary)

    def recall(self, code: str) -> tuple[dict[str, Any], str] | None:
        """The cached verification of ``code`` and when it was made, if there is one."""
        row = self._db.execute(
            "SELECT summary, verified_at FROM verifications WHERE trace_code = ?", (code,)
        ).fetchone()
        return (json.loads(row["summary"]), row["verified_at"]) if row else None
