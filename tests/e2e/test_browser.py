"""Pages in headless Chromium on a phone-sized screen, against a live ``traceapp serve``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Login

pytestmark = pytest.mark.e2e

SYMBOL = "[2-9A-HJ-NP-Z]"
GROUPED_CODE = re.compile(f"{SYMBOL}{{4}}-{SYMBOL}{{4}}-{SYMBOL}{{4}}-{SYMBOL}{{2}}")
CJK = re.compile(r"[\u3400-\u9fff]")
PHONE_WIDTH = 360
# Families that carry Simplified Chinese glyphs, as a platform names them.
CJK_FAMILY = re.compile(
    r"CJK|\bSC\b|Hei|PingFang|YaHei|Han Sans|WenQuanYi|Droid Sans Fallback", re.IGNORECASE
)


def sign_in(page: Any, base: str, login: Login) -> None:
    page.goto(f"{base}/login")
    page.fill('input[name="login"]', login.email)
    page.fill('input[name="password"]', login.password)
    page.click('form button[type="submit"]')
    page.wait_for_url(f"{base}/certificates**")


def fonts_rendering(page: Any, selector: str) -> list[dict[str, Any]]:
    """The platform fonts Chromium really used for the text of ``selector`` (DevTools CSS)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"no element matches {selector}"
        return list(cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"])
    finally:
        cdp.detach()


def assert_chinese_has_glyphs(page: Any, selector: str) -> None:
    """Every Chinese character of ``selector`` is drawn with a CJK system font or TraceappCJK.

    Chromium reports how many glyphs each platform font drew; a character no font covers is
    drawn as tofu by some Latin fallback font, so CJK-capable fonts would draw too few glyphs.
    """
    loaded = page.evaluate(
        "document.fonts.ready.then(() => [...document.fonts]"
        ".filter(f => f.status === 'loaded').map(f => f.family))"
    )
    chinese = len(CJK.findall(page.locator(selector).first.inner_text()))
    used = fonts_rendering(page, selector)
    drawn = sum(
        font["glyphCount"]
        for font in used
        if CJK_FAMILY.search(font["familyName"]) or (font["isCustomFont"] and "TraceappCJK" in loaded)
    )
    assert chinese and drawn >= chinese, (
        f"{selector}: {chinese} Chinese characters but only {drawn} glyphs from CJK fonts "
        f"(tofu?); fonts used {used}, web fonts loaded {loaded}"
    )


def assert_fits_phone(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: {width}px wide at {PHONE_WIDTH}px"


def shot(page: Any, folder: Path, name: str) -> None:
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=str(folder / name), full_page=True)


def test_producer_issues_on_a_phone_and_consumer_sees_the_public_page(
    new_context, live_server_url, producer_login, artifacts
):
    page = new_context(locale="zh-CN").new_page()
    sign_in(page, live_server_url, producer_login)

    page.click('a[href$="/certificates/new"]')
    page.wait_for_url("**/certificates/new")
    page.fill('input[name="product_name"]', "大白菜")
    page.fill('input[name="quantity"]', "500")
    page.select_option('select[name="unit"]', "kg")
    page.fill('input[name="origin.region_code"]', "420116")
    page.fill('input[name="origin.address"]', "木兰乡双河村")
    page.fill('input[type="date"][name="harvest_date"]', (date.today() - timedelta(days=1)).isoformat())
    commitments = page.locator('input[name="commitments"]')
    assert commitments.count() == 3
    for i in range(3):
        assert commitments.nth(i).is_checked(), "the three commitments come pre-ticked"
    page.check('input[name="basis"][value="self_test"]')
    assert_fits_phone(page)
    shot(page, artifacts, "issue-form.png")
    page.click('form button.primary[type="submit"]')

    page.wait_for_url(re.compile(r"/certificates/[0-9a-f-]{36}$"))
    code = page.locator(".code").first.inner_text().strip()
    assert GROUPED_CODE.fullmatch(code), code
    qr = page.locator('img[src*="/qr.png"]')
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR image is broken"
    assert_fits_phone(page)
    shot(page, artifacts, "certificate.png")

    page.click('a[href*="/t/"]')
    page.wait_for_url(f"{live_server_url}/t/**")
    assert page.locator(".status-valid").is_visible()
    assert page.get_by_text("大白菜", exact=True).first.is_visible()
    assert code in page.locator(".code").inner_text()
    assert page.locator("script").count() == 0
    assert_fits_phone(page)
    assert_chinese_has_glyphs(page, "h1")
    assert_chinese_has_glyphs(page, ".card p.muted")  # 承诺达标合格证, Chinese in any language
    shot(page, artifacts, "public-page.png")


def submit_bad_issue_form(page: Any) -> None:
    page.fill('input[name="product_name"]', "小白菜")
    page.fill('input[name="quantity"]', "-1")
    page.fill('input[name="origin.region_code"]', "12")
    page.click('form button.primary[type="submit"]')
    page.wait_for_load_state()


def field_errors(page: Any) -> tuple[str, str]:
    return (
        page.locator("#quantity-error").inner_text(),
        page.locator('[id="origin.region_code-error"]').inner_text(),
    )


def test_form_errors_are_shown_in_the_users_language(new_context, live_server_url, producer_login, artifacts):
    page = new_context(locale="en-US", extra_http_headers={"Accept-Language": "en"}).new_page()
    sign_in(page, live_server_url, producer_login)
    page.goto(f"{live_server_url}/certificates/new")

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        submit_bad_issue_form(page)
    assert posted.value.status == 422
    quantity, region = field_errors(page)
    assert "greater than zero" in quantity
    assert "6-digit administrative division code" in region
    assert page.locator('input[name="product_name"]').input_value() == "小白菜"
    assert page.locator('input[name="quantity"]').get_attribute("aria-invalid") == "true"
    assert_fits_phone(page)
    shot(page, artifacts, "form-errors-en.png")

    page.goto(f"{live_server_url}/certificates/new")
    page.click('a[href="?lang=zh"]')
    page.wait_for_url("**/certificates/new?lang=zh")
    submit_bad_issue_form(page)
    quantity, region = field_errors(page)
    assert CJK.search(quantity) and CJK.search(region), (
        f"messages not in Chinese (zh_CN catalogue missing or incomplete?): {quantity!r}, {region!r}"
    )
    assert page.locator('input[name="product_name"]').input_value() == "小白菜"
    shot(page, artifacts, "form-errors-zh.png")


def test_unknown_code_gets_a_friendly_page(new_context, live_server_url, artifacts):
    page = new_context(locale="zh-CN").new_page()
    response = page.goto(f"{live_server_url}/t/ZZZZ-ZZZZ")
    assert response is not None and response.status == 404
    assert "text/html" in response.headers["content-type"]
    form = page.locator('form[action$="/t"][method="get"]')
    assert form.locator('input[name="code"]').input_value() == "ZZZZ-ZZZZ"
    assert page.locator("script").count() == 0
    assert_fits_phone(page)
    shot(page, artifacts, "not-found.png")


def test_a_consumer_reads_a_whole_journey_on_a_phone(new_context, live_server_url, demo_journey, artifacts):
    page = new_context(locale="en-US").new_page()
    page.goto(f"{live_server_url}/t/{demo_journey['大白菜-portion']}")
    assert page.locator(".status-warning").first.is_visible()  # the cold chain broke on the way
    steps = page.locator("ol.journey > li")
    assert steps.count() >= 1
    page.locator("a", has_text="大白菜").first.click()  # "made from": the source batch
    assert page.url.endswith(f"/t/{demo_journey['大白菜']}")
    assert page.locator("ol.journey > li").count() == 5  # issue, ship, leg, gate, portion
    assert page.locator("svg.chart circle").count() >= 1  # readings out of range, in red
    assert page.locator("table.tests").is_visible()
    assert page.locator("script").count() == 0
    assert_fits_phone(page)
    assert_chinese_has_glyphs(page, "h1")
    shot(page, artifacts, "journey.png")


def test_a_regulator_recalls_a_batch_and_the_portion_page_says_so(
    new_context, live_server_url, demo_journey, artifacts
):
    from traceapp.demo import PASSWORD, REGULATOR_EMAIL

    page = new_context(locale="zh-CN").new_page()
    page.goto(f"{live_server_url}/login")
    page.fill('input[name="login"]', REGULATOR_EMAIL)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/overview")  # a regulator lands on the overview
    page.goto(f"{live_server_url}/recalls/new?code={demo_journey['大白菜']}")
    page.fill('input[name="reason"]', "有机磷农药残留超标")
    page.fill('input[name="instructions"]', "请停止食用，退回购买处")
    page.click("form.card button.danger")
    page.wait_for_url("**/recalls/*")
    shot(page, artifacts, "recall.png")
    consumer = new_context(locale="zh-CN").new_page()
    consumer.goto(f"{live_server_url}/t/{demo_journey['大白菜-portion']}")
    banner = consumer.locator(".status.recall")
    assert banner.is_visible() and "请停止食用" in banner.inner_text()
    assert consumer.locator("script").count() == 0
    assert_fits_phone(consumer)
    assert_chinese_has_glyphs(consumer, ".status.recall")
    shot(consumer, artifacts, "recalled-portion.png")


def test_a_producer_gives_a_hand_over_code_and_disputes_a_take_on_a_phone(
    new_context, live_server_url, demo_journey, artifacts
):
    from traceapp.demo import PASSWORD, PRODUCER_EMAIL

    page = new_context(locale="zh-CN").new_page()
    sign_in(page, live_server_url, Login(email=PRODUCER_EMAIL, password=PASSWORD, org_name=""))
    page.click('a[href$="/custody"]')
    page.wait_for_url("**/custody")
    page.fill('input[name="trace_code"]', demo_journey["西兰花"])
    page.fill('input[name="quantity"]', "20")
    page.select_option('select[name="unit"]', "kg")
    page.click('form[action$="/custody/codes"] button.primary')
    page.wait_for_url("**/custody")
    assert re.search(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}", page.locator(".card .code").first.inner_text())
    shot(page, artifacts, "custody.png")
    # The dispute form of a take: a styled input as wide as its card, its button styled too.
    reason = page.locator('form[action$="/custody/disputes"] input[name="reason"]').first
    card = page.locator(".card", has=reason).first
    assert reason.bounding_box()["width"] > 0.8 * card.bounding_box()["width"]
    button = page.locator('form[action$="/custody/disputes"] button').first
    assert button.evaluate("b => getComputedStyle(b).borderRadius") == "8px"
    assert_fits_phone(page)
    reason.fill("没有交给这个市场")
    button.click()
    page.wait_for_url("**/custody")
    assert "没有交给这个市场" in page.locator(".dispute").first.inner_text()
    assert_fits_phone(page)
    shot(page, artifacts, "custody-disputed.png")


def test_a_carrier_sees_the_shipment_in_its_care_on_a_phone(
    new_context, live_server_url, demo_journey, artifacts
):
    from traceapp.demo import CARRIER_EMAIL, PASSWORD

    page = new_context(locale="zh-CN").new_page()
    page.goto(f"{live_server_url}/login")
    page.fill('input[name="login"]', CARRIER_EMAIL)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form button[type="submit"]')
    page.wait_for_load_state()
    page.goto(f"{live_server_url}/batches")
    care = page.locator("#carried")
    assert care.is_visible()
    text = care.inner_text()
    assert "承运中" in text or "In our care" in text
    assert "西兰花" in text and "60 千克" in text
    # The code breaks only at its dashes at 360 px, and the link records a leg for it.
    code = care.locator(".code").first
    assert code.evaluate("e => getComputedStyle(e).wordBreak") == "keep-all"
    assert_fits_phone(page)
    shot(page, artifacts, "carrier-in-our-care.png")
    care.locator('a[href*="kind=transporting"]').first.click()
    page.wait_for_url("**/events/new**")
    assert page.locator('input[name="trace_code"]').input_value().replace("-", "") == demo_journey[
        "西兰花"
    ].replace("-", "")


def test_the_farmer_signs_in_by_mobile_and_adds_a_member_who_must_choose_a_password(
    new_context, live_server_url, demo_journey, artifacts
):
    import random

    from traceapp.demo import PASSWORD

    page = new_context(locale="zh-CN").new_page()
    page.goto(f"{live_server_url}/login")
    assert "手机号或电子邮箱" in page.locator("label[for=login]").inner_text()
    page.fill('input[name="login"]', "139 0013 9000")  # the demo farmer, by mobile number
    page.fill('input[name="password"]', PASSWORD)
    page.click('form button[type="submit"]')
    page.wait_for_url(f"{live_server_url}/certificates**")
    page.click('a[href$="/org/members"]')
    page.wait_for_url("**/org/members")
    mobile = f"137{random.randrange(10**8):08d}"
    page.fill('input[name="mobile"]', f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}")
    page.fill('input[name="password"]', "first-pass-2026")
    page.click('form[action$="/org/members"] button.primary')
    page.wait_for_url("**/org/members")
    assert f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}" in page.locator("table.list").inner_text()
    assert_fits_phone(page)
    shot(page, artifacts, "members.png")
    member = new_context(locale="zh-CN").new_page()
    member.goto(f"{live_server_url}/login")
    member.fill('input[name="login"]', mobile)
    member.fill('input[name="password"]', "first-pass-2026")
    member.click('form button[type="submit"]')
    member.wait_for_url("**/account/password**")
    assert "初始密码" in member.locator(".card").first.inner_text()
    assert_fits_phone(member)
