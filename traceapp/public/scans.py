"""Scan counting without a write per view: the page shows "first scanned on ..., N scans".

A scan is a ``GET /t/<code>`` with no query string (a QR scan or a pasted link; switching the
language or asking for the web font is the same visitor again) that finds a page. The request
only *notes* it, outside the database, in the scan counter (``SCAN_COUNTER_URL``):

- ``redis://...``: one ``RPUSH`` of ``code place time`` on a list (the default when ``JOBS_URL``
  is Redis: the same server);
- otherwise an append-only file in the instance folder (``file:///path/scans.log`` to choose
  it): one ``write`` of one line on a descriptor the process keeps open, no fsync.

The worker's periodic sweep (every minute) and ``traceapp scans flush`` take what was noted and
add it, in one transaction, to ``scan_counts`` (first scan, last scan, scans, distinct places)
and ``scan_places`` (one row per coarse place: a hash of the client's /24, or /48 for IPv6,
or of the region a trusted proxy names in ``SCAN_PLACE_HEADER``; no address is stored).

What pages and statuses show are the *published* counts (``shown_*``). The flush publishes
a code's counts, and bumps its stored page so it renders again, when it is first scanned, when
the published counts would change its status (``suspicious``, see
``certificates.status.ScanRule``), and otherwise at most every ``SCAN_PAGE_REFRESH_SECONDS``:
a popular page is rendered again at most that often, not at every flush. So a stored page is
always what a live render shows.

A flush that fails after its commit and before dropping what it took counts those scans again
at the next flush (the counter is a count of page views, not a ledger); one that fails before
its commit leaves them to the next flush.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from redis import Redis
from sqlalchemy.orm import Session

from traceapp.certificates.models import Certificate, ScanCount, ScanPlace
from traceapp.certificates.scans import batch_size, scan_rule
from traceapp.certificates.status import ScanRule
from traceapp.db import transaction, utcnow
from traceapp.jobs.models import JobLease
from traceapp.jobs.services import take_lease
from traceapp.throttle import client_address

_EXT = "traceapp.scans"
#: Set in the WSGI environ once a request's scan is noted (the front layer or the view).
NOTED = "traceapp.scan_noted"
#: Lines taken per flush at most (the rest waits for the next one).
FLUSH_MAX = 200_000
#: The lease one flush holds at a time (``jobs_leases``), and for how long at most.
LEASE = "scan-flush"
LEASE_SECONDS = 300


# -- noting ---------------------------------------------------------------------------------------


class FileCounter:
    """Scans noted as lines appended to a file; the flush renames it away and reads it.

    Each process keeps the file open (a scan costs one ``write``, of one line: atomic with
    ``O_APPEND``) and checks at most every second whether the flush renamed it; the flush reads
    a renamed file after ``grace`` seconds, once every writer has moved on to the new one."""

    CHECK_SECONDS = 1.0

    def __init__(self, path: Path, grace: float = 2.0):
        self.path, self.grace = path, grace
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = None
        self._pid = 0
        self._checked = 0.0

    def note(self, line: bytes) -> None:
        now = time.monotonic()
        if self._fd is None or now - self._checked > self.CHECK_SECONDS or self._pid != os.getpid():
            self._check(now)
        os.write(self._fd, line)  # type: ignore[arg-type]

    def _check(self, now: float) -> None:
        if self._fd is not None and self._pid == os.getpid():
            try:
                if os.fstat(self._fd).st_ino == os.stat(self.path).st_ino:
                    self._checked = now
                    return
            except FileNotFoundError:
                pass
            os.close(self._fd)
        # A forked child shares its parent's descriptor: it opens its own (the parent's stays).
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._pid, self._checked = os.getpid(), now

    def _close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def take(self) -> tuple[list[bytes], Any]:
        """The lines noted so far (and those a failed flush left), and what to drop once they
        are counted."""
        folder = self.path.parent
        taken = sorted(folder.glob(self.path.name + ".*.taken"))
        if self.path.exists():
            moved = folder / f"{self.path.name}.{time.time_ns()}.taken"
            os.rename(self.path, moved)
            taken.append(moved)
            self._close()  # this process writes to the new file from now on
            if self.grace:
                time.sleep(self.grace)  # the other processes notice within CHECK_SECONDS
        lines: list[bytes] = []
        for path in taken:
            lines.extend(path.read_bytes().splitlines())
        return lines, taken

    def done(self, token: Any) -> None:
        for path in token:
            path.unlink(missing_ok=True)

    def reset(self) -> None:
        self._close()
        self.done([self.path, *self.path.parent.glob(self.path.name + ".*.taken")])


class RedisCounter:
    """Scans noted on a Redis list; the flush renames the list away and reads it."""

    def __init__(self, url: str, key: str, timeout: float):
        self.redis = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        self.key, self.taken = key, key + ":taken"

    def note(self, line: bytes) -> None:
        self.redis.rpush(self.key, line)

    def take(self) -> tuple[list[bytes], Any]:
        if not self.redis.exists(self.taken):  # else a failed flush left it: count it first
            try:
                self.redis.rename(self.key, self.taken)
            except Exception as exc:  # noqa: BLE001 - "no such key": nothing was noted
                if "no such key" not in str(exc).lower():
                    raise
                return [], None
        lines = list(self.redis.lrange(self.taken, 0, FLUSH_MAX - 1))
        return lines, len(lines)

    def done(self, token: Any) -> None:
        if token:  # drop what was counted; the rest of a long list waits for the next flush
            self.redis.ltrim(self.taken, token, -1)

    def reset(self) -> None:
        self.redis.delete(self.key, self.taken)


def make_counter(app: Flask) -> FileCounter | RedisCounter:
    """The counter ``SCAN_COUNTER_URL`` names (default: Redis when ``JOBS_URL`` is, else a file)."""
    url = str(app.config["SCAN_COUNTER_URL"] or "")
    jobs_url = str(app.config["JOBS_URL"] or "")
    if not url and jobs_url.startswith(("redis://", "rediss://", "unix://")):
        url = jobs_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        key = f"{app.config['JOBS_NAME']}:scans"
        return RedisCounter(url, key, float(app.config["JOBS_BROKER_TIMEOUT"]))
    grace = float(app.config["SCAN_FILE_GRACE_SECONDS"])
    if url.startswith("file://"):
        return FileCounter(Path(url.removeprefix("file://")), grace)
    if url:
        raise ValueError(f"TRACEAPP_SCAN_COUNTER_URL must start with redis:// or file://, not {url!r}")
    return FileCounter(Path(app.instance_path) / "scans.log", grace)


@dataclass
class Scans:
    """The app's counter and the settings a note needs (read once)."""

    counter: FileCounter | RedisCounter
    proxies: int
    header: str
    enabled: bool
    app: Flask

    def note(self, environ: dict[str, Any], code: str) -> None:
        """Note one scan of canonical ``code`` by this request, if it is one (:func:`is_scan`),
        once per request. A counter that fails does not fail the page: the scan is lost and the
        failure logged."""
        if not self.enabled or NOTED in environ or not is_scan(environ):
            return
        environ[NOTED] = True
        try:
            self.counter.note(b"%s %s %d\n" % (code.encode(), self.place(environ).encode(), time.time()))
        except Exception:  # noqa: BLE001 - see the docstring
            self.app.logger.exception("scan counter failed; scan not counted")

    def place(self, environ: dict[str, Any]) -> str:
        """A coarse place of the request, hashed: the region a proxy names, else the network."""
        named = environ.get(self.header) if self.header else None
        if named:
            return _hashed("region:" + str(named)[:64])
        return _network_of(client_address(environ, self.proxies))


