"""Writers that meet on the same rows wait for each other instead of failing, on SQLite and
PostgreSQL alike: a retry waits for its original and is a replay, the second of two shipments
is refused for quantity, and a write that cannot get the database in time is a 503 to retry.

Each race holds the first transaction open until the second has started, so it is the same
race every run. They need real, separately committed transactions: a committed database of
their own (a SQLite file, or a PostgreSQL database next to the test database).
"""

from __future__ import annotations

import sqlite3
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

from tests.committed import PASSWORD, Parties, committed_database, postgres_url, producer_and_market
from tests.factories import certificate_body
from traceapp import create_app, db
from traceapp.certificates.models import Certificate, Holding, Unit
from traceapp.events.holdings import QuantityExceeded
from traceapp.events.models import Event, EventKind
from traceapp.events.services import EventSettings, record_event
from traceapp.orgs.services import Actor

HOLD = 0.4  # seconds the first writer keeps its transaction open after it wrote
WHEN = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
sqlite_only = pytest.mark.skipif(postgres_url() is not None, reason="SQLite's write lock and busy timeout")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with committed_database("waiting", tmp_path_factory.mktemp("waiting")) as url:
        yield url


@pytest.fixture(scope="module")
def app(database_url: str) -> Iterator[Flask]:
    """The app on the committed database."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "w", "TESTING": True})
    yield app
    app.extensions["traceapp.db"].dispose()


def _in_transaction(app: Flask, work: Callable[[Any], Any]) -> Any:
    with app.test_request_context(), db.transaction() as session:
        return work(session)


def _parties(app: Flask) -> Parties:
    """A producer holding 100 kg of a batch, its e-mail and API token, and a market."""
    return _in_transaction(app, producer_and_market)


def _shipment(code: str, to: Actor, event_id: uuid.UUID, quantity: str = "60") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "kind": EventKind.SHIPPING,
        "occurred_at": WHEN,
        "trace_code": code,
        "quantity": Decimal(quantity),
        "unit": Unit.KG,
        "to_org": to.org_id,
    }


def _first_holds_second_waits(
    app: Flask, actor: Actor, first: dict[str, Any], second: dict[str, Any]
) -> list[Any]:
    """Record ``first`` and keep its transaction open for HOLD seconds; meanwhile record
    ``second``. What each returned (created or not) or raised."""
    settings = EventSettings.from_config(app.config)
    wrote, results = threading.Event(), [None, None]

    def run_first() -> None:
        def work(session: Any) -> bool:
            created = record_event(session, actor, data=first, settings=settings)[1]
            wrote.set()
            time.sleep(HOLD)
            return created

        results[0] = _in_transaction(app, work)

    def run_second() -> None:
        assert wrote.wait(10)
        try:
            results[1] = _in_transaction(
                app, lambda s: record_event(s, actor, data=second, settings=settings)[1]
            )
        except Exception as exc:  # noqa: BLE001 - the race's outcome is what the test checks
            results[1] = exc

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _on_hand(app: Flask, certificate: Certificate, actor: Actor) -> Decimal | None:
    with app.app_context():
        return db.session().scalar(
            sa.select(Holding.quantity).where(
                Holding.certificate_id == certificate.id, Holding.org_id == actor.org_id
            )
        )


def test_a_retry_sent_while_its_original_still_writes_waits_for_it_and_is_a_replay(app):
    p = _parties(app)
    body = _shipment(p.certificate.trace_code, p.market, uuid.uuid4())
    results = _first_holds_second_waits(app, p.producer, body, dict(body))
    assert results == [True, False], results  # not QuantityExceeded, nor "database is locked"
    assert _on_hand(app, p.certificate, p.producer) == Decimal("40")
    with app.app_context():
        count = db.session().scalar(
            sa.select(sa.func.count()).select_from(Event).where(Event.client_event_id == body["event_id"])
        )
    assert count == 1


def test_a_shipment_waiting_for_another_to_commit_is_refused_for_quantity(app):
    p = _parties(app)
    code = p.certificate.trace_code
    results = _first_holds_second_waits(
        app, p.producer, _shipment(code, p.market, uuid.uuid4()), _shipment(code, p.market, uuid.uuid4())
    )
    assert results[0] is True and isinstance(results[1], QuantityExceeded), results
    assert _on_hand(app, p.certificate, p.producer) == Decimal("40")


class WriteLock:
    """Another process's writer on the SQLite file, holding the write lock (a write not
    committed yet) from ``hold()`` to ``release()``."""

    def __init__(self, database_url: str):
        self.connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)

    def hold(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")
        self.connection.execute("UPDATE holdings SET quantity = quantity")

    def release(self) -> None:
        if self.connection.in_transaction:
            self.connection.rollback()


@pytest.fixture()
def write_lock(database_url: str) -> Iterator[WriteLock]:
    lock = WriteLock(database_url)
    yield lock
    lock.release()
    lock.connection.close()


@pytest.fixture()
def impatient(database_url: str) -> Iterator[Flask]:
    """The app waiting only 0.2 s for the write lock."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "w",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "DATABASE_BUSY_TIMEOUT": 0.2,
        }
    )
    yield app
    app.extensions["traceapp.db"].dispose()


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}


