"""Retention of purchases and collected certificates: at least six months, forever by default,
and ``traceapp purchases purge`` deletes only past an organisation's own setting, audited."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.factories import certificate_body
from traceapp.orgs.models import AuditEntry, Organisation, OrgKind, Role
from traceapp.purchases import rules
from traceapp.purchases.models import Purchase, PurchaseLine, PurchasePhoto

WHEN = "2026-12-01T07:30:00+08:00"


def headers(member):
    return {**member.headers, "Accept-Language": "en"}


def buy(client, member, line=None):
    line = line or {
        "product_name": "大白菜",
        "quantity": "20",
        "unit": "kg",
        "collected": "foreign",
        "code": "ZJ-1",
        "url": "https://hgz.example.gov.cn/q?c=ZJ-1",
    }
    body = {"event_id": str(uuid.uuid4()), "seller": {"name": "张三"}, "purchased_at": WHEN, "lines": [line]}
    response = client.post("/api/v1/purchases", json=body, headers=headers(member))
    assert response.status_code == 201, response.json
    return response.json


def age(dbsession, purchase_id, days):
    """Make a purchase look recorded ``days`` ago (what the clock would have done)."""
    dbsession.execute(
        sa.update(Purchase)
        .where(Purchase.id == uuid.UUID(purchase_id))
        .values(recorded_at=datetime.now(UTC) - timedelta(days=days))
    )
    dbsession.commit()


def count(dbsession, model):
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


def photo(client, member):
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="JPEG")
    response = client.post(
        "/api/v1/purchases/photos",
        data={"file": (io.BytesIO(out.getvalue()), "p.jpg")},
        headers=headers(member),
    )
    return response.json["id"]


@pytest.mark.parametrize("months", [0, 1, 5, -3])
def test_a_retention_under_six_months_is_refused(client, make, months, dbsession):
    market = make.member(OrgKind.MARKET)
    refused = client.put(
        "/api/v1/purchases/retention", json={"retention_months": months}, headers=headers(market)
    )
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.json["errors"][0]["field"] == "/retention_months"
    assert "six months" in refused.json["errors"][0]["message"]
    assert dbsession.get(Organisation, market.org.id).retention_months is None


def test_setting_retention_is_audited_and_null_keeps_forever(client, make, dbsession):
    market = make.member(OrgKind.MARKET)
    set_ = client.put("/api/v1/purchases/retention", json={"retention_months": 6}, headers=headers(market))
    assert set_.status_code == 200 and set_.json == {"retention_months": 6}
    entry = dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.org_id == market.org.id)).all()[-1]
    assert entry.details == {"retention_months": {"from": None, "to": 6}}
    back = client.put("/api/v1/purchases/retention", json={"retention_months": None}, headers=headers(market))
    assert back.json == {"retention_months": None}
    member = make.member(org=market.org, role=Role.MEMBER)
    assert (
        client.put(
            "/api/v1/purchases/retention", json={"retention_months": 12}, headers=headers(member)
        ).status_code
        == 403
    )


def test_by_default_the_purge_deletes_nothing_however_old(app, client, make, dbsession):
    market = make.member(OrgKind.MARKET)
    bought = buy(client, market)
    age(dbsession, bought["id"], 3650)
    result = app.test_cli_runner().invoke(args=["purchases", "purge"])
    assert result.exit_code == 0, result.output
    assert dbsession.get(Purchase, uuid.UUID(bought["id"])) is not None
    assert dbsession.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "purchases.purged")) == 0


def test_the_purge_deletes_only_past_the_setting_and_audits_it(app, client, make, dbsession):
    market, other = make.member(OrgKind.MARKET), make.member(OrgKind.MARKET)
    client.put("/api/v1/purchases/retention", json={"retention_months": 6}, headers=headers(market))
    pic = photo(client, market)
    old = buy(
        client,
        market,
        {
            "product_name": "白菜",
            "quantity": "5",
            "unit": "kg",
            "collected": "paper",
            "photo_id": pic,
            "producer_name": "王五",
            "issue_date": "2026-05-01",
            "origin": "黄陂",
        },
    )
    recent, others_old = buy(client, market), buy(client, other)
    age(dbsession, old["id"], 200)
    age(dbsession, recent["id"], 170)
    age(dbsession, others_old["id"], 2000)  # its organisation set nothing
    result = app.test_cli_runner().invoke(args=["purchases", "purge"])
    assert result.exit_code == 0, result.output
    dbsession.expire_all()
    assert dbsession.get(Purchase, uuid.UUID(old["id"])) is None
    assert dbsession.get(PurchasePhoto, uuid.UUID(pic)) is None
    assert (
        dbsession.scalar(sa.select(sa.func.count()).where(PurchaseLine.purchase_id == uuid.UUID(old["id"])))
        == 0
    )
    assert dbsession.get(Purchase, uuid.UUID(recent["id"])) is not None
    assert dbsession.get(Purchase, uuid.UUID(others_old["id"])) is not None
    entry = dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.action == "purchases.purged")).one()
    assert entry.org_id == market.org.id and entry.details["purchases"] == 1 and entry.details["months"] == 6


def test_a_purchase_a_certificate_was_reissued_from_is_kept(app, client, make, dbsession):
    market = make.member(OrgKind.MARKET)
    client.put("/api/v1/purchases/retention", json={"retention_months": 6}, headers=headers(market))
    bought = buy(client, market)
    event = {
        "event_id": str(uuid.uuid4()),
        "kind": "transforming",
        "occurred_at": "2026-12-01T10:00:00+08:00",
        "inputs": [{"purchase_line": bought["lines"][0]["id"], "quantity": "10", "unit": "kg"}],
        "outputs": [certificate_body(product_name="净菜", quantity="10")],
    }
    assert client.post("/api/v1/events", json=event, headers=headers(market)).status_code == 201
    age(dbsession, bought["id"], 400)
    assert app.test_cli_runner().invoke(args=["purchases", "purge"]).exit_code == 0
    assert dbsession.get(Purchase, uuid.UUID(bought["id"])) is not None


def test_the_cutoff_counts_calendar_months_and_never_less_than_six():
    now = datetime(2026, 8, 31, 12, tzinfo=UTC)
    assert rules.purge_cutoff(now, None) is None
    assert rules.purge_cutoff(now, 6) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert rules.purge_cutoff(now, 1) == rules.purge_cutoff(now, 6)
    assert rules.purge_cutoff(now, 24) == datetime(2024, 8, 31, 12, tzinfo=UTC)


def test_producers_count_each_name_and_origin_once():
    assert rules.producers(
        [("王五", "黄陂"), ("王五", "黄陂 "), ("李四", None), (None, "x"), ("王五", "新洲")]
    ) == [
        ("王五", "黄陂"),
        ("李四", ""),
        ("王五", "新洲"),
    ]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hgz.example.gov.cn/q?c=1", True),
        ("HTTP://a.cn/x", True),
        ("javascript:alert(1)", False),
        ("ftp://a.cn/x", False),
        ("https:///nohost", False),
        ("https://a.cn/x y", False),
        ("http://[::1", False),
    ],
)
def test_only_http_urls_with_a_host_are_kept_as_external_references(url, ok):
    assert rules.is_web_url(url) is ok
