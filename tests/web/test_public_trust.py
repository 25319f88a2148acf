"""A public page made to be shared and trusted: share metadata with a public share image, banners
that say why, a link to report a problem, and a revoked certificate's link to its replacement."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

from tests.api.test_status_everywhere import open_recall, reject_at_gate
from tests.web.test_certificate_pages import sign_in
from traceapp.orgs.models import OrgKind


def meta(html: str, prop: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    return unescape(found.group(1)) if found else None


def test_the_page_carries_share_metadata_with_an_absolute_public_share_image(client, make):
    producer = make.member(phone="13812345678")
    certificate = make.certificate(producer, product_name="西兰花")
    html = client.get(f"/t/{certificate.trace_code}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert meta(html, "og:title") == "西兰花 · 承诺达标合格证"
    assert "西兰花" in meta(html, "og:description") and producer.org.name in meta(html, "og:description")
    assert meta(html, "og:url") == f"https://trace.example.cn/t/{certificate.trace_code}"
    image = meta(html, "og:image")
    assert image == f"https://trace.example.cn/t/{certificate.trace_code}/share.png"
    assert meta(html, "twitter:card") == "summary_large_image"
    # The image is public (no sign-in), cacheable, a PNG; a second fetch with its ETag is a 304.
    shared = client.get(image.removeprefix("https://trace.example.cn"))
    assert shared.status_code == 200 and shared.mimetype == "image/png"
    assert shared.data.startswith(b"\x89PNG") and "public" in shared.headers["Cache-Control"]
    again = client.get(
        f"/t/{certificate.trace_code}/share.png", headers={"If-None-Match": shared.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get("/t/AAAAAAAAAAAAAA/share.png").status_code == 404


def test_the_public_share_image_masks_the_phone_as_the_page_does(app, make):
    from traceapp.certificates import printing

    certificate = make.certificate(make.member(phone="13812345678"))
    with app.test_request_context():
        public = printing.label_content(certificate, base_url="https://x", public=True)
        printed = printing.label_content(certificate, base_url="https://x")
    assert any(v == "138****5678" for _l, v in public.fields)
    assert any(v == "13812345678" for _l, v in printed.fields)
    assert not any(v == "13812345678" for _l, v in public.fields)


def test_every_public_page_links_to_12315_or_the_configured_address(client, make, app):
    certificate = make.certificate(make.member())
    html = client.get(f"/t/{certificate.trace_code}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert 'href="https://www.12315.cn/"' in html and 'href="tel:12315"' in html
    assert "Report it to 12315" in html
    for other in ("/", "/t/AAAAAAAAAAAAAA"):  # the home page and a code not found
        assert 'href="https://www.12315.cn/"' in client.get(other).get_data(as_text=True)
    app.config["REPORT_URL"] = "mailto:quality@market.example.cn"
    configured = client.get("/t/AAAAAAAAAAAAAA", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="mailto:quality@market.example.cn"' in configured and "Report a problem" in configured
    assert "tel:12315" not in configured
    app.config["REPORT_URL"] = "https://www.12315.cn/"
    zh = client.get(f"/t/{certificate.trace_code}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "向12315投诉举报" in zh


def test_a_failed_inspection_banner_names_the_product_the_test_the_market_and_the_date(client, make):
    producer, market = make.member(), make.member(OrgKind.MARKET, name="白沙洲市场")
    certificate = make.certificate(producer, product_name="小白菜", quantity=Decimal("100"))
    reject_at_gate(client, market, certificate, holder=producer)
    html = client.get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    banner = html.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "failed inspection" in banner
    assert re.search(
        r"白沙洲市场\S* tested 小白菜 on \w+ \d+, \d{4}: 有机磷 was positive \(62\)\.", banner
    ), banner
    zh = client.get(f"/t/{certificate.trace_code}?lang=zh").get_data(as_text=True)
    assert "检测小白菜：有机磷呈阳性（62）。" in zh


def test_a_recall_banner_says_why(client, make):
    producer, regulator = make.member(), make.member(OrgKind.REGULATOR)
    certificate = make.certificate(producer)
    open_recall(client, regulator, certificate)
    html = client.get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    assert "RECALLED" in html and "Reason: 农残超标" in html


def test_a_revoked_certificate_links_to_the_one_that_replaced_it(client, make):
    producer = make.member()
    old = make.certificate(producer, product_name="大白菜")
    new = make.certificate(producer, product_name="大白菜")
    response = client.post(
        f"/api/v1/certificates/{old.id}/revoke",
        json={"reason": "数量写错了", "replaced_by": new.trace_code.lower()},
        headers=producer.headers,
    )
    assert response.status_code == 200, response.json
    html = client.get(f"/t/{old.trace_code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "REVOKED" in html and "Replaced by:" in html
    assert f'href="/t/{new.trace_code}"' in html
    # The stored page (what a scan gets) links too.
    stored = client.get(f"/t/{old.trace_code}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert f'href="/t/{new.trace_code}"' in stored
    assert "替换为：" in stored


def test_the_replacement_must_be_a_standing_certificate_of_the_same_organisation(client, make):
    producer, other = make.member(), make.member()
    old = make.certificate(producer)
    foreign = make.certificate(other)
    for code, status in ((foreign.trace_code, 422), (old.trace_code, 422), ("nonsense", 422)):
        response = client.post(
            f"/api/v1/certificates/{old.id}/revoke",
            json={"reason": "写错了", "replaced_by": code},
            headers={**producer.headers, "Accept-Language": "en"},
        )
        assert response.status_code == status, response.json
        assert response.json["errors"][0]["field"] == "/replaced_by"
    # Refused: the certificate is still standing.
    assert "REVOKED" not in client.get(f"/t/{old.trace_code}?lang=en").get_data(as_text=True)


def test_the_revoke_form_takes_the_replacement(client, make):
    producer = make.member()
    old, new = make.certificate(producer), make.certificate(producer)
    sign_in(client, producer)
    form = client.get(f"/certificates/{old.id}").get_data(as_text=True)
    assert 'name="replaced_by"' in form
    response = client.post(
        f"/certificates/{old.id}/revoke",
        data={"reason": "写错了", "confirm": "yes", "replaced_by": new.trace_code},
    )
    assert response.status_code == 302
    assert f'href="/t/{new.trace_code}"' in client.get(f"/t/{old.trace_code}").get_data(as_text=True)


def test_issuing_a_certificate_to_replace_a_revoked_one_links_them(client, make):
    from tests.factories import certificate_body

    producer = make.member()
    old = make.certificate(producer, product_name="大白菜")
    url = f"/api/v1/certificates/{old.id}/revoke"
    assert client.post(url, json={"reason": "写错了"}, headers=producer.headers).status_code == 200
    issued = client.post(
        "/api/v1/certificates",
        json={**certificate_body(), "replaces": old.trace_code},
        headers=producer.headers,
    )
    assert issued.status_code == 201, issued.json
    html = client.get(f"/t/{old.trace_code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'href="/t/{issued.json["trace_code"]}"' in html
    # Once replaced, or while still standing, a certificate cannot be replaced (again).
    standing = make.certificate(producer)
    for code in (old.trace_code, standing.trace_code):
        again = client.post(
            "/api/v1/certificates", json={**certificate_body(), "replaces": code}, headers=producer.headers
        )
        assert again.status_code == 422 and again.json["errors"][0]["field"] == "/replaces", again.json
