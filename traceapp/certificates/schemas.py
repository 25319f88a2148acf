"""Input and output schemas for certificates; the API and the issue form both load through them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates, validates_schema

from traceapp import clock, gs1, limits, regions
from traceapp.certificates.models import Basis, Category, Commitment, Unit
from traceapp.certificates.status import CertificateStatus
from traceapp.labels.layouts import DPI_CHOICES, LABEL_SIZES, MAX_RECEIPT_COPIES, RECEIPT_PAPERS, SHEETS
from traceapp.schemas import (
    UUID,
    Date,
    Enum,
    Int,
    List,
    Nested,
    QuantityField,
    Str,
    StrictSchema,
    enum_out,
    field_error,
)

PHONE_CHARS = validate.Regexp(r"^\+?[0-9][0-9 \-]{4,30}$", error=_l("Enter a phone number."))


class OriginIn(StrictSchema):
    """Where the batch was grown: 6-digit administrative division code and address."""

    region_code = Str(required=True, metadata={"example": "420116"})
    address = Str(
        load_default=None,
        validate=validate.Length(max=200, error=_l("At most 200 characters.")),
        metadata={"example": "黄陂区木兰乡"},
    )

    @validates("region_code")
    def _known_region(self, value: str, **_kwargs: Any) -> None:
        if not regions.CODE_RE.match(value):
            raise field_error(_l("Enter the 6-digit administrative division code."))
        if not regions.is_known(value):
            raise field_error(_l("Unknown administrative division code."))


class TestReportRefIn(StrictSchema):
    """The commissioned lab test behind a certificate; upload the file first (POST /reports)."""

    lab_name = Str(required=True, validate=validate.Length(max=100, error=_l("At most 100 characters.")))
    report_number = Str(required=True, validate=validate.Length(max=60, error=_l("At most 60 characters.")))
    report_id = UUID(load_default=None)


class ProducerIn(StrictSchema):
    """Who produced the batch, when a station issues for a farmer (default: the organisation)."""

    name = Str(required=True, validate=validate.Length(max=200, error=_l("At most 200 characters.")))
    phone = Str(load_default=None, validate=PHONE_CHARS)


class CertificateIn(StrictSchema):
    """A certificate to issue. All three commitments are required; a lab test needs its report."""

    event_id = UUID(
        load_default=None,
        metadata={
            "description": "Client-chosen id; a retry with the same id and body returns the stored "
            "certificate (200), with another body a 409."
        },
    )
    product_name = Str(
        required=True,
        validate=validate.Length(max=60, error=_l("At most 60 characters.")),
        metadata={"example": "大白菜"},
    )
    category = Enum(Category, load_default=None)
    quantity = QuantityField(required=True, metadata={"example": "500"})
    unit = Enum(Unit, required=True)
    origin = Nested(OriginIn, required=True)
    harvest_date = Date(load_default=None)
    batch_no = Str(load_default=None, validate=validate.Length(max=40, error=_l("At most 40 characters.")))
    gtin = Str(load_default=None)
    # No default: a body without it digests as before (idempotent replays of older requests).
    replaces = Str(
        validate=validate.Length(max=40, error=_l("At most 40 characters.")),
        metadata={
            "description": "Trace code of a revoked certificate of your organisation that this one "
            "replaces: the revoked one's public page links here."
        },
    )
    commitments = List(
        Enum(Commitment),
        required=True,
        error_messages={"required": _l("All three commitments are required.")},
    )
    basis = List(
        Enum(Basis),
        required=True,
        error_messages={"required": _l("Choose at least one basis for the commitment.")},
    )
    test_report = Nested(TestReportRefIn, load_default=None)
    producer = Nested(ProducerIn, load_default=None)

    @validates("harvest_date")
    def _harvest_not_future(self, value: date | None, **_kwargs: Any) -> None:
        # Today anywhere: the farm's zone is at most a day ahead of UTC (UTC+14 at the most).
        if value is not None and value > clock.now().date() + timedelta(days=1):
            raise field_error(_l("The harvest date cannot be in the future."))
        if value is not None and value.year < 2000:
            raise field_error(_l("The harvest date is too far in the past."))

    @validates("gtin")
    def _valid_gtin(self, value: str | None, **_kwargs: Any) -> None:
        if value is not None and not gs1.is_valid_gtin(value):
            raise field_error(_l("Not a valid GTIN (8, 12, 13 or 14 digits with a check digit)."))

    @validates("commitments")
    def _all_commitments(self, value: list[Commitment], **_kwargs: Any) -> None:
        if set(value) != set(Commitment):
            raise field_error(_l("All three commitments are required."))

    @validates("basis")
    def _some_basis(self, value: list[Basis], **_kwargs: Any) -> None:
        if not value:
            raise field_error(_l("Choose at least one basis for the commitment."))
        if len(set(value)) != len(value):
            raise field_error(_l("Each basis may appear once."))

    @validates_schema
    def _report_for_lab_test(self, data: dict[str, Any], **_kwargs: Any) -> None:
        tested = Basis.COMMISSIONED_TEST in (data.get("basis") or [])
        if tested and not data.get("test_report"):
            raise ValidationError(
                {
                    "test_report": [
                        str(_l("A commissioned test needs the lab name, report number and report file."))
                    ]
                }
            )
        if tested and not data["test_report"].get("report_id"):
            raise ValidationError({"test_report": {"report_id": [str(_l("Upload the test report file."))]}})
        if not tested and data.get("test_report"):
            raise ValidationError(
                {"test_report": [str(_l("A test report belongs only to a commissioned test basis."))]}
            )


class OriginOut(Schema):
    region_code = fields.String()
    region_name = fields.String()
    address = fields.String(allow_none=True)


class TestReportOut(Schema):
    lab_name = fields.String()
    report_number = fields.String()
    report_url = fields.String(allow_none=True)


class ProducerOut(Schema):
    name = fields.String()
    phone = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)


class RevocationOut(Schema):
    at = fields.AwareDateTime()
    reason = fields.String()


class CertificateOut(Schema):
    """An issued certificate, with its trace code, public URL and label links."""

    id = fields.UUID()
    trace_code = fields.String()
    trace_code_display = fields.String()
    public_url = fields.String()
    status = enum_out(
        CertificateStatus,
        metadata={
            "description": "The certificate's own state. The batch's status (recalls, gate checks "
            "included) is the one GET /api/v1/codes/{code} answers."
        },
    )
    product_name = fields.String()
    category = enum_out(Category, allow_none=True)
    quantity = QuantityField()
    unit = enum_out(Unit)
    origin = fields.Nested(OriginOut)
    harvest_date = fields.Date(allow_none=True)
    batch_no = fields.String(allow_none=True)
    gtin = fields.String(allow_none=True)
    commitments = fields.List(enum_out(Commitment))
    basis = fields.List(enum_out(Basis))
    test_report = fields.Nested(TestReportOut, allow_none=True)
    producer = fields.Nested(ProducerOut)
    issued_at = fields.AwareDateTime()
    revocation = fields.Nested(RevocationOut, allow_none=True)
    links = fields.Dict(keys=fields.String(), values=fields.String())


class CertificateQuery(StrictSchema):
    """Filters for the caller's certificate list."""

    status = Str(
        load_default=None,
        validate=validate.OneOf(["valid", "revoked"], error=_l("Choose one of the listed values.")),
    )
    product_name = Str(load_default=None)
    issued_from = Date(load_default=None)
    issued_to = Date(load_default=None)


