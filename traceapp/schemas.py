"""Marshmallow building blocks shared by every domain: fields whose messages are translated.

Every message a user can see goes through gettext, marshmallow's built-in English ones included;
unknown fields are rejected everywhere (a dropped field would be a silent fix).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate

_FIELD_MESSAGES = {
    "required": _l("This field is required."),
    "null": _l("This field may not be empty."),
    "validator_failed": _l("Invalid value."),
}


class StrictSchema(Schema):
    """Base schema: unknown fields are an error, messages are translated."""

    class Meta:
        unknown = RAISE

    error_messages = {"type": _l("Expected a JSON object."), "unknown": _l("Unknown field.")}


class Str(fields.String):
    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l("Expected text."),
        "invalid_utf8": _l("Expected text."),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and self.required:
            raise self.make_error("required")
        return text


class Enum(fields.Enum):
    default_error_messages = {**_FIELD_MESSAGES, "unknown": _l("Not one of the allowed values.")}

    def __init__(self, enum: Any, **kwargs: Any):
        super().__init__(enum, by_value=True, **kwargs)


def enum_out(enum: type[Any], **kwargs: Any) -> fields.String:
    """A string field of an answer holding an enum's value: the OpenAPI document lists exactly
    the enum's values (dumping does not validate, so this costs nothing at run time)."""
    return fields.String(validate=validate.OneOf([member.value for member in enum]), **kwargs)


class Date(fields.Date):
    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l("Expected a date as YYYY-MM-DD."),
        "format": _l("Expected a date as YYYY-MM-DD."),
    }


class DateTime(fields.AwareDateTime):
    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l("Expected a date and time in ISO 8601 with an offset."),
        "invalid_awareness": _l("Expected a date and time in ISO 8601 with an offset."),
        "format": _l("Expected a date and time in ISO 8601 with an offset."),
    }


class List(fields.List):
    default_error_messages = {**_FIELD_MESSAGES, "invalid": _l("Expected a list.")}


class Nested(fields.Nested):
    default_error_messages = {**_FIELD_MESSAGES, "type": _l("Expected a JSON object.")}


class UUID(fields.UUID):
    default_error_messages = {**_FIELD_MESSAGES, "invalid_uuid": _l("Expected a UUID.")}


class Int(fields.Integer):
    default_error_messages = {**_FIELD_MESSAGES, "invalid": _l("Expected a whole number.")}


class QuantityField(fields.Field):
    """A positive decimal quantity with at most three places, sent as a string (or an integer).

    Floats are refused rather than rounded: 0.1 + 0.2 is not a quantity anyone weighed.
    """

    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l('Expected a decimal number as a string, such as "12.5".'),
        "positive": _l("Must be greater than zero."),
        "places": _l("Use at most three decimal places."),
        "too_large": _l("Too large."),
    }
    MAX = Decimal("1000000000")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.make_error("invalid")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise self.make_error("invalid") from exc
        return self._checked(number)

    def _checked(self, number: Decimal) -> Decimal:
        if not number.is_finite():
            raise self.make_error("invalid")
        if number <= 0:
            raise self.make_error("positive")
        if number.as_tuple().exponent < -3:  # type: ignore[operator]
            raise self.make_error("places")
        if number >= self.MAX:
            raise self.make_error("too_large")
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else decimal_text(value)


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text without trailing zeros: ``Decimal("500.000")`` → ``500``."""
    return format(Decimal(value).normalize(), "f")


def field_error(message: Any) -> ValidationError:
    """A ValidationError for a lazily translated message (used in validators)."""
    return ValidationError(str(message))


class FieldErrorOut(Schema):
    """One invalid field of a problem: a JSON pointer (``/origin/region_code``) and why."""

    field = fields.String(required=True)
    message = fields.String(required=True)


class ProblemOut(Schema):
    """An error answer, ``application/problem+json`` (RFC 9457)."""

    type = fields.String(required=True, metadata={"example": "https://traceapp.dev/problems/not-found"})
    title = fields.String(required=True)
    status = fields.Integer(required=True, validate=validate.Range(min=400, max=599))
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldErrorOut), metadata={"description": "invalid input, per field"})
