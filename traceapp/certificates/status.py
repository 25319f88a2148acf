"""The status of a batch: one pure rule over facts the callers read, for every place that shows it.

The API's certificate and code answers, the scanner's verdict, the public page and the recall
export all ask :func:`batch_status`; none decides a status of its own. No database and no Flask
here: the callers pass the facts in, so the rule is tested as a truth table.

Statuses, strongest first (:data:`PRECEDENCE`), the first whose fact holds wins:

1. ``revoked``: the producer withdrew the certificate. The certificate is void whatever else
   happened to the batch; the public page gives the reason and date.
2. ``recalled``: an active recall hold covers the batch (opening a recall places the holds,
   closing it releases them). The public page shows the recall banner in any case.
3. ``failed_inspection``: a market gate rejected the batch (a positive rapid test, or a check
   that failed), and that inspection has not been voided or corrected since.
4. ``expired``: the batch is past its best-before date. The national certificate has no shelf
   life or best-before field and no certificate carries one yet, so the fact is optional: without
   a date (or without the day to judge on) a batch never expires. The best-before day itself is
   still good. A stored public page would need a render on the day after, once dates exist.
5. ``valid``: none of the above.

``suspicious`` ranks between ``failed_inspection`` and ``expired``: the batch's code was scanned
far more often, or from far more places, than a batch of its size explains (a copied label).
A suspicion, not a finding, so any finding above it wins. The rule (:class:`ScanRule`) is
configuration (``SCAN_SUSPICIOUS_*``); the counts are those the flush of scan counts published
(``traceapp.public.scans``), so every surface judges on the same numbers.

The certificate's own state (:class:`CertificateStatus`, what ``CertificateOut.status`` reports)
is one of the facts: it knows only whether the producer revoked it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


class CertificateStatus(enum.Enum):
    """The certificate document's own state: issued and standing, or revoked by its producer."""

    VALID = "valid"
    REVOKED = "revoked"


class BatchStatus(enum.Enum):
    """What a scan of the batch's code answers (values as the API, the page and exports show)."""

    VALID = "valid"
    REVOKED = "revoked"
    RECALLED = "recalled"
    FAILED_INSPECTION = "failed_inspection"
    SUSPICIOUS = "suspicious"
    EXPIRED = "expired"


#: Strongest first: when several facts hold, the first of these names the status.
PRECEDENCE = (
    BatchStatus.REVOKED,
    BatchStatus.RECALLED,
    BatchStatus.FAILED_INSPECTION,
    BatchStatus.SUSPICIOUS,
    BatchStatus.EXPIRED,
    BatchStatus.VALID,
)


@dataclass(frozen=True)
class ScanRule:
    """When scans make a batch suspicious: more than ``max(minimum, per_unit × size)`` scans,
    or (``places`` > 0) more than ``max(places, size)`` distinct places. ``size`` is the batch's
    quantity in its unit (kilograms for 斤, halved): one buyer per unit at most can scan from a
    place of their own. See ``config.defaults`` for the defaults and why."""

    per_unit: Decimal = Decimal(20)
    minimum: int = 500
    places: int = 50

    def exceeded(self, scans: int, places: int, size: Decimal | None) -> bool:
        units = size if size is not None and size > 0 else Decimal(0)
        if scans > max(Decimal(self.minimum), self.per_unit * units):
            return True
        return self.places > 0 and places > max(Decimal(self.places), units)


@dataclass(frozen=True)
class BatchFacts:
    """What the status of a batch is decided from, as the caller read it.

    ``revoked``: the certificate was revoked. ``recalled``: an active recall hold covers the
    batch. ``failed_inspection``: a gate rejection stands (not voided or corrected).
    ``best_before`` and ``today``: the batch's best-before date, if it has one (none does yet),
    and the day to judge it on. ``scans`` and ``places``: the published scan counts of its code,
    ``size`` the batch's quantity in units, judged by ``rule`` (None: scans are not judged).
    """

    revoked: bool = False
    recalled: bool = False
    failed_inspection: bool = False
    best_before: date | None = None
    today: date | None = None
    scans: int = 0
    places: int = 0
    size: Decimal | None = None
    rule: ScanRule | None = None

    @property
    def suspicious(self) -> bool:
        return self.rule is not None and self.rule.exceeded(self.scans, self.places, self.size)

    @property
    def expired(self) -> bool:
        return self.best_before is not None and self.today is not None and self.today > self.best_before


def batch_status(facts: BatchFacts) -> BatchStatus:
    """The status of a batch: the first status in :data:`PRECEDENCE` whose fact holds."""
    holds = {
        BatchStatus.REVOKED: facts.revoked,
        BatchStatus.RECALLED: facts.recalled,
        BatchStatus.FAILED_INSPECTION: facts.failed_inspection,
        BatchStatus.SUSPICIOUS: facts.suspicious,
        BatchStatus.EXPIRED: facts.expired,
        BatchStatus.VALID: True,
    }
    return next(status for status in PRECEDENCE if holds[status])


#: ``app.extensions`` key of the function that reads the facts of many batches at once
#: (``(session, certificates) → {certificate id: BatchFacts}``). The facts live in events,
#: above this package, so the app factory hands the reader down to the certificate pages
#: (dependencies point one way: ``tests/unit/test_layout.py``).
FACTS_READER = "traceapp.batch_facts"


def certificate_status(*, revoked: bool) -> CertificateStatus:
    """The certificate's own state."""
    return CertificateStatus.REVOKED if revoked else CertificateStatus.VALID
