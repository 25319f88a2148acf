"""Stored public pages: rendered when what they show changes, served with one look-up per view.

A consumer page is read thousands of times for every time it changes, so it is rendered when
it changes, not when it is read:

1. ``after_flush`` notes what a flush wrote that a page shows: certificates (issue,
   revocation), recalls and their batches, events and their items and readings, organisations.
2. ``before_commit`` of the outermost transaction (not a savepoint's release), still inside
   the writing transaction, turns those into certificate ids (with the portions cut from them,
   whose pages show their source's journey) and bumps their ``public_pages.version`` in one
   statement (creating the row for a new certificate): from that commit on, no
   page stored before it is served. A change of status (issued, revoked, recalled, released)
   also renders the page, in both languages, for up to ``INLINE_LIMIT`` certificates: it is
   stored in the same commit. An event only bumps, the certificates it issues included
   (portions, processing outputs, entry records): rendering a long journey with its
   temperature charts costs more than recording the event (it cut event throughput from 109 to
   39 events/s on the bench), a portion's page shows its source's whole journey, and the page
   of a batch on the move is read rarely until it is sold.
3. A view serves the stored page only when it was rendered from the current version by the
   current build; otherwise it renders live, from the same code, and writes nothing. Pages
   left behind (events, large recalls) are rendered by a job (``render_pages``) handed to the
   worker when the write commits; the stale rows are the durable queue behind it, which the
   worker's periodic sweep and ``traceapp pages refresh`` (after a deploy that changes a
   template) work through.

Concurrent writers cannot store a stale page: the version bump locks the page row until commit,
so a second writer of the same page waits, and reads (after its own bump) what the first
committed. The certificate and recall rows are re-read for rendering (``fresh``), not taken
from the session's identity map. ``refresh_stale`` stores a page only if no writer bumped it while
it rendered (``WHERE version = :rendered``).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import logging
import time
import uuid
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import chain
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context, render_template
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, sessionmaker
from werkzeug.http import parse_accept_header

from traceapp import jobs
from traceapp.certificates.models import Certificate
from traceapp.db import RawQuery, transaction, utcnow
from traceapp.events.models import Event, EventItem, EventKind, ItemRole, TemperatureReading
from traceapp.events.queries import MAX_PORTION_DEPTH
from traceapp.i18n import locale_of
from traceapp.orgs.models import Organisation
from traceapp.public.models import PublicPage
from traceapp.public.queries import load_facts, present
from traceapp.recalls.models import Recall, RecallBatch
from traceapp.zones import in_zone

#: Pages whose status a write changes that it renders before it commits (the rest: a job).
log = logging.getLogger(__name__)

INLINE_LIMIT = 50
#: The job that renders the pages a write bumped without rendering them (``render_pages``).
RENDER_TASK = "render_pages"
LANGS = ("zh", "en")
_CHANGES = "traceapp.public.changes"
_BUILD = "traceapp.public.build"
_QUERIES = "traceapp.public.queries"
_COLUMN = {"zh": PublicPage.html_zh, "en": PublicPage.html_en}


@dataclass
class Changes:
    """What the flushes of one transaction wrote that public pages show."""

    statuses: set[uuid.UUID] = field(default_factory=set)  # issued, revoked, recalled
    touched: set[uuid.UUID] = field(default_factory=set)  # named by an event
    events: set[uuid.UUID] = field(default_factory=set)
    recalls: set[uuid.UUID] = field(default_factory=set)
    orgs: set[uuid.UUID] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.statuses or self.touched or self.events or self.recalls or self.orgs)


def init_app(app: Flask, sessions: sessionmaker[Session]) -> None:
    """Fingerprint the build and keep the pages of ``sessions``' writes up to date."""
    app.extensions[_BUILD] = build_fingerprint(app)
    engine = sessions.kw["bind"]
    app.extensions[_QUERIES] = {lang: RawQuery.compile(query, engine) for lang, query in _STORED.items()}
    event.listen(sessions, "after_flush", _note_changes)
    event.listen(sessions, "before_commit", _store_changed_pages)
    event.listen(sessions, "after_transaction_end", _forget_changes)


