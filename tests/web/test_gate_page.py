"""The gate page: a code, the verdict at a glance with its reasons, and the short form that records
the gate check with the verdict's result (never picked by hand), through the real app."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.api.test_permissions import WHEN
from tests.web.test_certificate_pages import sign_in
from traceapp.certificates.models import Holding, HoldingState
from traceapp.codes import format_trace_code, mint_trace_code
from traceapp.events.models import Event, EventKind
from traceapp.orgs.models import OrgKind

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def api(client, member, path, body):
    response = client.post(path, json=body, headers={**member.headers, "Accept-Language": "en"})
    assert response.status_code in (200, 201), response.json
    return response.json


def ship(client, producer, certificate, market, quantity="30"):
    body = {
        "event_id": str(uuid.uuid4()),
        "kind": "shipping",
        "occurred_at": WHEN,
        "trace_code": certificate.trace_code,
        "quantity": quantity,
        "unit": "kg",
        "to_org": str(market.org.id),
    }
    return api(client, producer, "/api/v1/events", body)


@pytest.fixture()
def world(make, client):
    producer = make.member()
    market = make.member(OrgKind.MARKET)
    certificate = make.certificate(producer, quantity=Decimal("100"), product_name="小白菜")
    return producer, market, certificate


def held(dbsession, certificate, member) -> Decimal:
    found = dbsession.scalar(
        sa.select(Holding.quantity).where(
            Holding.certificate_id == certificate.id,
            Holding.org_id == member.org.id,
            Holding.state == HoldingState.ON_HAND,
        )
    )
    return found or Decimal(0)


def gate_events(dbsession, member) -> list[Event]:
    return list(
        dbsession.scalars(
            sa.select(Event).where(Event.kind == EventKind.INSPECTING, Event.org_id == member.org.id)
        )
    )


def look_up(client, code, headers=EN):
    return client.get("/gate", query_string={"code": code}, headers=headers)


def form_of(html: str) -> dict[str, str]:
    """The hidden and filled fields of the gate form, as the browser would post them."""
    form = html[html.index('method="post" action="/gate"') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields.update(re.findall(r'<input type="text" id="([^"]+)" name="[^"]+" value="([^"]+)"', form))
    for name, selected in re.findall(r'<select id="([^"]+)".*?<option value="([^"]*)" selected', form, re.S):
        fields.setdefault(name, selected)
    return fields


def test_step_one_is_a_single_code_box_ready_for_a_scanner(client, world):
    _producer, market, _certificate = world
    sign_in(client, market)
    html = client.get("/gate", headers=EN).get_data(as_text=True)
    assert 'name="code"' in html and "autofocus" in html and 'enterkeyhint="go"' in html
    assert 'id="camera" hidden' in html and "/static/gate.js" in html
    assert 'method="post"' not in html.split("</header>")[1]  # no form to fill before the code


def test_the_nav_links_the_gate_for_markets_only(client, world):
    producer, market, _certificate = world
    sign_in(client, market)
    assert 'href="/gate"' in client.get("/batches", headers=EN).get_data(as_text=True)
    client.post("/logout")
    sign_in(client, producer)
    assert 'href="/gate"' not in client.get("/batches", headers=EN).get_data(as_text=True)
    assert client.get("/gate", headers=EN).status_code == 403


def test_a_scanned_digital_link_with_the_code_as_lot_finds_the_batch(client, world):
    producer, market, certificate = world
    ship(client, producer, certificate, market, quantity="30")
    sign_in(client, market)
    page = look_up(client, f"https://id.gs1.org/01/09506000134352/10/{certificate.trace_code}?17=271231")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and ">ACCEPT</b>" in html and "小白菜" in html


def test_a_shipped_batch_is_accepted_and_the_form_records_the_take_over(client, world, dbsession):
    producer, market, certificate = world
    ship(client, producer, certificate, market, quantity="30")
    sign_in(client, market)
    page = look_up(client, f"https://trace.example.cn/T/{certificate.trace_code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and ">ACCEPT</b>" in html and "小白菜" in html
    assert "Shipped to you</dt><dd>30 kg" in html
    fields = form_of(html)
    assert fields["quantity"] == "30" and fields["verdict"] == "accepted"
    done = client.post("/gate", data={**fields, "brought_by.name": "李师傅"}, headers=EN)
    assert done.status_code == 302, done.get_data(as_text=True)
    assert "Recorded: accepted." in client.get("/gate", headers=EN).get_data(as_text=True)
    (check,) = gate_events(dbsession, market)
    assert check.details["result"] == "accepted" and check.details["certificate_status"] == "valid"
    assert check.details["custody"]["basis"] == "shipment" and check.details["brought_by"]["name"] == "李师傅"
    assert held(dbsession, certificate, market) == Decimal("30")


def test_posting_the_same_form_twice_records_the_check_once(client, world, dbsession):
    producer, market, certificate = world
    ship(client, producer, certificate, market)
    sign_in(client, market)
    fields = form_of(look_up(client, certificate.trace_code).get_data(as_text=True))
    assert client.post("/gate", data=fields, headers=EN).status_code == 302
    again = client.post("/gate", data=fields, headers=EN)
    assert again.status_code == 302
    assert "Already recorded." in client.get("/gate", headers=EN).get_data(as_text=True)
    assert len(gate_events(dbsession, market)) == 1
    assert held(dbsession, certificate, market) == Decimal("30")


def revoke(client, producer, certificate):
    api(client, producer, f"/api/v1/certificates/{certificate.id}/revoke", {"reason": "批次写错了"})


def recall(client, producer, certificate):
    body = {"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_i"}
    api(client, producer, "/api/v1/recalls", body)


def positive_earlier(client, producer, certificate, market):
    """Another market that had the batch shipped to it found a positive test."""
    ship(client, producer, certificate, market, quantity="10")
    body = {
        "event_id": str(uuid.uuid4()),
        "kind": "inspecting",
        "occurred_at": WHEN,
        "trace_code": certificate.trace_code,
        "certificate_status": "valid",
        "result": "rejected",
        "tests": [{"method": "enzyme_inhibition", "item": "有机磷", "value": "71"}],
    }
    api(client, market, "/api/v1/events", body)


@pytest.mark.parametrize(
    ("before", "en", "zh"),
    [
        (
            lambda c, m, p, cert, mk: revoke(c, p, cert),
            "Certificate revoked by its producer, because: 批次写错了",
            "合格证已被开具者撤销",
        ),
        (lambda c, m, p, cert, mk: recall(c, p, cert), "Batch recalled", "该批次已召回"),
        (
            lambda c, m, p, cert, mk: positive_earlier(c, p, cert, mk(OrgKind.MARKET)),
            "Rejected at a market gate before",
            "曾在市场入口被拒收",
        ),
    ],
    ids=["revoked", "recalled", "positive_test_earlier"],
)
def test_a_batch_whose_status_is_not_valid_gets_reject_with_the_reason_in_both_languages(
    client, world, make, dbsession, before, en, zh
):
    producer, market, certificate = world
    ship(client, producer, certificate, market)
    before(client, market, producer, certificate, make.member)
    sign_in(client, market)
    english = look_up(client, certificate.trace_code).get_data(as_text=True)
    assert ">REJECT</b>" in english and en in english
    chinese = look_up(client, certificate.trace_code, ZH).get_data(as_text=True)
    assert ">拒绝入场</b>" in chinese and zh in chinese
    fields = form_of(english)
    assert fields["verdict"] == "rejected"
    assert client.post("/gate", data=fields, headers=EN).status_code == 302
    (check,) = gate_events(dbsession, market)
    assert check.details["result"] == "rejected"
    assert held(dbsession, certificate, market) == 0


def test_a_batch_not_shipped_to_this_market_is_rejected_and_another_market_takes_nothing(
    client, world, make, dbsession
):
    producer, market, certificate = world
    ship(client, producer, certificate, market)
    other = make.member(OrgKind.MARKET)
    sign_in(client, other)
    html = look_up(client, certificate.trace_code).get_data(as_text=True)
    assert ">REJECT</b>" in html and "Not shipped to you" in html
    assert "未发往本市场" in look_up(client, certificate.trace_code, ZH).get_data(as_text=True)
    fields = form_of(html)
    forged = {**fields, "verdict": "accepted", "result": "accepted", "certificate_status": "valid"}
    refused = client.post("/gate", data=forged, headers=EN)
    assert refused.status_code == 409 and "The verdict has changed" in refused.get_data(as_text=True)
    assert gate_events(dbsession, other) == []
    assert client.post("/gate", data=fields, headers=EN).status_code == 302
    (claim,) = gate_events(dbsession, other)
    assert claim.details["result"] == "rejected" and claim.details.get("claim") is True
    assert held(dbsession, certificate, other) == 0 and held(dbsession, certificate, market) == 0


def test_a_positive_test_added_at_the_gate_turns_the_verdict_to_reject(client, world, dbsession):
    producer, market, certificate = world
    ship(client, producer, certificate, market)
    sign_in(client, market)
    first = look_up(client, certificate.trace_code).get_data(as_text=True)
    assert 'name="tests.0.method"' not in first  # no test row until one is added
    fields = form_of(first)
    typed = {**fields, "tests.0.method": "enzyme_inhibition", "tests.0.item": "有机磷", "tests.0.value": "62"}
    more = client.post("/gate", data={**typed, "add_test": "1"}, headers=EN)
    html = more.get_data(as_text=True)
    assert more.status_code == 200 and ">REJECT</b>" in html and "Rapid test positive" in html
    assert 'name="tests.0.method"' in html and 'name="tests.1.method"' not in html
    assert 'value="有机磷"' in html and "Enzyme inhibition" in html
    # The rows (one macro shared with the receiving form) speak the reader's language.
    chinese = client.post("/gate", data={**typed, "add_test": "1"}, headers=ZH).get_data(as_text=True)
    assert "胶体金试纸条" in chinese and "检测项目" in chinese
    assert gate_events(dbsession, market) == []
    stale = client.post("/gate", data=typed, headers=EN)  # still says accepted: nothing recorded
    assert stale.status_code == 409 and gate_events(dbsession, market) == []
    assert client.post("/gate", data={**form_of(html), **typed, "verdict": "rejected"}).status_code == 302
    (check,) = gate_events(dbsession, market)
    assert check.details["result"] == "rejected" and check.details["tests"][0]["result"] == "positive"
    assert held(dbsession, certificate, market) == 0


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (mint_trace_code(), "No certificate has the code"),
        ("mistyped", "probably mistyped"),
    ],
)
def test_an_unknown_or_mistyped_code_is_told_and_nothing_is_recorded(
    client, world, dbsession, typed, message
):
    _producer, market, certificate = world
    sign_in(client, market)
    if typed == "mistyped":
        code = certificate.trace_code
        typed = code[:-1] + ("A" if code[-1] != "A" else "B")
    page = look_up(client, typed)
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and ">REJECT</b>" in html and message in html
    assert "autofocus" in html and gate_events(dbsession, market) == []


def test_a_post_for_an_unknown_code_records_nothing(client, world, dbsession):
    _producer, market, _certificate = world
    sign_in(client, market)
    page = client.post("/gate", data={"code": mint_trace_code(), "event_id": str(uuid.uuid4())}, headers=EN)
    assert page.status_code == 404 and "No certificate has the code" in page.get_data(as_text=True)
    assert gate_events(dbsession, market) == []


def test_the_refusal_is_shown_at_the_top_beside_the_verdict_in_the_users_language(
    client, world, make, dbsession
):
    _producer, _market, certificate = world
    other = make.member(OrgKind.MARKET)
    sign_in(client, other)
    fields = form_of(look_up(client, certificate.trace_code).get_data(as_text=True))
    typed = {**fields, "handover_code": "ABCDE-FGHJK"}
    changed = client.post("/gate", data=typed, headers=EN).get_data(as_text=True)
    assert ">ACCEPT</b>" in changed  # with a hand-over code the verdict is the code's
    page = client.post("/gate", data={**typed, "verdict": "accepted"}, headers=ZH)
    html = page.get_data(as_text=True)
    assert page.status_code == 422, html
    top = html[html.index('id="verdict"') : html.index("</div>", html.index('id="verdict"'))]
    assert '<small class="refusal">此交接码对本查验点的该批次无效。</small>' in top
    assert gate_events(dbsession, other) == []


def test_the_gate_page_may_load_our_script_and_no_other(client, world):
    _producer, market, certificate = world
    sign_in(client, market)
    policy = client.get("/gate").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "script-src" not in client.get(f"/t/{certificate.trace_code}").headers["Content-Security-Policy"]
    assert format_trace_code(certificate.trace_code) in look_up(client, certificate.trace_code).get_data(
        as_text=True
    )
