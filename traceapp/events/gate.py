"""Market gate checks (查验) with rapid residue tests (快检): accept, or reject with the reason.

Custody moves only with the holder's word. An accepted check takes over what was shipped to
this market (the holder's word is its shipment), or what the holder hands over at the gate
with its hand-over code (``handovers``); the check records which (``details.custody``).
Without either, the market's inspection is recorded but no stock moves (``basis: none``): a
market cannot take another organisation's stock by naming it. A revoked certificate or a
positive test means the batch must be rejected; a rejection by a market that never had the
batch in front of it (no shipment, no hand-over code, never held) is kept as that market's
claim (``details.claim``), which the status rule does not count as a verdict.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from traceapp.certificates.models import Certificate, Holding, HoldingState
from traceapp.certificates.services import issue_entry_record
from traceapp.certificates.status import BatchFacts, batch_status
from traceapp.errors import InvalidInput
from traceapp.events import handovers, rules
from traceapp.events.custody import pending_shipments, shipped_quantity, take_delivery
from traceapp.events.holdings import held
from traceapp.events.models import ItemRole
from traceapp.events.recording import NotHolder, Recording
from traceapp.notify import services as notify
from traceapp.orgs.models import OrgKind
from traceapp.schemas import decimal_text


def inspect(rec: Recording) -> None:
    """Record a gate check; on acceptance, take the batch into the market's custody.

    Who may check at all is the permission table's (``record_event`` asks it).
    """
    certificate = _inspected_batch(rec)
    results = _judged_tests(rec)
    recalled = bool(certificate and rec.is_quarantined(certificate))
    revoked = rec.data["certificate_status"] == "revoked" or bool(certificate and certificate.is_revoked)
    # The gate page's verdict comes from the same rule (``gate_check``); it also reads what
    # costs more here (earlier rejections, custody), which refuse no acceptance.
    status = batch_status(BatchFacts(revoked=revoked, recalled=recalled))
    reasons = rules.gate_reasons(status=status, test_results=results, custody=None)
    accepted = rec.data["result"] == "accepted"
    if accepted and rules.refuses_acceptance(reasons):
        raise InvalidInput(
            "/result", _("A revoked or recalled batch, or a positive test, means the batch must be rejected.")
        )
    rec.event.disposition = rules.inspection_disposition(rec.data["result"])
    rec.event.details = {**rec.event.details, **_details(rec, results, revoked or recalled)}
    if accepted:
        _take_in(rec, certificate)
    elif certificate is not None:
        _reject(rec, certificate)


def _inspected_batch(rec: Recording) -> Certificate | None:
    status, code = rec.data["certificate_status"], rec.data.get("trace_code")
    if code:
        if status == "missing":
            raise InvalidInput("/certificate_status", _("A batch with a trace code has a certificate."))
        return rec.batch()
    if status in ("valid", "revoked"):
        raise InvalidInput("/trace_code", _("This field is required."))
    if not rec.data.get("entry"):
        raise InvalidInput("/entry", _("Describe the batch that arrived without a certificate."))
    return None


def _judged_tests(rec: Recording) -> list[str]:
    results = []
    for index, test in enumerate(rec.data.get("tests") or []):
        result = rules.judge_test(test, inhibition_threshold=rec.settings.inhibition_threshold)
        if result is None:
            raise InvalidInput(f"/tests/{index}/result", _("The inhibition rate and the result disagree."))
        results.append(result)
    return results


def _details(rec: Recording, results: list[str], revoked: bool) -> dict[str, Any]:
    tests = [
        {**_plain(test), "result": result}
        for test, result in zip(rec.data.get("tests") or [], results, strict=True)
    ]
    details: dict[str, Any] = {
        "result": rec.data["result"],
        "certificate_status": "revoked" if revoked else rec.data["certificate_status"],
        "tests": tests,
        "brought_by": rec.data.get("brought_by"),
    }
    if rec.data.get("entry") and rec.data["result"] == "rejected":
        details["entry"] = _plain(rec.data["entry"])
    return details


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, (str, int, bool)) else str(getattr(value, "value", value))


def _given_quantity(rec: Recording, certificate: Certificate | None) -> Decimal | None:
    """The quantity the gate counted, in the batch's unit; None when it counted none."""
    if rec.data.get("quantity") is None:
        if certificate is None:
            raise InvalidInput("/quantity", _("This field is required."))
        return None
    if rec.data.get("unit") is None:
        raise InvalidInput("/unit", _("This field is required."))
    return rec.quantity(certificate) if certificate is not None else rec.data["quantity"]


