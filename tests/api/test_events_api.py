"""Recording hops through ``POST /api/v1/events``: custody, gate, cold chain, processing."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from traceapp.certificates.models import Category, Holding, HoldingState
from traceapp.events.models import Event
from traceapp.orgs.models import OrgKind

WHEN = "2026-11-21T08:00:00+08:00"


def post(client, member, **body):
    body.setdefault("event_id", str(uuid.uuid4()))
    body.setdefault("occurred_at", WHEN)
    return client.post("/api/v1/events", json=body, headers={**member.headers, "Accept-Language": "en"})


def ship_to(client, holder, certificate, market, quantity="60", **extra):
    """The holder ships ``quantity`` kg of ``certificate`` to ``market`` (through the API)."""
    body = dict(trace_code=certificate.trace_code, quantity=quantity, unit="kg", to_org=str(market.org.id))
    return post(client, holder, kind="shipping", **body, **extra)


def handover_code(client, holder, certificate, **extra):
    """A hand-over code the holder gives for its stock of ``certificate`` (through the API)."""
    body = {"event_id": str(uuid.uuid4()), "trace_code": certificate.trace_code, **extra}
    response = client.post(
        "/api/v1/handover-codes", json=body, headers={**holder.headers, "Accept-Language": "en"}
    )
    assert response.status_code == 201, response.json
    return response.json["code"]


def holding(dbsession, certificate, org, state=HoldingState.ON_HAND):
    dbsession.expire_all()
    row = dbsession.get(Holding, (certificate.id, org.id, state))
    return row.quantity if row else Decimal(0)


def count_events(dbsession) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(Event))


@pytest.fixture()
def chain(make):
    """A producer holding 100 kg, a market, a carrier."""
    producer, market, carrier = make.member(), make.member(OrgKind.MARKET), make.member(OrgKind.CARRIER)
    certificate = make.certificate(producer, quantity=Decimal("100"), category=Category.VEGETABLE)
    return producer, market, carrier, certificate


def ship(client, chain, quantity="60", **extra):
    producer, market, _carrier, certificate = chain
    return post(
        client,
        producer,
        kind="shipping",
        trace_code=certificate.trace_code,
        quantity=quantity,
        unit="kg",
        to_org=str(market.org.id),
        **extra,
    )


def test_shipping_moves_quantity_into_transit_to_the_receiver(client, chain, dbsession):
    producer, market, _carrier, certificate = chain
    response = ship(client, chain)
    assert response.status_code == 201, response.json
    assert response.json["biz_step"] == "shipping" and response.json["disposition"] == "in_transit"
    assert holding(dbsession, certificate, producer.org) == Decimal("40")
    assert holding(dbsession, certificate, market.org, HoldingState.IN_TRANSIT) == Decimal("60")


def test_receiving_records_the_difference_instead_of_hiding_it(client, chain, dbsession):
    _producer, market, _carrier, certificate = chain
    ship(client, chain)
    received = post(
        client, market, kind="receiving", trace_code=certificate.trace_code, quantity="58.5", unit="kg"
    )
    assert received.status_code == 201, received.json
    assert received.json["details"]["lost"] == "1.5"
    assert holding(dbsession, certificate, market.org) == Decimal("58.5")
    assert holding(dbsession, certificate, market.org, HoldingState.IN_TRANSIT) == 0


def test_nobody_receives_more_than_was_shipped_or_what_was_not_shipped(client, chain):
    producer, market, _carrier, certificate = chain
    nothing = post(
        client, market, kind="receiving", trace_code=certificate.trace_code, quantity="1", unit="kg"
    )
    assert nothing.status_code == 409
    ship(client, chain)
    too_much = post(
        client, market, kind="receiving", trace_code=certificate.trace_code, quantity="61", unit="kg"
    )
    assert too_much.status_code == 422 and too_much.json["errors"][0]["field"] == "/quantity"


def test_only_the_holder_ships_and_never_more_than_held(client, chain, dbsession):
    producer, market, carrier, certificate = chain
    too_much = ship(client, chain, quantity="101")
    assert too_much.status_code == 409
    assert too_much.json["detail"] == "Only 100 kg is held; 101 kg cannot be taken."
    body = dict(trace_code=certificate.trace_code, quantity="250", unit="jin", to_org=str(market.org.id))
    chinese = client.post(
        "/api/v1/events",
        json={"event_id": str(uuid.uuid4()), "occurred_at": WHEN, "kind": "shipping", **body},
        headers={**producer.headers, "Accept-Language": "zh-CN"},
    )
    assert chinese.json["detail"] == "仅持有 100 千克，不足 125 千克。"  # in the batch's unit
    stranger = ship_to(client, carrier, certificate, market, quantity="1")
    assert stranger.status_code == 409
    assert count_events(dbsession) == 0


def test_quantities_convert_between_kg_and_jin_but_not_boxes(client, chain, dbsession):
    producer, _market, _carrier, certificate = chain
    assert ship(client, chain, quantity="20").status_code == 201
    response = post(
        client, producer, kind="retail_selling", trace_code=certificate.trace_code, quantity="10", unit="jin"
    )
    assert response.status_code == 201
    assert holding(dbsession, certificate, producer.org) == Decimal("75")  # 100 - 20 - 10 jin
    boxes = post(
        client, producer, kind="retail_selling", trace_code=certificate.trace_code, quantity="1", unit="box"
    )
    assert boxes.status_code == 422 and boxes.json["errors"][0]["field"] == "/unit"


def test_same_event_id_and_body_replays_and_another_body_conflicts(client, chain, dbsession):
    event_id = str(uuid.uuid4())
    first, again = ship(client, chain, event_id=event_id), ship(client, chain, event_id=event_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    assert ship(client, chain, quantity="5", event_id=event_id).status_code == 409
    assert count_events(dbsession) == 1


def test_revoked_batches_cannot_move_on(client, chain):
    producer, _market, _carrier, certificate = chain
    client.post(
        f"/api/v1/certificates/{certificate.id}/revoke", json={"reason": "x"}, headers=producer.headers
    )
    assert ship(client, chain).status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "shipping", "quantity": "1", "unit": "kg"}, "/trace_code"),
        ({"kind": "shipping", "trace_code": "X", "quantity": "1", "unit": "kg"}, "/to_org"),
        ({"kind": "storing", "trace_code": "X", "to_org": str(uuid.uuid4())}, "/to_org"),
        ({"kind": "teleporting", "trace_code": "X"}, "/kind"),
        ({"kind": "commissioning", "trace_code": "X"}, "/kind"),
        ({"kind": "storing", "trace_code": "X", "occurred_at": "2026-11-21T08:00:00"}, "/occurred_at"),
        ({"kind": "storing", "trace_code": "X", "event_id": "nope"}, "/event_id"),
        (
            {"kind": "storing", "trace_code": "X", "temperatures": [{"at": WHEN, "celsius": "hot"}]},
            "/temperatures/0/celsius",
        ),
        ({"kind": "transforming", "inputs": [], "outputs": []}, "/inputs"),
        ({"kind": "voiding"}, "/corrects"),
    ],
)
def test_bad_event_bodies_name_the_field_and_write_nothing(client, make, dbsession, body, field):
    member = make.member()
    response = post(client, member, **body)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.json["errors"]]
    assert count_events(dbsession) == 0


def test_an_unknown_trace_code_is_named(client, make):
    response = post(client, make.member(), kind="storing", trace_code="ABCD-EFGH-JKLM-NP")
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "/trace_code"


def test_code_lookup_reads_a_scanned_gs1_element_string_with_the_code_as_lot(client, chain):
    # A case label's GS1-128 (GTIN + lot) pasted as scanned; a Digital Link URI has slashes
    # and goes through the look-up form or the gate page instead.
    _producer, market, _carrier, certificate = chain
    scanned = f"(01)09506000134352(10){certificate.trace_code}"
    body = client.get(f"/api/v1/codes/{scanned}", headers=market.headers).json
    assert body["certificate"]["trace_code"] == certificate.trace_code
    assert client.get(f"/api/v1/codes/{scanned}X", headers=market.headers).status_code == 404


def test_events_need_a_token(client):
    response = client.post("/api/v1/events", json={"kind": "storing"})
    assert response.status_code == 401


def test_code_lookup_shows_holders_and_the_journey(client, chain):
    _producer, market, _carrier, certificate = chain
    ship(client, chain)
    post(client, market, kind="receiving", trace_code=certificate.trace_code, quantity="60", unit="kg")
    body = client.get(f"/api/v1/codes/{certificate.trace_code}", headers=market.headers).json
    assert [e["kind"] for e in body["events"]] == ["commissioning", "shipping", "receiving"]
    assert all(e["event_id"] and e["occurred_at"] and e["org_id"] for e in body["events"])
    holders = {(h["org_name"], h["state"]): h["quantity"] for h in body["holders"]}
    assert holders == {(chain[0].org.name, "on_hand"): "40", (market.org.name, "on_hand"): "60"}


def test_an_event_is_readable_by_its_parties_only(client, chain, make):
    _producer, market, _carrier, _certificate = chain
    event = ship(client, chain).json
    assert client.get(f"/api/v1/events/{event['id']}", headers=market.headers).status_code == 200
    outsider = make.member()
    assert client.get(f"/api/v1/events/{event['id']}", headers=outsider.headers).status_code == 404
