"""Every GS1 Digital Link / AI element-string vector in ../shared/conformance/digital-link.

The vectors were extracted from the unit tests of GS1's reference Syntax Engine (see SOURCES.md
there); they are read in place, never copied (their licence asks for the attribution kept there).
Each record runs with the engine options it names (traceapp.gs1.Options offers them all); a
skipped one says why. The counts of pass/skip/fail are printed at the end of the session
(tests/conftest.py, ``pytest_terminal_summary``).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from traceapp import gs1
from traceapp.gs1 import STRICT, GS1Error, Options

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "digital-link"
FILES = (
    "dl-uri-parse-cases.jsonl",
    "dl-uri-generate-cases.jsonl",
    "dl-uri-escaping-cases.jsonl",
    "dl-path-key-qualifier-sequences.jsonl",
    "ai-element-string-cases.jsonl",
)
ENGINE_OPTIONS = {
    "permitUnknownAIs": "permit_unknown_ais",
    "permitZeroSuppressedGTINinDLuris": "permit_zero_suppressed_gtin",
    "permitConvenienceAlphas": "permit_convenience_alphas",
    "validation:UNKNOWN_AI_NOT_DL_ATTR": "unknown_ai_not_dl_attr",
}

Case = dict[str, Any]


def _records(name: str) -> list[Case]:
    path = CONFORMANCE / name
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _skip_reason(case: Case) -> str | None:
    """Why a record does not run; None for every record today (all options are offered)."""
    return None


def _cases(name: str, where=lambda case: True) -> list[Any]:
    records = _records(name)
    if not records:
        reason = f"conformance data absent: {CONFORMANCE / name} (shared/ beside the repo)"
        return [pytest.param(None, id="absent", marks=pytest.mark.skip(reason=reason))]
    params = []
    for case in records:
        if not where(case):
            continue
        reason = _skip_reason(case)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


def _options(case: Case) -> Options:
    return STRICT.replace(**{ENGINE_OPTIONS[key]: value for key, value in case.get("options", {}).items()})


def test_every_vector_file_is_there():
    missing = [name for name in FILES if not (CONFORMANCE / name).is_file()]
    if missing:
        pytest.skip(f"conformance data absent: {missing}")
    assert sum(len(_records(name)) for name in FILES) == 499


# dl-uri-parse-cases.jsonl: a DL URI → AI data, or rejected


@pytest.mark.parametrize("case", _cases("dl-uri-parse-cases.jsonl"))
def test_dl_uri_parse(case):
    options = _options(case)
    if case["valid"]:
        ais = gs1.parse_digital_link(case["uri"], options)
        assert "^" + gs1.element_string(ais, fnc1="^") == case["element_string"]
        assert gs1.bracketed(ais) == case.get("ai_bracketed", gs1.bracketed(ais))
    else:
        with pytest.raises(GS1Error):
            gs1.parse_digital_link(case["uri"], options)


# dl-uri-generate-cases.jsonl: AI data (or a DL URI) → DL URI


def _generate(case: Case) -> str:
    options = _options(case)
    stem = case.get("stem", gs1.CANONICAL_STEM)
    if "input_uri" in case:
        link = gs1.parse_digital_link_uri(case["input_uri"], options)
        return gs1.generate_digital_link(link.ais, stem, options, path_length=link.path_length)
    ais = gs1.parse_ai_data(case["ai_bracketed"], options)
    return gs1.generate_digital_link(ais, stem, options)


@pytest.mark.parametrize("case", _cases("dl-uri-generate-cases.jsonl"))
def test_dl_uri_generate(case):
    if case["valid"]:
        assert _generate(case) == case["expected_uri"]
    else:
        with pytest.raises(GS1Error):
            _generate(case)


# dl-uri-escaping-cases.jsonl


def _expected_bytes(case: Case, component: str) -> bytes:
    hex_value = case.get(f"{component}_hex")
    return bytes.fromhex(hex_value) if hex_value else case[component].encode("ascii")


@pytest.mark.parametrize("case", _cases("dl-uri-escaping-cases.jsonl"))
def test_dl_component_escaping(case):
    if case["op"] == "escape":
        assert gs1.dl_quote(case["input"]) == case["path_component"]
        assert gs1.dl_quote(case["input"], query=True) == case["query_component"]
    else:
        assert gs1.dl_unquote(case["input"]) == _expected_bytes(case, "path_component")
        assert gs1.dl_unquote(case["input"], query=True) == _expected_bytes(case, "query_component")


# dl-path-key-qualifier-sequences.jsonl


@pytest.mark.parametrize("case", _cases("dl-path-key-qualifier-sequences.jsonl"))
def test_dl_path_key_qualifier_sequence(case):
    assert gs1.is_valid_dl_path(case["path_ais"]) == case["valid"]


def test_out_of_order_or_mixed_qualifiers_are_refused():
    assert not gs1.is_valid_dl_path(["01", "10", "22"])
    assert not gs1.is_valid_dl_path(["01", "22", "10", "235"])
    assert not gs1.is_valid_dl_path(["10"])
    assert not gs1.is_valid_dl_path(["01", "01"])


# ai-element-string-cases.jsonl: read `check` first (SOURCES.md)


def _parse(case: Case, options: Options) -> gs1.AIs:
    return gs1.parse_ai_data(case["input"], options, fnc1="^")


@pytest.mark.parametrize("case", _cases("ai-element-string-cases.jsonl"))
def test_ai_element_string(case):
    options = _options(case)
    if case["check"] == "pair-rule":  # every rule applied, as a whole message is checked
        if case["valid"]:
            gs1.validate_associations(_parse(case, options), options)
        else:
            with pytest.raises(GS1Error):
                gs1.validate_associations(_parse(case, options), options)
        return
    if not case["valid"]:
        with pytest.raises(GS1Error) as error:
            _parse(case, options)
        if case["check"] == "linter":
            assert error.value.linter == case["linter_error"]
        return
    ais = _parse(case, options)
    if "element_string" in case:
        assert "^" + gs1.element_string(ais, fnc1="^") == case["element_string"]
    if "ai_bracketed" in case:
        assert gs1.bracketed(ais) == case["ai_bracketed"]
