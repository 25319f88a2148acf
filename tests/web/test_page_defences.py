"""Pages defend themselves: their policy and headers on every answer (Flask's and the front
layer's), a stylesheet allowed by its hash alone, no inline script or style anywhere."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.factories import certificate_body
from traceapp import create_app
from traceapp.public.models import PublicPage

TEMPLATES = Path(__file__).resolve().parents[2] / "traceapp" / "templates"
FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class Inline(HTMLParser):
    """What a page carries inline: the text of its ``<style>`` elements, its inline scripts,
    style attributes and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.attributes: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [f"{tag} {name}" for name, _ in attrs if name == "style" or name.startswith("on")]
        if tag == "script" and not dict(attrs).get("src"):
            self.scripts.append("")
        if tag in ("style", "script"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script" and self.scripts:
            self.scripts[-1] += data


def inline(html: str) -> Inline:
    parser = Inline()
    parser.feed(html)
    return parser


def directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in policy.split(";")) if d}


def sha256_source(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def assert_page_defends_itself(response) -> None:  # type: ignore[no-untyped-def]
    """The page's policy allows no script and exactly its own inline stylesheet."""
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, name
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    body = response.data
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    found = inline(body.decode())
    assert found.scripts == [] and found.attributes == []
    assert found.styles and all(sha256_source(css) in policy["style-src"] for css in found.styles)


def test_a_stored_public_page_answered_before_flask_carries_the_policy(client, make):
    code = make.certificate(make.member()).trace_code
    for encoding in ("gzip", "identity"):
        response = client.get(f"/t/{code}", headers={"Accept-Encoding": encoding})
        assert response.status_code == 200 and response.headers.get("ETag")
        assert_page_defends_itself(response)
    again = client.get(f"/t/{code}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-Frame-Options"] == "DENY"


def test_a_page_rendered_live_by_flask_carries_the_same_policy(client, make, dbsession):
    code = make.certificate(make.member()).trace_code
    stored = client.get(f"/t/{code}").headers["Content-Security-Policy"]
    dbsession.execute(sa.update(PublicPage).values(build="0000000000000000"))  # as after a deploy
    dbsession.commit()
    live = client.get(f"/t/{code}")
    assert live.status_code == 200 and not live.headers.get("ETag")
    assert_page_defends_itself(live)
    assert live.headers["Content-Security-Policy"] == stored


@pytest.mark.parametrize("url", ["/", "/login", "/t/UNKNOWN", "/no/such/page"])
def test_other_pages_and_error_pages_defend_themselves(client, url):
    assert_page_defends_itself(client.get(url))


def test_the_api_and_static_files_carry_the_headers_too(client):
    problem = client.get("/api/v1/certificates")
    assert problem.status_code == 401 and problem.headers["X-Content-Type-Options"] == "nosniff"
    assert directives(problem.headers["Content-Security-Policy"])["default-src"] == ["'none'"]
    with client.get("/static/api-docs.js") as script:
        assert script.status_code == 200 and script.headers["X-Content-Type-Options"] == "nosniff"


def test_the_docs_page_runs_our_scripts_only_and_no_inline_one(client):
    response = client.get("/api/v1/docs")
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    html = response.get_data(as_text=True)
    found = inline(html)
    assert found.scripts == [] and found.attributes == [] and found.styles == []
    sources = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") for s in sources)
    for source in sources:
        with client.get(source) as asset:
            assert asset.status_code == 200, source


def test_a_lab_report_keeps_its_own_policy_with_framing_refused(client, make):
    producer = make.member()
    upload = client.post(
        "/api/v1/reports", headers=producer.headers, data={"file": (io.BytesIO(PDF), "r.pdf")}
    )
    body = certificate_body(
        basis=["commissioned_test"],
        test_report={"lab_name": "武汉检测中心", "report_number": "R-1", "report_id": upload.json["id"]},
    )
    issued = client.post("/api/v1/certificates", json=body, headers=producer.headers).json
    report = client.get(f"/t/{issued['trace_code']}/report")
    assert report.status_code == 200 and report.headers["X-Content-Type-Options"] == "nosniff"
    policy = directives(report.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def test_hsts_only_when_the_public_base_url_is_https(client, database_url):
    assert client.get("/").headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}
    )
    try:
        response = plain.test_client().get("/login")
        assert response.status_code == 200 and "Strict-Transport-Security" not in response.headers
        assert response.headers["X-Frame-Options"] == "DENY"
    finally:
        plain.extensions["traceapp.db"].dispose()


def test_a_stylesheet_under_a_script_root_is_allowed_by_its_own_hash(client, make, dbsession):
    code = make.certificate(make.member()).trace_code
    # Stored pages were rendered under the public base URL's root ("" here): still allowed.
    stored = client.get(f"/t/{code}", base_url="https://trace.example.cn/trace")
    assert_page_defends_itself(stored)
    dbsession.execute(sa.update(PublicPage).values(build="0000000000000000"))
    dbsession.commit()
    live = client.get(f"/t/{code}", base_url="https://trace.example.cn/trace")
    assert_page_defends_itself(live)
    assert 'href="/trace/static/favicon.ico"' in live.get_data(as_text=True)
    # The web font's stylesheet, asked for by a device without Chinese fonts, is allowed too.
    with_font = client.get(f"/t/{code}?font=cjk", base_url="https://trace.example.cn/trace")
    assert_page_defends_itself(with_font)
    assert 'url("/trace/static/fonts/' in with_font.get_data(as_text=True)


def test_no_template_carries_inline_script_style_attributes_or_handlers():
    offences = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text("utf-8")
        found = inline(re.sub(r"{[{%#].*?[}%#]}", "x", text, flags=re.S))
        name = path.relative_to(TEMPLATES)
        offences += [f"{name}: inline script" for _ in found.scripts]
        offences += [f"{name}: {attribute}" for attribute in found.attributes]
        allowed = text.count("<style>{{ page_style() }}</style>") + text.count(
            "<style>{{ font_style() }}</style>"
        )
        if "<style" in text and allowed != text.count("<style"):
            offences.append(f"{name}: a <style> other than page_style() or font_style()")
    assert offences == []


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