def is_scan(environ: dict[str, Any]) -> bool:
    """Whether a request for a public page is a scan (or a pasted link): the bare code URL. With
    a query string it is the reader switching language or asking for the web font."""
    return not environ.get("QUERY_STRING")


@lru_cache(maxsize=4096)
def _network_of(address: str) -> str:
    # Remembered: the same phones and gates scan again and again (and ipaddress is slow).
    try:
        ip = ipaddress.ip_address(address.split("/")[0])
        where = str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 48}", strict=False))
    except ValueError:
        where = address
    return _hashed(where)


def _hashed(where: str) -> str:
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def init_app(app: Flask) -> Scans:
    header = str(app.config["SCAN_PLACE_HEADER"] or "")
    scans = Scans(
        make_counter(app),
        int(app.config["RATELIMIT_TRUSTED_PROXIES"]),
        "HTTP_" + header.upper().replace("-", "_") if header else "",
        bool(app.config["SCAN_COUNTING"]),
        app,
    )
    app.extensions[_EXT] = scans
    return scans


def scans(app: Flask | None = None) -> Scans:
    return (app or current_app).extensions[_EXT]


# -- flushing --------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one flush read for one code."""

    scans: int = 0
    first: int = 0
    last: int = 0
    places: set[str] = field(default_factory=set)


