"""Purchases (收购, "无证不收"): a buyer records lots with our, another system's and paper
certificates, re-issues from them (links and the consumer page's sentence), and every refusal:
no certificate, another organisation's token, a code nobody issued, a revoked certificate, a
seller that never held the batch, a bad photo, a replay and a reused id, over-re-issuing."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.factories import certificate_body
from traceapp.orgs.models import OrgKind
from traceapp.purchases.models import Purchase, PurchaseLine, PurchasePhoto, ReissueSource

WHEN = "2026-12-01T07:30:00+08:00"


def headers(member, lang="en"):
    return {**member.headers, "Accept-Language": lang}


def jpeg_with_gps(size=(64, 48)) -> bytes:
    """A JPEG carrying EXIF with a GPS position and a camera maker, as phones write them."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (30.0, 35.0, 0.0), 3: "E", 4: (114.0, 17.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(client, member, content=None, name="paper.jpg"):
    content = jpeg_with_gps() if content is None else content
    return client.post(
        "/api/v1/purchases/photos", data={"file": (io.BytesIO(content), name)}, headers=headers(member)
    )


def ours(code, quantity="100", unit="kg", **extra):
    return {
        "product_name": "大白菜",
        "quantity": quantity,
        "unit": unit,
        "collected": "ours",
        "code": code,
        **extra,
    }


def foreign(quantity="50", **extra):
    return {
        "product_name": "大白菜",
        "quantity": quantity,
        "unit": "kg",
        "collected": "foreign",
        "code": "ZJ330102-0001",
        "url": "https://hgz.example.gov.cn/q?c=ZJ330102-0001",
        "producer_name": "李四家庭农场",
        "origin": "浙江省杭州市西湖区",
        **extra,
    }


def paper(photo_id, quantity="60", unit="jin", **extra):
    return {
        "product_name": "大白菜",
        "quantity": quantity,
        "unit": unit,
        "collected": "paper",
        "photo_id": photo_id,
        "producer_name": "王五",
        "issue_date": "2026-11-30",
        "origin": "湖北省武汉市黄陂区木兰乡",
        **extra,
    }


def purchase_body(*lines, seller=None, **extra):
    return {
        "event_id": str(uuid.uuid4()),
        "seller": seller or {"name": "张三", "phone": "13800138000", "region_code": "420116"},
        "purchased_at": WHEN,
        "place": "木兰乡收购点",
        "reference_document": "SG-20261201-07",
        "lines": list(lines),
        **extra,
    }


def post(client, member, body, lang="en"):
    return client.post("/api/v1/purchases", json=body, headers=headers(member, lang))


@pytest.fixture()
def market(make):
    return make.member(OrgKind.MARKET)


@pytest.fixture()
def farm(make):
    return make.member(OrgKind.PRODUCER, name="木兰乡蔬菜合作社")


def count(dbsession, model):
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_purchase_round_trips_with_our_a_foreign_and_a_paper_certificate(
    client, make, market, farm, dbsession
):
    batch = make.certificate(farm, quantity=Decimal("500"))
    photo = upload(client, market)
    assert photo.status_code == 201, photo.json
    url = f"https://trace.example.cn/t/{batch.trace_code}"
    body = purchase_body(ours(url), foreign(), paper(photo.json["id"]))
    created = post(client, market, body)
    assert created.status_code == 201, created.json
    got = client.get(f"/api/v1/purchases/{created.json['id']}", headers=headers(market))
    assert got.status_code == 200
    assert got.json == created.json
    lines = got.json["lines"]
    assert [line["collected"] for line in lines] == ["ours", "foreign", "paper"]
    assert lines[0]["trace_code"] == batch.trace_code and lines[0]["producer_name"] == batch.producer_name
    assert lines[0]["receiving_event_id"] is None  # bought at the farm gate: nothing was shipped
    assert lines[1]["external_url"] == "https://hgz.example.gov.cn/q?c=ZJ330102-0001"
    assert lines[2]["photo_id"] == photo.json["id"] and lines[2]["unit"] == "jin"
    assert got.json["purchased_at"] == "2026-12-01T07:30:00+08:00"  # the buyer's zone
    assert got.json["seller"] == {
        "org_id": None,
        "name": "张三",
        "phone": "13800138000",
        "region_code": "420116",
    }


