"""Schemas of ``/api/v1/purchases``: a purchase to record, its answer, list filters, voiding."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from traceapp import regions
from traceapp.certificates.models import Unit
from traceapp.certificates.schemas import PHONE_CHARS
from traceapp.orgs.members import MAX_RETENTION_MONTHS, MIN_RETENTION_MONTHS
from traceapp.purchases.models import CollectedKind
from traceapp.purchases.rules import EXEMPTIONS
from traceapp.schemas import (
    UUID,
    Date,
    DateTime,
    Enum,
    EventTime,
    Int,
    List,
    Nested,
    QuantityField,
    Str,
    StrictSchema,
    enum_out,
)

_ONE_OF = _l("Choose one of the listed values.")


class SellerIn(StrictSchema):
    """Who sold: an organisation we know (``org_id``), or a seller typed by name, phone and region
    (a farm household without an account)."""

    org_id = UUID(load_default=None)
    name = Str(load_default=None, validate=validate.Length(max=200, error=_l("At most 200 characters.")))
    phone = Str(load_default=None, validate=PHONE_CHARS)
    region_code = Str(load_default=None)

    @validates_schema
    def _one_seller(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("org_id") is None and not data.get("name"):
            raise ValidationError(str(_l("Name the seller, or give its organisation's id.")), "name")
        if data.get("org_id") is not None and data.get("name"):
            raise ValidationError(str(_l("Give the organisation's id or a name, not both.")), "name")
        code = data.get("region_code")
        if code is not None and not regions.CODE_RE.match(code):
            raise ValidationError(str(_l("Enter the 6-digit administrative division code.")), "region_code")


class LineIn(StrictSchema):
    """A lot bought, with the certificate collected with it (``collected``): ``ours`` (``code``:
    a scanned QR, trace code or Digital Link), ``foreign`` (``code`` and the ``url`` its QR
    carried), ``paper`` (``photo_id`` from ``POST /api/v1/purchases/photos``, and
    ``producer_name``, ``issue_date``, ``origin`` as printed) or ``none`` (``exemption``:
    ``own_produce`` (自产) or ``other`` with ``exemption_note``)."""

    product_name = Str(required=True, validate=validate.Length(max=60, error=_l("At most 60 characters.")))
    quantity = QuantityField(required=True)
    unit = Enum(Unit, required=True)
    collected = Str(
        required=True,
        validate=validate.OneOf([k.value for k in CollectedKind], error=_ONE_OF),
        metadata={"enum": [k.value for k in CollectedKind]},
    )
    code = Str(load_default=None, validate=validate.Length(max=200, error=_l("At most 200 characters.")))
    url = Str(load_default=None, validate=validate.Length(max=500, error=_l("At most 500 characters.")))
    photo_id = UUID(load_default=None)
    producer_name = Str(
        load_default=None, validate=validate.Length(max=200, error=_l("At most 200 characters."))
    )
    origin = Str(load_default=None, validate=validate.Length(max=200, error=_l("At most 200 characters.")))
    issue_date = Date(load_default=None)
    exemption = Str(load_default=None, validate=validate.OneOf(EXEMPTIONS, error=_ONE_OF))
    exemption_note = Str(
        load_default=None, validate=validate.Length(max=200, error=_l("At most 200 characters."))
    )


class PurchaseIn(StrictSchema):
    """A purchase to record (never edited afterwards: a wrong one is voided)."""

    event_id = UUID(required=True, metadata={"description": "Client-chosen id for safe retries."})
    seller = Nested(SellerIn, required=True)
    purchased_at = EventTime(required=True, metadata={"example": "2026-12-01T07:30:00+08:00"})
    place = Str(load_default=None, validate=validate.Length(max=200, error=_l("At most 200 characters.")))
    reference_document = Str(
        load_default=None,
        validate=validate.Length(max=60, error=_l("At most 60 characters.")),
        metadata={"description": "The buyer's document, e.g. the 收购单 number."},
    )
    lines = List(
        Nested(LineIn),
        required=True,
        max_items=100,
        validate=validate.Length(min=1, error=_l("Add at least one lot.")),
    )


class VoidIn(StrictSchema):
    """Why the purchase is voided."""

    reason = Str(required=True, validate=validate.Length(min=1, max=500, error=_l("At most 500 characters.")))


class PurchaseQuery(StrictSchema):
    """Filters: purchase time from (inclusive) and to (exclusive), seller (organisation id or part
    of the name), page."""

    since = DateTime(load_default=None)
    until = DateTime(load_default=None)
    seller = Str(load_default=None, validate=validate.Length(max=200, error=_l("At most 200 characters.")))
    limit = Int(load_default=50, validate=validate.Range(min=1, max=100, error=_l("Between 1 and 100.")))
    offset = Int(load_default=0, validate=validate.Range(min=0, max=100_000, error=_l("Invalid value.")))


class RetentionIn(StrictSchema):
    """How many months to keep purchases and collected certificates (at least 6; null: forever)."""

    retention_months = Int(
        required=True,
        allow_none=True,
        validate=[
            validate.Range(
                min=MIN_RETENTION_MONTHS, error=_l("Collected certificates must be kept at least six months.")
            ),
            validate.Range(max=MAX_RETENTION_MONTHS, error=_l("At most 1200 months (a hundred years).")),
        ],
    )


class RetentionOut(Schema):
    retention_months = fields.Integer(allow_none=True)


class PhotoOut(Schema):
    id = fields.UUID()
    content_type = fields.String()
    size = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()


class LineOut(Schema):
    id = fields.UUID()
    position = fields.Integer()
    product_name = fields.String()
    quantity = fields.String()
    unit = enum_out(Unit)
    remaining = fields.String()
    collected = enum_out(CollectedKind)
    trace_code = fields.String(allow_none=True)
    receiving_event_id = fields.UUID(allow_none=True)
    external_code = fields.String(allow_none=True)
    external_url = fields.String(allow_none=True)
    photo_id = fields.UUID(allow_none=True)
    producer_name = fields.String(allow_none=True)
    origin = fields.String(allow_none=True)
    issue_date = fields.Date(allow_none=True)
    exemption = fields.String(allow_none=True)
    exemption_note = fields.String(allow_none=True)


class SellerOut(Schema):
    org_id = fields.UUID(allow_none=True)
    name = fields.String()
    phone = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)


class PurchaseOut(Schema):
    id = fields.UUID()
    event_id = fields.UUID()
    buyer_org_id = fields.UUID()
    seller = Nested(SellerOut)
    purchased_at = fields.String()
    place = fields.String(allow_none=True)
    reference_document = fields.String(allow_none=True)
    recorded_at = fields.String()
    voided = fields.Boolean()
    voided_at = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)
    lines = fields.List(Nested(LineOut))


class PurchaseListOut(Schema):
    items = fields.List(Nested(PurchaseOut))
