"""A producer, on a phone, sees what happened to its batches: the list says which batch was
rejected at a gate and which recalled, and the inbox (its count in the navigation) tells both."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, Login
from tests.e2e.test_browser import assert_chinese_has_glyphs, assert_fits_phone, shot, sign_in
from tests.factories import certificate_body
from traceapp import create_app, db
from traceapp.orgs import services as orgs
from traceapp.orgs.models import OrgKind, Role

pytestmark = pytest.mark.e2e


def _members(url: str) -> dict[str, tuple[str, str]]:
    """A producer, a market and a regulator (420116), committed: email and API token of each."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "e2e"})
    suffix, found = uuid.uuid4().hex[:8], {}
    try:
        with app.test_request_context(), db.transaction() as session:
            for kind in (OrgKind.PRODUCER, OrgKind.MARKET, OrgKind.REGULATOR):
                org = orgs.create_organisation(
                    session, kind=kind, name=f"{kind.value}-{suffix}", region_code="420116"
                )
                email = f"e2e-{kind.value}-{suffix}@example.cn"
                orgs.create_user(session, org_id=org.id, email=email, password=PASSWORD, role=Role.ADMIN)
                _token, plaintext = orgs.create_api_token(session, email=email)
                found[kind.value] = (email, plaintext)
    finally:
        app.extensions["traceapp.db"].dispose()
    return found


def _api(base: str, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the live server)
        return json.loads(response.read())


def test_producer_sees_a_rejection_and_a_recall_on_its_list_and_in_its_inbox(
    new_context, live_server_url, e2e_database_url, artifacts
):
    people = _members(e2e_database_url)
    producer, market, regulator = (people[k][1] for k in ("producer", "market", "regulator"))
    rejected = _api(
        live_server_url, producer, "/api/v1/certificates", certificate_body(product_name="小白菜")
    )
    recalled = _api(
        live_server_url, producer, "/api/v1/certificates", certificate_body(product_name="西兰花")
    )
    code = _api(
        live_server_url,
        producer,
        "/api/v1/handover-codes",
        {"event_id": str(uuid.uuid4()), "trace_code": rejected["trace_code"]},
    )["code"]
    _api(
        live_server_url,
        market,
        "/api/v1/events",
        {
            "event_id": str(uuid.uuid4()),
            "kind": "inspecting",
            "occurred_at": "2026-11-21T08:00:00+08:00",
            "trace_code": rejected["trace_code"],
            "certificate_status": "valid",
            "result": "rejected",
            "handover_code": code,
            "tests": [{"method": "enzyme_inhibition", "item": "有机磷", "value": "62"}],
        },
    )
    body = {"trace_codes": [recalled["trace_code"]], "reason": "农残超标", "severity": "class_i"}
    _api(live_server_url, regulator, "/api/v1/recalls", body)

    page = new_context(locale="zh-CN").new_page()
    sign_in(page, live_server_url, Login(email=people["producer"][0], password=PASSWORD, org_name=""))
    statuses = page.locator("table.list [data-status]")
    assert [statuses.nth(i).get_attribute("data-status") for i in range(statuses.count())] == [
        "recalled",
        "failed_inspection",
    ]
    assert "召回" in statuses.nth(0).inner_text()
    badge = page.locator("a.inbox-link [data-unread]")
    assert badge.inner_text() == "2"
    assert_fits_phone(page)
    shot(page, artifacts, "certificates-with-statuses.png")

    page.click("a.inbox-link")
    page.wait_for_url("**/notifications")
    items = page.locator("li.notification")
    assert [items.nth(i).get_attribute("data-kind") for i in range(items.count())] == ["recalled", "rejected"]
    assert "农残超标" in items.nth(0).inner_text() and "有机磷" in items.nth(1).inner_text()
    assert_fits_phone(page)
    assert_chinese_has_glyphs(page, "li.notification strong")
    shot(page, artifacts, "notifications.png")

    items.nth(1).locator("button").click()
    page.wait_for_url("**/notifications")
    assert page.locator("li.notification.unread").count() == 1
    assert page.locator("a.inbox-link [data-unread]").inner_text() == "1"
