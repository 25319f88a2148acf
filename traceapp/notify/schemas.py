"""What the notification endpoints accept and answer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from traceapp.notify.models import NotificationKind
from traceapp.schemas import Int, Str, StrictSchema, enum_out

PAGE_MAX = 100_000


class Bool(fields.Boolean):
    default_error_messages = {"invalid": _l("Expected true or false."), "null": _l("Expected true or false.")}


class NotificationQuery(StrictSchema):
    """Paging, newest first; ``unread=true`` for the unread ones only (``false``: read ones)."""

    page = Int(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX, error=_l("At least 1.")))
    page_size = Int(load_default=20, validate=validate.Range(min=1, max=100, error=_l("Between 1 and 100.")))
    unread = Bool(load_default=None)


class NotificationOut(Schema):
    """A notification, its words in the request's language (rendered from ``facts``)."""

    id = fields.UUID()
    kind = enum_out(NotificationKind)
    title = fields.String()
    text = fields.String()
    trace_code = fields.String(allow_none=True)
    certificate_id = fields.UUID(allow_none=True)
    facts = fields.Dict(metadata={"description": "what the words are made from, by kind"})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    read = fields.Boolean()


class NotificationPageOut(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    unread = fields.Integer(metadata={"description": "unread notifications in all"})


class ContactsIn(StrictSchema):
    """Where the organisation's notifications go besides its users' e-mail: an empty field
    clears it. A changed webhook URL gets a new signing secret."""

    email = Str(load_default="", validate=validate.Length(max=254, error=_l("At most {max} characters.")))
    phone = Str(load_default="", validate=validate.Length(max=32, error=_l("At most {max} characters.")))
    webhook_url = Str(
        load_default="", validate=validate.Length(max=500, error=_l("At most {max} characters."))
    )