def _take_in(rec: Recording, certificate: Certificate | None) -> None:
    """Acceptance is the hand-over, with the holder's word: the whole shipment to this market
    (or the counted part of it), else what the hand-over code's holder hands over (the counted
    quantity, else what the code allows, else all it holds). A batch the market already holds
    is a re-check, and anything else records the inspection without moving stock."""
    counted = _given_quantity(rec, certificate)
    if certificate is None:
        _entry_record(rec, counted)
        return
    shipments = pending_shipments(rec, certificate)
    if shipments:
        shipped = shipped_quantity(rec, shipments[0])
        take_delivery(rec, certificate, shipments[0], shipped, counted if counted is not None else shipped)
        _custody(rec, "shipment", shipments[0].org_id)
        return
    if rec.data.get("handover_code"):
        _hand_over(rec, certificate, counted)
        return
    if rec.data.get("from_org"):
        raise InvalidInput(
            "/handover_code",
            _("Stock passes from another organisation only with the hand-over code its holder gave."),
        )
    mine = held(rec.session, certificate.id, rec.actor.org_id)
    _custody(rec, "held" if mine > 0 else "none", None)
    rec.add_item(certificate, ItemRole.SUBJECT, counted if counted is not None else (mine or None))


def _hand_over(rec: Recording, certificate: Certificate, counted: Decimal | None) -> None:
    """Take what the code's holder hands over at the gate, and use the code up."""
    code = handovers.valid_code(rec, certificate.id)
    source = code.org_id
    if rec.data.get("from_org") and rec.data["from_org"] != source:
        raise InvalidInput("/from_org", _("The hand-over code was given by another organisation."))
    if source == rec.actor.org_id:
        raise InvalidInput(
            "/handover_code", _("Your organisation gave this code: it already holds the batch.")
        )
    available = held(rec.session, certificate.id, source)
    allowed = available if code.quantity is None else min(code.quantity, available)
    if counted is not None and code.quantity is not None and counted > code.quantity:
        raise InvalidInput(
            "/quantity",
            _("More than the hand-over code allows (%(quantity)s).", quantity=decimal_text(code.quantity)),
        )
    amount = counted if counted is not None else allowed
    if amount <= 0:
        raise NotHolder(_("The organisation that gave the hand-over code no longer holds this batch."))
    handovers.redeem(rec, code)
    rec.ledger.take(certificate.id, source, amount)
    rec.ledger.give(certificate.id, rec.actor.org_id, amount)
    rec.event.source_org_id, rec.event.destination_org_id = source, rec.actor.org_id
    _custody(rec, "handover_code", source)
    rec.add_item(certificate, ItemRole.SUBJECT, amount)


def _custody(rec: Recording, basis: str, source: Any) -> None:
    """Record on what word the gate took custody: ``shipment``, ``handover_code``, ``held``
    (a re-check of its own stock) or ``none`` (the inspection only)."""
    custody: dict[str, Any] = {"basis": basis}
    if source is not None:
        custody["from_org"] = str(source)
    rec.event.details = {**rec.event.details, "custody": custody}


def _reject(rec: Recording, certificate: Certificate) -> None:
    """A rejection is the batch's verdict when the market had it in front of it (shipped to
    it, held by it, or handed over with a valid code) or a regulator checked it; otherwise it
    is that market's claim, shown by name."""
    code = handovers.valid_code(rec, certificate.id) if rec.data.get("handover_code") else None
    had = (
        rec.actor.org_kind is OrgKind.REGULATOR
        or code is not None
        or bool(pending_shipments(rec, certificate))
        or _ever_held(rec, certificate)
    )
    if not had:
        rec.event.details = {**rec.event.details, "claim": True}
    else:
        rec.after_persist.append(lambda event: _tell_rejection(rec, event, certificate))
    rec.add_item(certificate, ItemRole.SUBJECT, _given_quantity(rec, certificate))


def _tell_rejection(rec: Recording, event: Any, certificate: Certificate) -> None:
    """The batch's issuer and the region's regulators hear of a verdict (not of a claim)."""
    tests = [
        str(t.get("item") or t.get("method") or "")
        for t in event.details.get("tests") or []
        if t.get("result") == "positive"
    ]
    notify.gate_rejected(
        rec.session, event_id=event.id, certificate=certificate, market_id=rec.actor.org_id, tests=tests
    )


def _ever_held(rec: Recording, certificate: Certificate) -> bool:
    found = rec.session.scalar(
        sa.select(Holding.org_id).where(
            Holding.certificate_id == certificate.id,
            Holding.org_id == rec.actor.org_id,
            Holding.state == HoldingState.ON_HAND,
        )
    )
    return found is not None


def _entry_record(rec: Recording, counted: Decimal | None) -> None:
    entry = {**rec.data["entry"], "quantity": counted, "unit": rec.data["unit"]}
    record = issue_entry_record(rec.session, rec.actor, data=entry)
    rec.outputs.append(record)
    rec.event.details = {**rec.event.details, "entry_record": record.trace_code}
    rec.add_item(record, ItemRole.SUBJECT, record.quantity)
