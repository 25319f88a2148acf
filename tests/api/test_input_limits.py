"""No input answers 500: each hostile or absurd input gets a 4xx problem naming the field, and
nothing is written (issue 11, point 3). Run on SQLite and on PostgreSQL, which refuses NUL
characters that SQLite stores."""

from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from tests.api.test_events_api import post
from tests.factories import certificate_body
from traceapp import limits
from traceapp.certificates.models import Certificate
from traceapp.certificates.models import TestReport as StoredReport
from traceapp.events.models import Event, TemperatureReading
from traceapp.orgs.models import OrgKind

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JSON = {"Content-Type": "application/json"}


def count(dbsession, model) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


def fields_of(response) -> list[str]:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)[:200]
    assert all(e["message"] for e in response.json["errors"])
    return [e["field"] for e in response.json["errors"]]


def issue_raw(client, member, text: str):
    return client.post("/api/v1/certificates", data=text, headers={**member.headers, **JSON})


# -- the JSON body: type, syntax, depth, text ------------------------------------------------


def _nested(depth: int) -> list:
    value: list = ["x"]
    for _level in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", json.dumps(certificate_body())),
        ("application/x-www-form-urlencoded", "product_name=cabbage"),
        ("multipart/form-data; boundary=x", "--x--"),
        (None, json.dumps(certificate_body())),
    ],
    ids=["text-plain", "form", "multipart", "no-content-type"],
)
def test_a_body_that_is_not_declared_json_gets_415_not_every_field_missing(
    client, make, dbsession, content_type, body
):
    producer = make.member()
    headers = {**producer.headers, **({"Content-Type": content_type} if content_type else {})}
    response = client.post("/api/v1/certificates", data=body, headers=headers)
    assert response.status_code == 415
    assert fields_of(response) == ["/"]
    assert count(dbsession, Certificate) == 0


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"origin": ' * 100_000 + "{}" + "}" * 100_000,
        json.dumps(certificate_body(origin={"address": _nested(limits.JSON_DEPTH)})),
    ],
    ids=["arrays-100000-deep", "objects-100000-deep", "just-past-the-limit"],
)
def test_json_nested_too_deep_is_refused_before_it_is_parsed(client, make, dbsession, text):
    producer = make.member()
    response = issue_raw(client, producer, text)
    assert response.status_code == 400
    assert fields_of(response) == ["/"]
    assert str(limits.JSON_DEPTH) in response.json["detail"]
    assert count(dbsession, Certificate) == 0


def test_brackets_inside_strings_do_not_count_as_nesting(client, make):
    producer = make.member()
    body = certificate_body(product_name="[" * 40, origin={"region_code": "420116", "address": "{" * 40})
    response = client.post("/api/v1/certificates", json=body, headers=producer.headers)
    assert response.status_code == 201, response.json


@pytest.mark.parametrize(
    "text",
    [
        '{"quantity": NaN}',
        '{"quantity": Infinity}',
        '{"quantity": ' + "9" * 5000 + "}",
        '{"product_name": "unterminated',
        b'{"product_name": "\xff\xfe"}',
    ],
    ids=["nan", "infinity", "5000-digit-integer", "broken", "not-utf8"],
)
def test_a_body_that_is_not_strict_json_is_a_400_naming_the_body(client, make, dbsession, text):
    producer = make.member()
    response = issue_raw(client, producer, text)
    assert response.status_code == 400
    assert fields_of(response) == ["/"]
    assert count(dbsession, Certificate) == 0


BAD_TEXT = [
    (r'{"product_name": "\ud800"}', "/product_name"),
    (r'{"product_name": "ok\u0000"}', "/product_name"),
    (r'{"origin": {"region_code": "420116", "address": "\udfff村"}}', "/origin/address"),
    (r'{"basis": ["self_test", "\u0000"]}', "/basis/1"),
    (r'{"test_report": {"lab_name": "L\ud83d", "report_number": "1"}}', "/test_report/lab_name"),
    (r'{"colour\u0000": "green"}', "/colour\ufffd"),
]


@pytest.mark.parametrize(("overlay", "field"), BAD_TEXT, ids=[f for _t, f in BAD_TEXT])
def test_a_nul_or_a_lone_surrogate_anywhere_is_named_and_never_stored(
    client, make, dbsession, overlay, field
):
    producer = make.member()
    body = {**certificate_body(), **json.loads(overlay)}
    response = issue_raw(client, producer, json.dumps(body, ensure_ascii=True))  # as \\u escapes
    assert response.status_code == 422
    assert fields_of(response) == [field]
    assert count(dbsession, Certificate) == 0


def test_a_surrogate_pair_is_a_character_and_is_stored(client, make, dbsession):
    producer = make.member()
    text = json.dumps(certificate_body(product_name="大白菜 🥬"), ensure_ascii=True)  # "\ud83e\udd6c"
    response = issue_raw(client, producer, text)
    assert response.status_code == 201, response.json
    assert response.json["product_name"] == "大白菜 🥬"


