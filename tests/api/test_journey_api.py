"""Gate checks, cold-chain legs, processing, portions and corrections through the API."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.api.test_events_api import WHEN, handover_code, holding, post, ship_to
from tests.factories import certificate_body
from traceapp.certificates.models import Category, Certificate, CertificateKind
from traceapp.orgs.models import OrgKind


@pytest.fixture()
def parties(make):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    certificate = make.certificate(producer, quantity=Decimal("100"), category=Category.VEGETABLE)
    return producer, market, certificate


def gate(client, market, certificate, holder=None, **extra):
    """A gate check by ``market``; with ``holder``, the holder's hand-over code goes with it."""
    body = {
        "kind": "inspecting",
        "trace_code": certificate.trace_code,
        "certificate_status": "valid",
        "result": "accepted",
        "quantity": "100",
        "unit": "kg",
        "brought_by": {"name": "张师傅", "vehicle": "鄂A12345"},
    }
    if holder is not None:
        body["handover_code"] = handover_code(client, holder, certificate)
    body.update(extra)
    return post(client, market, **{k: v for k, v in body.items() if v is not None})


def test_an_accepted_gate_check_takes_the_batch_into_the_markets_custody(client, parties, dbsession):
    producer, market, certificate = parties
    response = gate(
        client,
        market,
        certificate,
        holder=producer,
        tests=[
            {
                "method": "enzyme_inhibition",
                "item": "有机磷和氨基甲酸酯类",
                "value": "12.5",
                "value_unit": "%",
                "tester": "李检",
                "device": "RP-410",
            }
        ],
    )
    assert response.status_code == 201, response.json
    assert response.json["disposition"] == "conformant"
    assert response.json["details"]["tests"][0]["result"] == "negative"
    assert holding(dbsession, certificate, market.org) == Decimal("100")
    assert holding(dbsession, certificate, producer.org) == 0


def test_a_positive_rapid_test_forces_rejection_and_the_page_says_so(client, parties, dbsession):
    producer, market, certificate = parties
    positive = [{"method": "enzyme_inhibition", "item": "有机磷", "value": "50"}]
    refused = gate(client, market, certificate, tests=positive)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "/result"
    rejected = gate(client, market, certificate, holder=producer, tests=positive, result="rejected")
    assert rejected.status_code == 201 and rejected.json["disposition"] == "non_conformant"
    assert holding(dbsession, certificate, market.org) == 0
    status = client.get(f"/api/v1/codes/{certificate.trace_code}", headers=market.headers).json["status"]
    assert status == "failed_inspection"
    page = client.get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    assert "failed" in page.lower()


def test_a_contradictory_test_result_is_named(client, parties):
    _producer, market, certificate = parties
    response = gate(
        client,
        market,
        certificate,
        result="rejected",
        tests=[{"method": "enzyme_inhibition", "item": "有机磷", "value": "70", "result": "negative"}],
    )
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "/tests/0/result"


def test_a_batch_without_a_certificate_gets_an_entry_record_with_its_own_code(client, make, dbsession):
    market = make.member(OrgKind.MARKET)
    response = post(
        client,
        market,
        kind="inspecting",
        certificate_status="missing",
        result="accepted",
        quantity="30",
        unit="kg",
        entry={
            "product_name": "菠菜",
            "origin": {"region_code": "420116"},
            "producer": {"name": "王五", "phone": "13700000000"},
        },
    )
    assert response.status_code == 201, response.json
    code = response.json["outputs"][0]["trace_code"]
    record = dbsession.scalar(sa.select(Certificate).where(Certificate.trace_code == code))
    assert record.kind is CertificateKind.ENTRY_RECORD and record.commitments == []
    assert holding(dbsession, record, market.org) == Decimal("30")


def test_only_markets_and_regulators_check_at_the_gate(client, parties, make):
    _producer, _market, certificate = parties
    carrier = make.member(OrgKind.CARRIER)
    assert gate(client, carrier, certificate).status_code == 403


