"""Event rules as data and pure functions: fields per kind, EPCIS mapping, units, gate tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from traceapp.certificates.models import Unit
from traceapp.certificates.status import BatchStatus
from traceapp.events.models import EventKind
from traceapp.orgs.permissions import Action

K = EventKind
_TEMPS = frozenset({"temperatures", "temperature_min", "temperature_max", "temperature_range"})
_COMMON = frozenset({"location", "note", "corrects"})
#: A transformation with a single input may give it as the event's own trace code, quantity and
#: unit (the outside contract's form) instead of in ``inputs``: one of the two forms, never both.
ONE_INPUT = frozenset({"trace_code", "quantity", "unit"})

#: kind → (required fields, other allowed fields) of ``EventIn``.
KIND_FIELDS: dict[EventKind, tuple[frozenset[str], frozenset[str]]] = {
    K.SHIPPING: (frozenset({"trace_code", "quantity", "unit", "to_org"}), _COMMON | {"carrier_org"}),
    K.RECEIVING: (frozenset({"trace_code", "quantity", "unit"}), _COMMON | {"shipping_event_id"} | _TEMPS),
    K.STORING: (frozenset({"trace_code"}), _COMMON | {"quantity", "unit"} | _TEMPS),
    K.TRANSPORTING: (frozenset({"trace_code"}), _COMMON | {"quantity", "unit"} | _TEMPS),
    K.INSPECTING: (
        frozenset({"result", "certificate_status"}),
        _COMMON
        | {"trace_code", "quantity", "unit", "brought_by", "from_org", "handover_code", "tests", "entry"},
    ),
    K.TRANSFORMING: (frozenset({"outputs"}), _COMMON | {"inputs"} | ONE_INPUT),
    K.PORTIONING: (frozenset({"trace_code", "outputs"}), _COMMON),
    K.RETAIL_SELLING: (frozenset({"trace_code", "quantity", "unit"}), _COMMON),
    K.DESTROYING: (frozenset({"trace_code", "quantity", "unit"}), _COMMON),
    K.AGGREGATING: (frozenset({"cases"}), frozenset({"location", "note"})),
    K.VOIDING: (frozenset({"corrects"}), frozenset({"note"})),
}


#: kind → the action of the permission table that recording it is.
ACTIONS: dict[EventKind, Action] = {
    K.COMMISSIONING: Action.ISSUE,
    K.SHIPPING: Action.SHIP,
    K.RECEIVING: Action.RECEIVE,
    K.STORING: Action.STORE,
    K.TRANSPORTING: Action.TRANSPORT,
    K.INSPECTING: Action.INSPECT,
    K.TRANSFORMING: Action.TRANSFORM,
    K.PORTIONING: Action.PORTION,
    K.RETAIL_SELLING: Action.SELL,
    K.DESTROYING: Action.DESTROY,
    K.AGGREGATING: Action.AGGREGATE,
    K.VOIDING: Action.CORRECT,
}


@dataclass(frozen=True)
class EpcisShape:
    """How a kind is expressed in EPCIS 2.0 / CBV 2.0."""

    event_type: str
    action: str | None
    biz_step: str
    disposition: str | None


EPCIS: dict[EventKind, EpcisShape] = {
    K.COMMISSIONING: EpcisShape("ObjectEvent", "ADD", "commissioning", "active"),
    K.SHIPPING: EpcisShape("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    K.RECEIVING: EpcisShape("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
    K.STORING: EpcisShape("ObjectEvent", "OBSERVE", "storing", "in_progress"),
    K.TRANSPORTING: EpcisShape("ObjectEvent", "OBSERVE", "transporting", "in_transit"),
    K.INSPECTING: EpcisShape("ObjectEvent", "OBSERVE", "inspecting", None),
    # CBV 2.0 has no "transforming" step; GS1's TransformationEvent examples commission outputs.
    K.TRANSFORMING: EpcisShape("TransformationEvent", None, "commissioning", "active"),
    K.PORTIONING: EpcisShape("TransformationEvent", None, "repackaging", "active"),
    K.RETAIL_SELLING: EpcisShape("ObjectEvent", "OBSERVE", "retail_selling", "retail_sold"),
    K.DESTROYING: EpcisShape("ObjectEvent", "DELETE", "destroying", "destroyed"),
    # The cases packed onto a pallet: parentID its SSCC, the batches in childQuantityList.
    K.AGGREGATING: EpcisShape("AggregationEvent", "ADD", "packing", "in_progress"),
    # A voiding is exported only as the errorDeclaration of the event it voids.
    K.VOIDING: EpcisShape("ObjectEvent", "OBSERVE", "other", None),
}


def input_form_errors(present: set[str]) -> dict[str, str]:
    """Which fields of a transformation's body are wrong in how it gives its inputs, and why.

    Either ``inputs``, or one input as ``trace_code``, ``quantity`` and ``unit``: a field of the
    single-input form beside ``inputs`` is ``both``; part of that form alone leaves the rest
    ``missing``; neither form leaves ``inputs`` ``missing``.
    """
    single = present & ONE_INPUT
    if "inputs" in present:
        return dict.fromkeys(sorted(single), "both")
    if not single:
        return {"inputs": "missing"}
    return dict.fromkeys(sorted(ONE_INPUT - single), "missing")


def transformation_inputs(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A transformation's inputs, each with the JSON pointer of its place in the body."""
    if data.get("inputs"):
        return [(f"/inputs/{i}", wanted) for i, wanted in enumerate(data["inputs"])]
    return [("", {name: data[name] for name in ONE_INPUT})]


