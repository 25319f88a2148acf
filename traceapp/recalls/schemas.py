"""Schemas for trace and recall requests and answers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from traceapp.orgs.models import OrgKind
from traceapp.recalls.models import RecallStatus, Severity
from traceapp.schemas import Enum, List, Str, StrictSchema, enum_out

_ONE_OF = _l("Not one of the allowed values.")
DIRECTIONS = ["backward", "forward"]


class TraceQuery(StrictSchema):
    direction = Str(load_default="forward", validate=validate.OneOf(DIRECTIONS, error=_ONE_OF))


class RecallIn(StrictSchema):
    """A recall of one or more batches (and everything made from them)."""

    trace_codes = List(
        Str(),
        required=True,
        validate=validate.Length(min=1, max=200, error=_l("Between 1 and 200 trace codes.")),
    )
    reason = Str(required=True, validate=validate.Length(max=500, error=_l("At most 500 characters.")))
    severity = Enum(Severity, required=True)
    instructions = Str(
        load_default=None,
        validate=validate.Length(max=500, error=_l("At most 500 characters.")),
        metadata={"description": "What consumers and holders should do, shown on every affected page."},
    )


class CloseIn(StrictSchema):
    note = Str(required=True, validate=validate.Length(max=500, error=_l("At most 500 characters.")))


class ExportQuery(StrictSchema):
    columns = Str(
        load_default="en",
        validate=validate.OneOf(["en", "zh"], error=_ONE_OF),
        metadata={"description": "en: FSMA 204 key data element names; zh: Chinese column names"},
    )


class PartyOut(Schema):
    org_id = fields.String()
    name = fields.String()
    kind = enum_out(OrgKind)
    phone = fields.String(allow_none=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)


class RecallOut(Schema):
    id = fields.String()
    status = enum_out(RecallStatus)
    severity = enum_out(Severity)
    reason = fields.String()
    instructions = fields.String(allow_none=True)
    opened_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    close_note = fields.String(allow_none=True)
    trace_codes = fields.List(fields.String())
    batches = fields.List(fields.Dict())
    parties = fields.List(fields.Nested(PartyOut))


class RecallListOut(Schema):
    items = fields.List(fields.Dict())


class TraceOut(Schema):
    """Batches and organisations reached, with quantities and mass balance."""

    root = fields.String()
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    scope = fields.String(
        validate=validate.OneOf(["full", "direct"]),
        metadata={"description": "full, or direct (one hop) for non-regulators"},
    )
    batches = fields.List(fields.Dict())
    links = fields.List(fields.Dict())
    organisations = fields.List(fields.Dict())
