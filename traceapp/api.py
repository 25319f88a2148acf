"""JSON API plumbing: the flask-smorest Api, a strict argument parser and a Blueprint using it."""

from __future__ import annotations

import http
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import flask_smorest
from apispec import BasePlugin
from flask import Flask, Request, request
from flask_babel import gettext as _
from flask_smorest.utils import prepare_response
from marshmallow import fields
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from traceapp.auth import api_actor
from traceapp.errors import PermissionDenied, UnsupportedMediaType
from traceapp.inputs import parse_json
from traceapp.orgs.scopes import UnknownEndpoint, scope_for
from traceapp.schemas import ProblemOut, QuantityField, Str

PROBLEM_JSON = "application/problem+json"
#: Every operation needs a token with its scope (401 without one or with a bad one, 403 without
#: the scope) and counts against the token's rate limit (429).
ALWAYS = (401, 403, 429)
#: A JSON body: malformed (400), too large (413), not JSON (415), invalid (422).
BODY = (400, 413, 415, 422)


class ProblemApi(flask_smorest.Api):
    """flask-smorest's Api with our errors in its document: each error response is
    ``application/problem+json`` with the one ``ProblemOut`` schema, and no catch-all
    ``default`` response (each operation lists the errors it really answers)."""

    ERROR_SCHEMA = ProblemOut
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)

    def _init_spec(self, **kwargs: Any) -> None:
        kwargs["extra_plugins"] = [*kwargs.get("extra_plugins", ()), ProblemResponses()]
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(numeric_bounds)
        self.ma_plugin.converter.add_attribute_function(required_text)
        self.ma_plugin.converter.add_attribute_function(quantity)


class ProblemResponses(BasePlugin):
    """Document on every operation the errors every operation of its kind answers: 401 (a
    token is required everywhere), 400/413/415/422 with a JSON body, 422 with a query, 404
    with a path parameter (an unknown id or code, or one that is not the caller's)."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **_kw: Any) -> None:
        for operation in (operations or {}).values():
            statuses = set(ALWAYS)
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                statuses |= set(BODY)
            if any(p.get("in") == "query" for p in operation.get("parameters", []) if isinstance(p, dict)):
                statuses.add(422)
            if "{" in (path or ""):
                statuses.add(404)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                if status not in responses and str(status) not in responses:
                    responses[status] = http.HTTPStatus(status).name


def numeric_bounds(
    _converter: Any, field: fields.Field, ret: dict[str, Any], **_kwargs: Any
) -> dict[str, Any]:
    """Bounds of a Decimal field as JSON numbers: apispec serialises them through the field,
    which gives ``Decimal("150.00")``, and JSON then writes a string (an invalid document)."""
    for key in ("minimum", "maximum", "x-minimum", "x-maximum"):
        if isinstance(ret.get(key), Decimal):
            value = ret[key]
            ret[key] = int(value) if value == value.to_integral_value() else float(value)
    return {}


def required_text(_converter: Any, field: fields.Field, **_kwargs: Any) -> dict[str, Any]:
    """A required text field is refused when blank (it is stripped first): say so."""
    if isinstance(field, Str) and field.required:
        return {"minLength": 1, "pattern": r"\S"}
    return {}


def quantity(_converter: Any, field: fields.Field, **_kwargs: Any) -> dict[str, Any]:
    """A quantity travels as a decimal string (an integer is taken too); answers give the string."""
    if not isinstance(field, QuantityField):
        return {}
    text = {"type": "string", "pattern": r"^[0-9]{1,9}(\.[0-9]{1,3})?$", "example": "12.5"}
    whole = {"type": "integer", "minimum": 1, "maximum": int(QuantityField.MAX) - 1}
    empty = [{"type": "string", "nullable": True, "enum": [None]}] if field.allow_none else []
    return {"anyOf": [text, whole, *empty]}


api = ProblemApi()


class StrictParser(FlaskParser):
    """Reject unknown query-string and form fields too (webargs excludes them by default)."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
        "form": None,
        "files": None,
    }

    def _raw_load_json(self, req: Request) -> Any:
        """The JSON body (``traceapp.inputs.parse_json``), or missing when there is none. A body
        of another type is a 415: answering 422 with every field "missing" would say nothing
        of what is wrong."""
        body = req.get_data(cache=True)
        if not is_json_request(req):
            if body or req.mimetype:
                raise UnsupportedMediaType(_("Send the body as JSON (Content-Type: application/json)."))
            return core.missing
        return parse_json(body) if body else core.missing


class ApiBlueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint: a token with the endpoint's scope is required (checked before
    the body is parsed, so an anonymous caller gets 401 and a token without the scope 403, not
    a validation error), and arguments are parsed strictly."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.before_request(_require_token)

    def errors(self, *statuses: int) -> Callable[[Any], Any]:
        """Document the errors an operation answers beyond those every one of its kind does
        (see ``ProblemResponses``): a 403 from the permission table, a 409 on a state conflict."""

        def decorator(func: Any) -> Any:
            for status in statuses:
                func = self.alt_response(status, response=http.HTTPStatus(status).name)(func)
            return func

        return decorator


def _require_token() -> None:
    require_token()


def require_token() -> None:
    """The request's token, with the scope its endpoint needs (``orgs/scopes.py``). Raises
    NotAuthenticated, PermissionDenied."""
    actor = api_actor()
    rule = request.url_rule.rule if request.url_rule else request.path
    try:
        scope = scope_for(request.method, rule)
    except UnknownEndpoint:  # fail closed: an endpoint nobody gave a scope is no one's
        raise PermissionDenied(_("No token scope allows this endpoint yet.")) from None
    if scope is not None and not actor.has_scope(scope):
        raise PermissionDenied(_("This token lacks the scope '%(scope)s'.", scope=scope.value))


def init_app(app: Flask, blueprints: list[Any]) -> None:
    """Create the Api on ``app`` and register the API blueprints (CSRF does not apply to them)."""
    api.init_app(app)
    csrf = app.extensions["csrf"]
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)


def upload_body(description: str) -> dict[str, Any]:
    """The OpenAPI request body of an upload: one file in the multipart field ``file``."""
    file_part = {"type": "string", "format": "binary", "description": description}
    schema = {"type": "object", "properties": {"file": file_part}, "required": ["file"]}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