def test_a_nul_in_an_event_names_its_path_and_records_nothing(client, make, dbsession):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    batch = make.certificate(producer)
    response = post(
        client, market, kind="inspecting", trace_code=batch.trace_code, certificate_status="valid",
        result="accepted", brought_by={"name": "张师傅"},
        tests=[{"method": "enzyme_inhibition", "item": "有机磷\x00", "value": "12"}],
    )  # fmt: skip
    assert response.status_code == 422
    assert fields_of(response) == ["/tests/0/item"]
    assert count(dbsession, Event) == 0


def test_a_nul_in_a_query_string_is_named(client, make):
    producer = make.member()
    response = client.get("/api/v1/certificates?product_name=%E7%99%BD%00", headers=producer.headers)
    assert response.status_code == 422
    assert fields_of(response) == ["/product_name"]


# -- numbers, pages, times ----------------------------------------------------------------------


def test_a_page_past_any_list_is_named_not_a_500(client, make):
    producer = make.member()
    response = client.get("/api/v1/certificates?page=999999999999999999", headers=producer.headers)
    assert response.status_code == 422
    assert fields_of(response) == ["/page"]
    last = client.get(f"/api/v1/certificates?page={limits.PAGE}", headers=producer.headers)
    assert last.status_code == 200 and last.json["items"] == []


@pytest.mark.parametrize("quantity", ["1e3", "1E3", "1_000", "+5", "0x10", "12,5", "١٢", " 1e3 ", "5."])
def test_a_quantity_string_is_digits_with_an_optional_point(client, make, dbsession, quantity):
    producer = make.member()
    response = client.post(
        "/api/v1/certificates", json=certificate_body(quantity=quantity), headers=producer.headers
    )
    assert response.status_code == 422
    assert fields_of(response) == ["/quantity"]
    assert count(dbsession, Certificate) == 0


def test_a_plain_decimal_quantity_with_spaces_around_is_still_read(client, make):
    producer = make.member()
    response = client.post(
        "/api/v1/certificates", json=certificate_body(quantity=" 12.5 "), headers=producer.headers
    )
    assert response.status_code == 201 and response.json["quantity"] == "12.5"


def _in(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


@pytest.fixture()
def held(make):
    """A producer holding 100 kg of a vegetable."""
    producer = make.member()
    return producer, make.certificate(producer, quantity=Decimal("100"))


COLD = {"location": "冷库"}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (lambda: {**COLD, "occurred_at": _in(timedelta(days=3 * 365))}, "/occurred_at"),
        (lambda: {**COLD, "occurred_at": _in(limits.CLOCK_SKEW + timedelta(minutes=5))}, "/occurred_at"),
        (lambda: {**COLD, "occurred_at": "9999-12-31T23:59:59-12:00"}, "/occurred_at"),
        (lambda: {**COLD, "occurred_at": "0001-01-01T00:00:00+14:00"}, "/occurred_at"),
        (lambda: {**COLD, "occurred_at": "1999-12-31T23:00:00+00:00"}, "/occurred_at"),
        (lambda: {"temperatures": [{"at": _in(timedelta(days=400)), "celsius": "3"}]}, "/temperatures/0/at"),
        (
            lambda: {"temperatures": [{"at": "2026-11-21T08:00:00+08:00", "celsius": "1e1"}]},
            "/temperatures/0/celsius",
        ),
    ],
    ids=["years-ahead", "past-the-skew", "year-9999", "year-1", "before-2000", "reading-ahead", "exponent"],
)
def test_times_out_of_reach_and_exponents_are_named_and_record_nothing(client, held, dbsession, extra, field):
    producer, batch = held
    response = post(client, producer, kind="storing", trace_code=batch.trace_code, **extra())
    assert response.status_code == 422
    assert fields_of(response) == [field]
    assert count(dbsession, Event) == 0


def test_an_event_a_few_minutes_ahead_is_within_the_clock_skew(client, held):
    producer, batch = held
    ahead = _in(limits.CLOCK_SKEW - timedelta(minutes=2))
    response = post(
        client, producer, kind="storing", trace_code=batch.trace_code, location="冷库", occurred_at=ahead
    )
    assert response.status_code == 201, response.json


# -- lists and keys past any real use -----------------------------------------------------------


