"""Market gate checks (查验) with rapid residue tests (快检): accept, or reject with the reason.

Accepting is the hand-over: the batch passes into the market's custody (answering a shipment
to the market if there is one, else taken from whoever brought it: the named organisation or
the issuer). A revoked certificate or a positive test means the batch must be rejected.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from traceapp.certificates.models import Certificate
from traceapp.certificates.services import issue_entry_record
from traceapp.errors import InvalidInput
from traceapp.events import rules
from traceapp.events.custody import pending_shipments, shipped_quantity, take_delivery
from traceapp.events.holdings import held
from traceapp.events.models import ItemRole
from traceapp.events.recording import Recording, is_quarantined


def inspect(rec: Recording) -> None:
    """Record a gate check; on acceptance, take the batch into the market's custody.

    Who may check at all is the permission table's (``record_event`` asks it).
    """
    certificate = _inspected_batch(rec)
    results = _judged_tests(rec)
    revoked = rec.data["certificate_status"] == "revoked" or bool(
        certificate and (certificate.is_revoked or is_quarantined(rec.session, certificate.id))
    )
    accepted = rec.data["result"] == "accepted"
    if accepted and rules.must_reject(certificate_revoked=revoked, test_results=results):
        raise InvalidInput(
            "/result", _("A revoked or recalled batch, or a positive test, means the batch must be rejected.")
        )
    rec.event.disposition = rules.inspection_disposition(rec.data["result"])
    rec.event.details = {**rec.event.details, **_details(rec, results, revoked)}
    if accepted:
        _take_in(rec, certificate)
    elif certificate is not None:
        rec.add_item(certificate, ItemRole.SUBJECT, _given_quantity(rec, certificate))


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
    """Acceptance is the hand-over. Without a counted quantity, the gate takes in the whole
    shipment to it, else all that the bringer holds; a batch the market already holds is a
    re-check and moves nothing."""
    counted = _given_quantity(rec, certificate)
    if certificate is None:
        _entry_record(rec, counted)
        return
    shipments = pending_shipments(rec, certificate)
    if shipments:
        shipped = shipped_quantity(rec, shipments[0])
        take_delivery(rec, certificate, shipments[0], shipped, counted if counted is not None else shipped)
        return
    source = rec.org("from_org").id if rec.data.get("from_org") else certificate.org_id
    available, mine = (
        held(rec.session, certificate.id, source),
        held(rec.session, certificate.id, rec.actor.org_id),
    )
    amount = counted if counted is not None else available
    recheck = amount == 0 or (amount > available and mine >= amount)  # already in the market's stock
    if source != rec.actor.org_id and not recheck:
        rec.ledger.take(certificate.id, source, amount)
        rec.ledger.give(certificate.id, rec.actor.org_id, amount)
        rec.event.source_org_id, rec.event.destination_org_id = source, rec.actor.org_id
    rec.add_item(certificate, ItemRole.SUBJECT, amount if amount > 0 else mine)


def _entry_record(rec: Recording, counted: Decimal | None) -> None:
    entry = {**rec.data["entry"], "quantity": counted, "unit": rec.data["unit"]}
    record = issue_entry_record(rec.session, rec.actor, data=entry)
    rec.outputs.append(record)
    rec.event.details = {**rec.event.details, "entry_record": record.trace_code}
    rec.add_item(record, ItemRole.SUBJECT, record.quantity)
