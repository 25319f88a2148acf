"""EPCIS rules without a database: the event hash, the indexed facts, the query parameters."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from traceapp.epcis import params, standard
from traceapp.epcis.errors import QueryParameterProblem

EPCIS_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "epcis"
ARTEFACTS = standard.Artefacts(EPCIS_DIR)


def example(name: str) -> list[dict]:
    return standard.events_of(json.loads((EPCIS_DIR / "examples" / name).read_text(encoding="utf-8")))


def test_the_hash_is_gs1s_named_information_uri():
    (first, _second) = standard.event_hashes(ARTEFACTS, example("Example_9.6.1-ObjectEvent.jsonld"))
    assert first.startswith("ni:///sha-256;") and first.endswith("?ver=CBV2.0")
    assert len(first.split(";")[1].split("?")[0]) == 64


def test_the_hash_ignores_the_event_id_the_record_time_and_the_order_of_keys():
    event = example("Example_9.6.1-ObjectEvent.jsonld")[0]
    other = {k: event[k] for k in reversed(list(event))}
    other["eventID"] = "urn:uuid:6c3e4e1e-5a0b-4d1e-8c3b-1f0e2d3c4b5a"
    other["recordTime"] = "2030-01-01T00:00:00Z"
    assert standard.event_hashes(ARTEFACTS, [event]) == standard.event_hashes(ARTEFACTS, [other])


def test_the_hash_changes_with_what_happened():
    event = example("Example_9.6.1-ObjectEvent.jsonld")[0]
    moved = copy.deepcopy(event)
    moved["readPoint"]["id"] = "urn:epc:id:sgln:0614141.07346.9999"
    assert standard.event_hashes(ARTEFACTS, [event]) != standard.event_hashes(ARTEFACTS, [moved])


def test_a_comment_does_not_change_the_hash_as_gs1s_two_9_6_1_examples_show():
    plain = standard.event_hashes(ARTEFACTS, example("Example_9.6.1-ObjectEvent.jsonld"))
    commented = standard.event_hashes(ARTEFACTS, example("Example_9.6.1-with-comment.jsonld"))
    assert plain[1] == commented[1]


def test_an_event_hashed_with_its_document_or_alone_gets_one_hash():
    events = example("WithSensorData/SensorDataExample1.jsonld") + example("Example_9.6.1-ObjectEvent.jsonld")
    together = standard.event_hashes(ARTEFACTS, events)
    assert together == [standard.event_hashes(ARTEFACTS, [e])[0] for e in events]


def test_where_gs1s_generator_fails_the_fallback_hash_is_stable_and_marked():
    events = example("Example-TransactionEvents-2020_07_03y.jsonld")
    hashes = standard.event_hashes(ARTEFACTS, events)
    assert all(h.endswith("?ver=traceapp-expanded-1") for h in hashes)
    assert hashes == standard.event_hashes(ARTEFACTS, copy.deepcopy(events))
    assert hashes[0] != hashes[1]


def test_the_generator_leaves_the_events_it_hashes_as_they_were():
    events = example("WithSensorData/SensorDataExample1.jsonld")
    before = copy.deepcopy(events)
    standard.event_hashes(ARTEFACTS, events)
    assert events == before


def test_a_remote_context_other_than_gs1s_is_never_fetched():
    document = json.loads((EPCIS_DIR / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    document["@context"] = ["https://example.com/ctx.jsonld"]
    with pytest.raises(standard.InvalidDocument) as refused:
        standard.validate_document(ARTEFACTS, document)
    assert refused.value.pointer == "/@context"


@pytest.mark.parametrize(
    ("value", "short"),
    [
        ("shipping", "shipping"),
        ("https://ref.gs1.org/cbv/BizStep-shipping", "shipping"),
        ("urn:epcglobal:cbv:bizstep:shipping", "shipping"),
        ("https://example.com/steps/pressing", "https://example.com/steps/pressing"),
    ],
)
def test_a_cbv_value_is_indexed_by_its_bare_word_whichever_spelling(value, short):
    assert standard.cbv_short("bizStep", value) == short


def test_the_facts_name_every_identifier_where_it_stands():
    (event,) = example("WithFullCombinationOfFields/aggregation_event_all_possible_fields.jsonld")
    facts = standard.facts_of(event)
    roles = {role for role, _value in facts.identifiers}
    assert {"parent", "child", "class"} <= roles
    assert facts.event_time.tzinfo is not None and facts.event_time.utcoffset().total_seconds() == 0


def test_a_time_without_an_offset_is_refused():
    with pytest.raises(ValueError):
        standard.parse_time("2026-11-21T08:00:00")
    assert standard.parse_time("2026-11-21T08:00:00+08:00") == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def test_a_next_page_token_resumes_only_its_own_query():
    query = params.parse({"EQ_bizStep": ["shipping"]}, secret="s", org="A")
    token = params.next_page_token(query, ("2026-11-21T00:00:00+00:00", 7), secret="s", org="A")
    resumed = params.parse({"EQ_bizStep": ["shipping"], "nextPageToken": [token]}, secret="s", org="A")
    assert resumed.after == ("2026-11-21T00:00:00+00:00", 7)
    with pytest.raises(QueryParameterProblem):
        params.parse({"EQ_bizStep": ["shipping"], "nextPageToken": [token]}, secret="another secret", org="A")
    with pytest.raises(QueryParameterProblem):
        params.parse({"EQ_bizStep": ["receiving"], "nextPageToken": [token]}, secret="s", org="A")
    with pytest.raises(QueryParameterProblem):  # another organisation's caller
        params.parse({"EQ_bizStep": ["shipping"], "nextPageToken": [token]}, secret="s", org="B")


def test_a_next_page_token_reveals_no_row_key():
    query = params.parse({}, secret="s", org="A")
    token = params.next_page_token(query, ("2026-11-21T00:00:00+00:00", 987654321), secret="s", org="A")
    import base64

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"987654321" not in raw and "987654321" not in token
    assert b"2026-11-21" not in raw


def test_bizstep_spellings_are_one_query():
    short = params.parse({"EQ_bizStep": ["shipping"]}, secret="s", org="A")
    long = params.parse({"EQ_bizStep": ["https://ref.gs1.org/cbv/BizStep-shipping"]}, secret="s", org="A")
    assert short == long


def _example_document() -> dict:
    return json.loads((EPCIS_DIR / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_text())


@pytest.mark.parametrize(
    "context",
    [
        {"big": "x" * 5000},  # too many bytes
        {f"p{i}": f"https://example.com/{i}/" for i in range(65)},  # too many terms
        {"@vocab": "https://example.com/"},  # a keyword
        {"ex": {"@context": {"a": "https://example.com/a"}}},  # scoped context
        {"ex": {"@id": "https://example.com/", "@container": "@list"}},  # beyond @id/@type
        {"ex": 7},  # not a string
        [["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]],  # nested list
        None,
    ],
)
def test_an_inline_context_beyond_a_small_prefix_map_is_refused_before_any_expansion(context, monkeypatch):
    document = _example_document()
    document["@context"] = [standard.CONTEXT_URL, context]
    monkeypatch.setattr(ARTEFACTS, "expand", lambda value: pytest.fail("expanded"))
    with pytest.raises(standard.InvalidDocument) as refused:
        standard.validate_document(ARTEFACTS, document)
    assert refused.value.pointer == "/@context"


def test_a_small_prefix_map_and_gs1s_rail_style_definitions_pass():
    document = _example_document()
    document["@context"] = [
        standard.CONTEXT_URL,
        {"example": "http://ns.example.com/epcis/", "ex:n": {"@id": "ex:n", "@type": "xsd:integer"}},
    ]
    standard.validate_document(ARTEFACTS, document)


def test_an_events_own_remote_context_is_refused_like_the_documents():
    document = _example_document()
    document["epcisBody"]["eventList"][1]["@context"] = "https://evil.example/ctx.jsonld"
    with pytest.raises(standard.InvalidDocument) as refused:
        standard.validate_document(ARTEFACTS, document)
    assert refused.value.pointer == "/epcisBody/eventList/1/@context"


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_time_outside_the_years_1_to_9999_in_utc_is_a_value_error(value):
    with pytest.raises(ValueError):
        standard.parse_time(value)


def test_an_event_time_out_of_range_or_a_value_too_long_names_the_field():
    document = _example_document()
    document["epcisBody"]["eventList"][1]["eventTime"] = "0001-01-01T00:00:00+14:00"
    with pytest.raises(standard.InvalidDocument) as refused:
        standard.validate_document(ARTEFACTS, document)
    assert refused.value.pointer == "/epcisBody/eventList/1/eventTime"
    document = _example_document()
    document["epcisBody"]["eventList"][0]["eventID"] = "urn:uuid:" + "a" * 500
    with pytest.raises(standard.InvalidDocument) as refused:
        standard.validate_document(ARTEFACTS, document)
    assert refused.value.pointer == "/epcisBody/eventList/0/eventID"


@pytest.mark.parametrize("value", ["²", "１０", "-1", "1.5"])
def test_per_page_takes_ascii_digits_only(value):
    with pytest.raises(QueryParameterProblem):
        params.parse({"perPage": [value]}, secret="s", org="A")


def test_a_path_filter_is_not_widened_by_the_query():
    with pytest.raises(QueryParameterProblem) as refused:
        params.parse({"EQ_bizStep": ["receiving"]}, secret="s", org="A", fixed={"biz_steps": ("shipping",)})
    assert refused.value.errors[0].field == "/EQ_bizStep"
