"""Schemas of ``POST /api/v1/events`` (one body, checked per kind) and of recorded events."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from traceapp import limits
from traceapp.certificates.models import Category, HoldingState, Unit
from traceapp.certificates.schemas import CertificateIn, CertificateOut, OriginIn, ProducerIn
from traceapp.certificates.status import BatchStatus
from traceapp.coldchain.verdicts import Verdict
from traceapp.events.models import EventKind, ItemRole
from traceapp.events.rules import KIND_FIELDS, TEST_METHODS, input_form_errors
from traceapp.schemas import (
    UUID,
    DecimalNumber,
    Enum,
    EventTime,
    List,
    Nested,
    ProblemOut,
    QuantityField,
    Str,
    StrictSchema,
    enum_out,
)

RECORDABLE = [k for k in EventKind if k is not EventKind.COMMISSIONING]
_ONE_OF = _l("Choose one of the listed values.")


class TemperatureField(DecimalNumber):
    """A temperature in °C, as a number or a string of digits."""

    default_error_messages = {
        "invalid": _l("Expected a temperature in °C."),
        "special": _l("Expected a temperature in °C."),
        "required": _l("This field is required."),
        "null": _l("This field may not be empty."),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(
            places=2,
            validate=validate.Range(min=-100, max=150, error=_l("Outside any plausible temperature range.")),
            **kwargs,
        )


class ReadingIn(StrictSchema):
    at = EventTime(required=True)
    celsius = TemperatureField(required=True)


class RangeIn(StrictSchema):
    """The allowed range for this leg when it differs from the product's (e.g. frozen)."""

    low = TemperatureField(load_default=None)
    high = TemperatureField(load_default=None)


class RapidTestIn(StrictSchema):
    """A rapid residue test at the gate (快检)."""

    method = Str(required=True, validate=validate.OneOf(TEST_METHODS, error=_ONE_OF))
    item = Str(required=True, validate=validate.Length(max=100, error=_l("At most 100 characters.")))
    value = DecimalNumber(
        load_default=None,
        validate=validate.Range(min=-1_000_000, max=1_000_000, error=_l("Outside any plausible reading.")),
    )
    value_unit = Str(load_default=None, validate=validate.Length(max=20))
    result = Str(load_default=None, validate=validate.OneOf(["negative", "positive"], error=_ONE_OF))
    tester = Str(load_default=None, validate=validate.Length(max=100))
    device = Str(load_default=None, validate=validate.Length(max=100))
    tested_at = EventTime(load_default=None)


class BroughtByIn(StrictSchema):
    name = Str(required=True, validate=validate.Length(max=100, error=_l("At most 100 characters.")))
    phone = Str(load_default=None, validate=validate.Length(max=32))
    vehicle = Str(load_default=None, validate=validate.Length(max=20))


class EntryIn(StrictSchema):
    """A batch that arrived without a certificate: what the market records for it."""

    product_name = Str(required=True, validate=validate.Length(max=60, error=_l("At most 60 characters.")))
    category = Enum(Category, load_default=None)
    origin = Nested(OriginIn, required=True)
    producer = Nested(ProducerIn, required=True)


class InputIn(StrictSchema):
    """A batch consumed: one of ours by ``trace_code``, or a line of the buyer's purchases by
    ``purchase_line`` (re-issuing for what it bought, whatever certificate came with it)."""

    trace_code = Str(load_default=None)
    purchase_line = UUID(load_default=None, metadata={"description": "A line of your purchase (收购)."})
    quantity = QuantityField(required=True)
    unit = Enum(Unit, required=True)

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_kwargs: Any) -> None:
        given = [name for name in ("trace_code", "purchase_line") if data.get(name) is not None]
        if len(given) != 1:
            name = given[-1] if given else "trace_code"
            raise ValidationError(str(_l("Give a trace_code or a purchase_line, one of them.")), name)


class PortionIn(StrictSchema):
    quantity = QuantityField(required=True)
    unit = Enum(Unit, required=True)


class CorrectsIn(StrictSchema):
    event_id = UUID(required=True, metadata={"description": "The client event_id being corrected."})
    reason = Str(required=True, validate=validate.Length(max=500, error=_l("At most 500 characters.")))


class EventOutputIn(CertificateIn):
    """A transformation output: a certificate body (its event_id is the event's)."""

    class Meta:
        exclude = ("event_id",)