class RevokeIn(StrictSchema):
    """Why the certificate is revoked (shown on its public page)."""

    reason = Str(required=True, validate=validate.Length(max=500, error=_l("At most 500 characters.")))
    replaced_by = Str(
        load_default=None,
        validate=validate.Length(max=40, error=_l("At most 40 characters.")),
        metadata={
            "description": "Trace code of the certificate (of your organisation) that replaces this one."
        },
    )


def label_lang() -> Str:
    """The language a label's text is printed in: ``zh`` (the default) or ``en``."""
    return Str(
        load_default="zh", validate=validate.OneOf(["zh", "en"], error=_l("Choose one of the listed values."))
    )


def receipt_paper() -> Str:
    """The width of a receipt roll in mm (``RECEIPT_PAPERS``), 58 by default."""
    return Str(
        load_default="58",
        validate=validate.OneOf(sorted(RECEIPT_PAPERS), error=_l("Choose one of the listed values.")),
    )


def receipt_copies() -> Int:
    """Copies of an ESC/POS receipt: at most ``MAX_RECEIPT_COPIES``, as ESC/POS has no copy
    count and the job repeats the image (500 copies on 80 mm paper were 29 MB)."""
    return Int(
        load_default=1,
        validate=validate.Range(
            min=1, max=MAX_RECEIPT_COPIES, error=_l("Between 1 and %(n)d.", n=MAX_RECEIPT_COPIES)
        ),
        metadata={"description": f"1 to {MAX_RECEIPT_COPIES}: a receipt printer gets one image per copy"},
    )


