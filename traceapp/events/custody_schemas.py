"""Schemas of custody at the gate: hand-over codes, the holder's list of gate takes, disputes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from traceapp.certificates.models import Unit
from traceapp.events.models import DisputeStatus
from traceapp.schemas import UUID, Enum, QuantityField, Str, StrictSchema, enum_out

_ONE_OF = _l("Choose one of the listed values.")


class HandoverCodeIn(StrictSchema):
    """Ask for a hand-over code for stock your organisation holds (the seller gives it at the
    market gate with the goods)."""

    event_id = UUID(required=True, metadata={"description": "Client-chosen id for safe retries."})
    trace_code = Str(required=True)
    quantity = QuantityField(
        load_default=None,
        metadata={"description": "At most this much; without it, all you hold at the gate."},
    )
    unit = Enum(Unit, load_default=None)
    to_org = UUID(load_default=None, metadata={"description": "Only this market may use the code."})


class HandoverCodeOut(Schema):
    """A hand-over code: show it to the gate (it is good once, until ``expires_at``)."""

    id = fields.UUID()
    code = fields.String(metadata={"description": "Ten characters; the gate sends it as handover_code."})
    code_display = fields.String()
    trace_code = fields.String()
    quantity = QuantityField(allow_none=True)
    unit = fields.String(allow_none=True)
    to_org = fields.UUID(allow_none=True)
    to_org_name = fields.String(allow_none=True)
    state = fields.String(metadata={"description": "active, used, cancelled or expired"})
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    used_at = fields.AwareDateTime(allow_none=True)
    used_by_event = fields.UUID(allow_none=True)


class HandoverCodeListOut(Schema):
    items = fields.List(fields.Nested(HandoverCodeOut))


class GateTakeOut(Schema):
    """A gate check that took your organisation's stock (you are told; you may dispute it)."""

    gate_check_id = fields.UUID()
    trace_code = fields.String()
    market_org_id = fields.UUID()
    market = fields.String()
    occurred_at = fields.AwareDateTime()
    quantity = QuantityField(allow_none=True)
    unit = fields.String(allow_none=True)
    basis = fields.String(metadata={"description": "shipment or handover_code"})
    voided = fields.Boolean()
    dispute_id = fields.UUID(allow_none=True)
    dispute_status = enum_out(DisputeStatus, allow_none=True)


class GateTakeListOut(Schema):
    items = fields.List(fields.Nested(GateTakeOut))


class DisputeIn(StrictSchema):
    """Dispute a gate check that took your organisation's stock."""

    event_id = UUID(required=True, metadata={"description": "Client-chosen id for safe retries."})
    gate_check_id = UUID(
        required=True, metadata={"description": "The gate check's id (GET /api/v1/handovers)."}
    )
    reason = Str(
        required=True,
        validate=validate.Length(max=500, error=_l("At most 500 characters.")),
    )


class DisputeQuery(StrictSchema):
    status = Str(load_default=None, validate=validate.OneOf([s.value for s in DisputeStatus], error=_ONE_OF))


class ResolutionIn(StrictSchema):
    """A regulator's decision: ``upheld`` (custody returns) or ``dismissed`` (the check stands)."""

    decision = Str(required=True, validate=validate.OneOf(["upheld", "dismissed"], error=_ONE_OF))
    note = Str(
        required=True,
        validate=validate.Length(max=500, error=_l("At most 500 characters.")),
    )


class DisputeOut(Schema):
    """A dispute of a gate check, and how a regulator resolved it."""

    id = fields.UUID()
    event_id = fields.UUID(metadata={"description": "The client id it was opened with."})
    gate_check_id = fields.UUID()
    trace_code = fields.String()
    holder_org_id = fields.UUID()
    holder = fields.String()
    market_org_id = fields.UUID()
    market = fields.String()
    reason = fields.String()
    opened_at = fields.AwareDateTime()
    status = enum_out(DisputeStatus)
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolution_note = fields.String(allow_none=True)
    correction_event_id = fields.UUID(
        allow_none=True, metadata={"description": "Upheld: the voiding event that gave the stock back."}
    )


class DisputeListOut(Schema):
    items = fields.List(fields.Nested(DisputeOut))
