"""Bad input on the certificate API: a problem+json naming the field, and nothing written."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.factories import certificate_body
from traceapp.certificates.models import Certificate
from traceapp.certificates.models import TestReport as StoredReport

ALL_COMMITMENTS = ["no_banned_substances", "residues_within_limits", "truthful"]


def _without(key: str) -> dict:
    body = certificate_body()
    del body[key]
    return body


BAD_BODIES = [
    ("missing product", _without("product_name"), "/product_name"),
    ("blank product", certificate_body(product_name="   "), "/product_name"),
    ("long product", certificate_body(product_name="菜" * 61), "/product_name"),
    ("missing quantity", _without("quantity"), "/quantity"),
    ("zero quantity", certificate_body(quantity="0"), "/quantity"),
    ("negative quantity", certificate_body(quantity="-3"), "/quantity"),
    ("float quantity", certificate_body(quantity=12.5), "/quantity"),
    ("four decimals", certificate_body(quantity="1.2345"), "/quantity"),
    ("text quantity", certificate_body(quantity="lots"), "/quantity"),
    ("infinite quantity", certificate_body(quantity="Infinity"), "/quantity"),
    ("unknown unit", certificate_body(unit="ton"), "/unit"),
    ("missing origin", _without("origin"), "/origin"),
    ("short region code", certificate_body(origin={"region_code": "4201"}), "/origin/region_code"),
    ("unknown region code", certificate_body(origin={"region_code": "999999"}), "/origin/region_code"),
    ("origin not object", certificate_body(origin="湖北"), "/origin"),
    ("future harvest", certificate_body(harvest_date="2999-01-01"), "/harvest_date"),
    ("bad date", certificate_body(harvest_date="20/11/2026"), "/harvest_date"),
    ("two commitments", certificate_body(commitments=ALL_COMMITMENTS[:2]), "/commitments"),
    ("unknown commitment", certificate_body(commitments=[*ALL_COMMITMENTS, "organic"]), "/commitments/3"),
    ("no basis", certificate_body(basis=[]), "/basis"),
    ("unknown basis", certificate_body(basis=["hearsay"]), "/basis/0"),
    ("repeated basis", certificate_body(basis=["self_test", "self_test"]), "/basis"),
    ("lab test without report", certificate_body(basis=["commissioned_test"]), "/test_report"),
    (
        "lab test without file",
        certificate_body(basis=["commissioned_test"], test_report={"lab_name": "L", "report_number": "1"}),
        "/test_report/report_id",
    ),
    (
        "report without lab basis",
        certificate_body(test_report={"lab_name": "L", "report_number": "1"}),
        "/test_report",
    ),
    ("bad gtin", certificate_body(gtin="12345678901234"), "/gtin"),
    ("bad event id", certificate_body(event_id="not-a-uuid"), "/event_id"),
    ("unknown field", certificate_body(colour="green"), "/colour"),
    ("bad farmer phone", certificate_body(producer={"name": "张三", "phone": "call me"}), "/producer/phone"),
]


def _count(dbsession, model) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(("case", "body", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_bad_certificate_body_names_the_field_and_writes_nothing(client, make, dbsession, case, body, field):
    producer = make.member()
    response = client.post("/api/v1/certificates", json=body, headers=producer.headers)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.json["errors"]]
    assert all(error["message"] for error in response.json["errors"])
    assert _count(dbsession, Certificate) == 0


@pytest.mark.parametrize(
    ("quantity", "language", "message"),
    [
        ("十二", "zh-CN", "请用数字填写数量，例如 12.5。"),
        ("twelve", "en", "Enter the quantity in digits, such as 12.5."),
        (
            12.5,
            "en",
            'Send the quantity as a string of digits, such as "12.5": a JSON number can lose digits.',
        ),
        (12.5, "zh-CN", "数量请以数字字符串发送"),
    ],
)
def test_a_bad_quantity_is_told_in_words_for_its_reader(client, make, dbsession, quantity, language, message):
    producer = make.member()
    body = {**certificate_body(), "quantity": quantity}
    headers = {**producer.headers, "Accept-Language": language}
    response = client.post("/api/v1/certificates", json=body, headers=headers)
    assert response.status_code == 422
    [error] = [e for e in response.json["errors"] if e["field"] == "/quantity"]
    assert error["message"].startswith(message)
    assert _count(dbsession, Certificate) == 0


def test_a_body_that_is_not_json_is_refused(client, make):
    producer = make.member()
    response = client.post(
        "/api/v1/certificates",
        data="product=cabbage",
        headers={**producer.headers, "Content-Type": "text/plain"},
    )
    assert response.status_code in (400, 415, 422)
    assert response.mimetype == "application/problem+json"


def test_a_report_of_another_organisation_cannot_be_attached(client, make, dbsession):
    producer, other = make.member(), make.member()
    report = client.post(
        "/api/v1/reports", headers=other.headers, data={"file": (io.BytesIO(PDF), "r.pdf")}
    ).json
    body = certificate_body(
        basis=["commissioned_test"],
        test_report={"lab_name": "L", "report_number": "1", "report_id": report["id"]},
    )
    response = client.post("/api/v1/certificates", json=body, headers=producer.headers)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "/test_report/report_id"
    assert _count(dbsession, Certificate) == 0


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploading_a_pdf_report_and_issuing_with_it(client, make):
    producer = make.member()
    report = client.post(
        "/api/v1/reports", headers=producer.headers, data={"file": (io.BytesIO(PDF), "报告.pdf")}
    )
    assert report.status_code == 201
    assert report.json["content_type"] == "application/pdf"
    body = certificate_body(
        basis=["commissioned_test"],
        test_report={"lab_name": "武汉检测中心", "report_number": "WH-1", "report_id": report.json["id"]},
    )
    issued = client.post("/api/v1/certificates", json=body, headers=producer.headers).json
    assert issued["test_report"]["report_url"].endswith(f"/t/{issued['trace_code']}/report")
    shown = client.get(f"/t/{issued['trace_code']}/report")
    assert shown.data == PDF and shown.mimetype == "application/pdf"


def test_png_reports_are_recognised_by_content(client, make):
    producer = make.member()
    report = client.post(
        "/api/v1/reports", headers=producer.headers, data={"file": (io.BytesIO(_png()), "scan.pdf")}
    )
    assert report.status_code == 201 and report.json["content_type"] == "image/png"


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MZ\x90\x00 this is an exe", "report.pdf"),
        (b"<html><script>alert(1)</script></html>", "report.png"),
        (b"%PDF-1.4 truncated with no end", "report.pdf"),
        (b"\x89PNG\r\n\x1a\n broken", "report.png"),
        (b"", "empty.pdf"),
    ],
    ids=["exe", "html", "truncated-pdf", "broken-png", "empty"],
)
def test_wrong_type_reports_are_refused_and_not_stored(client, make, dbsession, content, name):
    producer = make.member()
    response = client.post(
        "/api/v1/reports", headers=producer.headers, data={"file": (io.BytesIO(content), name)}
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "/file"
    assert _count(dbsession, StoredReport) == 0


def test_oversize_reports_are_refused_with_413(client, make, dbsession, app):
    app.config["REPORT_MAX_BYTES"] = 1024
    producer = make.member()
    response = client.post(
        "/api/v1/reports", headers=producer.headers, data={"file": (io.BytesIO(PDF + b" " * 2048), "big.pdf")}
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["field"] == "/file"
    assert _count(dbsession, StoredReport) == 0


def test_request_bodies_over_the_limit_are_refused_with_413(client, make, app):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    producer = make.member()
    response = client.post(
        "/api/v1/reports", headers=producer.headers, data={"file": (io.BytesIO(b"x" * 4096), "huge.pdf")}
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_upload_without_a_file_field_names_it(client, make):
    producer = make.member()
    response = client.post("/api/v1/reports", headers=producer.headers, data={"note": "hi"})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "/file"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("size=10x10", "/size"),
        ("dpi=150", "/dpi"),
        ("copies=0", "/copies"),
        ("copies=501", "/copies"),
        ("copies=many", "/copies"),
        ("lang=fr", "/lang"),
        ("colour=red", "/colour"),
    ],
)
def test_bad_label_options_name_the_field(client, make, query, field):
    producer = make.member()
    certificate = make.certificate(producer)
    response = client.get(
        f"/api/v1/certificates/{certificate.id}/label.pdf?{query}", headers=producer.headers
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == field
