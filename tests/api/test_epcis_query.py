"""Querying the EPCIS repository: the standard parameters, paging, dimensions, discovery."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jsonschema
import pytest

from traceapp.orgs.models import OrgKind

EPCIS_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "epcis"
CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"example": "http://ns.example.com/epcis/"},
]
STEPS = ["shipping", "receiving", "storing", "shipping", "https://ref.gs1.org/cbv/BizStep-receiving"]


def _event(i: int) -> dict[str, Any]:
    event = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:00000000-0000-4000-8000-00000000000{i}",
        "action": "OBSERVE" if i % 2 else "ADD",
        "bizStep": STEPS[i],
        "disposition": "in_transit",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{2000 + i}"],
        "eventTime": f"2026-11-2{i}T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "readPoint": {"id": f"urn:epc:id:sgln:0614141.00777.{i}"},
        "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"},
    }
    if i == 4:
        event["type"] = "AggregationEvent"
        event["parentID"] = "urn:epc:id:sscc:0614141.1234567890"
        event["childEPCs"] = event.pop("epcList")
        event["childQuantityList"] = [
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200}
        ]
    return event


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-25T08:00:00Z",
        "epcisBody": {"eventList": events},
    }


@pytest.fixture
def partner(make, client):
    member = make.member(OrgKind.MARKET)
    response = client.post(
        "/epcis/capture", json=document([_event(i) for i in range(5)]), headers=member.headers
    )
    assert response.status_code == 202, response.json
    return member


def events(client, member, url: str) -> list[dict[str, Any]]:
    response = client.get(url, headers=member.headers)
    assert response.status_code == 200, response.json
    schema = json.loads((EPCIS_DIR / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(response.json)
    return response.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def ids(found: list[dict[str, Any]]) -> list[int]:
    return sorted(int(e["eventID"][-1]) for e in found)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [0, 1, 2, 3, 4]),
        ("eventType=AggregationEvent", [4]),
        ("eventType=ObjectEvent|AggregationEvent", [0, 1, 2, 3, 4]),
        ("EQ_action=ADD", [0, 2, 4]),
        ("EQ_bizStep=shipping", [0, 3]),
        ("EQ_bizStep=https://ref.gs1.org/cbv/BizStep-receiving", [1, 4]),
        ("EQ_bizStep=urn:epcglobal:cbv:bizstep:storing", [2]),
        ("EQ_disposition=in_transit", [0, 1, 2, 3, 4]),
        ("EQ_readPoint=urn:epc:id:sgln:0614141.00777.2", [2]),
        ("EQ_bizLocation=urn:epc:id:sgln:0614141.00888.0", [0, 1, 2, 3, 4]),
        ("GE_eventTime=2026-11-22T08:00:00%2B08:00", [2, 3, 4]),
        ("LT_eventTime=2026-11-22T00:00:00Z", [0, 1]),
        ("GE_eventTime=2026-11-21T00:00:00Z&LT_eventTime=2026-11-23T00:00:00Z", [1, 2]),
        ("GE_recordTime=2000-01-01T00:00:00Z", [0, 1, 2, 3, 4]),
        ("LT_recordTime=2000-01-01T00:00:00Z", []),
        ("MATCH_epc=urn:epc:id:sgtin:0614141.107346.2003", [3]),
        ("MATCH_epc=urn:epc:id:sgtin:0614141.107346.2004", [4]),  # childEPCs
        ("MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*", [0, 1, 2, 3, 4]),
        ("MATCH_parentID=urn:epc:id:sscc:0614141.1234567890", [4]),
        ("MATCH_anyEPC=urn:epc:id:sscc:0614141.1234567890", [4]),
        ("MATCH_epcClass=urn:epc:class:lgtin:4012345.012345.998877", [4]),
        ("EQ_eventID=urn:uuid:00000000-0000-4000-8000-000000000001", [1]),
        ("EQ_bizStep=shipping&EQ_action=ADD", [0]),
    ],
)
def test_each_standard_parameter_filters_the_events(client, partner, query, expected):
    assert ids(events(client, partner, f"/epcis/events?{query}")) == expected


def test_events_come_in_event_time_order_newest_first_unless_asked(client, partner):
    newest = events(client, partner, "/epcis/events")
    oldest = events(client, partner, "/epcis/events?orderBy=eventTime&orderDirection=ASC")
    assert [e["eventID"][-1] for e in newest] == list("43210")
    assert [e["eventID"][-1] for e in oldest] == list("01234")


def test_paging_follows_the_next_link_through_every_event_exactly_once(client, partner):
    url, seen = "/epcis/events?perPage=2&EQ_disposition=in_transit&orderDirection=ASC", []
    while url:
        response = client.get(url, headers=partner.headers)
        seen += [
            e["eventID"][-1] for e in response.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        ]
        link = response.headers.get("Link")
        url = re.match(r"<http://[^/]+(.*)>; rel=\"next\"", link).group(1) if link else None
    assert seen == list("01234")


def _next_token(client, partner) -> str:
    link = client.get("/epcis/events?perPage=2", headers=partner.headers).headers["Link"]
    return re.search(r"nextPageToken=([^&>]+)", link).group(1)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("EQ_colour=red", "EQ_colour"),
        ("GE_eventTime=yesterday", "GE_eventTime"),
        ("GE_eventTime=2026-11-22T08:00:00", "GE_eventTime"),
        ("perPage=0", "perPage"),
        ("perPage=100000", "perPage"),
        ("orderBy=colour", "orderBy"),
        ("orderDirection=UP", "orderDirection"),
        ("eventType=FooEvent", "eventType"),
        ("EQ_action=MOVE", "EQ_action"),
        ("EQ_bizStep=", "EQ_bizStep"),
        ("perPage=2&perPage=3", "perPage"),
        ("nextPageToken=forged", "nextPageToken"),
        ("nextPageToken=%E4%BC%AA", "nextPageToken"),
        ("perPage=%C2%B2", "perPage"),
        ("perPage=%EF%BC%91%EF%BC%90", "perPage"),
        ("GE_eventTime=9999-12-31T23:59:59-14:00", "GE_eventTime"),
        ("LT_recordTime=0001-01-01T00:00:00%2B14:00", "LT_recordTime"),
        ("EQ_eventID=urn:uuid:" + "a" * 600, "EQ_eventID"),
        ("MATCH_epc=urn:epc:id:sgtin:" + "1" * 600, "MATCH_epc"),
        ("EQ_bizStep=%00", "EQ_bizStep"),
    ],
)
def test_a_bad_parameter_gets_the_query_parameter_problem_naming_it(client, partner, query, parameter):
    response = client.get(f"/epcis/events?{query}", headers=partner.headers)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "epcisException:QueryParameterException"
    assert response.json["errors"][0]["field"] == f"/{parameter}"


def test_a_next_page_token_is_tamper_proof_and_bound_to_its_query(client, partner):
    token = _next_token(client, partner)
    ok = client.get(f"/epcis/events?perPage=2&nextPageToken={token}", headers=partner.headers)
    assert ok.status_code == 200
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    bad = client.get(f"/epcis/events?perPage=2&nextPageToken={tampered}", headers=partner.headers)
    assert (bad.status_code, bad.json["errors"][0]["field"]) == (400, "/nextPageToken")
    moved = client.get(
        f"/epcis/events?perPage=2&EQ_action=ADD&nextPageToken={token}", headers=partner.headers
    )
    assert (moved.status_code, moved.json["errors"][0]["field"]) == (400, "/nextPageToken")


def test_dimensions_list_the_values_and_their_events(client, partner):
    def get(url: str) -> Any:
        response = client.get(url, headers=partner.headers)
        assert response.status_code == 200, (url, response.json)
        return response.json

    assert get("/epcis/eventTypes") == [
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    ]
    assert get("/epcis/bizSteps") == ["receiving", "shipping", "storing"]
    assert get("/epcis/dispositions") == ["in_transit"]
    assert get("/epcis/bizLocations") == ["urn:epc:id:sgln:0614141.00888.0"]
    assert len(get("/epcis/readPoints")) == 5
    assert "urn:epc:id:sscc:0614141.1234567890" in get("/epcis/epcs")
    assert get("/epcis/bizSteps/shipping") == ["events"]
    assert ids(events(client, partner, "/epcis/bizSteps/shipping/events")) == [0, 3]
    assert ids(events(client, partner, "/epcis/eventTypes/AggregationEvent/events")) == [4]
    assert ids(events(client, partner, "/epcis/dispositions/in_transit/events?EQ_action=ADD")) == [0, 2, 4]
    rp = quote("urn:epc:id:sgln:0614141.00777.1", safe="")
    assert ids(events(client, partner, f"/epcis/readPoints/{rp}/events")) == [1]
    epc = quote("urn:epc:id:sgtin:0614141.107346.2002", safe="")
    assert ids(events(client, partner, f"/epcis/epcs/{epc}/events")) == [2]
    unknown = client.get("/epcis/eventTypes/FooEvent/events", headers=partner.headers)
    assert (unknown.status_code, unknown.json["type"]) == (404, "epcisException:NoSuchNameException")


def test_a_dimension_lists_only_what_the_caller_may_see(client, partner, make):
    other = make.member(OrgKind.PRODUCER)
    assert client.get("/epcis/bizSteps", headers=other.headers).json == []
    assert client.get("/epcis/epcs", headers=other.headers).json == []


@pytest.mark.parametrize(
    "path",
    [
        "/epcis/",
        "/epcis/capture",
        "/epcis/events",
        "/epcis/eventTypes",
        "/epcis/bizSteps",
        "/epcis/dispositions",
        "/epcis/readPoints",
        "/epcis/bizLocations",
        "/epcis/epcs",
        "/epcis/bizSteps/shipping/events",
    ],
)
def test_every_path_answers_with_the_versions_and_options_discovery(client, partner, path):
    answer = client.get(path, headers=partner.headers)
    assert answer.status_code == 200, answer.json
    assert answer.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert answer.headers["GS1-CBV-Version"] == "2.0.0"
    assert "GS1-Extensions" in answer.headers
    options = client.options(path)
    assert options.status_code == 204
    assert "GET" in options.headers["Allow"] and "OPTIONS" in options.headers["Allow"]
    assert options.headers["GS1-EPCIS-Max"] == "2.0.0"


def test_capture_discovery_states_the_limits_and_behaviours(client):
    options = client.options("/epcis/capture")
    assert options.headers["GS1-EPCIS-Capture-Limit"] == "10000"
    assert int(options.headers["GS1-EPCIS-Capture-File-Size-Limit"]) > 0
    assert options.headers["GS1-Capture-Error-Behaviour"] == "rollback, proceed"
    assert "POST" in options.headers["Allow"]


@pytest.mark.parametrize("path", ["/epcis/events", "/epcis/bizSteps", "/epcis/capture", "/epcis/eventTypes"])
def test_every_read_needs_a_token(client, path):
    response = client.get(path)
    assert (response.status_code, response.json["type"]) == (401, "epcisException:SecurityException")
    bad = client.get(path, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_an_unknown_path_under_epcis_is_a_problem_not_a_page(client):
    response = client.get("/epcis/nowhere/at/all")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_a_token_needs_the_events_scope_to_capture_and_read_to_query(client, make, dbsession):
    from traceapp.epcis.models import EpcisEvent

    member = make.member(OrgKind.MARKET)
    read_only = client.post(
        "/api/v1/tokens",
        json={"name": "erp", "scopes": ["read"]},
        headers={**member.headers, "Accept-Language": "en"},
    ).json["token"]
    events_only = client.post(
        "/api/v1/tokens", json={"name": "erp", "scopes": ["events"]}, headers=member.headers
    ).json["token"]
    refused = client.post(
        "/epcis/capture", json=document([_event(0)]), headers={"Authorization": f"Bearer {read_only}"}
    )
    assert (refused.status_code, refused.json["type"]) == (403, "epcisException:SecurityException")
    assert "events" in refused.json["detail"]
    assert dbsession.query(EpcisEvent).count() == 0
    ok = client.post(
        "/epcis/capture", json=document([_event(0)]), headers={"Authorization": f"Bearer {events_only}"}
    )
    assert ok.status_code == 202
    assert client.get("/epcis/events", headers={"Authorization": f"Bearer {events_only}"}).status_code == 403
    assert client.get("/epcis/events", headers={"Authorization": f"Bearer {read_only}"}).status_code == 200


def test_a_path_filter_is_never_widened_by_the_query(client, partner):
    only = events(client, partner, "/epcis/bizSteps/shipping/events")
    response = client.get("/epcis/bizSteps/shipping/events?EQ_bizStep=receiving", headers=partner.headers)
    assert (response.status_code, response.json["errors"][0]["field"]) == (400, "/EQ_bizStep")
    typed = client.get(
        "/epcis/eventTypes/ObjectEvent/events?eventType=AggregationEvent", headers=partner.headers
    )
    assert (typed.status_code, typed.json["errors"][0]["field"]) == (400, "/eventType")
    assert all(e.get("bizStep", "").endswith("shipping") for e in only)


def test_a_next_page_token_is_its_organisations_alone_and_hides_the_row_key(client, partner, make):
    token = _next_token(client, partner)
    other = make.member(OrgKind.PRODUCER)
    client.post("/epcis/capture", json=document([_event(i) for i in range(5)]), headers=other.headers)
    moved = client.get(f"/epcis/events?perPage=2&nextPageToken={token}", headers=other.headers)
    assert (moved.status_code, moved.json["errors"][0]["field"]) == (400, "/nextPageToken")
    import base64

    raw = base64.urlsafe_b64decode(unquote(token) + "=" * (-len(unquote(token)) % 4))
    assert b"event_time" not in raw and b'"a"' not in raw


def test_a_nul_in_a_path_is_a_problem_not_a_500(client, partner):
    assert client.get("/epcis/events/urn%00x", headers=partner.headers).status_code == 404
    assert client.get("/epcis/bizSteps/ship%00/events", headers=partner.headers).status_code == 404
    assert client.get("/epcis/epcs/urn%00x/events", headers=partner.headers).status_code == 404
