"""What a consumer's phone downloads on a first visit to a public page, with and without a
Chinese system font (every phone sold in China has one; the bundled web font is for the rest)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import launch
from tests.e2e.test_browser import assert_chinese_has_glyphs, assert_fits_phone, shot

pytestmark = pytest.mark.e2e

FIRST_VISIT_BUDGET = 20 * 1024
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def first_visit(context: Any, url: str) -> tuple[Any, dict[str, int]]:
    """Open ``url`` in a fresh context; every response's URL and body size, favicon included."""
    page = context.new_page()
    sizes: dict[str, int] = {}
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body()) if r.ok else 0))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page, sizes


def has_chinese_system_font() -> bool:
    found = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True)
    return bool(found.stdout.strip())


def test_a_first_visit_downloads_at_most_20_kb_on_a_phone_with_a_chinese_font(
    new_context, live_server_url, demo_journey, artifacts
):
    if not has_chinese_system_font():
        if os.environ.get("CI"):
            pytest.fail("no Chinese system font: apt-get install fonts-noto-cjk", pytrace=False)
        pytest.skip("no Chinese system font (apt-get install fonts-noto-cjk)")
    page, sizes = first_visit(new_context(locale="zh-CN"), f"{live_server_url}/t/{demo_journey['西兰花']}")
    assert not [url for url in sizes if url.endswith(".woff2")], sizes
    # Headless Chromium fetches no icon: count it as a phone's browser would.
    icon = page.request.get(live_server_url + page.locator('link[rel="icon"]').get_attribute("href"))
    assert icon.ok and icon.headers["content-type"] in ("image/vnd.microsoft.icon", "image/x-icon")
    assert sum(sizes.values()) + len(icon.body()) <= FIRST_VISIT_BUDGET, sizes
    assert_chinese_has_glyphs(page, "h1")
    assert page.locator("ul.ticks li").first.is_visible()
    assert_fits_phone(page)
    shot(page, artifacts, "public-page-system-font.png")


def test_a_device_without_a_chinese_font_still_reads_chinese(
    playwright, live_server_url, demo_journey, tmp_path, artifacts
):
    if not DEJAVU.is_dir():
        pytest.skip(f"needs {DEJAVU} (fonts-dejavu-core, which chromium depends on)")
    # Fontconfig that knows only DejaVu: a device with no CJK font at all.
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><dir>{DEJAVU}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    chromium = launch(playwright, env={**os.environ, "FONTCONFIG_FILE": str(config)})
    try:
        context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        page, sizes = first_visit(context, f"{live_server_url}/t/{demo_journey['西兰花']}")
        assert not [url for url in sizes if url.endswith(".woff2")], sizes
        # The Chinese is boxes here; the link's English half says what to do about it.
        page.click('footer a[href="?font=cjk"]')
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready.then(() => true)")
        assert_chinese_has_glyphs(page, "h1")
        assert page.locator('footer a[href="?font=cjk"]').count() == 0
        assert_fits_phone(page)
        shot(page, artifacts, "public-page-web-font.png")
    finally:
        chromium.close()