def _readings(n: int) -> list[dict[str, str]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [{"at": (start + timedelta(minutes=i)).isoformat(), "celsius": "3"} for i in range(n)]


def _tests(n: int) -> list[dict[str, str]]:
    return [{"method": "colloidal_gold", "item": f"残留{i}", "result": "negative"} for i in range(n)]


LISTS = [
    ("temperatures", lambda code: {"kind": "storing", "trace_code": code,
                                   "temperatures": _readings(limits.TEMPERATURES + 1)}),
    ("tests", lambda code: {"kind": "inspecting", "trace_code": code, "certificate_status": "valid",
                            "result": "accepted", "brought_by": {"name": "张"},
                            "tests": _tests(limits.TESTS + 1)}),
    ("outputs", lambda code: {"kind": "portioning", "trace_code": code,
                              "outputs": [{"quantity": "1", "unit": "kg"}] * (limits.OUTPUTS + 1)}),
    ("inputs", lambda code: {"kind": "transforming", "outputs": [certificate_body()],
                             "inputs": [{"trace_code": code, "quantity": "1", "unit": "kg"}]
                             * (limits.INPUTS + 1)}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "body"), LISTS, ids=[n for n, _b in LISTS])
def test_a_list_past_its_limit_is_named_and_records_nothing(client, make, held, dbsession, name, body):
    _producer, batch = held
    member = make.member(OrgKind.MARKET)
    response = post(client, member, **body(batch.trace_code))
    assert response.status_code == 422
    assert fields_of(response) == [f"/{name}"]
    assert count(dbsession, Event) == 0 and count(dbsession, TemperatureReading) == 0


def test_the_openapi_document_states_the_limits(client):
    spec = client.get("/api/v1/openapi.json").json
    event = spec["components"]["schemas"]["EventIn"]["properties"]
    assert event["temperatures"]["maxItems"] == limits.TEMPERATURES
    assert event["tests"]["maxItems"] == limits.TESTS
    assert event["inputs"]["maxItems"] == limits.INPUTS
    assert event["outputs"]["maxItems"] == limits.OUTPUTS
    assert event["trace_code"]["maxLength"] == limits.TEXT_LENGTH
    page = next(p for p in spec["paths"]["/api/v1/certificates"]["get"]["parameters"] if p["name"] == "page")
    assert page["schema"]["maximum"] == limits.PAGE


def test_200000_unknown_keys_are_answered_with_a_bounded_list(client, make, dbsession):
    producer = make.member()
    body = certificate_body(**{f"k{i}": 1 for i in range(200_000)})
    response = client.post("/api/v1/certificates", json=body, headers=producer.headers)
    assert response.status_code == 422
    fields = fields_of(response)
    assert "/k0" in fields and len(fields) <= limits.LISTED_UNKNOWN + 1
    assert "200000" in " ".join(e["message"] for e in response.json["errors"])
    assert count(dbsession, Certificate) == 0


def test_a_few_unknown_keys_are_each_named_with_the_other_errors(client, make):
    producer = make.member()
    body = certificate_body(colour="green", size="L", quantity="-1")
    response = client.post("/api/v1/certificates", json=body, headers=producer.headers)
    assert response.status_code == 422
    assert sorted(fields_of(response)) == ["/colour", "/quantity", "/size"]


def test_thousands_of_bad_items_list_a_bounded_number_of_errors(client, held, dbsession):
    producer, batch = held
    readings = [{"at": "2026-11-21T08:00:00+08:00", "celsius": "hot"}] * 500
    response = post(client, producer, kind="storing", trace_code=batch.trace_code, temperatures=readings)
    assert response.status_code == 422
    assert len(fields_of(response)) == limits.LISTED_ERRORS
    assert "500" in response.json["detail"]
    assert count(dbsession, Event) == 0


# -- uploads ------------------------------------------------------------------------------------


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width × height pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("width", "height"),
    [(20_000, 20_000), (10_000, 10_000), (8_000, 7_000)],
    ids=["pillow-refuses", "pillow-warns", "past-our-limit"],
)
def test_an_image_declaring_too_many_pixels_is_refused_as_a_lab_report(
    client, make, dbsession, width, height
):
    producer = make.member()
    upload = {"file": (io.BytesIO(png_declaring(width, height)), "report.png")}
    response = client.post("/api/v1/reports", headers=producer.headers, data=upload)
    assert response.status_code == 422
    assert fields_of(response) == ["/file"]
    assert count(dbsession, StoredReport) == 0


def test_two_file_parts_are_refused_not_one_silently_dropped(client, make, dbsession):
    producer = make.member()
    parts = MultiDict([("file", (io.BytesIO(PDF), "a.pdf")), ("file", (io.BytesIO(PDF), "b.pdf"))])
    response = client.post("/api/v1/reports", headers=producer.headers, data=parts)
    assert response.status_code == 422
    assert fields_of(response) == ["/file"]
    assert count(dbsession, StoredReport) == 0


def test_two_logger_files_are_refused(client, make):
    member = make.member(OrgKind.CARRIER)
    csv = b"timestamp,temperature\n2026-11-21T08:00:00+08:00,3.1\n"
    parts = MultiDict([("file", (io.BytesIO(csv), "a.csv")), ("file", (io.BytesIO(csv), "b.csv"))])
    response = client.post("/api/v1/temperature-logs/parse", headers=member.headers, data=parts)
    assert response.status_code == 422
    assert fields_of(response) == ["/file"]
