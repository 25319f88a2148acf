"""The account pages' forms: change password, create a token; the admin's: add a member,
reset a member's password, the organisation's settings."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from traceapp.db import utcnow
from traceapp.errors import InvalidInput
from traceapp.orgs.models import Role
from traceapp.orgs.scopes import Scope
from traceapp.schemas import Enum, Int, List, Str, StrictSchema

#: Expiry choices of the token form, in days (0: never).
EXPIRY_DAYS = (0, 30, 90, 365)


class Password(fields.String):
    """A password as typed (never stripped)."""

    default_error_messages = {"required": _l("This field is required."), "invalid": _l("Expected text.")}


class PasswordForm(StrictSchema):
    current_password = Password(required=True)
    new_password = Password(required=True)
    confirm_password = Password(required=True)

    @validates_schema
    def _same(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("new_password") != data.get("confirm_password"):
            raise ValidationError(str(_l("The two new passwords differ.")), "confirm_password")


class TokenForm(StrictSchema):
    name = Str(required=True, validate=validate.Length(max=100, error=_l("At most 100 characters.")))
    scopes = List(
        Enum(Scope), required=True, validate=validate.Length(min=1, error=_l("Choose at least one scope."))
    )
    expires_in_days = Int(
        load_default=0, validate=validate.OneOf(EXPIRY_DAYS, error=_l("Choose one of the listed values."))
    )


def token_arguments(form: Any) -> dict[str, Any]:
    """The posted token form → ``create_own_token`` arguments. Raises ValidationError."""
    payload: dict[str, Any] = {"name": form.get("name", ""), "scopes": form.getlist("scopes")}
    if form.get("expires_in_days"):
        payload["expires_in_days"] = form["expires_in_days"]
    data = TokenForm().load(payload)
    days = data.pop("expires_in_days")
    return {**data, "expires_at": utcnow() + timedelta(days=days) if days else None}


def password_arguments(form: Any) -> dict[str, str]:
    """The posted password form → ``change_password`` arguments. Raises ValidationError."""
    names = ("current_password", "new_password", "confirm_password")
    data = PasswordForm().load({name: form.get(name, "") for name in names})
    return {"current_password": data["current_password"], "new_password": data["new_password"]}


def load_query(schema: type[Schema], args: Any) -> dict[str, Any]:
    """Load a page's query arguments (``lang`` belongs to the language switch). Raises
    InvalidInput naming the first bad field."""
    data = args.to_dict()
    data.pop("lang", None)
    try:
        return schema().load(data)
    except ValidationError as exc:
        field, messages = next(iter(exc.normalized_messages().items()))
        raise InvalidInput(str(field), " ".join(map(str, messages))) from exc


class MemberForm(StrictSchema):
    mobile = Str(load_default="", validate=validate.Length(max=40, error=_l("At most 40 characters.")))
    email = Str(load_default="", validate=validate.Length(max=254, error=_l("At most 254 characters.")))
    password = Password(required=True)
    role = Enum(Role, load_default=Role.MEMBER)


class ResetForm(StrictSchema):
    password = Password(required=True)


class SettingsForm(StrictSchema):
    timezone = Str(required=True, validate=validate.Length(max=64, error=_l("At most 64 characters.")))


def member_arguments(form: Any) -> dict[str, Any]:
    """The posted add-member form → ``add_member`` arguments. Raises ValidationError."""
    payload = {name: form[name] for name in ("mobile", "email", "password", "role") if form.get(name)}
    payload.setdefault("password", form.get("password", ""))
    return MemberForm().load(payload)


def reset_arguments(form: Any) -> dict[str, str]:
    """The posted reset form → ``reset_password`` arguments. Raises ValidationError."""
    return ResetForm().load({"password": form.get("password", "")})


def settings_arguments(form: Any) -> dict[str, str]:
    """The posted settings form: a zone picked from the list, or typed ("other"). Raises
    ValidationError."""
    chosen = form.get("timezone", "")
    if chosen == "other" or not chosen:
        chosen = form.get("timezone_other", "")
    return SettingsForm().load({"timezone": chosen})


def retention_arguments(form: Any) -> dict[str, int | None] | None:
    """The settings form's retention field → ``set_retention``'s arguments: whole months, or
    empty for "keep everything". None when the form did not post it (an older page changes
    nothing). The lower and upper bounds are the service's. Raises ValidationError."""
    if "retention_months" not in form:
        return None
    typed = form["retention_months"].strip()
    if not typed:
        return {"months": None}
    if not re.fullmatch("[0-9]{1,6}", typed):
        raise ValidationError(
            {"retention_months": [_("Whole months, such as 6 or 24; leave it empty to keep everything.")]}
        )
    return {"months": int(typed)}


#: The settings form's operator fields (``orgs/operators.py``), each as typed.
OPERATOR_FIELDS = ("credit_code", "person_name", "id_number", "platform_code", "address")


class OperatorForm(StrictSchema):
    credit_code = Str(load_default="", validate=validate.Length(max=40, error=_l("At most 40 characters.")))
    person_name = Str(load_default="", validate=validate.Length(max=100, error=_l("At most 100 characters.")))
    id_number = Str(load_default="", validate=validate.Length(max=40, error=_l("At most 40 characters.")))
    platform_code = Str(load_default="", validate=validate.Length(max=40, error=_l("At most 40 characters.")))
    address = Str(load_default="", validate=validate.Length(max=300, error=_l("At most 300 characters.")))


def operator_arguments(form: Any) -> dict[str, str]:
    """The settings form's operator fields → ``set_operator`` changes (an empty field clears
    it). Only the fields the form posted: a form of an older page changes nothing else.
    Raises ValidationError."""
    return OperatorForm().load({name: form[name] for name in OPERATOR_FIELDS if name in form})
