"""The certificates API as partners use it: issue, read, list, revoke, verify a code."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.factories import certificate_body
from traceapp.certificates.models import Certificate
from traceapp.orgs.models import OrgKind


def count_certificates(dbsession) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(Certificate))


def test_issuing_returns_trace_code_public_url_and_label_links(client, make):
    producer = make.member()
    response = client.post("/api/v1/certificates", json=certificate_body(), headers=producer.headers)
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "valid"
    assert len(body["trace_code"]) == 14
    assert body["public_url"] == f"https://trace.example.cn/t/{body['trace_code']}"
    assert body["quantity"] == "500" and body["unit"] == "kg"
    assert body["origin"] == {
        "region_code": "420116",
        "region_name": "湖北省武汉市黄陂区",
        "address": "黄陂区木兰乡",
    }
    assert body["producer"]["name"] == producer.org.name
    assert set(body["links"]) >= {
        "qr_png",
        "label_png",
        "label_pdf",
        "label_zpl",
        "label_tspl",
        "label_escpos",
        "sheet_pdf",
        "share_png",
    }


def test_issued_certificate_can_be_read_back_and_listed(client, make):
    producer = make.member()
    issued = client.post(
        "/api/v1/certificates", json=certificate_body(quantity="12.5"), headers=producer.headers
    ).json
    read = client.get(f"/api/v1/certificates/{issued['id']}", headers=producer.headers)
    assert read.status_code == 200 and read.json["quantity"] == "12.5"
    listing = client.get("/api/v1/certificates?page_size=5", headers=producer.headers).json
    assert listing["total"] == 1 and listing["items"][0]["id"] == issued["id"]


def test_listing_filters_by_status_and_rejects_unknown_filters(client, make):
    producer = make.member()
    kept, revoked = make.certificate(producer), make.certificate(producer)
    client.post(
        f"/api/v1/certificates/{revoked.id}/revoke", json={"reason": "typo"}, headers=producer.headers
    )
    valid = client.get("/api/v1/certificates?status=valid", headers=producer.headers).json
    assert [item["id"] for item in valid["items"]] == [str(kept.id)]
    bad = client.get("/api/v1/certificates?colour=red", headers={**producer.headers, "Accept-Language": "en"})
    assert bad.status_code == 422
    assert bad.json["errors"] == [{"field": "/colour", "message": "Unknown field."}]
    chinese = client.get(
        "/api/v1/certificates?colour=red", headers={**producer.headers, "Accept-Language": "zh-CN"}
    )
    assert chinese.json["errors"] == [{"field": "/colour", "message": "未知字段。"}]


def test_replaying_the_same_event_id_returns_the_stored_certificate(client, make, dbsession):
    producer = make.member()
    body = certificate_body(event_id=str(uuid.uuid4()))
    first = client.post("/api/v1/certificates", json=body, headers=producer.headers)
    again = client.post("/api/v1/certificates", json=body, headers=producer.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["trace_code"] == again.json["trace_code"]
    assert count_certificates(dbsession) == 1


def test_reusing_an_event_id_with_another_body_is_a_conflict(client, make, dbsession):
    producer = make.member()
    event_id = str(uuid.uuid4())
    client.post("/api/v1/certificates", json=certificate_body(event_id=event_id), headers=producer.headers)
    clash = client.post(
        "/api/v1/certificates",
        json=certificate_body(event_id=event_id, quantity="9"),
        headers=producer.headers,
    )
    assert clash.status_code == 409
    assert clash.mimetype == "application/problem+json"
    assert count_certificates(dbsession) == 1


def test_revoking_needs_a_reason_and_happens_once(client, make):
    producer = make.member()
    certificate = make.certificate(producer)
    url = f"/api/v1/certificates/{certificate.id}/revoke"
    empty = client.post(url, json={"reason": "  "}, headers=producer.headers)
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "/reason"
    done = client.post(url, json={"reason": "wrong quantity"}, headers=producer.headers)
    assert done.status_code == 200
    assert done.json["status"] == "revoked"
    assert done.json["revocation"]["reason"] == "wrong quantity"
    assert client.post(url, json={"reason": "again"}, headers=producer.headers).status_code == 409


def test_code_lookup_accepts_any_case_spaces_and_dashes(client, make):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    certificate = make.certificate(producer)
    code = certificate.trace_code
    typed = f"{code[:4].lower()}-{code[4:8]} {code[8:]}"
    response = client.get(f"/api/v1/codes/{typed}", headers=market.headers)
    assert response.status_code == 200
    assert response.json["status"] == "valid"
    assert response.json["certificate"]["trace_code"] == code
    assert response.json["events"][0]["kind"] == "commissioning"


def test_code_lookup_reports_revocation_and_unknown_codes(client, make):
    producer = make.member()
    certificate = make.certificate(producer)
    client.post(
        f"/api/v1/certificates/{certificate.id}/revoke", json={"reason": "x"}, headers=producer.headers
    )
    assert (
        client.get(f"/api/v1/codes/{certificate.trace_code}", headers=producer.headers).json["status"]
        == "revoked"
    )
    missing = client.get("/api/v1/codes/NOTACODE", headers=producer.headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_a_station_can_issue_for_a_farmer(client, make):
    station = make.member()
    body = certificate_body(producer={"name": "张三", "phone": "13900001111"})
    issued = client.post("/api/v1/certificates", json=body, headers=station.headers).json
    assert issued["producer"]["name"] == "张三"


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/certificates" in spec["paths"]
    assert "/api/v1/certificates/{certificate_id}/revoke" in spec["paths"]
    assert "CertificateIn" in spec["components"]["schemas"]
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize(
    ("filename", "content_type", "query"),
    [
        ("qr.png", "image/png", set()),
        ("label.png", "image/png", {"size", "dpi", "copies", "lang"}),
        ("label.pdf", "application/pdf", {"size", "dpi", "copies", "lang"}),
        ("label.zpl", "text/plain", {"size", "dpi", "copies", "lang"}),
        ("label.tspl", "application/octet-stream", {"size", "dpi", "copies", "lang"}),
        ("label.escpos", "application/octet-stream", {"paper", "copies", "lang"}),
        ("sheet.pdf", "application/pdf", {"sheet", "copies", "lang"}),
        ("share.png", "image/png", set()),
    ],
)
def test_openapi_document_gives_each_label_file_its_content_type_and_query(
    client, filename, content_type, query
):
    operation = client.get("/api/v1/openapi.json").json["paths"][
        f"/api/v1/certificates/{{certificate_id}}/{filename}"
    ]["get"]
    assert set(operation["responses"]["200"]["content"]) == {content_type}
    assert {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"} == query
    assert operation["summary"]