class EventIn(StrictSchema):
    """A hop to record. Which fields apply depends on ``kind``; others are refused."""

    event_id = UUID(required=True, metadata={"description": "Client-chosen id for safe retries."})
    kind = Enum(EventKind, required=True, validate=validate.OneOf(RECORDABLE, error=_ONE_OF))
    occurred_at = EventTime(
        required=True,
        metadata={
            "example": "2026-11-20T08:30:00+08:00",
            "description": f"Not before 2000, nor more than {limits.CLOCK_SKEW.seconds // 60} minutes "
            "ahead of the server's clock.",
        },
    )
    trace_code = Str(load_default=None)
    quantity = QuantityField(load_default=None)
    unit = Enum(Unit, load_default=None)
    location = Str(load_default=None, validate=validate.Length(max=200, error=_l("At most 200 characters.")))
    to_org = UUID(load_default=None)
    carrier_org = UUID(load_default=None)
    from_org = UUID(load_default=None)
    handover_code = Str(
        load_default=None,
        validate=validate.Length(max=20, error=_l("At most 20 characters.")),
        metadata={
            "description": "inspecting: the hand-over code the holder gave, when nothing was shipped "
            "to this market; without it (or a shipment) no stock moves"
        },
    )
    shipping_event_id = UUID(load_default=None)
    temperatures = List(Nested(ReadingIn), load_default=None, max_items=limits.TEMPERATURES)
    temperature_min = TemperatureField(load_default=None)
    temperature_max = TemperatureField(load_default=None)
    temperature_range = Nested(RangeIn, load_default=None)
    result = Str(load_default=None, validate=validate.OneOf(["accepted", "rejected"], error=_ONE_OF))
    certificate_status = Str(
        load_default=None,
        validate=validate.OneOf(["valid", "revoked", "missing", "unreadable"], error=_ONE_OF),
    )
    brought_by = Nested(BroughtByIn, load_default=None)
    tests = List(Nested(RapidTestIn), load_default=None, max_items=limits.TESTS)
    entry = Nested(EntryIn, load_default=None)
    inputs = List(
        Nested(InputIn),
        load_default=None,
        max_items=limits.INPUTS,
        metadata={
            "description": "transforming: the batches consumed (or one, as trace_code, quantity, unit)"
        },
    )
    outputs = fields.Raw(
        load_default=None,
        metadata={
            "description": "transforming: certificate bodies; portioning: [{quantity, unit}]",
            "type": "array",
            "items": {"type": "object"},
            "minItems": 1,
            "maxItems": limits.OUTPUTS,
        },
    )
    cases = List(
        Nested(InputIn),
        load_default=None,
        max_items=limits.INPUTS,
        metadata={"description": "aggregating: the batches packed onto the pallet, with how much of each"},
    )
    corrects = Nested(CorrectsIn, load_default=None)
    note = Str(load_default=None, validate=validate.Length(max=500, error=_l("At most 500 characters.")))

    @validates_schema
    def _fields_for_kind(self, data: dict[str, Any], **_kwargs: Any) -> None:
        kind = data.get("kind")
        if kind is None:
            return
        required, allowed = KIND_FIELDS[kind]
        present = {k for k, v in data.items() if v not in (None, []) and k not in _ALWAYS}
        errors: dict[str, list[str]] = {}
        for name in sorted(required - present):
            errors[name] = [str(_l("This field is required."))]
        for name in sorted(present - required - allowed):
            errors[name] = [str(_l("Not used for this kind of event."))]
        if kind is EventKind.TRANSFORMING:
            for name, problem in input_form_errors(present).items():
                errors.setdefault(name, [str(_INPUT_FORM_MESSAGES[problem])])
        if errors:
            raise ValidationError(errors)

    @post_load
    def _typed_outputs(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["outputs"] = _load_outputs(data["kind"], data.get("outputs"))
        return data


_ALWAYS = frozenset({"event_id", "kind", "occurred_at"})
_INPUT_FORM_MESSAGES = {
    "missing": _l("This field is required."),
    "both": _l("Give one input here or several in inputs, not both."),
}


def _load_outputs(kind: EventKind, raw: Any) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    schema = EventOutputIn if kind is EventKind.TRANSFORMING else PortionIn
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"outputs": [str(_l("Expected a list with at least one output."))]})
    if len(raw) > limits.OUTPUTS:
        raise ValidationError({"outputs": [str(_l("At most %(max)d items.") % {"max": limits.OUTPUTS})]})
    try:
        return schema(many=True).load(raw)
    except ValidationError as exc:
        raise ValidationError({"outputs": exc.messages}) from exc


