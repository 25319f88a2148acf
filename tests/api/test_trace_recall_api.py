"""Trace and recall on graphs built through the real services."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.api.test_events_api import post
from tests.factories import certificate_body
from traceapp.certificates.models import Category
from traceapp.orgs.models import OrgKind


def ship_and_receive(client, sender, receiver, code, quantity):
    post(
        client,
        sender,
        kind="shipping",
        trace_code=code,
        quantity=quantity,
        unit="kg",
        to_org=str(receiver.org.id),
    )
    post(client, receiver, kind="receiving", trace_code=code, quantity=quantity, unit="kg")


@pytest.fixture()
def world(client, make):
    """A producer's batch split by a processor, merged back with another batch, portioned."""
    farm, other_farm = make.member(), make.member()
    processor, market, regulator = (
        make.member(OrgKind.PROCESSOR),
        make.member(OrgKind.MARKET),
        make.member(OrgKind.REGULATOR),
    )
    cabbage = make.certificate(farm, quantity=Decimal("100"), category=Category.VEGETABLE)
    carrot = make.certificate(other_farm, product_name="胡萝卜", quantity=Decimal("40"))
    ship_and_receive(client, farm, processor, cabbage.trace_code, "100")
    ship_and_receive(client, other_farm, processor, carrot.trace_code, "40")
    split = post(
        client,
        processor,
        kind="transforming",
        inputs=[{"trace_code": cabbage.trace_code, "quantity": "60", "unit": "kg"}],
        outputs=[
            certificate_body(product_name="切块白菜A", quantity="30"),
            certificate_body(product_name="切块白菜B", quantity="28"),
        ],
    ).json
    a, b = (o["trace_code"] for o in split["outputs"])
    merged = post(
        client,
        processor,
        kind="transforming",
        inputs=[
            {"trace_code": a, "quantity": "30", "unit": "kg"},
            {"trace_code": b, "quantity": "28", "unit": "kg"},
            {"trace_code": carrot.trace_code, "quantity": "40", "unit": "kg"},
        ],
        outputs=[certificate_body(product_name="蔬菜拼盘", quantity="95")],
    ).json
    mix = merged["outputs"][0]["trace_code"]
    ship_and_receive(client, processor, market, mix, "95")
    portions = post(
        client, market, kind="portioning", trace_code=mix, outputs=[{"quantity": "5", "unit": "kg"}]
    ).json
    return {
        "farm": farm,
        "other_farm": other_farm,
        "processor": processor,
        "market": market,
        "regulator": regulator,
        "cabbage": cabbage.trace_code,
        "carrot": carrot.trace_code,
        "a": a,
        "b": b,
        "mix": mix,
        "portion": portions["outputs"][0]["trace_code"],
    }


def trace(client, who, code, direction):
    return client.get(f"/api/v1/trace/{code}?direction={direction}", headers=who.headers)


def test_forward_trace_reaches_every_batch_and_organisation_through_a_diamond(client, world):
    body = trace(client, world["regulator"], world["cabbage"], "forward").json
    codes = {b["trace_code"] for b in body["batches"]}
    assert codes == {world[k] for k in ("cabbage", "a", "b", "mix", "portion")}
    assert body["scope"] == "full"
    orgs = {o["name"] for o in body["organisations"]}
    assert {world["processor"].org.name, world["market"].org.name} <= orgs
    assert any(
        link["from"] == world["cabbage"] and link["to"] == world["a"] and link["consumed"] == "60"
        for link in body["links"]
    )


def test_backward_trace_finds_every_source_and_producer(client, world):
    body = trace(client, world["regulator"], world["portion"], "backward").json
    codes = {b["trace_code"] for b in body["batches"]}
    assert codes == {world[k] for k in ("portion", "mix", "a", "b", "cabbage", "carrot")}
    issuers = {b["issuer"] for b in body["batches"]}
    assert {world["farm"].org.name, world["other_farm"].org.name} <= issuers


def test_mass_balance_accounts_for_every_kilogram(client, world):
    body = trace(client, world["regulator"], world["cabbage"], "forward").json
    cabbage = next(b for b in body["batches"] if b["trace_code"] == world["cabbage"])
    balance = cabbage["mass_balance"]
    assert balance["consumed"] == "60"
    assert [h["quantity"] for h in balance["held"]] == ["40"]  # still at the processor
    assert balance["accounted"] == "100" and balance["unaccounted"] == "0"
    mix = next(b for b in body["batches"] if b["trace_code"] == world["mix"])
    assert mix["mass_balance"]["consumed"] == "5" and mix["mass_balance"]["accounted"] == "95"


