"""``GET /api/v1/notifications`` and ``POST .../{id}/read``: an organisation's own
notifications, newest first, paged, in the reader's language; nobody else's."""

from __future__ import annotations

import pytest

from tests.api.test_custody_api import reject
from tests.api.test_events_api import handover_code
from traceapp.orgs.models import OrgKind

URL = "/api/v1/notifications"


def get(client, member, lang="en", **params):
    return client.get(URL, query_string=params, headers={**member.headers, "Accept-Language": lang})


def read(client, member, notification_id):
    return client.post(f"{URL}/{notification_id}/read", headers={**member.headers, "Accept-Language": "en"})


@pytest.fixture()
def told(client, make):
    """A producer told twice: its batch rejected at a market gate, then recalled."""
    producer, market, regulator = make.member(), make.member(OrgKind.MARKET), make.member(OrgKind.REGULATOR)
    certificate = make.certificate(producer)
    rejected = reject(client, market, certificate, handover_code=handover_code(client, producer, certificate))
    assert rejected.status_code == 201, rejected.json
    body = {"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_i"}
    assert client.post("/api/v1/recalls", json=body, headers=regulator.headers).status_code == 201
    return producer, market, regulator, certificate


def test_the_organisation_lists_what_happened_to_its_batches_newest_first(client, told):
    producer, market, _regulator, certificate = told
    answer = get(client, producer)
    assert answer.status_code == 200
    assert (answer.json["total"], answer.json["unread"], answer.json["page"]) == (2, 2, 1)
    recalled, rejected = answer.json["items"]
    assert (recalled["kind"], rejected["kind"]) == ("recalled", "rejected")
    assert rejected["title"] == "Rejected at a market gate: 大白菜"
    assert market.org.name in rejected["text"] and "有机磷" in rejected["text"]
    assert rejected["trace_code"] == certificate.trace_code and rejected["read"] is False
    assert rejected["certificate_id"] == str(certificate.id)


def test_the_words_follow_the_readers_language(client, told):
    producer = told[0]
    (recalled, _rejected) = get(client, producer, lang="zh-CN").json["items"]
    assert recalled["title"].startswith("召回") and "农残超标" in recalled["text"]


def test_marking_read_keeps_the_first_time_and_the_unread_filter_follows(client, told):
    producer = told[0]
    first = get(client, producer).json["items"][1]
    marked = read(client, producer, first["id"])
    assert marked.status_code == 200 and marked.json["read"] is True
    again = read(client, producer, first["id"])
    assert again.json["read_at"] == marked.json["read_at"]
    unread = get(client, producer, unread="true").json
    assert [n["kind"] for n in unread["items"]] == ["recalled"] and unread["unread"] == 1
    assert [n["id"] for n in get(client, producer, unread="false").json["items"]] == [first["id"]]


def test_pages_are_bounded_and_counted(client, told):
    producer = told[0]
    page = get(client, producer, page_size=1, page=2).json
    assert (page["total"], page["page_size"], len(page["items"])) == (2, 1, 1)
    assert page["items"][0]["kind"] == "rejected"


def test_another_organisations_token_reads_none_of_them_and_marks_none(client, told, make):
    producer, market, _regulator, _certificate = told
    mine = get(client, producer).json["items"][0]["id"]
    stranger = make.member()
    assert get(client, stranger).json["items"] == []
    for outsider in (stranger, market):
        refused = read(client, outsider, mine)
        assert refused.status_code == 404 and refused.mimetype == "application/problem+json"
    assert get(client, producer).json["unread"] == 2


def test_a_regulator_of_the_region_reads_the_gate_rejection(client, told):
    regulator = told[2]  # 420116, as the market and the batch's origin
    kinds = [n["kind"] for n in get(client, regulator).json["items"]]
    assert kinds == ["rejected"]


def test_a_token_without_the_read_scope_is_refused(client, told):
    producer = told[0]
    body = {"name": "gate only", "scopes": ["events"]}
    token = client.post("/api/v1/tokens", json=body, headers=producer.headers).json["token"]
    refused = client.get(URL, headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert refused.status_code == 403 and "read" in refused.json["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("unread", "maybe"), ("page", "0"), ("page_size", "101"), ("colour", "red")],
)
def test_a_bad_query_is_named(client, told, field, value):
    answer = get(client, told[0], **{field: value})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert [e["field"] for e in answer.json["errors"]] == [f"/{field}"]