class EventItemOut(Schema):
    trace_code = fields.String()
    role = enum_out(ItemRole)
    quantity = QuantityField(allow_none=True)
    unit = enum_out(Unit, allow_none=True)


class OutputOut(Schema):
    """A certificate an event produced (a transformation's or portioning's output, an entry
    record)."""

    certificate_id = fields.String()
    trace_code = fields.String()
    public_url = fields.String()


class EventOut(Schema):
    """A recorded event (the journey's step), with the certificates it produced."""

    id = fields.UUID()
    event_id = fields.UUID()
    kind = enum_out(EventKind)
    occurred_at = fields.AwareDateTime()
    tz_offset = fields.String()
    recorded_at = fields.AwareDateTime()
    org_id = fields.UUID()
    org_name = fields.String()
    biz_step = fields.String()
    disposition = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    source_org_id = fields.UUID(allow_none=True)
    destination_org_id = fields.UUID(allow_none=True)
    items = fields.List(fields.Nested(EventItemOut))
    details = fields.Dict()
    corrects = fields.UUID(allow_none=True)
    corrected_by = fields.UUID(allow_none=True)
    outputs = fields.List(fields.Nested(OutputOut))


class ParsedLogOut(Schema):
    layout = fields.String()
    readings = fields.List(fields.Dict())


class HolderOut(Schema):
    org_id = fields.String()
    org_name = fields.String()
    state = enum_out(HoldingState)
    quantity = QuantityField()
    unit = enum_out(Unit)


class ClaimOut(Schema):
    """A rejection by a market that never had the batch: its claim, not the batch's verdict."""

    event_id = fields.UUID()
    org_id = fields.UUID()
    org_name = fields.String()
    occurred_at = fields.AwareDateTime()


class CodeOut(Schema):
    """What a scanner needs to accept or reject a batch: status, certificate, holders, journey."""

    trace_code = fields.String()
    status = enum_out(
        BatchStatus,
        metadata={
            "description": "The batch's status, strongest first: revoked, recalled, "
            "failed_inspection, suspicious (scanned far more often, or in more places, than the "
            "batch's size explains: the rule is configuration), expired (once certificates carry a "
            "best-before date), valid."
        },
    )
    certificate = fields.Nested(CertificateOut)
    holders = fields.List(
        fields.Nested(HolderOut),
        metadata={"description": "Empty for an organisation that never handled the batch."},
    )
    claims = fields.List(fields.Nested(ClaimOut))
    cold_chain = enum_out(Verdict)
    made_from = fields.List(fields.String())
    went_into = fields.List(fields.String())
    events = fields.List(fields.Nested(EventOut))


class EventBatchIn(StrictSchema):
    """Many events in one request, each the body ``POST /api/v1/events`` takes."""

    events = List(
        fields.Raw(
            metadata={
                "type": "object",
                "description": "An event, as POST /api/v1/events takes it; read and judged on its own.",
            }
        ),
        required=True,
        max_items=limits.EVENTS_PER_BATCH,
        validate=validate.Length(min=1, error=_l("Expected a list with at least one event.")),
    )


class BatchOutcomeOut(Schema):
    """What became of one event of a batch, with the status it would have had alone."""

    index = fields.Integer(metadata={"description": "Its place in the batch, from 0."})
    event_id = fields.String(allow_none=True, metadata={"description": "The client's event_id as sent."})
    status = fields.Integer(metadata={"description": "201 recorded, 200 replayed, or the refusal's 4xx."})
    id = fields.String(metadata={"description": "The server's id of the event (on 2xx)."})
    problem = fields.Nested(ProblemOut, metadata={"description": "The refusal, as alone (on 4xx)."})


class BatchCountsOut(Schema):
    created = fields.Integer()
    replayed = fields.Integer()
    refused = fields.Integer()


class EventBatchOut(Schema):
    """One outcome per event, in the order sent, and how many of each."""

    results = fields.List(fields.Nested(BatchOutcomeOut))
    counts = fields.Nested(BatchCountsOut)
