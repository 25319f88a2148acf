"""The status rule as a truth table: every combination of facts, and the precedence between them."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest

from traceapp.certificates.status import (
    PRECEDENCE,
    BatchFacts,
    BatchStatus,
    CertificateStatus,
    ScanRule,
    batch_status,
    certificate_status,
)

RULE = ScanRule(per_unit=Decimal(20), minimum=500, places=50)
DAY = date(2026, 12, 1)
PAST = date(2026, 11, 30)  # best before yesterday: expired today
TODAY = DAY  # best before today: still good today
FUTURE = date(2026, 12, 2)

V, RV, RC, F, E = (
    BatchStatus.VALID,
    BatchStatus.REVOKED,
    BatchStatus.RECALLED,
    BatchStatus.FAILED_INSPECTION,
    BatchStatus.EXPIRED,
)

# revoked, recalled, failed_inspection, best_before (judged on DAY) → status
TRUTH_TABLE = [
    (False, False, False, None, V),
    (False, False, False, FUTURE, V),
    (False, False, False, TODAY, V),
    (False, False, False, PAST, E),
    (False, False, True, None, F),
    (False, False, True, PAST, F),
    (False, True, False, None, RC),
    (False, True, False, PAST, RC),
    (False, True, True, None, RC),
    (False, True, True, PAST, RC),
    (True, False, False, None, RV),
    (True, False, False, PAST, RV),
    (True, False, True, None, RV),
    (True, False, True, PAST, RV),
    (True, True, False, None, RV),
    (True, True, False, PAST, RV),
    (True, True, True, None, RV),
    (True, True, True, PAST, RV),
]


@pytest.mark.parametrize(("revoked", "recalled", "failed", "best_before", "expected"), TRUTH_TABLE)
def test_batch_status_truth_table(revoked, recalled, failed, best_before, expected):
    facts = BatchFacts(
        revoked=revoked, recalled=recalled, failed_inspection=failed, best_before=best_before, today=DAY
    )
    assert batch_status(facts) is expected


def test_truth_table_covers_every_combination_of_facts():
    combinations = {(rv, rc, f, bb is PAST) for rv, rc, f, bb, _s in TRUTH_TABLE}
    assert combinations == set(itertools.product([False, True], repeat=4))


def test_the_strongest_fact_that_holds_names_the_status():
    """Switching the facts on from the weakest up, each one takes over from those below it."""
    ordered = [
        ("expired", {"best_before": PAST, "today": DAY}),
        ("suspicious", {"scans": 1000, "size": Decimal(10), "rule": RULE}),
        ("failed_inspection", {"failed_inspection": True}),
        ("recalled", {"recalled": True}),
        ("revoked", {"revoked": True}),
    ]
    facts: dict[str, object] = {}
    for name, fact in ordered:
        facts.update(fact)
        assert batch_status(BatchFacts(**facts)).value == name
    assert [s.value for s in PRECEDENCE] == [name for name, _f in reversed(ordered)] + ["valid"]


def test_precedence_names_every_status_once():
    assert sorted(PRECEDENCE, key=lambda s: s.value) == sorted(BatchStatus, key=lambda s: s.value)
    assert len(set(PRECEDENCE)) == len(PRECEDENCE)


def test_no_facts_is_a_valid_batch():
    assert batch_status(BatchFacts()) is BatchStatus.VALID


@pytest.mark.parametrize(
    ("best_before", "today"), [(None, DAY), (PAST, None), (None, None)], ids=["no-date", "no-day", "neither"]
)
def test_a_batch_expires_only_with_a_best_before_date_and_a_day_to_judge_on(best_before, today):
    assert batch_status(BatchFacts(best_before=best_before, today=today)) is BatchStatus.VALID


@pytest.mark.parametrize(
    ("revoked", "expected"), [(False, CertificateStatus.VALID), (True, CertificateStatus.REVOKED)]
)
def test_certificate_status_knows_only_revocation(revoked, expected):
    assert certificate_status(revoked=revoked) is expected


def test_every_certificate_status_is_a_batch_status_of_the_same_name():
    assert {s.value for s in CertificateStatus} <= {s.value for s in BatchStatus}


@pytest.mark.parametrize(
    ("scans", "places", "size", "suspicious"),
    [
        (500, 0, Decimal(10), False),  # the floor: 500 scans for any small batch
        (501, 0, Decimal(10), True),
        (2000, 0, Decimal(100), False),  # 20 per unit: 100 kg explain 2,000 scans
        (2001, 0, Decimal(100), True),
        (10, 50, Decimal(10), False),  # at most 50 places for a batch of up to 50 units
        (10, 51, Decimal(10), True),
        (10, 300, Decimal(300), False),  # a 300 kg batch may reach 300 places
        (10, 301, Decimal(300), True),
        (501, 0, None, True),  # no size: the floor alone
    ],
)
def test_scans_past_the_rule_make_a_batch_suspicious(scans, places, size, suspicious):
    facts = BatchFacts(scans=scans, places=places, size=size, rule=RULE)
    assert (batch_status(facts) is BatchStatus.SUSPICIOUS) is suspicious


def test_places_are_not_judged_when_the_rule_sets_none_and_scans_without_a_rule_never():
    assert batch_status(BatchFacts(places=10_000, rule=ScanRule(places=0))) is BatchStatus.VALID
    assert batch_status(BatchFacts(scans=10**9, places=10**6)) is BatchStatus.VALID


def test_a_finding_outranks_a_suspicion():
    facts = BatchFacts(failed_inspection=True, scans=10**6, rule=RULE)
    assert batch_status(facts) is BatchStatus.FAILED_INSPECTION
