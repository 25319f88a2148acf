"""Stored public pages: rendered by the write that changes them, served as stored, never stale.

Every test here also passes the app fixture's teardown check: each current stored page equals
a live render of the data.
"""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import request, request_started

from tests.api.test_events_api import post
from tests.api.test_journey_api import gate
from tests.factories import certificate_body
from traceapp.certificates import services as certificates
from traceapp.certificates.models import Basis, Category, Commitment, Unit
from traceapp.orgs.models import OrgKind
from traceapp.public import pages
from traceapp.public.models import PublicPage


def page_row(dbsession, code: str) -> PublicPage:
    dbsession.expire_all()
    return dbsession.scalars(sa.select(PublicPage).where(PublicPage.trace_code == code)).one()


def is_current(row: PublicPage, app) -> bool:
    return row.rendered_version == row.version and row.build == app.extensions["traceapp.public.build"]


def test_issuing_through_the_api_stores_the_page_in_both_languages(client, make, dbsession, app):
    producer = make.member()
    response = client.post(
        "/api/v1/certificates", json=certificate_body(product_name="荠菜"), headers=producer.headers
    )
    assert response.status_code == 201, response.json
    row = page_row(dbsession, response.json["trace_code"])
    assert is_current(row, app) and row.version == 1
    chinese, english = gzip.decompress(row.html_zh).decode(), gzip.decompress(row.html_en).decode()
    assert "荠菜" in chinese and '<html lang="zh-CN">' in chinese and "有效" in chinese
    assert "荠菜" in english and '<html lang="en">' in english and "Valid certificate" in english


