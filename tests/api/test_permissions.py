"""Who may do what: every write needs a token, and nobody touches another organisation's."""

from __future__ import annotations

import io

import pytest

from tests.factories import certificate_body
from traceapp.orgs.models import OrgKind, Role

PDF = b"%PDF-1.4\n%%EOF\n"


def _calls(certificate_id):
    base = f"/api/v1/certificates/{certificate_id}"
    return [
        ("post", "/api/v1/certificates", {"json": certificate_body()}),
        ("post", f"{base}/revoke", {"json": {"reason": "x"}}),
        ("post", "/api/v1/reports", {"data": {"file": (io.BytesIO(PDF), "r.pdf")}}),
        ("get", base, {}),
        ("get", f"{base}/qr.png", {}),
        ("get", f"{base}/label.png", {}),
        ("get", f"{base}/label.pdf", {}),
        ("get", f"{base}/sheet.pdf", {}),
        ("get", f"{base}/share.png", {}),
        ("get", "/api/v1/certificates", {}),
        ("get", "/api/v1/codes/ABCD", {}),
    ]


CALL_NAMES = [
    "issue",
    "revoke",
    "upload",
    "read",
    "qr",
    "label-png",
    "label-pdf",
    "sheet",
    "share",
    "list",
    "code",
]


@pytest.mark.parametrize("index", range(len(CALL_NAMES)), ids=CALL_NAMES)
def test_every_endpoint_needs_a_token(client, make, index):
    certificate = make.certificate(make.member())
    method, url, kwargs = _calls(certificate.id)[index]
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    bad = getattr(client, method)(url, headers={"Authorization": "Bearer tat_nonsense"}, **_fresh(kwargs))
    assert bad.status_code == 401


def _fresh(kwargs):
    if "data" in kwargs:
        return {"data": {"file": (io.BytesIO(PDF), "r.pdf")}}
    return kwargs


OWNED = ["revoke", "read", "qr", "label-png", "label-pdf", "sheet", "share"]


@pytest.mark.parametrize("name", OWNED)
def test_another_organisation_cannot_touch_a_certificate(client, make, name):
    owner, other = make.member(), make.member()
    certificate = make.certificate(owner)
    method, url, kwargs = _calls(certificate.id)[CALL_NAMES.index(name)]
    response = getattr(client, method)(url, headers=other.headers, **kwargs)
    assert response.status_code in (403, 404)
    assert response.mimetype == "application/problem+json"
    assert not certificate.is_revoked


@pytest.mark.parametrize("kind", [OrgKind.REGULATOR, OrgKind.CARRIER, OrgKind.RETAILER])
def test_organisations_that_do_not_issue_are_refused(client, make, kind):
    member = make.member(kind)
    assert (
        client.post("/api/v1/certificates", json=certificate_body(), headers=member.headers).status_code
        == 403
    )
    upload = client.post("/api/v1/reports", headers=member.headers, data={"file": (io.BytesIO(PDF), "r.pdf")})
    assert upload.status_code == 403


def test_a_member_cannot_revoke_a_colleagues_certificate_but_an_admin_can(client, make):
    admin = make.member()
    issuer = make.member(org=admin.org, role=Role.MEMBER)
    colleague = make.member(org=admin.org, role=Role.MEMBER)
    certificate = make.certificate(issuer)
    url = f"/api/v1/certificates/{certificate.id}/revoke"
    assert client.post(url, json={"reason": "x"}, headers=colleague.headers).status_code == 403
    assert client.post(url, json={"reason": "x"}, headers=admin.headers).status_code == 200


def test_other_organisations_certificates_are_not_listed(client, make):
    owner, other = make.member(), make.member()
    make.certificate(owner)
    assert client.get("/api/v1/certificates", headers=other.headers).json["total"] == 0
