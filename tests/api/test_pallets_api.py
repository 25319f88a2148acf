"""Aggregating cases onto a pallet: the SSCC from the organisation's company prefix, bad input
named, other organisations' batches refused, replays answered once, the pallet's public answer,
the pallet label decoded with a real decoder, and the trace through the pallet."""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from tests.web.test_certificate_pages import sign_in
from traceapp import db
from traceapp.events import pallets
from traceapp.events.models import Event, EventKind
from traceapp.orgs import members
from traceapp.orgs.models import OrgKind

PREFIX = "0614141"


def with_prefix(app, make, prefix=PREFIX):
    member = make.member()
    with app.test_request_context():
        members.set_company_prefix(make.session, member.actor, prefix=prefix)
    make.session.commit()
    return member


def body(*cases, **extra):
    return {
        "event_id": str(uuid.uuid4()),
        "kind": "aggregating",
        "occurred_at": "2026-12-01T08:00:00+08:00",
        "cases": [{"trace_code": c.trace_code, "quantity": q, "unit": "kg"} for c, q in cases],
        **extra,
    }


def test_sscc_is_18_digits_with_its_check_digit_and_epc_uri():
    sscc = pallets.make_sscc(PREFIX, 1234567)
    assert sscc == "006141410012345675" or len(sscc) == 18
    assert pallets.is_valid_sscc(sscc)
    # GS1's own example: SSCC 106141411234567897 is (00) 1 0614141 123456789 7.
    assert pallets.check_digit("10614141123456789") == "7"
    assert pallets.sscc_urn("106141411234567897", 7) == "urn:epc:id:sscc:0614141.1123456789"
    with pytest.raises(ValueError):
        pallets.make_sscc(PREFIX, 10**9)


def test_aggregating_allocates_consecutive_ssccs_and_lists_the_cases(app, client, make):
    packer = with_prefix(app, make)
    a, b = make.certificate(packer), make.certificate(packer, gtin="10614141000415")
    first = client.post("/api/v1/events", json=body((a, "20"), (b, "30")), headers=packer.headers)
    assert first.status_code == 201, first.json
    sscc = first.json["details"]["sscc"]
    assert sscc == pallets.make_sscc(PREFIX, 1) and pallets.is_valid_sscc(sscc)
    assert first.json["biz_step"] == "packing"
    assert [(i["trace_code"], i["quantity"]) for i in first.json["items"]] == [
        (a.trace_code, "20"),
        (b.trace_code, "30"),
    ]
    second = client.post("/api/v1/events", json=body((a, "10")), headers=packer.headers)
    assert second.json["details"]["sscc"] == pallets.make_sscc(PREFIX, 2)
    # Its packer and a regulator read which batches are on it; a stranger's token gets 404:
    # SSCCs count up, so stepping through them must not list other organisations' trace codes.
    assert client.get(f"/api/v1/pallets/{sscc}").status_code == 401
    assert client.get(f"/api/v1/pallets/{sscc}", headers=make.member().headers).status_code == 404
    regulator = make.member(OrgKind.REGULATOR)
    for reader in (packer, regulator):
        page = client.get(f"/api/v1/pallets/{sscc}", headers=reader.headers)
        assert page.status_code == 200
        assert [c["trace_code"] for c in page.json["cases"]] == [a.trace_code, b.trace_code]
    assert page.json["sscc"] == sscc and page.json["parent_id"] == f"urn:epc:id:sscc:{PREFIX}.0000000001"


def test_the_public_pallet_page_lists_its_cases_without_javascript(app, client, make):
    packer = with_prefix(app, make)
    a = make.certificate(packer, product_name="红富士苹果")
    sscc = client.post("/api/v1/events", json=body((a, "5")), headers=packer.headers).json["details"]["sscc"]
    for path in (f"/p/{sscc}", f"/P/{sscc}"):  # a stranger: products and quantities, no codes
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "红富士苹果" in html and a.trace_code not in html
        assert "<script" not in html
    sign_in(client, packer)  # its packer sees each batch's code and page
    html = client.get(f"/p/{sscc}").get_data(as_text=True)
    assert f"/t/{a.trace_code}" in html
    assert client.get("/p/006141410000000019").status_code == 404
    assert client.get("/p/not-an-sscc").status_code == 404


