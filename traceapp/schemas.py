"""Marshmallow building blocks shared by every domain: fields whose messages are translated.

Every message a user can see goes through gettext, marshmallow's built-in English ones included;
unknown fields are rejected everywhere (a dropped field would be a silent fix).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from traceapp import limits
from traceapp.inputs import unstorable

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

    @pre_load
    def _few_unknown_keys(self, data: Any, **_kwargs: Any) -> Any:
        """Answer a body with a flood of unknown keys at once, listing the first few: marshmallow
        would file an error per key (200,000 keys took 25 s)."""
        if not hasattr(data, "keys") or len(data) <= limits.LISTED_UNKNOWN:
            return data
        known = {f.data_key or name for name, f in self.load_fields.items()}
        unknown = [key for key in data.keys() if key not in known]
        if len(unknown) <= limits.LISTED_UNKNOWN:
            return data
        message = str(self.error_messages["unknown"])
        errors: dict[str, Any] = {str(key): [message] for key in unknown[: limits.LISTED_UNKNOWN]}
        errors["_schema"] = [str(_l("%(count)d unknown fields in all.") % {"count": len(unknown)})]
        raise ValidationError(errors)


class Str(fields.String):
    """Text, trimmed. Without a length validator of its own it takes at most
    ``limits.TEXT_LENGTH`` characters; a NUL or a lone surrogate is refused (no database column
    can store them)."""

    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l("Expected text."),
        "invalid_utf8": _l("Expected text."),
        "unstorable": _l("Text may not contain a NUL character or a lone surrogate."),
    }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not any(isinstance(v, (validate.Length, validate.OneOf)) for v in self.validators):
            # Length formats its message when it fails, inside the request: still lazy here.
            message = _l("At most {max} characters.")
            self.validators.append(validate.Length(max=limits.TEXT_LENGTH, error=message))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if unstorable(text):
            raise self.make_error("unstorable")
        text = text.strip()
        if not text and self.required:
            raise self.make_error("required")
        return text


class Enum(fields.Enum):
    default_error_messages = {**_FIELD_MESSAGES, "unknown": _l("Choose one of the listed values.")}

    def __init__(self, enum: Any, **kwargs: Any):
        super().__init__(enum, by_value=True, **kwargs)


def enum_out(enum: type[Any], **kwargs: Any) -> fields.String:
    """A string field of an answer holding an enum's value: the OpenAPI document lists exactly
    the enum's values (dumping does not validate, so this costs nothing at run time)."""
    return fields.String(validate=validate.OneOf([member.value for member in enum]), **kwargs)


class Date(fields.Date):
    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l("Enter a date as year-month-day, such as 2026-11-20."),
        "format": _l("Enter a date as year-month-day, such as 2026-11-20."),
    }


class DateTime(fields.AwareDateTime):
    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l("Expected a date and time in ISO 8601 with an offset."),
        "invalid_awareness": _l("Expected a date and time in ISO 8601 with an offset."),
        "format": _l("Expected a date and time in ISO 8601 with an offset."),
    }


class EventTime(DateTime):
    """When something happened: not before ``limits.EARLIEST``, not later than the server's
    clock plus ``limits.CLOCK_SKEW`` (a time years ahead is a typo or a forgery, and one far out
    of range cannot even be converted to UTC)."""

    default_error_messages = {
        **DateTime.default_error_messages,
        "future": _l("Cannot be more than %(minutes)d minutes ahead of the server's clock."),
        "past": _l("Too far in the past."),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            too_late = moment > limits.latest()
            too_early = moment < limits.EARLIEST
        except OverflowError:  # year 1 or 9999 with an offset: beyond UTC's range
            too_late, too_early = moment.year > 2000, moment.year <= 2000
        if too_late:
            raise ValidationError(
                str(self.error_messages["future"]) % {"minutes": limits.CLOCK_SKEW.total_seconds() // 60}
            )
        if too_early:
            raise self.make_error("past")
        return moment


class List(fields.List):
    """A list; ``max_items`` bounds it (stated in the OpenAPI document as ``maxItems``) and is
    checked before any item is read, so a huge list costs nothing."""

    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l("Expected a list."),
        "too_many": _l("At most %(max)d items."),
    }

    def __init__(self, *args: Any, max_items: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_items = max_items
        if max_items is not None:
            # For the OpenAPI document (maxItems); the check itself is in _deserialize.
            self.validators.append(validate.Length(max=max_items))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if self.max_items is not None and isinstance(value, list) and len(value) > self.max_items:
            raise ValidationError(str(self.error_messages["too_many"]) % {"max": self.max_items})
        return super()._deserialize(value, attr, data, **kwargs)


class Nested(fields.Nested):
    default_error_messages = {**_FIELD_MESSAGES, "type": _l("Expected a JSON object.")}


class UUID(fields.UUID):
    default_error_messages = {**_FIELD_MESSAGES, "invalid_uuid": _l("Expected a UUID.")}


class Int(fields.Integer):
    default_error_messages = {**_FIELD_MESSAGES, "invalid": _l("Enter a whole number.")}


#: A decimal written as people write it: digits, optionally a point and more digits.
DIGITS = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,30})?")
SIGNED_DIGITS = re.compile(r"[-+]?[0-9]{1,30}(?:\.[0-9]{1,30})?")


class QuantityField(fields.Field):
    """A positive decimal quantity with at most three places, sent as a string of digits (or an
    integer).

    Floats are refused rather than rounded: 0.1 + 0.2 is not a quantity anyone weighed. So are
    exponents and the other spellings Python's Decimal reads ("1e3", "1_000", "+5"): a decimal
    string means digits.
    """

    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l("Enter the quantity in digits, such as 12.5."),
        "number": _l(
            'Send the quantity as a string of digits, such as "12.5": a JSON number can lose digits.'
        ),
        "positive": _l("Must be greater than zero."),
        "places": _l("Use at most three decimal places."),
        "too_large": _l("Too large."),
    }
    MAX = Decimal("1000000000")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, float):  # only a program sends a JSON number with a point
            raise self.make_error("number")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.make_error("invalid")
        if isinstance(value, str) and not DIGITS.fullmatch(value.strip()):
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


class DecimalNumber(fields.Decimal):
    """A signed decimal (a temperature, a test's reading): a JSON number, or a string of digits
    with an optional sign and point (no exponent: "1e3" is not how anyone writes a reading)."""

    default_error_messages = {
        **_FIELD_MESSAGES,
        "invalid": _l("Enter a number, such as 4.5 or -18."),
        "special": _l("Enter a number, such as 4.5 or -18."),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or (isinstance(value, str) and not SIGNED_DIGITS.fullmatch(value.strip())):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


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
