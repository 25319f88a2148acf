"""The regulator's overview: certificates, gate checks and failures, cold-chain excursions and
open recalls, by region (city level) and week. Grouped in SQL; a handful of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from traceapp import regions
from traceapp.certificates.models import Certificate
from traceapp.db import utcnow
from traceapp.events.models import Event, EventItem, EventKind
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.services import Actor
from traceapp.recalls.models import Recall, RecallStatus

WEEKS = 8


@dataclass
class RegionRow:
    name: str
    certificates: int = 0
    inspections: int = 0
    rejected: int = 0
    excursions: int = 0
    #: Failed checks claimed by a market that never received the batch: not verdicts, so not in
    #: ``inspections`` or ``rejected`` (the status rule does not count them either).
    claims: int = 0

    @property
    def failure_rate(self) -> float:
        return round(100 * self.rejected / self.inspections, 1) if self.inspections else 0.0


@dataclass
class Overview:
    weeks: list[str]
    certificates: dict[str, int] = field(default_factory=dict)
    inspections: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    excursions: dict[str, int] = field(default_factory=dict)
    regions: list[RegionRow] = field(default_factory=list)
    open_recalls: int = 0


def _week(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.date_trunc("week", column), 'IYYY-"W"IW')
    return sa.func.strftime("%Y-W%W", column)


def overview(session: Session, actor: Actor, *, now: datetime | None = None) -> Overview:
    """Counts per week and per region over the last eight weeks. Raises PermissionDenied for
    kinds of organisation the permission table does not let see the overview."""
    require(actor, Action.SEE_OVERVIEW)
    since = (now or utcnow()) - timedelta(weeks=WEEKS)
    dialect = session.get_bind().dialect.name
    region = sa.func.substr(Certificate.origin_region_code, 1, 4)
    result = Overview(weeks=[])
    by_region: dict[str, RegionRow] = {}

    def row(code: str) -> RegionRow:
        return by_region.setdefault(code, RegionRow(regions.full_name(code + "00") or code))

    week = _week(Certificate.issued_at, dialect)
    for wk, code, count in session.execute(
        sa.select(week, region, sa.func.count()).where(Certificate.issued_at >= since).group_by(week, region)
    ):
        result.certificates[wk] = result.certificates.get(wk, 0) + count
        row(code).certificates += count
    _events(session, since, dialect, region, result, row)
    result.weeks = sorted(set(result.certificates) | set(result.inspections) | set(result.excursions))[
        -WEEKS:
    ]
    result.regions = sorted(by_region.values(), key=lambda r: -r.certificates)
    result.open_recalls = (
        session.scalar(
            sa.select(sa.func.count()).select_from(Recall).where(Recall.status == RecallStatus.OPEN)
        )
        or 0
    )
    return result


def _events(session: Session, since: datetime, dialect: str, region: Any, result: Overview, row: Any) -> None:
    week = _week(Event.occurred_at, dialect)
    query = (
        sa.select(week, region, Event.kind, Event.details)
        .join(EventItem, sa.and_(EventItem.event_id == Event.id, EventItem.position == 0))
        .join(Certificate, Certificate.id == EventItem.certificate_id)
        .where(
            Event.occurred_at >= since,
            Event.kind.in_([EventKind.INSPECTING, EventKind.TRANSPORTING, EventKind.STORING]),
        )
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for wk, code, kind, details in session.execute(query):
        if kind is EventKind.INSPECTING and details.get("claim"):
            row(code).claims += 1
        elif kind is EventKind.INSPECTING:
            counts["inspections"][wk] += 1
            row(code).inspections += 1
            if details.get("result") == "rejected":
                counts["rejected"][wk] += 1
                row(code).rejected += 1
        elif (details.get("cold_chain") or {}).get("verdict") == "excursion":
            counts["excursions"][wk] += 1
            row(code).excursions += 1
    result.inspections, result.rejected = dict(counts["inspections"]), dict(counts["rejected"])
    result.excursions = dict(counts["excursions"])