def test_the_public_pallet_page_is_throttled_like_the_certificates_page(app, client, make):
    app.config["RATELIMIT_PUBLIC"] = "3 per minute"
    answers = [client.get("/p/006141410000000019").status_code for _ in range(5)]
    assert answers[:3] == [404, 404, 404] and answers[3:] == [429, 429]


def test_an_organisation_holding_a_batch_of_the_pallet_reads_it(app, client, make):
    from tests.api.test_events_api import ship_to

    packer, market = with_prefix(app, make), make.member(OrgKind.MARKET)
    a = make.certificate(packer)
    sscc = client.post("/api/v1/events", json=body((a, "5")), headers=packer.headers).json["details"]["sscc"]
    assert client.get(f"/api/v1/pallets/{sscc}", headers=market.headers).status_code == 404
    ship_to(client, packer, a, market, quantity="5")  # on its way to the market: it may read it
    assert client.get(f"/api/v1/pallets/{sscc}", headers=market.headers).status_code == 200


def test_a_replay_answers_the_same_pallet_and_allocates_nothing(app, client, make):
    packer = with_prefix(app, make)
    a = make.certificate(packer)
    sent = body((a, "5"))
    once = client.post("/api/v1/events", json=sent, headers=packer.headers)
    again = client.post("/api/v1/events", json=sent, headers=packer.headers)
    assert once.status_code == 201 and again.status_code == 200
    assert again.json["details"]["sscc"] == once.json["details"]["sscc"]
    nxt = client.post("/api/v1/events", json=body((a, "5")), headers=packer.headers)
    assert nxt.json["details"]["sscc"] == pallets.make_sscc(PREFIX, 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.pop("cases"), "cases"),
        (lambda b: b.update(cases=[]), "cases"),
        (lambda b: b["cases"][0].update(trace_code="NOSUCHCODE0000"), "/cases/0/trace_code"),
        (lambda b: b["cases"][0].update(quantity="-1"), "cases"),
        (lambda b: b["cases"][0].update(quantity="99999"), "/cases/0/quantity"),
        (lambda b: b["cases"][0].update(unit="piece"), "/cases/0/unit"),
        (lambda b: b["cases"].append(dict(b["cases"][0])), "/cases/1/trace_code"),
        (lambda b: b.update(to_org=str(uuid.uuid4())), "to_org"),
    ],
)
def test_bad_aggregations_are_refused_naming_the_field(app, client, make, change, field):
    packer = with_prefix(app, make)
    a = make.certificate(packer)
    sent = body((a, "5"))
    change(sent)
    response = client.post("/api/v1/events", json=sent, headers=packer.headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.get_data(as_text=True)


def test_another_organisations_cases_cannot_be_palletised(app, client, make):
    packer, other = with_prefix(app, make), make.member()
    theirs = make.certificate(other)
    response = client.post("/api/v1/events", json=body((theirs, "5")), headers=packer.headers)
    assert response.status_code == 409 and response.json["type"].endswith("not-holder")


def test_no_company_prefix_no_pallet(client, make):
    packer = make.member()
    a = make.certificate(packer)
    response = client.post("/api/v1/events", json=body((a, "5")), headers=packer.headers)
    assert response.status_code == 409 and response.json["type"].endswith("no-gs1-company-prefix")


def test_company_prefix_must_be_6_to_12_digits(app, make):
    member = make.member()
    from traceapp.errors import InvalidInput

    with app.test_request_context(), pytest.raises(InvalidInput):
        members.set_company_prefix(make.session, member.actor, prefix="12AB567")


@pytest.mark.parametrize("taken", [PREFIX, PREFIX + "0", PREFIX[:-1]])
def test_a_company_prefix_another_organisation_uses_or_overlaps_is_refused(app, make, taken):
    """Overlapping prefixes would allocate the same SSCCs (0614141 + 000000001 = 06141410 + 00000001)."""
    from traceapp.errors import InvalidInput

    with_prefix(app, make)
    other = make.member()
    with app.test_request_context(), pytest.raises(InvalidInput) as refused:
        members.set_company_prefix(make.session, other.actor, prefix=taken)
    assert [e.field.lstrip("/") for e in refused.value.errors] == ["gs1_company_prefix"]


def test_unknown_sscc_is_a_problem_404(client, make):
    headers = make.member().headers
    assert client.get("/api/v1/pallets/006141410000000019", headers=headers).status_code == 404
    bad = client.get("/api/v1/pallets/12345", headers=headers)
    assert bad.status_code in (404, 422) and bad.mimetype == "application/problem+json"


def test_pallet_label_decodes_to_the_sscc_and_our_pallet_url(app, client, make):
    packer = with_prefix(app, make)
    a = make.certificate(packer)
    sscc = client.post("/api/v1/events", json=body((a, "5")), headers=packer.headers).json["details"]["sscc"]
    for dpi in (203, 300):
        response = client.get(f"/api/v1/pallets/{sscc}/label.png?dpi={dpi}", headers=packer.headers)
        assert response.status_code == 200 and response.mimetype == "image/png"
        read = {str(r.format): r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))}
        texts = set(read.values())
        assert f"(00){sscc}" in texts
        assert any(t.upper().endswith(f"/P/{sscc}") for t in texts)
    pdf = client.get(f"/api/v1/pallets/{sscc}/label.pdf", headers=packer.headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_trace_goes_through_the_pallet(app, client, make):
    """A trace of a case's batch names the pallet; a recall of the pallet's SSCC recalls every
    batch on it (and what was made of them), and a recall of one batch names its pallet."""
    packer = with_prefix(app, make)
    a, b, c = make.certificate(packer), make.certificate(packer), make.certificate(packer)
    sent = body((a, "5"), (b, "6"))
    sscc = client.post("/api/v1/events", json=sent, headers=packer.headers).json["details"]["sscc"]
    trace = client.get(f"/api/v1/trace/{a.trace_code}", headers=packer.headers).json
    assert trace["pallets"] == [{"sscc": sscc, "trace_codes": [a.trace_code]}]
    assert client.get(f"/api/v1/trace/{c.trace_code}", headers=packer.headers).json["pallets"] == []
    recall = client.post(
        "/api/v1/recalls",
        json={"trace_codes": [f"(00){sscc}"], "reason": "农残超标", "severity": "class_ii"},
        headers=packer.headers,
    )
    assert recall.status_code == 201, recall.json
    assert sorted(recall.json["trace_codes"]) == sorted([a.trace_code, b.trace_code])
    assert recall.json["pallets"] == [sscc]
    # The batches on it are held: they cannot be packed again.
    again = client.post("/api/v1/events", json=body((b, "1")), headers=packer.headers)
    assert again.status_code == 409 and again.json["type"].endswith("batch-recalled")
    with db.transaction() as session:
        assert pallets.pallets_of(session, {c.id}) == []
        view = pallets.find_pallet(session, sscc)
        assert {case.certificate.id for case in view.cases} == {a.id, b.id}


def test_a_recall_of_one_batch_names_the_pallet_it_is_on(app, client, make):
    packer = with_prefix(app, make)
    a = make.certificate(packer)
    sscc = client.post("/api/v1/events", json=body((a, "5")), headers=packer.headers).json["details"]["sscc"]
    recall = client.post(
        "/api/v1/recalls",
        json={"trace_codes": [a.trace_code], "reason": "农残超标", "severity": "class_ii"},
        headers=packer.headers,
    )
    assert recall.status_code == 201 and recall.json["pallets"] == [sscc]


def test_the_epcis_journey_carries_the_aggregation_event(app, client, make):
    packer = with_prefix(app, make)
    a = make.certificate(packer, gtin="10614141000415")
    sscc = client.post("/api/v1/events", json=body((a, "5")), headers=packer.headers).json["details"]["sscc"]
    document = client.get(f"/api/v1/codes/{a.trace_code}/epcis", headers=packer.headers).json
    events = [e for e in document["epcisBody"]["eventList"] if e["type"] == "AggregationEvent"]
    assert len(events) == 1
    event = events[0]
    assert event["action"] == "ADD" and event["bizStep"] == "packing"
    assert event["parentID"] == pallets.sscc_urn(sscc, len(PREFIX))
    assert event["childQuantityList"][0]["epcClass"].startswith("https://id.gs1.org/01/10614141000415/10/")


def test_shipping_a_pallet_ships_each_batch_on_it_and_replays_safely(app, client, make):
    packer, market = with_prefix(app, make), make.member(OrgKind.MARKET)
    a, b = make.certificate(packer), make.certificate(packer)
    sscc = client.post("/api/v1/events", json=body((a, "20"), (b, "30")), headers=packer.headers).json[
        "details"
    ]["sscc"]
    ship = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-12-01T09:00:00+08:00",
        "to_org": str(market.org.id),
    }
    once = client.post(f"/api/v1/pallets/{sscc}/ship", json=ship, headers=packer.headers)
    assert once.status_code == 201, once.json
    shipped = [(e["items"][0]["trace_code"], e["items"][0]["quantity"]) for e in once.json["events"]]
    assert shipped == [(a.trace_code, "20"), (b.trace_code, "30")]
    assert all(e["kind"] == "shipping" and e["details"]["sscc"] == sscc for e in once.json["events"])
    again = client.post(f"/api/v1/pallets/{sscc}/ship", json=ship, headers=packer.headers)
    assert again.status_code == 200
    assert [e["id"] for e in again.json["events"]] == [e["id"] for e in once.json["events"]]
    # Nothing is half shipped: a stranger's attempt is refused as a whole.
    stranger = make.member()
    refused = client.post(
        f"/api/v1/pallets/{sscc}/ship", json={**ship, "event_id": str(uuid.uuid4())}, headers=stranger.headers
    )
    assert refused.status_code == 409
    bad = client.post(f"/api/v1/pallets/{sscc}/ship", json={**ship, "to_org": "x"}, headers=packer.headers)
    assert bad.status_code == 422 and "to_org" in bad.get_data(as_text=True)


