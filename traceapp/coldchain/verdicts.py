"""Cold-chain verdicts: pure functions over temperature readings (no database, no Flask).

A reading holds until the next one (sample-and-hold), so an excursion lasts from its first
out-of-range reading to the first reading back in range. Readings exactly at a limit are in
range. A gap longer than ``max_gap`` between readings makes the leg's data incomplete: we say
so rather than guess what happened in between.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal


class Verdict(enum.Enum):
    """How a leg (or a journey) fared, from best to worst."""

    NO_RANGE = "no_range"
    NO_DATA = "no_data"
    IN_RANGE = "in_range"
    INCOMPLETE = "incomplete"
    EXCURSION = "excursion"


SEVERITY = [Verdict.NO_RANGE, Verdict.NO_DATA, Verdict.IN_RANGE, Verdict.INCOMPLETE, Verdict.EXCURSION]


@dataclass(frozen=True)
class Range:
    """An allowed temperature range in °C; either end may be open (``None``)."""

    low: Decimal | None
    high: Decimal | None

    def contains(self, celsius: Decimal) -> bool:
        return (self.low is None or celsius >= self.low) and (self.high is None or celsius <= self.high)

    def distance(self, celsius: Decimal) -> Decimal:
        """How far outside the range a value is (0 inside)."""
        if self.low is not None and celsius < self.low:
            return self.low - celsius
        if self.high is not None and celsius > self.high:
            return celsius - self.high
        return Decimal(0)


@dataclass(frozen=True)
class Reading:
    at: datetime
    celsius: Decimal


@dataclass(frozen=True)
class Excursion:
    """A run of readings outside the range."""

    start: datetime
    end: datetime
    extreme: Decimal
    extreme_at: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class LegVerdict:
    """The verdict of one leg, with what it is based on."""

    verdict: Verdict
    count: int = 0
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    excursions: list[Excursion] = field(default_factory=list)
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)

    @property
    def excursion_time(self) -> timedelta:
        return sum((e.duration for e in self.excursions), timedelta())

    @property
    def worst(self) -> Excursion | None:
        return max(self.excursions, key=lambda e: abs(e.extreme), default=None)


def judge_readings(readings: Iterable[Reading], allowed: Range | None, *, max_gap: timedelta) -> LegVerdict:
    """Judge a series of readings (any order) against ``allowed``."""
    series = sorted(readings, key=lambda r: r.at)
    if allowed is None:
        return _summary(Verdict.NO_RANGE, series)
    if not series:
        return LegVerdict(Verdict.NO_DATA)
    excursions = find_excursions(series, allowed)
    gaps = find_gaps(series, max_gap)
    verdict = Verdict.EXCURSION if excursions else Verdict.INCOMPLETE if gaps else Verdict.IN_RANGE
    return _summary(verdict, series, excursions, gaps)


def judge_min_max(minimum: Decimal, maximum: Decimal, allowed: Range | None) -> LegVerdict:
    """Judge a leg known only by its minimum and maximum (no times, so no durations)."""
    if allowed is None:
        return LegVerdict(Verdict.NO_RANGE, 0, minimum, maximum)
    inside = allowed.contains(minimum) and allowed.contains(maximum)
    return LegVerdict(Verdict.IN_RANGE if inside else Verdict.EXCURSION, 0, minimum, maximum)


def _summary(
    verdict: Verdict,
    series: Sequence[Reading],
    excursions: list[Excursion] | None = None,
    gaps: list[tuple[datetime, datetime]] | None = None,
) -> LegVerdict:
    values = [r.celsius for r in series]
    return LegVerdict(
        verdict,
        len(series),
        min(values, default=None),
        max(values, default=None),
        excursions or [],
        gaps or [],
    )


def find_excursions(series: Sequence[Reading], allowed: Range) -> list[Excursion]:
    """Maximal runs of out-of-range readings in a time-ordered series."""
    excursions: list[Excursion] = []
    run: list[Reading] = []
    for reading in series:
        if not allowed.contains(reading.celsius):
            run.append(reading)
            continue
        if run:
            excursions.append(_excursion(run, end=reading.at, allowed=allowed))
            run = []
    if run:  # still outside at the last reading: the excursion lasts until then
        excursions.append(_excursion(run, end=run[-1].at, allowed=allowed))
    return excursions


def _excursion(run: list[Reading], *, end: datetime, allowed: Range) -> Excursion:
    worst = max(run, key=lambda r: allowed.distance(r.celsius))
    return Excursion(start=run[0].at, end=end, extreme=worst.celsius, extreme_at=worst.at)


def find_gaps(series: Sequence[Reading], max_gap: timedelta) -> list[tuple[datetime, datetime]]:
    """Stretches between consecutive readings longer than ``max_gap``."""
    return [(a.at, b.at) for a, b in zip(series, series[1:], strict=False) if b.at - a.at > max_gap]


def journey_verdict(legs: Iterable[Verdict]) -> Verdict:
    """The journey is as bad as its worst leg (no legs: no data)."""
    return max(legs, key=SEVERITY.index, default=Verdict.NO_DATA)