def test_the_photo_is_re_encoded_without_exif_and_served_only_to_the_buyer_and_regulators(
    client, make, market, dbsession
):
    sent = jpeg_with_gps()
    assert Image.open(io.BytesIO(sent)).getexif().get(0x8825)
    photo = upload(client, market)
    assert photo.status_code == 201, photo.json
    served = client.get(f"/api/v1/purchases/photos/{photo.json['id']}", headers=headers(market))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    again = Image.open(io.BytesIO(served.data))
    assert again.format == "JPEG" and again.size == (64, 48)
    assert not again.getexif() and "exif" not in again.info
    assert b"PhoneMaker" not in served.data
    assert (
        client.get(
            f"/api/v1/purchases/photos/{photo.json['id']}", headers=headers(make.member(OrgKind.MARKET))
        ).status_code
        == 404
    )
    regulator = make.member(OrgKind.REGULATOR)
    assert (
        client.get(f"/api/v1/purchases/photos/{photo.json['id']}", headers=headers(regulator)).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("content", "name", "status"),
    [
        (b"%PDF-1.4\n%%EOF\n", "paper.jpg", 422),
        (b"GIF89a" + b"\x00" * 20, "paper.gif", 422),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.png", 422),
        (b"\xff\xd8\xff" + b"\x00" * 100, "broken.jpg", 422),
    ],
)
def test_a_photo_that_is_not_a_jpeg_or_png_is_refused_and_nothing_stored(
    client, market, dbsession, content, name, status
):
    before = count(dbsession, PurchasePhoto)
    refused = upload(client, market, content, name)
    assert refused.status_code == status
    assert refused.mimetype == "application/problem+json"
    assert refused.json["errors"][0]["field"] == "/file"
    assert count(dbsession, PurchasePhoto) == before


def test_an_oversize_photo_is_refused_with_413(app, client, market, dbsession):
    app.config["PURCHASE_PHOTO_MAX_BYTES"] = 1000
    refused = upload(client, market, jpeg_with_gps((400, 400)) + b"\x00" * 2000)
    assert refused.status_code == 413 and refused.mimetype == "application/problem+json"
    assert count(dbsession, PurchasePhoto) == 0


def test_a_png_stays_png_and_a_decompression_bomb_is_refused(client, market):
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 0, 0)).save(out, format="PNG")
    assert upload(client, market, out.getvalue(), "a.png").json["content_type"] == "image/png"
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, format="PNG")  # 100 megapixels, a few KB
    assert upload(client, market, bomb.getvalue(), "bomb.png").status_code == 422


def test_reissuing_links_every_collected_certificate_and_the_page_names_the_producers(
    client, make, market, farm, dbsession
):
    batch = make.certificate(farm, quantity=Decimal("500"))
    photo = upload(client, market).json["id"]
    bought = post(client, market, purchase_body(ours(batch.trace_code), foreign(), paper(photo)))
    lines = {line["collected"]: line["id"] for line in bought.json["lines"]}
    event = {
        "event_id": str(uuid.uuid4()),
        "kind": "transforming",
        "occurred_at": "2026-12-01T10:00:00+08:00",
        "inputs": [
            {"purchase_line": lines["ours"], "quantity": "100", "unit": "kg"},
            {"purchase_line": lines["foreign"], "quantity": "50", "unit": "kg"},
            {"purchase_line": lines["paper"], "quantity": "30", "unit": "kg"},  # 60 斤
        ],
        "outputs": [certificate_body(product_name="净菜大白菜", quantity="180")],
    }
    reissued = client.post("/api/v1/events", json=event, headers=headers(market))
    assert reissued.status_code == 201, reissued.json
    assert [i["trace_code"] for i in reissued.json["items"] if i["role"] == "input"] == [batch.trace_code]
    new_code = reissued.json["outputs"][0]["trace_code"]
    sources = dbsession.execute(sa.select(ReissueSource.line_id, ReissueSource.quantity)).all()
    assert {(str(line), q) for line, q in sources} == {
        (lines["ours"], Decimal("100")),
        (lines["foreign"], Decimal("50")),
        (lines["paper"], Decimal("60")),  # in the line's unit, 斤
    }
    page = client.get(f"/t/{new_code}?lang=zh")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "由 3 家生产者的合格证汇总开具" in text
    for name in (batch.producer_name, "李四家庭农场", "王五"):
        assert name in text
    assert "浙江省杭州市西湖区" in text and "13800138000" not in text and photo not in text
    english = client.get(f"/t/{new_code}?lang=en").get_data(as_text=True)
    assert "Issued from the certificates collected from 3 producers" in english
    left = client.get(f"/api/v1/purchases/{bought.json['id']}", headers=headers(market)).json["lines"]
    assert [line["remaining"] for line in left] == ["0", "0", "0"]


