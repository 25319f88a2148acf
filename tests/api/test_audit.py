"""The audit log: what it records, and who reads it (an admin its organisation's, a regulator
every one, others 403), newest first, page by page."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from click.testing import Result

from tests.factories import certificate_body
from tests.web.test_certificate_pages import sign_in
from traceapp.orgs.models import AuditEntry, OrgKind, Role

EN = {"Accept-Language": "en"}


def headers(member) -> dict[str, str]:
    return {**member.headers, **EN}


def test_revocations_and_recalls_are_audited_with_the_write(client, make, dbsession):
    producer = make.member()
    certificate = make.certificate(producer)
    recall = {"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_i"}
    recall_id = client.post("/api/v1/recalls", json=recall, headers=headers(producer)).json["id"]
    client.post(f"/api/v1/recalls/{recall_id}/close", json={"note": "已处理"}, headers=headers(producer))
    client.post(
        f"/api/v1/certificates/{certificate.id}/revoke", json={"reason": "写错了"}, headers=headers(producer)
    )
    entries = {
        e.action: e
        for e in dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.org_id == producer.org.id))
    }
    assert entries["certificate.revoked"].subject_id == str(certificate.id)
    assert entries["certificate.revoked"].actor_user_id == producer.user.id
    assert entries["certificate.revoked"].token_id is not None
    assert entries["recall.opened"].subject_id == recall_id and "recall.closed" in entries


def test_a_refused_write_leaves_no_audit_entry(client, make, dbsession):
    producer = make.member()
    certificate = make.certificate(producer)
    client.post(
        f"/api/v1/certificates/{certificate.id}/revoke", json={"reason": "  "}, headers=headers(producer)
    )
    query = sa.select(AuditEntry).where(
        AuditEntry.action == "certificate.revoked", AuditEntry.org_id == producer.org.id
    )
    assert dbsession.scalars(query).all() == []


def test_an_admin_reads_their_organisations_log_only_newest_first(client, make):
    admin, other = make.member(), make.member()
    client.post(
        f"/api/v1/certificates/{make.certificate(admin).id}/revoke",
        json={"reason": "写错了"},
        headers=headers(admin),
    )
    client.post(
        f"/api/v1/certificates/{make.certificate(other).id}/revoke",
        json={"reason": "写错了"},
        headers=headers(other),
    )
    page = client.get("/api/v1/audit", headers=headers(admin)).json
    assert page["total"] >= 2 and {e["org_id"] for e in page["items"]} == {str(admin.org.id)}
    times = [e["at"] for e in page["items"]]
    assert times == sorted(times, reverse=True)
    assert page["items"][0]["action"] == "certificate.revoked"
    # an admin naming another organisation still reads only its own
    narrowed = client.get(f"/api/v1/audit?org_id={other.org.id}", headers=headers(admin)).json
    assert {e["org_id"] for e in narrowed["items"]} == {str(admin.org.id)}


def test_a_member_who_is_not_admin_gets_403(client, make):
    admin = make.member()
    member = make.member(org=admin.org, role=Role.MEMBER)
    response = client.get("/api/v1/audit", headers=headers(member))
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert "administrator" in response.json["detail"]


def test_a_regulator_reads_every_organisation_and_pages_through(client, make):
    producer, regulator = make.member(), make.member(OrgKind.REGULATOR, role=Role.MEMBER)
    client.post(
        f"/api/v1/certificates/{make.certificate(producer).id}/revoke",
        json={"reason": "写错了"},
        headers=headers(producer),
    )
    one = client.get(f"/api/v1/audit?org_id={producer.org.id}", headers=headers(regulator)).json
    assert {e["org_id"] for e in one["items"]} == {str(producer.org.id)} and one["total"] >= 2
    first = client.get("/api/v1/audit?page_size=1", headers=headers(regulator)).json
    second = client.get("/api/v1/audit?page_size=1&page=2", headers=headers(regulator)).json
    assert first["items"][0]["id"] != second["items"][0]["id"] and first["total"] >= 2
    bad = client.get("/api/v1/audit?page=0", headers=headers(regulator))
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "/page"


def test_the_audit_page_in_both_languages_and_403_for_a_member(client, make):
    admin = make.member()
    sign_in(client, admin)
    assert "审计日志" in client.get("/audit", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    page = client.get("/audit", headers=EN).get_data(as_text=True)
    assert "Audit log" in page and "Signed in" in page
    assert 'href="/audit"' in client.get("/certificates", headers=EN).get_data(as_text=True)
    client.post("/logout")
    sign_in(client, make.member(org=admin.org, role=Role.MEMBER))
    assert client.get("/audit", headers=EN).status_code == 403
    # A member is not offered a link that would answer 403.
    home = client.get("/certificates", headers=EN).get_data(as_text=True)
    assert "Certificates" in home and 'href="/audit"' not in home


def test_the_tokens_page_creates_shows_once_and_revokes(client, make, dbsession):
    member = make.member(OrgKind.MARKET)
    sign_in(client, member)
    page = client.post("/tokens", data={"name": "东门", "scopes": ["read", "events"]}, headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "shown only this once" in html and "tat_" in html
    assert (
        client.get("/tokens", headers=EN).get_data(as_text=True).count("tat_") == 2
    )  # two prefixes, no secret
    refused = client.post("/tokens", data={"name": "x"}, headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 422 and "请至少选择一个权限范围" in refused.get_data(as_text=True)
    secret = re.search(r"tat_[A-Za-z0-9_-]+", html).group(0)
    assert client_get_with_token(client, secret).status_code == 200
    listed = html_of(client.get("/tokens", headers=EN))
    row = listed[listed.index("东门") :]
    action = re.search(r'action="(/tokens/[0-9a-f-]+/revoke)"', row).group(1)
    revoked = client.post(action, headers=EN, follow_redirects=True)
    assert revoked.status_code == 200 and "Token 东门 revoked." in revoked.get_data(as_text=True)
    assert action not in html_of(client.get("/tokens", headers=EN))  # no button on a revoked token
    assert client_get_with_token(client, secret).status_code == 401


def html_of(response: Any) -> str:
    return response.get_data(as_text=True)


def client_get_with_token(client: Any, secret: str) -> Any:
    return client.get("/api/v1/certificates", headers={"Authorization": f"Bearer {secret}"})


def _cli(app, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def test_the_command_line_creates_lists_and_revokes_tokens_and_changes_roles(app, make, client, dbsession):
    member = make.member(role=Role.MEMBER)
    created = _cli(
        app,
        "token",
        "create",
        "--email",
        member.user.email,
        "--name",
        "erp",
        "--scope",
        "read",
        "--expires-in-days",
        "30",
    )
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip()
    assert plaintext.startswith("tat_") and "\n" not in plaintext
    listed = _cli(app, "token", "list", "--email", member.user.email)
    line = next(row for row in listed.stdout.splitlines() if "\terp\t" in row)
    assert "\tread\tactive\t" in line
    token_id = line.split("\t")[0]
    assert (
        client.get("/api/v1/certificates", headers={"Authorization": f"Bearer {plaintext}"}).status_code
        == 200
    )
    assert (
        client.post(
            "/api/v1/certificates", json=certificate_body(), headers={"Authorization": f"Bearer {plaintext}"}
        ).status_code
        == 403
    )
    assert _cli(app, "token", "revoke", token_id).exit_code == 0
    assert (
        client.get("/api/v1/certificates", headers={"Authorization": f"Bearer {plaintext}"}).status_code
        == 401
    )
    assert _cli(app, "user", "role", "--email", member.user.email, "--role", "admin").exit_code == 0
    assert client.get("/api/v1/audit", headers=member.headers).status_code == 200
    actions = set(dbsession.scalars(sa.select(AuditEntry.action).where(AuditEntry.org_id == member.org.id)))
    assert {"token.created", "token.revoked", "user.role_changed"} <= actions
    assert _cli(app, "token", "create", "--email", member.user.email, "--scope", "admin").exit_code == 2