def build_fingerprint(app: Flask) -> str:
    """A hash of everything a page's HTML depends on besides the data: our code, templates,
    catalogues and data files, the libraries that format it, and the settings a page shows (the
    timezone, the public base URL of its share metadata, the report link, the suspicion rule:
    a page stored under another rule would disagree with the API's status)."""
    digest = hashlib.sha256(_code_fingerprint().encode())
    for setting in (
        "BABEL_DEFAULT_TIMEZONE",
        "PUBLIC_BASE_URL",
        "REPORT_URL",
        "SCAN_SUSPICIOUS_PER_UNIT",
        "SCAN_SUSPICIOUS_MIN",
        "SCAN_SUSPICIOUS_PLACES",
    ):
        digest.update(str(app.config[setting]).encode() + b"\0")
    return digest.hexdigest()[:16]


@cache
def _code_fingerprint() -> str:
    # Read once per process: the files do not change under a running app.
    digest = hashlib.sha256()
    root = resources.files("traceapp")
    files = sorted(
        (str(path.relative_to(str(root))), path)
        for path in _walk(root)
        if path.suffix in {".py", ".html", ".css", ".mo", ".json"}
    )
    for name, path in files:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    for package in ("flask", "flask-babel", "babel", "jinja2", "markupsafe"):
        digest.update(f"{package}={importlib.metadata.version(package)}\0".encode())
    return digest.hexdigest()


def _walk(folder: Any) -> Iterable[Any]:
    for entry in folder.iterdir():
        if entry.is_dir():
            if entry.name not in {"__pycache__", "migrations", "fonts", "static"}:
                yield from _walk(entry)
        else:
            yield entry


def current_build() -> str:
    return current_app.extensions[_BUILD]


# -- noting changes ---------------------------------------------------------------------------


#: What a written object says about pages: (its class, the ``Changes`` set, the id it adds).
_NOTES = (
    (Certificate, "statuses", "id"),
    (RecallBatch, "statuses", "certificate_id"),
    (EventItem, "touched", "certificate_id"),
    (Event, "events", "id"),
    (TemperatureReading, "events", "event_id"),
    (Recall, "recalls", "id"),
    (Organisation, "orgs", "id"),  # a rename; a new organisation is on no page yet
)


def _note_changes(session: Session, _flush_context: Any) -> None:
    changes = session.info.setdefault(_CHANGES, Changes())
    dirty = (o for o in session.dirty if session.is_modified(o, include_collections=False))
    for obj in chain(session.new, dirty, session.deleted):
        for cls, kind, key in _NOTES:
            if isinstance(obj, cls):
                if not (cls is Organisation and obj in session.new):
                    getattr(changes, kind).add(getattr(obj, key))
                break


def _forget_changes(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGES, None)


def _store_changed_pages(session: Session) -> None:
    # SQLAlchemy fires before_commit at the RELEASE of every savepoint too: the pages are the
    # outer commit's, bumped once for everything the transaction wrote (a batch of events with a
    # savepoint each bumps each page once, not once per event).
    if session.in_nested_transaction():
        return
    session.flush()  # what is still pending is a change too
    changes = session.info.pop(_CHANGES, None)
    if not changes:
        return
    ids, statuses = named_certificates(session, changes)
    if not ids and not changes.events:
        return
    bumped = bump(session, ids, events=changes.events)
    # An event's write renders nothing: the portions and outputs it issues show their source's
    # journey, and a portioning of 2,000 spent 0.85 s on each (the 50 rendered inline alone
    # ran past the server's timeout). Their pages render live until the job has stored them.
    inline = has_app_context() and not changes.events
    now = [row for row in bumped if row[0] in statuses][:INLINE_LIMIT] if inline else []
    for certificate_id, code, version in now:
        _render_and_store(session, certificate_id, code, version)
    later = [str(row[0]) for row in bumped if row not in now]
    if later:
        jobs.enqueue(session, RENDER_TASK, ids=later)