def test_a_transport_leg_with_an_excursion_gets_its_verdict(client, parties, make):
    producer, _market, certificate = parties
    readings = [
        {"at": f"2026-11-21T{h:02d}:00:00+08:00", "celsius": c}
        for h, c in [(8, "3"), (9, "4"), (10, "7.5"), (11, "9"), (12, "4.5"), (13, "3")]
    ]
    response = post(
        client, producer, kind="transporting", trace_code=certificate.trace_code, temperatures=readings
    )
    assert response.status_code == 201, response.json
    leg = response.json["details"]["cold_chain"]
    assert leg["verdict"] == "excursion" and leg["range"] == ["0", "5"]
    assert leg["excursion_minutes"] == 120.0 and leg["extreme"] == "9"
    body = client.get(f"/api/v1/codes/{certificate.trace_code}", headers=producer.headers).json
    assert body["cold_chain"] == "excursion"


def test_a_logger_file_is_read_or_refused_with_its_line(client, parties):
    producer, _market, _certificate = parties
    good = b"timestamp,temperature\n2026-11-21T08:00:00+08:00,3.5\n2026-11-21T08:10:00+08:00,3.9\n"
    parsed = client.post(
        "/api/v1/temperature-logs/parse",
        headers=producer.headers,
        data={"file": (io.BytesIO(good), "log.csv")},
    )
    assert parsed.status_code == 200 and parsed.json["layout"] == "plain"
    assert [r["celsius"] for r in parsed.json["readings"]] == ["3.5", "3.9"]
    bad = good + b"2026-11-21T08:20:00+08:00,warm\n"
    refused = client.post(
        "/api/v1/temperature-logs/parse",
        headers={**producer.headers, "Accept-Language": "en"},
        data={"file": (io.BytesIO(bad), "log.csv")},
    )
    assert refused.status_code == 422
    assert refused.json["errors"][0] == {"field": "/file", "message": "Line 4: Not a temperature: warm"}


def test_processing_consumes_inputs_and_issues_linked_outputs(client, make, dbsession):
    producer, processor = make.member(), make.member(OrgKind.PROCESSOR)
    cabbage = make.certificate(producer, quantity=Decimal("100"))
    carrot = make.certificate(producer, product_name="胡萝卜", quantity=Decimal("50"))
    for batch, amount in ((cabbage, "100"), (carrot, "50")):
        post(
            client,
            producer,
            kind="shipping",
            trace_code=batch.trace_code,
            quantity=amount,
            unit="kg",
            to_org=str(processor.org.id),
        )
        post(client, processor, kind="receiving", trace_code=batch.trace_code, quantity=amount, unit="kg")
    response = post(
        client,
        processor,
        kind="transforming",
        inputs=[
            {"trace_code": cabbage.trace_code, "quantity": "80", "unit": "kg"},
            {"trace_code": carrot.trace_code, "quantity": "50", "unit": "kg"},
        ],
        outputs=[
            certificate_body(product_name="净菜拼盘", quantity="120", basis=["internal_qc"]),
            certificate_body(product_name="菜边角料", quantity="10", basis=["self_commitment"]),
        ],
    )
    assert response.status_code == 201, response.json
    assert response.json["kind"] == "transforming" and response.json["biz_step"] == "commissioning"
    assert len(response.json["outputs"]) == 2
    assert holding(dbsession, cabbage, processor.org) == Decimal("20")
    assert holding(dbsession, carrot, processor.org) == 0
    mix = response.json["outputs"][0]["trace_code"]
    body = client.get(f"/api/v1/codes/{mix}", headers=processor.headers).json
    assert sorted(body["made_from"]) == sorted([cabbage.trace_code, carrot.trace_code])
    cabbage_view = client.get(f"/api/v1/codes/{cabbage.trace_code}", headers=processor.headers).json
    assert sorted(cabbage_view["went_into"]) == sorted(o["trace_code"] for o in response.json["outputs"])


def test_processing_more_than_held_writes_nothing(client, make, dbsession):
    processor = make.member(OrgKind.PROCESSOR)
    batch = make.certificate(processor, quantity=Decimal("10"))
    before = dbsession.scalar(sa.select(sa.func.count()).select_from(Certificate))
    response = post(
        client,
        processor,
        kind="transforming",
        inputs=[{"trace_code": batch.trace_code, "quantity": "11", "unit": "kg"}],
        outputs=[certificate_body(quantity="11")],
    )
    assert response.status_code == 409
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Certificate)) == before
    assert holding(dbsession, batch, processor.org) == Decimal("10")


