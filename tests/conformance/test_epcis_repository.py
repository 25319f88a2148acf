"""The EPCIS 2.0 repository at /epcis against GS1's own material in ../shared/conformance/epcis/.

Every example document is captured (or refused with the reason the standard gives) and every
captured event, queried back by its eventID, equals what was sent after JSON-LD expansion
(pyld, GS1's context served offline: nothing is fetched). Bad documents get the binding's
problems; answers validate against GS1's schema.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jsonschema
import pytest
import sqlalchemy as sa
from pyld import jsonld

from tests.jobs import run_queued
from traceapp.epcis.models import EpcisCapture, EpcisEvent
from traceapp.orgs.models import OrgKind

EPCIS_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "epcis"
EXAMPLES = sorted(p for p in (EPCIS_DIR / "examples").rglob("*.jsonld"))
#: Examples the standard itself refuses, and why.
REFUSED = {
    # JSON-LD 1.1 §4.1.11: GS1's context is @protected, and this one redefines its cbvmda prefix.
    "WithFullCombinationOfFields/transformation_event_all_possible_fields.jsonld": (
        "protected term redefinition"
    ),
}
CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def test_the_conformance_folder_holds_all_forty_examples():
    assert len(EXAMPLES) == 40


def _context() -> dict[str, Any]:
    return json.loads((EPCIS_DIR / "epcis-context.jsonld").read_text(encoding="utf-8"))


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    assert url in {CONTEXT_URL, "https://gs1.github.io/EPCIS/epcis-context.jsonld"}, url  # offline
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": _context(),
    }


def expand(value: Any) -> Any:
    return jsonld.expand(value, {"documentLoader": _loader})


def _validator() -> jsonschema.Validator:
    schema = json.loads((EPCIS_DIR / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def sent_events(document: dict[str, Any]) -> list[dict[str, Any]]:
    body = document["epcisBody"]
    events = body.get("eventList") or body["queryResults"]["resultsBody"]["eventList"]
    return [{"@context": document["@context"], **e} for e in events]


def _comparable(event: dict[str, Any]) -> Any:
    # The repository sets recordTime (EPCIS 2.0 §7.4.1) and names an event sent without an id
    # by its hash; everything else must come back as it was sent.
    return {k: v for k, v in event.items() if k not in ("recordTime", "eventID")}


def capture(client, member, document: Any, **headers: str):
    return client.post(
        "/epcis/capture",
        data=json.dumps(document),
        headers={**member.headers, "Content-Type": "application/ld+json", **headers},
    )


@pytest.fixture
def partner(make):
    return make.member(OrgKind.MARKET)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(EPCIS_DIR / "examples")))
def test_every_example_is_captured_and_queried_back_equal_after_expansion(client, partner, path):
    document = json.loads(path.read_text(encoding="utf-8"))
    name = str(path.relative_to(EPCIS_DIR / "examples"))
    response = capture(client, partner, document)
    if name in REFUSED:
        assert response.status_code == 400, response.json
        assert response.json["type"] == "epcisException:ValidationException"
        assert REFUSED[name] in response.json["detail"]
        return
    assert response.status_code == 202, response.json
    assert response.headers["Location"] == f"/epcis/capture/{response.json['captureID']}"
    job = client.get(response.headers["Location"], headers=partner.headers).json
    assert (job["running"], job["success"], job["errors"]) == (False, True, []), job
    for sent in sent_events(document):
        event_id = sent.get("eventID")
        if event_id is None:  # named by its hash: find it among the captured
            answer = client.get("/epcis/events?perPage=1000", headers=partner.headers).json
        else:
            answer = client.get(f"/epcis/events/{quote(event_id, safe='')}", headers=partner.headers).json
        _validator().validate(answer)
        returned = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        matches = [r for r in returned if expand(_comparable(r)) == expand(_comparable(sent))]
        assert matches, (name, event_id)
        assert matches[0]["eventID"].startswith(("ni:///", event_id or "ni:///"))


def test_a_replayed_document_is_a_no_op_success(client, dbsession, partner):
    document = json.loads((EPCIS_DIR / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    first = capture(client, partner, document)
    again = capture(client, partner, document)
    assert again.status_code == 202
    assert client.get(again.headers["Location"], headers=partner.headers).json["success"] is True
    assert first.json["captureID"] != again.json["captureID"]
    assert _stored(dbsession) == 2


def _stored(dbsession) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(EpcisEvent))


def test_an_event_id_reused_with_other_content_is_refused_and_nothing_of_the_document_is_stored(
    client, dbsession, partner
):
    document = json.loads((EPCIS_DIR / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    capture(client, partner, document)
    changed = copy.deepcopy(document)
    changed["epcisBody"]["eventList"][1]["bizStep"] = "storing"
    changed["epcisBody"]["eventList"][0]["eventID"] = "urn:uuid:6c3e4e1e-5a0b-4d1e-8c3b-1f0e2d3c4b5a"
    response = capture(client, partner, changed)
    assert response.status_code == 202
    job = client.get(response.headers["Location"], headers=partner.headers).json
    assert (job["running"], job["success"]) == (False, False)
    assert job["errors"][0]["type"] == "epcisException:ResourceAlreadyExistsException"
    assert job["errors"][0]["index"] == 1
    assert _stored(dbsession) == 2  # rollback: the new first event was not stored either


def test_with_proceed_the_other_events_are_stored(client, dbsession, partner):
    document = json.loads((EPCIS_DIR / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    capture(client, partner, document)
    changed = copy.deepcopy(document)
    changed["epcisBody"]["eventList"][1]["bizStep"] = "storing"
    changed["epcisBody"]["eventList"][0]["eventID"] = "urn:uuid:6c3e4e1e-5a0b-4d1e-8c3b-1f0e2d3c4b5a"
    response = capture(client, partner, changed, **{"GS1-Capture-Error-Behaviour": "proceed"})
    job = client.get(response.headers["Location"], headers=partner.headers).json
    assert (job["success"], job["captureErrorBehaviour"], len(job["errors"])) == (False, "proceed", 1)
    assert _stored(dbsession) == 3


def _document(**changes: Any) -> dict[str, Any]:
    document = json.loads((EPCIS_DIR / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    event = document["epcisBody"]["eventList"][0]
    for key, value in changes.items():
        event[key] = value
    return document


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["epcisBody"]["eventList"][0].pop("eventTime"), "/epcisBody/eventList/0"),
        (lambda d: d["epcisBody"]["eventList"][0].update(action="MOVE"), "/epcisBody/eventList/0/action"),
        (lambda d: d["epcisBody"]["eventList"][0].update(type="FooEvent"), "/epcisBody/eventList/0"),
        (
            lambda d: d["epcisBody"]["eventList"][0].update(bizStep="frobnicating"),
            "/epcisBody/eventList/0/bizStep",
        ),
        (
            lambda d: d["epcisBody"]["eventList"][0].update(epcList=["not a uri"]),
            "/epcisBody/eventList/0/epcList/0",
        ),
        (lambda d: d.update({"@context": ["https://example.com/other-context.jsonld"]}), "/@context"),
        (lambda d: d.update(type="Whatever"), "/type"),
    ],
    ids=[
        "no eventTime",
        "bad action",
        "unknown event type",
        "bare bizStep",
        "epc not a URI",
        "unknown context",
        "doc type",
    ],
)
def test_an_invalid_document_gets_the_binding_validation_problem_naming_where(
    client, dbsession, partner, change, field
):
    document = _document()
    change(document)
    response = capture(client, partner, document)
    assert response.status_code == 400, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "epcisException:ValidationException"
    assert response.json["errors"][0]["field"].startswith(field), response.json
    assert response.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert _stored(dbsession) == 0


def test_capture_refuses_bad_bodies_with_the_binding_problems(client, dbsession, partner, app):
    assert (
        client.post(
            "/epcis/capture", data="{}", headers={**partner.headers, "Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    broken = client.post(
        "/epcis/capture", data="{", headers={**partner.headers, "Content-Type": "application/json"}
    )
    assert (broken.status_code, broken.json["type"]) == (400, "epcisException:ValidationException")
    app.config["EPCIS_CAPTURE_MAX_EVENTS"] = 1
    too_many = capture(client, partner, _document())
    assert (too_many.status_code, too_many.json["type"]) == (
        413,
        "epcisException:CaptureLimitExceededException",
    )
    assert too_many.headers["GS1-EPCIS-Capture-Limit"] == "1"
    app.config["EPCIS_CAPTURE_MAX_BYTES"] = 100
    too_big = capture(client, partner, _document())
    assert too_big.status_code == 413
    bad = capture(client, partner, _document(), **{"GS1-Capture-Error-Behaviour": "ignore"})
    assert bad.status_code in (400, 413)
    assert _stored(dbsession) == 0


def test_capture_needs_a_token_and_a_capture_job_is_its_organisations_alone(client, partner, make):
    assert capture(client, type("M", (), {"headers": {}})(), _document()).status_code == 401
    response = capture(client, partner, _document())
    other = make.member(OrgKind.PRODUCER)
    stranger = client.get(response.headers["Location"], headers=other.headers)
    assert (stranger.status_code, stranger.json["type"]) == (404, "epcisException:NoSuchNameException")
    assert client.get("/epcis/capture", headers=other.headers).json == []
    assert len(client.get("/epcis/capture", headers=partner.headers).json) == 1


def test_an_organisation_sees_only_the_events_it_captured_and_a_regulator_sees_all(client, partner, make):
    capture(client, partner, _document())
    other, regulator = make.member(OrgKind.PRODUCER), make.member(OrgKind.REGULATOR)

    def count(member) -> int:
        answer = client.get("/epcis/events", headers=member.headers).json
        return len(answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"])

    assert (count(partner), count(other), count(regulator)) == (2, 0, 2)
    event_id = quote(_document()["epcisBody"]["eventList"][0]["eventID"], safe="")
    assert client.get(f"/epcis/events/{event_id}", headers=other.headers).status_code == 404


def test_a_large_document_is_captured_by_a_worker_all_or_nothing(client, dbsession, partner, app):
    app.config["EPCIS_CAPTURE_INLINE_EVENTS"] = 1
    response = capture(client, partner, _document())
    assert response.status_code == 202
    assert response.json["running"] is True
    assert _stored(dbsession) == 0
    run_queued(app)
    job = client.get(response.headers["Location"], headers=partner.headers).json
    assert (job["running"], job["success"]) == (False, True)
    assert _stored(dbsession) == 2
    pending = sa.select(EpcisCapture.pending).where(EpcisCapture.capture_id == job["captureID"])
    assert dbsession.scalar(pending) is None


def test_a_single_event_is_captured_at_once_and_a_replay_answers_200(client, dbsession, partner):
    event = {"@context": CONTEXT_URL, **_document()["epcisBody"]["eventList"][0]}
    first = client.post("/epcis/events", json=event, headers=partner.headers)
    assert first.status_code == 201, first.json
    assert unquote(first.headers["Location"]) == f"/epcis/events/{event['eventID']}"
    assert client.post("/epcis/events", json=event, headers=partner.headers).status_code == 200
    changed = {**event, "bizStep": "receiving"}
    refused = client.post("/epcis/events", json=changed, headers=partner.headers)
    assert (refused.status_code, refused.json["type"]) == (
        409,
        "epcisException:ResourceAlreadyExistsException",
    )
    assert _stored(dbsession) == 1


# -- eventIDs are the capturing organisation's -------------------------------------------------


def test_two_organisations_capturing_the_same_example_each_keep_their_own_copy(
    client, dbsession, partner, make
):
    other, regulator = make.member(OrgKind.PRODUCER), make.member(OrgKind.REGULATOR)
    document = _document()
    first = capture(client, other, document)  # the partner's events, captured by another first
    assert client.get(first.headers["Location"], headers=other.headers).json["success"] is True
    mine = capture(client, partner, document)
    job = client.get(mine.headers["Location"], headers=partner.headers).json
    assert (job["success"], job["errors"]) == (True, []), job
    assert _stored(dbsession) == 4
    event_id = quote(document["epcisBody"]["eventList"][0]["eventID"], safe="")
    for member in (partner, other):
        answer = client.get(f"/epcis/events/{event_id}", headers=member.headers).json
        assert len(answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1
    copies = client.get(f"/epcis/events/{event_id}", headers=regulator.headers)
    assert copies.status_code == 200
    assert len(copies.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2


def test_a_replay_never_answers_another_organisations_event(client, dbsession, partner, make):
    other = make.member(OrgKind.PRODUCER)
    event = {"@context": CONTEXT_URL, **_document()["epcisBody"]["eventList"][0]}
    assert client.post("/epcis/events", json=event, headers=partner.headers).status_code == 201
    secret = {**event, "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"}}
    client.post("/epcis/events", json=secret, headers=other.headers)
    # the same eventID, other content: the partner's own copy decides (409), not the other's
    changed = {**event, "bizStep": "receiving"}
    refused = client.post("/epcis/events", json=changed, headers=partner.headers)
    assert refused.status_code == 409
    # another organisation's first capture of an eventID is its own event, not a replay of ours
    third = make.member(OrgKind.PRODUCER)
    own = client.post("/epcis/events", json=changed, headers=third.headers)
    assert own.status_code == 201, own.json
    assert "0614141.00888.0" not in json.dumps(own.json)
    replay = client.post("/epcis/events", json=event, headers=partner.headers)
    assert replay.status_code == 200 and "0614141.00888.0" not in json.dumps(replay.json)


# -- the context rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ([CONTEXT_URL, {f"p{i}": f"https://example.com/{i}/" for i in range(3000)}], "/@context"),
        ([CONTEXT_URL, {"ex": {"@context": {"a": "https://example.com/a"}}}], "/@context"),
        ([CONTEXT_URL, {"@vocab": "https://example.com/"}], "/@context"),
    ],
    ids=["3000 terms", "scoped", "keyword"],
)
def test_a_costly_inline_context_is_refused_at_once(client, dbsession, partner, app, context, field):
    app.config["EPCIS_CAPTURE_MAX_BYTES"] = 4_000_000
    document = _document()
    document["@context"] = context
    response = capture(client, partner, document)
    assert response.status_code == 400, response.json
    assert response.json["errors"][0]["field"] == field
    assert _stored(dbsession) == 0


def test_an_events_own_remote_context_is_a_400_not_a_500(client, dbsession, partner):
    document = _document()
    for event in document["epcisBody"]["eventList"]:
        event.pop("eventID")
    document["epcisBody"]["eventList"][1]["@context"] = "https://evil.example/ctx.jsonld"
    response = capture(client, partner, document)
    assert response.status_code == 400, response.json
    assert response.json["errors"][0]["field"] == "/epcisBody/eventList/1/@context"
    single = {"@context": ["https://evil.example/ctx.jsonld"], **_document()["epcisBody"]["eventList"][0]}
    assert client.post("/epcis/events", json=single, headers=partner.headers).status_code == 400
    assert _stored(dbsession) == 0


# -- values the repository cannot store -----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"eventTime": "0001-01-01T00:00:00+14:00"}, "/epcisBody/eventList/0/eventTime"),
        ({"eventTime": "9999-12-31T23:59:59-14:00"}, "/epcisBody/eventList/0/eventTime"),
        ({"eventID": "urn:uuid:" + "a" * 600}, "/epcisBody/eventList/0/eventID"),
        ({"bizStep": "https://example.com/" + "s" * 600}, "/epcisBody/eventList/0/bizStep"),
        ({"readPoint": {"id": "https://example.com/" + "r" * 600}}, "/epcisBody/eventList/0/readPoint/id"),
    ],
    ids=["year 1 +14", "year 9999 -14", "long eventID", "long bizStep", "long readPoint"],
)
def test_a_value_the_repository_cannot_store_is_a_400_naming_it(client, dbsession, partner, changes, field):
    response = capture(client, partner, _document(**changes))
    assert response.status_code == 400, response.json
    assert response.json["errors"][0]["field"] == field
    assert _stored(dbsession) == 0


def test_a_large_capture_whose_events_cannot_be_read_fails_instead_of_running_for_ever(
    client, dbsession, partner, app
):
    app.config["EPCIS_CAPTURE_INLINE_EVENTS"] = 1
    response = capture(client, partner, _document())
    assert response.json["running"] is True
    # (events stored by an earlier version's checks, which let a year-1 time through)
    row = dbsession.scalar(
        sa.select(EpcisCapture).where(EpcisCapture.capture_id == response.json["captureID"])
    )
    broken = copy.deepcopy(row.pending)
    broken[1]["eventTime"] = "0001-01-01T00:00:00+14:00"
    dbsession.execute(sa.update(EpcisCapture).where(EpcisCapture.id == row.id).values(pending=broken))
    dbsession.commit()
    run_queued(app)
    job = client.get(response.headers["Location"], headers=partner.headers).json
    assert (job["running"], job["success"]) == (False, False), job
    assert job["errors"] and job["errors"][0]["detail"]
    assert _stored(dbsession) == 0


def test_a_large_capture_fails_after_the_jobs_last_attempt_instead_of_running_for_ever(
    client, dbsession, partner, app, tmp_path
):
    app.config["EPCIS_CAPTURE_INLINE_EVENTS"] = 1
    response = capture(client, partner, _document())
    assert response.json["running"] is True
    # GS1's files gone before the worker runs (every attempt fails the same way)
    app.extensions.pop("traceapp.epcis.artefacts", None)
    app.config["EPCIS_ARTEFACTS_DIR"] = str(tmp_path)
    run_queued(app)
    job = client.get(response.headers["Location"], headers=partner.headers).json
    assert (job["running"], job["success"]) == (False, False), job
    assert _stored(dbsession) == 0