def tally(lines: Iterable[bytes]) -> dict[str, Tally]:
    out: dict[str, Tally] = {}
    for line in lines:
        try:
            code, place, at = line.decode().split()
            when = int(at)
        except ValueError:
            continue  # a torn line (a crash mid-write): dropped
        t = out.setdefault(code, Tally(first=when, last=when))
        t.scans += 1
        t.first, t.last = min(t.first, when), max(t.last, when)
        t.places.add(place)
    return out


def flush(app: Flask | None = None) -> int:
    """Add what the counter noted to ``scan_counts`` and publish the counts pages show (see the
    module's docstring); render the pages it bumped. One flush at a time (a lease: the sweep's
    and ``traceapp pages scans`` would otherwise read the same taken scans). Returns how many
    scans it counted (0 also when another flush is running)."""
    from traceapp.public import pages

    found = scans(app)
    with transaction() as session:
        if not take_lease(session, LEASE, seconds=LEASE_SECONDS):
            return 0
    try:
        lines, token = found.counter.take()
        tallies = tally(lines)
        bumped: list[uuid.UUID] = []
        if tallies:
            with transaction() as session:
                bumped = _count(session, tallies, scan_rule(), found.app.config)
        found.counter.done(token)
    finally:
        with transaction() as session:
            session.execute(sa.update(JobLease).where(JobLease.name == LEASE).values(held_until=utcnow()))
    if bumped:
        pages.render_pages([str(i) for i in bumped])
    return sum(t.scans for t in tallies.values())


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _count(session: Session, tallies: dict[str, Tally], rule: ScanRule, config: Any) -> list[uuid.UUID]:
    from traceapp.public import pages

    ids = dict(
        session.execute(
            sa.select(Certificate.trace_code, Certificate.id).where(Certificate.trace_code.in_(list(tallies)))
        ).all()
    )
    by_id = {ids[code]: t for code, t in tallies.items() if code in ids}
    if not by_id:
        return []
    known = {
        (cid, place)
        for cid, place in session.execute(
            sa.select(ScanPlace.certificate_id, ScanPlace.place).where(
                ScanPlace.certificate_id.in_(list(by_id))
            )
        )
    }
    new_places = [
        {"certificate_id": cid, "place": p}
        for cid, t in by_id.items()
        for p in t.places
        if (cid, p) not in known
    ]
    if new_places:
        session.execute(sa.insert(ScanPlace), new_places)
    added: dict[uuid.UUID, int] = {}
    for row in new_places:
        added[row["certificate_id"]] = added.get(row["certificate_id"], 0) + 1
    rows = {
        r.certificate_id: r
        for r in session.scalars(
            sa.select(ScanCount).where(ScanCount.certificate_id.in_(list(by_id))).with_for_update()
        )
    }
    certificates = {
        c.id: c for c in session.scalars(sa.select(Certificate).where(Certificate.id.in_(list(by_id))))
    }
    now = utcnow()
    refresh = timedelta(seconds=float(config["SCAN_PAGE_REFRESH_SECONDS"]))
    publish: list[uuid.UUID] = []
    for cid, t in by_id.items():
        row = rows.get(cid)
        if row is None:
            row = ScanCount(
                certificate_id=cid,
                first_scanned_at=_at(t.first),
                last_scanned_at=_at(t.last),
                scans=0,
                places=0,
                shown_scans=0,
                shown_places=0,
            )
            session.add(row)
        row.first_scanned_at = min(row.first_scanned_at, _at(t.first))
        row.last_scanned_at = max(row.last_scanned_at, _at(t.last))
        row.scans += t.scans
        row.places += added.get(cid, 0)
        c = certificates[cid]
        size = batch_size(c.quantity, c.unit)
        was = rule.exceeded(row.shown_scans, row.shown_places, size)
        will = rule.exceeded(row.scans, row.places, size)
        if row.shown_at is None or was != will or now - row.shown_at >= refresh:
            publish.append(cid)
    # And the pages of codes not scanned this time whose counts were held back.
    behind = session.scalars(
        sa.select(ScanCount).where(
            ScanCount.scans != ScanCount.shown_scans,
            ScanCount.shown_at < now - refresh,
            ScanCount.certificate_id.not_in(list(by_id)),
        )
    ).all()
    publish.extend(r.certificate_id for r in behind)
    rows.update({r.certificate_id: r for r in behind})
    session.flush()
    rows.update(
        {
            r.certificate_id: r
            for r in session.scalars(sa.select(ScanCount).where(ScanCount.certificate_id.in_(publish)))
        }
    )
    for cid in publish:
        row = rows[cid]
        row.shown_scans, row.shown_places, row.shown_at = row.scans, row.places, now
    session.flush()
    if publish:
        pages.bump(session, publish)
    return sorted(publish)
