"""The event pages: each kind's form records through the same rules, errors beside the field."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.api.test_events_api import handover_code
from tests.web.test_certificate_pages import sign_in
from traceapp.certificates.models import Category, Holding, HoldingState
from traceapp.events.models import Event
from traceapp.orgs.models import OrgKind


def count_events(dbsession) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(Event))


@pytest.fixture()
def batch(make):
    producer = make.member()
    return producer, make.certificate(producer, quantity=Decimal("100"), category=Category.VEGETABLE)


@pytest.mark.parametrize(
    "kind", ["shipping", "storing", "transporting", "retail_selling", "destroying", "voiding"]
)
def test_every_producer_form_renders(client, batch, kind):
    producer, certificate = batch
    sign_in(client, producer)
    page = client.get(f"/events/new?kind={kind}&code={certificate.trace_code}")
    assert page.status_code == 200 and f'name="kind" value="{kind}"' in page.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["inspecting", "receiving", "portioning", "transforming"])
def test_every_market_form_renders(client, make, kind):
    sign_in(client, make.member(OrgKind.MARKET))
    assert client.get(f"/events/new?kind={kind}").status_code == 200


def test_shipping_from_the_form_moves_the_batch(client, batch, make, dbsession):
    producer, certificate = batch
    market = make.member(OrgKind.MARKET)
    sign_in(client, producer)
    response = client.post(
        "/events/new",
        data={
            "kind": "shipping",
            "event_id": "6f1c3c1e-8c2b-4a8e-9d0a-5b6f7e8d9c01",
            "trace_code": certificate.trace_code.lower(),
            "quantity": "30",
            "unit": "kg",
            "to_org": str(market.org.id),
            "occurred_at": "2026-11-21T08:00",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    event = dbsession.scalar(sa.select(Event))
    assert event.tz_offset == "+08:00"
    assert dbsession.get(Holding, (certificate.id, market.org.id, HoldingState.IN_TRANSIT)).quantity == 30


def test_a_transport_leg_from_typed_readings_and_from_a_logger_file(client, batch, dbsession):
    producer, certificate = batch
    sign_in(client, producer)
    typed = client.post(
        "/events/new",
        data={
            "kind": "transporting",
            "event_id": "6f1c3c1e-8c2b-4a8e-9d0a-5b6f7e8d9c02",
            "trace_code": certificate.trace_code,
            "occurred_at": "2026-11-21T08:00",
            "readings_text": "2026-11-21 08:00, 3\n2026-11-21 08:10, 7\n2026-11-21 08:20, 4",
        },
    )
    assert typed.status_code == 302, typed.get_data(as_text=True)
    csv = b"timestamp,temperature\n2026-11-21T09:00:00+08:00,2\n2026-11-21T09:10:00+08:00,3\n"
    uploaded = client.post(
        "/events/new",
        content_type="multipart/form-data",
        data={
            "kind": "storing",
            "event_id": "6f1c3c1e-8c2b-4a8e-9d0a-5b6f7e8d9c03",
            "trace_code": certificate.trace_code,
            "occurred_at": "2026-11-21T09:00",
            "logger_file": (io.BytesIO(csv), "log.csv"),
        },
    )
    assert uploaded.status_code == 302
    verdicts = sorted(e.details["cold_chain"]["verdict"] for e in dbsession.scalars(sa.select(Event)))
    assert verdicts == ["excursion", "in_range"]


def test_a_broken_logger_file_is_named_with_its_line(client, batch, dbsession):
    producer, certificate = batch
    sign_in(client, producer)
    response = client.post(
        "/events/new?lang=en",
        content_type="multipart/form-data",
        data={
            "kind": "storing",
            "event_id": "6f1c3c1e-8c2b-4a8e-9d0a-5b6f7e8d9c04",
            "trace_code": certificate.trace_code,
            "occurred_at": "2026-11-21T09:00",
            "logger_file": (io.BytesIO(b"timestamp,temperature\n2026-11-21T09:00:00+08:00,cold\n"), "l.csv"),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="logger_file-error"' in html and "Line 2" in html
    assert count_events(dbsession) == 0


def test_a_gate_check_with_tests_from_the_form(client, batch, make, dbsession):
    _producer, certificate = batch
    sign_in(client, make.member(OrgKind.MARKET))
    response = client.post(
        "/events/new?lang=en",
        data={
            "kind": "inspecting",
            "event_id": "6f1c3c1e-8c2b-4a8e-9d0a-5b6f7e8d9c05",
            "trace_code": certificate.trace_code,
            "certificate_status": "valid",
            "result": "accepted",
            "quantity": "100",
            "unit": "kg",
            "brought_by.name": "张师傅",
            "occurred_at": "2026-11-21T06:00",
            "tests.0.method": "enzyme_inhibition",
            "tests.0.item": "有机磷",
            "tests.0.value": "62",
            "tests.1.method": "",
            "tests.1.item": "",
        },
    )
    assert response.status_code == 422
    assert 'id="result-error"' in response.get_data(as_text=True)
    assert count_events(dbsession) == 0


def test_a_wrong_hand_over_code_comes_back_beside_the_gate_form(client, batch, make, dbsession):
    _producer, certificate = batch
    sign_in(client, make.member(OrgKind.MARKET))
    response = client.post(
        "/events/new?lang=en",
        data={
            "kind": "inspecting",
            "event_id": "6f1c3c1e-8c2b-4a8e-9d0a-5b6f7e8d9c07",
            "trace_code": certificate.trace_code,
            "certificate_status": "valid",
            "result": "accepted",
            "handover_code": "ABCDE-FGHJK",
            "occurred_at": "2026-11-21T06:00",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="handover_code-error"' in html
    assert "This hand-over code is not valid for this batch at this gate." in html
    assert count_events(dbsession) == 0


def test_the_batches_page_lists_what_we_hold_and_rejections(client, batch, make):
    producer, certificate = batch
    market = make.member(OrgKind.MARKET)
    rejected = client.post(
        "/api/v1/events",
        headers=market.headers,
        json={
            "event_id": "6f1c3c1e-8c2b-4a8e-9d0a-5b6f7e8d9c06",
            "kind": "inspecting",
            "occurred_at": "2026-11-21T06:00:00+08:00",
            "trace_code": certificate.trace_code,
            "certificate_status": "valid",
            "result": "rejected",
            "quantity": "100",
            "unit": "kg",
            "handover_code": handover_code(client, producer, certificate),  # it had the batch
        },
    )
    assert rejected.status_code == 201, rejected.json
    sign_in(client, producer)
    html = client.get("/batches?lang=en").get_data(as_text=True)
    assert certificate.product_name in html and "Rejected at a gate" in html


def test_the_batches_page_shows_a_recalled_batch_as_recalled(client, batch, make):
    producer, certificate = batch
    regulator = make.member(OrgKind.REGULATOR)
    body = {"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_i"}
    assert client.post("/api/v1/recalls", json=body, headers=regulator.headers).status_code == 201
    sign_in(client, producer)
    html = client.get("/batches?lang=en").get_data(as_text=True)
    assert '<span class="badge revoked">Recalled</span>' in html and ">Valid<" not in html
