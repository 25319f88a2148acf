"""Schemas for trace and recall requests and answers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from traceapp import limits
from traceapp.certificates.models import CertificateKind, Unit
from traceapp.jobs.models import JobStatus
from traceapp.orgs.models import OrgKind
from traceapp.recalls.models import RecallStatus, Severity
from traceapp.schemas import Enum, List, Str, StrictSchema, enum_out

_ONE_OF = _l("Choose one of the listed values.")
DIRECTIONS = ["backward", "forward"]


class TraceQuery(StrictSchema):
    direction = Str(load_default="forward", validate=validate.OneOf(DIRECTIONS, error=_ONE_OF))


class RecallIn(StrictSchema):
    """A recall of one or more batches (and everything made from them)."""

    trace_codes = List(
        Str(),
        required=True,
        validate=validate.Length(
            min=1, max=limits.RECALL_CODES, error=_l("Between 1 and {max} trace codes.")
        ),
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


class ExportJobIn(StrictSchema):
    """An export to build as a job."""

    format = Str(
        required=True,
        validate=validate.OneOf(["csv", "xlsx"], error=_ONE_OF),
        metadata={"description": "csv (UTF-8 with BOM) or xlsx"},
    )
    columns = Str(
        load_default="en",
        validate=validate.OneOf(["en", "zh"], error=_ONE_OF),
        metadata={"description": "en: FSMA 204 key data element names; zh: Chinese column names"},
    )


class JobProgressOut(Schema):
    done = fields.Integer(metadata={"description": "rows written so far"})
    total = fields.Integer(allow_none=True, metadata={"description": "rows in all; null until counted"})
    percent = fields.Integer()


class ExportJobOut(Schema):
    """An export job: where it stands and, once done, where its file is."""

    id = fields.String()
    url = fields.String(metadata={"description": "this resource (also the Location of the 202)"})
    recall_id = fields.String()
    format = fields.String()
    columns = fields.String()
    status = enum_out(JobStatus)
    progress = fields.Nested(JobProgressOut)
    attempts = fields.Integer()
    error = fields.String(
        allow_none=True,
        metadata={
            "description": "a failed attempt, in the asker's language (the cause itself is for an "
            "administrator, in `traceapp jobs list`); null while none failed"
        },
    )
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)
    download_url = fields.String(allow_none=True, metadata={"description": "the file, once done"})


class PartyOut(Schema):
    org_id = fields.String()
    name = fields.String()
    kind = enum_out(OrgKind)
    phone = fields.String(allow_none=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    opened_recall = fields.Boolean(
        metadata={"description": "this organisation opened the recall (acknowledged when it opened it)"}
    )


class RecallBatchOut(Schema):
    trace_code = fields.String()
    product_name = fields.String()
    root = fields.Boolean(metadata={"description": "recalled by name (else: made from one that was)"})


class RecallOut(Schema):
    """A recall with its batches and who has and has not acknowledged."""

    id = fields.String()
    status = enum_out(RecallStatus)
    severity = enum_out(Severity)
    reason = fields.String()
    instructions = fields.String(allow_none=True)
    opened_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    close_note = fields.String(allow_none=True)
    trace_codes = fields.List(fields.String())
    batches = fields.List(fields.Nested(RecallBatchOut))
    parties = fields.List(fields.Nested(PartyOut))
    pallets = fields.List(
        fields.String(), metadata={"description": "SSCCs of the pallets carrying a recalled batch"}
    )


class RecallListOut(Schema):
    items = fields.List(fields.Nested(RecallOut))


class HeldOut(Schema):
    org = fields.String()
    quantity = fields.String()


class MassBalanceOut(Schema):
    """Where the batch's quantity is now, and where the rest went (decimal strings). The
    outflows appear only when some quantity went that way."""

    held = fields.List(fields.Nested(HeldOut))
    in_transit = fields.String()
    consumed = fields.String()
    sold = fields.String()
    destroyed = fields.String()
    lost = fields.String()
    corrected = fields.String()
    accounted = fields.String()
    unaccounted = fields.String()


class TraceBatchOut(Schema):
    trace_code = fields.String()
    public_url = fields.String()
    kind = enum_out(CertificateKind)
    product_name = fields.String()
    quantity = fields.String()
    unit = enum_out(Unit)
    issuer = fields.String(allow_none=True)
    revoked = fields.Boolean()
    mass_balance = fields.Nested(MassBalanceOut)


class TraceLinkOut(Schema):
    """Part of an input batch went into an output batch through one event."""

    event_id = fields.String()
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    consumed = fields.String(allow_none=True)
    unit = enum_out(Unit, allow_none=True)
    produced = fields.String(allow_none=True)


class TraceOrgOut(Schema):
    id = fields.String()
    name = fields.String()
    kind = enum_out(OrgKind)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    region = fields.String()
    received = fields.List(fields.String(), metadata={"description": "trace codes it received"})


class TracePalletOut(Schema):
    sscc = fields.String()
    trace_codes = fields.List(fields.String())


class TraceOut(Schema):
    """Batches and organisations reached, with quantities and mass balance."""

    root = fields.String()
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    scope = fields.String(
        validate=validate.OneOf(["full", "direct"]),
        metadata={"description": "full, or direct (one hop) for non-regulators"},
    )
    batches = fields.List(fields.Nested(TraceBatchOut))
    links = fields.List(fields.Nested(TraceLinkOut))
    organisations = fields.List(fields.Nested(TraceOrgOut))
    pallets = fields.List(
        fields.Nested(TracePalletOut),
        metadata={"description": "the pallets (SSCC) that carry any batch reached, with which"},
    )
