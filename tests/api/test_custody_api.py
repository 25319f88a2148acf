"""Custody moves only with the holder's word: gate checks, hand-over codes, claims, carriers,
what strangers read, and disputes a regulator resolves (through the API, on the real database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.api.test_events_api import WHEN, count_events, handover_code, holding, post, ship_to
from traceapp.certificates.models import Category
from traceapp.events.models import CustodyDispute, Event, HandoverCode, HoldingChange
from traceapp.orgs.models import OrgKind
from traceapp.recalls.overview import overview

PHONE = "13812345678"


@pytest.fixture()
def world(make):
    """A producer holding 100 kg (phone on the certificate), two markets, a carrier, a regulator."""
    producer = make.member()
    market, other = make.member(OrgKind.MARKET), make.member(OrgKind.MARKET)
    carrier, regulator = make.member(OrgKind.CARRIER), make.member(OrgKind.REGULATOR)
    certificate = make.certificate(
        producer,
        quantity=Decimal("100"),
        category=Category.VEGETABLE,
        producer={"name": "张三", "phone": PHONE},
    )
    return producer, market, other, carrier, regulator, certificate


def accept(client, market, certificate, **extra):
    body = {
        "kind": "inspecting",
        "trace_code": certificate.trace_code,
        "certificate_status": "valid",
        "result": "accepted",
        "brought_by": {"name": "李师傅", "phone": "13900000000", "vehicle": "鄂A12345"},
        **extra,
    }
    return post(client, market, **body)


def reject(client, market, certificate, **extra):
    return accept(
        client,
        market,
        certificate,
        result="rejected",
        tests=[{"method": "enzyme_inhibition", "item": "有机磷", "value": "62", "tester": "王检"}],
        **extra,
    )


def api(client, method, url, member, **kwargs):
    headers = {**member.headers, "Accept-Language": "en"}
    return getattr(client, method)(url, headers=headers, **kwargs)


# -- the gate takes over only what the holder gave ---------------------------------------------


def test_an_accepted_gate_check_without_shipment_or_code_records_the_check_but_moves_nothing(
    client, world, dbsession
):
    producer, market, _other, _carrier, _regulator, certificate = world
    response = accept(client, market, certificate, quantity="100", unit="kg")
    assert response.status_code == 201, response.json
    assert response.json["details"]["custody"] == {"basis": "none"}
    assert response.json["source_org_id"] is None
    assert holding(dbsession, certificate, producer.org) == Decimal("100")
    assert holding(dbsession, certificate, market.org) == 0


def test_naming_the_producer_as_from_org_without_its_code_is_refused_and_writes_nothing(
    client, world, dbsession
):
    producer, market, _other, _carrier, _regulator, certificate = world
    before = count_events(dbsession)
    response = accept(client, market, certificate, from_org=str(producer.org.id), quantity="100", unit="kg")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["field"] == "/handover_code"
    assert count_events(dbsession) == before
    assert holding(dbsession, certificate, producer.org) == Decimal("100")


def test_the_holders_hand_over_code_moves_its_stock_once_and_a_replay_moves_nothing_more(
    client, world, dbsession
):
    producer, market, _other, _carrier, _regulator, certificate = world
    code = handover_code(client, producer, certificate)
    body = {
        "event_id": str(uuid.uuid4()),
        "kind": "inspecting",
        "occurred_at": WHEN,
        "trace_code": certificate.trace_code,
        "certificate_status": "valid",
        "result": "accepted",
        "handover_code": code.lower()[:5] + "-" + code[5:],  # as typed: any case, a dash
    }
    first = api(client, "post", "/api/v1/events", market, json=body)
    assert first.status_code == 201, first.json
    assert first.json["details"]["custody"] == {"basis": "handover_code", "from_org": str(producer.org.id)}
    assert first.json["source_org_id"] == str(producer.org.id)
    assert holding(dbsession, certificate, market.org) == Decimal("100")
    assert holding(dbsession, certificate, producer.org) == 0
    replay = api(client, "post", "/api/v1/events", market, json=body)
    assert replay.status_code == 200 and replay.json["id"] == first.json["id"]
    again = api(client, "post", "/api/v1/events", market, json={**body, "event_id": str(uuid.uuid4())})
    assert again.status_code == 409 and again.json["type"].endswith("/handover-code-used")
    assert holding(dbsession, certificate, market.org) == Decimal("100")
    used = dbsession.scalar(sa.select(HandoverCode).where(HandoverCode.certificate_id == certificate.id))
    assert str(used.used_by_event_id) == first.json["id"]


def test_a_code_allows_at_most_its_quantity_and_only_at_the_market_it_names(client, world, dbsession):
    producer, market, other, _carrier, _regulator, certificate = world
    code = handover_code(client, producer, certificate, quantity="40", unit="kg", to_org=str(market.org.id))
    elsewhere = accept(client, other, certificate, handover_code=code)
    assert elsewhere.status_code == 422 and elsewhere.json["errors"][0]["field"] == "/handover_code"
    too_much = accept(client, market, certificate, handover_code=code, quantity="50", unit="kg")
    assert too_much.status_code == 422 and too_much.json["errors"][0]["field"] == "/quantity"
    taken = accept(client, market, certificate, handover_code=code)
    assert taken.status_code == 201, taken.json
    assert holding(dbsession, certificate, market.org) == Decimal("40")
    assert holding(dbsession, certificate, producer.org) == Decimal("60")


def test_a_code_of_another_batch_an_unknown_code_and_an_expired_code_are_refused(client, world, make, app):
    producer, market, _other, _carrier, _regulator, certificate = world
    second = make.certificate(producer, quantity=Decimal("10"))
    wrong_batch = handover_code(client, producer, second)
    for code in (wrong_batch, "ABCDE-FGHJK"):
        refused = accept(client, market, certificate, handover_code=code)
        assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "/handover_code"
    app.config["HANDOVER_CODE_HOURS"] = 0
    expired = handover_code(client, producer, certificate)
    refused = accept(client, market, certificate, handover_code=expired)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "/handover_code"


def test_only_a_holder_gives_a_code_and_bad_bodies_name_the_field(client, world, dbsession):
    producer, market, _other, _carrier, regulator, certificate = world
    url = "/api/v1/handover-codes"
    body = {"event_id": str(uuid.uuid4()), "trace_code": certificate.trace_code}
    assert api(client, "post", url, market, json=body).status_code == 409  # another org's batch
    assert api(client, "post", url, regulator, json=body).status_code == 403  # regulators do not trade
    assert client.post(url, json=body).status_code == 401
    for bad, field in [
        ({"trace_code": "XXXX"}, "/trace_code"),
        ({"quantity": "500", "unit": "kg"}, "/quantity"),
        ({"quantity": "5"}, "/unit"),
        ({"quantity": "5", "unit": "box"}, "/unit"),
        ({"to_org": str(producer.org.id)}, "/to_org"),
        ({"colour": "red"}, "/colour"),
    ]:
        response = api(client, "post", url, producer, json={**body, "event_id": str(uuid.uuid4()), **bad})
        assert response.status_code == 422, (bad, response.json)
        assert response.mimetype == "application/problem+json"
        assert [e["field"] for e in response.json["errors"]] == [field], response.json
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(HandoverCode)) == 0


def test_a_code_request_replays_with_the_same_code_and_conflicts_with_another_body(client, world):
    producer, *_rest, certificate = world
    body = {"event_id": str(uuid.uuid4()), "trace_code": certificate.trace_code}
    first = api(client, "post", "/api/v1/handover-codes", producer, json=body)
    again = api(client, "post", "/api/v1/handover-codes", producer, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["code"] == again.json["code"] and first.json["state"] == "active"
    other = api(
        client, "post", "/api/v1/handover-codes", producer, json={**body, "quantity": "1", "unit": "kg"}
    )
    assert other.status_code == 409
    listed = api(client, "get", "/api/v1/handover-codes", producer).json["items"]
    assert [c["code"] for c in listed] == [first.json["code"]]


def test_a_shipment_to_the_market_is_the_holders_word_and_needs_no_code(client, world, dbsession):
    producer, market, *_rest, certificate = world
    shipped = ship_to(client, producer, certificate, market, quantity="60")
    assert shipped.status_code == 201
    taken = accept(client, market, certificate)
    assert taken.status_code == 201 and taken.json["details"]["custody"]["basis"] == "shipment"
    assert holding(dbsession, certificate, market.org) == Decimal("60")


# -- a rejection by a market that never had the batch is its claim ----------------------------


def test_a_rejection_by_a_market_that_never_had_the_batch_is_its_claim_by_name(client, world):
    producer, market, _other, _carrier, _regulator, certificate = world
    claim = reject(client, market, certificate, quantity="10", unit="kg")
    assert claim.status_code == 201 and claim.json["details"]["claim"] is True
    answer = api(client, "get", f"/api/v1/codes/{certificate.trace_code}", producer).json
    assert answer["status"] == "valid"
    assert [c["org_name"] for c in answer["claims"]] == [market.org.name]
    page = client.get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    assert f"{market.org.name} reports: failed inspection" in page
    assert "This batch failed inspection at a market gate" not in page and "Valid certificate" in page
    zh = client.get(f"/t/{certificate.trace_code}?lang=zh").get_data(as_text=True)
    assert f"{market.org.name} 称：查验不合格" in zh


def test_the_regulators_overview_counts_a_claim_apart_from_gate_verdicts(client, world, dbsession):
    producer, market, _other, _carrier, regulator, certificate = world
    assert reject(client, market, certificate, quantity="10", unit="kg").json["details"]["claim"] is True
    shipped = dict(trace_code=certificate.trace_code, quantity="50", unit="kg", to_org=str(market.org.id))
    assert post(client, producer, kind="shipping", **shipped).status_code == 201
    assert reject(client, market, certificate, quantity="50", unit="kg").json["details"].get("claim") is None
    found = overview(dbsession, regulator.actor, now=datetime(2026, 11, 25, tzinfo=UTC))
    (row,) = found.regions
    assert (row.inspections, row.rejected, row.claims, row.failure_rate) == (1, 1, 1, 100.0)
    assert sum(found.inspections.values()) == sum(found.rejected.values()) == 1


def test_a_rejection_with_the_holders_code_or_after_a_shipment_is_the_verdict(client, world):
    producer, market, other, _carrier, _regulator, certificate = world
    ship_to(client, producer, certificate, market, quantity="50")
    shipped = reject(client, market, certificate)
    assert shipped.status_code == 201 and "claim" not in shipped.json["details"]
    answer = api(client, "get", f"/api/v1/codes/{certificate.trace_code}", producer).json
    assert answer["status"] == "failed_inspection" and answer["claims"] == []
    handed = reject(client, other, certificate, handover_code=handover_code(client, producer, certificate))
    assert handed.status_code == 201 and "claim" not in handed.json["details"]


# -- carriers record legs only while the goods are in their hands -------------------------------


def test_a_carrier_records_legs_only_while_it_carries_the_shipment(client, world):
    producer, market, _other, carrier, _regulator, certificate = world
    leg = {
        "kind": "transporting",
        "trace_code": certificate.trace_code,
        "temperature_min": "2",
        "temperature_max": "4",
    }
    assert post(client, carrier, **leg).status_code == 409  # never handed to it
    ship_to(client, producer, certificate, market, quantity="60", carrier_org=str(carrier.org.id))
    assert post(client, carrier, **leg).status_code == 201
    assert post(client, market, **leg).status_code == 409  # a carrier has the goods, not the market
    assert accept(client, market, certificate).status_code == 201  # delivered at the gate
    late = post(client, carrier, **leg)
    assert late.status_code == 409 and late.json["type"].endswith("/not-holder")


# -- an organisation that never handled the batch reads what the public page shows --------------


def test_a_stranger_reads_the_code_and_epcis_as_the_public_page_shows_them(client, world):
    producer, market, other, _carrier, _regulator, certificate = world
    accept(
        client,
        market,
        certificate,
        handover_code=handover_code(client, producer, certificate),
        quantity="30",
        unit="kg",
    )
    reject(client, other, certificate)  # a claim does not make the market a handler
    for member, full in [(producer, True), (market, True), (other, False)]:
        answer = api(client, "get", f"/api/v1/codes/{certificate.trace_code}", member).json
        gate_step = next(e for e in answer["events"] if e["kind"] == "inspecting")
        assert (answer["certificate"]["producer"]["phone"] == PHONE) is full
        assert bool(answer["holders"]) is full
        assert ("brought_by" in gate_step["details"]) is full
        if not full:
            assert answer["certificate"]["producer"]["phone"] == "138****5678"
            assert set(gate_step["details"]) <= {"result", "certificate_status", "tests", "claim"}
            assert "tester" not in answer["events"][-1]["details"]["tests"][0]
        document = api(client, "get", f"/api/v1/codes/{certificate.trace_code}/epcis", member).json
        text = str(document)
        assert ("李师傅" in text) is full and ("鄂A12345" in text) is full


def test_a_regulator_reads_everything(client, world):
    producer, market, _other, _carrier, regulator, certificate = world
    accept(client, market, certificate, handover_code=handover_code(client, producer, certificate))
    answer = api(client, "get", f"/api/v1/codes/{certificate.trace_code}", regulator).json
    assert answer["certificate"]["producer"]["phone"] == PHONE and answer["holders"]


# -- the holder is told, disputes, and a regulator resolves ---------------------------------------


def taken_at_gate(client, world):
    producer, market, _other, _carrier, _regulator, certificate = world
    taken = accept(client, market, certificate, handover_code=handover_code(client, producer, certificate))
    assert taken.status_code == 201, taken.json
    return taken.json


def dispute(client, member, gate_check_id, **extra):
    body = {"event_id": str(uuid.uuid4()), "gate_check_id": gate_check_id, "reason": "不是我交的货"}
    return api(client, "post", "/api/v1/disputes", member, json={**body, **extra})


def test_the_holder_is_told_of_every_gate_check_that_took_its_stock(client, world):
    producer, market, *_rest, certificate = world
    taken = taken_at_gate(client, world)
    items = api(client, "get", "/api/v1/handovers", producer).json["items"]
    assert [(i["gate_check_id"], i["market"], i["basis"], i["quantity"]) for i in items] == [
        (taken["id"], market.org.name, "handover_code", "100")
    ]
    assert api(client, "get", "/api/v1/handovers", market).json["items"] == []


def test_an_upheld_dispute_gives_the_stock_back_with_a_correcting_ledger_entry(client, world, dbsession):
    producer, market, _other, _carrier, regulator, certificate = world
    taken = taken_at_gate(client, world)
    opened = dispute(client, producer, taken["id"])
    assert opened.status_code == 201, opened.json
    assert opened.json["status"] == "open" and opened.json["market"] == market.org.name
    seen = api(client, "get", f"/api/v1/disputes/{opened.json['id']}", market)
    assert seen.status_code == 200  # the market sees the dispute against its gate check
    url = f"/api/v1/disputes/{opened.json['id']}/resolve"
    resolution = {"decision": "upheld", "note": "交接码系冒用"}
    assert api(client, "post", url, market, json=resolution).status_code == 403
    upheld = api(client, "post", url, regulator, json=resolution)
    assert upheld.status_code == 200 and upheld.json["status"] == "upheld"
    assert holding(dbsession, certificate, producer.org) == Decimal("100")
    assert holding(dbsession, certificate, market.org) == 0
    correction = dbsession.get(Event, uuid.UUID(upheld.json["correction_event_id"]))
    assert correction.org_id == regulator.org.id and str(correction.corrects_id) == taken["id"]
    ledger = dbsession.scalars(sa.select(HoldingChange).where(HoldingChange.event_id == correction.id)).all()
    assert sorted((c.org_id, c.delta) for c in ledger) == sorted(
        [(market.org.id, Decimal("-100")), (producer.org.id, Decimal("100"))]
    )
    again = api(client, "post", url, regulator, json=resolution)
    assert again.status_code == 200 and holding(dbsession, certificate, producer.org) == Decimal("100")
    other_way = api(client, "post", url, regulator, json={"decision": "dismissed", "note": "x"})
    assert other_way.status_code == 409
    journey = api(client, "get", f"/api/v1/codes/{certificate.trace_code}", producer).json["events"]
    assert next(e for e in journey if e["id"] == taken["id"])["corrected_by"] == str(correction.id)


def test_a_dismissed_dispute_leaves_the_gate_check_standing(client, world, dbsession):
    producer, market, _other, _carrier, regulator, certificate = world
    taken = taken_at_gate(client, world)
    opened = dispute(client, producer, taken["id"]).json
    url = f"/api/v1/disputes/{opened['id']}/resolve"
    dismissed = api(
        client, "post", url, regulator, json={"decision": "dismissed", "note": "交接码为本人所给"}
    )
    assert dismissed.status_code == 200 and dismissed.json["correction_event_id"] is None
    assert holding(dbsession, certificate, market.org) == Decimal("100")
    assert (
        api(client, "get", "/api/v1/disputes?status=dismissed", regulator).json["items"][0]["id"]
        == opened["id"]
    )


def test_upholding_is_refused_while_the_market_has_moved_the_goods_on(client, world, dbsession):
    producer, market, _other, _carrier, regulator, certificate = world
    taken = taken_at_gate(client, world)
    sold = post(
        client, market, kind="retail_selling", trace_code=certificate.trace_code, quantity="100", unit="kg"
    )
    assert sold.status_code == 201
    opened = dispute(client, producer, taken["id"]).json
    url = f"/api/v1/disputes/{opened['id']}/resolve"
    refused = api(client, "post", url, regulator, json={"decision": "upheld", "note": "冒用"})
    assert refused.status_code == 409
    assert dbsession.get(CustodyDispute, uuid.UUID(opened["id"])).status.value == "open"


def test_only_the_holder_disputes_once_and_retries_are_safe(client, world, make):
    producer, market, other, _carrier, _regulator, certificate = world
    taken = taken_at_gate(client, world)
    assert dispute(client, other, taken["id"]).status_code == 422  # not its stock
    assert dispute(client, market, taken["id"]).status_code == 422  # its own gate check
    stored = post(client, market, kind="storing", trace_code=certificate.trace_code)
    assert dispute(client, producer, stored.json["id"]).status_code == 422  # not a gate check
    body = {"event_id": str(uuid.uuid4()), "gate_check_id": taken["id"], "reason": "不是我交的货"}
    first = api(client, "post", "/api/v1/disputes", producer, json=body)
    replay = api(client, "post", "/api/v1/disputes", producer, json=body)
    assert (first.status_code, replay.status_code) == (201, 200) and first.json["id"] == replay.json["id"]
    assert dispute(client, producer, taken["id"]).status_code == 409  # already disputed
    assert api(client, "get", f"/api/v1/disputes/{first.json['id']}", other).status_code == 404
    assert api(client, "get", "/api/v1/disputes", other).json["items"] == []
    assert client.post("/api/v1/disputes", json=body).status_code == 401


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"gate_check_id": "not-a-uuid"}, "gate_check_id"),
        ({"event_id": None}, "event_id"),
        ({"verdict": "mine"}, "verdict"),
    ],
)
def test_bad_dispute_bodies_name_the_field_and_write_nothing(client, world, dbsession, bad, field):
    producer, *_rest = world
    taken = taken_at_gate(client, world)
    response = dispute(client, producer, **{"gate_check_id": taken["id"], **bad})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in [e["field"].lstrip("/") for e in response.json["errors"]], response.json
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(CustodyDispute)) == 0


def test_bad_resolutions_name_the_field(client, world):
    producer, _market, _other, _carrier, regulator, _certificate = world
    opened = dispute(client, producer, taken_at_gate(client, world)["id"]).json
    url = f"/api/v1/disputes/{opened['id']}/resolve"
    for bad, field in [({"decision": "maybe", "note": "x"}, "decision"), ({"decision": "upheld"}, "note")]:
        response = api(client, "post", url, regulator, json=bad)
        assert response.status_code == 422 and field in [
            e["field"].lstrip("/") for e in response.json["errors"]
        ]
    assert (
        api(
            client,
            "post",
            f"/api/v1/disputes/{uuid.uuid4()}/resolve",
            regulator,
            json={"decision": "upheld", "note": "x"},
        ).status_code
        == 404
    )