def test_reissuing_more_than_was_bought_is_refused_with_409(client, market, dbsession):
    bought = post(client, market, purchase_body(foreign(quantity="50")))
    line = bought.json["lines"][0]["id"]

    def reissue(quantity):
        event = {
            "event_id": str(uuid.uuid4()),
            "kind": "transforming",
            "occurred_at": "2026-12-01T10:00:00+08:00",
            "inputs": [{"purchase_line": line, "quantity": quantity, "unit": "jin"}],
            "outputs": [certificate_body(product_name="净菜", quantity="20")],
        }
        return client.post("/api/v1/events", json=event, headers=headers(market))

    assert reissue("101").status_code == 409  # 50 kg is 100 斤
    assert reissue("60").status_code == 201
    refused = reissue("41")
    assert refused.status_code == 409 and "20 kg" in refused.json["detail"]
    assert reissue("40").status_code == 201
    assert dbsession.scalar(sa.select(PurchaseLine.remaining).where(PurchaseLine.id == uuid.UUID(line))) == 0


def test_another_buyers_purchase_line_cannot_be_reissued(client, make, market):
    bought = post(client, market, purchase_body(foreign()))
    other = make.member(OrgKind.MARKET)
    event = {
        "event_id": str(uuid.uuid4()),
        "kind": "transforming",
        "occurred_at": "2026-12-01T10:00:00+08:00",
        "inputs": [{"purchase_line": bought.json["lines"][0]["id"], "quantity": "1", "unit": "kg"}],
        "outputs": [certificate_body(product_name="净菜", quantity="1")],
    }
    refused = client.post("/api/v1/events", json=event, headers=headers(other))
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "/inputs/0/purchase_line"


def test_a_lot_without_a_certificate_is_refused_unless_the_buyer_says_why(client, market, dbsession):
    bare = {"product_name": "大白菜", "quantity": "10", "unit": "kg", "collected": "none"}
    refused = post(client, market, purchase_body(bare), lang="zh")
    assert refused.status_code == 422
    assert refused.json["errors"] == [
        {"field": "/lines/0/exemption", "message": refused.json["errors"][0]["message"]}
    ]
    assert "无证不收" in refused.json["errors"][0]["message"]
    missing = post(client, market, purchase_body({k: v for k, v in bare.items() if k != "collected"}))
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "/lines/0/collected"
    no_note = post(client, market, purchase_body({**bare, "exemption": "other"}))
    assert no_note.json["errors"][0]["field"] == "/lines/0/exemption_note"
    assert count(dbsession, Purchase) == 0
    own = post(client, market, purchase_body({**bare, "exemption": "own_produce"}))
    assert own.status_code == 201 and own.json["lines"][0]["exemption"] == "own_produce"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (ours("ABCDEFGHJK"), "/lines/0/code"),  # nobody issued it
        (ours("not a code at all"), "/lines/0/code"),
        (foreign(url="javascript:alert(1)"), "/lines/0/url"),
        (foreign(url="ftp://hgz.example.gov.cn/x"), "/lines/0/url"),
        (foreign(url=None), "/lines/0/url"),
        (paper(str(uuid.uuid4())), "/lines/0/photo_id"),  # a photo nobody uploaded
        (paper(None), "/lines/0/photo_id"),
        ({**foreign(), "unit": "ton"}, "/lines/0/unit"),
        ({**foreign(), "quantity": "-1"}, "/lines/0/quantity"),
        ({**foreign(), "collected": "maybe"}, "/lines/0/collected"),
        ({**foreign(), "extra": 1}, "/lines/0/extra"),
    ],
)
def test_bad_lines_are_named_and_nothing_is_written(client, market, dbsession, line, field):
    refused = post(client, market, purchase_body(line))
    assert refused.status_code == 422, refused.json
    assert refused.mimetype == "application/problem+json"
    assert field in [e["field"] for e in refused.json["errors"]]
    assert count(dbsession, Purchase) == 0 and count(dbsession, PurchaseLine) == 0


