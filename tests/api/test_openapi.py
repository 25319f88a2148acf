"""The OpenAPI document tells the truth: its enums are the values answered, and real answers
validate against the schemas it documents for them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV30SpecValidator

from tests.api.test_events_api import post, ship_to
from tests.api.test_status_everywhere import open_recall, reject_at_gate, revoke
from tests.api.test_trace_recall_api import world  # noqa: F401 (a fixture)
from traceapp.certificates.models import Category
from traceapp.certificates.status import BatchStatus, CertificateStatus
from traceapp.jobs.models import JobStatus
from traceapp.orgs.models import OrgKind


@pytest.fixture()
def spec(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").json


def component(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]


def test_the_code_status_lists_exactly_the_statuses_of_the_status_rule(spec):
    documented = component(spec, "CodeOut")["properties"]["status"]["enum"]
    assert documented == [s.value for s in BatchStatus]


def test_the_certificate_status_lists_exactly_the_certificates_own_states(spec):
    documented = component(spec, "CertificateOut")["properties"]["status"]["enum"]
    assert documented == [s.value for s in CertificateStatus]


def test_an_export_job_status_lists_exactly_the_states_of_a_job(spec):
    documented = component(spec, "ExportJobOut")["properties"]["status"]["enum"]
    assert documented == [s.value for s in JobStatus]


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: ``nullable`` becomes a null type, and an object with
    declared properties admits no others (answers are dumped through their schema)."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"]
    if "properties" in node:
        out.setdefault("additionalProperties", False)
    return out


def validate_answer(spec: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """Validate ``body`` against the schema the document gives for that answer."""
    answer = spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]
    schema = {**_json_schema(answer["schema"]), "components": _json_schema(spec["components"])}
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(body)]
    assert not errors, errors


@pytest.fixture()
def journey(client, make):
    """A batch shipped to a market, checked at its gate, with a leg of temperatures."""
    producer, market = make.member(), make.member(OrgKind.MARKET)
    certificate = make.certificate(producer, quantity=Decimal("100"), category=Category.VEGETABLE)
    shipped = ship_to(client, producer, certificate, market, quantity="60")
    assert shipped.status_code == 201, shipped.json
    leg = post(
        client,
        market,
        kind="storing",
        trace_code=certificate.trace_code,
        temperatures=[
            {"at": "2026-11-21T09:00:00+08:00", "celsius": "3.5"},
            {"at": "2026-11-21T10:00:00+08:00", "celsius": "9"},
        ],
    )
    assert leg.status_code == 201, leg.json
    return producer, market, certificate, shipped.json


def test_a_code_answer_with_a_journey_validates_against_its_documented_schema(client, spec, journey):
    _producer, market, certificate, _shipped = journey
    answer = client.get(f"/api/v1/codes/{certificate.trace_code}", headers=market.headers)
    assert answer.status_code == 200 and len(answer.json["events"]) == 3
    validate_answer(spec, "/api/v1/codes/{code}", "get", 200, answer.json)


@pytest.mark.parametrize("facts", [("revoked",), ("failed",), ("recalled",)], ids=lambda f: f[0])
def test_a_code_answer_of_a_troubled_batch_validates_too(client, spec, make, facts):
    producer, market, regulator = make.member(), make.member(OrgKind.MARKET), make.member(OrgKind.REGULATOR)
    certificate = make.certificate(producer, quantity=Decimal("10"))
    if "revoked" in facts:
        revoke(client, producer, certificate)
    if "failed" in facts:
        reject_at_gate(client, market, certificate, producer)
    if "recalled" in facts:
        open_recall(client, regulator, certificate)
    answer = client.get(f"/api/v1/codes/{certificate.trace_code}", headers=market.headers).json
    validate_answer(spec, "/api/v1/codes/{code}", "get", 200, answer)


def test_an_event_a_certificate_a_trace_and_a_recall_validate_against_their_schemas(client, spec, journey):
    producer, market, certificate, shipped = journey
    validate_answer(spec, "/api/v1/events", "post", 201, shipped)
    read = client.get(f"/api/v1/certificates/{certificate.id}", headers=producer.headers)
    validate_answer(spec, "/api/v1/certificates/{certificate_id}", "get", 200, read.json)
    listed = client.get("/api/v1/certificates", headers=producer.headers)
    validate_answer(spec, "/api/v1/certificates", "get", 200, listed.json)
    traced = client.get(f"/api/v1/trace/{certificate.trace_code}", headers=producer.headers)
    validate_answer(spec, "/api/v1/trace/{code}", "get", 200, traced.json)
    body = {"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_ii"}
    recalled = client.post("/api/v1/recalls", json=body, headers=producer.headers)
    validate_answer(spec, "/api/v1/recalls", "post", 201, recalled.json)


def test_a_trace_through_transformations_and_a_portion_validates_against_its_schema(client, spec, world):  # noqa: F811
    for direction in ("forward", "backward"):
        code = world["cabbage"] if direction == "forward" else world["portion"]
        traced = client.get(f"/api/v1/trace/{code}?direction={direction}", headers=world["regulator"].headers)
        assert traced.status_code == 200 and traced.json["links"], traced.json
        validate_answer(spec, "/api/v1/trace/{code}", "get", 200, traced.json)
    portion = client.get(f"/api/v1/codes/{world['portion']}", headers=world["market"].headers).json
    made = [e for e in portion["events"] if e["kind"] == "portioning"][0]
    assert made["outputs"] == []  # a journey's events list no outputs; the recorded event does
    recorded = client.get(f"/api/v1/events/{made['id']}", headers=world["market"].headers)
    assert recorded.json["outputs"], recorded.json
    validate_answer(spec, "/api/v1/events/{event_id}", "get", 200, recorded.json)
    body = {"trace_codes": [world["cabbage"]], "reason": "农残超标", "severity": "class_i"}
    assert client.post("/api/v1/recalls", json=body, headers=world["regulator"].headers).status_code == 201
    recalls = client.get("/api/v1/recalls", headers=world["regulator"].headers).json
    assert len(recalls["items"]) == 1 and len(recalls["items"][0]["batches"]) == 5
    validate_answer(spec, "/api/v1/recalls", "get", 200, recalls)


def test_the_validator_catches_a_value_the_document_does_not_list(client, spec, journey):
    _producer, market, certificate, _shipped = journey
    answer = client.get(f"/api/v1/codes/{certificate.trace_code}", headers=market.headers).json
    with pytest.raises(AssertionError, match="counterfeit"):
        validate_answer(spec, "/api/v1/codes/{code}", "get", 200, {**answer, "status": "counterfeit"})


def test_the_document_validates_against_the_openapi_specification(spec):
    OpenAPIV30SpecValidator(spec).validate()


def test_a_decimal_bound_is_a_number_not_a_string(spec):
    celsius = component(spec, "ReadingIn")["properties"]["celsius"]
    assert (celsius["minimum"], celsius["maximum"]) == (-100, 150)


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, ops in spec["paths"].items() for m, op in ops.items() if m != "parameters"]


def test_every_documented_error_is_problem_json_with_the_one_problem_schema(spec):
    errors = [
        (path, method, status, spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]])
        for path, method, op in _operations(spec)
        for status, answer in op["responses"].items()
        if int(status) >= 400
    ]
    assert len(errors) > 90
    for path, method, status, answer in errors:
        assert list(answer["content"]) == ["application/problem+json"], (path, method, status)
        assert answer["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/ProblemOut"
        }
    assert all("default" not in op["responses"] for _p, _m, op in _operations(spec))


def test_each_operation_documents_the_errors_it_answers(spec):
    responses = {(m.upper(), p): set(op["responses"]) for p, m, op in _operations(spec)}
    assert all("401" in statuses for statuses in responses.values())
    assert {"400", "403", "409", "413", "415", "422"} <= responses[("POST", "/api/v1/events")]
    assert {"403", "404", "409"} <= responses[("POST", "/api/v1/certificates/{certificate_id}/revoke")]
    assert {"404", "422"} <= responses[("GET", "/api/v1/trace/{code}")]
    assert {"413", "422"} <= responses[("POST", "/api/v1/reports")]
    assert "413" in responses[("GET", "/api/v1/recalls/{recall_id}/export.csv")]
    assert "409" in responses[("GET", "/api/v1/recalls/{recall_id}/exports/{job_id}/file")]


def test_uploads_document_their_multipart_file(spec):
    for path in ("/api/v1/reports", "/api/v1/temperature-logs/parse"):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert body["required"] == ["file"] and body["properties"]["file"]["format"] == "binary"


def test_a_required_text_is_documented_as_not_blank_and_a_quantity_as_a_decimal_string(spec):
    reason = component(spec, "RevokeIn")["properties"]["reason"]
    assert (reason["minLength"], reason["pattern"]) == (1, r"\S")
    text = component(spec, "CertificateIn")["properties"]["quantity"]["anyOf"][0]
    assert text["type"] == "string" and re.fullmatch(text["pattern"], "12.5")
    assert not re.fullmatch(text["pattern"], "12.5678") and not re.fullmatch(text["pattern"], "1e3")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/api/v1/certificates", {"GET", "POST"}),
        ("delete", "/api/v1/events", {"POST"}),
        ("patch", "/api/v1/recalls/00000000-0000-0000-0000-000000000000/close", {"POST"}),
    ],
)
def test_a_method_not_allowed_is_a_problem_with_the_allow_header(client, method, path, allowed):
    answer = client.open(path, method=method.upper())
    assert answer.status_code == 405
    assert answer.mimetype == "application/problem+json" and answer.json["status"] == 405
    assert allowed <= {m.strip() for m in answer.headers["Allow"].split(",")}


def test_a_page_that_refuses_a_method_says_which_it_takes(client):
    answer = client.delete("/login")
    assert answer.status_code == 405 and answer.mimetype == "text/html"
    assert "GET" in answer.headers["Allow"]
