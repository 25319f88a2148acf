"""What the token and audit endpoints accept and answer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from traceapp.orgs.scopes import Scope
from traceapp.schemas import UUID, DateTime, Enum, Int, List, Str, StrictSchema, enum_out

PAGE_MAX = 100_000


class TokenIn(StrictSchema):
    """A new token for the caller: a name, its scopes and an optional expiry."""

    name = Str(required=True, validate=validate.Length(max=100, error=_l("At most 100 characters.")))
    scopes = List(
        Enum(Scope),
        required=True,
        validate=validate.Length(min=1, max=len(Scope), error=_l("Choose at least one scope.")),
    )
    expires_at = DateTime(load_default=None, allow_none=True)


class TokenOwnerOut(Schema):
    id = fields.UUID()
    email = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True, metadata={"description": "E.164, such as +8613800138000"})


class TokenOut(Schema):
    """A token as listed: never its secret (only its first characters, to recognise it)."""

    id = fields.UUID()
    name = fields.String()
    prefix = fields.String()
    scopes = fields.List(enum_out(Scope))
    owner = fields.Nested(TokenOwnerOut)
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    status = fields.String(validate=validate.OneOf(["active", "expired", "revoked"]))


class NewTokenOut(TokenOut):
    """A token just created, with its secret: shown this once, stored only as a hash."""

    token = fields.String()


class TokenListOut(Schema):
    items = fields.List(fields.Nested(TokenOut))


class AuditQuery(StrictSchema):
    """Paging, newest first; a regulator may narrow to one organisation."""

    page = Int(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX, error=_l("At least 1.")))
    page_size = Int(load_default=50, validate=validate.Range(min=1, max=100, error=_l("Between 1 and 100.")))
    org_id = UUID(load_default=None)


class AuditEntryOut(Schema):
    id = fields.UUID()
    at = fields.DateTime()
    action = fields.String()
    org_id = fields.UUID(allow_none=True)
    actor_user_id = fields.UUID(allow_none=True)
    actor_email = fields.String(allow_none=True)
    actor_mobile = fields.String(allow_none=True)
    token_id = fields.UUID(allow_none=True)
    subject_type = fields.String(allow_none=True)
    subject_id = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
    address = fields.String(allow_none=True)


class AuditPageOut(Schema):
    items = fields.List(fields.Nested(AuditEntryOut))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


def _operator_text(max_length: int) -> Str:
    return Str(
        allow_none=True,
        validate=validate.Length(max=max_length, error=_l("At most {max} characters.")),
    )


class OperatorIn(StrictSchema):
    """The operator fields to change: a value sets one, ``null`` or "" clears it, a field left
    out stays. Each is checked by its standard (the credit code's two check characters, the
    identity number's check digit and birth date)."""

    credit_code = _operator_text(40)
    person_name = _operator_text(100)
    id_number = _operator_text(40)
    platform_code = _operator_text(40)
    address = _operator_text(300)


class OperatorOut(Schema):
    """An organisation as the law names it. ``id_number`` is in full only for the organisation
    itself and regulators; for others it is masked (``id_number_masked`` true)."""

    id = fields.UUID()
    name = fields.String()
    kind = fields.String()
    operator_type = fields.String(
        allow_none=True, validate=validate.OneOf(["legal_person", "natural_person"])
    )
    credit_code = fields.String(allow_none=True, metadata={"description": "统一社会信用代码, GB 32100-2015"})
    person_name = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True, metadata={"description": "GB 11643; masked unless permitted"})
    id_number_masked = fields.Boolean()
    platform_code = fields.String(allow_none=True, metadata={"description": "主体码, national platform"})
    address = fields.String(allow_none=True, metadata={"description": "the operator's, not the origin"})
    region_code = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class SealOut(Schema):
    """The current seal or signature image: its id, size and digest (the image at ``seal.png``)."""

    id = fields.UUID()
    sha256 = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    created_at = fields.DateTime()