def test_another_buyers_photo_cannot_be_used(client, make, market):
    other = make.member(OrgKind.MARKET)
    photo = upload(client, other).json["id"]
    refused = post(client, market, purchase_body(paper(photo)))
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "/lines/0/photo_id"


def test_a_revoked_certificate_of_ours_is_refused_with_its_reason(client, make, market, farm, dbsession):
    batch = make.certificate(farm)
    revoked = client.post(
        f"/api/v1/certificates/{batch.id}/revoke", json={"reason": "数量写错"}, headers=headers(farm)
    )
    assert revoked.status_code == 200
    refused = post(client, market, purchase_body(ours(batch.trace_code)))
    assert refused.status_code == 409
    assert "数量写错" in refused.json["detail"]
    assert count(dbsession, Purchase) == 0


def test_more_than_the_certificate_covers_or_another_unit_is_refused(client, make, market, farm):
    batch = make.certificate(farm, quantity=Decimal("100"))
    assert (
        post(client, market, purchase_body(ours(batch.trace_code, "201", "jin"))).json["errors"][0]["field"]
        == "/lines/0/quantity"
    )
    assert (
        post(client, market, purchase_body(ours(batch.trace_code, "3", "box"))).json["errors"][0]["field"]
        == "/lines/0/unit"
    )
    assert post(client, market, purchase_body(ours(batch.trace_code, "200", "jin"))).status_code == 201


def test_a_seller_organisation_that_never_held_the_batch_is_refused(client, make, market, farm):
    batch = make.certificate(farm)
    stranger = make.member(OrgKind.PRODUCER)
    refused = post(
        client, market, purchase_body(ours(batch.trace_code), seller={"org_id": str(stranger.org.id)})
    )
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "/lines/0/code"
    sold = post(client, market, purchase_body(ours(batch.trace_code), seller={"org_id": str(farm.org.id)}))
    assert sold.status_code == 201
    assert sold.json["seller"]["name"] == farm.org.name
    # The seller organisation sees the purchase of its lot; another buyer does not.
    assert client.get(f"/api/v1/purchases/{sold.json['id']}", headers=headers(farm)).status_code == 200
    assert client.get(f"/api/v1/purchases/{sold.json['id']}", headers=headers(stranger)).status_code == 404


def test_a_shipped_lot_is_received_through_the_custody_service(client, make, market, farm, dbsession):
    batch = make.certificate(farm, quantity=Decimal("100"))
    shipped = client.post(
        "/api/v1/events",
        json={
            "event_id": str(uuid.uuid4()),
            "kind": "shipping",
            "occurred_at": "2026-12-01T06:00:00+08:00",
            "trace_code": batch.trace_code,
            "quantity": "40",
            "unit": "kg",
            "to_org": str(market.org.id),
        },
        headers=headers(farm),
    )
    assert shipped.status_code == 201
    body = purchase_body(ours(batch.trace_code, "40"), seller={"org_id": str(farm.org.id)})
    bought = post(client, market, body)
    assert bought.status_code == 201, bought.json
    receiving = bought.json["lines"][0]["receiving_event_id"]
    assert receiving
    code = client.get(f"/api/v1/codes/{batch.trace_code}", headers=headers(market)).json
    assert "receiving" in [e["kind"] for e in code["events"]]
    assert post(client, market, body).status_code == 200  # a replay receives nothing twice
    voided = client.post(
        f"/api/v1/purchases/{bought.json['id']}/void", json={"reason": "录错了"}, headers=headers(market)
    )
    assert voided.status_code == 200, voided.json
    assert voided.json["voided"] and voided.json["void_reason"] == "录错了"
    code = client.get(f"/api/v1/codes/{batch.trace_code}", headers=headers(market)).json
    assert "voiding" in [e["kind"] for e in code["events"]]


