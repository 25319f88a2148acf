"""API tokens: scopes, expiry, revocation, last use, and who sees and revokes which token.

On the real database of the suite (SQLite file, or PostgreSQL with TRACEAPP_TEST_DATABASE_URL).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import certificate_body
from traceapp.db import utcnow
from traceapp.orgs import services as orgs
from traceapp.orgs.models import ApiToken, AuditEntry, OrgKind, Role
from traceapp.orgs.scopes import ENDPOINT_SCOPES, Scope
from traceapp.orgs.services import TOKEN_USE_RESOLUTION

EN = {"Accept-Language": "en"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **EN}


def new_token(client, member, **body):
    body = {"name": "gate", "scopes": ["read"], **body}
    response = client.post("/api/v1/tokens", json=body, headers={**member.headers, **EN})
    assert response.status_code == 201, response.json
    return response.json


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.json


def test_every_api_endpoint_of_the_app_has_a_scope_and_no_line_is_stale(app):
    endpoints = {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if (rule.rule.startswith("/api/v1/") and rule.endpoint.split(".")[0].endswith("_api"))
        or rule.rule.startswith("/epcis")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert endpoints == set(ENDPOINT_SCOPES)


def test_a_token_without_the_scope_gets_403_naming_the_scope_and_writes_nothing(client, make, dbsession):
    producer = make.member()
    read_only = new_token(client, producer, scopes=["read"])["token"]
    response = client.post("/api/v1/certificates", json=certificate_body(), headers=bearer(read_only))
    body = problem(response, 403)
    assert "certificates" in body["detail"]
    assert client.get("/api/v1/certificates", headers=bearer(read_only)).json["total"] == 0
    issuing = new_token(client, producer, scopes=["certificates"])["token"]
    assert (
        client.post("/api/v1/certificates", json=certificate_body(), headers=bearer(issuing)).status_code
        == 201
    )
    assert "read" in problem(client.get("/api/v1/certificates", headers=bearer(issuing)), 403)["detail"]


def test_a_token_without_the_events_or_recall_scope_cannot_record_or_recall(client, make):
    producer = make.member()
    certificate = make.certificate(producer)
    token = new_token(client, producer, scopes=["read", "certificates"])["token"]
    event = {
        "event_id": "3f0c9a59-8d1e-4c4c-9c1f-3b7d1f9b6a01",
        "kind": "storing",
        "trace_code": certificate.trace_code,
        "occurred_at": "2026-11-21T08:00:00+08:00",
    }
    assert (
        "events" in problem(client.post("/api/v1/events", json=event, headers=bearer(token)), 403)["detail"]
    )
    recall = {"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_i"}
    assert (
        "recall" in problem(client.post("/api/v1/recalls", json=recall, headers=bearer(token)), 403)["detail"]
    )


def test_an_expired_token_gets_401(client, make, dbsession):
    producer = make.member()
    created = new_token(client, producer, expires_at=(utcnow() + timedelta(hours=1)).isoformat())
    assert client.get("/api/v1/certificates", headers=bearer(created["token"])).status_code == 200
    dbsession.execute(
        sa.update(ApiToken)
        .where(ApiToken.id == uuid.UUID(created["id"]))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    dbsession.commit()
    body = problem(client.get("/api/v1/certificates", headers=bearer(created["token"])), 401)
    assert "expired" in body["detail"]


def test_an_expiry_in_the_past_is_refused_naming_the_field(client, make):
    producer = make.member()
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    response = client.post(
        "/api/v1/tokens",
        json={"name": "x", "scopes": ["read"], "expires_at": past},
        headers={**producer.headers, **EN},
    )
    assert problem(response, 422)["errors"][0]["field"] == "/expires_at"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["admin"]}, "/scopes/0"),
        ({"name": "x", "scopes": []}, "/scopes"),
        ({"name": "", "scopes": ["read"]}, "/name"),
        ({"name": "x" * 101, "scopes": ["read"]}, "/name"),
        ({"name": "x", "scopes": ["read"], "owner": "someone"}, "/owner"),
    ],
)
def test_bad_token_bodies_are_refused_naming_the_field(client, make, dbsession, body, field):
    producer = make.member()
    before = dbsession.scalar(sa.select(sa.func.count()).select_from(ApiToken))
    response = client.post("/api/v1/tokens", json=body, headers={**producer.headers, **EN})
    assert field in [e["field"] for e in problem(response, 422)["errors"]]
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == before


def test_a_revoked_token_gets_401_and_revoking_is_audited(client, make, dbsession):
    producer = make.member()
    created = new_token(client, producer)
    assert client.get("/api/v1/certificates", headers=bearer(created["token"])).status_code == 200
    response = client.post(f"/api/v1/tokens/{created['id']}/revoke", headers=bearer(producer.token))
    assert response.status_code == 200 and response.json["status"] == "revoked"
    assert (
        "revoked"
        in problem(client.get("/api/v1/certificates", headers=bearer(created["token"])), 401)["detail"]
    )
    actions = dbsession.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.subject_id == created["id"])
    ).all()
    assert "token.created" in actions and "token.revoked" in actions


def test_another_organisations_token_is_neither_listed_nor_revocable(client, make, dbsession):
    owner, other = make.member(OrgKind.MARKET), make.member(OrgKind.MARKET)
    created = new_token(client, owner)
    listed = client.get("/api/v1/tokens", headers=bearer(other.token)).json["items"]
    assert created["id"] not in {t["id"] for t in listed}
    problem(client.post(f"/api/v1/tokens/{created['id']}/revoke", headers=bearer(other.token)), 404)
    assert client.get("/api/v1/certificates", headers=bearer(created["token"])).status_code == 200


def test_an_admin_sees_and_revokes_colleagues_tokens_a_member_only_their_own(client, make):
    admin = make.member(OrgKind.MARKET)
    member = make.member(org=admin.org, role=Role.MEMBER)
    colleague = make.member(org=admin.org, role=Role.MEMBER)
    created = new_token(client, member)
    assert created["id"] in {
        t["id"] for t in client.get("/api/v1/tokens", headers=bearer(admin.token)).json["items"]
    }
    assert created["id"] not in {
        t["id"] for t in client.get("/api/v1/tokens", headers=bearer(colleague.token)).json["items"]
    }
    problem(client.post(f"/api/v1/tokens/{created['id']}/revoke", headers=bearer(colleague.token)), 404)
    assert (
        client.post(f"/api/v1/tokens/{created['id']}/revoke", headers=bearer(admin.token)).status_code == 200
    )


def test_a_token_gives_no_more_than_it_has(client, make):
    producer = make.member()
    read_only = new_token(client, producer, scopes=["read"])["token"]
    response = client.post(
        "/api/v1/tokens", json={"name": "more", "scopes": ["read", "recall"]}, headers=bearer(read_only)
    )
    assert "recall" in problem(response, 403)["detail"]
    expiring = new_token(client, producer, expires_at=(utcnow() + timedelta(days=1)).isoformat())["token"]
    response = client.post(
        "/api/v1/tokens", json={"name": "forever", "scopes": ["read"]}, headers=bearer(expiring)
    )
    problem(response, 403)
    # and a narrower token cannot revoke a wider one (it may revoke itself)
    wide = new_token(client, producer, scopes=["read", "events"])
    problem(client.post(f"/api/v1/tokens/{wide['id']}/revoke", headers=bearer(read_only)), 403)


def test_token_use_is_noted_once_a_minute_and_audited(client, make, dbsession):
    producer = make.member()
    created = new_token(client, producer)
    for _ in range(3):
        assert client.get("/api/v1/certificates", headers=bearer(created["token"])).status_code == 200

    def uses() -> list[AuditEntry]:
        query = sa.select(AuditEntry).where(
            AuditEntry.token_id == uuid.UUID(created["id"]), AuditEntry.action == "token.used"
        )
        return list(dbsession.scalars(query))

    dbsession.expire_all()
    assert len(uses()) == 1 and uses()[0].details == {"first": True}
    token = dbsession.get(ApiToken, uuid.UUID(created["id"]))
    assert token.last_used_at is not None
    token.last_used_at = utcnow() - TOKEN_USE_RESOLUTION - timedelta(seconds=1)
    dbsession.commit()
    assert client.get("/api/v1/certificates", headers=bearer(created["token"])).status_code == 200
    dbsession.expire_all()
    assert len(uses()) == 2
    listed = {t["id"]: t for t in client.get("/api/v1/tokens", headers=bearer(producer.token)).json["items"]}
    assert listed[created["id"]]["last_used_at"] is not None
    assert "token" not in listed[created["id"]]  # the secret is never listed


def test_tokens_made_before_scopes_keep_every_scope(make, dbsession, app):
    producer = make.member()
    with app.test_request_context():
        token, _plaintext = orgs.create_api_token(dbsession, email=producer.user.email)
    assert set(token.scopes) == {s.value for s in Scope}
