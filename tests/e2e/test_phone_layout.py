"""Every staff and public page at 360 px in headless Chromium: nothing scrolls sideways, the trace
graph scrolls inside its box, codes and pills never break mid-word; the public page carries its
share metadata. Screenshots go to tests/e2e/artifacts/phone-*.png."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_browser import PHONE_WIDTH, assert_fits_phone, shot
from traceapp.demo import PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page: Any, base: str, email: str) -> None:
    """Sign in as a demo user (each lands on its own start page)."""
    page.goto(f"{base}/login")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form button[type="submit"]')
    page.wait_for_url(lambda url: "/login" not in url)


def assert_codes_whole(page: Any) -> None:
    """Each trace code (and status pill) on the page breaks, if at all, only at its dashes."""
    broken = page.evaluate(
        """() => [...document.querySelectorAll('.code, .badge')].flatMap(el => {
            const text = el.textContent.trim();
            if (!text || el.tagName === 'INPUT') return [];
            const range = document.createRange();
            range.selectNodeContents(el);
            const lines = [...range.getClientRects()].length;
            const parts = el.classList.contains('badge') ? 1 : text.split('-').length;
            return lines > parts ? [text + ' on ' + lines + ' lines'] : [];
        })"""
    )
    assert broken == [], broken


def visit(page: Any, url: str, artifacts: Any, name: str) -> None:
    response = page.goto(url)
    assert response.ok, f"{url}: {response.status}"
    assert_fits_phone(page)
    assert_codes_whole(page)
    shot(page, artifacts, f"phone-{name}.png")


def test_the_public_page_at_360_px_carries_share_metadata_and_the_report_link(
    new_context, live_server_url, demo_journey, artifacts
):
    page = new_context(locale="zh-CN").new_page()
    code = demo_journey["西兰花"]
    visit(page, f"{live_server_url}/t/{code}", artifacts, "public")
    og = {
        prop: page.locator(f'meta[property="{prop}"]').get_attribute("content")
        for prop in ("og:title", "og:description", "og:image", "og:url")
    }
    assert "西兰花" in og["og:title"] and og["og:description"]
    assert re.fullmatch(rf"https?://[^/]+/t/{code}/share\.png", og["og:image"]), og
    image = page.request.get(og["og:image"])  # public: no sign-in
    assert image.ok and image.headers["content-type"] == "image/png"
    assert page.locator('a[href="https://www.12315.cn/"]').is_visible()
    assert page.locator('a[href="tel:12315"]').is_visible()


STAFF_PAGES = {
    "farmer@demo.traceapp": ["/certificates", "/certificates/new", "/batches", "/events/new", "/custody",
                             "/tokens", "/account/password", "/audit"],
    "market@demo.traceapp": ["/batches", "/events/new", "/custody", "/trace"],
    "regulator@demo.traceapp": ["/recalls", "/recalls/new", "/overview", "/trace"],
}  # fmt: skip


@pytest.mark.parametrize("email", sorted(STAFF_PAGES))
def test_every_staff_page_fits_360_px(new_context, live_server_url, demo_journey, artifacts, email):
    page = new_context(locale="zh-CN").new_page()
    sign_in(page, live_server_url, email)
    who = email.split("@")[0]
    for path in STAFF_PAGES[email]:
        visit(page, live_server_url + path, artifacts, f"{who}{path.replace('/', '-')}")
    if who == "farmer":
        page.goto(f"{live_server_url}/certificates")
        page.locator('a[href*="/certificates/"]:not([href$="/new"])').first.click()
        page.wait_for_load_state()
        assert_fits_phone(page)
        assert_codes_whole(page)
        shot(page, artifacts, "phone-farmer-certificate.png")


def test_the_trace_graph_scrolls_inside_its_box_at_360_px(
    new_context, live_server_url, demo_journey, artifacts
):
    page = new_context(locale="zh-CN").new_page()
    sign_in(page, live_server_url, "regulator@demo.traceapp")
    visit(
        page, f"{live_server_url}/trace?code={demo_journey['大白菜']}&direction=forward", artifacts, "trace"
    )
    box = page.locator(".graph-wrap")
    assert box.count() == 1
    inside = box.evaluate("el => ({client: el.clientWidth, scroll: el.scrollWidth})")
    assert inside["client"] <= PHONE_WIDTH
    # The whole graph is there: wider than the box, it scrolls inside it instead of being cut off.
    graph = page.locator(".graph-wrap svg").evaluate("el => el.getBoundingClientRect().width")
    assert inside["scroll"] >= graph - 1
    overflow = box.evaluate("el => getComputedStyle(el).overflowX")
    assert overflow in ("auto", "scroll")


def test_the_party_page_fits_360_px_without_javascript(
    new_context, live_server_url, demo_journey, e2e_database_url, artifacts
):
    """The public page of an organisation (the URI its EPCIS events give it), as a partner's
    browser opens it from an event: in Chinese, no JavaScript needed."""
    import sqlalchemy as sa

    from traceapp import create_app, db
    from traceapp.orgs.models import Organisation

    app = create_app({"DATABASE_URL": e2e_database_url, "SECRET_KEY": "e2e"})
    try:
        with app.test_request_context(), db.transaction() as session:
            org_id, name = session.execute(sa.select(Organisation.id, Organisation.name).limit(1)).one()
    finally:
        app.extensions["traceapp.db"].dispose()
    page = new_context(locale="zh-CN", java_script_enabled=False).new_page()
    visit(page, f"{live_server_url}/orgs/{org_id}", artifacts, "party")
    assert page.locator("h1").inner_text() == name
    assert page.locator("script").count() == 0