def test_gzip_clients_get_the_stored_bytes_others_plain_html(client, make):
    code = make.certificate(make.member(), product_name="香菇").trace_code
    zipped = client.get(f"/t/{code}", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"] and "Accept-Language" in zipped.headers["Vary"]
    assert "香菇" in gzip.decompress(zipped.get_data()).decode()
    plain = client.get(f"/t/{code}")
    assert "Content-Encoding" not in plain.headers and "香菇" in plain.get_data(as_text=True)
    refused = client.get(f"/t/{code}", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_a_client_holding_the_page_revalidates_until_it_changes(client, make):
    producer = make.member()
    certificate = make.certificate(producer)
    first = client.get(f"/t/{certificate.trace_code}")
    etag = first.headers["ETag"]
    again = client.get(f"/t/{certificate.trace_code}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other_language = client.get(f"/t/{certificate.trace_code}?lang=en", headers={"If-None-Match": etag})
    assert other_language.status_code == 200
    client.post(
        f"/api/v1/certificates/{certificate.id}/revoke", json={"reason": "标签贴错"}, headers=producer.headers
    )
    changed = client.get(f"/t/{certificate.trace_code}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "标签贴错" in changed.get_data(as_text=True)


def test_revoking_stores_the_revoked_page_in_the_same_commit(client, make, dbsession, app):
    producer = make.member()
    certificate = make.certificate(producer)
    before = page_row(dbsession, certificate.trace_code).version
    client.post(
        f"/api/v1/certificates/{certificate.id}/revoke",
        json={"reason": "数量写错了"},
        headers=producer.headers,
    )
    row = page_row(dbsession, certificate.trace_code)
    assert row.version == before + 1 and is_current(row, app)
    assert "数量写错了" in gzip.decompress(row.html_zh).decode()


def bump_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("INSERT INTO PUBLIC_PAGES")]


def issue_data(**overrides) -> dict:
    data = {
        "product_name": "大白菜",
        "quantity": Decimal("500"),
        "unit": Unit.KG,
        "origin": {"region_code": "420116", "address": "木兰乡"},
        "commitments": list(Commitment),
        "basis": [Basis.SELF_TEST],
    }
    return data | overrides


def test_a_transaction_of_several_savepoints_bumps_its_pages_once_at_commit(
    make, dbsession, app, count_queries
):
    producer = make.member()
    with app.test_request_context(), count_queries as q:
        # each issue inserts in a savepoint of its own (the idempotent insert)
        issued = [
            certificates.issue_certificate(dbsession, producer.actor, data=issue_data(product_name=name))[0]
            for name in ("荠菜", "菠菜", "芹菜")
        ]
        assert bump_statements(q.statements) == []  # not at any RELEASE SAVEPOINT
        dbsession.commit()
    assert len(bump_statements(q.statements)) == 1
    for certificate in issued:
        row = page_row(dbsession, certificate.trace_code)
        assert row.version == 1 and is_current(row, app)


def test_a_page_changed_in_two_savepoints_moves_one_version(make, dbsession, app):
    producer = make.member()
    certificate = make.certificate(producer)
    before = page_row(dbsession, certificate.trace_code).version
    with app.test_request_context():
        with dbsession.begin_nested():
            certificates.revoke_certificate(
                dbsession, producer.actor, certificate_id=certificate.id, reason="标签贴错"
            )
        with dbsession.begin_nested():
            producer.org.name = "木兰新合作社"
        dbsession.commit()
    row = page_row(dbsession, certificate.trace_code)
    assert row.version == before + 1 and is_current(row, app)  # both changes, rendered once
    page = gzip.decompress(row.html_zh).decode()
    assert "标签贴错" in page and "木兰新合作社" in page


def test_a_rolled_back_savepoint_leaves_the_rest_of_the_commit_bumped(make, dbsession, app):
    producer = make.member()
    kept, dropped = make.certificate(producer), make.certificate(producer)
    versions = {c.trace_code: page_row(dbsession, c.trace_code).version for c in (kept, dropped)}
    with app.test_request_context():
        certificates.revoke_certificate(dbsession, producer.actor, certificate_id=kept.id, reason="数量写错")
        savepoint = dbsession.begin_nested()
        certificates.revoke_certificate(dbsession, producer.actor, certificate_id=dropped.id, reason="作废")
        savepoint.rollback()
        dbsession.commit()
    assert page_row(dbsession, kept.trace_code).version == versions[kept.trace_code] + 1
    row = page_row(dbsession, dropped.trace_code)
    # noted before the rollback: bumped and rendered again, from data that was never revoked
    assert is_current(row, app) and "作废" not in gzip.decompress(row.html_zh).decode()


def test_an_event_on_a_batch_without_portions_bumps_in_one_statement(client, make, count_queries):
    producer = make.member()
    batch = make.certificate(producer, quantity=Decimal("100"), category=Category.VEGETABLE)
    with count_queries as q:
        response = post(
            client,
            producer,
            kind="storing",
            trace_code=batch.trace_code,
            occurred_at="2026-11-21T10:00:00+08:00",
            location="产地预冷库",
        )
    assert response.status_code == 201, response.json
    assert len(bump_statements(q.statements)) == 1
    # the portions (recursive) and the event's certificates are read inside the bump
    assert not [s for s in q.statements if "RECURSIVE" in s.upper() and s not in bump_statements([s])]
    assert not [s for s in q.selects if s.startswith("SELECT event_items.certificate_id \nFROM event_items")]


def test_a_late_recorded_event_on_the_source_reaches_its_portions_pages(client, make, dbsession, app):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    source = make.certificate(producer, quantity=Decimal("100"), category=Category.VEGETABLE)
    gate(client, market, source, holder=producer)
    cut = post(
        client,
        market,
        kind="portioning",
        trace_code=source.trace_code,
        occurred_at="2026-11-21T12:00:00+08:00",
        outputs=[{"quantity": "5", "unit": "kg"}],
    )
    assert cut.status_code == 201, cut.json
    portion = cut.json["outputs"][0]["trace_code"]
    # Recorded after the cut, but it happened before: the portion's journey shows it.
    before = page_row(dbsession, portion).version
    late = post(
        client,
        market,
        kind="storing",
        trace_code=source.trace_code,
        occurred_at="2026-11-21T10:00:00+08:00",
        location="冷库 7 号",
    )
    assert late.status_code == 201, late.json
    row = page_row(dbsession, portion)
    assert row.version == before + 1 and not is_current(row, app)  # bumped, left to refresh
    shown = client.get(f"/t/{portion}")
    assert "冷库 7 号" in shown.get_data(as_text=True) and "ETag" not in shown.headers  # live
    assert app.test_cli_runner().invoke(args=["pages", "refresh"]).exit_code == 0
    row = page_row(dbsession, portion)
    assert is_current(row, app) and "冷库 7 号" in gzip.decompress(row.html_zh).decode()


def test_an_event_bumps_its_pages_and_leaves_rendering_to_refresh(client, make, dbsession, app):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    batch = make.certificate(producer, quantity=Decimal("100"), category=Category.VEGETABLE)
    assert is_current(page_row(dbsession, batch.trace_code), app)  # issuing renders at once
    response = gate(client, market, batch, holder=producer)
    assert response.status_code == 201, response.json
    assert not is_current(page_row(dbsession, batch.trace_code), app)
    live = client.get(f"/t/{batch.trace_code}?lang=en").get_data(as_text=True)
    assert "Accepted at the gate" in live
    result = app.test_cli_runner().invoke(args=["pages", "refresh"])
    assert result.exit_code == 0 and "1 pages stored" in result.output, result.output
    stored = client.get(f"/t/{batch.trace_code}", headers={"Accept-Language": "en"})
    assert stored.headers.get("ETag") and "Accepted at the gate" in stored.get_data(as_text=True)


def test_a_write_beyond_the_inline_limit_leaves_pages_live_until_refreshed(
    client, make, dbsession, app, monkeypatch
):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    source = make.certificate(producer, quantity=Decimal("100"), category=Category.VEGETABLE)
    gate(client, market, source, holder=producer)
    cut = post(
        client,
        market,
        kind="portioning",
        trace_code=source.trace_code,
        outputs=[{"quantity": "5", "unit": "kg"}, {"quantity": "6", "unit": "kg"}],
    )
    portions = [o["trace_code"] for o in cut.json["outputs"]]
    monkeypatch.setattr(pages, "INLINE_LIMIT", 1)
    recall = client.post(
        "/api/v1/recalls",
        headers=producer.headers,
        json={"trace_codes": [source.trace_code], "reason": "农残超标", "severity": "class_i"},
    )
    assert recall.status_code == 201, recall.json
    rows = [page_row(dbsession, code) for code in [source.trace_code, *portions]]
    assert sum(is_current(r, app) for r in rows) == 1  # one rendered inline, two bumped
    for code in [source.trace_code, *portions]:
        response = client.get(f"/t/{code}?lang=en")
        assert "RECALLED" in response.get_data(as_text=True)  # stored or live, never stale
    result = app.test_cli_runner().invoke(args=["pages", "refresh"])
    assert result.exit_code == 0 and "2 pages stored" in result.output, result.output
    for code in [source.trace_code, *portions]:
        row = page_row(dbsession, code)
        assert is_current(row, app) and "RECALLED" in gzip.decompress(row.html_en).decode()
        assert client.get(f"/t/{code}").headers.get("ETag")


def test_pages_of_another_build_render_live_until_refreshed(client, make, dbsession, app):
    code = make.certificate(make.member(), product_name="茄子").trace_code
    dbsession.execute(sa.update(PublicPage).values(build="0000000000000000"))
    dbsession.commit()
    response = client.get(f"/t/{code}")
    assert "ETag" not in response.headers and "茄子" in response.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["pages", "refresh", "--chunk", "1"])
    assert result.exit_code == 0, result.output
    assert is_current(page_row(dbsession, code), app)
    assert client.get(f"/t/{code}").headers.get("ETag")


def set_unit(unit: str) -> sa.TextClause:
    """The raw UPDATE of a certificate's unit, past the ORM's enum check."""
    return sa.text(f"UPDATE certificates SET unit = '{unit}' WHERE id = :id").bindparams(
        sa.bindparam("id", type_=sa.Uuid())
    )


def test_a_page_that_cannot_render_does_not_hold_up_the_pages_behind_it(make, dbsession, app, caplog):
    producer = make.member()
    broken, fine = sorted(
        (make.certificate(producer, product_name=name) for name in ("芹菜", "菠菜")), key=lambda c: c.id
    )
    codes, broken_id = [broken.trace_code, fine.trace_code], broken.id
    dbsession.execute(sa.update(PublicPage).values(build="0000000000000000"))
    # A row no build of ours can read (written by hand, or by a later version rolled back).
    dbsession.execute(set_unit("bogus"), {"id": broken_id})
    dbsession.commit()
    with app.app_context():
        assert pages.refresh_stale(chunk=10) == 1
    assert [is_current(page_row(dbsession, code), app) for code in codes] == [False, True]
    assert f"public page {codes[0]} could not be rendered" in caplog.text
    dbsession.execute(set_unit("kg"), {"id": broken_id})
    dbsession.commit()


def test_refresh_does_not_store_over_a_newer_version(make, dbsession, app):
    code = make.certificate(make.member()).trace_code
    row = page_row(dbsession, code)
    with app.test_request_context():
        assert not pages._render_and_store(dbsession, row.certificate_id, code, row.version - 1)
        assert pages._render_and_store(dbsession, row.certificate_id, code, row.version)


def test_shards_cover_every_id_once():
    bounds = [pages.shard_bounds(k, 3) for k in (1, 2, 3)]
    assert bounds[0][0] is None and bounds[-1][1] is None
    for (_low, high), (next_low, _high) in zip(bounds, bounds[1:], strict=False):
        assert next_low is not None and high is not None and next_low.int == high.int - 1
    with pytest.raises(ValueError):
        pages.shard_bounds(4, 3)


@pytest.mark.parametrize("shard", ["0/2", "3/2", "x", "1/0"])
def test_refresh_refuses_a_bad_shard(app, shard):
    result = app.test_cli_runner().invoke(args=["pages", "refresh", "--shard", shard])
    assert result.exit_code == 2 and "--shard" in result.output


def test_the_front_layer_and_the_flask_view_answer_alike(client, make, app):
    """Plain GETs are answered before Flask; ?lang= goes through the Flask view. Same page."""
    code = make.certificate(make.member(), product_name="冬瓜").trace_code
    flask_requests: list[str] = []

    def seen(_sender, **_extra):
        flask_requests.append(request.full_path)

    with request_started.connected_to(seen, app):
        front = client.get(f"/t/{code}", headers={"Accept-Language": "en"})
        assert flask_requests == []  # answered before Flask
        view = client.get(f"/t/{code}?lang=en")
        assert flask_requests == [f"/t/{code}?lang=en"]
    assert "lang=en" in view.headers["Set-Cookie"] and "Set-Cookie" not in front.headers
    assert front.get_data() == view.get_data() and b"Valid certificate" in front.get_data()
    for header in ("ETag", "Vary", "Cache-Control", "Content-Type"):
        assert front.headers[header] == view.headers[header], header


@pytest.mark.parametrize(
    ("accept", "cookie", "english"),
    [
        ("en-US,en;q=0.9", None, True),
        ("zh-CN,zh;q=0.9,en;q=0.8", None, False),
        ("en", "zh_CN", False),
        ("zh-CN", "en", True),
        (None, None, False),
    ],
)
def test_the_front_layer_picks_the_language_as_the_app_does(client, make, accept, cookie, english):
    code = make.certificate(make.member()).trace_code
    if cookie:
        client.set_cookie("theme", "dark")
        client.set_cookie("lang", cookie)
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get(f"/t/{code}", headers=headers)
    assert response.headers.get("ETag")  # answered from the store
    html = response.get_data(as_text=True)
    assert ('<html lang="en">' in html) is english and ('<html lang="zh-CN">' in html) is not english


def test_the_front_layer_takes_typed_codes_and_leaves_the_rest_to_flask(client, make):
    code = make.certificate(make.member()).trace_code
    for typed in (code.lower(), f"{code[:7]}-{code[7:]}", code):
        response = client.get(f"/T/{typed}")
        assert response.status_code == 200 and response.headers.get("ETag"), typed
    wrong_check = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert client.get(f"/t/{wrong_check}").status_code == 404
    assert client.head(f"/t/{code}").status_code == 200
    assert client.get(f"/t/{code}/report").status_code == 404
