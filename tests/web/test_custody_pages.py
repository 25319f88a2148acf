"""The custody page: a holder gives a hand-over code, sees what a gate took and disputes it; a
regulator resolves the dispute; bad fields come back beside the form in the user's language."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import sqlalchemy as sa

from tests.api.test_events_api import holding, post
from tests.web.test_certificate_pages import sign_in
from traceapp.events.models import CustodyDispute, DisputeStatus, HandoverCode
from traceapp.orgs.models import OrgKind

CODE = re.compile(r'class="code">([2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5})<')


def give_code(client, certificate, **extra):
    data = {"event_id": str(uuid.uuid4()), "trace_code": certificate.trace_code, **extra}
    return client.post("/custody/codes", data=data, headers={"Accept-Language": "en"})


def test_a_holder_gives_a_code_on_the_page_and_the_gate_takes_the_stock_with_it(client, make, dbsession):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    certificate = make.certificate(producer, quantity=Decimal("100"))
    sign_in(client, producer)
    assert give_code(client, certificate, quantity="40", unit="kg").status_code == 302
    page = client.get("/custody?lang=en").get_data(as_text=True)
    code = CODE.search(page).group(1)
    taken = post(
        client,
        market,
        kind="inspecting",
        trace_code=certificate.trace_code,
        certificate_status="valid",
        result="accepted",
        handover_code=code,
    )
    assert taken.status_code == 201, taken.json
    assert holding(dbsession, certificate, market.org) == Decimal("40")
    page = client.get("/custody?lang=en").get_data(as_text=True)
    assert market.org.name in page and "handed over with your code" in page and "used" in page
    zh = client.get("/custody?lang=zh").get_data(as_text=True)
    assert "市场入口交接" in zh and "凭您的交接码交接" in zh


def test_a_bad_code_request_re_renders_the_form_with_the_message_in_the_users_language(
    client, make, dbsession
):
    producer = make.member()
    certificate = make.certificate(producer, quantity=Decimal("10"))
    sign_in(client, producer)
    for lang, message in (
        ("en", "More than your organisation holds (10)."),
        ("zh-CN", "超出贵单位持有的数量（10）。"),
    ):
        data = {
            "event_id": str(uuid.uuid4()),
            "trace_code": certificate.trace_code,
            "quantity": "11",
            "unit": "kg",
        }
        page = client.post("/custody/codes", data=data, headers={"Accept-Language": lang})
        assert page.status_code == 422 and message in page.get_data(as_text=True)
    unknown = give_code(client, certificate, trace_code="NOPE")
    assert unknown.status_code == 422 and "No certificate has this trace code." in unknown.get_data(
        as_text=True
    )
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(HandoverCode)) == 0


def test_the_holder_disputes_on_the_page_and_a_regulator_upholds_it_there(client, make, dbsession):
    producer, market, regulator = make.member(), make.member(OrgKind.MARKET), make.member(OrgKind.REGULATOR)
    certificate = make.certificate(producer, quantity=Decimal("100"))
    sign_in(client, producer)
    give_code(client, certificate)
    code = CODE.search(client.get("/custody?lang=en").get_data(as_text=True)).group(1)
    taken = post(
        client,
        market,
        kind="inspecting",
        trace_code=certificate.trace_code,
        certificate_status="valid",
        result="accepted",
        handover_code=code,
    ).json
    empty = client.post(
        "/custody/disputes",
        data={"event_id": str(uuid.uuid4()), "gate_check_id": taken["id"], "reason": " "},
        headers={"Accept-Language": "en"},
    )
    assert empty.status_code == 422 and "This field is required." in empty.get_data(as_text=True)
    opened = client.post(
        "/custody/disputes",
        data={"event_id": str(uuid.uuid4()), "gate_check_id": taken["id"], "reason": "码被人偷看"},
        headers={"Accept-Language": "en"},
    )
    assert opened.status_code == 302
    dispute = dbsession.scalar(sa.select(CustodyDispute))
    client.post("/logout")
    sign_in(client, regulator)
    page = client.get("/custody?lang=en").get_data(as_text=True)
    assert "码被人偷看" in page and "Uphold: give the stock back" in page
    url = f"/custody/disputes/{dispute.id}/resolve"
    missing = client.post(url, data={"decision": "upheld"}, headers={"Accept-Language": "en"})
    assert missing.status_code == 422 and "This field is required." in missing.get_data(as_text=True)
    done = client.post(
        url, data={"decision": "upheld", "note": "交接码被冒用"}, headers={"Accept-Language": "en"}
    )
    assert done.status_code == 302
    dbsession.expire_all()
    assert dbsession.get(CustodyDispute, dispute.id).status is DisputeStatus.UPHELD
    assert holding(dbsession, certificate, producer.org) == Decimal("100")


def test_the_custody_page_needs_a_sign_in(client):
    response = client.get("/custody")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_a_carrier_sees_the_shipments_in_its_care_until_they_are_received(client, make):
    from tests.api.test_custody_api import accept
    from tests.api.test_events_api import ship_to

    producer, market = make.member(), make.member(OrgKind.MARKET)
    carrier, other_carrier = make.member(OrgKind.CARRIER), make.member(OrgKind.CARRIER)
    certificate = make.certificate(producer, quantity=Decimal("100"), product_name="紫甘蓝")
    sign_in(client, carrier)
    assert 'id="carried"' not in client.get("/batches?lang=en").get_data(as_text=True)
    ship_to(client, producer, certificate, market, quantity="60", carrier_org=str(carrier.org.id))

    page = client.get("/batches?lang=zh_CN").get_data(as_text=True)
    care = page[page.index('id="carried"') :]
    assert "紫甘蓝" in care and "60 千克" in care
    assert f"{producer.org.name} → {market.org.name}" in care
    assert f"kind=transporting&amp;code={certificate.trace_code}" in care
    client.post("/logout")

    sign_in(client, other_carrier)  # not named on the shipment: sees nothing of it
    assert "紫甘蓝" not in client.get("/batches?lang=en").get_data(as_text=True)
    client.post("/logout")

    assert accept(client, market, certificate).status_code == 201  # delivered at the gate
    sign_in(client, carrier)
    assert 'id="carried"' not in client.get("/batches?lang=en").get_data(as_text=True)
