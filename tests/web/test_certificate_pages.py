"""Producer pages: sign in, issue from the form (errors beside the fields), print, revoke."""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD
from traceapp import create_app
from traceapp.certificates.models import Certificate

FORM = {
    "product_name": "大白菜",
    "quantity": "500",
    "unit": "kg",
    "origin.region_code": "420116",
    "origin.address": "木兰乡双河村",
    "harvest_date": "2026-11-20",
    "commitments": ["no_banned_substances", "residues_within_limits", "truthful"],
    "basis": ["self_test"],
}


def sign_in(client, member):
    response = client.post("/login", data={"login": member.user.email, "password": PASSWORD})
    assert response.status_code == 302
    return member


def count(dbsession) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(Certificate))


@pytest.mark.parametrize(
    "url",
    [
        "/certificates",
        "/certificates/new",
        f"/certificates/{uuid.uuid4()}",
        f"/certificates/{uuid.uuid4()}/label.pdf",
    ],
)
def test_producer_pages_send_anonymous_visitors_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


@pytest.mark.parametrize("url", ["/certificates/new", f"/certificates/{uuid.uuid4()}/revoke"])
def test_anonymous_posts_write_nothing(client, dbsession, url):
    assert client.post(url, data=FORM).status_code == 302
    assert count(dbsession) == 0


