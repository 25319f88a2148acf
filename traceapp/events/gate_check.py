"""The gate page's look-up: a batch's verdict at this gate before anything is recorded.

The verdict is ``rules.gate_reasons`` over the facts this module reads: the batch's status
(the one rule of ``certificates.status``, the facts ``queries.batch_facts`` reads), the rapid
tests typed so far (judged by ``rules.judge_test``, as ``gate.inspect`` judges them) and on
what word the market would take custody (a shipment to it, its own stock, a hand-over code,
else none: "not shipped to you"). ``gate.inspect`` decides from the same rule when the page
records the check, so the page never says ACCEPT to what the server would refuse. Reads only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from traceapp.certificates.models import Certificate
from traceapp.certificates.status import BatchStatus
from traceapp.events import queries, rules
from traceapp.events.custody import open_shipment
from traceapp.events.holdings import held
from traceapp.orgs.models import OrgKind
from traceapp.orgs.services import Actor


@dataclass(frozen=True)
class GateCheck:
    """What the gate sees of a batch: its status, the reasons to reject it (none: accept), on
    what word custody would pass, and how much was shipped to this market / is held by it."""

    certificate: Certificate
    status: BatchStatus
    reasons: tuple[str, ...]
    custody: str | None
    shipped: Decimal | None
    held: Decimal

    @property
    def accept(self) -> bool:
        return not self.reasons

    @property
    def result(self) -> str:
        """The ``result`` the gate event records: the verdict, never picked by hand."""
        return "accepted" if self.accept else "rejected"

    @property
    def certificate_status(self) -> str:
        """The ``certificate_status`` as found: the certificate's own state."""
        return "revoked" if self.certificate.is_revoked else "valid"


def judged(tests: list[dict[str, Any]], *, threshold: Decimal) -> list[str]:
    """The results of the rapid tests typed so far (one that contradicts itself counts as
    none: the server names the field when the check is recorded)."""
    return [result for test in tests if (result := rules.judge_test(test, inhibition_threshold=threshold))]


def check_batch(
    session: Session,
    actor: Actor,
    certificate: Certificate,
    *,
    test_results: Sequence[str] = (),
    handover_code: bool = False,
) -> GateCheck:
    """The verdict of a gate check of ``certificate`` by ``actor``'s organisation right now.

    ``handover_code``: the holder's hand-over code was typed (it is checked when the check is
    recorded). A regulator takes no custody, so custody is no reason for it.
    """
    found = queries.verification(session, certificate)
    shipped = open_shipment(session, certificate.id, actor.org_id)
    mine = held(session, certificate.id, actor.org_id)
    custody = _custody(actor, shipped=shipped, held=mine, handover_code=handover_code)
    reasons = rules.gate_reasons(status=found.status, test_results=test_results, custody=custody)
    return GateCheck(certificate, found.status, reasons, custody, shipped, mine)


def _custody(actor: Actor, *, shipped: Decimal | None, held: Decimal, handover_code: bool) -> str | None:
    """On what word ``gate.inspect`` would take custody (the same order it tries them)."""
    if actor.org_kind is OrgKind.REGULATOR:
        return None
    if shipped is not None:
        return "shipment"
    if handover_code:
        return "handover_code"
    return "held" if held > 0 else "none"