def _certificates_with(app: Flask, event_id: str) -> int:
    with app.app_context():
        return int(
            db.session().scalar(
                sa.select(sa.func.count())
                .select_from(Certificate)
                .where(Certificate.client_event_id == uuid.UUID(event_id))
            )
        )


@sqlite_only
def test_a_write_that_cannot_get_the_lock_in_time_is_a_503_to_retry_and_the_retry_lands_once(
    app, impatient, write_lock
):
    p = _parties(app)
    body = certificate_body(event_id=str(uuid.uuid4()))
    client = impatient.test_client()
    write_lock.hold()
    started = time.monotonic()
    busy = client.post("/api/v1/certificates", json=body, headers=_headers(p.token))
    waited = time.monotonic() - started
    write_lock.release()
    assert busy.status_code == 503 and busy.mimetype == "application/problem+json"
    assert busy.headers["Retry-After"] == "1"
    assert busy.json["type"].endswith("/database-busy")
    assert busy.json["title"] == "服务暂不可用" and busy.json["detail"].endswith("。")
    assert 0.2 <= waited < 5
    assert _certificates_with(app, body["event_id"]) == 0
    assert client.post("/api/v1/certificates", json=body, headers=_headers(p.token)).status_code == 201
    assert client.post("/api/v1/certificates", json=body, headers=_headers(p.token)).status_code == 200
    assert _certificates_with(app, body["event_id"]) == 1


@sqlite_only
def test_a_page_form_that_cannot_get_the_lock_in_time_is_a_503_page_in_the_users_language(
    app, impatient, write_lock
):
    p = _parties(app)
    client = impatient.test_client()
    signed_in = client.post("/login", data={"login": p.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    write_lock.hold()
    busy = client.post(
        f"/certificates/{p.certificate.id}/revoke",
        data={"reason": "标签错了"},
        headers={"Accept-Language": "en"},
    )
    write_lock.release()
    assert busy.status_code == 503 and busy.mimetype == "text/html"
    assert busy.headers["Retry-After"] == "1"
    assert "The database is busy. Please try again in a moment." in busy.get_data(as_text=True)
    assert (
        client.get(f"/api/v1/codes/{p.certificate.trace_code}", headers=_headers(p.token)).json["status"]
        == "valid"
    )


@sqlite_only
def test_reads_do_not_wait_for_a_writer(app, write_lock):
    p = _parties(app)
    client = app.test_client()  # waits up to the default 10 s for the write lock
    write_lock.hold()
    started = time.monotonic()
    scanned = client.get(f"/api/v1/codes/{p.certificate.trace_code}", headers=_headers(p.token))
    page = client.get(f"/t/{p.certificate.trace_code}")
    elapsed = time.monotonic() - started
    write_lock.release()
    assert scanned.status_code == 200 and page.status_code == 200
    assert elapsed < 5  # neither waited for the writer to finish