def test_a_producer_traces_only_to_its_direct_buyers(client, world):
    body = trace(client, world["farm"], world["cabbage"], "forward").json
    assert body["scope"] == "direct"
    assert [b["trace_code"] for b in body["batches"]] == [world["cabbage"]]
    assert {o["name"] for o in body["organisations"]} == {world["processor"].org.name}
    outsider = trace(client, world["other_farm"], world["cabbage"], "forward")
    assert outsider.status_code == 404


def test_a_deep_chain_is_traced_in_a_bounded_number_of_queries(client, make, count_queries):
    regulator, processor = make.member(OrgKind.REGULATOR), make.member(OrgKind.PROCESSOR)
    code = make.certificate(processor, quantity=Decimal("1000")).trace_code
    first = code
    for step in range(12):
        code = post(
            client,
            processor,
            kind="transforming",
            inputs=[{"trace_code": code, "quantity": "1", "unit": "kg"}],
            outputs=[certificate_body(product_name=f"第{step}道", quantity="1")],
        ).json["outputs"][0]["trace_code"]
    with count_queries as q:
        body = trace(client, regulator, first, "forward").json
    assert len(body["batches"]) == 13
    assert len(q.selects) <= 9, q.selects  # 9: one more for the pallets carrying the batches


def test_a_cycle_in_the_links_cannot_make_the_trace_loop(client, world, dbsession):
    # The services cannot create a cycle (every output is a new batch); plant one in the data
    # to prove the recursive query still terminates.
    from traceapp.certificates.models import Certificate
    from traceapp.events.models import EventItem, ItemRole

    ids = dict(dbsession.execute(sa.select(Certificate.trace_code, Certificate.id)).all())
    event_id = dbsession.scalar(
        sa.select(EventItem.event_id).where(
            EventItem.certificate_id == ids[world["mix"]], EventItem.role == ItemRole.OUTPUT
        )
    )
    dbsession.add(
        EventItem(
            event_id=event_id,
            position=99,
            certificate_id=ids[world["mix"]],
            role=ItemRole.INPUT,
            quantity=Decimal("1"),
            unit=None,
        )
    )
    dbsession.add(
        EventItem(
            event_id=event_id,
            position=98,
            certificate_id=ids[world["a"]],
            role=ItemRole.OUTPUT,
            quantity=Decimal("1"),
            unit=None,
        )
    )
    dbsession.flush()
    body = trace(client, world["regulator"], world["a"], "forward").json
    assert len(body["batches"]) == len({b["trace_code"] for b in body["batches"]})


def recall(client, who, codes, **extra):
    body = {
        "trace_codes": codes,
        "reason": "农残超标 organophosphate over limit",
        "severity": "class_i",
        "instructions": "停止销售并退回 / stop selling and return",
        **extra,
    }
    return client.post("/api/v1/recalls", json=body, headers={**who.headers, "Accept-Language": "en"})


def test_a_recall_marks_everything_downstream_at_once(client, world):
    response = recall(client, world["regulator"], [world["cabbage"]])
    assert response.status_code == 201, response.json
    covered = {b["trace_code"] for b in response.json["batches"]}
    assert covered == {world[k] for k in ("cabbage", "a", "b", "mix", "portion")}
    status = client.get(f"/api/v1/codes/{world['portion']}", headers=world["market"].headers).json["status"]
    assert status == "recalled"
    page = client.get(f"/t/{world['portion']}?lang=en").get_data(as_text=True)
    assert "RECALLED" in page and "stop selling and return" in page
    carrot = client.get(f"/api/v1/codes/{world['carrot']}", headers=world["market"].headers).json
    assert carrot["status"] == "valid"


def test_recalled_batches_cannot_move_and_must_be_rejected_at_the_gate(client, world):
    recall(client, world["regulator"], [world["cabbage"]])
    sell = post(
        client, world["market"], kind="retail_selling", trace_code=world["portion"], quantity="1", unit="kg"
    )
    assert sell.status_code == 409
    gate = post(
        client,
        world["market"],
        kind="inspecting",
        trace_code=world["portion"],
        quantity="1",
        unit="kg",
        certificate_status="valid",
        result="accepted",
    )
    assert gate.status_code == 422 and gate.json["errors"][0]["field"] == "/result"


