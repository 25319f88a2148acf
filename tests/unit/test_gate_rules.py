"""The gate's verdict as a truth table: the batch's status, this check's tests, custody."""

from __future__ import annotations

import pytest

from traceapp.certificates.status import BatchStatus
from traceapp.events.rules import gate_reasons, refuses_acceptance


@pytest.mark.parametrize(
    ("status", "tests", "custody", "reasons"),
    [
        (BatchStatus.VALID, [], "shipment", ()),
        (BatchStatus.VALID, ["negative"], "held", ()),
        (BatchStatus.VALID, [], "handover_code", ()),
        (BatchStatus.VALID, [], None, ()),  # a regulator takes no custody
        (BatchStatus.VALID, [], "none", ("not_shipped",)),
        (BatchStatus.VALID, ["negative", "positive"], "shipment", ("positive_test",)),
        (BatchStatus.REVOKED, ["positive"], "none", ("revoked", "positive_test", "not_shipped")),
        (BatchStatus.RECALLED, [], "shipment", ("recalled",)),
        (BatchStatus.FAILED_INSPECTION, [], "shipment", ("failed_inspection",)),
    ],
)
def test_the_gate_rejects_for_each_reason_that_holds_in_order(status, tests, custody, reasons):
    assert gate_reasons(status=status, test_results=tests, custody=custody) == reasons


@pytest.mark.parametrize(
    ("reasons", "refused"),
    [
        ((), False),
        (("revoked",), True),
        (("recalled",), True),
        (("positive_test",), True),
        (("failed_inspection",), False),
        (("not_shipped",), False),
        (("not_shipped", "positive_test"), True),
    ],
)
def test_the_server_refuses_an_acceptance_only_for_a_revoked_or_recalled_batch_or_a_positive_test(
    reasons, refused
):
    assert refuses_acceptance(reasons) is refused
