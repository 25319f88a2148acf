"""Excursion maths on plain inputs: limits, gaps, single readings, open ranges, journeys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from traceapp.coldchain.documents import leg_document
from traceapp.coldchain.verdicts import (
    Range,
    Reading,
    Verdict,
    journey_verdict,
    judge_min_max,
    judge_readings,
)

CHILLED = Range(Decimal(0), Decimal(4))
FROZEN = Range(None, Decimal(-18))
GAP = timedelta(minutes=30)
T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def series(*values: str, step: int = 10) -> list[Reading]:
    return [Reading(T0 + timedelta(minutes=step * i), Decimal(v)) for i, v in enumerate(values)]


def test_readings_exactly_at_the_limits_are_in_range():
    verdict = judge_readings(series("0", "4", "4.0", "0.00"), CHILLED, max_gap=GAP)
    assert verdict.verdict is Verdict.IN_RANGE and verdict.excursions == []


def test_an_excursion_lasts_until_the_first_reading_back_in_range():
    verdict = judge_readings(series("3", "5", "6.5", "4", "3"), CHILLED, max_gap=GAP)
    assert verdict.verdict is Verdict.EXCURSION
    [excursion] = verdict.excursions
    assert excursion.duration == timedelta(minutes=20)
    assert (excursion.extreme, excursion.extreme_at) == (Decimal("6.5"), T0 + timedelta(minutes=20))


def test_an_excursion_still_open_at_the_end_lasts_until_the_last_reading():
    verdict = judge_readings(series("3", "5", "7"), CHILLED, max_gap=GAP)
    assert verdict.excursion_time == timedelta(minutes=10)


def test_too_cold_counts_as_much_as_too_warm():
    verdict = judge_readings(series("2", "-1.5", "2"), CHILLED, max_gap=GAP)
    assert verdict.verdict is Verdict.EXCURSION and verdict.worst.extreme == Decimal("-1.5")


def test_a_single_reading_is_judged_without_a_duration():
    inside = judge_readings(series("2"), CHILLED, max_gap=GAP)
    outside = judge_readings(series("9"), CHILLED, max_gap=GAP)
    assert inside.verdict is Verdict.IN_RANGE and inside.count == 1
    assert outside.verdict is Verdict.EXCURSION and outside.excursion_time == timedelta(0)


def test_a_gap_in_the_series_makes_the_leg_incomplete_not_fine():
    readings = series("2", "3") + [Reading(T0 + timedelta(hours=3), Decimal("3"))]
    verdict = judge_readings(readings, CHILLED, max_gap=GAP)
    assert verdict.verdict is Verdict.INCOMPLETE and len(verdict.gaps) == 1


def test_an_excursion_outranks_a_gap():
    readings = series("2", "8") + [Reading(T0 + timedelta(hours=3), Decimal("3"))]
    assert judge_readings(readings, CHILLED, max_gap=GAP).verdict is Verdict.EXCURSION


def test_readings_out_of_order_are_sorted_first():
    readings = list(reversed(series("3", "6", "3")))
    assert judge_readings(readings, CHILLED, max_gap=GAP).excursion_time == timedelta(minutes=10)


def test_open_ended_ranges_such_as_frozen():
    assert judge_readings(series("-25", "-18"), FROZEN, max_gap=GAP).verdict is Verdict.IN_RANGE
    assert judge_readings(series("-25", "-12"), FROZEN, max_gap=GAP).verdict is Verdict.EXCURSION


def test_no_range_and_no_data_are_said_as_such():
    assert judge_readings(series("30"), None, max_gap=GAP).verdict is Verdict.NO_RANGE
    assert judge_readings([], CHILLED, max_gap=GAP).verdict is Verdict.NO_DATA


def test_min_max_pairs_are_judged_without_durations():
    assert judge_min_max(Decimal("1"), Decimal("4"), CHILLED).verdict is Verdict.IN_RANGE
    assert judge_min_max(Decimal("1"), Decimal("4.1"), CHILLED).verdict is Verdict.EXCURSION


def test_the_journey_is_as_bad_as_its_worst_leg():
    assert journey_verdict([Verdict.IN_RANGE, Verdict.EXCURSION, Verdict.INCOMPLETE]) is Verdict.EXCURSION
    assert journey_verdict([Verdict.NO_RANGE, Verdict.IN_RANGE]) is Verdict.IN_RANGE
    assert journey_verdict([]) is Verdict.NO_DATA


def test_a_leg_is_stored_as_json_with_its_range_extreme_and_excursion_minutes():
    verdict = judge_readings(series("3", "5", "6.50", "4", "3"), CHILLED, max_gap=GAP)
    assert leg_document(verdict, CHILLED) == {
        "verdict": "excursion",
        "range": ["0", "4"],
        "count": 5,
        "min": "3",
        "max": "6.5",
        "excursion_minutes": 20.0,
        "excursions": 1,
        "extreme": "6.5",
        "extreme_at": (T0 + timedelta(minutes=20)).isoformat(),
        "gaps": 0,
    }
    assert leg_document(judge_min_max(Decimal(2), Decimal(3), None), None)["range"] is None