class LabelQuery(StrictSchema):
    """Label size, resolution and copies."""

    size = Str(
        load_default="60x40",
        validate=validate.OneOf(sorted(LABEL_SIZES), error=_l("Choose one of the listed values.")),
    )
    dpi = Int(
        load_default=300, validate=validate.OneOf(DPI_CHOICES, error=_l("Choose one of the listed values."))
    )
    copies = Int(load_default=1, validate=validate.Range(min=1, max=500, error=_l("Between 1 and 500.")))
    lang = label_lang()


class _PackDateQuery(StrictSchema):
    pack_date = fields.Date(
        load_default=None,
        metadata={"description": "the pack date, GS1 AI (13), in the barcode and the voice pick code"},
    )

    @pre_load
    def _blank_pack_date(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """A form's empty date field means none."""
        if isinstance(data, dict) and data.get("pack_date") == "":
            data = {k: v for k, v in data.items() if k != "pack_date"}
        return data


class CaseLabelQuery(_PackDateQuery):
    """A case label's resolution, copies, language and the pack date its barcode carries."""

    dpi = Int(
        load_default=300, validate=validate.OneOf(DPI_CHOICES, error=_l("Choose one of the listed values."))
    )
    copies = Int(load_default=1, validate=validate.Range(min=1, max=500, error=_l("Between 1 and 500.")))
    lang = label_lang()


class CaseReceiptQuery(_PackDateQuery):
    """A case label on a 58 or 80 mm receipt roll: paper, copies, language, pack date."""

    paper = receipt_paper()
    copies = receipt_copies()
    lang = label_lang()


class SheetQuery(StrictSchema):
    """A4 sheet layout and how many labels."""

    sheet = Str(
        load_default="a4-3x8",
        validate=validate.OneOf(sorted(SHEETS), error=_l("Choose one of the listed values.")),
    )
    copies = Int(load_default=None, validate=validate.Range(min=1, max=500, error=_l("Between 1 and 500.")))
    lang = label_lang()


class ReceiptQuery(StrictSchema):
    """Receipt paper width (58 or 80 mm), copies and language: ESC/POS receipt printers."""

    paper = receipt_paper()
    copies = receipt_copies()
    lang = label_lang()


class TestReportUploadOut(Schema):
    """A stored test report: refer to it by id in ``test_report.report_id``."""

    id = fields.UUID()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class CertificatePageQuery(CertificateQuery):
    """Filters plus paging for ``GET /certificates``."""

    page = Int(
        load_default=1,
        validate=validate.Range(min=1, max=limits.PAGE, error=_l("Between {min} and {max}.")),
    )
    page_size = Int(load_default=20, validate=validate.Range(min=1, max=100, error=_l("Between 1 and 100.")))


class CertificateListOut(Schema):
    items = fields.List(fields.Nested(CertificateOut))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