def test_a_transformation_with_one_input_may_give_it_as_the_events_trace_code_quantity_and_unit(
    client, make, dbsession
):
    processor = make.member(OrgKind.PROCESSOR)
    batch = make.certificate(processor, quantity=Decimal("10"))
    response = post(
        client,
        processor,
        kind="transforming",
        trace_code=batch.trace_code,
        quantity="8",
        unit="jin",
        outputs=[certificate_body(product_name="切块白菜", quantity="4")],
    )
    assert response.status_code == 201, response.json
    inputs = [i for i in response.json["items"] if i["role"] == "input"]
    assert [(i["trace_code"], i["quantity"], i["unit"]) for i in inputs] == [(batch.trace_code, "4", "kg")]
    assert holding(dbsession, batch, processor.org) == Decimal("6")
    made = response.json["outputs"][0]["trace_code"]
    assert client.get(f"/api/v1/codes/{made}", headers=processor.headers).json["made_from"] == [
        batch.trace_code
    ]


def test_a_single_input_with_an_unknown_trace_code_names_the_events_trace_code(client, make):
    processor = make.member(OrgKind.PROCESSOR)
    response = post(
        client,
        processor,
        kind="transforming",
        trace_code="ABCD-EFGH-JKLM-NP",
        quantity="1",
        unit="kg",
        outputs=[certificate_body(quantity="1")],
    )
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "/trace_code"


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        ({"inputs": "both", "trace_code": "code"}, ["/trace_code"]),
        (
            {"inputs": "both", "trace_code": "code", "quantity": "1", "unit": "kg"},
            ["/quantity", "/trace_code", "/unit"],
        ),
        ({"trace_code": "code", "quantity": "1"}, ["/unit"]),
        ({"quantity": "1", "unit": "kg"}, ["/trace_code"]),
        ({}, ["/inputs"]),
    ],
)
def test_a_transformation_gives_its_inputs_in_exactly_one_form(client, make, dbsession, form, fields):
    processor = make.member(OrgKind.PROCESSOR)
    batch = make.certificate(processor, quantity=Decimal("10"))
    body = {k: batch.trace_code if v == "code" else v for k, v in form.items()}
    if body.get("inputs") == "both":
        body["inputs"] = [{"trace_code": batch.trace_code, "quantity": "1", "unit": "kg"}]
    before = dbsession.scalar(sa.select(sa.func.count()).select_from(Certificate))
    response = post(client, processor, kind="transforming", outputs=[certificate_body(quantity="1")], **body)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert sorted(e["field"] for e in response.json["errors"]) == fields
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Certificate)) == before
    assert holding(dbsession, batch, processor.org) == Decimal("10")


def test_portions_sold_on_get_codes_that_link_back(client, parties, dbsession):
    producer, market, certificate = parties
    gate(client, market, certificate, holder=producer)
    response = post(
        client,
        market,
        kind="portioning",
        trace_code=certificate.trace_code,
        outputs=[{"quantity": "5", "unit": "kg"}, {"quantity": "4", "unit": "jin"}],
    )
    assert response.status_code == 201, response.json
    portion = response.json["outputs"][1]["trace_code"]
    assert holding(dbsession, certificate, market.org) == Decimal("93")
    body = client.get(f"/api/v1/codes/{portion}", headers=market.headers).json
    assert body["made_from"] == [certificate.trace_code]
    assert body["certificate"]["producer"]["name"] == certificate.producer_name
    assert body["certificate"]["quantity"] == "2"


def test_a_wrong_shipment_is_corrected_and_both_are_shown(client, parties, dbsession):
    producer, market, certificate = parties
    wrong = ship_to(client, producer, certificate, market, quantity="60").json
    fixed = ship_to(
        client,
        producer,
        certificate,
        market,
        quantity="50",
        corrects={"event_id": wrong["event_id"], "reason": "weighed again: 50 kg"},
    )
    assert fixed.status_code == 201, fixed.json
    assert holding(dbsession, certificate, producer.org) == Decimal("50")
    body = client.get(f"/api/v1/codes/{certificate.trace_code}", headers=producer.headers).json
    shipped = [e for e in body["events"] if e["kind"] == "shipping"]
    assert shipped[0]["corrected_by"] == fixed.json["id"] and shipped[1]["corrects"] == wrong["id"]
    again = post(client, producer, kind="voiding", corrects={"event_id": wrong["event_id"], "reason": "x"})
    assert again.status_code == 409


