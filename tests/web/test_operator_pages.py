"""The operator fields and the seal on the pages: an admin sets them on the settings page (a
bad check character re-renders the form with the message by the field, in the reader's
language); the certificate page shows the issuer's address apart from the origin, and the seal
it was issued with; the public page shows the credit code and never the identity number."""

from __future__ import annotations

import io

import sqlalchemy as sa

from tests.api.test_operators_api import CREDIT, ID_NUMBER, MASKED
from tests.factories import certificate_body, seal_image
from tests.web.test_certificate_pages import sign_in
from traceapp.orgs.models import Organisation

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def settings_form(**fields: str) -> dict[str, str]:
    return {"timezone": "Asia/Shanghai", "gs1_company_prefix": "", **fields}


def test_an_admin_sets_the_operator_fields_on_the_settings_page(client, make, dbsession):
    admin = sign_in(client, make.member())
    form = settings_form(
        credit_code=CREDIT.lower(), address="武汉市黄陂区前川街 1 号", platform_code="HB42011688"
    )
    response = client.post("/org/settings", data=form, headers=EN)
    assert response.status_code == 302
    dbsession.expire_all()
    org = dbsession.get(Organisation, admin.org.id)
    assert (org.credit_code, org.address, org.platform_code) == (
        CREDIT,
        "武汉市黄陂区前川街 1 号",
        "HB42011688",
    )
    page = client.get("/org/settings", headers=EN).get_data(as_text=True)
    assert f'value="{CREDIT}"' in page


def test_a_wrong_check_character_re_renders_the_form_in_chinese(client, make, dbsession):
    admin = sign_in(client, make.member())
    wrong = CREDIT[:17] + ("0" if CREDIT[17] != "0" else "1")
    response = client.post("/org/settings", data=settings_form(credit_code=wrong), headers=ZH)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="credit_code-error"' in page and "第 18 位" in page and f'value="{wrong}"' in page
    dbsession.expire_all()
    assert dbsession.get(Organisation, admin.org.id).credit_code is None


def test_the_admin_reads_its_own_identity_number_in_full(client, make):
    sign_in(client, make.member())
    form = settings_form(person_name="王大明", id_number=ID_NUMBER.lower())
    assert client.post("/org/settings", data=form, headers=EN).status_code == 302
    page = client.get("/org/settings", headers=EN).get_data(as_text=True)
    assert ID_NUMBER in page and MASKED not in page


def test_a_bad_seal_file_re_renders_the_settings_page_with_the_message(client, make):
    sign_in(client, make.member())
    response = client.post("/org/seal", data={"seal": (io.BytesIO(b"GIF89a..."), "x.gif")}, headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="seal-error"' in page and "PNG or JPEG" in page


def test_the_certificate_page_shows_the_issuers_address_apart_from_the_origin_and_its_seal(client, make):
    admin = sign_in(client, make.member())
    client.post("/org/settings", data=settings_form(credit_code=CREDIT, address="前川街 1 号"), headers=EN)
    client.post("/org/seal", data={"seal": (io.BytesIO(seal_image()), "seal.png")}, headers=EN)
    issued = client.post("/api/v1/certificates", json=certificate_body(), headers=admin.headers).json
    page = client.get(f"/certificates/{issued['id']}", headers=EN).get_data(as_text=True)
    assert "Operator's address" in page and "前川街 1 号" in page and CREDIT in page
    assert page.index("Origin") < page.index("黄陂区木兰乡") < page.index("Operator's address")
    seal = client.get(f"/certificates/{issued['id']}/seal.png")
    assert seal.status_code == 200 and seal.mimetype == "image/png"
    assert f"/certificates/{issued['id']}/seal.png" in page


def test_another_organisation_cannot_fetch_a_certificates_seal(client, make):
    owner = make.member()
    with client.application.test_request_context():
        from traceapp.orgs import seals

        seals.upload_seal(make.session, owner.actor, data=seal_image())
    certificate = make.certificate(owner)
    sign_in(client, make.member())
    assert client.get(f"/certificates/{certificate.id}/seal.png").status_code == 404


def test_the_public_page_shows_the_credit_code_and_address_never_the_identity_number(client, make, dbsession):
    admin = make.member()
    body = {"credit_code": CREDIT, "person_name": "王大明", "id_number": ID_NUMBER, "address": "前川街 1 号"}
    assert client.patch("/api/v1/organisation", json=body, headers=admin.headers).status_code == 200
    issued = client.post("/api/v1/certificates", json=certificate_body(), headers=admin.headers).json
    page = client.get(f"/t/{issued['trace_code']}?lang=en").get_data(as_text=True)
    assert CREDIT in page and "前川街 1 号" in page
    assert ID_NUMBER not in page and MASKED not in page and "王大明" not in page
    assert (
        dbsession.scalar(sa.select(Organisation.id_number).where(Organisation.id == admin.org.id))
        == ID_NUMBER
    )
