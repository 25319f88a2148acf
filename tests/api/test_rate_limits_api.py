"""The API's rate limit: per token across every endpoint, per address without one; 429 as
problem+json with Retry-After."""

from __future__ import annotations

from traceapp.certificates.models import Certificate
from traceapp.orgs.models import OrgKind


def test_each_token_has_its_own_budget_across_the_whole_api(client, make, app, dbsession):
    app.config["RATELIMIT_API"] = "3 per minute"
    producer, market = make.member(), make.member(OrgKind.MARKET)
    certificate = make.certificate(producer)
    assert client.get("/api/v1/certificates", headers=producer.headers).status_code == 200
    assert client.get(f"/api/v1/certificates/{certificate.id}", headers=producer.headers).status_code == 200
    assert client.get(f"/api/v1/codes/{certificate.trace_code}", headers=producer.headers).status_code == 200
    refused = client.post(
        f"/api/v1/certificates/{certificate.id}/revoke",
        json={"reason": "x"},
        headers={**producer.headers, "Accept-Language": "en"},
    )
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.json["status"] == 429 and refused.json["type"].endswith("/too-many-requests")
    assert "Too many requests" in refused.json["title"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    dbsession.expire_all()
    assert not dbsession.get(Certificate, certificate.id).is_revoked  # refused before it ran
    assert client.get(f"/api/v1/codes/{certificate.trace_code}", headers=producer.headers).status_code == 429
    assert client.get(f"/api/v1/codes/{certificate.trace_code}", headers=market.headers).status_code == 200


def test_requests_without_a_token_share_their_addresss_budget(client, app):
    app.config["RATELIMIT_API"] = "2 per minute"
    env = {"REMOTE_ADDR": "192.0.2.50"}
    assert client.get("/api/v1/certificates", environ_base=env).status_code == 401
    assert client.get("/api/v1/codes/XXXX", environ_base=env).status_code == 401
    refused = client.get("/api/v1/certificates", environ_base=env, headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert refused.json["title"] == "请求过于频繁"
    assert client.get("/api/v1/certificates", environ_base={"REMOTE_ADDR": "192.0.2.51"}).status_code == 401


def test_the_openapi_document_is_not_counted(client, app):
    app.config["RATELIMIT_API"] = "1 per minute"
    assert [client.get("/api/v1/openapi.json").status_code for _ in range(3)] == [200, 200, 200]