def test_wrong_password_re_renders_the_sign_in_form(client, make):
    member = make.member()
    response = client.post(
        "/login", data={"login": member.user.email, "password": "nope"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 401
    assert "Wrong mobile number, e-mail address or password" in response.get_data(as_text=True)


def test_sign_in_never_redirects_off_site(client, make):
    member = make.member()
    response = client.post(
        "/login?next=//evil.example/x", data={"login": member.user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/certificates"


def test_issuing_from_the_form_leads_to_the_certificate_and_its_public_page(client, make, dbsession):
    sign_in(client, make.member())
    response = client.post("/certificates/new", data={**FORM, "event_id": str(uuid.uuid4())})
    assert response.status_code == 302
    certificate = dbsession.scalar(sa.select(Certificate))
    assert response.headers["Location"].endswith(f"/certificates/{certificate.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert certificate.trace_code[:4] in page
    assert client.get(f"/t/{certificate.trace_code}").status_code == 200


def test_a_double_submitted_form_issues_once(client, make, dbsession):
    sign_in(client, make.member())
    form = {**FORM, "event_id": str(uuid.uuid4())}
    first, second = client.post("/certificates/new", data=form), client.post("/certificates/new", data=form)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(dbsession) == 1


@pytest.mark.parametrize(
    ("field", "value", "lang", "message"),
    [
        ("quantity", "-1", "en", "Must be greater than zero."),
        ("quantity", "abc", "en", "Enter the quantity in digits"),
        ("origin.region_code", "12", "en", "Enter the 6-digit administrative division code."),
        ("origin.region_code", "999999", "en", "Unknown administrative division code."),
        ("product_name", "", "en", "This field is required."),
        ("harvest_date", "2999-01-01", "en", "cannot be in the future"),
        ("quantity", "-1", "zh", "必须大于零"),
        ("origin.region_code", "12", "zh", "行政区划代码"),
    ],
)
def test_a_bad_field_re_renders_the_form_with_the_message_beside_it(
    client, make, dbsession, field, value, lang, message
):
    sign_in(client, make.member())
    form = {**FORM, field: value}
    response = client.post(f"/certificates/new?lang={lang}", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert 'value="大白菜"' in html or field == "product_name"
    assert count(dbsession) == 0


def test_missing_commitments_and_basis_are_named(client, make, dbsession):
    sign_in(client, make.member())
    form = {k: v for k, v in FORM.items() if k not in ("commitments", "basis")}
    html = client.post("/certificates/new?lang=en", data=form).get_data(as_text=True)
    assert 'id="commitments-error"' in html and 'id="basis-error"' in html
    assert count(dbsession) == 0


def test_a_wrong_type_report_upload_is_refused_in_the_form(client, make, dbsession):
    sign_in(client, make.member())
    form = {
        **FORM,
        "basis": ["commissioned_test"],
        "test_report.lab_name": "检测中心",
        "test_report.report_number": "R-1",
        "file": (io.BytesIO(b"MZ not a pdf"), "r.pdf"),
    }
    response = client.post("/certificates/new?lang=en", data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="file-error"' in response.get_data(as_text=True)
    assert count(dbsession) == 0


def test_issue_again_fills_the_form_like_the_last_certificate(client, make):
    member = sign_in(client, make.member())
    make.certificate(member, product_name="小油菜")
    html = client.get("/certificates/new?again=1").get_data(as_text=True)
    assert 'value="小油菜"' in html and 'value="420116"' in html


def test_revoking_from_the_page_needs_a_reason(client, make):
    member = sign_in(client, make.member())
    certificate = make.certificate(member)
    url = f"/certificates/{certificate.id}/revoke"
    refused = client.post(url + "?lang=en", data={"reason": ""})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.get_data(as_text=True)
    # It asks for confirmation, in the user's language, and revokes nothing until given.
    unconfirmed = client.post(url + "?lang=zh", data={"reason": "错了"})
    assert unconfirmed.status_code == 422 and 'id="confirm-error"' in unconfirmed.get_data(as_text=True)
    assert "撤销后无法恢复" in unconfirmed.get_data(as_text=True)
    assert 'status-valid"' in client.get(f"/t/{certificate.trace_code}").get_data(as_text=True)
    assert client.post(url, data={"reason": "错了", "confirm": "yes"}).status_code == 302
    assert 'status-revoked"' in client.get(f"/t/{certificate.trace_code}").get_data(as_text=True)


@pytest.mark.parametrize(("lang", "heading"), [("en", "Certificates"), ("zh", "合格证")])
def test_the_language_link_of_the_certificate_list_switches_language(client, make, lang, heading):
    sign_in(client, make.member())
    page = client.get(f"/certificates?lang={lang}")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert heading in page.get_data(as_text=True)
    assert client.get("/certificates?lang=en&page=0").status_code == 422  # the filters stay strict


def test_another_organisations_certificate_page_is_not_found(client, make):
    owner = make.member()
    certificate = make.certificate(owner)
    sign_in(client, make.member())
    assert client.get(f"/certificates/{certificate.id}").status_code == 404
    assert client.get(f"/certificates/{certificate.id}/label.pdf").status_code == 404
    assert client.post(f"/certificates/{certificate.id}/revoke", data={"reason": "x"}).status_code == 404


def test_label_files_download_from_the_certificate_page(client, make):
    member = sign_in(client, make.member())
    certificate = make.certificate(member)
    base = f"/certificates/{certificate.id}"
    code = certificate.trace_code
    page = client.get(base).get_data(as_text=True)
    # The label form picks size, copies and dpi for the PDF, ZPL and TSPL alike (no JavaScript:
    # the printer buttons submit it elsewhere); the receipts are links.
    for target in ("label.pdf", "label.zpl", "label.tspl", "label.escpos?paper=58", "label.escpos?paper=80"):
        assert f"{base}/{target}" in page
    assert 'name="dpi"' in page and 'formaction="' in page
    for url, mimetype, name in [
        ("label.pdf?size=40x30&copies=2", "application/pdf", f"{code}-label-40x30.pdf"),
        ("sheet.pdf", "application/pdf", f"{code}-sheet.pdf"),
        ("label.png?dpi=203&size=50x30", "image/png", f"{code}-label-50x30-203dpi.png"),
        ("label.zpl?dpi=203&size=50x30", "text/plain", f"{code}-label-50x30-203dpi.zpl"),
        ("label.tspl?size=40x30", "application/octet-stream", f"{code}-label-40x30-300dpi.tspl"),
        ("label.escpos?paper=80", "application/octet-stream", f"{code}-label-80mm.escpos"),
        ("qr.png", "image/png", f"{code}-qr.png"),
        ("share.png", "image/png", f"{code}-share.png"),
    ]:
        answer = client.get(f"{base}/{url}")
        assert answer.mimetype == mimetype and answer.headers["Cache-Control"] == "private, no-store"
        # Printer jobs are saved (a browser cannot show them), pictures shown.
        disposition = "inline" if mimetype.startswith(("image/", "application/pdf")) else "attachment"
        assert answer.headers["Content-Disposition"] == f'{disposition}; filename="{name}"'
        # The API answers the same file under the same name.
        api = client.get(f"/api/v1/certificates/{certificate.id}/{url}", headers=member.headers)
        assert api.headers["Content-Disposition"] == answer.headers["Content-Disposition"]
    assert client.get(f"{base}/label.pdf?copies=0").status_code == 422
    assert client.get(f"{base}/qr.pdf").status_code == 404
    assert client.get(f"{base}/label.escpos?paper=57").status_code == 422
    assert client.get(f"{base}/sheet.zpl").status_code == 404


def test_forms_are_protected_against_cross_site_posts(make, database_url, connection):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t"})
    app.extensions["traceapp.db"].sessions.configure(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    member = make.member()
    response = app.test_client().post("/login", data={"login": member.user.email, "password": PASSWORD})
    assert response.status_code == 400
