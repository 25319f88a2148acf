"""The page a scanned QR opens: what a consumer sees, in either language, with no script."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale

from tests.api.test_events_api import post
from tests.api.test_journey_api import gate
from tests.api.test_large_portioning import ship
from tests.factories import ref
from traceapp.certificates.status import BatchStatus
from traceapp.codes import mint_trace_code
from traceapp.orgs.models import OrgKind
from traceapp.public.models import PublicPage
from traceapp.public.queries import load_facts, present


def test_issued_certificate_shows_product_producer_origin_and_commitments(client, make):
    producer = make.member(name=ref("木兰合作社-"), phone="13812345678")
    origin = {"region_code": "420116", "address": "黄陂区木兰乡"}  # the address repeats the county
    certificate = make.certificate(producer, product_name="西兰花", origin=origin)
    page = client.get(f"/t/{certificate.trace_code}", headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "西兰花" in html and producer.org.name in html
    assert "湖北省武汉市黄陂区木兰乡" in html and "黄陂区黄陂区" not in html
    assert "138****5678" in html and "13812345678" not in html
    assert 'class="status status-valid"' in html
    assert "不使用禁用农药兽药、停用兽药和非法添加物" in html
    assert "自我检测" in html


def test_revoked_certificate_shows_warning_on_public_page(client, make):
    producer = make.member()
    certificate = make.certificate(producer)
    client.post(
        f"/api/v1/certificates/{certificate.id}/revoke",
        json={"reason": "数量写错了"},
        headers=producer.headers,
    )
    html = client.get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    assert 'class="status status-revoked"' in html and 'class="status status-valid"' not in html
    assert "REVOKED" in html and "数量写错了" in html


def test_public_page_needs_no_javascript(client, make):
    certificate = make.certificate(make.member())
    html = client.get(f"/t/{certificate.trace_code}").get_data(as_text=True)
    assert "<script" not in html.lower()
    assert 'name="viewport"' in html and "width=device-width" in html


def test_code_is_found_in_any_case_with_spaces_and_dashes(client, make):
    code = make.certificate(make.member()).trace_code
    for typed in (code.lower(), f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}", f"{code[:7]} {code[7:]}"):
        assert client.get(f"/t/{typed}").status_code == 200, typed
    assert client.get(f"/T/{code}").status_code == 200


def test_unknown_or_mistyped_code_gets_a_friendly_page_not_json(client, make):
    code = make.certificate(make.member()).trace_code
    mistyped = code[:-1] + ("A" if code[-1] != "A" else "B")
    for typed in (mistyped, "hello", "0000-OOOO"):
        response = client.get(f"/t/{typed}", headers={"Accept-Language": "en"})
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "could not find this code" in response.get_data(as_text=True)


def test_a_code_that_cannot_be_right_as_typed_is_called_probably_mistyped(client, make):
    code = make.certificate(make.member()).trace_code
    wrong_check = code[:-1] + next(c for c in "23456789" if c != code[-1])
    cases = [
        (wrong_check, "its last character does not fit the others", "最后一位与前面的字符对不上"),
        (code[:-1] + "0", "never contains 0, O, 1 or I", "追溯码中没有 0、O、1 和 I"),
        (code[:-2], "has 14 letters and digits", "追溯码共 14 位字母和数字"),
    ]
    for typed, en, zh in cases:
        for url in (f"/t/{typed}", f"/t?code={typed}"):
            english = client.get(url, headers={"Accept-Language": "en"})
            assert english.status_code == 404 and "probably mistyped" in english.get_data(as_text=True)
            assert en in english.get_data(as_text=True)
            assert zh in client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    # A well-formed code that nobody issued is just not found, not mistyped.
    unissued = client.get(f"/t/{mint_trace_code()}", headers={"Accept-Language": "en"})
    assert unissued.status_code == 404 and "probably mistyped" not in unissued.get_data(as_text=True)
    assert "No certificate has the code" in unissued.get_data(as_text=True)


HALF_WIDTH_BESIDE_CHINESE = re.compile(r"[\u3400-\u9fff][:;,?!]|[:;,?!][\u3400-\u9fff]")


def test_chinese_pages_use_full_width_punctuation_around_chinese(client, make):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    source = make.certificate(producer, quantity=Decimal("100"))
    ship(client, producer, market, source, "100")
    assert gate(client, market, source, quantity="100").status_code == 201
    outputs = [{"quantity": "10", "unit": "kg"}, {"quantity": "5", "unit": "kg"}]
    portion = post(client, market, kind="portioning", trace_code=source.trace_code, outputs=outputs)
    assert portion.status_code == 201, portion.json
    for code in (source.trace_code, portion.json["outputs"][0]["trace_code"]):
        html = client.get(f"/t/{code}?lang=zh").get_data(as_text=True)
        text = re.sub(r"<[^>]+>", "", html.split("<body>", 1)[1])
        assert "追溯码：" in text
        assert not HALF_WIDTH_BESIDE_CHINESE.findall(text), HALF_WIDTH_BESIDE_CHINESE.findall(text)
    english = client.get(f"/t/{source.trace_code}?lang=en").get_data(as_text=True)
    assert "Trace code: " in english and "Went into: " in english


def test_language_follows_the_browser_and_can_be_switched(client, make):
    url = f"/t/{make.certificate(make.member()).trace_code}"
    chinese = client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    english = client.get(url, headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese and "有效" in chinese
    assert '<html lang="en">' in english and "Valid certificate" in english
    switched = client.get(url + "?lang=en", headers={"Accept-Language": "zh-CN"})
    assert "Valid certificate" in switched.get_data(as_text=True)
    assert "lang=en" in switched.headers.get("Set-Cookie", "")
    remembered = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Valid certificate" in remembered


def test_a_stored_public_page_is_one_read_and_writes_nothing(client, make, count_queries, connection):
    code = make.certificate(make.member()).trace_code
    driver = connection.connection.dbapi_connection
    seen: list[str] = []
    if connection.dialect.name == "sqlite":  # the stored page is read on a bare driver cursor
        driver.set_trace_callback(seen.append)
    try:
        with count_queries as queries:
            response = client.get(f"/t/{code}")
    finally:
        if connection.dialect.name == "sqlite":
            driver.set_trace_callback(None)
    assert response.status_code == 200 and response.headers["ETag"]  # served from the store
    assert queries.statements == []  # no ORM session, nothing written through SQLAlchemy
    if connection.dialect.name == "sqlite":
        assert len(seen) == 1 and seen[0].startswith("SELECT public_pages.html_zh"), seen


def test_a_page_behind_its_data_renders_live_and_writes_nothing(client, make, count_queries, dbsession):
    code = make.certificate(make.member()).trace_code
    dbsession.execute(sa.update(PublicPage).values(version=PublicPage.version + 1))
    dbsession.commit()
    with count_queries as queries:
        response = client.get(f"/t/{code}")
    assert response.status_code == 200 and "ETag" not in response.headers
    assert queries.writes == []
    assert len(queries.selects) == 2, queries.selects  # after the look-up: the certificate, its events


def test_lookup_form_redirects_to_the_code_page(client, make):
    code = make.certificate(make.member()).trace_code
    response = client.get(f"/t?code={code.lower()}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/t/{code}")
    assert client.get("/t?code=nope").status_code == 404


def test_report_of_a_certificate_without_one_is_not_found(client, make):
    code = make.certificate(make.member()).trace_code
    assert client.get(f"/t/{code}/report").status_code == 404


def test_home_page_offers_the_code_lookup(client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'<form method="get" action="/t"', html)


def test_an_expired_batch_gets_a_warning_on_the_public_page_not_valid(app, dbsession, make):
    """No certificate carries a best-before date yet, so the page is rendered with the status set:
    it must not fall through to "Valid certificate" (the other statuses: test_status_everywhere)."""
    certificate = make.certificate(make.member())
    facts = load_facts(dbsession, certificate.trace_code)
    with app.test_request_context("/t/" + certificate.trace_code), force_locale("en"):
        page = dataclasses.replace(present(facts), status=BatchStatus.EXPIRED.value)
        html = render_template("public/certificate.html", page=page)
    assert 'class="status status-revoked"' in html and 'class="status status-valid"' not in html
    assert "EXPIRED" in html


def test_lookup_form_reads_a_scanned_digital_link_whose_lot_is_the_code(client, make):
    # The QR of a batch with a GTIN is a GS1 Digital Link with the trace code as lot (AI 10).
    code = make.certificate(make.member(), gtin="09506000134352").trace_code
    for scanned in (
        f"https://id.gs1.org/01/09506000134352/10/{code}?17=271231",
        f"HTTPS://TRACE.EXAMPLE.CN/01/9506000134352/10/{code}",
        f"(01)09506000134352(10){code}",
    ):
        response = client.get("/t", query_string={"code": scanned})
        assert response.status_code == 302, scanned
        assert response.headers["Location"].endswith(f"/t/{code}")
    other_gtin = f"https://id.gs1.org/01/09520123456788/10/{code}"  # not this batch's product
    assert client.get("/t", query_string={"code": other_gtin}).status_code == 404