def test_a_replay_returns_the_same_purchase_and_another_body_is_409(client, market, dbsession):
    body = purchase_body(foreign())
    first = post(client, market, body)
    again = post(client, market, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    changed = post(client, market, {**body, "reference_document": "SG-other"})
    assert changed.status_code == 409 and changed.mimetype == "application/problem+json"
    assert count(dbsession, Purchase) == 1


def test_only_buyers_record_purchases_and_strangers_see_none(client, make, market, farm):
    assert post(client, farm, purchase_body(foreign())).status_code == 403
    assert client.post("/api/v1/purchases", json=purchase_body(foreign())).status_code == 401
    bought = post(client, market, purchase_body(foreign()))
    other = make.member(OrgKind.MARKET)
    assert client.get(f"/api/v1/purchases/{bought.json['id']}", headers=headers(other)).status_code == 404
    assert client.get("/api/v1/purchases", headers=headers(other)).json["items"] == []
    refused = client.post(
        f"/api/v1/purchases/{bought.json['id']}/void", json={"reason": "x"}, headers=headers(other)
    )
    assert refused.status_code == 404
    regulator = make.member(OrgKind.REGULATOR)
    assert client.get(f"/api/v1/purchases/{bought.json['id']}", headers=headers(regulator)).status_code == 200


def test_the_list_filters_by_time_and_seller(client, market):
    early = post(client, market, purchase_body(foreign(), purchased_at="2026-11-01T08:00:00+08:00"))
    late = post(client, market, purchase_body(foreign(), seller={"name": "赵六"}))
    assert early.status_code == late.status_code == 201

    def ids(query):
        response = client.get(f"/api/v1/purchases{query}", headers=headers(market))
        assert response.status_code == 200, response.json
        return [p["id"] for p in response.json["items"]]

    assert ids("") == [late.json["id"], early.json["id"]]
    assert ids("?since=2026-11-15T00:00:00%2B08:00") == [late.json["id"]]
    assert ids("?until=2026-11-15T00:00:00%2B08:00") == [early.json["id"]]
    assert ids("?seller=赵") == [late.json["id"]]
    bad = client.get("/api/v1/purchases?since=yesterday", headers=headers(market))
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "/since"
    assert client.get("/api/v1/purchases?colour=red", headers=headers(market)).status_code == 422


def test_a_voided_purchase_cannot_be_voided_again_nor_reissued_from(client, market):
    bought = post(client, market, purchase_body(foreign()))
    url = f"/api/v1/purchases/{bought.json['id']}/void"
    assert client.post(url, json={"reason": "重复录入"}, headers=headers(market)).status_code == 200
    assert client.post(url, json={"reason": "again"}, headers=headers(market)).status_code == 409
    event = {
        "event_id": str(uuid.uuid4()),
        "kind": "transforming",
        "occurred_at": "2026-12-01T10:00:00+08:00",
        "inputs": [{"purchase_line": bought.json["lines"][0]["id"], "quantity": "1", "unit": "kg"}],
        "outputs": [certificate_body(product_name="净菜", quantity="1")],
    }
    assert client.post("/api/v1/events", json=event, headers=headers(market)).status_code == 422


def test_a_purchase_reissued_from_cannot_be_voided(client, market):
    bought = post(client, market, purchase_body(foreign()))
    event = {
        "event_id": str(uuid.uuid4()),
        "kind": "transforming",
        "occurred_at": "2026-12-01T10:00:00+08:00",
        "inputs": [{"purchase_line": bought.json["lines"][0]["id"], "quantity": "10", "unit": "kg"}],
        "outputs": [certificate_body(product_name="净菜", quantity="10")],
    }
    assert client.post("/api/v1/events", json=event, headers=headers(market)).status_code == 201
    refused = client.post(
        f"/api/v1/purchases/{bought.json['id']}/void", json={"reason": "x"}, headers=headers(market)
    )
    assert refused.status_code == 409


# --- what an independent review found -------------------------------------------------------


def test_what_one_certificate_covers_is_collected_once_across_buyers_and_purchases(client, make):
    farm, first, second = make.member(), make.member(OrgKind.MARKET), make.member(OrgKind.MARKET)
    certificate = make.certificate(farm)  # covers its quantity, in kg
    whole = str(certificate.quantity)

    def buy(buyer, *quantities, certificate=certificate):
        lines = [
            {
                "collected": "ours",
                "product_name": "大白菜",
                "code": certificate.trace_code,
                "quantity": q,
                "unit": "kg",
            }
            for q in quantities
        ]
        body = {
            "event_id": str(uuid.uuid4()),
            "purchased_at": "2026-12-01T08:00:00+08:00",
            "seller": {"name": "张三"},
            "lines": lines,
        }
        return client.post("/api/v1/purchases", json=body, headers={**buyer.headers, "Accept-Language": "en"})

    assert buy(first, whole).status_code == 201
    again = buy(second, "1")  # anyone can type a code from a label: nothing of it is left
    assert again.status_code == 422 and "collected already" in again.get_data(as_text=True), again.json
    assert again.json["errors"][0]["field"] == "/lines/0/quantity"
    twice = buy(make.member(OrgKind.MARKET), "1", "1", certificate=make.certificate(farm))
    assert twice.status_code == 422 and twice.json["errors"][0]["field"] == "/lines/1/code"
    own = buy(farm, "1")
    assert own.status_code in (403, 422)  # a producer is no buyer, and its own certificate is no purchase


def test_a_certificate_revoked_after_it_was_collected_cannot_be_reissued_from(client, make):
    farm, buyer = make.member(), make.member(OrgKind.PROCESSOR)
    certificate = make.certificate(farm)
    body = {
        "event_id": str(uuid.uuid4()),
        "purchased_at": "2026-12-01T08:00:00+08:00",
        "seller": {"name": "张三"},
        "lines": [
            {
                "collected": "ours",
                "product_name": "大白菜",
                "code": certificate.trace_code,
                "quantity": "10",
                "unit": "kg",
            }
        ],
    }
    bought = client.post("/api/v1/purchases", json=body, headers=buyer.headers)
    assert bought.status_code == 201, bought.json
    line = bought.json["lines"][0]["id"]
    revoked = client.post(
        f"/api/v1/certificates/{certificate.id}/revoke", json={"reason": "错开"}, headers=farm.headers
    )
    assert revoked.status_code == 200, revoked.json
    output = {
        "product_name": "净菜",
        "quantity": "10",
        "unit": "kg",
        "origin": {"region_code": "420116"},
        "commitments": ["no_banned_substances", "residues_within_limits", "truthful"],
        "basis": ["self_commitment"],
    }
    made = client.post(
        "/api/v1/events",
        json={
            "event_id": str(uuid.uuid4()),
            "kind": "transforming",
            "occurred_at": "2026-12-01T10:00:00+08:00",
            "inputs": [{"purchase_line": line, "quantity": "10", "unit": "kg"}],
            "outputs": [output],
        },
        headers={**buyer.headers, "Accept-Language": "en"},
    )
    assert made.status_code == 409 and "revoked" in made.json["detail"], made.json


def test_the_issuer_of_a_lot_bought_through_a_trader_does_not_read_the_traders_purchase(client, make):
    farm_a, farm_b, buyer = make.member(), make.member(), make.member(OrgKind.MARKET)
    a, b = make.certificate(farm_a), make.certificate(farm_b)
    body = {
        "event_id": str(uuid.uuid4()),
        "purchased_at": "2026-12-01T08:00:00+08:00",
        "seller": {"name": "张三", "phone": "13800138000"},
        "lines": [
            {
                "collected": "ours",
                "product_name": "大白菜",
                "code": c.trace_code,
                "quantity": "1",
                "unit": "kg",
            }
            for c in (a, b)
        ],
    }
    bought = client.post("/api/v1/purchases", json=body, headers=buyer.headers)
    assert bought.status_code == 201, bought.json
    assert client.get(f"/api/v1/purchases/{bought.json['id']}", headers=farm_a.headers).status_code == 404
    listed = client.get("/api/v1/purchases", headers=farm_a.headers).get_data(as_text=True)
    assert "13800138000" not in listed and b.trace_code not in listed
