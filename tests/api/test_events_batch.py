"""``POST /api/v1/events/batch``: many events in one request, each judged as it would be alone."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.api.test_events_api import WHEN, count_events, holding
from traceapp import limits
from traceapp.certificates.models import HoldingState
from traceapp.events import batch
from traceapp.orgs.models import OrgKind, Role
from traceapp.orgs.permissions import Action, may

URL = "/api/v1/events/batch"


@pytest.fixture()
def chain(make):
    """A producer holding 100 kg, a market, a carrier."""
    producer, market, carrier = make.member(), make.member(OrgKind.MARKET), make.member(OrgKind.CARRIER)
    return producer, market, carrier, make.certificate(producer, quantity=Decimal("100"))


def send(client, member, events: list[Any], **headers: str):
    return client.post(
        URL, json={"events": events}, headers={**member.headers, "Accept-Language": "en", **headers}
    )


def body(kind: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "kind": kind, "occurred_at": WHEN, **fields}


def shipping(certificate, to, quantity="10", **extra: Any) -> dict[str, Any]:
    return body(
        "shipping",
        trace_code=certificate.trace_code,
        quantity=quantity,
        unit="kg",
        to_org=str(to.org.id),
        **extra,
    )


def statuses(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [r["status"] for r in response.json["results"]]


def test_later_events_see_earlier_ones_receive_then_ship_on_in_one_batch(client, chain, make, dbsession):
    producer, market, _carrier, certificate = chain
    assert send(client, producer, [shipping(certificate, market, "60")]).status_code == 200
    retailer = make.member(OrgKind.RETAILER)
    received = body("receiving", trace_code=certificate.trace_code, quantity="60", unit="kg")
    shipped_on = shipping(certificate, retailer, "25")
    response = send(client, market, [received, shipped_on])
    assert statuses(response) == [201, 201]
    assert holding(dbsession, certificate, market.org) == Decimal("35")
    assert holding(dbsession, certificate, retailer.org, HoldingState.IN_TRANSIT) == Decimal("25")
    result = response.json["results"][1]
    assert result["index"] == 1 and result["event_id"] == shipped_on["event_id"] and result["id"]
    assert "problem" not in result
    assert response.json["counts"] == {"created": 2, "replayed": 0, "refused": 0}


def test_two_events_moving_the_same_holding_both_count(client, chain, dbsession):
    producer, market, carrier, certificate = chain
    response = send(
        client, producer, [shipping(certificate, market, "40"), shipping(certificate, carrier, "50")]
    )
    assert statuses(response) == [201, 201]
    assert holding(dbsession, certificate, producer.org) == Decimal("10")
    assert holding(dbsession, certificate, market.org, HoldingState.IN_TRANSIT) == Decimal("40")
    assert holding(dbsession, certificate, carrier.org, HoldingState.IN_TRANSIT) == Decimal("50")


def test_over_shipment_inside_one_batch_refuses_the_second_with_its_own_problem(client, chain, dbsession):
    producer, market, carrier, certificate = chain
    response = send(
        client, producer, [shipping(certificate, market, "60"), shipping(certificate, carrier, "60")]
    )
    assert statuses(response) == [201, 409]
    problem = response.json["results"][1]["problem"]
    assert problem["type"].endswith("/quantity-exceeded") and problem["status"] == 409
    assert "40" in problem["detail"]
    assert holding(dbsession, certificate, producer.org) == Decimal("40")
    assert holding(dbsession, certificate, carrier.org, HoldingState.IN_TRANSIT) == Decimal("0")
    assert response.json["counts"] == {"created": 1, "replayed": 0, "refused": 1}


def test_a_refused_event_in_the_middle_blocks_neither_side_and_answers_as_alone(client, chain, dbsession):
    producer, market, _carrier, certificate = chain
    unknown = shipping(certificate, market, "5") | {"trace_code": "NO-SUCH-CODE"}
    bad_quantity = shipping(certificate, market) | {"quantity": "-3"}
    events = [shipping(certificate, market, "5"), unknown, bad_quantity, shipping(certificate, market, "7")]
    response = send(client, producer, events)
    assert statuses(response) == [201, 422, 422, 201]
    assert count_events(dbsession) == 2
    assert holding(dbsession, certificate, producer.org) == Decimal("88")
    for index, alone_body in ((1, unknown), (2, bad_quantity)):
        alone = client.post(
            "/api/v1/events", json=alone_body, headers={**producer.headers, "Accept-Language": "en"}
        )
        assert response.json["results"][index]["problem"] == alone.json
        assert response.json["results"][index]["event_id"] == alone_body["event_id"]
    assert {e["field"] for e in response.json["results"][2]["problem"]["errors"]} == {"/quantity"}


def test_a_replayed_batch_answers_200_with_the_same_ids(client, chain, dbsession):
    producer, market, _carrier, certificate = chain
    events = [shipping(certificate, market, "5"), shipping(certificate, market, "6")]
    first, again = send(client, producer, events), send(client, producer, events)
    assert statuses(first) == [201, 201] and statuses(again) == [200, 200]
    assert [r["id"] for r in first.json["results"]] == [r["id"] for r in again.json["results"]]
    assert again.json["counts"] == {"created": 0, "replayed": 2, "refused": 0}
    assert count_events(dbsession) == 2
    assert holding(dbsession, certificate, producer.org) == Decimal("89")


def test_an_event_id_reused_with_another_body_is_a_conflict_as_alone(client, chain, dbsession):
    producer, market, _carrier, certificate = chain
    first = shipping(certificate, market, "5")
    other = first | {"quantity": "6"}
    response = send(client, producer, [first, other])
    assert statuses(response) == [201, 409]
    alone = client.post("/api/v1/events", json=other, headers={**producer.headers, "Accept-Language": "en"})
    assert alone.status_code == 409 and response.json["results"][1]["problem"] == alone.json
    assert count_events(dbsession) == 1


def test_a_kind_the_organisation_may_not_record_is_refused_per_event(client, chain, dbsession):
    producer, market, _carrier, certificate = chain
    check = body(
        "inspecting", trace_code=certificate.trace_code, result="accepted", certificate_status="valid"
    )
    response = send(client, producer, [check, shipping(certificate, market, "5")])
    assert statuses(response) == [403, 201]
    alone = client.post("/api/v1/events", json=check, headers={**producer.headers, "Accept-Language": "en"})
    assert response.json["results"][0]["problem"] == alone.json


def test_every_kind_of_organisation_the_table_refuses_gets_403_per_event(client, chain, make):
    _producer, market, _carrier, certificate = chain
    for kind in (k for k in OrgKind if not may(k, Role.ADMIN, Action.SHIP)):
        response = send(client, make.member(kind), [shipping(certificate, market, "5")])
        assert statuses(response) == [403], kind
        assert "Only " in response.json["results"][0]["problem"]["detail"]


def test_another_organisations_batch_is_refused_per_event(client, chain, make, dbsession):
    _producer, market, _carrier, certificate = chain
    stranger = make.member()
    response = send(client, stranger, [shipping(certificate, market, "5")])
    assert statuses(response) == [409]
    assert response.json["results"][0]["problem"]["type"].endswith("/not-holder")
    assert count_events(dbsession) == 0


def test_problems_are_in_the_callers_language(client, chain):
    producer, market, _carrier, certificate = chain
    unknown = shipping(certificate, market) | {"trace_code": "NO-SUCH-CODE"}
    response = send(client, producer, [unknown], **{"Accept-Language": "zh-CN"})
    assert response.json["results"][0]["problem"]["title"] == "输入无效"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"events": []}, "/events"),
        ({"events": "x"}, "/events"),
        ({}, "/events"),
        ({"events": [{}], "more": 1}, "/more"),
    ],
)
def test_a_body_of_another_shape_is_refused_whole(client, chain, payload, field, dbsession):
    producer = chain[0]
    response = client.post(URL, json=payload, headers={**producer.headers, "Accept-Language": "en"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in {e["field"] for e in response.json["errors"]}
    assert count_events(dbsession) == 0


def test_more_events_than_the_limit_are_refused_whole(client, chain, dbsession):
    producer, market, _carrier, certificate = chain
    events = [shipping(certificate, market, "1")] * (limits.EVENTS_PER_BATCH + 1)
    response = send(client, producer, events)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "/events"
    assert count_events(dbsession) == 0


def test_events_past_one_chunk_are_all_recorded_in_order(client, chain, dbsession, monkeypatch):
    producer, market, _carrier, certificate = chain
    monkeypatch.setattr(batch, "CHUNK", 3)
    events = [shipping(certificate, market, "1") for _ in range(7)]
    events[4] = events[4] | {"quantity": "1000"}
    response = send(client, producer, events)
    assert statuses(response) == [201, 201, 201, 201, 409, 201, 201]
    assert [r["index"] for r in response.json["results"]] == list(range(7))
    assert holding(dbsession, certificate, producer.org) == Decimal("94")


def test_the_openapi_document_states_the_limit_and_the_outcomes(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/events/batch"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    events = document["components"]["schemas"][name]["properties"]["events"]
    assert events["maxItems"] == limits.EVENTS_PER_BATCH and events["minItems"] == 1
    assert "200" in operation["responses"]


def test_a_batch_reads_its_certificates_and_event_ids_once_for_all_its_events(
    client, make, chain, count_queries
):
    producer, market, _carrier, _certificate = chain
    batches = [make.certificate(producer, quantity=Decimal("10")) for _ in range(5)]
    events = [shipping(c, market, "1") for c in batches for _ in range(2)]
    with count_queries as queries:
        assert statuses(send(client, producer, events)) == [201] * 10
    reads = [" ".join(s.split()) for s in queries.selects]
    assert len([s for s in reads if s.startswith("SELECT certificates.") and "trace_code IN" in s]) == 1
    assert not [s for s in reads if s.startswith("SELECT certificates.") and "trace_code = " in s]
    assert len([s for s in reads if "events.client_event_id IN" in s]) == 1
    assert not [s for s in reads if "FROM holdings" in s]  # the take is the holder check
