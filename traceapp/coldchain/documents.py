"""A leg's cold-chain verdict as the JSON stored with its event and shown on pages and in exports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from traceapp.coldchain.verdicts import LegVerdict, Range
from traceapp.schemas import decimal_text


def leg_document(verdict: LegVerdict, allowed: Range | None) -> dict[str, Any]:
    """A leg's verdict as stored with its event (JSON): the range used and what was found."""
    worst = verdict.worst
    return {
        "verdict": verdict.verdict.value,
        "range": None if allowed is None else [_num(allowed.low), _num(allowed.high)],
        "count": verdict.count,
        "min": _num(verdict.minimum),
        "max": _num(verdict.maximum),
        "excursion_minutes": round(verdict.excursion_time.total_seconds() / 60, 1),
        "excursions": len(verdict.excursions),
        "extreme": _num(worst.extreme) if worst else None,
        "extreme_at": worst.extreme_at.isoformat() if worst else None,
        "gaps": len(verdict.gaps),
    }


def _num(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)
