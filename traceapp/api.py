"""JSON API plumbing: the flask-smorest Api, a strict argument parser and a Blueprint using it."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Flask, Request
from flask_babel import gettext as _
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from traceapp.auth import api_actor
from traceapp.errors import UnsupportedMediaType
from traceapp.inputs import parse_json

api = flask_smorest.Api()


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
    """A flask-smorest Blueprint: a token is required (checked before the body is parsed, so an
    anonymous caller gets 401, not a validation error), and arguments are parsed strictly."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.before_request(_require_token)


def _require_token() -> None:
    api_actor()


def init_app(app: Flask, blueprints: list[Any]) -> None:
    """Create the Api on ``app`` and register the API blueprints (CSRF does not apply to them)."""
    api.init_app(app)
    csrf = app.extensions["csrf"]
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