def test_a_pallet_once_shipped_is_shipped_again_only_by_whoever_has_it_now(app, client, make):
    from tests.api.test_events_api import post

    packer, market, other = with_prefix(app, make), make.member(OrgKind.MARKET), make.member(OrgKind.MARKET)
    a = make.certificate(packer)  # the packer holds all of it; 20 go onto the pallet
    sscc = client.post("/api/v1/events", json=body((a, "20")), headers=packer.headers).json["details"]["sscc"]

    def ship(by, to):
        when = {
            "event_id": str(uuid.uuid4()),
            "occurred_at": "2026-12-01T09:00:00+08:00",
            "to_org": str(to.org.id),
        }
        return client.post(
            f"/api/v1/pallets/{sscc}/ship", json=when, headers={**by.headers, "Accept-Language": "en"}
        )

    assert ship(packer, market).status_code == 201
    # The packer still holds more of the batch, but the pallet has gone: a second shipment of it
    # would invent goods.
    again = ship(packer, other)
    assert again.status_code == 409 and again.json["type"].endswith("pallet-not-with-you"), again.json
    assert "does not have this pallet" in again.json["detail"]
    kinds = make.session.scalars(sa.select(Event.kind).where(Event.org_id == packer.org.id)).all()
    assert kinds.count(EventKind.SHIPPING) == 1
    received = post(client, market, kind="receiving", trace_code=a.trace_code, quantity="20", unit="kg")
    assert received.status_code == 201, received.json
    assert ship(market, other).status_code == 201  # the market has it now, and ships it on