def named_certificates(session: Session, changes: Changes) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """The certificates ``changes`` name (the bump adds those of its events and the portions cut
    from them all); and those whose status changed. Reads only for recalls and renamed
    organisations."""
    statuses = set(changes.statuses)
    if changes.recalls:
        statuses.update(
            session.scalars(
                sa.select(RecallBatch.certificate_id).where(RecallBatch.recall_id.in_(changes.recalls))
            )
        )
    ids = statuses | changes.touched
    if changes.orgs:
        ids.update(session.scalars(_mentioning_orgs(changes.orgs)))
    return ids, statuses


def _mentioning_orgs(org_ids: set[uuid.UUID]) -> sa.CompoundSelect[tuple[uuid.UUID]]:
    by_events = (
        sa.select(EventItem.certificate_id)
        .join(Event, Event.id == EventItem.event_id)
        .where(sa.or_(Event.org_id.in_(org_ids), Event.destination_org_id.in_(org_ids)))
    )
    return sa.union(sa.select(Certificate.id).where(Certificate.org_id.in_(org_ids)), by_events)


def _affected_statement() -> sa.Select[tuple[uuid.UUID]]:
    """The certificates named (``ids``) or named by the items of ``events``, and every portion
    cut from them at any depth (a portion's page shows its source's journey up to the cut). Part
    of the bump statement: a batch without portions costs one index probe, not a statement."""
    out, inp = aliased(EventItem), aliased(EventItem)
    # Two index look-ups, not one filter: PostgreSQL scans every certificate for an OR with a
    # subquery (30 ms at 10,000 certificates, against 0.6, flat).
    named = sa.union(
        sa.select(Certificate.id.label("cid")).where(Certificate.id.in_(sa.bindparam("ids", expanding=True))),
        sa.select(EventItem.certificate_id).where(
            EventItem.event_id.in_(sa.bindparam("events", expanding=True))
        ),
    ).subquery("named")
    tree = sa.select(named.c.cid, sa.literal(0).label("depth")).cte("tree", recursive=True, nesting=True)
    step = (
        sa.select(out.certificate_id, tree.c.depth + 1)
        .select_from(tree)
        .join(inp, sa.and_(inp.certificate_id == tree.c.cid, inp.role == ItemRole.INPUT))
        .join(Event, sa.and_(Event.id == inp.event_id, Event.kind == EventKind.PORTIONING))
        .join(out, sa.and_(out.event_id == Event.id, out.role == ItemRole.OUTPUT))
        .where(tree.c.depth < MAX_PORTION_DEPTH)
    )
    tree = tree.union(step)
    return sa.select(tree.c.cid)


def _bump_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = (
        sa.select(Certificate.id, Certificate.trace_code, sa.literal(1))
        .where(Certificate.id.in_(_affected_statement()))
        .order_by(Certificate.id)
    )
    table = PublicPage.__table__
    return (
        insert(table)
        .from_select(["certificate_id", "trace_code", "version"], rows)
        .on_conflict_do_update(index_elements=["certificate_id"], set_={"version": table.c.version + 1})
        .returning(table.c.certificate_id, table.c.trace_code, table.c.version)
    )


# Built once: building them costs more than running them (a few ms against a fraction of one).
_BUMP = {dialect: _bump_statement(dialect) for dialect in ("postgresql", "sqlite")}


def bump(
    session: Session, ids: Iterable[uuid.UUID], events: Iterable[uuid.UUID] = ()
) -> list[tuple[uuid.UUID, str, int]]:
    """Mark changed the pages of ``ids``, of the certificates named by ``events`` and of every
    portion cut from them (a new certificate gets its row): one statement, rows locked in id
    order until commit. Returns (id, code, new version) by id."""
    statement = _BUMP[session.get_bind().dialect.name]
    rows = session.execute(statement, {"ids": sorted(ids), "events": sorted(events)})
    return sorted((r.certificate_id, r.trace_code, r.version) for r in rows)


# -- rendering ----------------------------------------------------------------------------------


def _render_and_store(session: Session, certificate_id: uuid.UUID, code: str, version: int) -> bool:
    """Render both languages of a page and store them as ``version``. False if the
    certificate is gone or a writer bumped the page meanwhile."""
    pages = render(session, code)
    return pages is not None and _store(session, certificate_id, version, pages)


