"""The demo data is built through the real services and tells a whole journey."""

from __future__ import annotations

import sqlalchemy as sa

from traceapp.certificates.models import Certificate, CertificateKind
from traceapp.demo import seed_demo
from traceapp.events.models import Event
from traceapp.events.services import EventSettings


def test_demo_seeds_a_journey_once_and_a_new_token_each_run(app, dbsession):
    with app.test_request_context():
        first = seed_demo(dbsession, EventSettings.from_config(app.config))
        second = seed_demo(dbsession, EventSettings.from_config(app.config))
    assert first.token != second.token
    kinds = sorted(e.kind.value for e in dbsession.scalars(sa.select(Event)))
    assert kinds == ["inspecting", "portioning", "shipping", "transporting"]
    portion = dbsession.scalar(sa.select(Certificate).where(Certificate.kind == CertificateKind.PORTION))
    assert portion is not None and portion.trace_code in dict(second.codes)
