"""Two buyers' clerks re-issue from the same purchase line at once on PostgreSQL: the line's
remaining falls by a conditional UPDATE, so only what was bought is ever re-issued."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from tests.committed import committed_database, postgres_url, producer_and_market
from traceapp import create_app, db
from traceapp.certificates.models import Basis, Commitment, Unit
from traceapp.errors import DomainError
from traceapp.events.models import EventKind
from traceapp.events.services import EventSettings, record_event
from traceapp.purchases.models import PurchaseLine
from traceapp.purchases.services import record_purchase

pytestmark = pytest.mark.skipif(
    postgres_url() is None,
    reason="needs PostgreSQL: SQLite has one writer at a time, so there is no race to lose",
)
WHEN = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a committed database of its own."""
    with committed_database("purchases", tmp_path_factory.mktemp("purchases")) as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "c", "TESTING": True})
        yield app
        app.extensions["traceapp.db"].dispose()


def _reissue(app: Flask, actor: Any, line_id: uuid.UUID) -> Any:
    data = {
        "event_id": uuid.uuid4(),
        "kind": EventKind.TRANSFORMING,
        "occurred_at": WHEN,
        "inputs": [{"purchase_line": line_id, "quantity": Decimal("30"), "unit": Unit.KG}],
        "outputs": [
            {
                "product_name": "净菜",
                "quantity": Decimal("30"),
                "unit": Unit.KG,
                "origin": {"region_code": "420116"},
                "commitments": list(Commitment),
                "basis": [Basis.SELF_COMMITMENT],
            }
        ],
    }
    with app.test_request_context(), db.transaction() as session:
        return record_event(session, actor, data=data, settings=EventSettings.from_config(app.config))


def test_two_reissues_racing_for_one_line_never_take_more_than_was_bought(app):
    with app.test_request_context(), db.transaction() as session:
        market = producer_and_market(session).market
        body = {
            "event_id": uuid.uuid4(),
            "seller": {"name": "张三"},
            "purchased_at": WHEN,
            "lines": [
                {
                    "product_name": "大白菜",
                    "quantity": Decimal("50"),
                    "unit": Unit.KG,
                    "collected": "foreign",
                    "code": "ZJ-1",
                    "url": "https://hgz.example.gov.cn/q?c=ZJ-1",
                }
            ],
        }
        purchase, _ = record_purchase(
            session, market, data=body, settings=EventSettings.from_config(app.config)
        )
        line_id = session.query(PurchaseLine.id).filter(PurchaseLine.purchase_id == purchase.id).scalar()
    barrier, results = threading.Barrier(2), [None, None]

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = _reissue(app, market, line_id)
        except DomainError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].status == 409
    with app.app_context(), db.transaction() as session:
        assert session.get(PurchaseLine, line_id).remaining == Decimal("20")
