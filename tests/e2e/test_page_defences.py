"""Pages in headless Chromium with every other host blocked: the API docs render their
operations from our own files."""

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
