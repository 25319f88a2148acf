"""Lines from a wedge scanner, repeated reads, the operator's inline options, and the verdict rule."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest

from scanner_client.inspection import (
    GateOptions,
    OptionError,
    Summary,
    decide,
    inspection_body,
    parse_options,
    parse_quantity,
    parse_test,
    split_line,
)
from scanner_client.reader import Deduper, scan_lines


class Trickle(io.RawIOBase):
    """A stream that hands out its data a few bytes at a time, as a serial line or pipe does."""

    def __init__(self, data: bytes, size: int) -> None:
        self.chunks = [data[i : i + size] for i in range(0, len(data), size)]

    def readable(self) -> bool:
        return True

    def read1(self, _n: int = -1) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


@pytest.mark.parametrize("size", [1, 2, 3, 7, 4096])
def test_lines_end_at_cr_lf_or_crlf_however_the_bytes_arrive(size):
    data = "A\r\nB\rC\nD\r\n\r\n三\nlast".encode()
    assert list(scan_lines(Trickle(data, size))) == ["A", "B", "C", "D", "", "三", "last"]


def test_undecodable_bytes_do_not_stop_the_reader():
    assert list(scan_lines(io.BytesIO(b"\xffABC\n"))) == ["\ufffdABC"]


def test_a_repeat_within_a_second_is_spotted_on_a_monotonic_clock():
    now = [100.0]
    deduper = Deduper(window=1.0, clock=lambda: now[0])
    assert not deduper.is_repeat("A")
    now[0] += 0.4
    assert deduper.is_repeat("A")  # the scanner read the label twice
    now[0] += 0.9
    assert deduper.is_repeat("A")  # still aimed at it: each repeat extends the window
    now[0] += 1.0
    assert not deduper.is_repeat("A")  # scanned again on purpose
    assert not deduper.is_repeat("B") and not deduper.is_repeat("A")  # only back-to-back reads


# -- inline options ----------------------------------------------------------------------------


def test_options_follow_a_bar_on_the_scanned_line():
    assert split_line("CODE | qty=3") == ("CODE ", " qty=3")
    assert split_line("CODE") == ("CODE", None)
    options = parse_options(" qty=250jin | test=enzyme:有机磷:18.5 t=gold:克伦特罗:neg")
    assert (options.quantity, options.unit) == ("250", "jin")
    assert [t.to_json() for t in options.tests] == [
        {"method": "enzyme_inhibition", "item": "有机磷", "value": "18.5", "value_unit": "%"},
        {"method": "colloidal_gold", "item": "克伦特罗", "result": "negative"},
    ]


@pytest.mark.parametrize(
    ("spec", "outcome"),
    [
        ("enzyme_inhibition:有机磷:18.5", "negative"),
        ("ei:有机磷:50", "positive"),
        ("enzyme:有机磷:49.9%", "negative"),
        ("enzyme:有机磷:55:positive", "positive"),
        ("gold:克伦特罗:positive", "positive"),
        ("other:瘦肉精:-", "negative"),
    ],
)
def test_rapid_tests_are_read_with_their_outcome(spec, outcome):
    assert parse_test(spec).outcome == outcome


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("test=enzyme:有机磷", "METHOD:ITEM:VALUE"),
        ("test=magic:有机磷:1", "Unknown test method"),
        ("test=gold:克伦特罗:12", "needs its result"),
        ("test=enzyme:有机磷:70:negative", "disagree"),
        ("test=enzyme:有机磷:lots", "must be a number"),
        ("qty=-3", "positive number"),
        ("qty=0", "positive number"),
        ("unit=两", "unit is a word"),
        ("colour=red", "Unknown option"),
        ("qty", "key=value"),
    ],
)
def test_bad_options_are_named(text, words):
    with pytest.raises(OptionError, match=words):
        parse_options(text)


def test_inline_options_replace_the_sessions_and_a_unit_needs_a_quantity():
    session = GateOptions("500", "kg", (parse_test("gold:克伦特罗:negative"),))
    assert parse_options("qty=20").over(session) == GateOptions("20", None, session.tests)
    assert GateOptions().over(session) == session
    with pytest.raises(OptionError, match="needs a quantity"):
        parse_options("unit=jin").over(GateOptions()).check()
    assert parse_quantity("2.50 jin") == ("2.50", "jin")
    assert parse_quantity("250千克") == ("250", "kg") and parse_quantity("3 箱") == ("3", "box")
    assert parse_quantity("12斤") == ("12", "jin")


# -- the verdict and the body ------------------------------------------------------------------

VALID = Summary("LRALC8X7RJNZ5V", "valid", "大白菜", "木兰合作社", "500", "kg")


@pytest.mark.parametrize(
    ("summary", "tests", "accept", "certificate_status", "reason"),
    [
        (VALID, "", True, "valid", None),
        (VALID, "test=enzyme:有机磷:50", False, "valid", "rapid test positive"),
        (
            Summary("X", "revoked", revoked_at="2026-11-20T08:00:00+08:00", revoked_reason="填错"),
            "",
            False,
            "revoked",
            "certificate revoked: 填错",
        ),
        (Summary("X", "failed_inspection"), "", False, "valid", "failed an earlier inspection"),
        (Summary("X", "recalled"), "", False, "valid", "batch recalled"),
        (Summary("X", "expired"), "", False, "valid", "status expired"),  # a status from a newer server
    ],
)
def test_only_a_valid_batch_without_a_positive_test_is_accepted(
    summary, tests, accept, certificate_status, reason
):
    decision = decide(summary, parse_options(tests))
    assert decision.accept is accept and decision.certificate_status == certificate_status
    assert decision.result == ("accepted" if accept else "rejected")
    assert reason is None or any(reason in r for r in decision.reasons)


def test_the_body_is_compact_stable_json_with_the_gates_time_and_place():
    options = parse_options("qty=20.50 test=enzyme:有机磷:18.5")
    arguments = {
        "event_id": "0b7c",
        "code": VALID.trace_code,
        "occurred_at": "2026-11-21T08:30:00.120+08:00",
        "summary": VALID,
        "options": options,
        "location": "东门",
    }
    body = inspection_body(**arguments)
    assert body == inspection_body(**arguments) and ", " not in body and "东门" in body
    assert json.loads(body) == {
        "event_id": "0b7c",
        "kind": "inspecting",
        "occurred_at": "2026-11-21T08:30:00.120+08:00",
        "trace_code": "LRALC8X7RJNZ5V",
        "certificate_status": "valid",
        "result": "accepted",
        "quantity": "20.50",
        "unit": "kg",
        "location": "东门",
        "tests": [{"method": "enzyme_inhibition", "item": "有机磷", "value": "18.5", "value_unit": "%"}],
    }


def test_without_a_count_the_server_decides_what_is_taken_in():
    body = json.loads(
        inspection_body(
            event_id="e", code="C", occurred_at="t", summary=VALID, options=GateOptions(), location=None
        )
    )
    assert "quantity" not in body and "unit" not in body and "location" not in body
    counted = json.loads(
        inspection_body(
            event_id="e",
            code="C",
            occurred_at="t",
            summary=VALID,
            options=GateOptions("250", None),
            location=None,
        )
    )
    assert (counted["quantity"], counted["unit"]) == ("250", "kg")
    assert GateOptions.from_json(parse_options("t=ei:x:1.5").to_json()).tests[0].value == Decimal("1.5")


def test_the_holders_hand_over_code_goes_with_one_scan_only():
    options = parse_options("qty=20 | code=abcde-fghjk")
    assert options.handover == "ABCDEFGHJK"
    body = json.loads(
        inspection_body(
            event_id="e",
            code="C",
            occurred_at="t",
            summary=VALID,
            options=options.over(GateOptions()),
            location=None,
        )
    )
    assert body["handover_code"] == "ABCDEFGHJK"
    assert GateOptions.from_json(options.to_json()) == options
    assert parse_options("qty=5").over(options).handover is None  # a session never carries a code
    with pytest.raises(OptionError, match="hand-over code"):
        parse_options("code=ABC0E-FGHJK")