def inspection_disposition(result: str) -> str:
    """CBV disposition of a gate check: conformant when accepted, non_conformant when rejected."""
    return "conformant" if result == "accepted" else "non_conformant"


#: Rapid test methods: enzyme inhibition (GB/T 5009.199), colloidal gold strips, other.
TEST_METHODS = ("enzyme_inhibition", "colloidal_gold", "other")

_UNIT_KG = {Unit.KG: Decimal(1), Unit.JIN: Decimal("0.5")}


def to_batch_unit(quantity: Decimal, unit: Unit, batch_unit: Unit) -> Decimal | None:
    """A quantity in the batch's own unit (kg and 斤 convert exactly); None if it can't be."""
    if unit is batch_unit:
        return quantity
    if unit in _UNIT_KG and batch_unit in _UNIT_KG:
        return quantity * _UNIT_KG[unit] / _UNIT_KG[batch_unit]
    return None


def judge_test(test: dict[str, Any], *, inhibition_threshold: Decimal) -> str | None:
    """The result of a rapid test: the one given, or derived from an enzyme-inhibition rate.

    Returns None when an enzyme-inhibition rate contradicts the result given (the caller
    reports it). A rate at or above the threshold (50% by default) is positive.
    """
    derived = None
    if test["method"] == "enzyme_inhibition" and test.get("value") is not None:
        derived = "positive" if test["value"] >= inhibition_threshold else "negative"
    given = test.get("result")
    if given and derived and given != derived:
        return None
    return given or derived


#: Why a gate turns a batch away, in the order they are told: the batch's status (the one rule
#: of ``certificates.status``), a positive rapid test at this check, and custody: nothing was
#: shipped to this market, it holds none of the batch and no hand-over code was given.
GATE_REASONS = ("revoked", "recalled", "failed_inspection", "expired", "positive_test", "not_shipped")
#: The reasons for which the server refuses to record an acceptance at all (``gate.inspect``);
#: with the others an acceptance is recorded, but the gate page and ``trace-scan`` say REJECT.
REFUSED = frozenset({"revoked", "recalled", "positive_test"})


def gate_reasons(*, status: BatchStatus, test_results: Sequence[str], custody: str | None) -> tuple[str, ...]:
    """Why a gate check must reject the batch (empty: accept), from the facts the caller read.

    ``status`` is the batch's (``batch_status``); ``test_results`` the judged rapid tests of
    this check; ``custody`` on what word the market would take it (``shipment``, ``held``,
    ``handover_code``, ``none``; None: not asked, as when a regulator checks).
    """
    reasons = [] if status is BatchStatus.VALID else [status.value]
    if "positive" in test_results:
        reasons.append("positive_test")
    if custody == "none":
        reasons.append("not_shipped")
    return tuple(reasons)


def refuses_acceptance(reasons: Sequence[str]) -> bool:
    """Whether the server refuses to record these reasons' batch as accepted."""
    return any(reason in REFUSED for reason in reasons)
