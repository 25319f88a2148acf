"""The purchase pages: a buyer records a purchase on its phone (a scanned code pasted into a text
field, a paper certificate's photo from the camera), sees it listed and in detail in its own
language, the messages in place when a lot has no certificate, and voids it."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import sqlalchemy as sa
from PIL import Image

from tests.web.test_certificate_pages import sign_in
from traceapp.orgs.models import OrgKind
from traceapp.purchases.models import Purchase, PurchaseLine


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 10)).save(out, format="JPEG")
    return out.getvalue()


def form(**extra):
    return {
        "event_id": str(uuid.uuid4()),
        "seller.name": "张三",
        "seller.phone": "13800138000",
        "purchased_at": "2026-12-01T07:30",
        "reference_document": "SG-0001",
        **extra,
    }


def test_a_buyer_records_a_purchase_with_our_code_and_a_paper_photo_on_the_page(client, make, dbsession):
    market = sign_in(client, make.member(OrgKind.MARKET))
    batch = make.certificate(make.member(), quantity=Decimal("100"))
    page = client.get("/purchases/new", headers={"Accept-Language": "zh"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'capture="environment"' in text and 'enctype="multipart/form-data"' in text
    assert "无证不收" in text or "合格证" in text
    data = form(
        **{
            "lines.0.product_name": "大白菜",
            "lines.0.quantity": "40",
            "lines.0.unit": "kg",
            "lines.0.collected": "ours",
            "lines.0.code": f"https://trace.example.cn/T/{batch.trace_code}",
            "lines.1.product_name": "大白菜",
            "lines.1.quantity": "30",
            "lines.1.unit": "jin",
            "lines.1.collected": "paper",
            "lines.1.photo": (io.BytesIO(jpeg()), "paper.jpg"),
            "lines.1.producer_name": "王五",
            "lines.1.origin": "黄陂区木兰乡",
            "lines.1.issue_date": "2026-11-30",
        }
    )
    done = client.post("/purchases/new", data=data, content_type="multipart/form-data")
    assert done.status_code == 302, done.get_data(as_text=True)
    purchase = dbsession.scalars(sa.select(Purchase).where(Purchase.org_id == market.org.id)).one()
    assert purchase.purchased_at.isoformat() == "2026-11-30T23:30:00+00:00"  # 07:30 Beijing time
    detail = client.get(done.headers["Location"], headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "张三" in detail and "王五" in detail and "千克" in detail and "斤" in detail
    lines = dbsession.scalars(sa.select(PurchaseLine).where(PurchaseLine.purchase_id == purchase.id)).all()
    photo = client.get(f"/purchases/photos/{lines[1].photo_id}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    listed = client.get("/purchases", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "张三" in listed and "2 lots" in listed


def test_a_lot_without_a_certificate_re_renders_with_the_message_in_place(client, make, dbsession):
    sign_in(client, make.member(OrgKind.MARKET))
    data = form(
        **{
            "lines.0.product_name": "大白菜",
            "lines.0.quantity": "5",
            "lines.0.unit": "kg",
            "lines.0.collected": "none",
        }
    )
    refused = client.post("/purchases/new", data=data, headers={"Accept-Language": "zh"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "无证不收" in text and 'aria-invalid="true"' in text
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Purchase)) == 0


def test_a_non_image_photo_is_named_on_its_lot(client, make, dbsession):
    sign_in(client, make.member(OrgKind.MARKET))
    data = form(
        **{
            "lines.0.product_name": "大白菜",
            "lines.0.quantity": "5",
            "lines.0.unit": "kg",
            "lines.0.collected": "paper",
            "lines.0.photo": (io.BytesIO(b"%PDF-1.4 nope"), "x.jpg"),
            "lines.0.producer_name": "王五",
            "lines.0.origin": "黄陂",
            "lines.0.issue_date": "2026-11-30",
        }
    )
    refused = client.post(
        "/purchases/new", data=data, content_type="multipart/form-data", headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 422
    assert "JPEG or PNG" in refused.get_data(as_text=True)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Purchase)) == 0


def test_a_buyer_voids_a_purchase_with_a_reason(client, make, dbsession):
    sign_in(client, make.member(OrgKind.MARKET))
    data = form(
        **{
            "lines.0.product_name": "大白菜",
            "lines.0.quantity": "5",
            "lines.0.unit": "kg",
            "lines.0.collected": "none",
            "lines.0.exemption": "own_produce",
        }
    )
    done = client.post("/purchases/new", data=data)
    assert done.status_code == 302
    voided = client.post(done.headers["Location"] + "/void", data={"reason": "录错了"}, follow_redirects=True)
    assert voided.status_code == 200 and "录错了" in voided.get_data(as_text=True)
    assert dbsession.scalars(sa.select(Purchase)).one().void_reason == "录错了"