def _store(session: Session, certificate_id: uuid.UUID, version: int, pages: dict[str, bytes]) -> bool:
    stored = session.execute(
        sa.update(PublicPage)
        .where(PublicPage.certificate_id == certificate_id, PublicPage.version == version)
        .values(
            html_zh=pages["zh"],
            html_en=pages["en"],
            rendered_version=version,
            build=current_build(),
            rendered_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(stored.rowcount)


def render(session: Session, code: str) -> dict[str, bytes] | None:
    """The gzip-compressed page of ``code`` in each language, read fresh from the database."""
    facts = load_facts(session, code, fresh=True)
    if facts is None:
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    out = {}
    with app.test_request_context("/t/" + code, base_url=app.config["PUBLIC_BASE_URL"] or None):
        for lang in LANGS:
            with force_locale(locale_of(lang)):
                page = present(facts)
                with in_zone(page.zone):
                    html = render_template("public/certificate.html", page=page)
            out[lang] = gzip.compress(html.encode(), compresslevel=6, mtime=0)
    return out


# -- serving ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredPage:
    """A stored page ready to send: gzip bytes and the version they show."""

    gzipped: bytes
    version: int
    build: str

    @property
    def html(self) -> bytes:
        return zlib.decompress(self.gzipped, wbits=31)  # gzip framing, in C

    def etag(self, lang: str) -> str:
        """A weak validator: same version, build and language, same page."""
        return f'W/"{self.version}.{self.build}.{lang}"'


_STORED = {
    lang: sa.select(column, PublicPage.rendered_version).where(
        PublicPage.trace_code == sa.bindparam("code"),
        PublicPage.rendered_version == PublicPage.version,
        PublicPage.build == sa.bindparam("build"),
    )
    for lang, column in _COLUMN.items()
}


def stored_page(code: str, lang: str, app: Flask | None = None) -> StoredPage | None:
    """The stored page of a canonical ``code`` in ``lang``, if it is current: one look-up on
    one index, on a bare driver cursor (``RawQuery``). ``app`` defaults to the current one."""
    extensions = (app or current_app).extensions
    build = extensions[_BUILD]
    row = extensions[_QUERIES][lang].first({"code": code, "build": build}, extensions["traceapp.db"])
    return StoredPage(bytes(row[0]), row[1], build) if row is not None and row[0] is not None else None


_CACHE_CONTROL = "public, max-age=0, must-revalidate"
_VARY = "Accept-Language, Cookie, Accept-Encoding"
_HTML = "text/html; charset=utf-8"


def answer(
    stored: StoredPage, lang: str, if_none_match: str, accept_encoding: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body for a stored page: 304 when the client holds this version,
    the gzip bytes as stored when the client takes gzip, else the HTML."""
    etag = stored.etag(lang)
    headers = [("Cache-Control", _CACHE_CONTROL), ("ETag", etag), ("Vary", _VARY)]
    if etag in if_none_match:
        return 304, headers, b""
    if "gzip" in accept_encoding and parse_accept_header(accept_encoding)["gzip"]:
        body = stored.gzipped
        headers.append(("Content-Encoding", "gzip"))
    else:
        body = stored.html
    headers += [("Content-Type", _HTML), ("Content-Length", str(len(body)))]
    return 200, headers, body


# -- refreshing ---------------------------------------------------------------------------------


def stale_ids(
    session: Session, limit: int, after: uuid.UUID | None = None, before: uuid.UUID | None = None
) -> Sequence[uuid.UUID]:
    """Up to ``limit`` certificates (by id, after ``after`` and before ``before``) whose stored
    pages are missing, behind or of another build."""
    query = (
        sa.select(PublicPage.certificate_id).where(_stale()).order_by(PublicPage.certificate_id).limit(limit)
    )
    if after is not None:
        query = query.where(PublicPage.certificate_id > after)
    if before is not None:
        query = query.where(PublicPage.certificate_id < before)
    return session.scalars(query).all()


def shard_bounds(shard: int, shards: int) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The id range of shard ``shard`` (1-based) of ``shards`` equal slices of the UUID space:
    (exclusive lower bound, exclusive upper bound); None is open."""
    if not 1 <= shard <= shards:
        raise ValueError("shard must be between 1 and the number of shards")
    edge = [None] + [uuid.UUID(int=(2**128 * k) // shards) for k in range(1, shards)] + [None]
    low = edge[shard - 1]
    # ids equal to a lower edge belong to that shard: start just below it
    return (uuid.UUID(int=low.int - 1) if low else None), edge[shard]


def refresh_stale(chunk: int = 100, shard: tuple[int, int] = (1, 1), budget: float | None = None) -> int:
    """Store every page that is missing, behind or of another build. One pass in id order, a
    chunk at a time: render in a read transaction, then store in a short write transaction
    whatever no writer bumped meanwhile (``WHERE version = :rendered``); such a page is its
    writer's to store. So it never holds up writers, runs on any instance at any time, and
    ``shard`` (k, n) takes the k-th of n slices of the ids, for n processes to share the work.
    With ``budget`` (seconds) it stops after the chunk that passes it (the worker's sweep).
    Returns how many pages were stored."""
    stored, (after, before) = 0, shard_bounds(*shard)
    deadline = None if budget is None else time.monotonic() + budget
    while deadline is None or time.monotonic() < deadline:
        with transaction(write=False) as session:
            ids = stale_ids(session, chunk, after, before)
            rendered = render_current(session, ids)
        if not ids:
            return stored
        with transaction() as session:
            stored += store_rendered(session, rendered)
        after = ids[-1]
    return stored


def render_pages(ids: list[str], chunk: int = 100) -> int:
    """The job behind a write: store the pages of ``ids`` that are still stale (another run,
    the sweep or a later write's inline render may have stored them already; a duplicate
    message costs one look-up). Same two short transactions per chunk as ``refresh_stale``.
    Returns how many pages were stored."""
    stored, wanted = 0, sorted(uuid.UUID(i) for i in ids)
    for start in range(0, len(wanted), chunk):
        with transaction(write=False) as session:
            stale = stale_among(session, wanted[start : start + chunk])
            rendered = render_current(session, stale) if stale else []
        if rendered:
            with transaction() as session:
                stored += store_rendered(session, rendered)
    return stored


def stale_among(session: Session, ids: Sequence[uuid.UUID]) -> Sequence[uuid.UUID]:
    """Those of ``ids`` whose stored pages are missing, behind or of another build."""
    return session.scalars(
        sa.select(PublicPage.certificate_id).where(PublicPage.certificate_id.in_(list(ids)), _stale())
    ).all()


def _stale() -> sa.ColumnElement[bool]:
    return sa.or_(
        PublicPage.rendered_version.is_(None),
        PublicPage.rendered_version != PublicPage.version,
        PublicPage.build.is_distinct_from(current_build()),
    )


Rendered = list[tuple[uuid.UUID, int, dict[str, bytes]]]


def render_current(session: Session, ids: Iterable[uuid.UUID]) -> Rendered:
    """The pages of ``ids`` rendered at their current versions (each version read before the
    facts, so the page shows at least what that version stands for)."""
    rows = session.execute(
        sa.select(PublicPage.certificate_id, PublicPage.trace_code, PublicPage.version).where(
            PublicPage.certificate_id.in_(list(ids))
        )
    ).all()
    out = []
    for certificate_id, code, version in rows:
        try:
            html = render(session, code)
        except sa.exc.SQLAlchemyError:
            raise  # the transaction is gone: the job's retry or the next sweep starts again
        except Exception:
            # One page that cannot render must not hold up the others behind it in id order:
            # it stays stale, so it renders live (and fails there, visibly), and is logged
            # at every pass until mended.
            log.exception("public page %s could not be rendered; left stale", code)
            continue
        if html is not None:
            out.append((certificate_id, version, html))
    return out


def store_rendered(session: Session, rendered: Rendered) -> int:
    """Store pages rendered by ``render_current`` unless bumped since; how many were stored."""
    return sum(_store(session, certificate_id, version, html) for certificate_id, version, html in rendered)
