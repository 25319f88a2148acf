"""Pages under their Content-Security-Policy in headless Chromium, with every other host blocked:
the API docs render their operations from our own files, the public page keeps its style, and
styles or scripts slipped into a page are not applied."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e


class Watch:
    """What a page asked of other hosts (each refused) and the policy violations it reported."""

    def __init__(self, page: Any, base: str):
        self.elsewhere: list[str] = []
        self.violations: list[str] = []
        self.errors: list[str] = []
        own = urlsplit(base).netloc
        page.route("**/*", lambda route: self._route(route, own))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _route(self, route: Any, own: str) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own:
            self.elsewhere.append(url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(message.text)


def test_the_api_docs_render_their_operations_offline_under_their_policy(
    new_context, live_server_url, artifacts
):
    page = new_context(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False).new_page()
    watch = Watch(page, live_server_url)
    page.goto(f"{live_server_url}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    # Swagger UI breaks long paths with zero-width spaces.
    paths = [p.replace("\u200b", "") for p in page.locator(".opblock-summary-path").all_inner_texts()]
    assert "/api/v1/certificates" in paths and "/api/v1/events" in paths, paths
    assert len(paths) >= 15, paths
    page.locator(".opblock-summary").first.click()  # an operation opens with its parameters
    page.wait_for_selector(".opblock.is-open .opblock-section", timeout=10_000)
    page.screenshot(path=str(artifacts / "api-docs.png"))
    assert watch.elsewhere == [] and watch.violations == [] and watch.errors == []


def test_the_public_page_keeps_its_style_and_refuses_injected_ones(
    new_context, live_server_url, demo_journey, artifacts
):
    page = new_context(locale="zh-CN").new_page()
    watch = Watch(page, live_server_url)
    page.goto(f"{live_server_url}/t/{demo_journey['大白菜']}")
    bar = page.evaluate("getComputedStyle(document.querySelector('header.bar')).backgroundColor")
    assert bar == "rgb(11, 107, 58)", "the page's own stylesheet was not applied"
    assert watch.violations == [] and watch.elsewhere == []
    # What an injection would add: a <style>, a style attribute, an inline script, a handler.
    page.evaluate(
        """() => {
          const style = document.createElement('style');
          style.textContent = 'header.bar { background: rgb(255, 0, 0) !important }';
          document.head.append(style);
          document.body.insertAdjacentHTML('beforeend',
            '<p id="planted" style="color: rgb(255, 0, 0)">x</p><img src="x" onerror="window.ran = 1">');
          const script = document.createElement('script');
          script.textContent = 'window.ran = 2';
          document.body.append(script);
        }"""
    )
    page.wait_for_timeout(300)
    bar = page.evaluate("getComputedStyle(document.querySelector('header.bar')).backgroundColor")
    planted = page.evaluate("getComputedStyle(document.getElementById('planted')).color")
    assert bar == "rgb(11, 107, 58)" and planted != "rgb(255, 0, 0)"
    assert page.evaluate("window.ran") is None
    assert len(watch.violations) >= 3, watch.violations
    page.screenshot(path=str(artifacts / "public-page-policy.png"), full_page=True)
