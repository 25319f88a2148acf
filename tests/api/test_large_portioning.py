"""A portioning of 2,000 finishes far inside the server's timeout: the request issues the
portions and bumps their pages; rendering them (each shows the source's whole journey) is one
job's work (issue 11, point 3)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from tests.api.test_events_api import post
from tests.api.test_input_limits import _readings
from tests.api.test_journey_api import gate
from tests.jobs import broker, run_queued
from traceapp.orgs.models import OrgKind
from traceapp.public.models import PublicPage


def ship(client, producer, market, batch, quantity):
    """The producer ships the batch to the market: the gate check then takes it in."""
    shipped = post(
        client, producer, kind="shipping", trace_code=batch.trace_code, quantity=quantity, unit="kg",
        to_org=str(market.org.id),
    )  # fmt: skip
    assert shipped.status_code == 201, shipped.json


def test_a_portioning_of_2000_leaves_every_page_to_one_job(client, make, dbsession, count_queries, app):
    """The request issues the portions in a bounded number of statements and renders no page
    (each of these pages shows the source's whole journey: 0.85 s apiece when rendered in the
    request); one render job gets them all."""
    producer, market = make.member(), make.member(OrgKind.MARKET)
    batch = make.certificate(producer, quantity=Decimal("5000"))
    readings = _readings(30)
    for _leg in range(3):  # a journey with legs and charts behind every portion's page
        stored = post(client, producer, kind="storing", trace_code=batch.trace_code, temperatures=readings)
        assert stored.status_code == 201, stored.json
    ship(client, producer, market, batch, "5000")
    assert gate(client, market, batch, quantity="5000").status_code == 201
    broker(app).flush()
    outputs = [{"quantity": "2", "unit": "kg"}] * 2000
    with count_queries as q:
        cut = post(client, market, kind="portioning", trace_code=batch.trace_code, outputs=outputs)
    assert cut.status_code == 201, cut.json
    assert len(cut.json["outputs"]) == 2000
    assert len(q.statements) < 60  # not a statement (or a render) per portion
    codes = [o["trace_code"] for o in cut.json["outputs"]]
    dbsession.expire_all()
    rendered = dbsession.scalar(
        sa.select(sa.func.count())
        .select_from(PublicPage)
        .where(PublicPage.trace_code.in_(codes), PublicPage.rendered_version.is_not(None))
    )
    assert rendered == 0
    queued = [broker(app).dequeue() for _ in range(broker(app).pending_count())]
    assert [type(t).__name__ for t in queued] == ["render_pages"]
    assert len(queued[0].kwargs["ids"]) == 2001  # the portions and the source


def test_the_render_job_stores_the_portions_pages(client, make, dbsession, app):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    batch = make.certificate(producer, quantity=Decimal("100"))
    ship(client, producer, market, batch, "100")
    assert gate(client, market, batch).status_code == 201
    cut = post(client, market, kind="portioning", trace_code=batch.trace_code,
               outputs=[{"quantity": "5", "unit": "kg"}] * 3)  # fmt: skip
    assert cut.status_code == 201, cut.json
    codes = [o["trace_code"] for o in cut.json["outputs"]]
    assert client.get(f"/t/{codes[0]}").status_code == 200  # live meanwhile
    run_queued(app)
    dbsession.expire_all()
    rows = dbsession.scalars(sa.select(PublicPage).where(PublicPage.trace_code.in_(codes))).all()
    assert len(rows) == 3 and all(r.rendered_version == r.version for r in rows)
