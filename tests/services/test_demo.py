"""The demo data is built through the real services and tells a whole journey."""

from __future__ import annotations

import sqlalchemy as sa

from traceapp.certificates.models import Certificate, CertificateKind
from traceapp.db import utcnow
from traceapp.demo import REGULATOR_EMAIL, seed_demo
from traceapp.events.models import Event
from traceapp.events.services import EventSettings
from traceapp.orgs.models import User
from traceapp.orgs.services import Actor
from traceapp.recalls.services import open_recall


def test_demo_seeds_a_journey_once_and_a_new_token_each_run(app, dbsession):
    with app.test_request_context():
        first = seed_demo(dbsession, EventSettings.from_config(app.config))
        second = seed_demo(dbsession, EventSettings.from_config(app.config))
    assert first.token != second.token
    kinds = sorted(e.kind.value for e in dbsession.scalars(sa.select(Event)))
    assert kinds == ["inspecting", "portioning", "shipping", "shipping", "transporting"]
    portion = dbsession.scalar(sa.select(Certificate).where(Certificate.kind == CertificateKind.PORTION))
    assert portion is not None and portion.trace_code in dict(second.codes)


def test_the_demo_names_its_organisations_and_nothing_in_it_lies_in_the_future(app, dbsession):
    with app.test_request_context():
        summary = seed_demo(dbsession, EventSettings.from_config(app.config))
    text = summary.describe("http://127.0.0.1:5000")
    assert "武汉白沙洲农副产品大市场 (market)" in text and "楚天冷链物流 (carrier)" in text
    assert "武汉市农业农村局 (regulator)" in text
    now = utcnow()
    assert max(dbsession.scalars(sa.select(Event.occurred_at))) <= now
    assert max(dbsession.scalars(sa.select(Certificate.issued_at))) <= now
    # The journey follows its issue: nothing happened to the cabbage before it was issued.
    cabbage = dbsession.scalars(
        sa.select(Certificate).where(
            Certificate.product_name == "大白菜", Certificate.kind == CertificateKind.CERTIFICATE
        )
    ).one()
    assert min(dbsession.scalars(sa.select(Event.occurred_at))) >= cabbage.issued_at


def test_the_demo_carrier_has_a_shipment_in_its_care(app, dbsession):
    from traceapp.demo import CARRIER_EMAIL
    from traceapp.events.queries import carried_shipments

    with app.test_request_context():
        seed_demo(dbsession, EventSettings.from_config(app.config))
        carrier = dbsession.scalars(sa.select(User).where(User.email == CARRIER_EMAIL)).one()
        [carried] = carried_shipments(dbsession, carrier.org_id)
    assert carried.certificate.product_name == "西兰花" and carried.quantity == 60


def test_the_demo_says_a_recalled_batch_is_recalled_not_valid(app, dbsession):
    with app.test_request_context():
        settings = EventSettings.from_config(app.config)
        first = seed_demo(dbsession, settings)
        cabbage = next(code for code, what in first.codes if what.startswith("大白菜"))
        assert dict(first.codes)[cabbage] == "大白菜 (certificate, valid)"
        regulator = Actor.of(dbsession.scalars(sa.select(User).where(User.email == REGULATOR_EMAIL)).one())
        data = {"trace_codes": [cabbage], "reason": "农残超标", "severity": "class_i"}
        open_recall(dbsession, regulator, data=data)
        again = dict(seed_demo(dbsession, settings).codes)
    assert again[cabbage] == "大白菜 (certificate, recalled)"
    assert "草鸡蛋 (certificate, revoked)" in again.values()