def test_a_correction_cannot_undo_what_has_moved_on(client, parties):
    producer, market, certificate = parties
    shipped = ship_to(client, producer, certificate, market, quantity="60").json
    post(client, market, kind="receiving", trace_code=certificate.trace_code, quantity="60", unit="kg")
    void = post(client, producer, kind="voiding", corrects={"event_id": shipped["event_id"], "reason": "x"})
    assert void.status_code == 409


def test_reading_a_journey_costs_the_same_queries_however_long(client, parties, count_queries):
    producer, market, certificate = parties
    url = f"/t/{certificate.trace_code}"

    def selects() -> list[str]:
        with count_queries as q:
            assert client.get(url).status_code == 200
        assert q.writes == []
        return q.selects

    post(
        client,
        producer,
        kind="storing",
        trace_code=certificate.trace_code,
        temperatures=[{"at": WHEN, "celsius": "3"}],
    )
    short = selects()
    for hour in range(8, 18):
        post(
            client,
            producer,
            kind="storing",
            trace_code=certificate.trace_code,
            occurred_at=f"2026-11-21T{hour:02d}:00:00+08:00",
            temperatures=[{"at": f"2026-11-21T{hour:02d}:00:00+08:00", "celsius": "3"}],
        )
    long = selects()
    assert len(long) == len(short), "\n".join(q.split("\n")[0][:90] for q in long)
    assert len(short) <= 6


def test_a_journey_exports_as_an_epcis_document_that_validates(client, parties):
    jsonschema = pytest.importorskip("jsonschema")
    from tests.unit.test_epcis import EPCIS_DIR  # GS1's files, read from ../shared

    producer, market, certificate = parties
    gate(client, market, certificate, holder=producer)
    post(
        client,
        market,
        kind="transporting",
        trace_code=certificate.trace_code,
        temperatures=[{"at": WHEN, "celsius": "3"}, {"at": "2026-11-21T08:10:00+08:00", "celsius": "4"}],
    )
    response = client.get(f"/api/v1/codes/{certificate.trace_code}/epcis", headers=producer.headers)
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    disposition = f'inline; filename="{certificate.trace_code}-epcis.jsonld"'
    assert response.headers["Content-Disposition"] == disposition
    document = response.json
    if not (EPCIS_DIR / "EPCIS-JSON-Schema.json").exists():
        pytest.skip("GS1 EPCIS schema not found beside the project (../shared/conformance/epcis)")
    schema = json.loads((EPCIS_DIR / "EPCIS-JSON-Schema.json").read_text("utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    steps = [e.get("bizStep") for e in document["epcisBody"]["eventList"]]
    assert steps == ["commissioning", "inspecting", "transporting"]


def test_a_gate_check_without_a_count_takes_in_what_the_bringer_holds_and_a_recheck_moves_nothing(
    client, parties, dbsession
):
    producer, market, certificate = parties
    post(client, producer, kind="retail_selling", trace_code=certificate.trace_code, quantity="30", unit="kg")
    first = gate(client, market, certificate, holder=producer, quantity=None, unit=None)
    assert first.status_code == 201, first.json
    assert first.json["details"]["custody"] == {"basis": "handover_code", "from_org": str(producer.org.id)}
    assert holding(dbsession, certificate, market.org) == Decimal("70")
    again = gate(client, market, certificate, quantity=None, unit=None)
    assert again.status_code == 201 and holding(dbsession, certificate, market.org) == Decimal("70")
    assert again.json["details"]["custody"] == {"basis": "held"}
    counted = gate(client, market, certificate, quantity="70", unit="kg")
    assert counted.status_code == 201 and holding(dbsession, certificate, market.org) == Decimal("70")
