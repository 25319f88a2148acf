"""Concurrent requests on PostgreSQL: nobody takes more than is held, an event id lands once.

These need real, separately committed transactions racing on one database, so they run on a
committed database of their own (cosmic's two-thread test, on PostgreSQL).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.committed import committed_database, postgres_url, producer_and_market
from tests.stored import assert_stored_pages_current
from traceapp import create_app, db
from traceapp.certificates.models import Certificate, Holding, Unit
from traceapp.certificates.services import revoke_certificate
from traceapp.errors import DomainError
from traceapp.events import batch, handovers
from traceapp.events.models import Event, EventKind
from traceapp.events.services import EventSettings, record_event
from traceapp.orgs import services as orgs
from traceapp.orgs.models import OrgKind, Role
from traceapp.orgs.services import Actor
from traceapp.public import pages
from traceapp.recalls.services import open_recall

pytestmark = pytest.mark.skipif(
    postgres_url() is None,
    reason="needs PostgreSQL: SQLite has one writer at a time, so there is no race to lose",
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a committed database of its own."""
    with committed_database("concurrency", tmp_path_factory.mktemp("concurrency")) as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "c", "TESTING": True})
        yield app
        app.extensions["traceapp.db"].dispose()


def _in_transaction(app: Flask, work: Callable[[Any], Any]) -> Any:
    with app.app_context(), db.transaction() as session:
        return work(session)


def _producer_with_batch(app: Flask) -> tuple[Actor, Actor, Certificate]:
    parties = _in_transaction(app, producer_and_market)
    return parties.producer, parties.market, parties.certificate


def _race(workers: list[Callable[[], Any]]) -> list[Any]:
    """Start all workers at once; collect what each returned or raised."""
    barrier, results = threading.Barrier(len(workers)), [None] * len(workers)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = workers[index]()
        except DomainError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


WHEN = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def _ship(app: Flask, actor: Actor, to: Actor, code: str, event_id: uuid.UUID, quantity: str) -> Any:
    data = {
        "event_id": event_id,
        "kind": EventKind.SHIPPING,
        "occurred_at": WHEN,
        "trace_code": code,
        "quantity": Decimal(quantity),
        "unit": Unit.KG,
        "to_org": to.org_id,
    }
    settings = EventSettings.from_config(app.config)
    return _in_transaction(app, lambda s: record_event(s, actor, data=data, settings=settings)[1])


@pytest.mark.postgres_only
def test_two_concurrent_shipments_cannot_take_more_than_is_held(app):
    producer, market, certificate = _producer_with_batch(app)
    results = _race(
        [lambda: _ship(app, producer, market, certificate.trace_code, uuid.uuid4(), "60") for _ in range(2)]
    )
    assert sorted(type(r).__name__ for r in results) == ["QuantityExceeded", "bool"]
    with app.app_context():
        held = db.session().scalar(
            sa.select(Holding.quantity).where(
                Holding.certificate_id == certificate.id, Holding.org_id == producer.org_id
            )
        )
    assert held == Decimal("40")


@pytest.mark.postgres_only
def test_many_concurrent_small_shipments_stop_exactly_at_zero(app):
    producer, market, certificate = _producer_with_batch(app)
    results = _race(
        [lambda: _ship(app, producer, market, certificate.trace_code, uuid.uuid4(), "15") for _ in range(8)]
    )
    assert sum(r is True for r in results) == 6  # 6 × 15 = 90 ≤ 100 < 7 × 15


@pytest.mark.postgres_only
def test_the_same_event_id_sent_twice_at_once_is_recorded_once(app):
    producer, market, certificate = _producer_with_batch(app)
    event_id = uuid.uuid4()
    results = _race(
        [lambda: _ship(app, producer, market, certificate.trace_code, event_id, "10") for _ in range(2)]
    )
    assert sorted(results) == [False, True]
    with app.app_context():
        stored = db.session().scalar(
            sa.select(sa.func.count()).select_from(Event).where(Event.client_event_id == event_id)
        )
    assert stored == 1


