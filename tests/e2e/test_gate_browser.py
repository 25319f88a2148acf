"""The gate page in headless Chromium at 360 px: from a code to a verdict, then the check recorded."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_browser import assert_fits_phone, shot
from tests.e2e.test_page_defences import Watch
from traceapp import create_app, db
from traceapp.certificates import services as certificates
from traceapp.certificates.models import Basis, Commitment, Unit
from traceapp.codes import format_trace_code
from traceapp.events.models import EventKind
from traceapp.events.services import EventSettings, record_event
from traceapp.orgs import services as orgs
from traceapp.orgs.models import OrgKind, Role
from traceapp.orgs.services import Actor

pytestmark = pytest.mark.e2e


def _member(session: Any, kind: OrgKind, name: str) -> tuple[Actor, str]:
    org = orgs.create_organisation(session, kind=kind, name=name, region_code="420116")
    email = f"gate-{uuid.uuid4().hex[:8]}@example.cn"
    user = orgs.create_user(session, org_id=org.id, email=email, password=PASSWORD, role=Role.ADMIN)
    return Actor.of(user), email


def _batch(session: Any, producer: Actor, product: str) -> Any:
    data = {
        "product_name": product,
        "quantity": Decimal("100"),
        "unit": Unit.KG,
        "origin": {"region_code": "420116", "address": "木兰乡"},
        "harvest_date": date(2026, 11, 20),
        "commitments": list(Commitment),
        "basis": [Basis.SELF_TEST],
    }
    certificate, _created = certificates.issue_certificate(session, producer, data=data)
    return certificate


@pytest.fixture(scope="module")
def gate_world(e2e_database_url: str) -> dict[str, str]:
    """A market, and two batches shipped to it (30 kg each), one of them revoked since."""
    app = create_app({"DATABASE_URL": e2e_database_url, "SECRET_KEY": "e2e"})
    suffix = uuid.uuid4().hex[:6]
    try:
        with app.test_request_context(), db.transaction() as session:
            producer, _email = _member(session, OrgKind.PRODUCER, f"木兰合作社-{suffix}")
            market, email = _member(session, OrgKind.MARKET, f"白沙洲市场-{suffix}")
            good, bad = _batch(session, producer, "小白菜"), _batch(session, producer, "菠菜")
            for certificate in (good, bad):
                data = {
                    "event_id": uuid.uuid4(),
                    "kind": EventKind.SHIPPING,
                    "occurred_at": certificate.issued_at,
                    "trace_code": certificate.trace_code,
                    "quantity": Decimal("30"),
                    "unit": Unit.KG,
                    "to_org": market.org_id,
                }
                record_event(session, producer, data=data, settings=EventSettings.from_config(app.config))
            certificates.revoke_certificate(session, producer, certificate_id=bad.id, reason="批次写错了")
            codes = {"good": good.trace_code, "bad": bad.trace_code}
    finally:
        app.extensions["traceapp.db"].dispose()
    return {**codes, "email": email}


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login?next=/gate")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form button[type="submit"]')
    page.wait_for_url(f"{base}/gate")


def test_gate_check_from_a_code_to_a_verdict(new_context, live_server_url, gate_world, artifacts):
    page = new_context(locale="zh-CN").new_page()
    watch = Watch(page, live_server_url)
    sign_in(page, live_server_url, gate_world["email"])
    assert page.evaluate("document.activeElement.id") == "code"  # a USB scanner types straight in
    camera = page.locator("#camera")
    assert camera.is_visible() == page.evaluate("'BarcodeDetector' in window")
    shot(page, artifacts, "gate-1-code.png")

    page.keyboard.type(f"https://trace.example.cn/T/{gate_world['good']}")
    page.keyboard.press("Enter")
    verdict = page.locator("#verdict")
    verdict.wait_for()
    assert "可以入场" in verdict.inner_text() and "小白菜" in page.inner_text("dl.facts")
    assert "30 千克" in page.inner_text("dl.facts")
    assert page.input_value("#quantity") == "30"
    assert verdict.bounding_box()["y"] < 200  # at a glance: at the top of the screen
    assert_fits_phone(page)
    shot(page, artifacts, "gate-2-accept.png")

    page.fill('[name="brought_by.name"]', "李师傅")
    page.click('button[name="add_test"]')
    page.wait_for_selector('[name="tests.0.method"]')
    page.select_option('[name="tests.0.method"]', "enzyme_inhibition")
    page.fill('[name="tests.0.item"]', "有机磷")
    page.fill('[name="tests.0.value"]', "12")
    assert page.input_value('[name="brought_by.name"]') == "李师傅"  # kept across the round trip
    page.click("#record")
    page.wait_for_selector("p.flash")
    assert "已记录" in page.inner_text("p.flash") and format_trace_code(
        gate_world["good"]
    ) in page.inner_text("p.flash")
    shot(page, artifacts, "gate-3-recorded.png")

    page.fill("#code", gate_world["bad"].lower())
    page.press("#code", "Enter")
    page.locator("#verdict").wait_for()
    told = page.inner_text("#verdict")
    assert "拒绝入场" in told and "批次写错了" in told
    assert_fits_phone(page)
    shot(page, artifacts, "gate-4-reject.png")
    assert watch.violations == [] and watch.errors == [] and watch.elsewhere == []