def test_parties_acknowledge_and_the_recall_shows_who_has_not(client, world):
    opened = recall(client, world["regulator"], [world["cabbage"]]).json
    url = f"/api/v1/recalls/{opened['id']}"
    parties = {p["name"] for p in opened["parties"]}
    assert {world["farm"].org.name, world["processor"].org.name, world["market"].org.name} <= parties
    assert client.post(f"{url}/acknowledge", headers=world["market"].headers).status_code == 200
    body = client.get(url, headers=world["regulator"].headers).json
    acknowledged = {p["name"]: p["acknowledged_at"] is not None for p in body["parties"]}
    assert acknowledged[world["market"].org.name] and not acknowledged[world["processor"].org.name]
    mine = client.get("/api/v1/recalls", headers=world["market"].headers).json["items"]
    assert [r["id"] for r in mine] == [opened["id"]]
    assert client.get(url, headers=world["other_farm"].headers).status_code == 404


def test_the_organisation_that_opens_a_recall_is_not_asked_to_acknowledge_it(client, world):
    opened = recall(client, world["farm"], [world["cabbage"]]).json
    by_name = {p["name"]: p for p in opened["parties"]}
    opener = by_name[world["farm"].org.name]
    assert opener["opened_recall"] is True and opener["acknowledged_at"] == opened["opened_at"]
    others = [p for p in opened["parties"] if p["name"] != world["farm"].org.name]
    assert others and all(not p["opened_recall"] and p["acknowledged_at"] is None for p in others)
    # Acknowledging again changes nothing: it is still the time of opening.
    url = f"/api/v1/recalls/{opened['id']}"
    assert client.post(f"{url}/acknowledge", headers=world["farm"].headers).status_code == 200
    again = {p["name"]: p for p in client.get(url, headers=world["farm"].headers).json["parties"]}
    assert again[world["farm"].org.name]["acknowledged_at"] == opened["opened_at"]


def test_a_producer_recalls_only_its_own_batches(client, world):
    assert recall(client, world["farm"], [world["carrot"]]).status_code == 403
    assert recall(client, world["farm"], [world["cabbage"]]).status_code == 201
    assert recall(client, world["market"], [world["mix"]]).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"trace_codes": []}, "/trace_codes"),
        ({"trace_codes": ["NOPE"]}, "/trace_codes/0"),
        ({"severity": "class_v"}, "/severity"),
        ({"reason": ""}, "/reason"),
    ],
)
def test_bad_recalls_name_the_field(client, world, body, field):
    response = recall(client, world["regulator"], body.pop("trace_codes", [world["cabbage"]]), **body)
    assert response.status_code == 422 and field in [e["field"] for e in response.json["errors"]]


def test_closing_releases_the_hold_and_keeps_the_history(client, world):
    opened = recall(client, world["regulator"], [world["cabbage"]]).json
    url = f"/api/v1/recalls/{opened['id']}"
    closed = client.post(
        f"{url}/close", json={"note": "lab retest negative"}, headers=world["regulator"].headers
    )
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert len(closed.json["batches"]) == 5
    assert (
        client.get(f"/api/v1/codes/{world['portion']}", headers=world["market"].headers).json["status"]
        == "valid"
    )
    again = client.post(f"{url}/close", json={"note": "x"}, headers=world["regulator"].headers)
    assert again.status_code == 409


def test_the_export_is_one_row_per_event_in_csv_and_xlsx_with_chinese_columns(client, world):
    opened = recall(client, world["regulator"], [world["cabbage"]]).json
    url = f"/api/v1/recalls/{opened['id']}/export"
    text = client.get(f"{url}.csv", headers=world["regulator"].headers).get_data(as_text=True)
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {
        "traceability_lot_code",
        "tlc_source",
        "product_description",
        "quantity",
        "unit_of_measure",
        "event_type",
        "location",
        "event_date",
        "reference_document",
    } <= set(table[0])
    assert {r["event_type"] for r in table} >= {"Shipping", "Receiving", "Transformation"}
    assert {r["traceability_lot_code"] for r in table} == {
        world[k] for k in ("cabbage", "a", "b", "mix", "portion")
    }
    chinese = client.get(f"{url}.csv?columns=zh", headers=world["regulator"].headers).get_data(as_text=True)
    assert chinese.lstrip("\ufeff").startswith("追溯码,")
    xlsx = client.get(f"{url}.xlsx", headers=world["regulator"].headers)
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == len(table) + 1 and sheet["A1"].value == "traceability_lot_code"