@pytest.mark.postgres_only
def test_a_revocation_racing_a_recall_leaves_the_stored_page_current(app, monkeypatch):
    """Both render the page before they commit. The recall renders first and is slow to store
    it; the revocation commits meanwhile. The revocation must wait for the recall's page and
    render after it: never may the recall's page, rendered before the revocation, be the one
    left stored."""
    producer, _market, certificate = _producer_with_batch(app)
    rendering, real_render = threading.Event(), pages.render

    def slow_render(session: Any, code: str) -> Any:
        out = real_render(session, code)
        if threading.current_thread().name == "recaller":
            rendering.set()
            time.sleep(0.5)
        return out

    monkeypatch.setattr(pages, "render", slow_render)
    done: list[str] = []

    def recall() -> None:
        _in_transaction(
            app,
            lambda s: open_recall(
                s,
                producer,
                data={"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_i"},
            ),
        )
        done.append("recall")

    def revoke() -> None:
        rendering.wait(10)
        _in_transaction(
            app, lambda s: revoke_certificate(s, producer, certificate_id=certificate.id, reason="标签错了")
        )
        done.append("revoke")

    threads = [threading.Thread(name="recaller", target=recall), threading.Thread(target=revoke)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(done) == ["recall", "revoke"]
    assert_stored_pages_current(app)
    with app.app_context():
        page = pages.stored_page(certificate.trace_code, "en")
    assert page is not None and b"RECALLED" in page.html and b"REVOKED" in page.html


@pytest.mark.postgres_only
def test_stored_pages_survive_the_server_dropping_their_connections(app):
    """Stored pages are read in autocommit with no ping; a dropped connection is replaced."""
    _producer, _market, certificate = _producer_with_batch(app)
    client = app.test_client()
    assert client.get(f"/t/{certificate.trace_code}").headers.get("ETag")
    with app.app_context():
        with db.database().engine.connect() as conn:
            dropped = conn.scalar(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    assert dropped >= 1
    again = client.get(f"/t/{certificate.trace_code}")
    assert again.status_code == 200 and again.headers.get("ETag")


def _second_market(app: Flask) -> Actor:
    def setup(session):  # type: ignore[no-untyped-def]
        market = orgs.create_organisation(session, kind=OrgKind.MARKET, name="m2")
        user = orgs.create_user(
            session,
            org_id=market.id,
            email=f"{uuid.uuid4().hex}@x.cn",
            password="long-enough",
            role=Role.ADMIN,
        )
        return Actor.of(user)

    return _in_transaction(app, setup)


def _gate_with_code(app: Flask, market: Actor, trace_code: str, handover: str) -> Any:
    data = {
        "event_id": uuid.uuid4(),
        "kind": EventKind.INSPECTING,
        "occurred_at": WHEN,
        "trace_code": trace_code,
        "certificate_status": "valid",
        "result": "accepted",
        "handover_code": handover,
    }
    settings = EventSettings.from_config(app.config)
    return _in_transaction(app, lambda s: record_event(s, market, data=data, settings=settings)[1])


@pytest.mark.postgres_only
def test_one_hand_over_code_used_at_two_gates_at_once_moves_the_stock_once(app):
    producer, market, certificate = _producer_with_batch(app)
    other = _second_market(app)
    settings = handovers.HandoverSettings.from_config(app.config)
    row = _in_transaction(
        app,
        lambda s: handovers.create_handover_code(
            s,
            producer,
            data={"event_id": uuid.uuid4(), "trace_code": certificate.trace_code},
            settings=settings,
        )[0],
    )
    code = handovers.code_of(settings.secret, row.id)
    results = _race(
        [lambda m=m: _gate_with_code(app, m, certificate.trace_code, code) for m in (market, other)]
    )
    assert sorted(type(r).__name__ for r in results) == ["HandoverCodeUsed", "bool"]
    with app.app_context():
        holdings = dict(
            db.session()
            .execute(
                sa.select(Holding.org_id, Holding.quantity).where(Holding.certificate_id == certificate.id)
            )
            .all()
        )
    assert holdings[producer.org_id] == 0 and sorted(holdings.values()) == [0, Decimal("100")]


@pytest.mark.postgres_only
def test_the_same_batch_sent_twice_at_once_records_each_event_once(app, monkeypatch):
    """Two chunks each: whichever request reaches an event second waits for the first's chunk
    to commit and answers it as a replay, and the holding is taken once per event."""
    producer, market, certificate = _producer_with_batch(app)
    monkeypatch.setattr(batch, "CHUNK", 4)
    ids = [str(uuid.uuid4()) for _ in range(6)]
    events = [
        {
            "event_id": event_id,
            "kind": "shipping",
            "occurred_at": WHEN.isoformat(),
            "trace_code": certificate.trace_code,
            "quantity": "10",
            "unit": "kg",
            "to_org": str(market.org_id),
        }
        for event_id in ids
    ]
    settings = EventSettings.from_config(app.config)

    def send() -> list[int]:
        with app.app_context():
            outcomes = batch.record_batch(db.transaction, producer, events=events, settings=settings)
            return [o.status for o in outcomes]

    results = _race([send, send])
    assert all(isinstance(r, list) for r in results), results
    assert sorted(s for r in results for s in r) == [200] * 6 + [201] * 6
    with app.app_context():
        stored = db.session().scalar(
            sa.select(sa.func.count())
            .select_from(Event)
            .where(Event.client_event_id.in_([uuid.UUID(i) for i in ids]))
        )
        held = db.session().scalar(
            sa.select(Holding.quantity).where(
                Holding.certificate_id == certificate.id, Holding.org_id == producer.org_id
            )
        )
    assert stored == 6 and held == Decimal("40")


@pytest.mark.postgres_only
def test_concurrent_pallets_get_distinct_consecutive_ssccs(app):
    """Each packer's UPDATE ... RETURNING takes the organisation's row lock: eight pallets built
    at once get eight different SSCCs, serials 1 to 8 with nothing skipped."""
    from traceapp.events import pallets
    from traceapp.orgs import members

    producer, _market, certificate = _producer_with_batch(app)
    with app.test_request_context(), db.transaction() as session:
        members.set_company_prefix(session, producer, prefix="6901234")
    settings = EventSettings.from_config(app.config)

    def pack() -> str:
        data = {
            "event_id": uuid.uuid4(),
            "kind": EventKind.AGGREGATING,
            "occurred_at": WHEN,
            "cases": [{"trace_code": certificate.trace_code, "quantity": Decimal("5"), "unit": Unit.KG}],
        }
        event = _in_transaction(app, lambda s: record_event(s, producer, data=data, settings=settings)[0])
        return event.details["sscc"]

    results = _race([pack for _ in range(8)])
    assert sorted(results) == sorted(pallets.make_sscc("6901234", n) for n in range(1, 9))


@pytest.mark.postgres_only
def test_one_gln_saved_by_two_organisations_at_once_goes_to_one(app):
    """Both organisations claim the prefix and a GLN from it at once: one gets both; the other
    gets the clear error naming the prefix, whether the look-up saw the winner's commit or the
    unique constraint (inside a savepoint) caught it. The GLN's own constraint stays behind it."""
    from traceapp import gs1
    from traceapp.orgs import members
    from traceapp.orgs.models import Organisation

    producer, market, _certificate = _producer_with_batch(app)
    prefix = _fresh_prefix()  # the module's database is shared: another test's prefix is taken
    gln = next(g for g in (f"{prefix}00001{d}" for d in range(10)) if gs1.is_valid_gtin(g))

    def save(actor: Actor) -> Callable[[], Any]:
        def work() -> Any:
            with app.test_request_context(), db.transaction() as session:
                members.set_company_prefix(session, actor, prefix=prefix)
                return members.set_gln(session, actor, gln=gln).id

        return work

    results = _race([save(producer), save(market)])
    won = [r for r in results if isinstance(r, uuid.UUID)]
    lost = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert [e.field.lstrip("/") for e in lost[0].errors] == ["gs1_company_prefix"]
    with app.app_context(), db.transaction() as session:
        holders = session.scalars(sa.select(Organisation.id).where(Organisation.gln == gln)).all()
    assert holders == won


@pytest.mark.postgres_only
@pytest.mark.parametrize("overlap", ["equal", "longer", "shorter"])
def test_one_prefix_or_overlapping_prefixes_saved_at_once_go_to_one_organisation(app, overlap):
    """Equal prefixes are stopped by the unique constraint; overlapping ones (one the start of
    the other) by the advisory lock that makes the second look-up see the first commit."""
    from traceapp.orgs import members
    from traceapp.orgs.models import Organisation

    producer, market, _certificate = _producer_with_batch(app)
    first = _fresh_prefix()
    second = {"equal": first, "longer": first + "5", "shorter": first[:-1]}[overlap]

    def save(actor: Actor, prefix: str) -> Callable[[], Any]:
        def work() -> Any:
            with app.test_request_context(), db.transaction() as session:
                return members.set_company_prefix(session, actor, prefix=prefix).id

        return work

    results = _race([save(producer, first), save(market, second)])
    won = [r for r in results if isinstance(r, uuid.UUID)]
    lost = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert [e.field.lstrip("/") for e in lost[0].errors] == ["gs1_company_prefix"]
    with app.app_context(), db.transaction() as session:
        holders = session.scalars(
            sa.select(Organisation.id).where(
                Organisation.id.in_([producer.org_id, market.org_id]),
                Organisation.gs1_company_prefix.is_not(None),
            )
        ).all()
    assert holders == won


def _fresh_prefix() -> str:
    """Seven digits starting 95 that no earlier test of the module's database claimed."""
    return f"95{uuid.uuid4().int % 100000:05d}"
